"""Metadata read from a legal document's own header, for files without front matter.

A Vietnamese legal text carries its metadata in a fixed layout (Nghị định 30/2020/NĐ-CP on
văn thư): the issuing body top left, "Số: 45/2012/NĐ-CP", the place and date line ("Hà
Nội, ngày 21 tháng 5 năm 2012"), the type in capitals ("NGHỊ ĐỊNH"), the subject line
(trích yếu), and near the end "… này có hiệu lực (thi hành) kể từ ngày …". `read_header`
finds these; front matter and sidecars always win over what it finds.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from index.dates import parse_vn_date
from index.textnorm import fold_diacritics, legal_number_tokens

#: Title line (folded, upper case) -> document type.
TYPE_TITLES: dict[str, str] = {
    "THONG TU LIEN TICH": "joint_circular",
    "NGHI DINH": "decree",
    "THONG TU": "circular",
    "QUYET DINH": "decision",
    "NGHI QUYET": "resolution",
    "CHI THI": "directive",
    "KE HOACH": "plan",
    "HUONG DAN": "guidance",
    "LUAT": "law",
}
#: Code in a document number (folded) -> document type, when the title line is missing.
NUMBER_CODES: tuple[tuple[str, str], ...] = (
    ("ttlt", "joint_circular"),
    ("nd", "decree"),
    ("tt", "circular"),
    ("qd", "decision"),
    ("nq", "resolution"),
    ("ct", "directive"),
    ("kh", "plan"),
    ("hd", "guidance"),
)
#: How a title names each type ("Quyết định …").
TYPE_NAMES: dict[str, str] = {
    "joint_circular": "Thông tư liên tịch",
    "decree": "Nghị định",
    "circular": "Thông tư",
    "decision": "Quyết định",
    "resolution": "Nghị quyết",
    "directive": "Chỉ thị",
    "plan": "Kế hoạch",
    "guidance": "Hướng dẫn",
    "law": "Luật",
}
#: Lines of the header searched for number, date, type and subject.
HEADER_LINES = 60

_NUMBER_RE = re.compile(r"(?:^|\|)\s*Số\s*[:.]?\s*(\d{1,5}(?:/[0-9A-Za-zĐđ\-]+)+)", re.IGNORECASE)
_DATELINE_RE = re.compile(r",\s*ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", re.IGNORECASE)
_NATIONAL_MOTTO = re.compile(r"CỘNG HÒA XÃ HỘI|CỘNG HOÀ XÃ HỘI|Độc lập", re.IGNORECASE)
# The body that enacts the text, in capitals, between the subject and "Căn cứ".
_ISSUER_RE = re.compile(
    r"^(CHÍNH PHỦ|THỦ TƯỚNG|ỦY BAN|UỶ BAN|HỘI ĐỒNG|BỘ |BỘ$|CHỦ TỊCH|GIÁM ĐỐC|SỞ |TRUNG TÂM)"
)
_THIS_DOC = r"(?:nghị định|thông tư liên tịch|thông tư|quyết định|nghị quyết|chỉ thị|luật|kế hoạch)"
_EFFECT_RE = re.compile(
    _THIS_DOC + r"\s+này\s+có\s+hiệu\s+lực(?:\s+thi\s+hành)?\s*(?P<rest>[^.]*)", re.IGNORECASE
)
_FROM_DATE_RE = re.compile(
    r"(?:kể\s+)?từ\s+ngày\s+(?P<date>\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}|\d{1,2}/\d{1,2}/\d{4})",
    re.IGNORECASE,
)
_AFTER_DAYS_RE = re.compile(r"sau\s+(?P<days>\d{1,3})\s+ngày,?\s+kể\s+từ\s+ngày\s+ký", re.IGNORECASE)
_FROM_SIGNING_RE = re.compile(r"(?:kể\s+)?từ\s+ngày\s+ký", re.IGNORECASE)
_REPLACES_RE = re.compile(
    r"thay\s+thế\s+(?:cho\s+)?" + _THIS_DOC.replace("này", "") + r"\s+(?:số\s+)?(\d{1,5}(?:/[0-9A-Za-zĐđ\-]+)+)",
    re.IGNORECASE,
)
_PLACE_TAIL = re.compile(r"(tỉnh|thành phố)\s+((?:[^\W\d_]+\s*){1,4})$")


def _is_upper(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def sentence_case(text: str) -> str:
    """ "QUY ĐỊNH MỨC CHI … TỈNH PHÚ THỌ" -> "quy định mức chi … tỉnh Phú Thọ".

    Only a place name ending the text and the ministry or government named by it get
    capitals back: anything else an admin corrects in the upload flow.
    """
    lowered = " ".join(text.split()).lower()
    place = _PLACE_TAIL.search(lowered)
    if place is not None:
        name = " ".join(word.capitalize() for word in place.group(2).split())
        lowered = f"{lowered[: place.start(2)]}{name}"
    lowered = re.sub(r"\bchính phủ\b", "Chính phủ", lowered)
    ministry = re.match(r"^(.*\b)bộ ((?:[^\W\d_]+\s*){1,3})$", lowered)
    if ministry is not None:  # the last "bộ …" names the ministry ("bộ trưởng bộ công thương")
        name = " ".join(word.capitalize() for word in ministry.group(2).split())
        lowered = f"{ministry.group(1)}Bộ {name}"
    return lowered


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def type_from_number(number: str) -> str | None:
    """The document type its number implies ("45/2012/NĐ-CP" -> "decree"), if any."""
    codes = [part for part in re.split(r"[/\-]", fold_diacritics(number).lower()) if part]
    for code, doc_type in NUMBER_CODES:
        if code in codes[1:]:
            return doc_type
    return None


#: The types a question names to point at a document ("theo thông tư …"): the ones with a
#: number code. Luật, kế hoạch and hướng dẫn are left out: as plain words ("hướng dẫn thủ
#: tục", "kế hoạch kinh doanh") they name no document.
NAMED_TYPES = frozenset(doc_type for _, doc_type in NUMBER_CODES) - {"plan", "guidance"}
_NAMED_TITLE_RE = re.compile(
    r"(?<![^\W\d_])("
    + "|".join(
        re.escape(title.lower()).replace(r"\ ", r"\s+")
        for title, doc_type in sorted(TYPE_TITLES.items(), key=lambda kv: -len(kv[0]))
        if doc_type in NAMED_TYPES
    )
    + r")(?![^\W\d_])"
)
_CODE_TYPES = dict(NUMBER_CODES)
# An abbreviation with its issuer in capitals ("QĐ-UBND", "TT-BCT") names the type without a
# number; bare "TT" or "CT" do not ("TT khuyến công" is the Trung tâm), nor does "TT-Huế".
_CODE_ISSUER_RE = re.compile(r"(?<![^\W\d_])((?i:ttlt|nđ|nd|tt|qđ|qd|nq|ct))-[A-ZĐ]{2,}(?![^\W\d_])")
_CAPITAL_CODE_RE = re.compile(r"(?<![^\W\d_])(TTLT|NĐ|QĐ|NQ)(?![^\W\d_])")


def types_named(text: str) -> frozenset[str]:
    """The document types a question names: "nghị định", "thong tu lien tich", "NĐ 45", "QĐ-UBND".

    Args:
        text: A question (accents optional).

    Returns:
        `NAMED_TYPES` members; "thông tư liên tịch" is a joint circular, not also a circular.
    """
    folded = fold_diacritics(text).lower()
    found = {
        TYPE_TITLES[" ".join(m.group(1).split()).upper()] for m in _NAMED_TITLE_RE.finditer(folded)
    }
    # "nd45", "tt46_2012": the code of each reference legal_number_tokens reads.
    for token in legal_number_tokens(text):
        code = re.match(r"[a-z]+", token)
        if code is not None and code.group(0) in _CODE_TYPES:
            found.add(_CODE_TYPES[code.group(0)])
    found |= {
        _CODE_TYPES[fold_diacritics(m.group(1)).lower()] for m in _CODE_ISSUER_RE.finditer(text)
    }
    found |= {
        _CODE_TYPES[fold_diacritics(m.group(1)).lower()] for m in _CAPITAL_CODE_RE.finditer(text)
    }
    return frozenset(found & NAMED_TYPES)


def document_type(doc_type: str | None, number: str | None) -> str | None:
    """The type of a document in `NAMED_TYPES` terms, or None (our guides, news items).

    The number's code decides when it has one: the corpus files of joint circulars say
    `doc_type: circular`, their numbers say TTLT.
    """
    implied = type_from_number(number) if number else None
    if implied in NAMED_TYPES:
        return implied
    return doc_type if doc_type in NAMED_TYPES else None


def type_matches(named: frozenset[str], doc_type: str | None) -> bool:
    """Whether a named type covers a document's: a joint circular is also a thông tư."""
    if doc_type is None:
        return False
    return doc_type in named or (doc_type == "joint_circular" and "circular" in named)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|") if cell.strip()]


