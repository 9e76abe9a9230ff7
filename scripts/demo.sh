#!/usr/bin/env bash
# The main job: install everything, then train DeepLoc on the embedded synthetic yeast proteome,
# embed every protein, evaluate the table on the four frozen tiers and print the scores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/repbench run --embedder deeploc "$@"
