export type { AppendOptions, AppendResult, EventHandler, EventStore, ExpectedVersion, Fence, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SavedProjection, StreamStateRead, SubscribeOptions, Subscription } from './types.js';
export { batchScope } from './batch-scope.js';
export { inBatch } from './in-batch.js';
export { readLog, readLogPages } from './types.js';
export {
  CheckpointConflictError,
  ConsumerFailedError,
  DatabaseBusyError,
  DatabaseUnavailableError,
  DuplicateEventIdError,
  EventIdReusedError,
  EventIdTakenError,
  FencingUnsupportedError,
  IdempotencyConflictError,
  InvalidConsumerError,
  InvalidProjectionError,
  InvalidReadOptionsError,
  InvalidStoreOptionsError,
  LeaseLostError,
  MigrationRefusedError,
  ReservedNameError,
  NotAStoreError,
  SchemaNotMigratedError,
  SchemaTooNewError,
  StoreClosedError,
  StoreReadOnlyError,
  WrongExpectedVersionError,
} from './errors.js';
export { createInMemoryEventStore, createPackedInMemoryEventStore, type InMemoryEventStore, type InMemoryEventStoreOptions, type PackedInMemoryEventStore } from './memory-store.js';
export { fileDigest, formatEvent, parseEventLine, readLineBatches, readLineSpans, readLines, readTimeline, writeTimeline, type LineBatch, type LineSpans, type ReadOptions, type Timeline } from './jsonl.js';
export { alreadyAppended, nothingAppended } from './append-results.js';
export { snapshotFold, type FoldedState, type SnapshotFold, type StoredSnapshot } from './snapshot-fold.js';
export { StateCache, type CachedState } from './state-cache.js';
export { checkBatch, checkConsumerName, checkExpectedVersion, checkProjectionSave, unkept, checkReadOptions, checkStreamName, checkTransitions, judgeHeldIds, type HeldId } from './stream-rules.js';
export { canonicalEvent, canonicalJson, eventHash, GENESIS_HASH, logDigest } from './hash.js';
export { sha1Bytes, sha256Bytes, sha256Hex } from './digest.js';
export { BrokenChainError, VERIFIED_HASHES, verifiedHashesOf, type VerifiedAppendOptions, type VerifiedHashes } from './verified-hashes.js';
export { createSubscription, createWakeups, type SubscriptionHooks } from './subscription.js';
export { DEVICE_MACHINE_FINGERPRINT, lifecycleFingerprint, machineFingerprintFor } from './fingerprint.js';
export { uuidWords, uuidWordsInto } from './uuid-words.js';
export { nameBasedIds, timedNameBasedIds, timeOfId, withTime } from './name-based-ids.js';
export { readSmallFile } from './small-file.js';
export { discardPendingFilesSync, OutputFileError, pendingFile, writeFileAtomically, type PendingFile } from './atomic-file.js';
export { scopeStore, type ScopedEventStore, type ScopeOptions } from './scope.js';
export { tenantIds, type TenantIds } from './tenant-ids.js';
export { tenantLens, type TenantLens } from './tenant-lens.js';
export { OUTSIDE_THE_TENANT } from './scope-errors.js';
export { LogHeads } from './seal/log-heads.js';
export { SealCheck, type SealReport, type SealVerdict } from './seal/seal-check.js';
export { loadOrCreateSealKey, loadSealPublicKey, publicKeyPath, SealKeyError, SealKeyPlaceError, type SealKey } from './seal/seal-keys.js';
export { LogSealer, sealLog, type SealOptions, type SealResult } from './seal/seal-log.js';
export { keyIdOf, SEAL_ALGORITHM, sealSignatureValid, sealText, signSeal, type SealFields } from './seal/seal-text.js';
