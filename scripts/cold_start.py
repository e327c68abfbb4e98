"""Cold start and footprint of a serving process: time to the first answer, peak RSS.

`python -m scripts.cold_start [--json] [--started EPOCH]`

Runs what the bot does at start-up in a fresh interpreter: import the core, load the
embedding model (one runtime thread) and the published index, answer one question, then
answer the benchmark questions and report the peak resident memory. `scripts.bench` runs
it as a child process; `--started` is the parent's clock just before the launch, so the
interpreter's own start-up is counted too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

#: The first question of a fresh bot (any question works; this one needs dense and BM25).
FIRST_QUESTION = "Cơ sở công nghiệp nông thôn được hỗ trợ những gì?"


def main(argv: list[str] | None = None) -> int:
    """Measures the cold start and prints the numbers; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m scripts.cold_start")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--started", type=float, default=None, help="launch time (epoch s)")
    args = parser.parse_args(argv)
    started = args.started if args.started is not None else time.time()
    before_import = time.time()
    from index.engine import load_engine
    from index.settings import Settings

    settings = Settings()
    imported = time.time()
    engine = load_engine(settings)
    loaded = time.time()
    engine.answer(FIRST_QUESTION)
    answered = time.time()

    from scripts.bench_inputs import SAMPLE_QUESTIONS
    from scripts.bench_timing import peak_rss_mb

    for question in SAMPLE_QUESTIONS:
        engine.answer(question)
    results = {
        "cold_start_s": round(answered - started, 3),
        "cold_start_interpreter_s": round(before_import - started, 3),
        "cold_start_import_s": round(imported - before_import, 3),
        "cold_start_load_s": round(loaded - imported, 3),
        "first_answer_ms": round((answered - loaded) * 1000.0, 1),
        "serving_peak_rss_mb": round(peak_rss_mb(), 1),
        "serving_backend": engine.manifest.get("embedding_backend", "torch"),
    }
    if args.json:
        sys.stdout.write(json.dumps(results) + "\n")
    else:
        for key, value in results.items():
            sys.stdout.write(f"{key}: {value}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
