"""Loading source documents (Markdown, text, PDF, DOCX, HTML) into metadata and plain text.

`load_document` is the guard that keeps a broken upload out of the index: anything that
cannot be parsed, or that holds no usable text, raises `DocumentError` with a message an
admin can act on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from index import yaml_text
from index.dates import to_iso_date
from index.errors import DocumentError
from index.file_limits import (
    DocumentLimits,
    check_chars,
    check_file_size,
    check_pdf_pages,
    check_zip,
)
from index.header_meta import read_header
from index.schema import RELATION_FIELDS, DocumentMeta
from index.textnorm import nfc

#: File types that the index reads, by lower-case suffix.
SOURCE_SUFFIXES: frozenset[str] = frozenset({".md", ".txt", ".pdf", ".docx", ".html", ".htm"})
#: Sidecar metadata for non-Markdown files: `quyet-dinh.pdf` -> `quyet-dinh.pdf.meta.yaml`.
SIDECAR_SUFFIX = ".meta.yaml"
#: A document with fewer letters than this is treated as empty (a scanned PDF, a blank file).
MIN_LETTERS = 20

_META_FIELDS = frozenset(f.name for f in dataclasses.fields(DocumentMeta)) - {"doc_id", "path"}
_DATE_FIELDS = frozenset({"issued", "effective", "expired_on"})
#: How a hand-written `complete:` value says no.
_FALSE_WORDS = frozenset({"false", "no", "0", "không", "khong"})
_SKIPPED_NAMES = frozenset({"criteria.yaml", "readme.md"})
#: Types whose metadata is never read from a legal header (news, our own guides).
_NO_HEADER_TYPES = frozenset({"news", "guide"})

#: What a loader returns: metadata the file states (front matter), metadata it suggests
#: (a PDF /Title, the first heading), and the body text.
Loaded = tuple[dict[str, Any], dict[str, Any], str]


def iter_source_files(knowledge_dir: Path) -> list[Path]:
    """Lists the source documents under the knowledge directory, sorted by path.

    Hidden files and directories, sidecar metadata, `criteria.yaml` and a top-level
    `README.md` are skipped.

    Args:
        knowledge_dir: Root of the knowledge base.

    Returns:
        Paths of the documents to index.
    """
    if not knowledge_dir.is_dir():
        return []
    files: list[Path] = []
    for path in knowledge_dir.rglob("*"):
        relative = path.relative_to(knowledge_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() not in SOURCE_SUFFIXES:
            continue
        if len(relative.parts) == 1 and path.name.lower() in _SKIPPED_NAMES:
            continue
        files.append(path)
    return sorted(files, key=lambda p: p.relative_to(knowledge_dir).as_posix())


def sidecar_path(path: Path) -> Path:
    """Returns where the sidecar metadata of a non-Markdown document lives.

    Args:
        path: The document file.

    Returns:
        `<file name>.meta.yaml` next to the file.
    """
    return path.with_name(path.name + SIDECAR_SUFFIX)


def content_hash(path: Path) -> str:
    """Hashes a document together with its sidecar metadata, to detect changes.

    Args:
        path: The document file.

    Returns:
        Hex SHA-256 of the file bytes followed by the sidecar bytes (when present).
    """
    digest = hashlib.sha256(path.read_bytes())
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        digest.update(b"\x00sidecar\x00")
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def _doc_id(path: Path, root: Path | None) -> str:
    if root is None:
        return path.name
    # Same rule as the build's hash map: relative to the root as given, resolved as a fallback.
    for candidate, base in ((path, root), (path.absolute(), root.absolute())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _clean_meta(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _META_FIELDS or value is None:
            continue
        if key in _DATE_FIELDS:
            # "unknown" or an unreadable date is omitted, never shown to users.
            iso = to_iso_date(value)
            if iso is not None:
                values[key] = iso
            continue
        if key == "complete":
            # YAML gives a bool; a sidecar typed by hand may say "false" / "không".
            text = str(value).strip().lower()
            values[key] = value if isinstance(value, bool) else text not in _FALSE_WORDS
            continue
        if key in RELATION_FIELDS:
            # A relation may name one document or a list of them.
            items = value if isinstance(value, list | tuple) else [value]
            if any(isinstance(item, list | dict) for item in items):
                raise DocumentError(
                    f"{path.name}: trường '{key}' phải là một số hiệu hoặc danh sách số hiệu."
                )
            values[key] = tuple(nfc(str(item)).strip() for item in items if str(item).strip())
            continue
        elif isinstance(value, list | dict):
            raise DocumentError(
                f"{path.name}: trường '{key}' trong metadata phải là một giá trị đơn."
            )
        values[key] = nfc(str(value)).strip()
    return values


def _read_yaml_mapping(path: Path, label: str) -> dict[str, Any]:
    try:
        data = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{label}: metadata YAML không hợp lệ ({exc}).") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DocumentError(f"{label}: metadata YAML phải là một bảng khóa: giá trị.")
    return data


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path.name}: tệp không phải văn bản UTF-8.") from exc


def _load_markdown(path: Path, limits: DocumentLimits) -> Loaded:
    import frontmatter

    del limits  # the file size was checked; text length is checked on the body
    text = _read_text(path)
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise DocumentError(f"{path.name}: phần front matter YAML không hợp lệ ({exc}).") from exc
    if not isinstance(post.metadata, dict):
        raise DocumentError(f"{path.name}: front matter phải là một bảng khóa: giá trị.")
    fallback: dict[str, Any] = {}
    heading = re.search(r"^#\s+(.+)$", post.content, flags=re.MULTILINE)
    if heading:
        fallback["title"] = heading.group(1).strip()
    return dict(post.metadata), fallback, post.content


def _load_pdf(path: Path, limits: DocumentLimits) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    pages: list[str] = []
    try:
        reader = PdfReader(path)
        check_pdf_pages(path.name, len(reader.pages), limits)
        chars = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            chars += len(text)
            # Stop as soon as the text is too long: never hold more than the cap.
            check_chars(path.name, chars, limits)
            pages.append(text)
        title = reader.metadata.title if reader.metadata else None
    except DocumentError:
        raise
    except LimitReachedError as exc:  # pypdf's own decompression cap (75 MB per stream)
        raise DocumentError(
            f"{path.name}: tệp PDF chứa dữ liệu nén quá lớn; có thể là tệp độc hại nên đã "
            "bị từ chối."
        ) from exc
    # pypdf raises many unrelated types on damaged files; all mean "cannot read this PDF".
    except Exception as exc:
        raise DocumentError(f"{path.name}: không đọc được tệp PDF (tệp hỏng?): {exc}") from exc
    fallback: dict[str, Any] = {"title": title} if title and str(title).strip() else {}
    return {}, fallback, "\n\n".join(page.strip() for page in pages)


def _docx_heading_level(style_name: str) -> int | None:
    name = style_name.lower()
    if name == "title":
        return 1
    match = re.match(r"heading\s*(\d)", name)
    return int(match.group(1)) if match else None


def _markdown_table(rows: list[list[str]]) -> str:
    """Rows as a Markdown pipe table, so chunking keeps one row per line."""
    width = max(len(row) for row in rows)
    padded = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in padded]
    lines.insert(1, "|" + "---|" * width)
    return "\n".join(lines)


def _load_docx(path: Path, limits: DocumentLimits) -> Loaded:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(path, limits)  # before python-docx inflates anything
    try:
        document = docx.Document(str(path))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                text = item.text.strip()
                if not text:
                    continue
                style = item.style.name if item.style is not None and item.style.name else ""
                level = _docx_heading_level(style)
                if level is not None:
                    blocks.append(f"{'#' * level} {text}")
                elif "list" in style.lower():
                    blocks.append(f"- {text}")
                else:
                    blocks.append(text)
            elif isinstance(item, Table):
                rows = []
                for row in item.rows:
                    cells = [" ".join(cell.text.split()) for cell in row.cells]
                    # Merged cells repeat their text in python-docx; show each value once.
                    unique = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                    if unique:
                        rows.append(unique)
                if rows:
                    blocks.append(_markdown_table(rows))
        title = document.core_properties.title
    # python-docx raises zipfile/lxml/KeyError types on damaged files.
    except Exception as exc:
        raise DocumentError(f"{path.name}: không đọc được tệp DOCX (tệp hỏng?): {exc}") from exc
    fallback: dict[str, Any] = {"title": title} if title and title.strip() else {}
    return {}, fallback, "\n\n".join(blocks)


def _load_html(path: Path, limits: DocumentLimits) -> Loaded:
    import trafilatura

    del limits  # the file size bounds the markup

    html = _read_text(path)
    try:
        text = trafilatura.extract(
            html,
            output_format="markdown",
            include_tables=True,
            include_comments=False,
            favor_recall=True,
        )
        # Only the title is read: the extensive date search runs dateparser, whose first
        # call loads every locale (5.2 of the 5.4 s a first HTML file took in a process).
        metadata = trafilatura.extract_metadata(html, extensive=False)
    except Exception as exc:  # trafilatura/lxml parse failures
        raise DocumentError(f"{path.name}: không đọc được tệp HTML: {exc}") from exc
    fallback: dict[str, Any] = {}
    if metadata is not None and metadata.title:
        fallback["title"] = metadata.title
    return {}, fallback, text or ""


def _letter_count(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def load_document(
    path: Path, *, root: Path | None = None, limits: DocumentLimits | None = None
) -> tuple[DocumentMeta, str]:
    """Reads one source document into its metadata and its NFC body text.

    Metadata, strongest first: YAML front matter (Markdown) or a sidecar
    `<file name>.meta.yaml` (other formats); what the legal header of the text says
    (`index.header_meta`: number, type, title, issuer, dates); the file's own metadata (PDF
    /Title, DOCX title) or first heading; the file name. DOCX headings become `#` lines and
    its tables Markdown tables, so chunking sees structure.

    Args:
        path: The document file (.md, .txt, .pdf, .docx, .html, .htm).
        root: The knowledge root; `doc_id` is the POSIX path relative to it (the file name
            when not given).
        limits: Size limits (`Settings.document_limits`; the defaults when None).

    Returns:
        The document metadata and its body text.

    Raises:
        DocumentError: The file cannot be read or parsed, is over a size limit, its
            metadata is invalid, or it holds no usable text.
    """
    limits = limits or DocumentLimits()
    suffix = path.suffix.lower()
    if suffix not in SOURCE_SUFFIXES:
        raise DocumentError(
            f"{path.name}: định dạng {suffix or '(không có)'} chưa được hỗ trợ "
            "(chỉ nhận .md, .txt, .pdf, .docx, .html)."
        )
    if not path.is_file():
        raise DocumentError(f"{path.name}: không tìm thấy tệp.")
    check_file_size(path, limits)
    loaders = {
        ".md": _load_markdown,
        ".txt": lambda p, _: ({}, {}, _read_text(p)),
        ".pdf": _load_pdf,
        ".docx": _load_docx,
        ".html": _load_html,
        ".htm": _load_html,
    }
    stated, suggested, body = loaders[suffix](path, limits)
    if suffix != ".md":
        sidecar = sidecar_path(path)
        if sidecar.is_file():
            stated = {**stated, **_read_yaml_mapping(sidecar, sidecar.name)}
    stated_values = _clean_meta(stated, path)
    body = nfc(body).replace("\r\n", "\n").strip()
    check_chars(path.name, len(body), limits)
    if _letter_count(body) < MIN_LETTERS:
        raise DocumentError(
            f"{path.name}: tệp không có nội dung văn bản đọc được "
            "(tệp rỗng hoặc bản scan ảnh chưa nhận dạng chữ)."
        )
    header: dict[str, Any] = {}
    if stated_values.get("doc_type") not in _NO_HEADER_TYPES:
        header = _clean_meta(read_header(body), path)
    values = {**_clean_meta(suggested, path), **header, **stated_values}
    if not values.get("title"):
        values["title"] = nfc(path.stem)
    doc_id = _doc_id(path, root)
    return DocumentMeta(doc_id=doc_id, path=doc_id, **values), body
