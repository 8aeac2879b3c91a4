export { toDeviceView, type DeviceView, type StreamState } from './device-view.js';
export { foldFile, foldTimeline, positionOf, TimelineFold, type FileFoldOptions, type FileFoldResult, type FoldInput, type FoldOptions, type FoldResult, type ReplayPoint } from './fold.js';
export { deviceAt, deviceHistory, fleetAt, fleetOf, type HistoryStep } from './queries.js';
export { verifyFile, verifyTimeline, type VerifyReport } from './verify.js';
export { shardsAvailable } from './fold-shards.js';
