/**
 * A fingerprint of the machine definition a snapshot was folded with: its states, transitions, guard and action
 * names, and the source of every guard and update function. A snapshot whose fingerprint differs from the running
 * machine's was written by another version of the lifecycle: it is ignored and rebuilt from the events.
 */
import { createHash } from 'node:crypto';
import { deviceLifecycle, STREAM_KINDS, streamKindOf, type CompiledLifecycle } from '@hotpatch/core';
import { canonicalJson } from './hash.js';

function sourceOf(fn: unknown): string {
  if (typeof fn !== 'function') return String(fn);
  const parts = (fn as { parts?: ReadonlyArray<readonly [string, unknown]> }).parts;
  const assignment = (fn as { assignment?: unknown }).assignment;
  return [fn.toString(), ...(parts ?? []).map(([name, part]) => `${name}:${sourceOf(part)}`), ...(assignment ? [sourceOf(assignment)] : [])].join('\n');
}

export function lifecycleFingerprint(lifecycle: CompiledLifecycle<string, object, { readonly type: string }>): string {
  const { guards = {}, actions = {} } = lifecycle.machine.implementations as { guards?: Record<string, unknown>; actions?: Record<string, unknown> };
  const definition = {
    initial: lifecycle.initial,
    states: lifecycle.states,
    final: [...lifecycle.finalStates],
    transitions: lifecycle.transitions.map((t) => [t.source, t.eventType, t.guardName, t.target, t.internal, t.actionNames]),
    guards: Object.fromEntries(Object.entries(guards).map(([name, fn]) => [name, sourceOf(fn)])),
    actions: Object.fromEntries(Object.entries(actions).map(([name, fn]) => [name, sourceOf(fn)])),
  };
  return createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 32);
}

/** The fingerprint of the device lifecycle this build runs. */
export const DEVICE_MACHINE_FINGERPRINT = lifecycleFingerprint(deviceLifecycle as never);

const byKind = new Map(STREAM_KINDS.map((kind) => [kind.name, lifecycleFingerprint(kind.lifecycle)]));

/** The fingerprint of the machine that judges a stream (its kind's lifecycle, in this build). */
export function machineFingerprintFor(stream: string): string {
  return byKind.get(streamKindOf(stream)?.name ?? 'device')!;
}
