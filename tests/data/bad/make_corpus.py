"""Write the corpus of hostile and broken protein tables in this folder (run once; the files are committed).

    python tests/data/bad/make_corpus.py

expected.json maps each file to the error code repbench must answer with. Every file must end with exit
status 1 or 2, a one-line message naming the problem, no traceback, and nothing written.

hostile-ids/ holds the hostile-id case set: hostile-ids/cases.json maps a case name to one hostile protein id
(rich markup, ANSI escapes, emoji codes, bidi and zero-width characters, a 10,000-character id, spreadsheet
formulas, injected lines), and hostile-ids/<case>.parquet is a *valid* table of 20 real ORFs plus that id at
row 7, so that validate, evaluate, submit and the site accept it and print the id back as an unknown id.
hostile-ids/all.parquet holds the 20 ORFs and every hostile id at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ORFS = [
    "YAL001C",
    "YAL002W",
    "YAL003W",
    "YAL005C",
    "YAL007C",
    "YAL008W",
    "YAL009W",
    "YAL010C",
    "YAL011W",
    "YAL012W",
    "YAL013W",
    "YAL014C",
    "YAL015C",
    "YAL016W",
    "YAL017W",
    "YAL018C",
    "YAL019W",
    "YAL020C",
    "YAL021C",
    "YAL022C",
]


def vectors(n=20, d=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def emb_table(ids, v):
    return pa.table(
        {
            "protein": pa.array(ids, pa.string()),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), v.shape[1]),
        }
    )


def write(name, table, metadata=None):
    if metadata is not None:
        table = table.replace_schema_metadata({b"repbench": metadata})
    pq.write_table(table, HERE / name)


HOSTILE_IDS = {
    "markup-close": "[/]",
    "markup-bold": "[bold]X",
    "markup-link": "[link=https://example.invalid]click me[/link]",
    "markup-trailing-backslash": "ends with a backslash\\",
    "ansi-colour": "\x1b[31mRED\x1b[0m",
    "ansi-clear-screen": "\x1b[2J\x1b[H",
    "ansi-window-title": "\x1b]0;pwned\x07",
    "c1-control-sequence": "\x9b31mC1",
    "emoji-code": ":smile:",
    "emoji-codes": ":thumbs_up: :cross_mark:",
    "right-to-left-override": "\u202eexe.CBA",
    "right-to-left-mark": "\u200fRLM",
    "zero-width-space": "YAL\u200b001C",
    "byte-order-mark": "\ufeffYAL002W",
    "injected-line": "X\nerror [fake-code] injected line",
    "carriage-return": "OK\rerror",
    "nul": "\x00YAL001C",
    "very-long": "L" * 10_000,
    "formula-equals": '=HYPERLINK("https://example.invalid","x")',
    "formula-plus": "+1+1",
    "formula-minus": "-2+3",
    "formula-at": "@SUM(A1)",
    "formula-tab": "\t=1+1",
    "formula-after-spaces": "  =1+1",
}


def write_hostile_ids():
    """hostile-ids/: one valid table per hostile id (20 ORFs + the id at row 7), all.parquet, cases.json."""
    folder = HERE / "hostile-ids"
    folder.mkdir(exist_ok=True)
    for name, hostile in HOSTILE_IDS.items():
        ids = [*ORFS[:7], hostile, *ORFS[7:]]
        write(f"hostile-ids/{name}.parquet", emb_table(ids, vectors(len(ids), seed=1)))
    ids = [*ORFS, *HOSTILE_IDS.values()]
    write("hostile-ids/all.parquet", emb_table(ids, vectors(len(ids), seed=2)))
    (folder / "cases.json").write_text(json.dumps(HOSTILE_IDS, indent=1, ensure_ascii=True) + "\n")


def main():
    write_hostile_ids()
    expected = {}
    v = vectors()
    good = emb_table(ORFS, v)
    write("_good.parquet", good)
    raw = (HERE / "_good.parquet").read_bytes()
    (HERE / "_good.parquet").unlink()

    (HERE / "truncated.parquet").write_bytes(raw[: len(raw) * 2 // 3])
    expected["truncated.parquet"] = "not-parquet"
    corrupt = bytearray(raw)
    for i in range(len(raw) - 60, len(raw) - 8):  # scramble the footer, keep the magic bytes
        corrupt[i] = (corrupt[i] * 31 + 7) % 256
    (HERE / "corrupt-footer.parquet").write_bytes(bytes(corrupt))
    expected["corrupt-footer.parquet"] = "not-parquet"
    (HERE / "csv-named-parquet.parquet").write_text("protein,x\nYAL001C,1\n")
    expected["csv-named-parquet.parquet"] = "not-parquet"
    (HERE / "zero-bytes.parquet").write_bytes(b"")
    expected["zero-bytes.parquet"] = "not-parquet"

    write("protein-as-integers.parquet", pa.table({"protein": list(range(20)), "x": v[:, 0], "y": v[:, 1]}))
    expected["protein-as-integers.parquet"] = "non-string-protein"
    write("embedding-of-strings.parquet", pa.table({"protein": ORFS, "embedding": [["a", "b"]] * 20}))
    expected["embedding-of-strings.parquet"] = "non-numeric"
    write(
        "feature-of-dates.parquet",
        pa.table({"protein": ORFS, "x": v[:, 0], "when": pa.array(np.arange(20).astype("datetime64[D]"))}),
    )
    expected["feature-of-dates.parquet"] = "non-numeric"
    wide = pa.Table.from_arrays(
        [pa.array(["YAL001C"])] + [pa.array([float(i)]) for i in range(20_000)],
        names=["protein"] + [f"f{i}" for i in range(20_000)],
    )
    pq.write_table(wide, HERE / "twenty-thousand-columns.parquet", compression="zstd", write_statistics=False)
    expected["twenty-thousand-columns.parquet"] = "too-large"

    nan = v.copy()
    nan[3, 1] = np.nan
    write("nan.parquet", emb_table(ORFS, nan))
    expected["nan.parquet"] = "nan-or-inf"
    inf = v.copy()
    inf[7, 0] = -np.inf
    write("infinity.parquet", emb_table(ORFS, inf))
    expected["infinity.parquet"] = "nan-or-inf"
    const = v.copy()
    const[2] = 0.0
    write("zero-vector.parquet", emb_table(ORFS, const))
    expected["zero-vector.parquet"] = "constant-vector"
    write("duplicate-ids.parquet", emb_table([*ORFS[:19], "tfc3"], v))
    expected["duplicate-ids.parquet"] = "duplicate-protein"
    write("empty-id.parquet", emb_table(["", *ORFS[1:]], v))
    expected["empty-id.parquet"] = "missing-protein-id"
    write(
        "null-id.parquet", pa.table({"protein": pa.array([None, *ORFS[1:]], pa.string()), "x": v[:, 0], "y": v[:, 1]})
    )
    expected["null-id.parquet"] = "missing-protein-id"
    write("one-protein.parquet", emb_table(ORFS[:1], v[:1]))
    expected["one-protein.parquet"] = "too-few-proteins"
    hostile = [
        "\x00YAL001C",
        "YAL001C\n",
        "\x1b[31mRED\x1b[0m",
        "蛋白质",
        "Ä" * 300,
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "${jndi:ldap://x}",
        "'; DROP TABLE x; --",
        "\u202eCBA",
        "YAL\u200b001C",
        "nan",
        "None",
        "%00",
        "%ZZ",
        "\ud7ff",
        "a\tb",
        "\x7f",
        "🧬",
        "x" * 10_000,
    ]
    write("hostile-ids.parquet", emb_table(hostile, v))
    expected["hostile-ids.parquet"] = "too-few-proteins"
    write("metadata-not-json.parquet", emb_table(ORFS, v), b"{embedder: deeploc")
    expected["metadata-not-json.parquet"] = "bad-metadata"
    write("metadata-not-utf8.parquet", emb_table(ORFS, v), b"\xff\xfe\x00bad")
    expected["metadata-not-utf8.parquet"] = "bad-metadata"
    write("metadata-array.parquet", emb_table(ORFS, v), b"[1, 2, 3]")
    expected["metadata-array.parquet"] = "bad-metadata"
    write("empty.parquet", emb_table([], np.zeros((0, 4), np.float32)))
    expected["empty.parquet"] = "empty"
    write("ids-only.parquet", pa.table({"protein": ORFS}))
    expected["ids-only.parquet"] = "no-feature-columns"
    write("no-protein-column.parquet", pa.table({"gene": ORFS, "x": v[:, 0]}))
    expected["no-protein-column.parquet"] = "missing-protein-column"
    ragged = [list(map(float, row)) for row in v]
    ragged[5] = ragged[5][:2]
    write("ragged.parquet", pa.table({"protein": ORFS, "embedding": ragged}))
    expected["ragged.parquet"] = "ragged-embedding"
    write(
        "null-embedding.parquet",
        pa.table({"protein": ORFS, "embedding": [None, *[list(map(float, r)) for r in v[1:]]]}),
    )
    expected["null-embedding.parquet"] = "ragged-embedding"
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} files to {HERE}")


if __name__ == "__main__":
    main()
