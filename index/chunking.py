"""Structure-aware chunking: headings, paragraphs, list items, then sentences.

Legal texts are cut along their articles instead (`index.legal_chunking`).

A chunk never crosses a heading. Paragraphs and list items are packed whole up to a
target size; only a block that alone exceeds the budget is split, at Vietnamese sentence
boundaries, with one sentence of overlap between its pieces. The budget is measured with
the model tokenizer when given, on exactly what is embedded ("passage: " + index_text), so
no chunk is truncated by the model's 512-token window.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from index.schema import Chunk, DocumentMeta
from index.sentences import split_sentences

#: A chunk as produced by `chunk_document` (the stored type is the same `Chunk`).
ChunkDraft = Chunk

#: Bumped whenever chunking output changes, so the next build re-chunks every document.
#: 2: legal texts are cut along articles and clauses, with `Chunk.path`.
#: 3: a heading that holds the document title stands for it in the embedded prefix.
CHUNKER_VERSION = 3
#: The e5 passage prefix; counted in the budget because it is embedded with the chunk.
PASSAGE_PREFIX = "passage: "
#: Estimated tokens per whitespace word without a tokenizer (XLM-R pieces per syllable).
WORD_TOKEN_RATIO = 1.6
#: Smallest budget left for body text after the title/heading prefix.
MIN_BODY_TOKENS = 64

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|[a-zđ][.)])\s+")
_TABLE_RE = re.compile(r"^\s*\|")

TokenCounter = Callable[[str], int]


@dataclass(slots=True)
class Block:
    kind: str  # "para" | "item" | "table"
    text: str
    headings: tuple[str, ...]


def _estimate_tokens(text: str) -> int:
    return math.ceil(len(text.split()) * WORD_TOKEN_RATIO) + 2


def make_token_counter(tokenizer: Any | None) -> TokenCounter:
    """Returns a function that counts model tokens (special tokens included).

    Args:
        tokenizer: A Hugging Face tokenizer (`model.tokenizer`), a `tokenizers.Tokenizer`
            without truncation (`OnnxEncoder.tokenizer`), or None for the conservative
            words x 1.6 estimate.

    Returns:
        A callable mapping a text to its token count.
    """
    if tokenizer is None:
        return _estimate_tokens
    if not callable(tokenizer):  # `tokenizers.Tokenizer`: the same tokenizer.json, no wrapper

        def count_plain(text: str) -> int:
            return len(tokenizer.encode(text, add_special_tokens=True).ids)

        return count_plain

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    return count


def chunk_id_for(doc_id: str, ordinal: int, text: str) -> int:
    """Derives a stable positive 63-bit chunk id, usable as a FAISS id.

    Args:
        doc_id: The document id.
        ordinal: Position of the chunk in its document.
        text: The chunk text.

    Returns:
        The same integer for the same inputs, across processes and rebuilds.
    """
    digest = hashlib.sha256(f"{doc_id}\x00{ordinal}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def parse_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    current: list[str] = []
    kind = "para"

    def flush() -> None:
        nonlocal current
        joined = "\n".join(line.rstrip() for line in current).strip()
        if joined:
            blocks.append(Block(kind, joined, tuple(title for _, title in stack)))
        current = []

    for line in text.splitlines():
        heading = _HEADING_RE.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            if heading.group(2):
                stack.append((level, heading.group(2)))
            continue
        if not line.strip():
            flush()
            continue
        if _LIST_RE.match(line):
            flush()
            kind = "item"
        elif _TABLE_RE.match(line):
            if kind != "table":
                flush()
                kind = "table"
        elif kind == "table" or (kind == "item" and not line.startswith((" ", "\t"))):
            # A non-indented line after a list item or table row starts a new paragraph.
            flush()
            kind = "para"
        elif not current:
            kind = "para"
        current.append(line)
    flush()
    return blocks


def _split_words(sentence: str, budget: int, count: TokenCounter) -> list[str]:
    """Cuts one over-long sentence into word windows that fit the budget."""
    words: list[str] = []
    for word in sentence.split():
        words.extend(_split_chars(word, budget, count) if count(word) > budget else [word])
    parts: list[str] = []
    start = 0
    while start < len(words):
        end = len(words)
        # Shrink by halving, then grow back word by word: few tokenizer calls per window.
        while end - start > 1 and count(" ".join(words[start:end])) > budget:
            end = start + max(1, (end - start) // 2)
        while end < len(words) and count(" ".join(words[start : end + 1])) <= budget:
            end += 1
        parts.append(" ".join(words[start:end]))
        start = end
    return parts


def _split_chars(word: str, budget: int, count: TokenCounter) -> list[str]:
    """Cuts a run of text without spaces (a pasted table row, a URL list) to fit the budget."""
    parts: list[str] = []
    start = 0
    while start < len(word):
        low, high = start + 1, len(word)
        while low < high:  # longest prefix that fits
            middle = (low + high + 1) // 2
            if count(word[start:middle]) <= budget:
                low = middle
            else:
                high = middle - 1
        parts.append(word[start:low])
        start = low
    return parts


def split_to_budget(text: str, budget: int, count: TokenCounter, overlap: int = 1) -> list[str]:
    """Cuts a block that exceeds the budget at sentence boundaries (words as a last resort).

    Args:
        text: The block.
        budget: Token budget of each piece.
        count: The token counter.
        overlap: Sentences repeated between consecutive pieces.

    Returns:
        Pieces in order, each within the budget.
    """
    sentences: list[str] = []
    for sentence in split_sentences(text):
        if count(sentence) > budget:
            sentences.extend(_split_words(sentence, budget, count))
        else:
            sentences.append(sentence)
    pieces: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        if current and count(" ".join([*current, sentence])) > budget:
            pieces.append(" ".join(current))
            carried = current[-overlap:] if overlap > 0 else []
            current = carried
            # Drop the overlap when it would not leave room for the next sentence.
            while current and count(" ".join([*current, sentence])) > budget:
                current = current[1:]
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces


def heading_prefix(
    meta: DocumentMeta, headings: tuple[str, ...], *, number: str | None = None
) -> str:
    """The context embedded before a chunk: "title > heading > heading".

    Args:
        meta: The document (its title comes first).
        headings: The chunk's heading path.
        number: A document number to name after the title when no heading holds it.

    Returns:
        The prefix, without repeats of the title.
    """
    title = meta.title.strip()
    # A heading that already holds the title ("26/2014/TT-BCT — Thông tư quy định …") stands
    # for it: the title is not repeated, so its words do not count twice in every chunk.
    lowered = title.lower()
    named = bool(lowered) and any(
        lowered in h.strip().lower() and h.strip().lower() != lowered for h in headings
    )
    parts = [title] if title and not named else []
    if number and not any(number in part for part in (title, *headings)):
        parts.append(number)
    for heading in headings:
        if heading.strip() and heading.strip().lower() != title.lower():
            parts.append(heading.strip())
    return " > ".join(parts)


class ChunkWriter:
    """Collects the chunks of one document and knows each prefix's token budgets.

    Args:
        meta: The document.
        count: The token counter.
        max_tokens: Hard limit for "passage: " + index_text.
        target_tokens: Soft size up to which whole blocks are packed together.
        overlap: Sentences repeated between the pieces of a split block.
    """

    def __init__(
        self, meta: DocumentMeta, count: TokenCounter, max_tokens: int, target_tokens: int,
        overlap: int,
    ) -> None:  # fmt: skip
        self.meta = meta
        self.count = count
        self.max_tokens = max_tokens
        self.target = min(target_tokens, max_tokens)
        self.overlap = overlap
        self.chunks: list[Chunk] = []

    def budgets(self, prefix: str) -> tuple[str, int, int]:
        """(prefix, hard, soft) body budgets for chunks under this prefix."""
        count = self.count
        overhead = count(f"{PASSAGE_PREFIX}{prefix}\n") if prefix else count(PASSAGE_PREFIX)
        if self.max_tokens - overhead < MIN_BODY_TOKENS:
            # A very long title/heading path would crowd out the text: keep the title only.
            prefix = self.meta.title.strip()[:120]
            overhead = count(f"{PASSAGE_PREFIX}{prefix}\n")
        # Special tokens are counted in both the overhead and each body; add them back once.
        specials = count("") - 2
        hard = self.max_tokens - overhead + specials
        soft = min(max(self.target - overhead + specials, MIN_BODY_TOKENS), hard)
        return prefix, hard, soft

    def emit(
        self, body: str, headings: tuple[str, ...], prefix: str, path: tuple[str, ...] = ()
    ) -> None:
        """Adds one chunk (ids stay stable: they hash doc, position and text)."""
        ordinal = len(self.chunks)
        index_text = f"{prefix}\n{body}" if prefix else body
        self.chunks.append(
            Chunk(
                chunk_id=chunk_id_for(self.meta.doc_id, ordinal, body),
                doc_id=self.meta.doc_id,
                text=body,
                heading_path=headings,
                ordinal=ordinal,
                index_text=index_text,
                path=path,
            )
        )


def pack_blocks(writer: ChunkWriter, blocks: list[Block]) -> None:
    """Packs consecutive blocks of one section into chunks (the non-legal chunker)."""
    count = writer.count
    index = 0
    while index < len(blocks):
        headings = blocks[index].headings
        prefix, hard_budget, soft_budget = writer.budgets(heading_prefix(writer.meta, headings))
        packed: list[str] = []
        while index < len(blocks) and blocks[index].headings == headings:
            block = blocks[index]
            if count(block.text) > hard_budget:
                if packed:
                    writer.emit("\n".join(packed), headings, prefix)
                    packed = []
                for piece in split_to_budget(block.text, hard_budget, count, writer.overlap):
                    writer.emit(piece, headings, prefix)
            elif packed and count("\n".join([*packed, block.text])) > soft_budget:
                writer.emit("\n".join(packed), headings, prefix)
                packed = [block.text]
            else:
                packed.append(block.text)
            index += 1
        if packed:
            writer.emit("\n".join(packed), headings, prefix)


def chunk_document(
    meta: DocumentMeta,
    text: str,
    *,
    tokenizer: Any | None = None,
    max_tokens: int = 400,
    target_tokens: int | None = 250,
    overlap_sentences: int = 1,
) -> list[ChunkDraft]:
    """Cuts a document into chunks that follow its structure.

    A legal text (one with articles, see `index.legal`) is cut along its articles and
    clauses and each chunk carries its legal `path`; any other document is cut along its
    headings, paragraphs and list items.

    Args:
        meta: The document metadata (its title goes into each chunk's `index_text`).
        text: The body text (Markdown headings and lists are recognised).
        tokenizer: The embedding model's tokenizer (`model.tokenizer`) for exact counts;
            None uses the conservative words x 1.6 estimate.
        max_tokens: Hard limit for "passage: " + index_text, special tokens included.
            Must stay below the model window (512 for e5-small).
        target_tokens: Whole blocks of one section are packed together up to this size;
            None packs up to `max_tokens`.
        overlap_sentences: Sentences repeated between consecutive pieces of a split block.

    Returns:
        Chunks in document order, with stable ids, `text` (shown to users) and
        `index_text` (title > headings, newline, text).
    """
    from index.legal_chunking import chunk_legal_text

    writer = ChunkWriter(
        meta, make_token_counter(tokenizer), max_tokens, target_tokens or max_tokens,
        overlap_sentences,
    )  # fmt: skip
    if not chunk_legal_text(writer, text):
        pack_blocks(writer, parse_blocks(text))
    return writer.chunks
