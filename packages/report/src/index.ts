export type * from './model.js';
export { LogCollector, type Window } from './collect.js';
export { RolloutTrack } from './rollout-track.js';
export { lifecycleDiagram } from './lifecycle-diagram.js';
export { rolloutSection } from './rollout-section.js';
export { deviceSection } from './device-section.js';
export { fleetLanes } from './fleet-lanes.js';
export { buildReportData, NothingToReportError, reportCollector, reportDataOf, type ReportRequest, type ReportSubject } from './report.js';
export { CONSOLE_CSP, consoleHtml, pageAssets, reportHtml, ReportPageMissingError, type PageAssets } from './html.js';
