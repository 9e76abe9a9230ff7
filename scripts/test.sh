#!/usr/bin/env bash
# Install everything (with the test tools and the template plugin the tests install into the environment),
# make sure a headless Chromium is there for the browser test, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=test bash scripts/setup.sh
.venv/bin/python -m pip install --quiet -c constraints.txt -e plugins/template
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will be skipped" >&2
  else
    echo "warning: no chromium and no root to install it; the browser test will be skipped" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
