"""Scoring of the evaluation script, its JSON output, and the dev-set regression test."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.schema import Chunk, DocumentMeta, Passage
from scripts.eval_judging import contains_key, first_hit_rank
from scripts.eval_metrics import METRIC_KEYS, hit_at, mrr_at, percentile
from scripts.eval_questions import load_questions, make_variant
from scripts.evaluate import evaluate, main
from tests.conftest import DEV_QUESTIONS

if TYPE_CHECKING:
    from index.engine import Engine


def _passage(cid: int, text: str) -> Passage:
    return Passage(
        chunk=Chunk(chunk_id=cid, doc_id="d", text=text),
        doc=DocumentMeta(doc_id="d", title="T"),
        score=1.0,
    )


def test_key_matching_ignores_form_case_and_spacing() -> None:
    text = unicodedata.normalize("NFD", "Theo  Quyết định\n2665/QĐ-UBND ngày 16/9/2021")
    assert contains_key(text, ["quyết định 2665/qđ-ubnd"])
    assert contains_key("Tỷ lệ đạt 98%.", ["không có", "98%"])
    assert not contains_key("Tỷ lệ đạt 97%.", ["98%"])
    assert not contains_key("bất kỳ", [" "])  # a blank key never matches


def test_rank_hit_and_mrr_math() -> None:
    passages = [_passage(1, "không liên quan"), _passage(2, "đạt 98% lao động"), _passage(3, "98%")]
    assert first_hit_rank(passages, ["98%"]) == 2
    assert first_hit_rank(passages, ["xyz"]) is None
    ranks = [1, 2, None, 5, 4]
    assert hit_at(ranks, 1) == pytest.approx(1 / 5)
    assert hit_at(ranks, 3) == pytest.approx(2 / 5)
    assert hit_at(ranks, 5) == pytest.approx(4 / 5)
    assert mrr_at(ranks, 5) == pytest.approx((1 + 1 / 2 + 1 / 5 + 1 / 4) / 5)
    assert mrr_at(ranks, 3) == pytest.approx((1 + 1 / 2) / 5)
    assert hit_at([], 5) == 0.0 and mrr_at([], 5) == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 50) == 30.0
    assert percentile([0.0, 100.0], 95) == pytest.approx(95.0)
    assert percentile([], 95) == 0.0


def test_load_questions_and_variants(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Hội chợ ở đâu?", "answer_keys": ["x"]}\n\n'
        '{"id": "b", "question": "hihi", "expect_abstain": true}\n',
        encoding="utf-8",
    )
    questions = load_questions(path)
    assert [(q.id, q.expect_abstain, q.answer_keys) for q in questions] == [
        ("a", False, ("x",)),
        ("b", True, ()),
    ]
    assert make_variant(questions, "accentless")[0].question == "Hoi cho o dau?"
    nfd = make_variant(questions, "nfd")[0].question
    assert nfd == unicodedata.normalize("NFD", "Hội chợ ở đâu?") and nfd != questions[0].question
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "c", "question": "?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="answer_keys"):
        load_questions(bad)


@pytest.mark.slow
def test_json_output_is_one_object(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "1",
            "question": "Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?",
            "answer_keys": ["5 hội chợ cấp tỉnh"],
        },
        {"id": "2", "question": "Thời tiết Hà Nội ngày mai thế nào?", "expect_abstain": True},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main(["--questions", str(path), "--json"], engine=engine) == 0
    out = capsys.readouterr().out
    payload = json.loads(out)  # the whole stdout is exactly one JSON document
    assert isinstance(payload, dict) and set(METRIC_KEYS) <= set(payload)
    assert payload["n"] == 2
    assert payload["hit@5"] == 1.0 and payload["abstain_accuracy"] == 1.0

    assert main(["--questions", str(path), "--json", "--all-modes"], engine=engine) == 0
    modes = json.loads(capsys.readouterr().out)
    assert set(modes) == {"dense", "bm25", "hybrid-rrf", "hybrid-weighted"}
    assert all(set(METRIC_KEYS) <= set(m) for m in modes.values())


@pytest.mark.slow
def test_missing_question_file_fails_cleanly(engine: Engine, tmp_path: Path) -> None:
    assert main(["--questions", str(tmp_path / "none.jsonl"), "--json"], engine=engine) == 2


@pytest.mark.slow
def test_dev_set_regression(engine: Engine) -> None:
    if not DEV_QUESTIONS.is_file():
        pytest.skip(f"dev questions not found at {DEV_QUESTIONS}")
    metrics = evaluate(engine, load_questions(DEV_QUESTIONS), k=5)
    assert metrics["hit@5"] >= 0.9, metrics
    assert metrics["abstain_accuracy"] >= 0.9, metrics
    assert metrics["answer_first"] >= 0.8, metrics
