"""Tests for index.dense.DenseIndex."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import dense as dense_module
from index.dense import DenseIndex

BIG_ID = 2**62 + 12345  # chunk ids are 63-bit


def _unit(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((rows, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_add_and_search_returns_ids_and_cosine() -> None:
    vectors = _unit(5, 8)
    index = DenseIndex(8)
    ids = [BIG_ID, 2, 3, 4, 5]
    index.add(ids, vectors)
    assert index.ntotal == 5 and index.dim == 8
    results = index.search(vectors[:2], k=3)
    assert results[0][0][0] == BIG_ID
    assert results[0][0][1] == pytest.approx(1.0, abs=1e-5)
    assert results[1][0][0] == 2
    assert len(results[0]) == 3
    scores = [s for _, s in results[0]]
    assert scores == sorted(scores, reverse=True)


def test_search_single_vector_and_k_larger_than_index() -> None:
    vectors = _unit(3, 4)
    index = DenseIndex(4)
    index.add([7, 8, 9], vectors)
    (hits,) = index.search(vectors[1], k=50)
    assert len(hits) == 3 and hits[0][0] == 8


def test_empty_index_search_returns_empty_lists() -> None:
    assert DenseIndex(4).search(_unit(2, 4), k=5) == [[], []]


def test_remove_drops_vectors() -> None:
    vectors = _unit(3, 4)
    index = DenseIndex(4)
    index.add([1, 2, 3], vectors)
    assert index.remove([2, 999]) == 1
    assert index.ntotal == 2
    found = {i for i, _ in index.search(vectors[1], k=3)[0]}
    assert found == {1, 3}


def test_reconstruct_returns_stored_vectors_in_order() -> None:
    vectors = _unit(3, 4)
    index = DenseIndex(4)
    index.add([10, BIG_ID, 30], vectors)
    np.testing.assert_allclose(index.reconstruct([30, BIG_ID]), vectors[[2, 1]])
    with pytest.raises(KeyError):
        index.reconstruct([31])


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    vectors = _unit(4, 6)
    index = DenseIndex(6)
    index.add([11, 12, 13, BIG_ID], vectors)
    path = tmp_path / "dense.faiss"
    index.save(path)
    loaded = DenseIndex.load(path)
    assert loaded.ntotal == 4 and loaded.dim == 6
    assert loaded.search(vectors[3], k=1)[0][0][0] == BIG_ID
    assert list(loaded.ids()) == [11, 12, 13, BIG_ID]
    np.testing.assert_allclose(loaded.reconstruct([12]), vectors[[1]])


def test_shape_mismatch_raises() -> None:
    index = DenseIndex(4)
    with pytest.raises(ValueError):
        index.add([1], _unit(1, 5))
    with pytest.raises(ValueError):
        index.add([1, 2], _unit(1, 4))


def _clustered(rows: int, dim: int, *, centres: int, noise: float, seed: int) -> np.ndarray:
    """Unit vectors drawn around random centres: realistic for IVF, unlike uniform noise."""
    rng = np.random.default_rng(seed)
    centre_vectors = _unit(centres, dim, seed=seed + 1000)
    picks = rng.integers(0, centres, size=rows)
    matrix = centre_vectors[picks] + noise * rng.standard_normal((rows, dim)) / np.sqrt(dim)
    matrix = matrix.astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> int:
    """Makes `from_vectors` switch to IVF above 2,000 vectors so tests stay fast."""
    monkeypatch.setattr(dense_module, "EXACT_SEARCH_MAX", 2_000)
    return 2_000


def test_from_vectors_small_is_exact_flat() -> None:
    vectors = _unit(50, 8)
    ids = [BIG_ID - i for i in range(50)]
    index = DenseIndex.from_vectors(ids, vectors)
    assert index.kind == "flat" and index.nprobe is None and index.nlist is None
    assert index.ntotal == 50 and index.dim == 8
    (hits,) = index.search(vectors[7], k=1)
    assert hits[0][0] == ids[7] and hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_from_vectors_empty_needs_dim() -> None:
    empty = DenseIndex.from_vectors([], np.empty((0, 4), dtype=np.float32), dim=4)
    assert empty.kind == "flat" and empty.ntotal == 0 and empty.dim == 4
    with pytest.raises(ValueError):
        DenseIndex.from_vectors([], np.empty(0, dtype=np.float32))
    with pytest.raises(ValueError):
        DenseIndex.from_vectors([1, 2], _unit(3, 4))


def test_ivf_chosen_above_threshold_with_high_recall(small_threshold: int) -> None:
    dim, rows = 32, 3_000
    vectors = _clustered(rows, dim, centres=60, noise=1.0, seed=3)
    ids = np.arange(rows, dtype=np.int64) * 7919 + BIG_ID  # stable, sparse 63-bit ids
    index = DenseIndex.from_vectors(ids, vectors)
    assert rows > small_threshold
    assert index.kind == "ivf" and index.ntotal == rows
    nlist, nprobe = index.nlist, index.nprobe
    assert nlist is not None and nprobe is not None and 1 < nprobe < nlist
    exact = DenseIndex(dim)
    exact.add(ids, vectors)
    queries = _clustered(100, dim, centres=60, noise=1.0, seed=4)
    got = index.search(queries, k=10)
    want = exact.search(queries, k=10)
    recall = np.mean(
        [len({i for i, _ in g} & {i for i, _ in w}) / 10 for g, w in zip(got, want, strict=True)]
    )
    assert recall >= 0.9
    # Scores stay cosines of the stored ids.
    top_id, top_score = got[0][0]
    stored = vectors[int(np.flatnonzero(ids == top_id)[0])]
    assert top_score == pytest.approx(float(stored @ queries[0]), abs=1e-4)


def test_ivf_ids_reconstruct_remove_and_round_trip(small_threshold: int, tmp_path: Path) -> None:
    dim, rows = 16, small_threshold + 500
    vectors = _clustered(rows, dim, centres=40, noise=0.8, seed=5)
    ids = np.arange(rows, dtype=np.int64)[::-1] * 3 + BIG_ID
    index = DenseIndex.from_vectors(ids, vectors)
    assert index.kind == "ivf"
    assert sorted(index.ids().tolist()) == sorted(ids.tolist())
    np.testing.assert_allclose(index.reconstruct(ids[[10, 0, 99]]), vectors[[10, 0, 99]])
    with pytest.raises(KeyError):
        index.reconstruct([ids[0], 12345])
    (hits,) = index.search(vectors[42], k=1)
    assert hits[0][0] == ids[42]

    assert index.remove([int(ids[42]), 12345]) == 1
    assert index.ntotal == rows - 1
    assert int(ids[42]) not in {i for i, _ in index.search(vectors[42], k=5)[0]}
    with pytest.raises(KeyError):
        index.reconstruct([ids[42]])

    index.nprobe = 5
    path = tmp_path / "dense.faiss"
    index.save(path)
    loaded = DenseIndex.load(path)
    assert loaded.kind == "ivf" and loaded.ntotal == rows - 1 and loaded.dim == dim
    assert loaded.nprobe == 5 and loaded.nlist == index.nlist
    np.testing.assert_allclose(loaded.reconstruct(ids[[7, 8]]), vectors[[7, 8]])
    assert loaded.search(vectors[7], k=1)[0][0][0] == ids[7]
    # New chunks can still be added to a loaded IVF index (it stays trained).
    loaded.add([1], vectors[42])
    assert loaded.search(vectors[42], k=1)[0][0][0] == 1


def test_flat_from_vectors_round_trip(tmp_path: Path) -> None:
    vectors = _unit(30, 6)
    ids = list(range(100, 130))
    index = DenseIndex.from_vectors(ids, vectors)
    path = tmp_path / "dense.faiss"
    index.save(path)
    loaded = DenseIndex.load(path)
    assert loaded.kind == "flat" and list(loaded.ids()) == ids
    np.testing.assert_allclose(loaded.reconstruct([129, 100]), vectors[[29, 0]])


def test_nprobe_setter_rejects_flat() -> None:
    with pytest.raises(ValueError):
        DenseIndex(4).nprobe = 3


def test_load_rejects_other_index_types(tmp_path: Path) -> None:
    import faiss

    path = tmp_path / "plain.faiss"
    faiss.write_index(faiss.IndexFlatIP(4), str(path))
    with pytest.raises(ValueError):
        DenseIndex.load(path)
