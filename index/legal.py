"""The structure of Vietnamese legal texts: Phần / Chương / Mục / Điều / Khoản / Điểm.

`parse_legal` reads the lines of a document (see `index.blocks.markdown_lines`) and finds
its articles, whether they are written as Markdown headings ("### Điều 5. …") or inline at
the start of a line ("Điều 5. …", "1. …", "a) …", as PDF, DOCX and TXT texts have them).
Numbering is checked for sequence (Điều 4 after Điều 3, khoản 2 after khoản 1, điểm b after
điểm a), so a numbered list inside a clause or a quoted article of an amending text is
read as content, not as structure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.blocks import Line, table_lines

#: Letters of điểm in legal drafting order (Vietnamese alphabet without f, j, w, z).
POINT_LETTERS = "abcdđeghiklmnopqrstuvxy"
#: Document types whose body is never parsed as articles (our own summaries).
NON_LEGAL_TYPES = frozenset({"guide"})
#: A news item quoting one "Điều 3." line is still news; two articles make it a legal text.
NEWS_MIN_ARTICLES = 2
#: A line at least this share of the text's long-line width (90th percentile) was wrapped by
#: the PDF/TXT layout; shorter lines without a full stop are titles. A wrapped line fills
#: nearly the whole width. Measured on the corpus: the 127 article and clause titles without
#: a full stop ("Điều 18. Hiệu lực thi hành", "1. Phạm vi điều chỉnh") are at most 34% of
#: their document's 90th-percentile line length (median 11%).
WRAPPED_SHARE = 0.6

_ROMAN = re.compile(r"^[IVXLC]+$", re.IGNORECASE)
_DIVISION_RE = re.compile(
    r"^(phần|chương|mục)\s+(thứ\s+[^\W\d_]+|[IVXLC]+|\d{1,3})\b\s*([.:\-–]?)\s*(.*)$",
    re.IGNORECASE,
)
# A plain line needs "Điều 5." or "Điều 5:"; a heading may omit the punctuation.
_ARTICLE_LINE_RE = re.compile(r"^điều\s+(\d{1,3})([a-z]?)\s*[.:]\s*(.*)$", re.IGNORECASE)
_ARTICLE_HEADING_RE = re.compile(r"^điều\s+(\d{1,3})([a-z]?)\b\s*[.:\-–]?\s*(.*)$", re.IGNORECASE)
_CLAUSE_RE = re.compile(r"^(\d{1,2})\s*[.)]\s+(\S.*)$")
_POINT_RE = re.compile(r"^([a-zđ])\s*\)\s+(\S.*)$")
# Spelled out, as some texts (and Markdown headings) write them: "Khoản 3. Ngoại lệ".
_NAMED_CLAUSE_RE = re.compile(r"^khoản\s+(\d{1,2})\s*[.:]\s*(.*)$", re.IGNORECASE)
_NAMED_POINT_RE = re.compile(r"^điểm\s+([a-zđ])\s*[.:)]\s*(.*)$", re.IGNORECASE)
_BULLET_RE = re.compile(r"^[-*+•]\s+")
# The signature block and recipients list end the articles.
_TRAILER_RE = re.compile(r"^(nơi nhận|tm\.|kt\.|tl\.|t/m)\b", re.IGNORECASE)
_SENTENCE_END = (".", ";", ":", "!", "?", "…")
_DIVISION_RANK = {"phần": 0, "chương": 1, "mục": 2}


@dataclass(slots=True)
class Part:
    """A khoản or an điểm: its label ("Khoản 1", "Điểm a") and its lines."""

    label: str
    lines: list[Line] = field(default_factory=list)
    points: list[Part] = field(default_factory=list)


@dataclass(slots=True)
class Article:
    """One Điều with the divisions it sits in, its lead-in lines and its clauses."""

    label: str  # "Điều 5"
    heading: str  # "Điều 5. Danh mục ngành, nghề …"
    #: Labels of the enclosing Phần / Chương / Mục, outermost first ("Chương II",).
    divisions: tuple[str, ...] = ()
    #: Their full headings ("Chương II. CHÍNH SÁCH KHUYẾN CÔNG",), for context.
    division_headings: tuple[str, ...] = ()
    #: Document headings above the articles (e.g. the title line), for context.
    doc_headings: tuple[str, ...] = ()
    lines: list[Line] = field(default_factory=list)
    clauses: list[Part] = field(default_factory=list)

    @property
    def path(self) -> tuple[str, ...]:
        """The article's place: ("Chương II", "Điều 5")."""
        return (*self.divisions, self.label)


@dataclass(slots=True)
class LegalText:
    """A document split into what precedes the articles, the articles, and what follows."""

    preamble: list[Line] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    trailer: list[Line] = field(default_factory=list)


