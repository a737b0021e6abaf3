#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `prepare` on `npm ci`).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    process.stderr.write('pinscope: not built yet; run `npm run build` (npm ci does it)\n');
  } else {
    process.stderr.write(`pinscope: internal error: ${err && err.stack ? err.stack : err}\n`);
  }
  process.exitCode = 2;
});