def _effective(body: str, issued: dt.date | None) -> tuple[dt.date | None, list[str]]:
    match = _EFFECT_RE.search(body)
    if match is None:
        return None, []
    rest = match.group("rest")
    replaces = [m.group(1).rstrip(".,;") for m in _REPLACES_RE.finditer(rest)]
    dated = _FROM_DATE_RE.search(rest)
    after = _AFTER_DAYS_RE.search(rest)
    if after is not None and issued is not None:
        return issued + dt.timedelta(days=int(after.group("days"))), replaces
    if dated is not None and not _FROM_SIGNING_RE.match(dated.group(0)):
        return parse_vn_date(f"ngày {dated.group('date')}") or parse_vn_date(
            dated.group("date")
        ), replaces
    if _FROM_SIGNING_RE.search(rest) is not None and issued is not None:
        return issued, replaces
    return None, replaces


def read_header(body: str) -> dict[str, Any]:
    """Finds number, type, title, issuer, issue date, effective date and replaced documents.

    Args:
        body: The document's body text.

    Returns:
        The metadata found, with `DocumentMeta` field names (dates as ISO strings, `replaces`
        as a list); empty when the text has no legal header.
    """
    lines = [line.strip().strip("*#> ").strip() for line in body.splitlines() if line.strip()]
    header = lines[:HEADER_LINES]
    found: dict[str, Any] = {}
    issued: dt.date | None = None
    type_at: int | None = None
    for position, line in enumerate(header):
        if line.lower().startswith("căn cứ"):
            break
        number = _NUMBER_RE.search(line)
        if number is not None and "number" not in found:
            found["number"] = number.group(1).rstrip(".,;")
        if issued is None and _DATELINE_RE.search(line):
            issued = parse_vn_date(line[_DATELINE_RE.search(line).start() :])  # type: ignore[union-attr]
        folded = fold_diacritics(line).upper().rstrip(":").strip()
        if type_at is None and folded in TYPE_TITLES:
            found["doc_type"] = TYPE_TITLES[folded]
            type_at = position
    if issued is not None:
        found["issued"] = issued.isoformat()
    if type_at is not None:
        subject: list[str] = []
        for line in header[type_at + 1 :]:
            starts_subject = not subject and line.lower().startswith(("về ", "v/v"))
            if line.lower().startswith("căn cứ") or _ISSUER_RE.match(line):
                break
            if not (_is_upper(line) or starts_subject):
                break
            subject.append(line)
        if subject:
            kind = TYPE_NAMES[found["doc_type"]]
            text = " ".join(subject)
            found["title"] = f"{kind} {sentence_case(text) if _is_upper(text) else text}"
    issuer = _issuer(header, type_at)
    if issuer:
        found["issuer"] = issuer
    if "doc_type" not in found and "number" in found:
        implied = type_from_number(found["number"])
        if implied:
            found["doc_type"] = implied
    effective, replaces = _effective(body, issued)
    if effective is not None:
        found["effective"] = effective.isoformat()
    if replaces:
        found["replaces"] = replaces
    return found


def _issuer(header: list[str], type_at: int | None) -> str | None:
    # The enacting line ("ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP") names the body in full.
    if type_at is not None:
        for line in header[type_at + 1 :]:
            if line.lower().startswith("căn cứ"):
                break
            if _ISSUER_RE.match(line) and _is_upper(line):
                return _capitalized(sentence_case(line))
    # Otherwise the top-left block, before the national motto.
    parts: list[str] = []
    for line in header[:6]:
        cells = _cells(line)
        if not cells:
            continue
        left = cells[0]
        if _NATIONAL_MOTTO.search(left) or left.lower().startswith("số"):
            break
        if _is_upper(left):
            parts.append(left)
    if parts:
        return _capitalized(sentence_case(" ".join(parts)))
    return None
