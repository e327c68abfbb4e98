"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates fused into one ranking.

The two retrievers fail in different ways, which is why both are used:

* the e5 model understands paraphrases but collapses on Vietnamese typed without
  diacritics ("ho tro khuyen cong"), because those strings are nearly out of vocabulary;
* BM25 over diacritic-folded syllables is immune to missing accents and exact on decree
  numbers ("nđ 45" -> "45/2012/nđ-cp"), but blind to synonyms.

Fusion (`index.fusion`) is either Reciprocal Rank Fusion or a weighted sum of min-max
normalised scores; the head of the fused list is then reordered by the passage ranker.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from index.fusion import Fusion, ScoredId, limit_per_doc, rrf_fuse, weighted_fuse
from index.glossary import Glossary, shipped_glossary
from index.in_force_order import InForceOrder
from index.lexicon import TermStats
from index.passage_features import HeadFeatures
from index.passage_ranker import PassageRanker, default_ranker
from index.passage_ranker import order as ranker_order
from index.question import lexical_query, looks_accentless_vietnamese
from index.schema import Chunk, DocumentMeta, Passage, RetrievalMode

if TYPE_CHECKING:
    from index.settings import Settings

#: How many candidates each retriever contributes before fusion.
CANDIDATE_POOL = 50
#: Fused candidates re-scored by the passage ranker (`index.passage_ranker`).
RERANK_DEPTH = 10
#: Dense weight used when the query is Vietnamese typed without diacritics. It was 0.3 when
#: the raw or ViDiac-restored text was embedded; with the index's own restorer
#: (`index.accents`), swept on the tuning files typed without accents: answer_first
#: 0.737 / 0.816 / 0.789 at 0.3 / 0.5 / 0.7 (tuning_legal), 0.700 / 0.750 / 0.750 (tuning_typed).
#: Held out at 0.5: hit@1 0.895 -> 0.947 on the holdout typed without accents. Since the
#: default `Settings.dense_weight` is 0.5 too, this and `ENGLISH_DENSE_WEIGHT` only cap a
#: higher configured share.
ACCENTLESS_DENSE_WEIGHT = 0.5
#: Dense weight for English questions rendered through the glossary: BM25 then matches the
#: Vietnamese terms exactly, while the cross-lingual cosine is weaker.
ENGLISH_DENSE_WEIGHT = 0.5
#: Append the Vietnamese glossary terms to an English question before embedding it.
EMBED_ENGLISH_TERMS = True


@dataclass(slots=True)
class Retrieval:
    """Passages of one search plus the raw evidence behind them."""

    passages: list[Passage]
    mode: RetrievalMode
    #: Best cosine among the dense candidates (None when dense search did not run).
    top_dense: float | None = None
    #: Best BM25 score among the lexical candidates (None when none matched).
    top_bm25: float | None = None
    #: The query was Vietnamese typed without diacritics.
    accentless: bool = False
    #: The query embedding used for the dense search (None when it did not run).
    query_vector: np.ndarray | None = None


