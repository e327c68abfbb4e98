"""The failure classes of `scripts.failures` over hand-made `--details` records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.failures import classify, main

LAW = {"doc_id": "corpus/tt-36.md", "number": "36/2013/TT-BCT", "doc_type": "circular"}
DECREE = {"doc_id": "corpus/nd-45.md", "number": "45/2012/NĐ-CP", "doc_type": "decree"}
GUIDE = {"doc_id": "guides/thu-tuc.md", "number": None, "doc_type": "guide"}
NEWS = {"doc_id": "articles/tin.md", "number": None, "doc_type": "news"}


def _record(
    cited: dict[str, Any] | None,
    *,
    article: str | None = "Điều 19",
    doc: str | None = "36/2013/TT-BCT",
    first: bool = False,
    rank: int | None = 2,
    confident: bool = True,
) -> dict[str, Any]:
    citations = [] if cited is None else [{**cited, "article": article, "line": "…"}]
    return {
        "id": "q1",
        "expected": {"answer_keys": ["3 bộ hồ sơ"], "doc": doc, "article": "Điều 19"},
        "confident": confident,
        "rank": rank,
        "flags": {"answer_first": first},
        "citations": citations,
        "passages": [
            {"doc_id": LAW["doc_id"], "doc_type": "circular", "path": ["Điều 8", "Khoản 1"]},
            {"doc_id": LAW["doc_id"], "doc_type": "circular", "path": ["Điều 19", "Khoản 1"]},
        ],
    }


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_record(LAW, first=True, rank=1), "ok"),
        (_record(LAW, confident=False), "refusal"),
        (_record(LAW, article="Điều 8", rank=None), "not_retrieved"),
        (_record(LAW, article="Điều 8 khoản 1"), "wrong_article"),
        (_record(GUIDE, article=None), "guide_first"),
        (_record(DECREE, article="Điều 4"), "other_law"),
        (_record(NEWS, article=None), "wrong_doc"),
        (_record(LAW, article="Điều 19 khoản 1"), "not_first"),
        # Without `doc`, the source is the first passage holding the key (rank 2: Điều 19).
        (_record(LAW, doc=None, article="Điều 8 khoản 1"), "wrong_article"),
        (_record(LAW, doc=None, article="Điều 19 khoản 1", first=True), "ok"),
    ],
)
def test_each_failure_class(record: dict[str, Any], expected: str) -> None:
    assert classify(record) == expected


def test_the_table_counts_answerable_rows_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    abstain = {"id": "q2", "expected": {"answer_keys": [], "abstain": True}, "confident": False}
    rows = [_record(LAW, first=True, rank=1), _record(GUIDE, article=None), abstain]
    path = tmp_path / "tuning_legal.details.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main([str(path), "--list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| tuning_legal |"))
    # ok, refusal, not_retrieved, wrong_article, guide_first, …, n
    assert row.split("|")[2:7] == [" 1 ", " 0 ", " 0 ", " 0 ", " 1 "]
    assert row.rstrip().endswith("| 2 |")
    assert "tuning_legal q1 guide_first" in out
