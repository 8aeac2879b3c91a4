import { isOfTenant, type HotpatchEvent } from '@hotpatch/core';
import { TENANT_OPTION, tenantFlag } from '../tenant.js';
import { formatEvent, readLogPages, writeTimeline } from '@hotpatch/store';
import { parse, UsageError, type CommandSpec } from '../args.js';
import { namesFile, openEventStore, parseStoreSource, STORE_PAGE, type StoreSource } from '../store-source.js';
import { timelineEvents } from '../timeline-input.js';

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'write a store’s events as a JSONL timeline, with positions and hashes',
  usage: `hotpatch export --store <source> [--out file.jsonl] [--tenant T]

  Writes every event in global order, one canonical JSON line each, with its position and hash (to standard
  output without --out, or with --out -). A device or a pipe given as --out (/dev/null, a FIFO) is written to as
  it is; a file is replaced only once the export is whole (a temporary file beside it, renamed). Exporting, importing into an empty store and exporting again gives the same bytes.

  --tenant T: tenant T's events alone, as the log holds them (their streams tenant/T/…, their ids and hashes as
  stored: the file verifies, and imports into another store as T's); "default": the devices, rollouts and rings without a prefix.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, out: { type: 'string' }, ...TENANT_OPTION });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (values.store === undefined) throw new UsageError('--store <source> is required');
    const source = parseStoreSource(values.store as string);
    const out = values.out as string | undefined;
    const given = values.tenant as string | undefined;
    const tenant = given === undefined ? undefined : (tenantFlag(given) ?? 'default');
    const pages = tenant === undefined ? pagesOf(source) : ofTenantOnly(pagesOf(source), tenant);
    if (out === undefined || out === '-') {
      for await (const page of pages) for (const e of page) io.out(formatEvent(e));
      return;
    }
    if (source.kind === 'sqlite' && (await namesFile(out, source.path))) throw new UsageError(`--out ${out} is the store being exported`);
    // All or nothing: a store that cannot be read, or a failure half-way, leaves an existing file as it was.
    const exported = await writeTimeline(out, pages);
    io.err(`exported ${exported} events to ${out}`);
  },
};

/**
 * The log a page at a time, never held whole: a store's (its events were checked as they were appended), or a
 * timeline file's, checked as it is read (the first problem stops the export).
 */
async function* pagesOf(source: StoreSource): AsyncGenerator<readonly HotpatchEvent[]> {
  if (source.kind === 'jsonl') {
    yield* timelineEvents(source.path);
    return;
  }
  const store = await openEventStore(source, { readonly: true });
  try {
    yield* readLogPages(store, { pageSize: STORE_PAGE });
  } finally {
    await store.close();
  }
}

/** The pages' events of a tenant's streams alone, as stored (see isOfTenant). */
async function* ofTenantOnly(pages: AsyncIterable<readonly HotpatchEvent[]>, tenant: string): AsyncGenerator<readonly HotpatchEvent[]> {
  for await (const page of pages) yield page.filter((e) => isOfTenant(e.stream, tenant));
}
