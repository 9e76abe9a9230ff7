#!/usr/bin/env bash
# Create .venv and install repbench, every built-in plugin and the test tools, with the pins of constraints.txt.
# Needs only Python 3.11 (or newer) and pip. Re-running is cheap: pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# constraints.txt pins torch to the CPU build; drop "-c constraints.txt" on a GPU machine to get a CUDA build.
"$VENV/bin/python" -m pip install --quiet -c constraints.txt \
  -e ".[torch,site${EXTRAS:+,$EXTRAS}]" \
  $(for p in plugins/*/; do [ -f "$p/pyproject.toml" ] && [ "$(basename "$p")" != template ] && printf -- '-e %s ' "$p"; done)
echo "installed into $VENV: $("$VENV/bin/repbench" --version)" >&2
