"""Chunking a legal text along its articles, clauses and points.

Rules, in order of priority:

* a chunk never holds text of two articles;
* an article that fits the target size is one chunk (path "Chương II › Điều 5");
* a longer article is cut at its clauses: a clause is kept whole when it fits, and
  consecutive whole clauses of the same article are packed up to the target size
  (path "… › Điều 5 › Khoản 1" or "… › Khoản 1–3");
* a clause too long for one chunk is cut at its points, each piece carrying the clause's
  lead-in line as context (path "… › Khoản 2 › Điểm a–c");
* only a single point or paragraph too long for one chunk is cut at sentences, and a table
  at its rows (each piece repeats the header row).

What precedes the articles (header, căn cứ) and what follows them (signature, annexes) is
chunked like any other text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from index.blocks import Line, markdown_lines, table_lines
from index.chunking import Block, ChunkWriter, heading_prefix, pack_blocks, split_to_budget
from index.legal import (
    Article,
    Part,
    article_lines,
    is_legal_text,
    parse_legal,
    part_lines,
    render_lines,
)

#: Longest clause lead-in carried as context of the clause's point pieces, in characters.
LEAD_CHARS = 200


@dataclass(slots=True)
class _Piece:
    """Text that must stay together, with the structure label it stands for."""

    text: str
    label: str = ""  # "Khoản 2", "Điểm a"; "" for lead-in text
    rows: list[list[str]] = field(default_factory=list)  # a table's rows, header first


def _range_label(labels: Sequence[str]) -> str:
    """"Khoản 1" for one, "Khoản 1–3" for a run of them, "" when any is unlabelled."""
    if not labels or any(not label for label in labels):
        return ""
    if len(labels) == 1:
        return labels[0]
    kind = labels[0].split()[0]
    return f"{kind} {labels[0].split()[-1]}–{labels[-1].split()[-1]}"


def _line_pieces(lines: Sequence[Line], label: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    for line in lines:
        if line.kind == "table":
            pieces.append(_Piece("\n".join(table_lines(line.rows)), label, line.rows))
        else:
            pieces.append(_Piece(line.text, label))
    return pieces


def _split_table(rows: list[list[str]], budget: int, writer: ChunkWriter) -> list[str]:
    """Cuts a table at its rows; every piece starts with the header row."""
    lines = table_lines(rows)
    header, body = lines[0], lines[1:]
    pieces: list[str] = []
    current: list[str] = [header]
    for line in body:
        if len(current) > 1 and writer.count("\n".join([*current, line])) > budget:
            pieces.append("\n".join(current))
            current = [header]
        current.append(line)
    pieces.append("\n".join(current))
    # A single row (or header) over the budget is cut like prose.
    fitted: list[str] = []
    for piece in pieces:
        if writer.count(piece) > budget:
            fitted.extend(split_to_budget(piece, budget, writer.count, 0))
        else:
            fitted.append(piece)
    return fitted


def _pack(
    writer: ChunkWriter,
    pieces: Sequence[_Piece],
    headings: tuple[str, ...],
    base_path: tuple[str, ...],
    *,
    number: str | None,
) -> None:
    """Emits pieces in order, packing whole ones up to the soft budget, splitting big ones."""
    prefix, hard, soft = writer.budgets(heading_prefix(writer.meta, headings, number=number))
    count = writer.count
    pending: list[_Piece] = []

    def flush() -> None:
        if pending:
            label = _range_label([p.label for p in pending])
            path = (*base_path, label) if label else base_path
            writer.emit("\n".join(p.text for p in pending), headings, prefix, path)
            pending.clear()

    for piece in pieces:
        if count(piece.text) > hard:
            flush()
            parts = (
                _split_table(piece.rows, hard, writer)
                if piece.rows
                else split_to_budget(piece.text, hard, count, writer.overlap)
            )
            path = (*base_path, piece.label) if piece.label else base_path
            for part in parts:
                writer.emit(part, headings, prefix, path)
            continue
        if pending and count("\n".join([*(p.text for p in pending), piece.text])) > soft:
            flush()
        pending.append(piece)
    flush()


def _lead(lines: Sequence[str]) -> str:
    lead = lines[0] if lines else ""
    return lead if len(lead) <= LEAD_CHARS else lead[:LEAD_CHARS].rsplit(" ", 1)[0] + " …"


def _chunk_clause(
    writer: ChunkWriter, clause: Part, headings: tuple[str, ...], article: Article,
    number: str | None,
) -> None:  # fmt: skip
    """Cuts one over-long clause at its points (or its paragraphs when it has none)."""
    path = (*article.path, clause.label) if clause.label else article.path
    intro = render_lines(clause.lines)
    if not clause.points:
        _pack(writer, _line_pieces(clause.lines, ""), headings, path, number=number)
        return
    context = (*headings, _lead(intro)) if intro else headings
    pieces: list[_Piece] = [_Piece("\n".join(intro))] if intro else []
    for point in clause.points:
        text = "\n".join(render_lines(point.lines))
        if writer.count(text) > writer.max_tokens:
            pieces.extend(_line_pieces(point.lines, point.label))
        else:
            pieces.append(_Piece(text, point.label))
    _pack(writer, pieces, context, path, number=number)


def chunk_article(writer: ChunkWriter, article: Article, *, number: str | None = None) -> None:
    """Emits the chunks of one article (see the module docstring for the rules).

    Args:
        writer: Collects the document's chunks.
        article: The article.
        number: The document number, named in the context when no heading holds it.
    """
    headings = (*article.doc_headings, *article.division_headings, article.heading)
    _, hard, soft = writer.budgets(heading_prefix(writer.meta, headings, number=number))
    whole = "\n".join(article_lines(article)) or article.heading
    if writer.count(whole) <= soft:
        prefix = writer.budgets(heading_prefix(writer.meta, headings, number=number))[0]
        writer.emit(whole, headings, prefix, article.path)
        return
    pieces = _line_pieces(article.lines, "")
    for clause in article.clauses:
        text = "\n".join(part_lines(clause))
        if writer.count(text) <= hard:
            pieces.append(_Piece(text, clause.label))
            continue
        _pack(writer, pieces, headings, article.path, number=number)
        pieces = []
        _chunk_clause(writer, clause, headings, article, number)
    _pack(writer, pieces, headings, article.path, number=number)


def _blocks(lines: Sequence[Line], base: tuple[str, ...] = ()) -> list[Block]:
    """Lines outside the articles as the generic chunker's blocks."""
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    for line in lines:
        headings = (*base, *(text for _, text in stack))
        if line.kind == "heading":
            stack = [h for h in stack if h[0] < line.level]
            stack.append((line.level, line.text))
        elif line.kind == "table":
            blocks.append(Block("table", "\n".join(table_lines(line.rows)), headings))
        elif line.starts_block or not blocks or blocks[-1].headings != headings:
            blocks.append(Block("para", line.text, headings))
        else:
            blocks[-1].text = f"{blocks[-1].text}\n{line.text}"
    return blocks


def chunk_legal_text(writer: ChunkWriter, text: str) -> bool:
    """Chunks a document along its articles when it is a legal text.

    Args:
        writer: Collects the document's chunks (`writer.meta` is the document).
        text: The body text.

    Returns:
        False, with nothing emitted, when the document has no articles (or is one of our
        guides): the caller then uses the generic chunker.
    """
    meta = writer.meta
    legal = parse_legal(markdown_lines(text))
    if not is_legal_text(meta.doc_type, legal):
        return False
    number = meta.number
    pack_blocks(writer, _blocks(legal.preamble))
    for article in legal.articles:
        chunk_article(writer, article, number=number)
    base = legal.articles[-1].doc_headings if legal.articles else ()
    pack_blocks(writer, _blocks(legal.trailer, base))
    return True
