// The report library: what `replay --html`, `report` and `batch` call.
export { renderReport, writeReport, reportCharts } from './page.js';
export { renderIndex, worstKind } from './index-page.js';
export { analyzeForReport, reportCollectorRef, reportDataOf, REPORT_COLLECTOR } from './collect.js';
export type { ReportInput } from './types.js';
export type { IndexOptions } from './index-page.js';
