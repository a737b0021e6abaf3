// The page's stylesheet: system fonts only (nothing fetched), print-friendly.
export const PAGE_CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f6f6f4; color: #1d1d1d; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 20px 28px 40px; background: #fff; }
header h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid #e4e4e4; padding-bottom: 3px; }
.sub { color: #555; margin: 0; overflow-wrap: anywhere; }
code { font: 12.5px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; background: #f2f2f2; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
ul.glance { padding-left: 18px; margin: 6px 0; }
ul.glance li { margin: 2px 0; }
.bad { color: #b2182b; font-weight: 600; }
.good { color: #1b7837; font-weight: 600; }
.score { color: #888; font-size: 12px; }
.note { background: #fff7e0; border-left: 4px solid #e6c229; padding: 8px 12px; }
figure.chart { margin: 18px 0; }
figure.chart .vis { overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 12.5px; margin-top: 2px; max-width: 760px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 7px; border-bottom: 1px solid #eee; vertical-align: top; }
thead th { text-align: left; border-bottom: 2px solid #ccc; font-weight: 600; }
table.summary td { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th.kind { font-size: 12px; min-width: 52px; }
table.summary td.stall { white-space: nowrap; text-align: left; }
table.summary td small { white-space: nowrap; }
table.summary.many { font-size: 12px; }
table.summary.many th, table.summary.many td { padding: 3px 4px; }
table.summary.many th.kind { min-width: 0; font-size: 11px; }
table.worst td:first-child { white-space: nowrap; }
td.zero, span.zero { color: #bbb; }
td.hit { background: #f4f7fb; }
td.severe { background: #fbe3e3; color: #8b0000; font-weight: 600; }
small, .small { font-size: 11.5px; color: #666; }
.sw { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
table.worst { width: 100%; }
table.worst td:nth-child(4) { overflow-wrap: anywhere; }
td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
details { margin: 6px 0; }
summary { cursor: pointer; }
table.params th { text-align: left; color: #555; font-weight: normal; width: 120px; }
div.scroll { overflow-x: auto; }
table.index { font-size: 12px; }
table.index th, table.index td { padding: 3px 5px; }
table.index th[scope="row"] { text-align: left; font-weight: normal; max-width: 230px; overflow-wrap: anywhere; }
table.index td.cell { text-align: left; }
table.index td.cell .k { white-space: nowrap; }
table.index td.failed { overflow-wrap: anywhere; white-space: normal; }
table.index th.num { text-align: right; }
footer { margin-top: 30px; color: #888; font-size: 12px; }
.tip { position: absolute; display: none; white-space: pre; background: #222; color: #fff; font-size: 12px; padding: 4px 7px; border-radius: 3px; pointer-events: none; z-index: 10; }
@media print { body { background: #fff; } main { padding: 0; } .tip { display: none !important; } }
`;
