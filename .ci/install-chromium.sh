#!/usr/bin/env bash
# The browser test (test/browser.test.ts) drives Debian's chromium through
# playwright-core; no test tool ever downloads a browser. Install it when missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
command -v chromium
