"""Golden scores of a fixed seeded table: a change of any number must come with an evaluator version bump.

This is a change detector, not evidence of correctness: the golden file was written by the very code it checks,
so a wrong number written once stays "golden". The evidence that the numbers are right is the independent
reference (benchmarks/reference_evaluator.py, compared in tests/test_evaluator.py). What this test does promise:
the evaluator gives these exact bits on every CPU (docs/evaluation.md, "Reproducibility"); scripts/test.sh also
runs it with numpy's dispatched SIMD kernels switched off.

Regenerate (only together with a bump of repbench.EVALUATOR_VERSION and docs/evaluation.md):
    python tests/test_golden.py --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from repbench import EVALUATOR_VERSION, standards as standards_mod
from repbench.evaluator import evaluate_embedding

GOLDEN = Path(__file__).parent / "data" / "golden_scores.json"


def golden_input(standards):
    rng = np.random.default_rng(2022)
    proteins = list(standards.reference_proteome)[::5][:600]
    vectors = rng.standard_normal((600, 16)).astype(np.float32)
    # structure the golden table a little, so the scores are not all at chance
    kegg = standards.tiers["kegg"]
    for g, members in enumerate(kegg.groups.values()):
        for m in members:
            if m in proteins:
                vectors[proteins.index(m), g % 16] += 2.0
    return proteins, vectors


def compute():
    st = standards_mod.load()
    scores = evaluate_embedding(*golden_input(st), st, with_curve=False)
    return {"evaluator": EVALUATOR_VERSION, "standards_manifest_sha256": st.manifest_sha256, "tiers": scores}


def test_golden_scores_unchanged():
    golden = json.loads(GOLDEN.read_text())
    current = compute()
    assert current["standards_manifest_sha256"] == golden["standards_manifest_sha256"]
    if current["tiers"] != golden["tiers"]:
        assert current["evaluator"] != golden["evaluator"], (
            "evaluator numbers changed without a version bump: bump repbench.EVALUATOR_VERSION and document it"
        )
    assert current == golden  # bit for bit


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
