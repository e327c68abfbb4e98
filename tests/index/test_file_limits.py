"""Resource limits: a real zip bomb is refused before it inflates; PDFs and texts are capped."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest

from index.documents import load_document
from index.errors import DocumentError
from index.file_limits import DocumentLimits
from index.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Inflated size of the bomb's document.xml: past the 200 MB default cap.
BOMB_MB = 300


def small_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Hỗ trợ đào tạo nghề cho lao động nông thôn tại xã Tà Xùa.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_bomb(path: Path, inflated_mb: int = BOMB_MB) -> None:
    """A valid DOCX whose document.xml is padded with whitespace to `inflated_mb` MB.

    Whitespace between XML elements is legal, so a parser without a cap would read all of
    it into memory; deflated it is about a thousandth of that on disk.
    """
    source = zipfile.ZipFile(io.BytesIO(small_docx()))
    body = source.read("word/document.xml")
    head, tail = body.split(b"<w:body>", 1)
    block = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info, source.read(info))
        with bomb.open("word/document.xml", "w", force_zip64=True) as handle:
            handle.write(head + b"<w:body>")
            for _ in range(inflated_mb):
                handle.write(block)
            handle.write(tail)


def test_zip_bomb_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    write_bomb(path)
    assert path.stat().st_size < 2 * 1024 * 1024  # a small upload…
    declared = sum(info.file_size for info in zipfile.ZipFile(path).infolist())
    assert declared > BOMB_MB * 1024 * 1024  # …that inflates to hundreds of MB
    with pytest.raises(DocumentError, match="zip bomb") as caught:
        load_document(path)
    assert "giải nén quá lớn" in str(caught.value)


def test_zip_bomb_keeps_memory_bounded(tmp_path: Path) -> None:
    """Peak RSS of a process that tries the bomb stays near that of a small DOCX.

    Measured without the cap: a 100 MB bomb of this shape raised peak RSS by 195 MB before
    lxml gave up, so 300 MB would cost far more than the 32 MB allowed here.
    """
    bomb, small = tmp_path / "bomb.docx", tmp_path / "small.docx"
    write_bomb(bomb)
    small.write_bytes(small_docx())
    script = f"""
import json, resource
from pathlib import Path
from index.documents import load_document
from index.errors import DocumentError
load_document(Path({str(small)!r}))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_document(Path({str(bomb)!r}))
    refused = False
except DocumentError:
    refused = True
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"before_kb": before, "after_kb": after, "refused": refused}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["refused"]
    growth_mb = (measured["after_kb"] - measured["before_kb"]) / 1024
    # Inflating the XML would cost at least BOMB_MB (lxml holds several copies).
    assert growth_mb < 32, measured


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(60):
            archive.writestr(f"word/media/{n}.txt", b"x")
    with pytest.raises(DocumentError, match="quá nhiều thành phần"):
        load_document(path, limits=DocumentLimits(max_zip_entries=50))


def test_settings_carry_the_limits() -> None:
    settings = Settings(max_inflated_mb=5, max_pdf_pages=7, max_document_chars=5000)
    limits = settings.document_limits
    assert (limits.max_inflated_mb, limits.max_pdf_pages, limits.max_chars) == (5, 7, 5000)
    assert Settings().document_limits == DocumentLimits()


def test_pdf_pages_are_capped(tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=12)
    for n in range(5):
        pdf.add_page()
        pdf.cell(text=f"Page {n} about industrial promotion support for rural workshops.")
    path = tmp_path / "dai.pdf"
    pdf.output(str(path))
    assert load_document(path, limits=DocumentLimits(max_pdf_pages=5))[1]
    with pytest.raises(DocumentError, match="5 trang, vượt giới hạn 3"):
        load_document(path, limits=DocumentLimits(max_pdf_pages=3))
    with pytest.raises(DocumentError, match="nội dung quá dài"):
        load_document(path, limits=DocumentLimits(max_chars=100))


def test_text_and_file_size_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "dai.txt"
    path.write_text("Hỗ trợ khuyến công cho cơ sở công nghiệp nông thôn. " * 400, "utf-8")
    with pytest.raises(DocumentError, match="nội dung quá dài"):
        load_document(path, limits=DocumentLimits(max_chars=1000))
    big = tmp_path / "to.txt"
    big.write_bytes(b"a" * (2 * 1024 * 1024 + 1))
    with pytest.raises(DocumentError, match="tệp quá lớn"):
        load_document(big, limits=DocumentLimits(max_file_mb=2))
