"""Build throughput for `scripts.bench`: index builds against raw passage encoding.

A build is compared with `encode_document` on exactly the texts it embedded, with the same
model in the same run, so `build_over_encode` says how much of a build is spent outside
the model (reading, chunking, BM25, writing, verifying). Large builds run as
`python -m scripts reindex --full` in a child process, which gives their own peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.settings import Settings


def synthetic_knowledge(root: Path, chunks: int, *, per_doc: int = 100, seed: int = 0) -> int:
    """Writes Markdown documents that chunk into about `chunks` chunks.

    Each section holds one generated paragraph (40-90 words, see
    `scripts.bench.synthetic_texts`), and a chunk never crosses a heading, so every
    section is one chunk.

    Args:
        root: The knowledge directory to create.
        chunks: Sections to write in total.
        per_doc: Sections per document.
        seed: Seed of the generated text.

    Returns:
        The number of documents written.
    """
    from scripts.bench import synthetic_texts

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


def main(argv: list[str] | None = None) -> int:
    """Child side of `build_in_child`: builds KNOWLEDGE into INDEX and prints JSON."""
    from index.build import build_index
    from index.settings import Settings
    from scripts.bench import peak_rss_mb

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
