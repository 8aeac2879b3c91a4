/** The faults a simulation injects, as probabilities; the same seed draws the same ones. */
export interface Faults {
  /** An apply fails outright. */
  readonly applyFailure: number;
  /** An apply never finishes (a stalled transition): the orchestrator must time it out. */
  readonly stalledApply: number;
  /** Health-check failure rate for every hotpatch but the bad one. */
  readonly healthFailure: number;
  /** Which hotpatch (by index among the simulation's hotpatches) is bad, and how often its health check fails. */
  readonly badHotpatchIndex: number;
  readonly badHotpatchHealthFailure: number;
  /** A live rollback fails (a reboot follows). */
  readonly rollbackFailure: number;
  /** Share of agents that go silent at some moment of the simulation. */
  readonly silentAgents: number;
  /**
   * How long a silent agent stays silent, in days, drawn between the two (a laptop shut for a holiday, a device
   * off the network); then it is back and reports what its device does from then on. Absent: silent for good.
   */
  readonly silentDays?: readonly [min: number, max: number];
  /** A report is sent twice (same id). */
  readonly duplicatedReport: number;
  /** A report arrives hours late. */
  readonly lateReport: number;
  /** A health report overtakes its apply report. */
  readonly reorderedReport: number;
}

export const DEFAULT_FAULTS: Faults = {
  applyFailure: 0.01,
  stalledApply: 0.004,
  healthFailure: 0.003,
  badHotpatchIndex: 1,
  badHotpatchHealthFailure: 0.3,
  rollbackFailure: 0.03,
  silentAgents: 0.005,
  silentDays: [1, 28],
  duplicatedReport: 0.02,
  lateReport: 0.01,
  reorderedReport: 0.02,
};
