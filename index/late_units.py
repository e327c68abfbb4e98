"""Answer-unit vectors from their chunk's own forward pass ("late chunking").

A build embeds every chunk once; embedding every answer unit again (`AnswerUnit.embed_text`,
a second pass over about the same tokens in many more, shorter texts) made a build cost
2.4x raw encoding. Here the chunk's pass also gives its token states, and a unit's vector is
the normalised mean of the states of the tokens its text covers in the chunk: the label's
tokens and the body's, as `embed_text` joins them. The states are contextual (a sentence
"knows" its chunk), so the vectors are close to, not equal to, the separately embedded ones.

Off by default (`Settings.unit_vectors`): the pooled vectors agree with the separate ones
at cosine 0.93 on average (knowledge/), and the unit scorer fitted on them leans on the
cosine far less (weight 0.66 against 5.8) and answers worse on the held-out legal set.

A unit whose text cannot be found in its chunk (cleaning changed it beyond spacing) or
whose tokens were truncated away has no span; it is embedded on its own, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.units import AnswerUnit, units_for_chunk

if TYPE_CHECKING:
    from index.schema import Chunk

#: Bumped when the pooling changes, so cached late vectors are recomputed.
LATE_VERSION = 1

# The same characters `index.units._clean` removes; whitespace runs collapse to one space.
_DROPPED = re.compile(r"\*\*|__|`")
_SPACES = re.compile(r"\s+")

#: A unit's character ranges in its chunk's index_text.
Spans = list[tuple[int, int]]


def supports_late_units(model: Any) -> bool:
    """Whether the model gives token states with its passage vectors (the light ONNX one)."""
    return callable(getattr(model, "iter_document_tokens", None))


def _cleaned(text: str) -> tuple[str, list[int]]:
    """The text as units are cleaned, and the original position of each kept character."""
    kept: list[str] = []
    where: list[int] = []
    position = 0
    for match in _DROPPED.finditer(text + "``"):  # a sentinel match flushes the tail
        for offset, char in enumerate(text[position : match.start()], start=position):
            if char.isspace():
                if kept and kept[-1] == " ":
                    continue
                char = " "
            kept.append(char)
            where.append(offset)
        position = match.end()
    return "".join(kept), where


def _find(haystack: str, needle: str, start: int) -> int:
    """Position of needle from `start`, else its first position anywhere, else -1."""
    found = haystack.find(needle, start)
    return found if found >= 0 else haystack.find(needle)


def unit_spans(chunk: Chunk, units: Sequence[AnswerUnit]) -> list[Spans | None]:
    """Character ranges in `index_text` of what each unit embeds (label and body).

    Args:
        chunk: The chunk; ranges are in its `index_text` (a prefix line, then its text).
        units: The chunk's units, in document order.

    Returns:
        Per unit, the ranges of its label (the nearest occurrence before the body) and of
        its text or items; None when a piece is not found.
    """
    index_text = chunk.index_text or chunk.text
    cleaned, where = _cleaned(index_text)
    # Searching starts after the prefix line, which may repeat a heading of the text.
    body_start = len(index_text) - len(chunk.text) if index_text.endswith(chunk.text) else 0
    cursor = next((i for i, p in enumerate(where) if p >= body_start), 0)
    result: list[Spans | None] = []
    for unit in units:
        pieces = list(unit.items) if unit.items else [unit.text]
        label = unit.text if unit.kind == "list" else unit.label
        ranges: Spans = []
        search = cursor
        first = -1
        for piece in pieces:
            piece = _SPACES.sub(" ", piece).strip()
            found = _find(cleaned, piece, search) if piece else -1
            if found < 0:
                break
            ranges.append((where[found], where[found + len(piece) - 1] + 1))
            first = found if first < 0 else first
            search = found + len(piece)
        else:
            if unit.kind != "list":
                cursor = first  # units follow document order; a list repeats its items
            if label:
                label = _SPACES.sub(" ", label).strip()
                at = cleaned.rfind(label, 0, first)
                at = at if at >= 0 else cleaned.find(label)
                if at < 0:
                    result.append(None)
                    continue
                ranges.insert(0, (where[at], where[at + len(label) - 1] + 1))
            result.append(ranges)
            continue
        result.append(None)
    return result


def pool_spans(
    states: np.ndarray, offsets: np.ndarray, spans: Sequence[Spans | None]
) -> list[np.ndarray | None]:
    """Normalised mean token state of each unit's ranges.

    Args:
        states: (tokens, dim) token states of the chunk.
        offsets: (tokens, 2) character ranges of the tokens in index_text (negative for
            the prompt and special tokens, which belong to no unit).
        spans: Per unit its ranges, or None.

    Returns:
        Per unit its vector, or None without a span or when part of it lies beyond the last
        token (the chunk was truncated).
    """
    covered = int(offsets[:, 1].max()) if len(offsets) else 0
    vectors: list[np.ndarray | None] = []
    for ranges in spans:
        if not ranges or max(end for _, end in ranges) > covered:
            vectors.append(None)
            continue
        inside = np.zeros(len(offsets), dtype=bool)
        for start, end in ranges:
            inside |= (offsets[:, 0] < end) & (offsets[:, 1] > start) & (offsets[:, 1] > 0)
        if not inside.any():
            vectors.append(None)
            continue
        mean = states[inside].mean(axis=0)
        vectors.append((mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32))
    return vectors


def embed_chunks_with_units(
    model: Any,
    chunks: Sequence[Chunk],
    *,
    batch_size: int,
    embed_separately: Callable[[list[str]], np.ndarray],
    progress: Callable[[int, int, str], None] | None = None,
) -> list[np.ndarray]:
    """Chunk and unit vectors of each chunk from one pass over the chunks.

    Args:
        model: A model with `iter_document_tokens` (see `supports_late_units`).
        chunks: The chunks to embed.
        batch_size: Texts per forward pass.
        embed_separately: Embeds the texts of units without a span (passage prompt).
        progress: Called as `progress(done, total, "embedding")` after each batch.

    Returns:
        Per chunk a (1 + units, dim) matrix: its vector, then one row per unit of
        `units_for_chunk(chunk)`, in order.
    """
    units = [units_for_chunk(chunk) for chunk in chunks]
    spans = [unit_spans(chunk, found) for chunk, found in zip(chunks, units, strict=True)]
    rows: list[list[np.ndarray | None]] = [[] for _ in chunks]
    texts = [chunk.index_text or chunk.text for chunk in chunks]
    if progress is not None:
        progress(0, len(texts), "embedding")
    for done, item in enumerate(model.iter_document_tokens(texts, batch_size=batch_size), 1):
        pooled = pool_spans(item.states, item.offsets, spans[item.position])
        rows[item.position] = [item.vector, *pooled]
        if progress is not None and (done % batch_size == 0 or done == len(texts)):
            progress(done, len(texts), "embedding")
    missing = [
        (c, u) for c, row in enumerate(rows) for u, vector in enumerate(row[1:]) if vector is None
    ]
    if missing:
        fresh = embed_separately([units[c][u].embed_text for c, u in missing])
        for (c, u), vector in zip(missing, fresh, strict=True):
            rows[c][u + 1] = vector
    return [np.vstack([v for v in row if v is not None]).astype(np.float32) for row in rows]
