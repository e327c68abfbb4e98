"""Build throughput for `scripts.bench`: index builds against raw passage encoding.

A build is compared with `encode_document` on exactly the texts it embedded, with the same
model in the same run, so `build_over_encode` says how much of a build is spent outside
the model (reading, chunking, BM25, writing, verifying). Large builds run as
`python -m scripts reindex --full` in a child process, which gives their own peak RSS, and
so does the import and build of knowledge/ plus the legal corpus (`corpus_build`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts.bench_timing import phase

if TYPE_CHECKING:
    from rich.progress import Progress

    from index.settings import Settings


def synthetic_knowledge(root: Path, chunks: int, *, per_doc: int = 100, seed: int = 0) -> int:
    """Writes Markdown documents that chunk into about `chunks` chunks.

    Each section holds one generated paragraph (40-90 words, see
    `scripts.bench_inputs.synthetic_texts`), and a chunk never crosses a heading, so every
    section is one chunk.

    Args:
        root: The knowledge directory to create.
        chunks: Sections to write in total.
        per_doc: Sections per document.
        seed: Seed of the generated text.

    Returns:
        The number of documents written.
    """
    from scripts.bench_inputs import synthetic_texts

    texts = synthetic_texts(chunks, seed=seed)
    root.mkdir(parents=True, exist_ok=True)
    docs = 0
    for start in range(0, chunks, per_doc):
        body = [f"# Tài liệu tổng hợp số {docs + 1}", ""]
        for number, text in enumerate(texts[start : start + per_doc], start=1):
            body += [f"## Mục {number}", "", text, ""]
        (root / f"tong-hop-{docs + 1:04d}.md").write_text("\n".join(body), encoding="utf-8")
        docs += 1
    return docs


def chunk_texts(index_dir: Path) -> list[str]:
    """Returns the embedded texts (`index_text`) of the published version in `index_dir`."""
    version = (index_dir / "current").read_text(encoding="utf-8").strip()
    lines = (index_dir / "versions" / version / "chunks.jsonl").read_text(encoding="utf-8")
    return [json.loads(line)["index_text"] for line in lines.splitlines() if line.strip()]


def raw_encode_rate(model: Any, texts: list[str], batch_size: int) -> float:
    """Passages per second of one `encode_passages` call over all texts (its best case)."""
    from index.embedding import encode_passages

    started = time.perf_counter()
    encode_passages(model, texts, batch_size=batch_size)
    return len(texts) / max(time.perf_counter() - started, 1e-9)


def build_in_child(settings: Settings, knowledge: Path, index_dir: Path) -> dict[str, float]:
    """Runs a full build of `knowledge` into `index_dir` in a fresh interpreter.

    The child (`python -m scripts.bench_build KNOWLEDGE INDEX`) loads the model itself, as
    `python -m scripts reindex --full` does, and reports its own peak RSS.

    Args:
        settings: Gives the model, backend and model directory passed to the child.
        knowledge: The knowledge directory to index.
        index_dir: Where the child publishes the index.

    Returns:
        chunks, build seconds (from `build_index`, model load included), and the child's
        peak RSS in MB.

    Raises:
        RuntimeError: The build failed; the child's last output lines are in the message.
    """
    env = {
        **os.environ,
        "MODEL_DIR": str(settings.model_dir.resolve()),
        "EMBEDDING_MODEL": settings.embedding_model,
        "EMBEDDING_BACKEND": settings.embedding_backend,
        "EMBEDDING_QUANTIZATION": settings.embedding_quantization,
    }
    command = [sys.executable, "-m", "scripts.bench_build", str(knowledge), str(index_dir)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-5:])
        raise RuntimeError(f"build of {knowledge} failed:\n{tail}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_child_build(
    settings: Settings, model: Any, knowledge: Path, *, prefix: str
) -> dict[str, float]:
    """Builds `knowledge` in a child process and compares it with raw encoding.

    Args:
        settings: Model and backend settings.
        model: The build model (all runtime threads) for the raw-encode comparison.
        knowledge: The knowledge directory.
        prefix: Key prefix of the results, e.g. "build_synthetic".

    Returns:
        `<prefix>_chunks`, `_seconds`, `_chunks_per_s`, `_raw_encode_chunks_per_s`,
        `_over_encode`, `_peak_rss_mb`.
    """
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        index_dir = Path(tmp) / "index"
        built = build_in_child(settings, knowledge.resolve(), index_dir)
        raw = raw_encode_rate(model, chunk_texts(index_dir), settings.embedding_batch_size)
    rate = built["chunks"] / max(built["seconds"], 1e-9)
    return {
        f"{prefix}_chunks": built["chunks"],
        f"{prefix}_seconds": round(built["seconds"], 2),
        f"{prefix}_chunks_per_s": round(rate, 1),
        f"{prefix}_raw_encode_chunks_per_s": round(raw, 1),
        f"{prefix}_over_encode": round(rate / raw, 3),
        f"{prefix}_peak_rss_mb": built["peak_rss_mb"],
    }


def measure_cold_start(settings: Settings, index_dir: Path) -> dict[str, Any]:
    """Runs `scripts.cold_start` in a fresh interpreter over a published index.

    Args:
        settings: Model and backend settings passed to the child.
        index_dir: A directory with a published index.

    Returns:
        The child's numbers: cold_start_s and its parts, first_answer_ms,
        serving_peak_rss_mb, serving_backend.
    """
    env = {
        **os.environ,
        "INDEX_DIR": str(index_dir),
        "MODEL_DIR": str(settings.model_dir.resolve()),
        "KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "EMBEDDING_MODEL": settings.embedding_model,
        "EMBEDDING_BACKEND": settings.embedding_backend,
        "EMBEDDING_QUANTIZATION": settings.embedding_quantization,
    }
    command = [sys.executable, "-m", "scripts.cold_start", "--json", "--started"]
    done = subprocess.run(
        [*command, repr(time.time())], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-5:])
        raise RuntimeError(f"cold-start probe failed:\n{tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


#: The knowledge-base builds, alternated with raw encodes (see build_phase): a cold build (no
#: cached intent base) of the knowledge base less one document, then a warm one after the
#: document is added back (the intent base cached, the index statistics changed), as
#: `reindex --full` runs once anything was built with this intents.yaml and model.
BUILD_KINDS = ("cold", "warm")


def _intent_fit_seconds(settings: Settings) -> float:
    from index import store

    manifest = store.current_manifest(settings) or {}
    return float((manifest.get("intents") or {}).get("fit_seconds", 0.0))


def build_phase(
    settings: Settings, model: Any, index_dir: Path, progress: Progress | None
) -> dict[str, float]:
    """Times a cold and a warm full build of the knowledge base, each beside a raw encode."""
    from index.build import build_index
    from index.documents import iter_source_files

    builds: dict[str, Any] = {}
    fits: dict[str, float] = {}
    raws: dict[str, float] = {}
    # Build, encode, build, encode: on a shared machine the load drifts between phases, and
    # each build is compared with an encode of its own chunks right after it.
    with (
        tempfile.TemporaryDirectory(prefix="bench-intent-cache-") as cache,
        tempfile.TemporaryDirectory(prefix="bench-knowledge-") as copy,
        phase(
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
        build_settings = with_index_dir(
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


def with_index_dir(
    settings: Settings,
    index_dir: Path,
    *,
    intent_cache: Path | None = None,
    knowledge: Path | None = None,
) -> Settings:
    """`settings` over another index dir (and intent cache, knowledge dir), derived paths reset."""
    update: dict[str, Any] = {"index_dir_override": index_dir}
    if intent_cache is not None:
        update["intent_cache_dir_override"] = intent_cache
    if knowledge is not None:
        update["knowledge_dir"] = knowledge
    changed = settings.model_copy(update=update)
    for derived in ("index_dir", "intent_cache_dir"):
        changed.__dict__.pop(derived, None)  # drop the cached derived paths
    return changed


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


def main(argv: list[str] | None = None) -> int:
    """Child side of `build_in_child`: builds KNOWLEDGE into INDEX and prints JSON."""
    from index.build import build_index
    from index.settings import Settings
    from scripts.bench_timing import peak_rss_mb

    knowledge, index_dir = (Path(arg) for arg in (argv if argv is not None else sys.argv[1:]))
    settings = Settings(knowledge_dir=knowledge, INDEX_DIR=index_dir)
    report = build_index(settings, full=True)
    result = {
        "chunks": float(report.chunks),
        "seconds": report.seconds,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
