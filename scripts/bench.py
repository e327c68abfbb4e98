"""Latency, throughput and memory of the retrieval core.

`python -m scripts.bench [--json] [--n-queries 200] [--synthetic 100000]`

Measures: query embedding; hybrid search and a whole `Engine.answer()` over the real
knowledge base; hybrid search alone over a synthetic index of `--synthetic` chunks (random
unit vectors for FAISS, generated Vietnamese-like text for BM25, query embedded once);
index build throughput (a full build of the knowledge base into a temp dir); peak RSS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.logs import configure_logging
from scripts.evaluate import percentile

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


def synthetic_index(n: int, dim: int, *, seed: int = 0) -> Any:
    """A `LoadedIndex` of `n` chunks: random unit vectors and generated text."""
    from index.dense import DenseIndex
    from index.lexical import LexicalIndex
    from index.schema import Chunk, DocumentMeta
    from index.store import LoadedIndex

    rng = np.random.default_rng(seed)
    # Real embeddings cluster by topic; uniform random vectors would make IVF recall
    # meaningless, so draw them around random centres.
    centres = rng.standard_normal((min(2000, n), dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    vectors = centres[rng.integers(0, len(centres), size=n)] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = list(range(1, n + 1))
    # Above EXACT_SEARCH_MAX vectors this is an IVF index, as a real build would make.
    dense = DenseIndex.from_vectors(ids, vectors)
    texts = synthetic_texts(n, seed=seed)
    lexical = LexicalIndex()
    lexical.build(ids, texts)
    docs = {f"doc-{d}": DocumentMeta(doc_id=f"doc-{d}", title=f"Tài liệu {d}") for d in range(100)}
    chunks = {
        cid: Chunk(chunk_id=cid, doc_id=f"doc-{cid % 100}", text=text)
        for cid, text in zip(ids, texts, strict=True)
    }
    return LoadedIndex(
        version="synthetic",
        path=Path("."),
        manifest={"chunk_count": n, "doc_count": len(docs)},
        chunks=chunks,
        docs=docs,
        dense=dense,
        lexical=lexical,
    )


def _queries(n: int) -> list[str]:
    return [SAMPLE_QUESTIONS[i % len(SAMPLE_QUESTIONS)] for i in range(n)]


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports ru_maxrss in KB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def run_benchmark(
    settings: Settings,
    *,
    n_queries: int = 200,
    synthetic: int = 100_000,
    model: Any | None = None,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Runs every measurement and returns the numbers (milliseconds unless named).

    Args:
        settings: Settings over the real knowledge base (its index dir is not touched: the
            knowledge base is built into a temp dir and measured there).
        n_queries: Timed repetitions per measurement.
        synthetic: Chunks of the synthetic index (0 skips that measurement).
        model: An already loaded embedding model (tests); loaded from settings when None.
        progress: A rich progress display for the long phases.

    Returns:
        answer_p50_ms, answer_p95_ms, search_p95_ms_100k, build_chunks_per_s, peak_rss_mb
        (the serving footprint: model and knowledge-base index, measured before the
        synthetic phase) and more (embed_*, search_*, synthetic_chunks, kb_chunks,
        peak_rss_mb_with_synthetic).
    """
    from index.answering import TermStats
    from index.build import build_index
    from index.embedding import embedding_dim, encode_queries, load_embedding_model
    from index.engine import limit_search_threads, load_engine
    from index.retrieval import HybridRetriever

    results: dict[str, float] = {}
    model = model if model is not None else load_embedding_model(settings)

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        build_settings = settings.model_copy(update={"index_dir_override": Path(tmp)})
        build_settings.__dict__.pop("index_dir", None)  # drop the cached derived path
        with _phase(progress, "Full build of the knowledge base", 1) as step:
            report = build_index(build_settings, full=True, model=model)
            step()
        results["kb_chunks"] = float(report.chunks)
        results["build_seconds"] = round(report.seconds, 3)
        results["build_chunks_per_s"] = round(report.chunks / max(report.seconds, 1e-9), 1)
        # From here on one thread each, as in the serving process (see load_engine); the
        # build above used every core, as `make reindex` does.
        limit_search_threads()
        engine = load_engine(build_settings, model=model)

        queries = _queries(n_queries)
        for query in SAMPLE_QUESTIONS:  # warm-up: first calls allocate and fill caches
            engine.answer(query)
        embed: list[float] = []
        with _phase(progress, "Query embedding", n_queries) as step:
            for query in queries:
                embed.append(_timed(lambda q=query: encode_queries(model, [q])))  # type: ignore[misc]
                step()
        results.update(_summary("embed", embed))

        search: list[float] = []
        with _phase(progress, "Hybrid search (KB)", n_queries) as step:
            for query in queries:
                search.append(_timed(lambda q=query: engine.search(q, k=5)))  # type: ignore[misc]
                step()
        results.update(_summary("search", search))

        answer: list[float] = []
        with _phase(progress, "answer() (KB)", n_queries) as step:
            for query in queries:
                answer.append(engine.answer(query).latency_ms)
                step()
        results.update(_summary("answer", answer))

    # The serving process never holds the synthetic index, so its footprint is taken here.
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    # Other work on the machine inflates the tails; the load average says how much.
    results["load_avg_1m"] = round(os.getloadavg()[0], 2)
    if synthetic > 0:
        dim = embedding_dim(model)
        with _phase(progress, f"Synthetic index of {synthetic:,} chunks", 1) as step:
            big = synthetic_index(synthetic, dim)
            step()
            stats = TermStats(chunk.text for chunk in big.chunks.values())
        retriever = HybridRetriever(big, model, settings, stats=stats)
        vectors = np.asarray(encode_queries(model, list(SAMPLE_QUESTIONS)), dtype=np.float32)
        big_search: list[float] = []
        with _phase(progress, f"Hybrid search ({synthetic:,} chunks)", n_queries) as step:
            for i, query in enumerate(queries):
                vector = vectors[i % len(SAMPLE_QUESTIONS)]
                big_search.append(
                    _timed(lambda q=query, v=vector: retriever.search(q, k=5, query_vector=v))  # type: ignore[misc]
                )
                step()
        results["synthetic_chunks"] = float(synthetic)
        results["search_p50_ms_100k"] = round(percentile(big_search, 50), 3)
        results["search_p95_ms_100k"] = round(percentile(big_search, 95), 3)
        results["peak_rss_mb_with_synthetic"] = round(peak_rss_mb(), 1)
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
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": report.chunks,
                  "added": sum(i.outcome == "added" for i in items),
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
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
        "--no-corpus", action="store_true", help="skip the knowledge + legal corpus build"
    )
    return parser


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _print_table(results: dict[str, float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Benchmark")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, f"{value:,.3f}" if isinstance(value, float) else str(value))
    Console().print(table)


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
            settings, n_queries=args.n_queries, synthetic=args.synthetic, progress=progress
        )
        if not args.no_corpus:
            with _phase(progress, "Knowledge + legal corpus: import and full build", 1) as step:
                results.update(corpus_build(settings))
                step()
    if args.json:
        sys.stdout.write(json.dumps(results) + "\n")
    else:
        _print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
