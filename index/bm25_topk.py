"""Exact top-k BM25 over bm25s's precomputed score matrix, without scoring every posting.

bm25s stores one column per token: the documents that hold it (sorted row ids) and their
precomputed BM25 contribution. Its `get_scores` adds every posting of every query token
into a dense array, and the everyday syllables of Vietnamese ("công", "năm") occur in
almost every chunk, so a question touches ~0.5-1.3 M postings at 100k chunks. Two things
cut that down while keeping the result exact:

* identical columns are scored once with a weight: an accented syllable and its folded
  form ("công"/"cong") usually have the same postings (80% of them in the benchmark's
  synthetic index, 22-50% in ours);
* MaxScore (Turtle & Flood, 1995): a token adds at most its column maximum, so once the
  k-th best partial score exceeds what the remaining (frequent, low-idf) tokens can still
  add, only the rows already ahead can reach the top k, and those few look the remaining
  tokens up by binary search instead of adding their whole columns.

The winners are re-scored in the query's token order, so their scores are bit-identical to
`get_scores`, and ties go to the lower row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Relative margin on every pruning comparison: partial sums are float32 and added in
#: another order than bm25s's, so a bound is only trusted beyond this.
_SLACK = 1e-4
#: A binary search per surviving row costs about 15 postings added densely (measured here:
#: 23 ns per needle into a 90k-row column against 1.5 ns per `np.add.at` posting), so the
#: remaining tokens are looked up only while rows x this stay below their postings.
LOOKUP_COST = 16
#: Below this many postings (with repeats) a query is scored in full, as bm25s does: the
#: pruned path's ~30 array operations cost ~0.3 ms whatever the size (measured: 0.32 / 0.46
#: ms CPU per dev question at 87 / 380 chunks against 0.10 / 0.13 ms in full), which is what
#: `np.add.at` spends on ~100k postings at 1.5 ns each.
FULL_SCORING_POSTINGS = 100_000


class TopKScorer:
    """Top-k rows of a bm25s score matrix for a bag of query token ids.

    Args:
        data: Contribution of each posting (bm25s `scores["data"]`).
        indices: Row of each posting, ascending within a column (`scores["indices"]`).
        indptr: Column starts (`scores["indptr"]`), one column per token id.
        num_docs: Rows of the matrix.
        full_below: Queries with fewer postings are scored in full (tests set 0 to prune
            every query).
    """

    def __init__(
        self,
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        num_docs: int,
        *,
        full_below: int = FULL_SCORING_POSTINGS,
    ) -> None:
        self.full_below = full_below
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.num_docs = int(num_docs)
        self.lengths = np.diff(self.indptr)
        # The lookups binary-search a column and add it with fancy indexing: its rows must
        # ascend. bm25s writes them in order; a matrix that does not is sorted once here.
        self.data, self.indices = _rows_ascending(data, indices, self.indptr, self.lengths)
        data, indices = self.data, self.indices
        self.upper = np.zeros(len(self.lengths), dtype=np.float64)
        filled = np.flatnonzero(self.lengths > 0)
        if filled.size:
            # reduceat over the starts of non-empty columns: each column's maximum.
            self.upper[filled] = np.maximum.reduceat(data, self.indptr[filled])
        self.canonical = _identical_columns(data, indices, self.indptr, filled)

    def scores(self, token_ids: Sequence[int]) -> np.ndarray:
        """Every row's score, added in token order exactly as bm25s `get_scores` does."""
        scores = np.zeros(self.num_docs, dtype=self.data.dtype)
        for token in token_ids:
            rows, values = self._column(int(token))
            np.add.at(scores, rows, values)
        return scores

    def top_k(self, token_ids: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows for a query, best first, ties broken by the lower row.

        Args:
            token_ids: Query token ids in query order, repeats kept (a repeated token
                counts again, as in bm25s).
            k: Rows wanted.

        Returns:
            (rows, scores), at most k of each; the scores equal `get_scores`'s.

        Raises:
            ValueError: A token id has no column (bm25s raises the same).
        """
        k = min(k, self.num_docs)
        if k <= 0 or len(token_ids) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=self.data.dtype)
        ids = np.asarray(token_ids, dtype=np.int64)
        if int(ids.max()) >= self.lengths.size or int(ids.min()) < 0:
            raise ValueError(f"token id outside the {self.lengths.size} columns of the index")
        if int(self.lengths[ids].sum()) < self.full_below:
            return _best(np.arange(self.num_docs), self.scores(ids.tolist()), k)
        terms, counts = np.unique(self.canonical[ids], return_counts=True)
        bounds = self.upper[terms] * counts
        # Highest bound first: the rare tokens are few postings and most of the score.
        order = np.lexsort((self.lengths[terms], -bounds))
        terms, counts, bounds = terms[order], counts[order], bounds[order]
        rest = np.concatenate([np.cumsum(bounds[::-1])[::-1][1:], [0.0]])
        acc = np.zeros(self.num_docs, dtype=self.data.dtype)
        threshold = 0.0
        probe: np.ndarray | None = None  # rows whose k-th best partial score bounds the top k
        candidates: np.ndarray | None = None
        done = 0
        while done < terms.size:
            rows, values = self._add(acc, int(terms[done]), int(counts[done]))
            if probe is None and rows.size >= k:
                probe = _probe_rows(rows, values)
            done += 1
            if done == terms.size or probe is None:
                continue
            # Pruning starts once the k-th best partial score beats what the remaining
            # tokens can add; the cheap max tells when that is not yet possible.
            needed = rest[done - 1] / (1.0 - _SLACK)
            partial_probe = acc[probe]
            if float(partial_probe.max()) < needed:
                continue
            threshold = max(threshold, _kth(partial_probe, k))
            if threshold < needed:
                continue
            # Rows that can still reach the top k; the candidates shrink fast as the next
            # tokens are added, so the next column alone decides between the two ways.
            ahead = acc >= threshold * (1.0 - _SLACK) - rest[done - 1]
            if np.count_nonzero(ahead) * LOOKUP_COST < self.lengths[terms[done]]:
                candidates = np.flatnonzero(ahead)
                break
        if candidates is None:
            if probe is not None:
                threshold = max(threshold, _kth(acc[probe], k))
            candidates = np.flatnonzero(acc >= threshold * (1.0 - _SLACK))
        partial = acc[candidates].astype(np.float64)
        for at in range(done, terms.size):
            partial += self._lookup(int(terms[at]), candidates) * counts[at]
            if candidates.size > k:
                threshold = max(threshold, _kth(partial, k))
            keep = partial + rest[at] >= threshold * (1.0 - _SLACK)
            candidates, partial = candidates[keep], partial[keep]
        return self._exact_head(ids, candidates, partial, k)

    def _add(self, acc: np.ndarray, term: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Adds a column `count` times over into the dense partial scores; returns it."""
        rows, values = self._column(term)
        # Same dtype on both sides: a float64 operand sends np.add.at down a 10x slower path.
        np.add.at(acc, rows, values * self.data.dtype.type(count) if count > 1 else values)
        return rows, values

    def _column(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.indptr[term], self.indptr[term + 1]
        return self.indices[start:end], self.data[start:end]

    def _lookup(self, term: int, rows: np.ndarray) -> np.ndarray:
        """The term's contribution to each of the (ascending) rows, 0 where it is absent."""
        column, values = self._column(term)
        found = np.zeros(rows.size, dtype=self.data.dtype)
        if column.size == 0 or rows.size == 0:
            return found
        at = np.minimum(np.searchsorted(column, rows), column.size - 1)
        hit = column[at] == rows
        found[hit] = values[at[hit]]
        return found

    def _exact_head(
        self, token_ids: np.ndarray, rows: np.ndarray, approx: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Re-scores the rows that may be in the top k in bm25s's order and ranks them."""
        if rows.size > k:
            kth = _kth(approx, k)
            rows = rows[approx >= kth - _SLACK * max(abs(kth), 1.0)]
        # One lookup per distinct column, then the additions in token order as bm25s does.
        distinct, position = np.unique(self.canonical[token_ids], return_inverse=True)
        found = [self._lookup(int(column), rows) for column in distinct.tolist()]
        exact = np.zeros(rows.size, dtype=self.data.dtype)
        for at in position.tolist():
            exact += found[at]  # adding 0.0 leaves a float32 sum unchanged
        return _best(rows, exact, k)


def _best(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (row, score) pairs, best first, ties to the lower row."""
    if rows.size > k:
        near = scores >= _kth(scores, k)
        rows, scores = rows[near], scores[near]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


#: Rows of the first long-enough column kept as the probe: the k-th best partial score among
#: them is recomputed as tokens are added, so it must stay cheap to select.
PROBE_ROWS = 4096
#: Share of a long column's maximum that a probe row's contribution must reach.
PROBE_SHARE = 0.8


def _probe_rows(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Up to ~`PROBE_ROWS` rows where a column contributes most (any distinct rows bound)."""
    if rows.size <= PROBE_ROWS:
        return rows
    # A cut near the maximum is one vectorised compare, unlike a partition of the column.
    best = rows[values >= values.max() * PROBE_SHARE]
    return best if best.size <= PROBE_ROWS else best[:: best.size // PROBE_ROWS + 1]


def _kth(values: np.ndarray, k: int) -> float:
    """The k-th largest value (the smallest when fewer than k)."""
    if values.size <= k:
        return float(values.min()) if values.size else 0.0
    return float(np.partition(values, values.size - k)[values.size - k])


def _rows_ascending(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The matrix with strictly ascending rows in every column (sorted only if needed)."""
    if indices.size < 2:
        return data, indices
    step = np.diff(indices)
    starts = indptr[1:-1]
    step[starts[(starts > 0) & (starts < indices.size)] - 1] = 1  # a new column may restart
    if bool((step > 0).all()):
        return data, indices
    column = np.repeat(np.arange(lengths.size), lengths)
    order = np.lexsort((indices, column))
    return data[order], indices[order]


def _identical_columns(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, filled: np.ndarray
) -> np.ndarray:
    """Maps every column to the first column with the same rows and values."""
    canonical = np.arange(len(indptr) - 1, dtype=np.int64)
    if filled.size == 0:
        return canonical
    sums = np.add.reduceat(data.astype(np.float64), indptr[filled])
    row_sums = np.add.reduceat(indices.astype(np.int64), indptr[filled])
    seen: dict[tuple[int, int, float], list[int]] = {}
    for column, total, row_total in zip(
        filled.tolist(), sums.tolist(), row_sums.tolist(), strict=True
    ):
        key = (int(indptr[column + 1] - indptr[column]), row_total, total)
        for other in seen.get(key, []):
            a, b = (
                slice(indptr[other], indptr[other + 1]),
                slice(indptr[column], indptr[column + 1]),
            )
            if np.array_equal(indices[a], indices[b]) and np.array_equal(data[a], data[b]):
                canonical[column] = other
                break
        else:
            seen.setdefault(key, []).append(column)
    return canonical
