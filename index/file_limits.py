"""Resource limits checked before and while a document is parsed, so a bomb never gets in.

A DOCX is a zip archive: a 1 MB file can inflate to gigabytes, and python-docx would read
it all into memory (measured on main before this check: +2.0 GB RSS for a 1 MB bomb). The
zip central directory declares every entry's inflated size, and `zipfile` never returns
more than the declared size of an entry, so summing the declarations bounds the memory
that parsing can take. PDF streams are bounded by pypdf itself (75 MB per stream); pages
and extracted characters are capped here.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentError


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """How large a document may be, on disk and once unpacked (see `Settings`)."""

    #: Largest source file on disk, in MB.
    max_file_mb: int = 50
    #: Declared inflated size of all entries of a zip-based file (DOCX), in MB.
    max_inflated_mb: int = 200
    #: Entries of a zip-based file.
    max_zip_entries: int = 2000
    #: Pages of a PDF.
    max_pdf_pages: int = 1000
    #: Characters of text extracted from one document.
    max_chars: int = 3_000_000


def check_file_size(path: Path, limits: DocumentLimits) -> None:
    """Refuses a file larger than `max_file_mb`.

    Raises:
        DocumentError: The file is too large.
    """
    size = path.stat().st_size
    if size > limits.max_file_mb * 1024 * 1024:
        raise DocumentError(
            f"{path.name}: tệp quá lớn ({size / 1024 / 1024:.1f} MB, tối đa "
            f"{limits.max_file_mb} MB)."
        )


def check_zip(path: Path, limits: DocumentLimits) -> None:
    """Refuses a zip-based file (DOCX) whose entries are too many or inflate too much.

    Only the central directory is read; nothing is decompressed.

    Raises:
        DocumentError: Not a zip file, or over a limit (a "zip bomb").
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        kind = path.suffix.lstrip(".").upper() or "nén"
        raise DocumentError(f"{path.name}: không đọc được tệp {kind} (tệp hỏng?): {exc}") from exc
    if len(entries) > limits.max_zip_entries:
        raise DocumentError(
            f"{path.name}: tệp chứa quá nhiều thành phần ({len(entries)}, tối đa "
            f"{limits.max_zip_entries}); có thể là tệp độc hại nên đã bị từ chối."
        )
    inflated = sum(entry.file_size for entry in entries)
    if inflated > limits.max_inflated_mb * 1024 * 1024:
        raise DocumentError(
            f"{path.name}: tệp khi giải nén quá lớn ({inflated / 1024 / 1024:.0f} MB, tối đa "
            f"{limits.max_inflated_mb} MB); có thể là tệp độc hại (zip bomb) nên đã bị từ chối."
        )


def check_pdf_pages(name: str, pages: int, limits: DocumentLimits) -> None:
    """Refuses a PDF with more pages than `max_pdf_pages`.

    Raises:
        DocumentError: Too many pages.
    """
    if pages > limits.max_pdf_pages:
        raise DocumentError(
            f"{name}: tệp PDF có {pages} trang, vượt giới hạn {limits.max_pdf_pages} trang."
        )


def check_chars(name: str, chars: int, limits: DocumentLimits) -> None:
    """Refuses a document whose extracted text is longer than `max_chars`.

    Raises:
        DocumentError: Too much text.
    """
    if chars > limits.max_chars:
        raise DocumentError(
            f"{name}: nội dung quá dài (hơn {limits.max_chars:,} ký tự); vui lòng tách tài "
            "liệu thành các tệp nhỏ hơn."
        )
