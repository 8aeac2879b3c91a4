export { toDeviceView, type DeviceView, type StreamState } from './device-view.js';
export { foldTimeline, positionOf, type FoldInput, type FoldOptions, type FoldResult, type ReplayPoint } from './fold.js';
export { deviceAt, deviceHistory, fleetAt, type HistoryStep } from './queries.js';
export { verifyTimeline, type VerifyReport } from './verify.js';
