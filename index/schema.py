"""Plain data types shared by the core and its adapters (no I/O here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RetrievalMode = Literal["hybrid", "dense", "bm25"]

#: Legal status of a document. `amended` is still in force, partly changed; `superseded`
#: and `expired` are no longer in force; news items are `not_applicable`.
DocStatus = Literal["in_force", "amended", "superseded", "expired", "unknown", "not_applicable"]
DOC_STATUSES: tuple[str, ...] = (
    "in_force",
    "amended",
    "superseded",
    "expired",
    "unknown",
    "not_applicable",
)
#: Statuses of a document that no longer applies.
NOT_IN_FORCE: frozenset[str] = frozenset({"superseded", "expired"})
#: Statuses that need a notice next to a citation (not fully in force).
NEEDS_NOTICE: frozenset[str] = frozenset({"amended", "superseded", "expired"})
#: Metadata fields that may hold one document number or a list of them. `based_on` names
#: the legal texts one of our own guides summarises (a guide never takes a law's number).
RELATION_FIELDS: tuple[str, ...] = ("amended_by", "superseded_by", "replaces", "based_on")

#: What an answer is, for every adapter and the evaluation:
#: answered (passages answer it), unknown (in scope, but the value asked for is not in the
#: documents), refused (out of scope or nothing fits), routed (an action such as
#: registering), invalid (empty or over-long input).
Outcome = Literal["answered", "unknown", "refused", "routed", "invalid"]


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """Metadata of one source document, from its front matter, sidecar or header."""

    doc_id: str
    title: str
    doc_type: str = "news"
    number: str | None = None
    issued: str | None = None  # ISO date (YYYY-MM-DD) when known
    issuer: str | None = None
    province: str | None = None  # None or "national" for national documents
    source: str | None = None
    url: str | None = None
    status: str = "unknown"  # one of DOC_STATUSES
    effective: str | None = None  # ISO date the document took effect
    expired_on: str | None = None  # ISO date it stopped applying
    amended_by: tuple[str, ...] = ()
    superseded_by: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    based_on: tuple[str, ...] = ()
    #: False when the library holds only part of the text (front matter `complete: false`).
    complete: bool = True
    path: str = ""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DocumentMeta:
        """Rebuilds metadata stored as JSON (lists back to tuples, unknown keys dropped)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in raw.items() if k in names}
        for key in RELATION_FIELDS:
            value = values.get(key)
            if value is None:
                values[key] = ()
            elif isinstance(value, str):
                values[key] = (value,) if value.strip() else ()
            else:
                values[key] = tuple(str(v) for v in value)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (tuples as lists)."""
        data = dataclasses.asdict(self)
        for key in RELATION_FIELDS:
            data[key] = list(data[key])
        return data


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
    #: Legal structure of the chunk, outermost first: ("Chương II", "Điều 5", "Khoản 1").
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Citation:
    """A source shown to the user: the article, the document and its status."""

    title: str
    number: str | None = None
    issued: str | None = None
    url: str | None = None
    doc_id: str = ""
    #: "Điều 5 khoản 1" when the passage sits in an article; None otherwise.
    article: str | None = None
    doc_type: str | None = None
    status: str = "unknown"
    amended_by: tuple[str, ...] = ()
    superseded_by: tuple[str, ...] = ()
    expired_on: str | None = None
    #: False when the library holds only part of the document's text.
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its score and the metadata of its document."""

    chunk: Chunk
    doc: DocumentMeta
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    #: The passage ranker's score (`index.passage_ranker`), None when it did not score it.
    rank_score: float | None = None


@dataclass(slots=True)
class Answer:
    """What `Engine.answer` returns to every transport (Telegram, console, CLI)."""

    question: str
    text: str
    confident: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    #: Why the answer abstained or was refused: "empty", "too_long", "no_match", or None;
    #: of an unknown, "partial_text" when the document asked is only partly in the library.
    reason: str | None = None
    latency_ms: float = 0.0
    #: The explicit outcome adapters and the evaluation read (see `Outcome`).
    outcome: Outcome = "answered"
    #: The action for a routed answer ("register", "talk_to_staff", ...), or the topic.
    intent: str | None = None
    #: Calibrated probability that the answer is right (None when not computed).
    confidence: float | None = None
    #: The question actually searched, after follow-up rewriting ("" when not searched).
    resolved: str = ""

    @property
    def chunk_ids(self) -> list[int]:
        """Ids of the retrieved chunks, for feedback and question logs."""
        return [p.chunk.chunk_id for p in self.passages]
