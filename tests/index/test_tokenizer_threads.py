"""An in-bot re-index chunks with its own tokenizer while answer threads encode queries."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import index.build
from index.build import build_index, chunking_tokenizer
from index.chunking import make_token_counter
from index.embedding import encode_queries
from index.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.embedding import EmbeddingModel

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
QUESTIONS = [
    "Cơ sở công nghiệp nông thôn được hỗ trợ những gì?",
    "ho tro xay dung mo hinh trinh dien ky thuat",
    "Which rural industrial establishments are eligible for support?",
]


def test_chunker_tokenizer_is_a_private_copy(torch_embedding_model: SentenceTransformer) -> None:
    # A Hugging Face tokenizer is reconfigured by every truncating call: copied for the chunker.
    shared = torch_embedding_model.tokenizer
    with chunking_tokenizer(torch_embedding_model) as private:
        assert private is not shared
        assert private._tokenizer is not shared._tokenizer  # the Rust object itself
        count_private, count_shared = make_token_counter(private), make_token_counter(shared)
        for text in QUESTIONS:
            assert count_private(text) == count_shared(text)
    # A build that loaded its own model shares it with nobody and needs no copy.
    with chunking_tokenizer(torch_embedding_model, shared=False) as own:
        assert own is shared


def test_light_encoder_lends_its_tokenizer_with_the_same_counts(
    embedding_model: EmbeddingModel, torch_embedding_model: SentenceTransformer
) -> None:
    # OnnxEncoder never reconfigures its tokenizer (it truncates each encoding), so sharing
    # it costs no 300 MB copy; its counts are the Hugging Face tokenizer's, untruncated.
    with chunking_tokenizer(embedding_model) as lent:
        assert lent is embedding_model.tokenizer
        counts = make_token_counter(lent), make_token_counter(torch_embedding_model.tokenizer)
        for text in [*QUESTIONS, "passage: " + " ".join(QUESTIONS * 60)]:
            assert counts[0](text) == counts[1](text)
        assert counts[0]("passage: " + " ".join(QUESTIONS * 60)) > 512


def test_encoding_and_reindexing_at_once(
    make_settings: Callable[..., Settings],
    embedding_model: EmbeddingModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A few real guides: enough chunking calls to overlap the encoders many times.
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for source in sorted((REPO_KNOWLEDGE / "guides").glob("*.md"))[:4]:
        (knowledge / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    settings = make_settings(knowledge_dir=knowledge)
    errors: list[BaseException] = []
    encoded = [0]
    done, chunked = threading.Event(), threading.Event()
    # Every answer thread is encoding before the build starts, so chunking overlaps them.
    started = threading.Barrier(4)

    @contextlib.contextmanager
    def watched_chunking(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with original_chunking(*args, **kwargs) as tokenizer:
            yield tokenizer
        chunked.set()

    original_chunking = index.build.chunking_tokenizer
    monkeypatch.setattr(index.build, "chunking_tokenizer", watched_chunking)

    def answer_thread(until: threading.Event) -> None:
        try:
            encode_queries(embedding_model, QUESTIONS[:1])
            started.wait(timeout=600)
            while not until.is_set() and not done.is_set():
                for question in QUESTIONS:
                    encode_queries(embedding_model, [question])
                    encoded[0] += 1
        except BaseException as exc:  # "Already borrowed" is a RuntimeError from Rust
            errors.append(exc)
            started.abort()  # a failure before the build starts must not leave it waiting

    def reindex_thread() -> None:
        try:
            started.wait(timeout=600)
            build_index(settings, full=True, model=embedding_model)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    # Three threads hammer the tokenizer while the chunker uses it (the race); one goes on
    # to the end of the build, as an answer does during a re-index. Three on two cores for
    # the whole build only made the embedding four times slower (4.8 -> 23 s). The build's
    # passage vectors come from the test cache (tests/build_vectors.py): chunking, the
    # race, runs for real; answers during a real embedding are test_engine.py's
    # test_reindex_during_a_stream_of_questions (a reconfiguring mutant still fails here
    # with "Already borrowed"; 21 -> 3.5 CPU-s alone).
    threads = [threading.Thread(target=answer_thread, args=(done,))]
    threads += [threading.Thread(target=answer_thread, args=(chunked,)) for _ in range(2)]
    threads.append(threading.Thread(target=reindex_thread))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    assert done.is_set() and chunked.is_set() and encoded[0] > 0
    assert (settings.index_dir / "current").is_file()
