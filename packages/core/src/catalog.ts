/**
 * The release catalog and calendar. Each quarter has one baseline month (January, April, July, October: a
 * cumulative update that needs a restart) followed by two hotpatch months (security fixes applied in memory).
 * Releases ship on Patch Tuesday, the second Tuesday of the month. Unplanned baselines (a fix that cannot ship as a
 * hotpatch replaces that month's hotpatch) and out-of-band releases can be declared.
 */

export type ReleaseKind = 'baseline' | 'hotpatch';

export interface BaselineRelease {
  readonly kind: 'baseline';
  readonly id: string;
  /** ISO-8601 UTC release time. */
  readonly released: string;
  /** Planned quarterly baseline, unplanned (replacing a hotpatch month) or out-of-band. */
  readonly cause: 'planned' | 'unplanned' | 'out-of-band';
}

export interface HotpatchRelease {
  readonly kind: 'hotpatch';
  readonly id: string;
  readonly released: string;
  /** The baseline this hotpatch applies on. Hotpatches are cumulative within their baseline. */
  readonly baseline: string;
  /** Other hotpatches that must be active first. */
  readonly requires: readonly string[];
  /** Whether it can be reverted live; if not, a failure needs a reboot. */
  readonly liveRevert: boolean;
  readonly outOfBand: boolean;
}

export type Release = BaselineRelease | HotpatchRelease;

