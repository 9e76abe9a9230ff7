"""Re-evaluate every leaderboard record's stored table with the current evaluator.

    .venv/bin/python scripts/rescore_submissions.py [--submissions leaderboard/submissions] [--dry-run]

For each ``*.json`` record with its table beside it (``submission.embedding_file``, matching
``input.sha256``), the table is scored again and the record rewritten atomically with the new evaluator's
fields, keeping what the submitter said: name, slug, description, model card, labels, reference and
annotation flags, submission date, data set and training trajectory (``repbench.leaderboard.records``).
A record without its table is left as it is and listed; a record that cannot be re-scored is listed with its
error, and the others still go ahead. Exit status 1 when any record failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=Path, default=ROOT / "leaderboard" / "submissions")
    parser.add_argument("--dry-run", action="store_true", help="list what would be re-scored, write nothing")
    args = parser.parse_args()

    from repbench import EVALUATOR_VERSION
    from repbench.errors import RepbenchError
    from repbench.leaderboard.records import read_record, rescore_record

    failed = 0
    for path in sorted(args.submissions.glob("*.json")):
        try:
            old = read_record(path)
            if not (old.get("submission") or {}).get("embedding_file"):
                print(f"kept    {path.name}: no table beside it (evaluator {old['evaluator']['version']})")
                continue
            if args.dry_run:
                print(f"would   {path.name}: {old['evaluator']['version']} -> {EVALUATOR_VERSION}")
                continue
            new = rescore_record(path)
            print(f"rescored {path.name}: evaluator {old['evaluator']['version']} -> {new['evaluator']['version']}")
        except (RepbenchError, KeyError, TypeError) as error:
            failed += 1
            print(f"failed  {path.name}: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
