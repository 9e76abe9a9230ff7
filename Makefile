# Shortcuts for the scripts (which are what the README and CI use; they need no make).
.PHONY: demo test setup bench
setup: ; bash scripts/setup.sh
demo: ; bash scripts/demo.sh
test: ; bash scripts/test.sh
bench: ; .venv/bin/python benchmarks/bench_evaluator.py
