"""The engine every transport calls: answer a question, search, and hot-swap the index.

One `Engine` is loaded per process (in the bot's `post_init`, the console, or a CLI
command) and shared by all threads. The loaded index and the retriever over it live in one
immutable `_Snapshot`; a reload builds a complete new snapshot and then replaces the single
attribute that points to it, so a concurrent `answer()` uses either the old or the new
index, never a mix of the two.

Admins' status overrides (`index.lifecycle`) are applied to the documents of every
snapshot. The engine notices a changed overrides file on the next question (one `stat`),
so `khuyencong status` takes effect in a running bot without a restart or a re-index.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from index.answering import AnswerModels, Selection, compose_answer, refusal
from index.followup import rewrite_followup
from index.intents import IntentPrediction, question_coverage
from index.lexicon import load_lexicon
from index.lifecycle import fingerprint, load_applied
from index.passage_ranker import RANKER_FILE, PassageRanker
from index.question import Query, analyse, prepare_question
from index.retrieval import HybridRetriever, Retrieval
from index.schema import Answer, DocumentMeta, Passage, RetrievalMode
from index.search_threads import limit_search_threads
from index.settings import Settings
from index.store import LoadedIndex
from index.unit_entities import usable_entities
from index.unit_scorer import SCORER_FILE, UnitScorer
from index.unknown_model import UNKNOWN_FILE, UnknownModel
from index.unknowns import partial_documents

if TYPE_CHECKING:
    from index.accents import AccentRestorer
    from index.embedding import EmbeddingModel

logger = logging.getLogger(__name__)

#: Settings the answer models are made from (scorer and lexicon files, the restorer).
_MODEL_SETTINGS = frozenset({"knowledge_dir", "restore_diacritics", "diacritic_restorer"})


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One published index version with its retriever; never mutated after creation."""

    index: Any  # index.store.LoadedIndex, with the status overrides applied to `docs`
    retriever: HybridRetriever
    models: AnswerModels
    #: The published index as loaded (before overrides), to re-apply changed overrides.
    raw_index: Any = None
    #: `index.lifecycle.fingerprint` of the overrides file the snapshot applied.
    lifecycle: tuple[int, int] | None = None

    @property
    def version(self) -> str:
        return str(self.index.version)


