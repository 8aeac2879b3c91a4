export { toDeviceView, type DeviceView, type StreamState } from './device-view.js';
export { foldTimeline, positionOf, TimelineFold, type FoldInput, type FoldOptions, type FoldResult, type ReplayPoint } from './fold.js';
export { foldFile, type FileFoldOptions, type FileFoldResult } from './fold-file.js';
export { deviceAt, deviceHistory, fleetAt, fleetOf, historyOfFile, ringHistory, rolloutHistory, type HistoryStep, type RingHistoryStep, type RingPauseView, type RolloutHistoryStep, type StreamHistoryStep } from './queries.js';
export { rolloutChanges, toRolloutView, type RingView, type RolloutView } from './rollout-view.js';
export { CrossStreamCheck, InstructionGapError, TenantCrossStreamCheck, type GapFinding, type InstructionGap } from './cross-stream.js';
export { verifyFile, verifyTimeline, type VerifiedLog, type VerifyOptions, type VerifyReport } from './verify.js';
export { StoreVerification } from './verify-store.js';
export { shardsAvailable } from './fold-shards.js';
