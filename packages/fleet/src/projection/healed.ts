/**
 * What the orchestrator healed: a unit of work cut short between the appends of one instruction, carried on by a later
 * tick (orchestrator/decide-heal.ts). Each step a healing writes carries `meta.healed` ({ gap, rollout }); the
 * projection keeps one record per rollout and device, for `hotpatch status`.
 */
import type { HotpatchEvent } from '@hotpatch/core';

/** What a unit cut short left: the step the healing wrote is the one that was missing. */
export const GAPS = {
  /** The device staged the release, the rollout never recorded the instruction: the apply, then the instruction. */
  'staged-without-instruction': 'staged, its apply and the rollout’s instruction missing',
  /** The device started applying it (or is past that), the rollout never recorded the instruction: the instruction. */
  'applying-without-instruction': 'applying, the rollout’s instruction missing',
  /** The device was told to restart onto what the rollout gives it, the rollout never recorded it: the instruction. */
  'reboot-without-instruction': 'restarting, the rollout’s instruction missing',
  /** The rollout recorded the instruction, the device never got the hotpatch (or never its apply): the device's steps. */
  'instruction-without-step': 'instructed, the device’s stage or apply missing',
  /** A catch-up's stage without its apply (or a rollout's, its ring's turn over since): the apply. */
  'stage-without-apply': 'staged by a catch-up, its apply missing',
} as const;
export type Gap = keyof typeof GAPS;

/** A device a healing carried on, for a rollout: the first gap healed, and when. */
export interface HealedRecord {
  readonly rollout: string;
  readonly device: string;
  readonly gap: Gap;
  readonly at: string;
}

/** The meta of a healing's steps. */
export const healedMeta = (gap: Gap, rollout: string): { readonly healed: { readonly gap: Gap; readonly rollout: string } } => ({ healed: { gap, rollout } });

/** What an event healed (its `meta.healed`), when it is a healing's step. */
export function healedBy(event: Pick<HotpatchEvent, 'meta'>): { readonly gap: Gap; readonly rollout: string } | undefined {
  const healed = event.meta?.['healed'] as { gap?: unknown; rollout?: unknown } | undefined;
  if (typeof healed !== 'object' || healed === null || typeof healed.rollout !== 'string' || typeof healed.gap !== 'string' || !Object.hasOwn(GAPS, healed.gap)) return undefined;
  return { gap: healed.gap as Gap, rollout: healed.rollout };
}

/** The key of a healed record: one per rollout and device. */
export const healedKey = (rollout: string, device: string): string => `${rollout}\u0000${device}`;