class Engine:
    """Answers questions from the published index; safe to share between threads.

    Args:
        settings: Paths, retrieval mode, fusion and the abstain threshold.
        model: The loaded embedding model (the same one the index was built with).
        index: The `LoadedIndex` to serve.
    """

    def __init__(
        self,
        settings: Settings,
        model: EmbeddingModel,
        index: Any,
        *,
        models: AnswerModels | None = None,
    ) -> None:
        from index.embedding import QueryEncoder

        self.settings = settings
        self.model = model
        # One cache per engine, kept across index reloads: a query's vector depends on the
        # model only, never on the index.
        self.encoder = QueryEncoder(model)
        self._snapshot = self._make_snapshot(index, models)
        self._reload_lock = threading.Lock()

    def with_overrides(self, **changes: Any) -> Engine:
        """Returns an engine over the same model and index with some settings changed.

        Evaluation uses it to compare fusion methods and weights without reloading.

        Args:
            **changes: Settings fields to replace, e.g. `fusion="rrf"`.

        Returns:
            A new engine sharing the loaded model and index.
        """
        raw = self._snapshot.raw_index or self._snapshot.index
        # The answer models (unit facts and entities of every unit: most of an engine's
        # load, 15.7 of 20 s profiled over the legal eval index) depend on these alone.
        shared = None if changes.keys() & _MODEL_SETTINGS else self._snapshot.models
        return Engine(self.settings.model_copy(update=changes), self.model, raw, models=shared)

    def _make_snapshot(self, index: Any, models: AnswerModels | None = None) -> _Snapshot:
        from index.answer_build import chunk_stats

        if models is None:
            scorer = UnitScorer.load(self.settings.knowledge_dir / SCORER_FILE)
            lexicon = load_lexicon(self.settings.knowledge_dir)
            saved = getattr(index, "unit_entities", None)
            models = AnswerModels(
                units=index.units,
                stats=chunk_stats(index.units),
                lexicon=lexicon,
                saved_entities=usable_entities(saved, lexicon, len(index.units)),
                scorer=scorer,
                classifier=index.intents,
                selection=Selection.from_info(scorer.info),
                unknown=UnknownModel.load(self.settings.knowledge_dir / UNKNOWN_FILE),
                partial_docs=partial_documents(
                    getattr(index, "chunks", {}).values(), getattr(index, "docs", {}).values()
                ),
                restorer=_restorer(index, self.settings),
            )
        path = self.settings.lifecycle_path
        stamp = fingerprint(path)
        served = index
        # A LoadedIndex gets the overrides; test doubles without `docs` are served as given.
        if isinstance(index, LoadedIndex):
            served = dataclasses.replace(index, docs=load_applied(index.docs, path))
        return _Snapshot(
            index=served,
            retriever=HybridRetriever(
                served, self.model, self.settings, stats=models.stats, encoder=self.encoder,
                ranker=PassageRanker.load(self.settings.knowledge_dir / RANKER_FILE),
                glossary=models.lexicon.glossary,
            ),
            models=models,
            raw_index=index,
            lifecycle=stamp,
        )

    def _current(self) -> _Snapshot:
        """The snapshot to serve, re-applying the status overrides when their file changed."""
        snapshot = self._snapshot
        if fingerprint(self.settings.lifecycle_path) == snapshot.lifecycle:
            return snapshot
        with self._reload_lock:
            snapshot = self._snapshot
            if fingerprint(self.settings.lifecycle_path) != snapshot.lifecycle:
                snapshot = self._make_snapshot(snapshot.raw_index, snapshot.models)
                self._snapshot = snapshot
                logger.info("Document status overrides changed: re-applied")
        return snapshot

    @property
    def manifest(self) -> dict[str, Any]:
        """The `manifest.json` of the index being served."""
        return dict(self._snapshot.index.manifest)

    @property
    def version(self) -> str:
        """Version name of the index being served."""
        return self._snapshot.version

    @property
    def ranker(self) -> PassageRanker:
        """The passage ranker being served: the knowledge dir's weights, else the default."""
        return self._snapshot.retriever.ranker

    def use_ranker(self, ranker: PassageRanker) -> None:
        """Serves another passage ranker (fits score passages with a refitted one); a reload
        after a status change serves the knowledge dir's again."""
        self._snapshot.retriever.ranker = ranker

    def search(self, query: str, *, k: int = 5, mode: RetrievalMode | None = None) -> list[Passage]:
        """Returns the k most relevant passages for a query.

        Args:
            query: Free text in any Unicode form, with or without diacritics.
            k: Number of passages.
            mode: "hybrid", "dense" or "bm25"; `Settings.retrieval_mode` when None.

        Returns:
            Passages, best first (empty for an empty query).
        """
        prepared = prepare_question(query, max_chars=self.settings.max_question_chars)
        if prepared.reason == "empty":
            return []
        return self._current().retriever.search(prepared.text, k=k, mode=mode)

    def answer(
        self,
        question: str,
        *,
        mode: RetrievalMode | None = None,
        k: int | None = None,
        previous: str | None = None,
    ) -> Answer:
        """Answers a question from the knowledge base, or abstains politely.

        Never raises on user input: empty, emoji-only and over-long questions come back
        with `reason` "empty" or "too_long".

        Args:
            question: What the user typed.
            mode: Retrieval mode; `Settings.retrieval_mode` when None.
            k: Passages to retrieve; `Settings.top_k` when None.
            previous: The conversation context kept by the adapter (see
                `index.followup.next_context`); a follow-up such as "còn Quảng Nam thì
                sao?" is resolved against it.

        Returns:
            The answer with citations, passages, `resolved` and `latency_ms` filled in.
        """
        started = time.perf_counter()
        snapshot = self._current()  # one read: the whole answer uses this index version
        original = question
        question = rewrite_followup(question, previous, snapshot.models.lexicon)
        prepared = prepare_question(question, max_chars=self.settings.max_question_chars)
        if prepared.reason is not None:
            result = refusal(question, prepared.reason)
        else:
            query, retrieval, prediction = self._read(snapshot, prepared.text, k=k, mode=mode)
            result = compose_answer(
                query,
                retrieval.passages,
                retrieval.query_vector,
                prediction,
                snapshot.models,
                refuse_below=self.settings.abstain_threshold,
            )
            result.resolved = prepared.text
        result.question = original
        result.latency_ms = (time.perf_counter() - started) * 1000.0
        return result

    def inspect(
        self, question: str, *, k: int | None = None, mode: RetrievalMode | None = None
    ) -> tuple[Query, Retrieval, IntentPrediction | None, AnswerModels]:
        """What `answer` reads for a self-contained question (for fitting and error analysis).

        Args:
            question: A cleaned question.
            k: Passages to retrieve.
            mode: Retrieval mode.

        Returns:
            The analysed query, the retrieval, the intent prediction and the answer models.
        """
        snapshot = self._current()
        return (*self._read(snapshot, question, k=k, mode=mode), snapshot.models)

    def _read(
        self, snapshot: _Snapshot, text: str, *, k: int | None, mode: RetrievalMode | None
    ) -> tuple[Query, Retrieval, IntentPrediction | None]:
        models = snapshot.models
        query = analyse(
            text,
            models.lexicon,
            restore_accents=self.settings.restore_diacritics,
            restorer=models.restorer.restore if models.restorer is not None else None,
        )
        retrieval = snapshot.retriever.retrieve(
            query.expanded,
            k=k or self.settings.top_k,
            mode=mode,
            dense_text=query.dense_text,
            lexical_text=query.lexical_text,
            tokens=query.tokens,
        )
        prediction = None
        if models.classifier is not None:
            vector = retrieval.query_vector
            if vector is None:
                # BM25-only mode still classifies, and picks answer units, with the
                # embedding: without it every unit scored 0 (legal answer_hit 0.15).
                vector = snapshot.retriever.encode(query.dense_text).reshape(-1)
                retrieval.query_vector = vector
            coverage = question_coverage(query.tokens, models.stats)
            prediction = models.classifier.predict(vector, query.expanded, coverage)
        return query, retrieval, prediction

    def sources(self) -> list[DocumentMeta]:
        """Documents of the index being served (status overrides applied), sorted by title."""
        docs = self._current().index.docs
        values = list(docs.values()) if isinstance(docs, dict) else list(docs)
        return sorted(values, key=lambda d: (d.title.casefold(), d.doc_id))

    def reload_if_changed(self) -> bool:
        """Swaps in the published index if the `current` pointer moved.

        The new version is loaded completely before the swap; if loading fails the error
        is logged and the old index keeps serving.

        Returns:
            True when a new index version is now being served.
        """
        from index.index_versions import current_version

        with self._reload_lock:
            try:
                latest = current_version(self.settings)
            except Exception:
                logger.exception("Cannot read the current index pointer; keeping %s", self.version)
                return False
            if latest is None or str(latest) == self.version:
                return False
            try:
                # No fallback: a damaged new version must not replace (nor an older one
                # undercut) the version being served.
                index = _load_index(self.settings, self.model, fallback=False)
                snapshot = self._make_snapshot(index)
            except Exception:
                logger.exception(
                    "Index version %s failed to load; still serving %s", latest, self.version
                )
                return False
            self._snapshot = snapshot
            logger.info("Index reloaded: now serving version %s", snapshot.version)
            return True


