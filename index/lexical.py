"""Lexical index: BM25 (bm25s) over `bm25_tokens`, keyed by chunk id.

bm25s builds and stores the score matrix; the top k are found by `index.bm25_topk`, which
skips most postings of the everyday syllables and gives the same rows and scores.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import bm25s

from index.bm25_topk import TopKScorer
from index.textnorm import bm25_tokens

_IDS_FILE = "chunk_ids.json"


class LexicalIndex:
    """BM25 over pre-tokenised chunks; documents and queries share `bm25_tokens`.

    bm25s is given token lists directly (its own tokenizer splits on ASCII word rules and
    would lose Vietnamese syllables), and the mapping row -> chunk id is kept beside it.
    """

    def __init__(self, *, bigrams: bool = False) -> None:
        """Creates an empty index.

        Args:
            bigrams: Also index folded syllable bigrams (stored with the index, so queries
                are tokenised the same way after `load`).
        """
        self.bigrams = bigrams
        self._chunk_ids: list[int] = []
        self._bm25: bm25s.BM25 | None = None
        self._scorer: TopKScorer | None = None

    def __len__(self) -> int:
        return len(self._chunk_ids)

    def tokenize(self, text: str) -> list[str]:
        """Tokenises a text exactly as this index does.

        Args:
            text: A chunk text or a query.

        Returns:
            BM25 tokens.
        """
        return bm25_tokens(text, bigrams=self.bigrams)

    def build(self, chunk_ids: Sequence[int], texts: Sequence[str]) -> None:
        """Indexes the texts (replacing any previous content).

        Args:
            chunk_ids: One id per text.
            texts: The chunks' `index_text`.

        Raises:
            ValueError: Lengths differ.
        """
        if len(chunk_ids) != len(texts):
            raise ValueError(f"{len(chunk_ids)} ids for {len(texts)} texts")
        self._chunk_ids = [int(i) for i in chunk_ids]
        if not texts:
            self._set_bm25(None)
            return
        # bm25s cannot index an empty token list; a placeholder keeps rows aligned.
        corpus = [self.tokenize(text) or [""] for text in texts]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        self._set_bm25(bm25)

    def _set_bm25(self, bm25: bm25s.BM25 | None) -> None:
        self._bm25 = bm25
        self._scorer = None
        if bm25 is not None:
            matrix = bm25.scores
            self._scorer = TopKScorer(
                matrix["data"], matrix["indices"], matrix["indptr"], int(matrix["num_docs"])
            )

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Scores all chunks against a query.

        Args:
            query: The user's question (tokenised with `bm25_tokens`).
            k: Results wanted.

        Returns:
            (chunk id, raw BM25 score) pairs with a positive score, best first; empty
            when no query token is known to the index.
        """
        if self._bm25 is None or self._scorer is None or k <= 0:
            return []
        vocab = self._bm25.vocab_dict
        token_ids = [vocab[t] for t in self.tokenize(query) if t and t in vocab]
        if not token_ids:
            return []
        rows, scores = self._scorer.top_k(token_ids, k)
        return [
            (self._chunk_ids[row], score)
            for row, score in zip(rows.tolist(), scores.tolist(), strict=True)
            if score > 0.0
        ]

    def save(self, directory: Path) -> None:
        """Writes the index into a directory.

        Args:
            directory: Created if missing.
        """
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"chunk_ids": self._chunk_ids, "bigrams": self.bigrams}
        (directory / _IDS_FILE).write_text(json.dumps(meta), encoding="utf-8")
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Reads an index written by `save`.

        Args:
            directory: The directory written by `save`.

        Returns:
            The loaded index.

        Raises:
            FileNotFoundError: A file of the index is missing.
            ValueError: The files are inconsistent.
        """
        meta = json.loads((directory / _IDS_FILE).read_text(encoding="utf-8"))
        index = cls(bigrams=bool(meta.get("bigrams", False)))
        index._chunk_ids = [int(i) for i in meta["chunk_ids"]]
        if index._chunk_ids:
            bm25 = bm25s.BM25.load(str(directory), show_progress=False)
            if int(bm25.scores["num_docs"]) != len(index._chunk_ids):
                raise ValueError(f"{directory}: BM25 rows do not match the chunk ids")
            index._set_bm25(bm25)
        return index
