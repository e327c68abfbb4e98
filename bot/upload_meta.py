"""An upload's metadata: what the file says about itself, and the admin's corrections.

The admin answers either "Tiêu đề | Số hiệu | Ngày (dd/mm/yyyy)" or one "trường: giá trị" per
line; a text that fits neither raises `MetaFormatError` carrying the reply to send.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import texts
from index.dates import parse_vn_date
from index.textnorm import fold_words
from index.uploads import safe_file_name

if TYPE_CHECKING:
    from index.schema import DocumentMeta

MAX_TITLE_CHARS = 300


@dataclass(slots=True)
class UploadMeta:
    """What the admin typed for an upload."""

    title: str
    number: str | None = None
    issued: str | None = None  # ISO date

    def as_yaml_mapping(self) -> dict[str, str]:
        """The keys understood by index.documents (sidecar or front matter)."""
        values = {"title": self.title}
        if self.number:
            values["number"] = self.number
        if self.issued:
            values["issued"] = self.issued
        return values


class MetaFormatError(ValueError):
    """The metadata text does not follow "Tiêu đề | Số hiệu | Ngày" or "trường: giá trị"."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


_EMPTY_MARKERS = {"", "-", "–", "—", "không", "khong", "không có", "khong co"}
#: "trường: giá trị" corrections: folded field name -> metadata key.
_FIELD_NAMES = {
    "tieu de": "title",
    "ten": "title",
    "title": "title",
    "so": "number",
    "so hieu": "number",
    "number": "number",
    "loai": "doc_type",
    "loai van ban": "doc_type",
    "co quan": "issuer",
    "co quan ban hanh": "issuer",
    "issuer": "issuer",
    "ngay": "issued",
    "ngay ban hanh": "issued",
    "issued": "issued",
    "hieu luc": "effective",
    "ngay hieu luc": "effective",
    "hieu luc tu": "effective",
    "effective": "effective",
    "tinh": "province",
}
_DATE_KEYS = frozenset({"issued", "effective"})


def parse_upload_meta(text: str) -> UploadMeta:
    """Parses "Tiêu đề | Số hiệu | Ngày (dd/mm/yyyy)"; number and date may be left out.

    Raises MetaFormatError with the reply to send when the text does not fit.
    """
    parts = [part.strip() for part in text.split("|")]
    if len(parts) > 3 or not parts[0] or len(parts[0]) > MAX_TITLE_CHARS:
        raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_META)
    title = " ".join(parts[0].split())
    number = parts[1] if len(parts) > 1 and parts[1].lower() not in _EMPTY_MARKERS else None
    issued: str | None = None
    if len(parts) > 2 and parts[2].lower() not in _EMPTY_MARKERS:
        issued = _parse_day(parts[2])
        if issued is None:
            raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_DATE.format(value=html.escape(parts[2])))
    return UploadMeta(title=title, number=number, issued=issued)


def _doc_type_value(value: str) -> str | None:
    wanted = fold_words(value)
    for key, name in texts.DOC_TYPE_NAMES.items():
        if wanted in (key.replace("_", " "), fold_words(name)):
            return key
    return None


def parse_meta_corrections(text: str) -> dict[str, str]:
    """Parses one "trường: giá trị" per line ("số: 45/2012/NĐ-CP", "hiệu lực: 05/07/2012").

    Raises MetaFormatError with the reply to send when a line does not fit.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        key = _FIELD_NAMES.get(fold_words(name).strip())
        value = " ".join(value.split())
        if not colon or key is None or not value or len(value) > MAX_TITLE_CHARS:
            raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_META)
        if key in _DATE_KEYS:
            day = _parse_day(value)
            if day is None:
                raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_DATE.format(value=html.escape(value)))
            value = day
        elif key == "doc_type":
            doc_type = _doc_type_value(value)
            if doc_type is None:
                raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_TYPE.format(value=html.escape(value)))
            value = doc_type
        values[key] = value
    if not values:
        raise MetaFormatError(texts.ADMIN_UPLOAD_BAD_META)
    return values


def parse_admin_meta(text: str, found: dict[str, Any]) -> dict[str, Any]:
    """The metadata to store: what was found in the file, corrected by what the admin typed.

    "Tiêu đề | Số hiệu | Ngày" replaces title, number and date; "trường: giá trị" lines
    correct single fields. Raises MetaFormatError with the reply to send.
    """
    first = text.strip().splitlines()[0] if text.strip() else ""
    key = fold_words(first.partition(":")[0]).strip()
    if ":" in first and key in _FIELD_NAMES and "|" not in text:
        return {**found, **parse_meta_corrections(text)}
    meta = parse_upload_meta(text)
    values = {k: v for k, v in found.items() if k not in ("title", "number", "issued")}
    return {**values, **meta.as_yaml_mapping()}


def _parse_day(value: str) -> str | None:
    day = parse_vn_date(value)
    return day.isoformat() if day is not None else None


def found_values(meta: DocumentMeta, name: str) -> dict[str, Any]:
    """The editable metadata found in an upload (the file name is not worth keeping)."""
    values: dict[str, Any] = {
        "title": meta.title,
        "doc_type": meta.doc_type,
        "number": meta.number,
        "issuer": meta.issuer,
        "issued": meta.issued,
        "effective": meta.effective,
    }
    if meta.title == Path(safe_file_name(name)).stem:
        values.pop("title")
    if meta.doc_type == "news" and not meta.number:
        values.pop("doc_type")  # the default type, not something found
    return {key: value for key, value in values.items() if value}
