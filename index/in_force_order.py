"""The in-force order of a ranked head: the document a question names, then texts in force.

`index.retrieval` applies it after the rerank; the list primitive it drives is
`index.lifecycle.prefer_in_force`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from index.fusion import ScoredId
from index.lifecycle import named_documents, prefer_in_force, same_jurisdiction, source_rank
from index.schema import DocumentMeta

#: A passage from a document in force "covers the same matter" as one from a superseded or
#: expired document when its fused score is at least this share of the stale one's; it is
#: then ranked ahead of it (see `index.lifecycle.prefer_in_force`). Chunk-to-chunk cosine
#: was measured first and cannot tell the matter apart: e5 gives 0.93-0.95 to a stale
#: chunk's nearest in-force neighbour whether it is the same rule or not, and 0.93 to the
#: 99th percentile of random pairs. The share was swept on both dev sets (README).
SAME_MATTER_SHARE = 0.6


class InForceOrder:
    """Reorders ranked chunks of one index by the standing of their documents.

    Args:
        docs: doc_id -> document (status overrides applied).
        doc_of: chunk_id -> doc_id.
    """

    def __init__(self, docs: Mapping[str, DocumentMeta], doc_of: Mapping[int, str]) -> None:
        self._docs = docs
        self._doc_of = doc_of

    def reorder(self, query: str, results: Sequence[ScoredId], *, depth: int) -> list[ScoredId]:
        """Ranks the document a question names, then documents in force, ahead on a matter.

        Within the head, a passage moves just ahead of a weaker one on the same matter when
        its document is named in the question ("nghị định 45 có hiệu lực từ ngày nào"), or
        when the weaker one's document is no longer in force and its own is. "The same
        matter" is a passage scoring at least `SAME_MATTER_SHARE` of the weaker one, of
        the same jurisdiction (national, or the same province) unless the question names
        it. A question that names a superseded document asks about it on purpose: its
        passages are named, so they are never demoted.

        Args:
            query: The query.
            results: Ranked results, best first.
            depth: How many of the first results may move.

        Returns:
            The results, reordered within the first `depth`.
        """
        head = list(results[:depth])
        named = {doc.doc_id for doc in named_documents(query, self._docs.values())}
        ranks = {item.chunk_id: self._source_rank(item.chunk_id, named) for item in head}
        if len(set(ranks.values())) < 2:
            return list(results)  # one kind of source: nothing to prefer

        def same_matter(weak: ScoredId, other: ScoredId) -> bool:
            if other.score < SAME_MATTER_SHARE * weak.score:
                return False
            return ranks[other.chunk_id] == 0 or same_jurisdiction(
                self.doc_for(weak.chunk_id), self.doc_for(other.chunk_id)
            )

        reordered = prefer_in_force(
            head,
            rank_of=lambda item: ranks[item.chunk_id],
            same_matter=same_matter,
        )
        return reordered + list(results[depth:])

    def doc_for(self, chunk_id: int) -> DocumentMeta:
        """The document of a chunk (a bare one named by its id when the index lacks it)."""
        doc_id = self._doc_of.get(chunk_id, "")
        return self._docs.get(doc_id) or DocumentMeta(doc_id=doc_id, title=doc_id)

    def _source_rank(self, chunk_id: int, named: set[str]) -> int:
        # 0: the question names this document; then 1 in force, 2 no longer in force.
        doc_id = self._doc_of.get(chunk_id, "")
        return 0 if doc_id in named else 1 + source_rank(self.doc_for(chunk_id))