def _restorer(index: Any, settings: Settings) -> AccentRestorer | None:
    """The accent restorer saved with the index; fitted here only for an index without one."""
    from index.answer_build import fit_restorer, uses_index_restorer

    saved = getattr(index, "restorer", None)
    if saved is not None and uses_index_restorer(settings):
        return saved  # type: ignore[no-any-return]
    # An index built before restorers were saved (or by a build with restoration off).
    return fit_restorer(_chunk_texts(index), settings)


def _chunk_texts(index: Any) -> list[str]:
    """Texts of an index's chunks (a mapping or a list; test doubles may have none)."""
    chunks = getattr(index, "chunks", None) or ()
    values = chunks.values() if isinstance(chunks, dict) else chunks
    return [str(getattr(chunk, "text", "")) for chunk in values]


def _load_index(settings: Settings, model: Any, *, fallback: bool = True) -> Any:
    from index.embedding import embedding_dim, model_id
    from index.store import load_published

    return load_published(
        settings,
        model_id=model_id(settings),
        dim=embedding_dim(model),
        fallback=fallback,
    )


def load_engine(
    settings: Settings | None = None, *, model: EmbeddingModel | None = None
) -> Engine:
    """Loads the embedding model and the published index once and returns the engine.

    Args:
        settings: Settings; read from the environment when None.
        model: An already loaded model (tests share one); loaded from settings when None.

    Returns:
        The engine.

    Raises:
        IndexNotFoundError: No index was published yet (run `make reindex`).
        IndexMismatchError: The index was built with another model.
    """
    from index.embedding import load_embedding_model

    settings = settings or Settings()
    # One runtime thread, like torch and faiss: see limit_search_threads, called after the
    # load because loading a sentence-transformers model is what imports torch.
    model = model if model is not None else load_embedding_model(settings, threads=1)
    limit_search_threads()
    return Engine(settings, model, _load_index(settings, model))
