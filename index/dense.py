"""Dense vector index: FAISS inner-product search keyed by stable chunk ids.

Small indexes (our real knowledge base has ~100 chunks) use exact flat search; large ones
use an inverted-file index (IVF), because a flat scan of 100k x 384 vectors costs ~25-45 ms
per query on 2 cores (it reads the whole matrix), above the 10 ms search budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
DenseKind = Literal["flat", "ivf"]

#: OpenMP threads faiss starts with; restored for large query batches and for training.
_DEFAULT_THREADS = faiss.omp_get_max_threads()
#: Below this many queries one thread is faster: OpenMP start-up costs more than the scan
#: (measured on 2 cores, 100k x 384 flat: p95 50 ms with 1 thread vs 180 ms with 2).
_SINGLE_THREAD_MAX_QUERIES = 16

#: Up to this many vectors `from_vectors` builds an exact flat index (exact is best for
#: small knowledge bases, and 20k x 384 flat still scans in a few ms); above it, IVF.
EXACT_SEARCH_MAX = 20_000
#: Inverted lists probed per query (5% of the 1,265 lists at 100k). Measured on clustered
#: synthetic 100k x 384 (2,000 centres, 2 busy cores): recall@10 vs flat 0.9996 (noise 1.0)
#: and 0.951 (noise 1.5; 32 probes gave 0.936), p50 ~0.8 ms, p95 1-5 ms (worst seen 8.7).
#: Latency grows linearly with nprobe; recall gains beyond it are slow (128: 0.964).
DEFAULT_NPROBE = 64
#: Upper bound on the number of inverted lists (nlist ~ 4 * sqrt(n) below it).
NLIST_MAX = 4096
#: Vectors sampled for k-means training (raised when nlist needs more).
TRAIN_SAMPLE = 50_000
#: k-means needs this many training points per centroid (faiss warns below it).
_MIN_POINTS_PER_LIST = 39
#: Direct-map type keyed by arbitrary ids (faiss's bundled stubs omit `DirectMap`).
_HASHTABLE_MAP: int = faiss.DirectMap.Hashtable  # type: ignore[attr-defined]


def _as_ids(ids: Sequence[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


def _as_matrix(vectors: FloatArray | Sequence[Sequence[float]], dim: int) -> FloatArray:
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {matrix.shape}")
    return matrix


def _set_threads(threads: int) -> None:
    if faiss.omp_get_max_threads() != threads:
        faiss.omp_set_num_threads(threads)


def ivf_layout(n: int) -> tuple[int, int]:
    """Chooses the IVF list count and the training sample size for `n` vectors.

    Args:
        n: Number of vectors to index.

    Returns:
        (nlist, training sample size): nlist ~ 4 * sqrt(n), capped by `NLIST_MAX` and by
        the sample size / 39 so k-means has enough points per centroid.
    """
    target = max(1, min(round(4 * math.sqrt(n)), NLIST_MAX))
    sample = min(n, max(TRAIN_SAMPLE, _MIN_POINTS_PER_LIST * target))
    return max(1, min(target, sample // _MIN_POINTS_PER_LIST)), sample


class DenseIndex:
    """Cosine search over L2-normalised vectors, addressable by stable chunk id.

    Inner product equals cosine on normalised vectors. Two kinds:

    * "flat": `IndexIDMap2(IndexFlatIP)`, exact. `IndexIDMap2` keeps our 63-bit chunk ids
      and supports `reconstruct`.
    * "ivf": `IndexIVFFlat` (inner product, spherical k-means) holding the chunk ids itself,
      with a hash-table direct map so `reconstruct` and `remove_ids` work by chunk id and
      survive save/load. Approximate: each query scans `nprobe` of `nlist` lists.

    `reconstruct` lets an incremental build reuse the vectors of unchanged chunks instead
    of re-embedding them (IVFFlat stores the raw vectors, so this is exact for both kinds).
    HNSW is not used: it cannot remove ids and took minutes to build for 100k vectors.
    """

    def __init__(self, dim: int, *, index: faiss.Index | None = None) -> None:
        """Creates an empty flat index, or wraps an existing one.

        Args:
            dim: Vector dimension (384 for multilingual-e5-small).
            index: An existing `IndexIDMap2` or `IndexIVFFlat` (used by `load` and
                `from_vectors`).
        """
        self._index: Any = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._dim = dim

    @classmethod
    def from_vectors(
        cls,
        ids: Sequence[int] | npt.NDArray[np.int64],
        vectors: FloatArray,
        *,
        dim: int | None = None,
        nprobe: int = DEFAULT_NPROBE,
        seed: int = 0,
    ) -> DenseIndex:
        """Builds an index over all given vectors, choosing flat or IVF by size.

        Up to `EXACT_SEARCH_MAX` vectors the index is exact (flat); above it an IVF index
        is trained on a sample of the vectors (a few seconds per 50k training vectors).

        Args:
            ids: One stable chunk id per row of `vectors`; ids must be unique.
            vectors: float32 matrix (n, dim), L2-normalised.
            dim: Vector dimension; required when `vectors` is empty, else checked.
            nprobe: Lists scanned per query when IVF is chosen.
            seed: Seed of the training sample (k-means has its own fixed seed).

        Returns:
            The filled index.

        Raises:
            ValueError: Shapes do not match, or `dim` is missing for empty input.
        """
        id_array = _as_ids(ids)
        if dim is None:
            shape = np.shape(vectors)
            if id_array.size == 0 or len(shape) != 2:
                raise ValueError("dim is required when there are no vectors")
            dim = int(shape[1])
        if id_array.size == 0:
            return cls(dim)
        matrix = _as_matrix(vectors, dim)
        if matrix.shape[0] != id_array.size:
            raise ValueError(f"{id_array.size} ids for {matrix.shape[0]} vectors")
        if id_array.size <= EXACT_SEARCH_MAX:
            dense = cls(dim)
            dense.add(id_array, matrix)
            return dense
        nlist, sample_size = ivf_layout(int(id_array.size))
        rng = np.random.default_rng(seed)
        sample = matrix
        if sample_size < matrix.shape[0]:
            sample = matrix[np.sort(rng.choice(matrix.shape[0], sample_size, replace=False))]
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.spherical = True  # centroids on the unit sphere, as the vectors are
        # A previous small search may have left faiss on one thread; training wants all.
        _set_threads(_DEFAULT_THREADS)
        ivf.train(np.ascontiguousarray(sample))
        ivf.set_direct_map_type(_HASHTABLE_MAP)
        ivf.nprobe = max(1, min(nprobe, nlist))
        ivf.add_with_ids(matrix, id_array)
        return cls(dim, index=ivf)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    @property
    def ntotal(self) -> int:
        """Number of stored vectors."""
        return int(self._index.ntotal)

    @property
    def kind(self) -> DenseKind:
        """Index kind: "flat" (exact) or "ivf" (approximate inverted file)."""
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "flat"

    @property
    def nlist(self) -> int | None:
        """Number of IVF lists, or None for a flat index."""
        return int(self._index.nlist) if self.kind == "ivf" else None

    @property
    def nprobe(self) -> int | None:
        """IVF lists scanned per query, or None for a flat index."""
        return int(self._index.nprobe) if self.kind == "ivf" else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self.kind != "ivf":
            raise ValueError("nprobe only applies to an IVF index")
        self._index.nprobe = max(1, min(int(value), int(self._index.nlist)))

    def add(self, ids: Sequence[int] | npt.NDArray[np.int64], vectors: FloatArray) -> None:
        """Adds vectors under the given chunk ids.

        Args:
            ids: One id per row of `vectors`; ids must not already be present.
            vectors: float32 matrix (n, dim), L2-normalised.

        Raises:
            ValueError: Shapes do not match.
        """
        id_array = _as_ids(ids)
        if id_array.size == 0:
            return
        matrix = _as_matrix(vectors, self._dim)
        if matrix.shape[0] != id_array.size:
            raise ValueError(f"{id_array.size} ids for {matrix.shape[0]} vectors")
        self._index.add_with_ids(matrix, id_array)

    def remove(self, ids: Sequence[int]) -> int:
        """Removes vectors by chunk id (unknown ids are ignored).

        Args:
            ids: Chunk ids to remove.

        Returns:
            The number of vectors removed.
        """
        id_array = _as_ids(ids)
        if id_array.size == 0:
            return 0
        return int(self._index.remove_ids(id_array))

    def search(self, vectors: FloatArray, k: int) -> list[list[tuple[int, float]]]:
        """Finds the k nearest chunks for each query vector.

        Args:
            vectors: float32 query matrix (n, dim) or one vector (dim,).
            k: Results wanted per query.

        Returns:
            For each query, (chunk id, cosine score) pairs, best first. An IVF index may
            return fewer than k pairs when the probed lists hold fewer vectors.
        """
        matrix = _as_matrix(vectors, self._dim)
        k = min(k, self.ntotal)
        if k <= 0:
            return [[] for _ in range(matrix.shape[0])]
        single = matrix.shape[0] <= _SINGLE_THREAD_MAX_QUERIES
        _set_threads(1 if single else _DEFAULT_THREADS)
        scores, ids = self._index.search(matrix, k)
        return [
            [(int(i), float(s)) for i, s in zip(id_row, score_row, strict=True) if i >= 0]
            for id_row, score_row in zip(ids, scores, strict=True)
        ]

    def reconstruct(self, ids: Sequence[int] | npt.NDArray[np.int64]) -> FloatArray:
        """Returns the stored vectors of the given chunk ids.

        Args:
            ids: Chunk ids present in the index.

        Returns:
            float32 matrix (len(ids), dim) in the order of `ids`.

        Raises:
            KeyError: An id is not in the index.
        """
        id_array = _as_ids(ids)
        if id_array.size == 0:
            return np.empty((0, self._dim), dtype=np.float32)
        try:
            return np.asarray(self._index.reconstruct_batch(id_array), dtype=np.float32)
        except RuntimeError:  # faiss reports a missing id as RuntimeError; find which one
            pass
        out = np.empty((id_array.size, self._dim), dtype=np.float32)
        for row, chunk_id in enumerate(id_array.tolist()):
            try:
                out[row] = self._index.reconstruct(chunk_id)
            except RuntimeError as exc:
                raise KeyError(chunk_id) from exc
        return out

    def ids(self) -> npt.NDArray[np.int64]:
        """Returns all stored chunk ids (insertion order for flat, list order for IVF)."""
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), size).astype(np.int64)
            for i in range(int(self._index.nlist))
            if (size := int(lists.list_size(i))) > 0
        ]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def save(self, path: Path) -> None:
        """Writes the index (either kind, with ids, direct map and nprobe) to one file.

        Args:
            path: Destination file (e.g. `dense.faiss`).
        """
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        """Reads an index written by `save`.

        Args:
            path: The file written by `save`.

        Returns:
            The loaded index.

        Raises:
            ValueError: The file is neither a FAISS `IndexIDMap2` nor an `IndexIVFFlat`.
        """
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVFFlat):
            if index.direct_map.type != _HASHTABLE_MAP:
                # Without the id -> slot map reconstruct/remove by chunk id would fail.
                index.set_direct_map_type(_HASHTABLE_MAP)
        elif not isinstance(index, faiss.IndexIDMap2):
            raise ValueError(f"{path} is not a FAISS IndexIDMap2 or IndexIVFFlat index")
        return cls(int(index.d), index=index)
