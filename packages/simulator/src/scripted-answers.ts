// Answers written by hand: a test's script, and the ordinary outcome of every step a script or a log leaves out.
import type { AnswerSource } from './agent.js';

/** The ordinary outcome of each step (applied, healthy, rolled back, restarted) and how long it takes. */
export const ORDINARY_OUTCOMES = {
  applyMinutes: 6,
  healthHours: 2,
  rollbackMinutes: 6,
  restartHours: 12,
  downtimeMinutes: 25,
} as const;

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Every step goes the ordinary way. */
export const ordinaryAnswers: Omit<AnswerSource, 'reportId'> = {
  apply: () => ({ kind: 'applied', after: ORDINARY_OUTCOMES.applyMinutes * MINUTE }),
  health: () => ({ healthy: true, after: ORDINARY_OUTCOMES.healthHours * HOUR, signal: '' }),
  rollback: () => ({ ok: true, after: ORDINARY_OUTCOMES.rollbackMinutes * MINUTE, reason: '' }),
  restart: () => ({ after: ORDINARY_OUTCOMES.restartHours * HOUR, downtimeMinutes: ORDINARY_OUTCOMES.downtimeMinutes, healthy: true }),
};

/** A script's answers, and the ordinary ones for the steps it leaves out. */
export function scriptedAnswers(script: Partial<AnswerSource> & Pick<AnswerSource, 'reportId'>): AnswerSource {
  return { ...ordinaryAnswers, ...script };
}
