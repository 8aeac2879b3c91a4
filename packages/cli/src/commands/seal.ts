/**
 * `hotpatch seal`: seals a store's log by hand, as the service does at each checkpoint and at shutdown: the digest
 * of every stream's head, signed with the seal key (made on first use), appended as LogSealed to seal/<name>.
 */
import { loadOrCreateSealKey, sealLog } from '@hotpatch/store';
import { parse, UsageError, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { describeSource, openEventStore, parseStoreSource } from '../store-source.js';

export const sealCommand: CommandSpec = {
  name: 'seal',
  summary: 'sign the digest of every stream’s head and append it to the log as a seal (verify --key checks it)',
  usage: `hotpatch seal --store <source> --key <file> [--name NAME] [--json]

  Reads the store's log, computes the digest of every stream's last hash as of its last position, signs it with
  the Ed25519 key in <file> and appends it as LogSealed to seal/NAME (default seal/log). The key is made on first
  use: the private key at <file> (mode 0600), its public key beside it at <file>.pub, the file to give
  \`hotpatch verify --key\`. Nothing is written when nothing but seals came since the stream's last seal.

  --store <source>   sqlite:path or postgres://… (written to)
  --key <file>       the seal's private key (PEM, Ed25519); made when missing
  --name NAME        the seal stream: seal/NAME (default log)
  --json             {written, position, events, streams, digest, keyId, key, publicKey, created, sealPosition}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, key: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (values.store === undefined) throw new UsageError('--store <source> is required');
    if (values.key === undefined || values.key === '') throw new UsageError('--key <file> is required: the seal’s private key, made there when missing');
    const name = (values.name as string | undefined) ?? 'log';
    if (name === '') throw new UsageError('--name: expected a name');
    const source = parseStoreSource(values.store as string);
    const key = await loadOrCreateSealKey(values.key as string);
    const store = await openEventStore(source, { mustExist: true });
    try {
      const sealed = await sealLog(store, key.privateKey, { name, meta: { source: 'hotpatch-cli' } });
      if (values.json) {
        io.out(json({ written: sealed.written, position: sealed.position, events: sealed.events, streams: sealed.streams, digest: sealed.digest, keyId: sealed.keyId, key: key.path, publicKey: key.publicPath, created: key.created, sealPosition: sealed.event?.position ?? null }));
        return;
      }
      if (key.created) io.out(`made a seal key: ${key.path} (private, mode 0600) and ${key.publicPath} (public: give it to verify --key)`);
      io.out(
        sealed.written
          ? `sealed ${describeSource(source)}: ${sealed.events} events in ${sealed.streams} streams up to position ${sealed.position}, as seal ${(sealed.event!.data as { sequence: number }).sequence} of ${sealed.event!.stream} at position ${sealed.event!.position}`
          : `nothing to seal: nothing but seals since the last seal of seal/${name} (position ${sealed.event?.position}); nothing written`,
      );
      io.out(`digest ${sealed.digest}, key ${sealed.keyId}`);
    } finally {
      await store.close();
    }
  },
};
