"""The evaluation harness on legal rows: kinds, unknowns, citations, notices and details."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.schema import Answer, Chunk, Citation, DocumentMeta, Passage
from scripts.eval_judging import article_matches, derive_kind, doc_matches, judge
from scripts.eval_metrics import summarize, summarize_by_kind
from scripts.eval_questions import Question, load_followups, load_questions
from scripts.evaluate import main

if TYPE_CHECKING:
    from index.engine import Engine

ND45 = DocumentMeta(
    doc_id="corpus/nd-45-2012-nd-cp.md",
    title="Nghị định về khuyến công",
    doc_type="decree",
    number="45/2012/NĐ-CP",
    issued="2012-05-21",
    status="amended",
    amended_by=("235/2025/NĐ-CP",),
)


def _answer(
    text: str,
    *,
    article: str | None = "Điều 5 khoản 1",
    outcome: str = "answered",
    doc: DocumentMeta = ND45,
) -> Answer:
    chunk = Chunk(chunk_id=1, doc_id=doc.doc_id, text=text, path=("Chương II", "Điều 5"))
    citation = Citation(
        title=doc.title,
        number=doc.number,
        issued=doc.issued,
        doc_id=doc.doc_id,
        article=article,
        doc_type=doc.doc_type,
        status=doc.status,
        amended_by=doc.amended_by,
    )
    return Answer(
        question="q",
        text=text,
        confident=outcome in ("answered", "unknown"),
        citations=[citation],
        passages=[Passage(chunk=chunk, doc=doc, score=1.0)],
        outcome=outcome,  # type: ignore[arg-type]
    )


def test_unknown_fields_are_ignored_and_kinds_derived(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "1",
            "question": "Hộ kinh doanh có được hỗ trợ không?",
            "answer_keys": ["hộ"],
            "doc": "45/2012/NĐ-CP",
            "article": "Điều 1",
            "note": "x",
            "file": "f.md",
            "style": "s",
        },
        {"id": "2", "question": "ho kinh doanh co duoc ho tro khong", "answer_keys": ["hộ"]},
        {"id": "3", "question": "Can a cooperative get support?", "answer_keys": ["hợp tác xã"]},
        {
            "id": "4",
            "question": "Mức hỗ trợ nhãn hiệu là bao nhiêu?",
            "expect_unknown": True,
            "forbidden": ["300 triệu"],
        },
        {"id": "5", "question": "cho tôi gặp cán bộ", "expect_intent": "talk_to_staff"},
        {"id": "6", "question": "giá vàng", "expect_abstain": True, "kind": "abstain"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    questions = load_questions(path)
    assert questions[0].doc == "45/2012/NĐ-CP" and questions[0].article == "Điều 1"
    assert [derive_kind(q) for q in questions] == [
        "accented",
        "unaccented",
        "english",
        "unknown",
        "intent",
        "abstain",
    ]
    assert questions[3].forbidden == ("300 triệu",) and not questions[3].answerable


def test_doc_and_article_matching() -> None:
    assert doc_matches("45/2012/NĐ-CP", number="45/2012/ND-CP", doc_id="x.md")
    assert doc_matches("news-baolamdong", number=None, doc_id="corpus/news-baolamdong.md")
    assert not doc_matches("45/2012/NĐ-CP", number="46/2012/TT-BCT", doc_id="x.md")
    assert article_matches("Điều 5", "Điều 5 khoản 1")
    assert article_matches("Điều 5", "Điều 5")
    assert not article_matches("Điều 5", "Điều 50 khoản 1")
    assert not article_matches("Điều 5", None)


def test_answerable_row_scores_on_the_shown_text() -> None:
    item = Question(
        id="1",
        question="q",
        answer_keys=["gia công chi tiết"],
        doc="45/2012/NĐ-CP",
        article="Điều 5",
    )
    judged = judge(item, _answer("Sản xuất, gia công chi tiết máy."), k=5)
    assert judged.rank == 1
    assert judged.flags["answer_hit"] and judged.flags["answer_first"]
    assert judged.flags["doc_hit"] and judged.flags["article_hit"]
    assert "Điều 5 khoản 1 — Nghị định 45/2012/NĐ-CP (21/05/2012)" in judged.shown
    # The amended decree carries its notice, naming the amending decree.
    assert judged.flags["superseded_flagged"] is True
    wrong = judge(item, _answer("Sản xuất, gia công chi tiết máy.", article="Điều 50"), k=5)
    assert wrong.flags["doc_hit"] and not wrong.flags["article_hit"]


def test_passage_from_another_document_is_no_hit() -> None:
    item = Question(id="1", question="q", answer_keys=["gia công"], doc="46/2012/TT-BCT")
    judged = judge(item, _answer("gia công"), k=5)
    assert judged.rank is None and judged.flags["doc_hit"] is False


def test_unknown_row_needs_an_honest_line_and_no_forbidden_figure() -> None:
    item = Question(id="u", question="q", expect_unknown=True, forbidden=("300 triệu",))
    honest = judge(item, _answer("Hỗ trợ đăng ký nhãn hiệu.", outcome="unknown"), k=5)
    assert honest.flags["unknown_honesty"] is True
    liar = judge(item, _answer("Hỗ trợ tối đa 300 triệu đồng."), k=5)
    assert liar.flags["unknown_honesty"] is False
    honest_but_leaks = judge(item, _answer("tối đa 300 triệu đồng", outcome="unknown"), k=5)
    assert honest_but_leaks.flags["unknown_honesty"] is False


def test_summary_rates_and_kinds() -> None:
    answerable = Question(id="1", question="q", answer_keys=["gia công"], kind="accented")
    abstain = Question(id="2", question="q", expect_abstain=True)
    judged = [
        judge(answerable, _answer("gia công"), k=5),
        judge(abstain, _answer("x", outcome="refused"), k=5),
    ]
    metrics = summarize(judged)
    assert metrics["answer_hit"] == 1.0 and metrics["abstain_accuracy"] == 1.0
    assert metrics["intent_accuracy"] is None and metrics["n_intent"] == 0
    kinds = summarize_by_kind(judged)
    assert set(kinds) == {"accented", "abstain"} and kinds["abstain"]["n"] == 1


def test_followup_file_formats(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"id": "f1", "turns": ["Quảng Nam hỗ trợ gì?", "còn Đắk Nông thì sao?"], '
        '"answer_keys": ["Đắk Nông"]}\n'
        '[{"question": "a b c"}, {"question": "còn x?", "answer_keys": ["x"], "id": "f2"}]\n',
        encoding="utf-8",
    )
    dialogues = load_followups(path)
    assert [d.id for d in dialogues] == ["f1", "f2"]
    assert dialogues[0].turns == ("Quảng Nam hỗ trợ gì?",)
    assert dialogues[0].last.question == "còn Đắk Nông thì sao?"
    assert dialogues[1].last.answer_keys == ("x",) and dialogues[1].last.kind == "followup"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "turns": ["only"], "answer_keys": ["y"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="two turns"):
        load_followups(bad)


@pytest.mark.slow
def test_details_and_new_json_keys(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "1", "question": "Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?", '
        '"answer_keys": ["5 hội chợ cấp tỉnh"]}\n'
        '{"id": "2", "question": "Thời tiết Hà Nội ngày mai thế nào?", "expect_abstain": true}\n',
        encoding="utf-8",
    )
    followups = tmp_path / "f.jsonl"
    followups.write_text(
        '{"id": "f1", "turns": ["Quảng Nam tổ chức bao nhiêu hội chợ cấp tỉnh?", '
        '"còn mô hình trình diễn thì sao?"], "answer_keys": ["mô hình trình diễn"]}\n',
        encoding="utf-8",
    )
    details = tmp_path / "out" / "details.jsonl"
    argv = [
        "--questions",
        str(questions),
        "--json",
        "--details",
        str(details),
        "--followups",
        str(followups),
    ]
    assert main(argv, engine=engine) == 0
    payload = json.loads(capsys.readouterr().out)
    for key in (
        "answer_first",
        "answer_chars_p50",
        "unknown_honesty",
        "doc_hit",
        "article_hit",
        "superseded_flagged",
        "intent_accuracy",
        "by_kind",
        "followups",
    ):
        assert key in payload
    assert set(payload["by_kind"]) == {"accented", "abstain"}
    records = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["1", "2", "f1"]
    assert records[0]["rank"] is not None and records[0]["shown"]
    assert records[1]["outcome"] == "refused"
    assert records[2]["run"] == "followups"
