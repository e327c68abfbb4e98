"""Legal structure: articles, clauses and points in every format, chunked along them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
import pytest

from index.blocks import markdown_lines
from index.chunking import CHUNKER_VERSION, PASSAGE_PREFIX, chunk_document, make_token_counter
from index.documents import load_document
from index.legal import article_label, is_legal_text, parse_legal
from index.schema import DocumentMeta

DECREE = DocumentMeta(doc_id="nd.md", title="Nghị định về khuyến công", doc_type="decree")

#: Inline numbering as PDF, DOCX and TXT texts have it (no Markdown at all).
INLINE = """ỦY BAN NHÂN DÂN TỈNH LÀO CAI
Số: 12/2026/QĐ-UBND
Lào Cai, ngày 15 tháng 3 năm 2026
QUYẾT ĐỊNH
BAN HÀNH QUY ĐỊNH MỨC HỖ TRỢ KHUYẾN CÔNG
Căn cứ Nghị định số 45/2012/NĐ-CP ngày 21 tháng 5 năm 2012 của Chính phủ;
Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
1. Quyết định này quy định mức hỗ trợ cho các cơ sở công nghiệp nông thôn
trên địa bàn tỉnh Lào Cai.
2. Đối tượng áp dụng gồm:
a) Doanh nghiệp nhỏ và vừa;
b) Hợp tác xã, tổ hợp tác;
c) Hộ kinh doanh.
Điều 2. Mức hỗ trợ
Hỗ trợ tối đa 50% chi phí mua máy móc thiết bị, không quá 300 triệu đồng/cơ sở.
Điều 3. Hiệu lực thi hành
Quyết định này có hiệu lực kể từ ngày 01 tháng 4 năm 2026.
"""


def _paths(text: str, meta: DocumentMeta = DECREE, **kwargs: Any) -> list[tuple[str, ...]]:
    return [chunk.path for chunk in chunk_document(meta, text, **kwargs)]


def test_chunker_version_was_bumped_for_legal_chunks() -> None:
    assert CHUNKER_VERSION >= 2


def test_inline_numbering_is_parsed_into_articles_clauses_and_points() -> None:
    legal = parse_legal(markdown_lines(INLINE))
    assert [a.label for a in legal.articles] == ["Điều 1", "Điều 2", "Điều 3"]
    first = legal.articles[0]
    assert first.divisions == ("Chương I",)
    assert first.division_headings == ("Chương I. QUY ĐỊNH CHUNG",)
    assert [c.label for c in first.clauses] == ["Khoản 1", "Khoản 2"]
    assert [p.label for p in first.clauses[1].points] == ["Điểm a", "Điểm b", "Điểm c"]
    # A soft-wrapped PDF line is joined back into its clause.
    assert first.clauses[0].lines[0].text.endswith("trên địa bàn tỉnh Lào Cai.")
    assert any("Căn cứ" in line.text for line in legal.preamble)


def test_markdown_headings_as_in_the_corpus() -> None:
    text = (
        "# 45/2012/NĐ-CP — Nghị định về khuyến công\n\n## Chương II. CHÍNH SÁCH KHUYẾN CÔNG\n\n"
        "### Điều 5. Danh mục ngành, nghề\n\n1. Công nghiệp chế biến nông, lâm, thủy sản.\n\n"
        "   - a) Sản xuất hàng thủ công mỹ nghệ;\n\n   - b) Khai thác, chế biến khoáng sản.\n\n"
        "2. Căn cứ tình hình phát triển kinh tế - xã hội.\n"
    )
    legal = parse_legal(markdown_lines(text))
    (article,) = legal.articles
    assert article.path == ("Chương II", "Điều 5")
    assert article.heading == "Điều 5. Danh mục ngành, nghề"
    assert [p.label for p in article.clauses[0].points] == ["Điểm a", "Điểm b"]
    assert article.doc_headings == ("45/2012/NĐ-CP — Nghị định về khuyến công",)


def test_numbering_out_of_sequence_is_content_not_structure() -> None:
    text = (
        "Điều 1. Hồ sơ\n1. Hồ sơ gồm:\na) Đơn đề nghị;\nb) Bản sao giấy phép.\n"
        "1. Một danh sách đánh số lại từ đầu\nc) điểm tiếp theo\n"
        "Điều 1. Điều này trích dẫn lại, không phải điều mới.\nĐiều 2. Điều khoản thi hành\n"
    )
    legal = parse_legal(markdown_lines(text))
    assert [a.label for a in legal.articles] == ["Điều 1", "Điều 2"]
    (clause,) = legal.articles[0].clauses
    assert [p.label for p in clause.points] == ["Điểm a", "Điểm b", "Điểm c"]
    assert "Một danh sách" in clause.points[1].lines[-1].text
    assert "trích dẫn lại" in clause.points[2].lines[-1].text


def test_running_text_mentioning_a_chapter_is_no_division() -> None:
    text = "Điều 1. Phạm vi\nChương I của Nghị định này quy định chung.\nĐiều 2. Khác\nNội dung."
    legal = parse_legal(markdown_lines(text))
    assert legal.articles[0].divisions == ()
    assert "Chương I của" in legal.articles[0].lines[0].text


def test_guides_and_news_keep_the_generic_chunker() -> None:
    one_article = parse_legal(markdown_lines("Điều 3. Nội dung\nHỗ trợ đào tạo nghề."))
    assert not is_legal_text("guide", one_article)
    assert not is_legal_text("news", one_article)
    assert is_legal_text("decision", one_article)
    guide = DocumentMeta(doc_id="g.md", title="Hướng dẫn", doc_type="guide")
    assert all(path == () for path in _paths(INLINE, guide))


def test_article_label_for_citations() -> None:
    assert article_label(("Chương II", "Điều 5", "Khoản 1")) == "Điều 5 khoản 1"
    assert article_label(("Điều 6", "Khoản 2", "Điểm c")) == "Điều 6 khoản 2 điểm c"
    assert article_label(("Điều 2", "Khoản 1–3")) == "Điều 2 khoản 1–3"
    assert article_label(()) is None
    assert article_label(("Chương I",)) is None


def test_short_articles_are_one_chunk_each_and_never_merged() -> None:
    chunks = chunk_document(DECREE, INLINE)
    by_path = {c.path: c for c in chunks}
    assert ("Chương I", "Điều 2") in by_path and ("Chương I", "Điều 3") in by_path
    article_two = by_path[("Chương I", "Điều 2")]
    assert "300 triệu" in article_two.text and "hiệu lực" not in article_two.text
    for chunk in chunks:
        assert sum(1 for a in ("Phạm vi điều chỉnh", "Mức hỗ trợ", "Hiệu lực") if a in
                   " ".join(chunk.heading_path)) <= 1  # fmt: skip
    # The citation can name the article: the heading is the chunk's context.
    assert article_two.heading_path[-1] == "Điều 2. Mức hỗ trợ"
    assert "Điều 2. Mức hỗ trợ" in article_two.index_text.split("\n", 1)[0]
    # The document number is named in the context once no heading holds it.
    meta = DocumentMeta(doc_id="qd.txt", title="Quyết định", doc_type="decision", number="12/QĐ")
    assert all("12/QĐ" in c.index_text for c in chunk_document(meta, INLINE) if c.path)


def _long_article() -> str:
    clause = (
        "Cơ sở công nghiệp nông thôn được hỗ trợ kinh phí xây dựng mô hình trình diễn kỹ "
        "thuật theo quy định của Bộ Công Thương và Ủy ban nhân dân cấp tỉnh. "
    )
    points = "\n".join(f"{letter}) {clause * 2}" for letter in "abcdđeg")
    return (
        f"Điều 4. Nội dung hoạt động\n1. {clause}\n2. Hỗ trợ gồm các nội dung sau:\n{points}\n"
        f"3. {clause}\nĐiều 5. Kinh phí\n{clause}\n"
    )


def test_long_article_is_cut_at_clauses_and_points() -> None:
    chunks = chunk_document(DECREE, _long_article(), max_tokens=200, target_tokens=150)
    paths = [c.path for c in chunks]
    assert ("Điều 4", "Khoản 1") in paths
    point_paths = [p for p in paths if len(p) == 3]
    assert point_paths and all(p[1] == "Khoản 2" and p[2].startswith("Điểm ") for p in point_paths)
    # Each point piece carries the clause's lead-in as context.
    piece = next(c for c in chunks if len(c.path) == 3)
    assert piece.heading_path[-1].startswith("2. Hỗ trợ gồm")
    assert ("Điều 5",) in paths
    assert not any("Điều 5" in c.path and "Khoản 1" in c.path for c in chunks)
    # No point is split while it fits: every point's text sits in exactly one chunk.
    for letter in "abcdđeg":
        assert sum(1 for c in chunks if f"\n{letter}) " in f"\n{c.text}") == 1


def test_small_clauses_of_one_article_are_packed_whole() -> None:
    text = "Điều 1. Giải thích\n" + "\n".join(
        f"{n}. Thuật ngữ số {n} được hiểu là một khái niệm trong quy chế." for n in range(1, 9)
    )
    chunks = chunk_document(DECREE, text, max_tokens=120, target_tokens=90)
    assert len(chunks) > 1
    labels = [c.path[-1] for c in chunks]
    assert all(label.startswith("Khoản ") for label in labels)
    assert any("–" in label for label in labels)  # "Khoản 1–3": several whole clauses
    texts = "\n".join(c.text for c in chunks)
    assert all(texts.count(f"\n{n}. Thuật") + texts.startswith(f"{n}. ") == 1 for n in range(1, 9))


def test_tables_in_articles_stay_rows_and_repeat_their_header() -> None:
    rows = "\n".join(
        f"| Nội dung hỗ trợ số {n} cho cơ sở | {n * 10}% | tối đa {n * 50} triệu đồng |"
        for n in range(1, 15)
    )
    text = f"Điều 6. Mức chi\n\n| Nội dung | Tỷ lệ | Mức tối đa |\n|---|---|---|\n{rows}\n"
    chunks = chunk_document(DECREE, text, max_tokens=160, target_tokens=120)
    assert len(chunks) > 1
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[0] == "Nội dung | Tỷ lệ | Mức tối đa"
        assert all(line.count(" | ") == 2 for line in lines)
        assert chunk.path == ("Điều 6",)
    shown = "\n".join(c.text for c in chunks)
    assert all(f"Nội dung hỗ trợ số {n} cho cơ sở | {n * 10}%" in shown for n in range(1, 15))


@pytest.mark.slow
def test_legal_chunks_fit_the_model_window(embedding_model: Any) -> None:
    tokenizer = embedding_model.tokenizer
    count = make_token_counter(tokenizer)
    text = _long_article() * 3 + INLINE
    for chunk in chunk_document(DECREE, text, tokenizer=tokenizer, max_tokens=400):
        assert count(PASSAGE_PREFIX + chunk.index_text) <= 400


# --- every format ----------------------------------------------------------------------------


def _docx(path: Path) -> None:
    document = docx.Document()
    for line in INLINE.splitlines():
        if line.startswith("Điều 2"):
            document.add_heading(line, level=2)
        else:
            document.add_paragraph(line)
    table = document.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Nội dung", "Mức"), ("Máy móc", "50%"), ("Đào tạo", "100%")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    document.add_paragraph("Điều 4. Tổ chức thực hiện")
    document.add_paragraph("Sở Công Thương chủ trì thực hiện.")
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())


def _pdf(path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.is_file():
        pytest.skip("no Unicode TTF font to write Vietnamese into a PDF")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(font))
    pdf.set_font("DejaVu", size=11)
    for line in INLINE.splitlines():
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def _html(path: Path) -> None:
    body = "".join(
        f"<h3>{line}</h3>" if line.startswith("Điều") else f"<p>{line}</p>"
        for line in INLINE.splitlines()
    )
    path.write_text(f"<html><body><article>{body}</article></body></html>", encoding="utf-8")


@pytest.mark.parametrize("suffix", [".md", ".txt", ".docx", ".pdf", ".html"])
def test_every_format_gives_article_chunks(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"quyet-dinh{suffix}"
    if suffix in (".md", ".txt"):
        path.write_text(INLINE, encoding="utf-8")
    else:
        {".docx": _docx, ".pdf": _pdf, ".html": _html}[suffix](path)
    meta, text = load_document(path)
    assert meta.number == "12/2026/QĐ-UBND" and meta.doc_type == "decision"
    chunks = chunk_document(meta, text)
    paths = {c.path for c in chunks}
    assert ("Chương I", "Điều 1") in paths or ("Chương I", "Điều 1", "Khoản 2") in paths, paths
    assert any(p[-1:] == ("Điều 2",) for p in paths), paths
    article_one = "\n".join(c.text for c in chunks if "Điều 1" in c.path)
    assert "a) Doanh nghiệp nhỏ và vừa;" in article_one
    assert "\nb) Hợp tác xã" in article_one  # points stay one per line
    if suffix == ".docx":
        table = next(c for c in chunks if "Máy móc | 50%" in c.text)
        assert "Nội dung | Mức\nMáy móc | 50%\nĐào tạo | 100%" in table.text
        assert any(p[-1:] == ("Điều 4",) for p in paths)