class HybridRetriever:
    """Searches one loaded index with the dense model, BM25, or both fused.

    The retriever holds no mutable state, so many threads may search at once.

    Args:
        index: A `index.store.LoadedIndex` (chunks, docs, dense, lexical).
        model: The SentenceTransformer used to build the index.
        settings: Mode, fusion and weight defaults.
        pool: Candidates taken from each retriever before fusion.
        max_per_doc: Optional cap of chunks per document in the results.
        stats: Word statistics of the index; enables the unit-level rerank of hybrid
            results (see `rerank`).
        units: The index's answer units (`index.units.UnitStore`), whose stored tokens the
            rerank matches; defaults to `index.units`.
        encoder: Query embedding with a vector cache (`index.embedding.QueryEncoder`);
            the model is called directly when None.
        ranker: Orders the head of the fused list (`index.passage_ranker`); the hand-set
            default when None.
    """

    def __init__(
        self,
        index: Any,
        model: Any,
        settings: Settings,
        *,
        pool: int = CANDIDATE_POOL,
        max_per_doc: int | None = None,
        stats: TermStats | None = None,
        units: Any = None,
        encoder: Any | None = None,
        ranker: PassageRanker | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.model = model
        self.settings = settings
        self.pool = pool
        self.max_per_doc = max_per_doc
        self.stats = stats
        self.ranker = ranker or default_ranker()
        self.glossary = glossary or shipped_glossary()
        self._chunks: dict[int, Chunk] = _chunk_map(index.chunks)
        self._docs: dict[str, DocumentMeta] = _doc_map(index.docs)
        self._doc_of = {cid: chunk.doc_id for cid, chunk in self._chunks.items()}
        self.in_force = InForceOrder(self._docs, self._doc_of)
        self.features = HeadFeatures(
            self._chunks, self._docs, stats,
            units if units is not None else getattr(index, "units", None),
            glossary=self.glossary,
        )  # fmt: skip

    def encode(self, query: str) -> np.ndarray:
        """Embeds one query (with the model's query prefix) as a (1, dim) float32 array."""
        if self.encoder is not None:
            return np.asarray(self.encoder.encode(query), dtype=np.float32).reshape(1, -1)
        from index.embedding import encode_queries

        vectors = encode_queries(self.model, [query])
        return np.asarray(vectors, dtype=np.float32).reshape(1, -1)

    def dense_candidates(self, vector: np.ndarray, pool: int) -> list[tuple[int, float]]:
        """Returns (chunk_id, cosine) pairs from FAISS, best first."""
        raw = self.index.dense.search(vector, pool)
        return _pairs_from_dense(raw)

    def bm25_candidates(self, query: str, pool: int) -> list[tuple[int, float]]:
        """Returns (chunk_id, BM25 score) pairs with a positive score, best first."""
        hits = self.index.lexical.search(query, pool)
        return [(int(cid), float(score)) for cid, score in hits if float(score) > 0.0]

    def fuse(
        self,
        query: str,
        dense: Sequence[tuple[int, float]],
        bm25: Sequence[tuple[int, float]],
        *,
        mode: RetrievalMode,
        fusion: Fusion | None = None,
    ) -> list[ScoredId]:
        """Combines the candidate lists according to the mode and fusion method."""
        if mode == "dense":
            return [ScoredId(cid, s, s, None) for cid, s in dense]
        if mode == "bm25":
            return [ScoredId(cid, s, None, s) for cid, s in bm25]
        method = fusion or self.settings.fusion
        if method == "rrf":
            return rrf_fuse(dense, bm25, dense_weight=self.dense_weight_for(query, 0.5))
        return weighted_fuse(dense, bm25, dense_weight=self.dense_weight_for(query))

    def dense_weight_for(self, query: str, weight: float | None = None) -> float:
        """Share of the dense list in the fusion, lowered for accent-less Vietnamese queries.

        Args:
            query: The query.
            weight: The normal share (`Settings.dense_weight` when None).

        Returns:
            The share to use for this query.
        """
        weight = self.settings.dense_weight if weight is None else weight
        if looks_accentless_vietnamese(query):
            return min(weight, ACCENTLESS_DENSE_WEIGHT)
        if self.glossary.english_terms(query) is not None:
            return min(weight, ENGLISH_DENSE_WEIGHT)
        return weight

    def rerank(
        self,
        query: str,
        results: Sequence[ScoredId],
        tokens: Sequence[str] | None = None,
        *,
        dense: Sequence[tuple[int, float]] = (),
        bm25: Sequence[tuple[int, float]] = (),
        vector: np.ndarray | None = None,
    ) -> list[ScoredId]:
        """Reorders the head of a fused list with the passage ranker.

        Fusion scores whole chunks; a chunk that holds one sentence with all the question's
        rare words ("5 mô hình trình diễn kỹ thuật") is a better answer than one that
        mentions them all over, and the article of the law a question names is a better
        source than our guide that summarises it. `index.passage_ranker` scores the first
        `RERANK_DEPTH` results from their retrieval scores, their best unit match and what
        they are (see `index.passage_features`).

        Args:
            query: The query.
            results: Fused results, best first.
            tokens: Folded content tokens of the query (from the query when None).
            dense: The dense candidates (for the cosine features).
            bm25: The BM25 candidates (for the BM25 feature).
            vector: The query embedding (for the unit cosine feature).

        Returns:
            The results with the first `RERANK_DEPTH` reordered.
        """
        head = list(results[:RERANK_DEPTH])
        if not head or head[0].score <= 0 or self.stats is None:
            return list(results)
        features = self.features.rows(
            query, head, tokens, dense=dense, bm25=bm25, vector=vector, needed=self.ranker.used
        )
        scores = self.ranker.scores(features)
        reordered = [
            replace(head[i], rank_score=float(scores[i])) for i in ranker_order(list(scores))
        ]
        return reordered + list(results[RERANK_DEPTH:])

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: RetrievalMode | None = None,
        fusion: Fusion | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """Finds the k most relevant chunks for a query.

        Args:
            query: The user's question (any Unicode normalisation form).
            k: Number of passages to return.
            mode: "dense", "bm25" or "hybrid"; the settings' mode when None.
            fusion: "weighted" or "rrf"; the settings' fusion when None.
            query_vector: A pre-computed query embedding, to skip the model (benchmarks).

        Returns:
            Passages, best first, with the fused score and each retriever's raw score.
        """
        return self.retrieve(
            query, k=k, mode=mode, fusion=fusion, query_vector=query_vector
        ).passages

    def retrieve(
        self,
        query: str,
        *,
        k: int = 5,
        mode: RetrievalMode | None = None,
        fusion: Fusion | None = None,
        query_vector: np.ndarray | None = None,
        dense_text: str | None = None,
        lexical_text: str | None = None,
        tokens: Sequence[str] | None = None,
    ) -> Retrieval:
        """Like `search`, and also returns the best raw score of each retriever.

        Args:
            query: The user's question (any Unicode normalisation form).
            k: Number of passages to return.
            mode: "dense", "bm25" or "hybrid"; the settings' mode when None.
            fusion: "weighted" or "rrf"; the settings' fusion when None.
            query_vector: A pre-computed query embedding, to skip the model (benchmarks).
            dense_text: What to embed (`index.question.Query.dense_text`); by default the
                query, with the glossary terms of an English question appended.
            lexical_text: What BM25 searches; by default `lexical_query(query)`.
            tokens: Folded content tokens for the rerank; by default from the query.

        Returns:
            The passages, the query vector and the raw evidence of each retriever.
        """
        query = unicodedata.normalize("NFC", query).strip()
        mode = mode or self.settings.retrieval_mode
        if not query or k <= 0:
            return Retrieval(passages=[], mode=mode)
        results, dense, bm25, vector = self._candidates(
            query, k=k, mode=mode, fusion=fusion, query_vector=query_vector,
            dense_text=dense_text, lexical_text=lexical_text,
        )  # fmt: skip
        if mode == "hybrid" and self.stats is not None:
            results = self.rerank(query, results, tokens, dense=dense, bm25=bm25, vector=vector)
        results = self.in_force.reorder(query, results, depth=max(k, RERANK_DEPTH))
        if self.max_per_doc:
            results = limit_per_doc(results, self._doc_of, k=k, max_per_doc=self.max_per_doc)
        passages = [p for p in (self._passage(item) for item in results[:k]) if p is not None]
        return Retrieval(
            passages=passages,
            mode=mode,
            top_dense=dense[0][1] if dense else None,
            top_bm25=bm25[0][1] if bm25 else None,
            accentless=looks_accentless_vietnamese(query),
            query_vector=None if vector is None else vector.reshape(-1),
        )

    def fused(
        self, query: str, *, dense_text: str | None = None, lexical_text: str | None = None
    ) -> tuple[
        list[ScoredId], list[tuple[int, float]], list[tuple[int, float]], np.ndarray | None
    ]:
        """The hybrid fused list before the rerank, each retriever's candidates, the vector."""
        query = unicodedata.normalize("NFC", query).strip()
        results, dense, bm25, vector = self._candidates(
            query, k=RERANK_DEPTH, mode="hybrid", fusion=None, query_vector=None,
            dense_text=dense_text, lexical_text=lexical_text,
        )  # fmt: skip
        return results, dense, bm25, vector

    def _candidates(
        self,
        query: str,
        *,
        k: int,
        mode: RetrievalMode,
        fusion: Fusion | None,
        query_vector: np.ndarray | None,
        dense_text: str | None,
        lexical_text: str | None,
    ) -> tuple[
        list[ScoredId], list[tuple[int, float]], list[tuple[int, float]], np.ndarray | None
    ]:
        """Both retrievers' candidates and their fusion, with the query vector."""
        pool = max(self.pool, k)
        dense: list[tuple[int, float]] = []
        bm25: list[tuple[int, float]] = []
        english = self.glossary.english_terms(query)
        vector: np.ndarray | None = None
        if mode in ("dense", "hybrid"):
            dense_query = dense_text
            if dense_query is None:
                dense_query = query
                if english is not None and EMBED_ENGLISH_TERMS:
                    dense_query = f"{query} ({english.text})"
            vector = query_vector if query_vector is not None else self.encode(dense_query)
            vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
            dense = self.dense_candidates(vector, pool)
        if mode in ("bm25", "hybrid"):
            bm25 = self.bm25_candidates(lexical_text or lexical_query(query, self.glossary), pool)
        return self.fuse(query, dense, bm25, mode=mode, fusion=fusion), dense, bm25, vector

    def _passage(self, item: ScoredId) -> Passage | None:
        chunk = self._chunks.get(item.chunk_id)
        if chunk is None:
            return None
        doc = self._docs.get(chunk.doc_id) or DocumentMeta(doc_id=chunk.doc_id, title=chunk.doc_id)
        return Passage(
            chunk=chunk,
            doc=doc,
            score=float(item.score),
            dense_score=None if item.dense_score is None else float(item.dense_score),
            bm25_score=None if item.bm25_score is None else float(item.bm25_score),
            rank_score=item.rank_score,
        )


def _chunk_map(chunks: Any) -> dict[int, Chunk]:
    if isinstance(chunks, Mapping):
        return {int(cid): chunk for cid, chunk in chunks.items()}
    return {chunk.chunk_id: chunk for chunk in chunks}


def _doc_map(docs: Any) -> dict[str, DocumentMeta]:
    if isinstance(docs, Mapping):
        return dict(docs)
    return {doc.doc_id: doc for doc in docs}


def _pairs_from_dense(raw: Sequence[Sequence[tuple[int, float]]]) -> list[tuple[int, float]]:
    # DenseIndex.search answers one list per query vector; we always send one vector.
    return [(int(cid), float(score)) for cid, score in (raw[0] if raw else []) if cid >= 0]
