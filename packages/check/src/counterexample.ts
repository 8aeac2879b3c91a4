/**
 * Counterexamples for people and for tools: numbered steps showing the event and only what changed, and a JSONL
 * timeline in the project's format that `hotpatch history` and `hotpatch replay` take as it is.
 */
import type { EventEnvelope } from '@hotpatch/core';
import { formatEvent, nameBasedIds } from '@hotpatch/store';
import { canonical } from './fingerprint.js';
import type { PathStep } from './explore.js';

interface AnyState {
  readonly value: string;
  readonly context: object;
}

/** The fields of `after` that differ from `before`: "state", then each changed context field. */
export function changes(before: AnyState, after: AnyState): string[] {
  const out: string[] = [];
  if (before.value !== after.value) out.push(`state: ${before.value} → ${after.value}`);
  const b = before.context as Record<string, unknown>;
  const a = after.context as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(a)])]) {
    if (canonical(b[key]) !== canonical(a[key])) out.push(`${key}: ${canonical(b[key])} → ${canonical(a[key])}`);
  }
  return out;
}

export function describeEventData(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const entries = Object.entries(data as Record<string, unknown>);
  return entries.length ? ` {${entries.map(([k, v]) => `${k}: ${canonical(v)}`).join(', ')}}` : '';
}

/** Numbered steps: "3. PatchApplied {patch: "H1"}" and, indented, what changed. */
export function formatPath<E extends { readonly type: string; readonly data?: unknown }>(initial: AnyState, path: ReadonlyArray<PathStep<AnyState, E>>): string {
  const lines: string[] = [`   0. (start) state ${initial.value}`];
  let before = initial;
  path.forEach((step, i) => {
    lines.push(`  ${String(i + 1).padStart(2)}. ${step.event.type}${describeEventData(step.event.data)}`);
    for (const change of changes(before, step.state)) lines.push(`        ${change}`);
    before = step.state;
  });
  return lines.join('\n');
}

const timelineId = nameBasedIds('3c1f5e0a-8d2b-4b7e-9a61-0f4d2c7e5b13');

/** The path as timeline events for one stream (a device's by default): ids derived from the name, one minute apart from `start`. */
export function pathToTimeline<E extends { readonly type: string; readonly data?: unknown }>(
  path: ReadonlyArray<PathStep<AnyState, E>>,
  options: { device: string; name: string; start?: string; stream?: 'device' | 'rollout' | 'ring' },
): EventEnvelope[] {
  const start = Date.parse(options.start ?? '2026-01-13T17:00:00.000Z');
  return path.map((step, i) => ({
    id: timelineId(`${options.name}#${i}`),
    stream: `${options.stream ?? 'device'}/${options.device}`,
    version: i + 1,
    type: step.event.type,
    time: new Date(start + i * 60_000).toISOString(),
    data: step.event.data ?? {},
  }));
}

export function timelineText(events: readonly EventEnvelope[]): string {
  return events.map((e) => formatEvent(e) + '\n').join('');
}
