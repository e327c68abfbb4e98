"""Rendering shared by Telegram, the console and the evaluation: citations, sources, passages."""

from __future__ import annotations

from bot import texts
from bot.answer_views import (
    citation_line,
    document_lines,
    found_metadata_lines,
    passage_record,
    render_answer,
    render_passage_record,
    status_notice,
)
from index.schema import Answer, Chunk, Citation, DocumentMeta, Passage

ND45 = DocumentMeta(
    doc_id="corpus/nd-45.md", title="Nghị định về khuyến công", doc_type="decree",
    number="45/2012/NĐ-CP", issued="2012-05-21", status="amended",
    amended_by=("235/2025/NĐ-CP",), replaces=("134/2004/NĐ-CP",), url="https://x.vn/nd45",
)  # fmt: skip
GUIDE = DocumentMeta(
    doc_id="guides/nganh-nghe.md", title="Ngành nghề được hỗ trợ", doc_type="guide",
    based_on=("45/2012/NĐ-CP",), status="in_force",
)  # fmt: skip


def _passage(doc: DocumentMeta, text: str, path: tuple[str, ...]) -> Passage:
    return Passage(chunk=Chunk(chunk_id=7, doc_id=doc.doc_id, text=text, path=path), doc=doc,
                   score=1.0)  # fmt: skip


def test_article_citation_and_guides_cited_as_ours() -> None:
    line = citation_line(Citation(title=ND45.title, number=ND45.number, issued=ND45.issued,
                                  article="Điều 5 khoản 1", doc_type="decree"))  # fmt: skip
    assert line == "Điều 5 khoản 1 — Nghị định 45/2012/NĐ-CP (21/05/2012)"
    guide = citation_line(Citation(title=GUIDE.title, doc_type="guide", issued="2012-05-21"))
    assert guide == "Tài liệu hướng dẫn của Trung tâm: Ngành nghề được hỗ trợ"
    news = citation_line(Citation(title="Tin tức", issued="unknown"))
    assert news == "Tin tức"  # an unknown date is left out, never printed


def test_source_list_lines_show_status_and_relations() -> None:
    name, status = document_lines(ND45)
    assert name == "Nghị định về khuyến công · số 45/2012/NĐ-CP · ngày 21/05/2012"
    assert "sửa đổi bởi 235/2025/NĐ-CP" in status and "thay thế 134/2004/NĐ-CP" in status
    guide_name, guide_status = document_lines(GUIDE)
    assert "45/2012" not in guide_name  # a guide shows no law's number as its own
    assert "tóm tắt từ 45/2012/NĐ-CP" in guide_status
    assert found_metadata_lines({"doc_type": "decision", "issued": "2026-03-15", "x": 1}) == [
        "Loại văn bản: Quyết định", "Ngày ban hành: 15/03/2026",
    ]  # fmt: skip


def test_more_sources_shows_the_clause_with_its_article_and_notice() -> None:
    clause = "2. Đối tượng áp dụng\na) Doanh nghiệp nhỏ và vừa;\nb) Hợp tác xã."
    record = passage_record(_passage(ND45, clause, ("Chương I", "Điều 1", "Khoản 2")))
    assert record["citation"] == "Điều 1 khoản 2 — Nghị định 45/2012/NĐ-CP (21/05/2012)"
    assert record["text"] == clause  # lines kept: one point per line
    html = render_passage_record(record, 3)
    assert html.startswith('<b>3.</b> <a href="https://x.vn/nd45">Điều 1 khoản 2 — Nghị định')
    assert "đã được sửa đổi, bổ sung bởi 235/2025/NĐ-CP" in html
    assert "<blockquote>2. Đối tượng áp dụng\na) Doanh nghiệp" in html
    long = passage_record(_passage(ND45, "\n".join(["Dòng nội dung dài."] * 200), ("Điều 2",)))
    assert len(long["text"]) < 1000 and long["text"].endswith(" …")


def test_status_notice_in_the_rendered_answer() -> None:
    stale = Citation(title="Quy chế", number="29/2014/QĐ-UBND", doc_type="decision",
                     status="superseded", doc_id="qd29")  # fmt: skip
    assert status_notice(stale) == "⚠️ Quyết định 29/2014/QĐ-UBND đã hết hiệu lực."
    answer = Answer(question="q", text="Nội dung.", confident=True, citations=[stale])
    shown = render_answer(answer)
    assert "⚠️ Quyết định 29/2014/QĐ-UBND đã hết hiệu lực." in shown
    assert texts.NOT_CONFIDENT not in shown


def test_an_unknown_from_a_partial_text_says_so_first() -> None:
    answer = Answer(
        question="Theo Quyết định 29/2014 Đồng Tháp, hỗ trợ thương hiệu tối đa bao nhiêu?",
        text="Quyết định này có hiệu lực thi hành sau 10 ngày kể từ ngày ký.", confident=True,
        outcome="unknown", reason="partial_text",
    )  # fmt: skip
    paragraphs = render_answer(answer).split("\n\n")
    assert paragraphs[0] == texts.ANSWER_UNKNOWN_PARTIAL
    assert texts.ANSWER_UNKNOWN not in paragraphs
    plain = render_answer(Answer(question="q", text="x", confident=True, outcome="unknown"))
    assert plain.split("\n\n")[0] == texts.ANSWER_UNKNOWN


def test_a_source_only_partly_in_the_library_says_so() -> None:
    partial = Citation(title="Quy chế", number="29/2014/QĐ-UBND", doc_type="decision",
                       status="superseded", doc_id="qd29", complete=False)  # fmt: skip
    whole = Citation(title="Nghị định", number="45/2012/NĐ-CP", doc_type="decree", doc_id="nd45")
    shown = render_answer(
        Answer(question="q", text="x", confident=True, citations=[partial, whole])
    )
    assert shown.count(texts.NOTICE_PARTIAL) == 1  # under the partial text only
    assert "⚠️ Quyết định 29/2014/QĐ-UBND đã hết hiệu lực." in shown
    header = "Số: 29/2014/QĐ-UBND | Đồng Tháp, ngày 02 tháng 12 năm 2014"
    doc = DocumentMeta(doc_id="qd29", title="Quy chế", doc_type="decision",
                       number="29/2014/QĐ-UBND", complete=False)  # fmt: skip
    record = passage_record(_passage(doc, header, ()))
    assert texts.NOTICE_PARTIAL in record["notice"]
    assert passage_record(_passage(ND45, header, ()))["notice"].count("ℹ️") == 1  # amended only
