"""Hybrid search at scale for `scripts.bench`: a synthetic index and the timed searches.

The index has `chunks` chunks: clustered unit vectors for FAISS and generated
Vietnamese-like text for BM25 (`scripts.bench_inputs.synthetic_texts`). Each query is embedded
once, so only the search is timed. Wall time is the key the targets use; CPU time of the
process is reported beside it because other work on the machine stretches wall time, and
BM25 and the dense search are timed alone on the same queries to show where it goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scripts.eval_metrics import percentile

if TYPE_CHECKING:
    from index.settings import Settings


def synthetic_index(n: int, dim: int, *, seed: int = 0) -> Any:
    """A `LoadedIndex` of `n` chunks: random unit vectors and generated text."""
    from index.dense import DenseIndex
    from index.lexical import LexicalIndex
    from index.schema import Chunk, DocumentMeta
    from index.store import LoadedIndex
    from index.units import UnitStore
    from scripts.bench_inputs import synthetic_texts

    rng = np.random.default_rng(seed)
    # Real embeddings cluster by topic; uniform random vectors would make IVF recall
    # meaningless, so draw them around random centres.
    centres = rng.standard_normal((min(2000, n), dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    vectors = centres[rng.integers(0, len(centres), size=n)] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = list(range(1, n + 1))
    # Above EXACT_SEARCH_MAX vectors this is an IVF index, as a real build would make.
    dense = DenseIndex.from_vectors(ids, vectors)
    texts = synthetic_texts(n, seed=seed)
    lexical = LexicalIndex()
    lexical.build(ids, texts)
    docs = {f"doc-{d}": DocumentMeta(doc_id=f"doc-{d}", title=f"Tài liệu {d}") for d in range(100)}
    chunks = {
        cid: Chunk(chunk_id=cid, doc_id=f"doc-{cid % 100}", text=text)
        for cid, text in zip(ids, texts, strict=True)
    }
    return LoadedIndex(
        version="synthetic",
        path=Path("."),
        manifest={"chunk_count": n, "doc_count": len(docs)},
        chunks=chunks,
        docs=docs,
        dense=dense,
        lexical=lexical,
        units=UnitStore([], np.empty((0, dim), dtype=np.float32)),
    )


def _timed_both(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, CPU ms of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000.0, (time.process_time() - cpu) * 1000.0


def synthetic_search(
    settings: Settings,
    model: Any,
    queries: list[str],
    *,
    chunks: int,
    on_built: Callable[[], None] = lambda: None,
    step: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Times `HybridRetriever.search(q, k=5, query_vector=v)` over a synthetic index.

    Args:
        settings: Retrieval settings (mode, fusion, weights).
        model: The serving model: its dimension, and each distinct query embedded once.
        queries: The timed queries, in order.
        chunks: Chunks of the synthetic index.
        on_built: Called once the index is built (progress).
        step: Called after each query (progress).

    Returns:
        synthetic_chunks, search_p50_ms_100k / search_p95_ms_100k (wall, the target's
        keys), search_cpu_p50_ms_100k / search_cpu_p95_ms_100k, and the BM25 and dense
        searches alone: search_bm25_p50_ms_100k, search_bm25_p95_ms_100k,
        search_dense_p50_ms_100k, search_dense_p95_ms_100k (wall).
    """
    from index.embedding import embedding_dim, encode_queries
    from index.lexicon import TermStats
    from index.question import lexical_query
    from index.retrieval import HybridRetriever
    from index.textnorm import content_tokens

    big = synthetic_index(chunks, embedding_dim(model))
    stats = TermStats(content_tokens(chunk.text) for chunk in big.chunks.values())
    on_built()
    retriever = HybridRetriever(big, model, settings, stats=stats)
    distinct = list(dict.fromkeys(queries))
    embedded = np.asarray(encode_queries(model, distinct), dtype=np.float32)
    vectors = dict(zip(distinct, embedded, strict=True))
    for query in distinct:  # warm-up: first calls allocate and fill caches
        retriever.search(query, k=5, query_vector=vectors[query])
    samples: dict[str, list[float]] = {"wall": [], "cpu": [], "bm25": [], "dense": []}
    for query in queries:
        vector = vectors[query]
        wall, cpu = _timed_both(lambda q=query, v=vector: retriever.search(q, k=5, query_vector=v))  # type: ignore[misc]
        samples["wall"].append(wall)
        samples["cpu"].append(cpu)
        lexical = lexical_query(query)
        samples["bm25"].append(
            _timed_both(lambda t=lexical: retriever.bm25_candidates(t, retriever.pool))[0]  # type: ignore[misc]
        )
        matrix = vector.reshape(1, -1)
        samples["dense"].append(
            _timed_both(lambda m=matrix: retriever.dense_candidates(m, retriever.pool))[0]  # type: ignore[misc]
        )
        step()
    results = {"synthetic_chunks": float(chunks)}
    for name, prefix in (("wall", "search"), ("cpu", "search_cpu"), ("bm25", "search_bm25"),
                         ("dense", "search_dense")):  # fmt: skip
        results[f"{prefix}_p50_ms_100k"] = round(percentile(samples[name], 50), 3)
        results[f"{prefix}_p95_ms_100k"] = round(percentile(samples[name], 95), 3)
    return results