export interface Catalog {
  /** Sorted by release time, then id. */
  readonly releases: readonly Release[];
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

const BASELINE_MONTHS = new Set([0, 3, 6, 9]);

/** Patch Tuesday: the second Tuesday of a month, 17:00 UTC (10:00 Pacific), as Microsoft ships. */
export function patchTuesday(year: number, month1to12: number): Date {
  const first = new Date(Date.UTC(year, month1to12 - 1, 1, 17));
  const firstTuesday = 1 + ((2 - first.getUTCDay() + 7) % 7);
  return new Date(Date.UTC(year, month1to12 - 1, firstTuesday + 7, 17));
}

/** Whether a calendar month is a baseline month or a hotpatch month. */
export function monthKind(month1to12: number): ReleaseKind {
  return BASELINE_MONTHS.has(month1to12 - 1) ? 'baseline' : 'hotpatch';
}

const pad = (n: number) => String(n).padStart(2, '0');

export interface CalendarOptions {
  /** First month, "YYYY-MM". */
  readonly from: string;
  readonly months: number;
  /** Hotpatch ids that cannot be reverted live. */
  readonly notLiveRevertible?: readonly string[];
}

/**
 * The planned releases of `months` months from `from`: a baseline on each baseline month's Patch Tuesday, a
 * hotpatch on the others. A hotpatch month before any baseline in range is based on the previous baseline month.
 * Ids: `B-2026-01` for a baseline, `HP-2026-02` for a hotpatch.
 */
export function planReleases(options: CalendarOptions): Catalog {
  const match = /^(\d{4})-(\d{2})$/.exec(options.from);
  if (!match) throw new CatalogError(`from: expected "YYYY-MM", got ${JSON.stringify(options.from)}`);
  let year = Number(match[1]);
  let month = Number(match[2]);
  if (month < 1 || month > 12) throw new CatalogError(`from: month ${month} is not 1–12`);
  const notLive = new Set(options.notLiveRevertible ?? []);
  const releases: Release[] = [];
  let baseline = lastBaselineMonthId(year, month);
  for (let i = 0; i < options.months; i++) {
    const released = patchTuesday(year, month).toISOString();
    if (monthKind(month) === 'baseline') {
      baseline = `B-${year}-${pad(month)}`;
      releases.push({ kind: 'baseline', id: baseline, released, cause: 'planned' });
    } else {
      const id = `HP-${year}-${pad(month)}`;
      releases.push({ kind: 'hotpatch', id, released, baseline, requires: [], liveRevert: !notLive.has(id), outOfBand: false });
    }
    month++;
    if (month === 13) {
      month = 1;
      year++;
    }
  }
  return { releases: sortReleases(releases) };
}

function lastBaselineMonthId(year: number, month: number): string {
  let m = month;
  let y = year;
  while (monthKind(m) !== 'baseline') {
    m--;
    if (m === 0) {
      m = 12;
      y--;
    }
  }
  return `B-${y}-${pad(m)}`;
}

function sortReleases(releases: Release[]): Release[] {
  return releases.sort((a, b) => (a.released < b.released ? -1 : a.released > b.released ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Adds a release (an extra hotpatch, an out-of-band fix), checking what it refers to. */
export function addRelease(catalog: Catalog, release: Release): Catalog {
  if (catalog.releases.some((r) => r.id === release.id)) throw new CatalogError(`release ${release.id} already exists`);
  if (release.kind === 'hotpatch') {
    const base = findRelease(catalog, release.baseline);
    if (!base || base.kind !== 'baseline') throw new CatalogError(`hotpatch ${release.id}: baseline ${release.baseline} is not in the catalog`);
    for (const id of release.requires) {
      const required = findRelease(catalog, id);
      if (!required || required.kind !== 'hotpatch') throw new CatalogError(`hotpatch ${release.id}: requires ${id}, which is not a hotpatch in the catalog`);
      if (required.baseline !== release.baseline) throw new CatalogError(`hotpatch ${release.id}: requires ${id} of another baseline (${required.baseline})`);
    }
  }
  return { releases: sortReleases([...catalog.releases, release]) };
}

/**
 * Declares an unplanned baseline: a fix that cannot ship as a hotpatch. It replaces the hotpatch of that month
 * (which is removed), and later hotpatches of the quarter move onto it.
 */
export function declareUnplannedBaseline(catalog: Catalog, month: string): Catalog {
  const hotpatchId = `HP-${month}`;
  const replaced = findRelease(catalog, hotpatchId);
  if (!replaced || replaced.kind !== 'hotpatch') throw new CatalogError(`no hotpatch month ${month} to replace`);
  const id = `UB-${month}`;
  const releases = catalog.releases
    .filter((r) => r.id !== hotpatchId)
    .map((r): Release =>
      r.kind === 'hotpatch' && r.baseline === replaced.baseline && r.released > replaced.released ? { ...r, baseline: id, requires: r.requires.filter((x) => x !== hotpatchId) } : r,
    );
  releases.push({ kind: 'baseline', id, released: replaced.released, cause: 'unplanned' });
  return { releases: sortReleases(releases) };
}

/** Declares an out-of-band hotpatch on the baseline current at `released`. */
export function declareOutOfBand(catalog: Catalog, id: string, released: string, options: { liveRevert?: boolean } = {}): Catalog {
  const baseline = latestBaseline(catalog, released);
  if (!baseline) throw new CatalogError(`out-of-band ${id}: no baseline released by ${released}`);
  return addRelease(catalog, { kind: 'hotpatch', id, released, baseline: baseline.id, requires: [], liveRevert: options.liveRevert ?? true, outOfBand: true });
}

export function findRelease(catalog: Catalog, id: string): Release | undefined {
  return catalog.releases.find((r) => r.id === id);
}

/** The newest baseline released at or before `at` (ISO time). */
export function latestBaseline(catalog: Catalog, at: string): BaselineRelease | undefined {
  let found: BaselineRelease | undefined;
  for (const r of catalog.releases) if (r.kind === 'baseline' && r.released <= at) found = r;
  return found;
}

/**
 * When the rings' deferrals for `release` count from: its own release date, or for an out-of-band release the
 * regular release (Patch Tuesday) it ships after, so that it is expedited — a ring whose deferral has passed since
 * then gets it at once, the others on their usual deferral date (see `ringOpensAt`).
 */
export function deferralsFrom(catalog: Catalog, release: Release): string {
  if (!isOutOfBand(release)) return release.released;
  let from: string | undefined;
  for (const r of catalog.releases) if (!isOutOfBand(r) && r.released <= release.released) from = r.released;
  return from ?? release.released;
}

const isOutOfBand = (r: Release) => (r.kind === 'hotpatch' ? r.outOfBand : r.cause === 'out-of-band');

/** The hotpatches of a baseline, in release order. */
export function hotpatchesOf(catalog: Catalog, baseline: string): HotpatchRelease[] {
  return catalog.releases.filter((r): r is HotpatchRelease => r.kind === 'hotpatch' && r.baseline === baseline);
}

/** Every hotpatch `id` requires, directly or through others, in dependency order (requirements first). */
export function requirementClosure(catalog: Catalog, id: string): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (current: string, path: string[]) => {
    if (done.has(current)) return;
    if (visiting.has(current)) throw new CatalogError(`dependency cycle: ${[...path, current].join(' → ')}`);
    const release = findRelease(catalog, current);
    if (!release || release.kind !== 'hotpatch') throw new CatalogError(`${path.at(-1) ?? id} requires ${current}, which is not a hotpatch in the catalog`);
    visiting.add(current);
    for (const next of release.requires) visit(next, [...path, current]);
    visiting.delete(current);
    done.add(current);
    if (current !== id) order.push(current);
  };
  visit(id, []);
  return order;
}
