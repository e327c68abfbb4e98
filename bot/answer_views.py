"""Renders an `Answer` for people: Telegram HTML or plain text, from the texts in `texts`.

The console, the Telegram handlers and `scripts.evaluate` all show answers through
`render_answer`, so what the evaluation measures is exactly what a user reads.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot import texts
from index.answering import citation_for
from index.dates import format_vn_date
from index.schema import NEEDS_NOTICE, NOT_IN_FORCE, Answer, Citation, DocumentMeta, Passage

_TAG_RE = re.compile(r"<[^>]+>")
#: Longest clause text shown for one passage under "Xem thêm nguồn", in characters.
PASSAGE_CHARS = 900


def to_plain(markup: str) -> str:
    """Turns one of the HTML texts into plain text (tags dropped, entities decoded)."""
    return html.unescape(_TAG_RE.sub("", markup))


def document_name(citation: Citation) -> str:
    """How a citation names its document: "Nghị định 45/2012/NĐ-CP", or the title."""
    if citation.doc_type == "guide":
        return texts.CITATION_GUIDE.format(title=citation.title)
    kind = texts.DOC_TYPE_NAMES.get(citation.doc_type or "")
    number = (citation.number or "").strip()
    if kind and number:
        if kind == "Thông tư" and "TTLT" in number.upper():
            kind = texts.DOC_TYPE_NAMES["joint_circular"]
        return f"{kind} {number}"
    if number and number not in citation.title:
        return f"{citation.title} ({number})"
    return citation.title


def citation_line(citation: Citation) -> str:
    """One plain source line: "Điều 5 khoản 1 — Nghị định 45/2012/NĐ-CP (21/05/2012)".

    Unknown dates are left out rather than printed as "unknown".
    """
    name = document_name(citation)
    date = format_vn_date(citation.issued)
    if date and citation.doc_type != "guide":
        name = f"{name} ({date})"
    if citation.article:
        return f"{citation.article}{texts.CITATION_ARTICLE_SEP}{name}"
    return name


def status_notice(citation: Citation) -> str:
    """The notice for a document not fully in force, naming it; "" for one in force."""
    if citation.status not in NEEDS_NOTICE:
        return ""
    doc = document_name(citation) if citation.number else texts.THIS_DOCUMENT
    if citation.status in NOT_IN_FORCE:
        detail = ""
        if citation.superseded_by:
            detail = texts.NOTICE_SUPERSEDED_BY.format(numbers=", ".join(citation.superseded_by))
        elif citation.expired_on:
            detail = texts.NOTICE_EXPIRED_ON.format(date=format_vn_date(citation.expired_on))
        return texts.NOTICE_SUPERSEDED.format(doc=doc, detail=detail)
    if citation.amended_by:
        return texts.NOTICE_AMENDED.format(doc=doc, numbers=", ".join(citation.amended_by))
    return texts.NOTICE_AMENDED_UNNAMED.format(doc=doc)


def doc_status_label(status: str) -> str:
    """The Vietnamese name of a document status ("còn hiệu lực"); unknown values as they are."""
    return texts.DOC_STATUS_LABELS.get(status, status)


def unique_citations(citations: Iterable[Citation]) -> list[Citation]:
    """Citations without repeats of the same article of the same document, in order."""
    seen: set[tuple[str, str | None]] = set()
    unique: list[Citation] = []
    for citation in citations:
        key = (citation.doc_id or f"{citation.title}|{citation.number}", citation.article)
        if key not in seen:
            seen.add(key)
            unique.append(citation)
    return unique


def _sources_block(citations: Sequence[Citation], *, as_html: bool) -> str:
    header = texts.SOURCES_HEADER if as_html else to_plain(texts.SOURCES_HEADER)
    lines = [header]
    noticed: set[str] = set()
    for citation in unique_citations(citations):
        line = citation_line(citation)
        if as_html:
            line = html.escape(line)
            if citation.url and citation.url.startswith(("http://", "https://")):
                line = f'<a href="{html.escape(citation.url, quote=True)}">{line}</a>'
        lines.append(f"• {line}")
        key = citation.doc_id or citation.title
        if key in noticed:
            continue
        noticed.add(key)
        for notice in (status_notice(citation), partial_notice(citation)):
            if notice:
                lines.append(f"  {html.escape(notice) if as_html else notice}")
    return "\n".join(lines)


def partial_notice(citation: Citation) -> str:
    """The notice for a document the library holds only part of; "" for a whole one."""
    return "" if citation.complete else texts.NOTICE_PARTIAL


def _paragraphs(text: str, *, as_html: bool) -> list[str]:
    pieces = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return [html.escape(p) for p in pieces] if as_html else pieces


def render_answer(answer: Answer, *, as_html: bool = False, notes: Sequence[str] = ()) -> str:
    """Renders an answer as a user sees it.

    Args:
        answer: What `Engine.answer` returned.
        as_html: Telegram HTML (escaped, links) instead of plain text.
        notes: Already formatted lines shown first (e.g. "Tôi hiểu câu hỏi là …").

    Returns:
        The body paragraphs, then the sources with their status notices. A refusal, an
        action or an invalid question shows only its message (`outcome_text`).
    """
    plain = (lambda t: t) if as_html else to_plain
    paragraphs = [plain(n) for n in notes]
    if answer.outcome in ("answered", "unknown"):
        if answer.outcome == "unknown":
            partial = answer.reason == "partial_text"
            paragraphs.append(
                plain(texts.ANSWER_UNKNOWN_PARTIAL if partial else texts.ANSWER_UNKNOWN)
            )
        body = _paragraphs(answer.text, as_html=as_html)
        if answer.outcome == "unknown" and body:
            paragraphs.append(plain(texts.ANSWER_UNKNOWN_KNOWN))
        paragraphs.extend(body)
        if answer.outcome == "unknown":
            paragraphs.append(plain(texts.ANSWER_UNKNOWN_ASK))
        if answer.citations:
            paragraphs.append(_sources_block(answer.citations, as_html=as_html))
    else:
        paragraphs.append(plain(outcome_text(answer)))
    return "\n\n".join(p for p in paragraphs if p)


def outcome_text(answer: Answer) -> str:
    """The text of an outcome that shows no passage: refused, routed or invalid (HTML)."""
    if answer.outcome == "refused":
        return (
            texts.REFUSED_OUT_OF_SCOPE if answer.reason == "out_of_scope" else texts.NOT_CONFIDENT
        )
    if answer.outcome == "routed":
        if answer.intent == "help":
            return texts.HELP
        return texts.ROUTED.get(answer.intent or "", texts.HELP)
    if answer.reason == "too_long":
        return texts.QUESTION_TOO_LONG_REFUSED
    return texts.QUESTION_EMPTY


def body_paragraphs(answer: Answer) -> list[str]:
    """The plain paragraphs shown above the sources (what the evaluation calls the body)."""
    rendered = render_answer(answer)
    header = to_plain(texts.SOURCES_HEADER)
    return [p for p in rendered.split("\n\n") if not p.startswith(header)]


def document_status_text(doc: DocumentMeta) -> str:
    """A document's status with its relations: "hết hiệu lực (…), thay thế bởi 28/2018/TT-BTC"."""
    parts = [doc_status_label(doc.status)]
    if doc.amended_by:
        parts.append(texts.DOC_RELATION_AMENDED_BY.format(numbers=", ".join(doc.amended_by)))
    if doc.superseded_by:
        parts.append(texts.DOC_RELATION_SUPERSEDED_BY.format(numbers=", ".join(doc.superseded_by)))
    if doc.expired_on and doc.status in NOT_IN_FORCE:
        parts.append(texts.DOC_RELATION_EXPIRED_ON.format(date=format_vn_date(doc.expired_on)))
    if doc.effective and doc.status not in NOT_IN_FORCE:
        parts.append(texts.DOC_RELATION_EFFECTIVE.format(date=format_vn_date(doc.effective)))
    if doc.replaces:
        parts.append(texts.DOC_RELATION_REPLACES.format(numbers=", ".join(doc.replaces)))
    if doc.based_on:
        parts.append(texts.DOC_RELATION_BASED_ON.format(numbers=", ".join(doc.based_on)))
    return "; ".join(parts)


