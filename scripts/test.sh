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
.venv/bin/python -m pytest -m "not bf16" "$@"  # the bf16 tests run in their block below

# Simulated CPU (issue 9): the tests of numbers promised identical on every CPU, again with numpy's dispatched
# SIMD kernels switched off (AVX2/FMA3 here; the AVX-512 groups too, for machines that have them). OpenBLAS is
# left alone on purpose: the evaluator's numbers do not depend on it (benchmarks/cpu_variants.py shows it).
NO_SIMD="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
flags=()
for arg in "$@"; do case $arg in -q | -qq | -v | -vv | -x) flags+=("$arg") ;; esac; done  # verbosity, not selections
echo "simulated CPU: NPY_DISABLE_CPU_FEATURES='$NO_SIMD'" >&2
NPY_DISABLE_CPU_FEATURES="$NO_SIMD" .venv/bin/python -c 'import numpy; numpy.show_runtime()' >&2  # what runs
NPY_DISABLE_CPU_FEATURES="$NO_SIMD" .venv/bin/python -m pytest ${flags[@]+"${flags[@]}"} \
  tests/test_golden.py tests/test_metrics.py tests/test_metric_edge_cases.py tests/test_metric_references.py \
  tests/test_group_metrics.py tests/test_evaluator.py tests/test_evaluator_cases.py tests/test_table.py

# bf16 block: the tests of the bfloat16 autocast path (marked bf16), the precision the automatic choice takes on
# AMX / AVX-512 BF16 CPUs. Emulated (slow) on other CPUs, so small nets, run once here (the main run skips them).
if .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -c "from repbench.torch.runtime import cpu_has_native_bf16 as n, cpu_kind as k
print(f'bf16 tests: CPU kind {k()}, bf16 {\"native\" if n() else \"emulated\"}')" >&2
  .venv/bin/python -m pytest -q -m bf16 tests plugins
fi
