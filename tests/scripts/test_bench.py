"""A smoke run of the benchmark on a tiny synthetic index (numbers are not asserted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scripts.bench import main, synthetic_texts

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.settings import Settings

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
REQUIRED = {
    "answer_p50_ms",
    "answer_p95_ms",
    "search_p95_ms_100k",
    "build_chunks_per_s",
    "peak_rss_mb",
}


def test_synthetic_texts_are_vietnamese_like_and_deterministic() -> None:
    texts = synthetic_texts(20, seed=1)
    assert len(texts) == 20 and texts == synthetic_texts(20, seed=1)
    assert all(len(t.split()) >= 40 for t in texts)
    assert any("khuyến" in t or "công" in t for t in texts)


@pytest.mark.slow
def test_bench_smoke_run_prints_one_json_object(
    make_settings: Callable[..., Settings],
    embedding_model: SentenceTransformer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One small run through the command line (a build of the knowledge base is the cost)."""
    import index.embedding

    monkeypatch.setattr(index.embedding, "load_embedding_model", lambda *_a, **_k: embedding_model)
    settings = make_settings(knowledge_dir=REPO_KNOWLEDGE)
    argv = ["--json", "--n-queries", "3", "--synthetic", "300", "--no-corpus"]
    assert main(argv, settings=settings) == 0
    results = json.loads(capsys.readouterr().out)
    assert REQUIRED <= set(results)
    assert results["kb_chunks"] > 0 and results["synthetic_chunks"] == 300
    assert results["build_chunks_per_s"] > 0 and results["peak_rss_mb"] > 0
    # The benchmark builds into a temp dir and leaves the configured index alone.
    assert not (settings.index_dir / "current").exists()


@pytest.mark.slow
def test_corpus_build_reports_time_and_peak_rss(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from scripts.bench import corpus_build

    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "a.md").write_text("---\ntitle: A\n---\nHỗ trợ đào tạo nghề cho lao động.", "utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "README.md").write_text("# ghi chú", "utf-8")
    (corpus / "qd.txt").write_text(
        "QUYẾT ĐỊNH\nĐiều 1. Hỗ trợ lò sấy chè 37 triệu đồng.\nĐiều 2. Hiệu lực từ ngày ký.", "utf-8"
    )
    results = corpus_build(make_settings(knowledge_dir=knowledge), corpus)
    assert set(results) == {"corpus_build_seconds", "corpus_build_peak_rss_mb", "corpus_build_chunks"}
    # The guide, the header line, one chunk per article; README.md is not imported.
    assert results["corpus_build_chunks"] == 4
    assert results["corpus_build_peak_rss_mb"] > 50  # the child loaded the model
    assert corpus_build(make_settings(), tmp_path / "absent") == {}
