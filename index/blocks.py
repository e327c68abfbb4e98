"""Markdown body text as a flat list of lines, parsed by markdown-it-py (CommonMark + tables).

Every loader hands the chunker Markdown-ish text: Markdown files as written, DOCX headings
as `#` lines and tables as pipe tables, HTML through trafilatura's Markdown output, PDF and
TXT as plain paragraphs. markdown-it resolves what regexes get wrong (escapes such as `1\\.`,
emphasis markers, list numbering, pipe tables, setext headings), and the legal parser then
reads the result line by line: Vietnamese legal numbering ("1.", "a)", "Điều 5.") is a
property of lines, not of Markdown nesting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

LineKind = Literal["heading", "text", "table"]

_POINT_RE = re.compile(r"^[a-zđ]\)\s")


@dataclass(slots=True)
class Line:
    """One line of body text, or one whole table."""

    kind: LineKind
    text: str
    #: Heading level (1-6) for headings, 0 otherwise.
    level: int = 0
    #: For tables: rows of cells, the header row first.
    rows: list[list[str]] = field(default_factory=list)
    #: True for the first line of a paragraph or list item (a soft-wrapped line is False).
    starts_block: bool = True


def _parser() -> Any:
    from markdown_it import MarkdownIt

    # Raw HTML stays text: uploads are not trusted markup, and we never render it.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _inline_text(token: Any) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def table_lines(rows: list[list[str]]) -> list[str]:
    """Renders table rows as readable lines: one row per line, cells separated by " | "."""
    return [" | ".join(cell for cell in row) for row in rows if any(cell for cell in row)]


def markdown_lines(text: str) -> list[Line]:
    """Parses Markdown body text into headings, text lines and tables, in order.

    List markers are kept in front of the item text ("1. …", "a) …"; "-" bullets are
    dropped when the item carries its own legal marker), emphasis markers are removed and
    soft-wrapped lines of a paragraph stay separate lines (`starts_block` False).

    Args:
        text: The body text.

    Returns:
        The lines in document order; empty lines are omitted.
    """
    tokens = _parser().parse(text)
    lines: list[Line] = []
    # Markers of the list items being opened, waiting for their first paragraph.
    pending: list[str] = []
    heading_level = 0
    table: list[list[str]] | None = None
    row: list[str] | None = None
    for token in tokens:
        kind = token.type
        if kind == "list_item_open":
            # Ordered items keep their number ("1."); bullets their dash.
            pending.append(f"{token.info}{token.markup}" if token.info else "-")
        elif kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "table_open":
            table = []
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and table is not None and row is not None:
            table.append(row)
            row = None
        elif kind == "table_close" and table is not None:
            rendered = table_lines(table)
            if rendered:
                lines.append(Line("table", "\n".join(rendered), rows=table))
            table = None
        elif kind == "inline":
            content = _inline_text(token).strip()
            if row is not None:
                row.append(" ".join(content.split()))
                continue
            if heading_level:
                if content:
                    lines.append(Line("heading", " ".join(content.split()), level=heading_level))
                continue
            marker = " ".join(m for m in pending if m)
            pending = []
            if marker == "-" and _POINT_RE.match(content):
                marker = ""  # "- a) …": the point letter is the marker
            for position, piece in enumerate(content.split("\n")):
                piece = piece.strip()
                if not piece:
                    continue
                if position == 0 and marker:
                    piece = f"{marker} {piece}"
                lines.append(Line("text", piece, starts_block=position == 0))
        elif kind in ("code_block", "fence", "html_block"):
            # Indented text (common in PDF and TXT extractions) is text, not code.
            for position, piece in enumerate(token.content.splitlines()):
                if piece.strip():
                    lines.append(Line("text", piece.strip(), starts_block=position == 0))
    return lines
