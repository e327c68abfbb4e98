"""Fusion math, query normalisation and hybrid search over small and real indexes."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pytest

from index.dense import DenseIndex
from index.fusion import ScoredId, limit_per_doc, min_max, rrf_fuse, weighted_fuse
from index.lexical import LexicalIndex
from index.question import looks_accentless_vietnamese
from index.retrieval import HybridRetriever
from index.schema import Chunk, DocumentMeta
from index.settings import Settings
from index.store import LoadedIndex
from index.textnorm import fold_diacritics, has_diacritics

if TYPE_CHECKING:
    from index.engine import Engine


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf_fuse([(1, 0.9), (2, 0.8)], [(2, 7.0), (3, 4.0)], k=60)
    assert [item.chunk_id for item in fused] == [2, 1, 3]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1].score == pytest.approx(1 / 61)
    assert fused[2].score == pytest.approx(1 / 62)
    # Raw scores of each retriever travel with the fused result.
    assert fused[0] == ScoredId(2, fused[0].score, 0.8, 7.0)
    assert fused[1].bm25_score is None and fused[2].dense_score is None


def test_weighted_normalises_each_list_and_counts_missing_as_zero() -> None:
    dense = [(1, 0.90), (2, 0.85), (3, 0.80)]
    bm25 = [(3, 10.0), (4, 6.0), (1, 2.0)]
    fused = {item.chunk_id: item.score for item in weighted_fuse(dense, bm25, dense_weight=0.7)}
    assert fused[1] == pytest.approx(0.7 * 1.0 + 0.3 * 0.0)
    assert fused[2] == pytest.approx(0.7 * 0.5)  # absent from BM25
    assert fused[3] == pytest.approx(0.7 * 0.0 + 0.3 * 1.0)
    assert fused[4] == pytest.approx(0.3 * 0.5)  # absent from dense
    order = [item.chunk_id for item in weighted_fuse(dense, bm25, dense_weight=0.7)]
    assert order == [1, 2, 3, 4]
    # With all weight on BM25 the lexical order wins.
    order = [item.chunk_id for item in weighted_fuse(dense, bm25, dense_weight=0.0)]
    assert order[:2] == [3, 4]


def test_min_max_edge_cases() -> None:
    assert min_max([]) == []
    assert min_max([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert min_max([5.0, 5.0]) == [1.0, 1.0]  # one equally good pool
    assert min_max([0.0]) == [0.0]


def test_limit_per_doc_moves_extra_chunks_back() -> None:
    items = [ScoredId(i, 1.0 - i / 10) for i in range(1, 6)]
    doc_of = {1: "a", 2: "a", 3: "a", 4: "b", 5: "c"}
    kept = limit_per_doc(items, doc_of, k=4, max_per_doc=2)
    assert [item.chunk_id for item in kept] == [1, 2, 4, 5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chuong trinh khuyen cong ho tro nhung gi", True),
        ("quyet dinh phe duyet chuong trinh khuyen cong", True),
        ("Chương trình khuyến công hỗ trợ gì", False),
        ("Recommend a good laptop for programming", False),
        ("hihi", False),
        ("qd 2665", False),
    ],
)
def test_accentless_detection(text: str, expected: bool) -> None:
    assert looks_accentless_vietnamese(text) is expected


def test_diacritic_detection_sees_nfd_and_d_bar() -> None:
    assert has_diacritics(unicodedata.normalize("NFD", "khuyến"))
    assert has_diacritics("đi")
    assert not has_diacritics("khuyen cong")


TOY_TEXTS = {
    1: "Nghị định 45/2012/NĐ-CP quy định về khuyến công và đối tượng được hỗ trợ.",
    2: "Hội chợ triển lãm hàng công nghiệp nông thôn được tổ chức hằng năm.",
    3: "Thời gian đăng ký đề án khuyến công địa phương là trước ngày 30 tháng 6.",
}


@pytest.fixture
def toy_retriever() -> HybridRetriever:
    """A three-chunk index with hand-made vectors: chunk k points along axis k."""
    dim = 4
    dense = DenseIndex(dim)
    dense.add(list(TOY_TEXTS), np.eye(dim, dtype=np.float32)[1:4])
    lexical = LexicalIndex()
    lexical.build(list(TOY_TEXTS), list(TOY_TEXTS.values()))
    chunks = {cid: Chunk(chunk_id=cid, doc_id=f"d{cid}", text=t) for cid, t in TOY_TEXTS.items()}
    docs = {f"d{cid}": DocumentMeta(doc_id=f"d{cid}", title=f"Doc {cid}") for cid in TOY_TEXTS}
    index = LoadedIndex(
        version="toy",
        path=None,
        manifest={},
        chunks=chunks,
        docs=docs,  # type: ignore[arg-type]
        dense=dense,
        lexical=lexical,
    )
    return HybridRetriever(index, model=None, settings=Settings())


def test_toy_modes_rank_by_their_own_signal(toy_retriever: HybridRetriever) -> None:
    vector = np.array([0.0, 0.0, 0.0, 1.0], dtype=np.float32)  # closest to chunk 3
    dense = toy_retriever.search("hội chợ", k=3, mode="dense", query_vector=vector)
    assert dense[0].chunk.chunk_id == 3
    assert dense[0].dense_score == pytest.approx(1.0) and dense[0].bm25_score is None
    bm25 = toy_retriever.search("hội chợ", k=3, mode="bm25")
    assert [p.chunk.chunk_id for p in bm25] == [2]
    hybrid = toy_retriever.search("hội chợ", k=3, mode="hybrid", query_vector=vector)
    assert {p.chunk.chunk_id for p in hybrid[:2]} == {2, 3}
    assert hybrid[0].doc.title.startswith("Doc ")


def test_toy_legal_number_and_accentless_queries(toy_retriever: HybridRetriever) -> None:
    assert toy_retriever.search("nđ 45", k=1, mode="bm25")[0].chunk.chunk_id == 1
    assert toy_retriever.search("nghi dinh 45", k=1, mode="bm25")[0].chunk.chunk_id == 1
    assert toy_retriever.search("hoi cho trien lam", k=1, mode="bm25")[0].chunk.chunk_id == 2
    assert toy_retriever.search("   ", k=3, mode="bm25") == []


def test_accentless_query_leans_on_bm25(toy_retriever: HybridRetriever) -> None:
    # The default share (0.5) is already the accent-less one; a configured higher share is
    # lowered for an accent-less question only.
    assert toy_retriever.dense_weight_for("hoi cho trien lam o dau", 0.7) < 0.7
    assert toy_retriever.dense_weight_for("hội chợ triển lãm ở đâu", 0.7) == 0.7
    assert toy_retriever.dense_weight_for("hoi cho trien lam o dau") <= Settings().dense_weight


# --- the real knowledge base -------------------------------------------------------------

REAL_QUERIES = [
    "Quyết định phê duyệt Chương trình khuyến công tỉnh Quảng Nam 2021-2025",
    "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?",
    "Hội nghị công tác khuyến công tỉnh Vĩnh Long năm 2016",
]


@pytest.mark.slow
@pytest.mark.parametrize("query", REAL_QUERIES)
def test_nfc_and_nfd_queries_rank_the_same(engine: Engine, query: str) -> None:
    nfc = [p.chunk.chunk_id for p in engine.search(unicodedata.normalize("NFC", query), k=5)]
    nfd = [p.chunk.chunk_id for p in engine.search(unicodedata.normalize("NFD", query), k=5)]
    assert nfc and nfc == nfd


@pytest.mark.slow
@pytest.mark.parametrize("query", REAL_QUERIES)
def test_accentless_query_finds_the_same_top_document(engine: Engine, query: str) -> None:
    accented = engine.search(query, k=1)[0].doc.doc_id
    folded = engine.search(fold_diacritics(query), k=3)
    assert accented in {p.doc.doc_id for p in folded[:1]}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "number"),
    [("qd 2665", "2665/QĐ-UBND"), ("nđ 45", "45/2012/NĐ-CP"), ("chỉ thị 04", "04/CT-BCT")],
)
def test_legal_number_shorthand_finds_the_document(engine: Engine, query: str, number: str) -> None:
    passages = engine.search(query, k=3)
    assert any(number in p.chunk.text for p in passages), [p.doc.doc_id for p in passages]
