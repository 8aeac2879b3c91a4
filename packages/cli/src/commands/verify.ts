import type { HotpatchError } from '@hotpatch/core';
import { sealsJson, StoreVerification, verifyFile, type VerifiedLog, type VerifyReport } from '@hotpatch/replay';
import { loadSealPublicKey, logDigest } from '@hotpatch/store';
import { CheckFailed, parse, UsageError, type CommandSpec, type Output } from '../args.js';
import { json } from '../format.js';
import { describeSource, eachStorePage, sourceFrom, type StoreSource } from '../store-source.js';
import { mustExist } from '../timeline-input.js';
import { noTenant, TENANT_OPTION, tenantFlag } from '../tenant.js';
import { sealLines } from './verify-seals.js';

/** "line N: stream@version: what" (or "position N: …" in a store), or the message when the error has no place. */
export function problemLine(error: HotpatchError): string {
  const located = error as Partial<{ at: { line?: number; position?: number; stream?: string; version?: number }; what: string }>;
  const place = located.at?.line !== undefined ? `line ${located.at.line}` : located.at?.position !== undefined ? `position ${located.at.position}` : undefined;
  if (place === undefined || located.what === undefined) return error.message;
  const where = located.at!.stream !== undefined ? `${located.at!.stream}${located.at!.version !== undefined ? `@${located.at!.version}` : ''}: ` : '';
  return `${place}: ${where}${located.what}`;
}

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'check a timeline or a store: format, versions, ids, hashes, every transition allowed, instructions whole',
  usage: `hotpatch verify <file.jsonl> | --store <source>  [--key <seal-key.pub>] [--json]

  Checks every event: valid JSON and a valid event; per-stream versions contiguous from 1; ids unique; positions
  growing; a hash on every event (or, in a file, on none) chained to the one before it in its stream; every
  transition allowed by the lifecycle; and each device's patch steps against its rollout's records: a step of an
  instruction without the rest of its unit of work (staged, applying or restarting without the rollout's
  DeviceInstructed; an instruction without the device's steps; a catch-up's stage without its apply) is a gap,
  named with the device, the release and where each step is (an instruction not answered yet is not one). Prints
  each problem once, where it is, as "line N: …" (in a database: "position N: …"), with what it implies for the
  later events of its stream on the line after it, and exits 1 if there is any. A file without hashes is checked for all the rest, but the first line says that its integrity
  was NOT checked. On success it prints a digest of every stream's last hash: keep it, and compare it with a later
  run to see whether anything before that point changed. <source> is path.jsonl, sqlite:path or postgres://….

  Seals (LogSealed events of seal/<name>, written by \`hotpatch seal\` or the service): each seal's number in its
  stream, and its digest against the heads of every stream recomputed from the log up to the position it covers,
  so that a log rewritten with its hashes recomputed, or a seal removed before a later one, fails; and how many
  events come after the last seal (not covered: their change or removal cannot be seen by a seal).
  --key FILE   the seal key's public key (PEM: the .pub written beside the private key, or the key itself): every
               seal's Ed25519 signature is checked with it, and a log without any seal fails. Without --key the
               signatures are NOT checked (the output says so) and the rest is.

  Without --tenant, the whole log: every tenant's streams (each device checked against its own tenant's rollouts).
  --tenant T: tenant T's streams alone, as the log holds them (tenant/T/…; "default": the devices, rollouts and
  rings without a prefix), their heads in a store included; the digest is then of its streams' last hashes. The
  seals, which vouch for the whole log, are checked against all of it.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' }, store: { type: 'string' }, key: { type: 'string' }, ...TENANT_OPTION });
    const source = sourceFrom(positionals, values.store as string | undefined);
    if (values.key === '') throw new UsageError('--key: expected the path of a public key file');
    const sealKey = values.key !== undefined ? await loadSealPublicKey(values.key as string) : undefined;
    // "default" is a tenant here too: the streams without a prefix (the whole log is verified without --tenant).
    const given = values.tenant as string | undefined;
    const tenant = given === undefined ? undefined : (tenantFlag(given) ?? 'default');
    const options = { ...(sealKey !== undefined ? { sealKey } : {}), ...(tenant !== undefined ? { tenant } : {}) };
    // A file is verified as it is read, line by line (on every core when it is large and clean); a store's log page by
    // page, then its heads: never held in memory whole.
    let verified: VerifiedLog;
    if (source.kind === 'jsonl') {
      await mustExist(source.path);
      verified = await verifyFile(source.path, options);
    } else {
      const verification = new StoreVerification(options);
      await eachStorePage(source, (page) => verification.add(page), {
        afterwards: async (store) => {
          if (store.streamHeads) verification.checkHeads(await store.streamHeads());
          await verification.checkSeals(store);
        },
      });
      verified = verification.result();
    }
    if (tenant !== undefined && tenant !== 'default' && verified.events === 0) throw new CheckFailed(noTenant(tenant, describeSource(source)));
    const { streamStates, ...result } = verified;
    // With no problem in a log with hashes, every event is hashed and chained: each stream's state has its last.
    const digest = result.ok && result.hashed ? logDigest(streamStates.map((s) => [s.stream, s.hash!] as const)) : undefined;
    report(io, values.json === true, source, result, digest);
  },
};

/**
 * Prints a verification: whether integrity was checked (first, when it was not), every problem with its place and
 * what it implies, or "ok" and the digest; exit 1 when there is a problem.
 */
function report(io: Output, asJson: boolean, source: StoreSource, result: VerifyReport, digest: string | undefined): void {
  const hashed = result.hashed && result.events > 0;
  if (asJson) {
    io.out(
      json({
        ok: result.ok,
        events: result.events,
        streams: result.streams,
        hashed,
        integrity: hashed ? 'checked' : 'not checked',
        ...(result.events === 0 ? { empty: true } : {}),
        digest,
        seals: sealsJson(result.seals),
        problems: result.problems.map((p) => ({ code: p.code, message: problemLine(p), ...(result.implications.has(p) ? { implies: result.implications.get(p) } : {}) })),
      }),
    );
  } else {
    if (result.events === 0) {
      io.out(`the log is empty: ${describeSource(source)} holds no events, so nothing was checked`);
      return;
    }
    if (!hashed) io.out('integrity NOT checked: no event carries a hash, so an event changed, removed or inserted cannot be seen');
    if (result.ok) io.out(`ok: ${result.events} events in ${result.streams} streams, every transition allowed${hashed ? ', every hash chained' : ''}`);
    for (const line of sealLines(result)) io.out(line);
    if (result.ok && digest) io.out(`log digest: ${digest}`);
    for (const problem of result.problems) {
      io.out(problemLine(problem));
      const implies = result.implications.get(problem);
      if (implies !== undefined) io.out(`  ${implies}`);
    }
  }
  if (!result.ok) throw new CheckFailed(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${describeSource(source)}`);
}
