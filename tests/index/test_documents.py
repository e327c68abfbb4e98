"""Tests for index.documents: every format, sidecar metadata, and the broken-file guard."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from index.documents import content_hash, iter_source_files, load_document
from index.errors import DocumentError

BODY = "Chương trình khuyến công hỗ trợ cơ sở công nghiệp nông thôn xây dựng mô hình trình diễn."


def _write_pdf(path: Path, text: str, title: str | None = None) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    if title:
        pdf.set_title(title)
    pdf.output(str(path))


def test_markdown_front_matter_and_doc_id(tmp_path: Path) -> None:
    path = tmp_path / "guides" / "qd.md"
    path.parent.mkdir()
    path.write_text(
        "---\ntitle: Quyết định 2665\ndoc_type: decision\nnumber: 2665/QĐ-UBND\n"
        "issued: 2021-08-16\n---\n# Quyết định 2665\n\n" + BODY,
        encoding="utf-8",
    )
    meta, text = load_document(path, root=tmp_path)
    assert meta.doc_id == "guides/qd.md"
    assert meta.title == "Quyết định 2665"
    assert meta.number == "2665/QĐ-UBND"
    assert meta.issued == "2021-08-16"  # YAML date -> ISO string
    assert meta.doc_type == "decision"
    assert text.startswith("# Quyết định 2665")
    assert "---" not in text


def test_markdown_without_title_uses_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Tiêu đề bài viết\n\n" + BODY, encoding="utf-8")
    meta, _ = load_document(path, root=tmp_path)
    assert meta.title == "Tiêu đề bài viết"


def test_text_is_nfc_normalised(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(unicodedata.normalize("NFD", BODY), encoding="utf-8")
    meta, text = load_document(path, root=tmp_path)
    assert text == BODY
    assert meta.title == "a"  # no metadata: the file stem


def test_txt_sidecar_metadata(tmp_path: Path) -> None:
    path = tmp_path / "tin.txt"
    path.write_text(BODY, encoding="utf-8")
    (tmp_path / "tin.txt.meta.yaml").write_text(
        "title: Tin khuyến công\nurl: https://example.vn/tin\n", encoding="utf-8"
    )
    meta, _ = load_document(path, root=tmp_path)
    assert meta.title == "Tin khuyến công"
    assert meta.url == "https://example.vn/tin"


def test_pdf_text_and_title(tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    _write_pdf(path, "Industrial promotion plan supports rural industry workshops.", "PDF Plan")
    meta, text = load_document(path, root=tmp_path)
    assert "rural industry" in text
    assert meta.title == "PDF Plan"


def test_pdf_sidecar_overrides_file_title(tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    _write_pdf(path, "Industrial promotion plan supports rural industry workshops.", "PDF Plan")
    (tmp_path / "plan.pdf.meta.yaml").write_text("title: Kế hoạch khuyến công\n", encoding="utf-8")
    meta, _ = load_document(path, root=tmp_path)
    assert meta.title == "Kế hoạch khuyến công"


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Hướng dẫn hồ sơ"
    document.add_heading("Hồ sơ đề nghị hỗ trợ", level=1)
    document.add_paragraph(BODY)
    document.add_heading("Thành phần", level=2)
    document.add_paragraph("Đơn đề nghị hỗ trợ", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Nội dung"
    table.cell(0, 1).text = "Mức hỗ trợ"
    table.cell(1, 0).text = "Máy móc"
    table.cell(1, 1).text = "50%"
    path = tmp_path / "hd.docx"
    document.save(str(path))
    meta, text = load_document(path, root=tmp_path)
    assert meta.title == "Hướng dẫn hồ sơ"
    assert "# Hồ sơ đề nghị hỗ trợ" in text.splitlines()
    assert "## Thành phần" in text.splitlines()
    assert "- Đơn đề nghị hỗ trợ" in text.splitlines()
    assert "Máy móc | 50%" in text


def test_html_extracts_article_text(tmp_path: Path) -> None:
    path = tmp_path / "tin.html"
    paragraphs = "".join(f"<p>{BODY} Đoạn số {i}.</p>" for i in range(4))
    path.write_text(
        "<html><head><title>Tin khuyến công</title></head><body><nav>Trang chủ</nav>"
        f"<article><h1>Tin khuyến công</h1>{paragraphs}</article></body></html>",
        encoding="utf-8",
    )
    meta, text = load_document(path, root=tmp_path)
    assert meta.title == "Tin khuyến công"
    assert "mô hình trình diễn" in text


@pytest.mark.parametrize("name", ["broken.pdf", "broken.docx"])
def test_corrupt_binary_files_raise(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not really a " + name.encode() + b" file \x00\x01\x02")
    with pytest.raises(DocumentError, match=name):
        load_document(path, root=tmp_path)


@pytest.mark.parametrize("content", ["", "   \n\n", "ok 123"])
def test_empty_or_letterless_files_raise(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.md"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError, match="không có nội dung"):
        load_document(path, root=tmp_path)


def test_pdf_without_text_raises(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    pdf = FPDF()
    pdf.add_page()
    pdf.output(str(path))
    with pytest.raises(DocumentError):
        load_document(path, root=tmp_path)


def test_bad_front_matter_yaml_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n" + BODY, encoding="utf-8")
    with pytest.raises(DocumentError, match="YAML"):
        load_document(path, root=tmp_path)


def test_bad_sidecar_yaml_raises(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(BODY, encoding="utf-8")
    (tmp_path / "a.txt.meta.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="YAML"):
        load_document(path, root=tmp_path)


def test_unsupported_suffix_raises(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(DocumentError, match="định dạng"):
        load_document(path, root=tmp_path)


def test_iter_source_files_skips_meta_hidden_and_readme(tmp_path: Path) -> None:
    for name in ["b.md", "a.txt", "c.pdf", "d.docx", "e.html", "README.md", "criteria.yaml",
                 "c.pdf.meta.yaml", ".hidden.md", "notes.csv"]:  # fmt: skip
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "README.md").write_text("x", encoding="utf-8")
    names = [p.relative_to(tmp_path).as_posix() for p in iter_source_files(tmp_path)]
    assert names == ["a.txt", "b.md", "c.pdf", "d.docx", "e.html", "sub/README.md"]


def test_content_hash_covers_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(BODY, encoding="utf-8")
    before = content_hash(path)
    assert content_hash(path) == before
    (tmp_path / "a.txt.meta.yaml").write_text("title: X\n", encoding="utf-8")
    with_sidecar = content_hash(path)
    assert with_sidecar != before
    path.write_text(BODY + " thêm", encoding="utf-8")
    assert content_hash(path) != with_sidecar


@pytest.mark.parametrize(
    ("written", "complete"),
    [("complete: false", False), ("complete: không", False), ("complete: true", True), ("", True)],
)
def test_complete_flag_from_front_matter(tmp_path: Path, written: str, complete: bool) -> None:
    path = tmp_path / "qd.md"
    path.write_text(
        f"---\ntitle: Quyết định 29\ndoc_type: decision\n{written}\n---\n# Quyết định 29\n\n"
        + BODY,
        encoding="utf-8",
    )
    meta, _ = load_document(path, root=tmp_path)
    assert meta.complete is complete
