"""Plain data types shared by the core and its adapters (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RetrievalMode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """Metadata of one source document, from its front matter or sidecar file."""

    doc_id: str
    title: str
    doc_type: str = "news"
    number: str | None = None
    issued: str | None = None  # ISO date (YYYY-MM-DD) when known
    issuer: str | None = None
    province: str | None = None  # None or "national" for national documents
    source: str | None = None
    url: str | None = None
    status: str = "in_force"  # in_force / superseded
    superseded_by: str | None = None
    path: str = ""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable piece of a document, with its place in the document structure."""

    chunk_id: int
    doc_id: str
    text: str
    heading_path: tuple[str, ...] = ()
    ordinal: int = 0
    #: What is embedded and BM25-indexed: title and heading path, then `text`.
    index_text: str = ""


@dataclass(frozen=True, slots=True)
class Citation:
    """A source shown to the user: title, decision number, date and link when known."""

    title: str
    number: str | None = None
    issued: str | None = None
    url: str | None = None
    doc_id: str = ""


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its score and the metadata of its document."""

    chunk: Chunk
    doc: DocumentMeta
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(slots=True)
class Answer:
    """What `Engine.answer` returns to every transport (Telegram, console, CLI)."""

    question: str
    text: str
    confident: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    #: Why the answer abstained or was refused: "empty", "too_long", "no_match", or None.
    reason: str | None = None
    latency_ms: float = 0.0

    @property
    def chunk_ids(self) -> list[int]:
        """Ids of the retrieved chunks, for feedback and question logs."""
        return [p.chunk.chunk_id for p in self.passages]
