"""Structure-aware chunking: headings, paragraphs, list items, then sentences.

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
CHUNKER_VERSION = 1
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
class _Block:
    kind: str  # "para" | "item" | "table"
    text: str
    headings: tuple[str, ...]


def _estimate_tokens(text: str) -> int:
    return math.ceil(len(text.split()) * WORD_TOKEN_RATIO) + 2


def make_token_counter(tokenizer: Any | None) -> TokenCounter:
    """Returns a function that counts model tokens (special tokens included).

    Args:
        tokenizer: A Hugging Face tokenizer (`model.tokenizer`), or None for the
            conservative words x 1.6 estimate.

    Returns:
        A callable mapping a text to its token count.
    """
    if tokenizer is None:
        return _estimate_tokens

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


def _parse_blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    stack: list[tuple[int, str]] = []
    current: list[str] = []
    kind = "para"

    def flush() -> None:
        nonlocal current
        joined = "\n".join(line.rstrip() for line in current).strip()
        if joined:
            blocks.append(_Block(kind, joined, tuple(title for _, title in stack)))
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


def _split_block(text: str, budget: int, count: TokenCounter, overlap: int) -> list[str]:
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


def _prefix(meta: DocumentMeta, headings: tuple[str, ...]) -> str:
    parts = [meta.title.strip()] if meta.title.strip() else []
    for heading in headings:
        if heading.strip() and heading.strip().lower() != meta.title.strip().lower():
            parts.append(heading.strip())
    return " > ".join(parts)


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
    count = make_token_counter(tokenizer)
    target = min(target_tokens or max_tokens, max_tokens)
    chunks: list[ChunkDraft] = []

    def emit(body: str, headings: tuple[str, ...], prefix: str) -> None:
        ordinal = len(chunks)
        index_text = f"{prefix}\n{body}" if prefix else body
        chunks.append(
            Chunk(
                chunk_id=chunk_id_for(meta.doc_id, ordinal, body),
                doc_id=meta.doc_id,
                text=body,
                heading_path=headings,
                ordinal=ordinal,
                index_text=index_text,
            )
        )

    blocks = _parse_blocks(text)
    index = 0
    while index < len(blocks):
        headings = blocks[index].headings
        prefix = _prefix(meta, headings)
        overhead = count(f"{PASSAGE_PREFIX}{prefix}\n") if prefix else count(PASSAGE_PREFIX)
        if max_tokens - overhead < MIN_BODY_TOKENS:
            # A very long title/heading path would crowd out the text: keep the title only.
            prefix = meta.title.strip()[:120]
            overhead = count(f"{PASSAGE_PREFIX}{prefix}\n")
        # Special tokens are counted in both the overhead and each body; add them back once.
        # A small margin covers merges across the prefix/body boundary.
        specials = count("") - 2
        hard_budget = max_tokens - overhead + specials
        soft_budget = min(max(target - overhead + specials, MIN_BODY_TOKENS), hard_budget)
        packed: list[str] = []
        while index < len(blocks) and blocks[index].headings == headings:
            block = blocks[index]
            if count(block.text) > hard_budget:
                if packed:
                    emit("\n".join(packed), headings, prefix)
                    packed = []
                for piece in _split_block(block.text, hard_budget, count, overlap_sentences):
                    emit(piece, headings, prefix)
            elif packed and count("\n".join([*packed, block.text])) > soft_budget:
                emit("\n".join(packed), headings, prefix)
                packed = [block.text]
            else:
                packed.append(block.text)
            index += 1
        if packed:
            emit("\n".join(packed), headings, prefix)
    return chunks