def _roman_value(text: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    previous = 0
    for char in reversed(text.lower()):
        value = values[char]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


def _ordinal(token: str) -> int:
    token = token.strip()
    if token.isdigit():
        return int(token)
    if _ROMAN.match(token):
        return _roman_value(token)
    return 0  # "thứ nhất" and the like: order unknown, never restarts numbering


def _division_label(kind: str, number: str) -> str:
    number = " ".join(number.split())
    if _ROMAN.match(number):
        number = number.upper()
    return f"{kind.capitalize()} {number}"


def render_lines(lines: Sequence[Line]) -> list[str]:
    """Display lines of body lines: text as is, a table as one line per row."""
    rendered: list[str] = []
    for line in lines:
        if line.kind == "table":
            rendered.extend(table_lines(line.rows))
        else:
            rendered.append(line.text)
    return rendered


def part_lines(part: Part) -> list[str]:
    """A clause's display lines: its lead-in, then each point's lines."""
    lines = render_lines(part.lines)
    for point in part.points:
        lines.extend(render_lines(point.lines))
    return lines


def article_lines(article: Article) -> list[str]:
    """An article's display lines, without its heading."""
    lines = render_lines(article.lines)
    for clause in article.clauses:
        lines.extend(part_lines(clause))
    return lines


def _reflow(lines: Sequence[Line]) -> list[Line]:
    """Joins soft-wrapped lines of a paragraph (PDF and TXT wrap mid-sentence).

    A line was wrapped when it is nearly as long as the longest lines of the text and does
    not end a sentence; a short line without a full stop is a title ("Điều 2. Mức hỗ trợ",
    "1. Phạm vi điều chỉnh") and stands alone.
    """
    widths = sorted(len(line.text) for line in lines if line.kind == "text")
    wrap_width = WRAPPED_SHARE * widths[int(len(widths) * 0.9)] if widths else 0.0
    joined: list[Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and line.kind == "text"
            and previous.kind == "text"
            and not line.starts_block
            and len(previous.text) >= wrap_width
            and not previous.text.endswith(_SENTENCE_END)
            and " | " not in line.text
            and " | " not in previous.text
            and _marker_kind(line.text) is None
            # Header lines in capitals ("QUYẾT ĐỊNH", "QUY ĐỊNH CHUNG") stand alone.
            and not _is_upper(line.text)
            and not _is_upper(previous.text)
        ):
            previous.text = f"{previous.text} {line.text}"
            continue
        joined.append(Line(line.kind, line.text, line.level, line.rows, line.starts_block))
    return joined


def _is_upper(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def _marker_kind(text: str) -> str | None:
    stripped = _BULLET_RE.sub("", text)
    if _DIVISION_RE.match(stripped) or _ARTICLE_LINE_RE.match(stripped):
        return "division"
    if _CLAUSE_RE.match(stripped):
        return "clause"
    if _POINT_RE.match(stripped):
        return "point"
    return None


class _Parser:
    """The state machine behind `parse_legal`."""

    def __init__(self) -> None:
        self.result = LegalText()
        self.divisions: list[tuple[int, str, str]] = []  # (rank, label, heading)
        self.doc_headings: list[tuple[int, str]] = []  # (level, text) before the articles
        self.article: Article | None = None
        self.clause: Part | None = None
        self.point: Part | None = None
        self.last_article = 0
        self.last_chapter = 0
        self.in_trailer = False
        #: A division line without its title ("Chương I"): the next capitalised line is it.
        self.title_pending = False

    def close_article(self) -> None:
        if self.article is not None:
            self.result.articles.append(self.article)
        self.article, self.clause, self.point = None, None, None

    def division(self, kind: str, number: str, title: str, text: str) -> None:
        self.close_article()
        self.title_pending = not title
        rank = _DIVISION_RANK[kind.lower()]
        label = _division_label(kind, number)
        if rank <= 1:
            ordinal = _ordinal(number.split()[-1] if number else "")
            if rank == 1 and 0 < ordinal <= self.last_chapter:
                self.last_article = 0  # a new regulation restarts its chapters and articles
            self.last_chapter = ordinal if rank == 1 else 0
        self.divisions = [d for d in self.divisions if d[0] < rank]
        self.divisions.append((rank, label, text if title else label))

    def start_article(self, number: int, suffix: str, text: str) -> None:
        self.close_article()
        self.last_article = number
        self.article = Article(
            label=f"Điều {number}{suffix}",
            heading=text,
            divisions=tuple(label for _, label, _ in self.divisions),
            division_headings=tuple(heading for _, _, heading in self.divisions),
            doc_headings=tuple(text for _, text in self.doc_headings),
        )

    def heading(self, line: Line) -> bool:
        """Handles a non-legal heading; returns True when it was consumed."""
        if self.article is None and not self.result.articles:
            self.doc_headings = [h for h in self.doc_headings if h[0] < line.level]
            self.doc_headings.append((line.level, line.text))
            self.result.preamble.append(line)
            return True
        # A heading such as "QUY CHẾ …" or "PHỤ LỤC" after the articles starts an annex.
        self.close_article()
        self.divisions = []
        self.last_article = 0
        self.result.trailer.append(line)
        self.in_trailer = True
        return True

    def content(self, line: Line) -> None:
        text = _BULLET_RE.sub("", line.text) if line.kind == "text" else line.text
        article = self.article
        if self.title_pending and article is None and line.kind == "text" and _is_upper(text):
            rank, label, _ = self.divisions[-1]
            self.divisions[-1] = (rank, label, f"{label}. {text}")
            self.title_pending = False
            return
        self.title_pending = False
        if article is None:
            (self.result.trailer if self.in_trailer else self.result.preamble).append(line)
            return
        clause_match = None
        if line.kind != "table":
            clause_match = _CLAUSE_RE.match(text) if line.kind == "text" else None
            clause_match = clause_match or _NAMED_CLAUSE_RE.match(text)
        if clause_match is not None:
            number = int(clause_match.group(1))
            expected = len(article.clauses) + 1
            if number == expected:
                shown = Line("text", text, starts_block=True)
                self.clause = Part(label=f"Khoản {number}", lines=[shown])
                self.point = None
                article.clauses.append(self.clause)
                return
        point_match = None
        if line.kind != "table":
            point_match = _POINT_RE.match(text) if line.kind == "text" else None
            point_match = point_match or _NAMED_POINT_RE.match(text)
        if point_match is not None:
            owner = self.clause
            if owner is None and not article.clauses:
                # Points straight under an article: an unnumbered clause holds them.
                owner = Part(label="")
                article.clauses.append(owner)
                self.clause = owner
            if owner is not None:
                letter = point_match.group(1).lower()
                done = len(owner.points)
                if done < len(POINT_LETTERS) and letter == POINT_LETTERS[done]:
                    shown = Line("text", text, starts_block=True)
                    self.point = Part(label=f"Điểm {letter}", lines=[shown])
                    owner.points.append(self.point)
                    return
        target = self.point or self.clause
        if target is not None:
            target.lines.append(line)
        else:
            article.lines.append(line)

    def feed(self, line: Line) -> None:
        text = line.text.strip()
        plain = _BULLET_RE.sub("", text) if line.kind == "text" else text
        if line.kind != "table":
            if _TRAILER_RE.match(plain) and self.article is not None:
                self.close_article()
                self.in_trailer = True
            division = _DIVISION_RE.match(plain)
            if division is not None:
                kind, number, separator, title = division.groups()
                # "Chương I của Nghị định này …" in running text is no division: a plain
                # line needs its title in capitals, after a separator, or nothing after it.
                if line.kind == "heading" or not title or separator or _is_upper(title):
                    self.in_trailer = False
                    self.division(kind, number, title, plain)
                    return
            pattern = _ARTICLE_HEADING_RE if line.kind == "heading" else _ARTICLE_LINE_RE
            article = pattern.match(plain)
            if article is not None:
                number = int(article.group(1))
                # Inline article lines must follow in order; a heading always starts one.
                if line.kind == "heading" or number > self.last_article:
                    self.in_trailer = False
                    self.start_article(number, article.group(2), plain)
                    return
            inner = _NAMED_CLAUSE_RE.match(plain) or _NAMED_POINT_RE.match(plain)
            if line.kind == "heading" and self.article is not None and inner is not None:
                self.content(Line("text", plain))  # "### Khoản 3. …" inside an article
                return
            if line.kind == "heading" and self.heading(line):
                return
        self.content(line)

    def finish(self) -> LegalText:
        self.close_article()
        return self.result


def parse_legal(lines: Sequence[Line]) -> LegalText:
    """Finds the articles, clauses and points of a legal text.

    Args:
        lines: The document's lines (`index.blocks.markdown_lines`).

    Returns:
        The preamble (header, căn cứ), the articles in order, and what follows them
        (signature, recipients, annex headings); no articles when the text has none.
    """
    parser = _Parser()
    for line in _reflow(lines):
        parser.feed(line)
    return parser.finish()


def is_legal_text(doc_type: str, legal: LegalText) -> bool:
    """Tells whether a document should be chunked by its articles.

    Args:
        doc_type: The document's type (`DocumentMeta.doc_type`).
        legal: What `parse_legal` found.

    Returns:
        False for our own guides, and for news with fewer than two articles.
    """
    if doc_type in NON_LEGAL_TYPES:
        return False
    needed = NEWS_MIN_ARTICLES if doc_type == "news" else 1
    return len(legal.articles) >= needed


def article_label(path: Sequence[str]) -> str | None:
    """How a citation names a place in a document: "Điều 5 khoản 1 điểm a".

    Args:
        path: A chunk's legal path, e.g. ("Chương II", "Điều 5", "Khoản 1").

    Returns:
        The article and what lies inside it, or None when the path holds no article.
    """
    for index, part in enumerate(path):
        if part.startswith("Điều "):
            inner = [p[:1].lower() + p[1:] for p in path[index + 1 :] if p]
            return " ".join([part, *inner])
    return None