def document_lines(doc: DocumentMeta) -> tuple[str, str]:
    """(name, status) of a document for the source lists: its title with number and date,
    then `document_status_text`. Our own guides show no law's number or date as theirs."""
    pieces = [doc.title]
    if doc.doc_type != "guide":
        if doc.number and doc.number not in doc.title:
            pieces.append(texts.DOC_LINE_NUMBER.format(number=doc.number))
        date = format_vn_date(doc.issued)
        if date:
            pieces.append(texts.DOC_LINE_ISSUED.format(date=date))
    return " · ".join(pieces), document_status_text(doc)


def found_metadata_lines(values: Mapping[str, Any]) -> list[str]:
    """One plain "Label: value" line per metadata field found in (or set for) a file."""
    lines = []
    for key, label in texts.META_FIELD_LABELS.items():
        value = values.get(key)
        if not value:
            continue
        if key == "doc_type":
            value = texts.DOC_TYPE_NAMES.get(str(value), str(value))
        elif key in ("issued", "effective"):
            value = format_vn_date(str(value)) or value
        elif key == "status":
            value = doc_status_label(str(value))
        lines.append(f"{label}: {value}")
    return lines


def passage_record(passage: Passage) -> dict[str, Any]:
    """What "Xem thêm nguồn" keeps of a passage: its citation line, notice and clause text.

    A plain dict, so it can be stored in the bot's persisted user data. The text keeps its
    lines (clauses, points and table rows stay one per line), cut at a line end when long.
    """
    citation = citation_for(passage)
    text = passage.chunk.text.strip()
    if len(text) > PASSAGE_CHARS:
        cut = text[:PASSAGE_CHARS]
        text = (cut.rsplit("\n", 1)[0] if "\n" in cut else cut.rsplit(" ", 1)[0]) + " …"
    return {
        "chunk_id": passage.chunk.chunk_id,
        "citation": citation_line(citation),
        "notice": "\n".join(n for n in (status_notice(citation), partial_notice(citation)) if n),
        "url": citation.url,
        "text": text,
        "title": citation.title,
    }


def render_passage_record(record: Mapping[str, Any], number: int) -> str:
    """One "Xem thêm nguồn" entry as Telegram HTML: the numbered citation, its notice and
    the clause text in a quote."""
    line = html.escape(str(record.get("citation") or record.get("title") or ""))
    url = record.get("url")
    if url and str(url).startswith(("http://", "https://")):
        line = f'<a href="{html.escape(str(url), quote=True)}">{line}</a>'
    parts = [f"<b>{number}.</b> {line}"]
    if record.get("notice"):
        parts.append(html.escape(str(record["notice"])))
    parts.append(f"<blockquote>{html.escape(str(record.get('text', '')))}</blockquote>")
    return "\n".join(parts)
