"""Tests for index.bm25_topk: the pruned top k equals bm25s's full scoring."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from index.bm25_topk import TopKScorer


def _corpus(rng: np.random.Generator, docs: int, vocab: int) -> list[list[str]]:
    # Zipf-like syllables: a few in nearly every document, a long tail of rare ones; every
    # frequent word also gets a "folded twin" with the same postings, as accents give.
    weights = 1.0 / np.arange(1, vocab + 1)
    weights /= weights.sum()
    corpus = []
    for _ in range(docs):
        words = [f"w{i}" for i in rng.choice(vocab, size=int(rng.integers(1, 40)), p=weights)]
        corpus.append(words + [f"{w}_f" for w in words if int(w[1:]) < 5])
    return corpus


def _index(corpus: list[list[str]], *, full_below: int = 0) -> tuple[bm25s.BM25, TopKScorer]:
    # full_below=0: every query takes the pruned path, whatever its size.
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    matrix = bm25.scores
    scorer = TopKScorer(
        matrix["data"], matrix["indices"], matrix["indptr"], int(matrix["num_docs"]),
        full_below=full_below,
    )  # fmt: skip
    return bm25, scorer


def _reference(bm25: bm25s.BM25, ids: list[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(bm25.get_scores(ids), dtype=np.float32)
    order = np.lexsort((np.arange(scores.size), -scores))[:k]
    return order, scores[order]


@pytest.mark.parametrize(("seed", "full_below"), [(s, 0) for s in range(12)] + [(12, 10**9)])
def test_top_k_equals_full_scoring(seed: int, full_below: int) -> None:
    rng = np.random.default_rng(seed)
    docs = int(rng.integers(1, 3000))
    bm25, scorer = _index(_corpus(rng, docs=docs, vocab=300), full_below=full_below)
    vocab = np.arange(len(bm25.scores["indptr"]) - 1)
    for _ in range(25):
        # Repeats on purpose: bm25s counts a repeated query token again.
        ids = [int(t) for t in rng.choice(vocab, size=int(rng.integers(1, 30)))]
        k = int(rng.choice([1, 5, 10, 50, 200]))
        rows, scores = scorer.top_k(ids, k)
        want_rows, want_scores = _reference(bm25, ids, k)
        np.testing.assert_array_equal(scores, want_scores)  # bit-identical, not just close
        np.testing.assert_array_equal(rows, want_rows)


def test_full_scores_match_bm25s() -> None:
    bm25, scorer = _index(_corpus(np.random.default_rng(0), docs=500, vocab=100))
    ids = [3, 3, 7, 0, 42]
    np.testing.assert_array_equal(scorer.scores(ids), bm25.get_scores(ids))


def test_rare_terms_prune_the_frequent_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(np.random.default_rng(1), docs=5000, vocab=300)
    bm25, scorer = _index(corpus)
    vocab = bm25.vocab_dict
    common = [vocab[w] for w in ("w0", "w0_f", "w1", "w1_f", "w2", "w3")]
    rare = [vocab[w] for w in ("w250", "w280", "w290") if w in vocab]
    added: list[int] = []
    real_add = scorer._add

    def spy(acc: np.ndarray, term: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        added.append(term)
        return real_add(acc, term, count)

    monkeypatch.setattr(scorer, "_add", spy)
    rows, scores = scorer.top_k(rare + common, 10)
    want_rows, want_scores = _reference(bm25, rare + common, 10)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(scores, want_scores)
    assert set(added) <= set(rare)  # the frequent columns were only looked up
    assert not set(added) & set(common)


def test_unsorted_columns_are_sorted_first() -> None:
    bm25, _ = _index(_corpus(np.random.default_rng(2), docs=400, vocab=60))
    matrix = bm25.scores
    data, indices, indptr = (np.array(matrix[key]) for key in ("data", "indices", "indptr"))
    for column in range(len(indptr) - 1):  # reverse every column's rows
        part = slice(indptr[column], indptr[column + 1])
        data[part], indices[part] = data[part][::-1].copy(), indices[part][::-1].copy()
    scorer = TopKScorer(data, indices, indptr, int(matrix["num_docs"]), full_below=0)
    ids = [0, 1, 5, 20, 33, 33]
    rows, scores = scorer.top_k(ids, 20)
    want_rows, want_scores = _reference(bm25, ids, 20)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(scores, want_scores)


def test_small_queries_are_scored_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    bm25, scorer = _index(_corpus(np.random.default_rng(3), docs=300, vocab=50), full_below=10**6)
    monkeypatch.setattr(scorer, "_add", lambda *_a: pytest.fail("the pruned path ran"))
    rows, scores = scorer.top_k([0, 4, 4, 9], 7)
    want_rows, want_scores = _reference(bm25, [0, 4, 4, 9], 7)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(scores, want_scores)


def test_identical_columns_share_one() -> None:
    bm25, scorer = _index([["a", "b", "c"], ["a", "b"], ["c", "d"]])
    vocab = bm25.vocab_dict
    assert scorer.canonical[vocab["a"]] == scorer.canonical[vocab["b"]]
    assert scorer.canonical[vocab["c"]] != scorer.canonical[vocab["a"]]


def test_empty_query_or_k_gives_nothing() -> None:
    _, scorer = _index([["a", "b"], ["c"]])
    assert scorer.top_k([], 5)[0].size == 0
    assert scorer.top_k([0], 0)[0].size == 0


def test_unknown_token_id_is_refused() -> None:
    _, scorer = _index([["a", "b"], ["c"]])
    with pytest.raises(ValueError, match="columns"):
        scorer.top_k([99], 5)


def test_k_above_the_rows_returns_every_row() -> None:
    bm25, scorer = _index([["a", "b"], ["b"], ["c"]])
    rows, scores = scorer.top_k([bm25.vocab_dict["b"]], 10)
    assert rows.tolist() == [1, 0, 2]  # the shorter document first, then score 0 by row
    assert scores[2] == 0.0
