"""Retrieval and answer quality on a JSONL question set.

`python -m scripts.evaluate --questions PATH [--k 5] [--json] [--mode dense|bm25|hybrid]
[--fusion rrf|weighted] [--all-modes] [--variant accentless|nfd]`

Each line is `{"id", "question", "answer_keys": [...]}` (answerable) or
`{"id", "question", "expect_abstain": true}`.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.logs import configure_logging

if TYPE_CHECKING:
    from index.engine import Engine
    from index.schema import Passage
    from index.settings import Settings

logger = logging.getLogger(__name__)

METRIC_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@5",
    "answer_hit",
    "abstain_accuracy",
    "false_abstain",
    "p50_ms",
    "p95_ms",
    "n",
)
MODES: dict[str, dict[str, Any]] = {
    "dense": {"mode": "dense"},
    "bm25": {"mode": "bm25"},
    "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf"},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question: answerable (with answer keys) or expected to abstain."""

    id: str
    question: str
    answer_keys: tuple[str, ...] = ()
    expect_abstain: bool = False


@dataclass(slots=True)
class _Tally:
    ranks: list[int | None] = field(default_factory=list)
    answer_hits: list[bool] = field(default_factory=list)
    false_abstains: list[bool] = field(default_factory=list)
    abstains: list[bool] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def load_questions(path: Path | str) -> list[Question]:
    """Reads a JSONL question file, skipping blank lines."""
    questions: list[Question] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        keys = tuple(str(k) for k in row.get("answer_keys") or ())
        abstain = bool(row.get("expect_abstain", False))
        if not keys and not abstain:
            raise ValueError(f"{path}:{number}: needs answer_keys or expect_abstain")
        questions.append(
            Question(
                id=str(row.get("id", number)),
                question=str(row["question"]),
                answer_keys=keys,
                expect_abstain=abstain,
            )
        )
    return questions


def normalize_for_match(text: str) -> str:
    """NFC, casefold and collapse whitespace, so keys match regardless of form."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


def contains_key(text: str, keys: Iterable[str]) -> bool:
    """Tells whether any answer key is a substring of the text after normalisation."""
    haystack = normalize_for_match(text)
    return any(normalize_for_match(key) in haystack for key in keys if key.strip())


def first_hit_rank(passages: Sequence[Passage], keys: Iterable[str]) -> int | None:
    """1-based rank of the first passage containing an answer key, or None."""
    keys = list(keys)
    for rank, passage in enumerate(passages, start=1):
        if contains_key(passage.chunk.text, keys):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first hit is within the top k."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(ranks: Sequence[int | None], k: int) -> float:
    """Mean reciprocal rank, counting only hits within the top k."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Sequence[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(
    engine: Engine,
    questions: Sequence[Question],
    *,
    k: int = 5,
    mode: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Asks every question through `Engine.answer` and scores the results.

    Args:
        engine: The engine to evaluate.
        questions: From `load_questions`.
        k: Passages retrieved per question (hit@5 and MRR@5 need k >= 5).
        mode: Retrieval mode; the engine's setting when None.
        progress: Called with (done, total) after each question.

    Returns:
        The metrics named in `METRIC_KEYS`; rates are in [0, 1], latencies in ms.
    """
    tally = _Tally()
    for done, item in enumerate(questions, start=1):
        answer = engine.answer(item.question, mode=mode, k=max(k, 5))  # type: ignore[arg-type]
        tally.latencies.append(answer.latency_ms)
        if item.expect_abstain:
            tally.abstains.append(not answer.confident)
        else:
            tally.ranks.append(first_hit_rank(answer.passages[:k], item.answer_keys))
            tally.answer_hits.append(
                answer.confident and contains_key(answer.text, item.answer_keys)
            )
            tally.false_abstains.append(not answer.confident)
        if progress is not None:
            progress(done, len(questions))
    return {
        "hit@1": hit_at(tally.ranks, 1),
        "hit@3": hit_at(tally.ranks, 3),
        "hit@5": hit_at(tally.ranks, 5),
        "mrr@5": mrr_at(tally.ranks, 5),
        "answer_hit": _mean(tally.answer_hits),
        "abstain_accuracy": _mean(tally.abstains),
        "false_abstain": _mean(tally.false_abstains),
        "p50_ms": percentile(tally.latencies, 50),
        "p95_ms": percentile(tally.latencies, 95),
        "n": len(questions),
    }


def make_variant(questions: Sequence[Question], variant: str | None) -> list[Question]:
    """Rewrites every question: "accentless" folds diacritics, "nfd" decomposes accents."""
    if not variant:
        return list(questions)
    from index.textnorm import fold_diacritics

    rewrite: Callable[[str], str]
    if variant == "accentless":
        rewrite = fold_diacritics
    elif variant == "nfd":

        def rewrite(text: str) -> str:
            return unicodedata.normalize("NFD", text)

    else:
        raise ValueError(f"unknown variant {variant!r}")
    return [Question(q.id, rewrite(q.question), q.answer_keys, q.expect_abstain) for q in questions]


def ensure_index(settings: Settings) -> None:
    """Builds the index when it is missing or out of date, so a fresh checkout works."""
    from index.build import build_index, index_status

    status = index_status(settings)
    if status == "current":
        return
    logger.info("Index is %s; building it from %s", status, settings.knowledge_dir)
    build_index(settings, full=status == "mismatch")


def _format_row(name: str, metrics: dict[str, float]) -> list[str]:
    cells = [name]
    for key in METRIC_KEYS:
        value = metrics[key]
        if key == "n":
            cells.append(str(int(value)))
        elif key.endswith("_ms"):
            cells.append(f"{value:.1f}")
        else:
            cells.append(f"{value:.3f}")
    return cells


def _print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("mode")
    for key in METRIC_KEYS:
        table.add_column(key, justify="right")
    for name, metrics in rows.items():
        table.add_row(*_format_row(name, metrics))
    console = Console()
    if not console.is_terminal:
        console.width = 160  # a file or pipe gets the whole table, not an 80-column squeeze
    console.print(table)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.evaluate", description="Evaluate retrieval and answers."
    )
    parser.add_argument("--questions", type=Path, required=True, help="JSONL question file")
    parser.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--mode", choices=["dense", "bm25", "hybrid"], default=None)
    parser.add_argument("--fusion", choices=["rrf", "weighted"], default=None)
    parser.add_argument("--dense-weight", type=float, default=None, help="override the weight")
    parser.add_argument(
        "--abstain-threshold", type=float, default=None, help="override the threshold"
    )
    parser.add_argument(
        "--all-modes", action="store_true", help="dense, bm25, hybrid-rrf, hybrid-weighted"
    )
    parser.add_argument(
        "--variant",
        choices=["accentless", "nfd"],
        default=None,
        help="rewrite the questions (diacritics removed, or NFD) to test robustness",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, engine: Engine | None = None) -> int:
    """Runs the evaluation from the command line; returns the exit code.

    Args:
        argv: Command-line arguments (sys.argv[1:] when None).
        engine: An already loaded engine (tests); loaded from the environment when None.
    """
    args = _parse_args(argv)
    configure_logging(logging.WARNING if args.json else logging.INFO, stream=sys.stderr)
    if not args.questions.is_file():
        logger.error("Question file not found: %s", args.questions)
        return 2
    questions = make_variant(load_questions(args.questions), args.variant)
    if engine is None:
        from index.engine import load_engine
        from index.settings import Settings

        settings = Settings()
        ensure_index(settings)
        engine = load_engine(settings)
    overrides: dict[str, Any] = {}
    if args.fusion:
        overrides["fusion"] = args.fusion
    if args.dense_weight is not None:
        overrides["dense_weight"] = args.dense_weight
    if args.abstain_threshold is not None:
        overrides["abstain_threshold"] = args.abstain_threshold
    base = engine.with_overrides(**overrides) if overrides else engine

    runs: dict[str, dict[str, Any]]
    if args.all_modes:
        runs = MODES
    else:
        name = args.mode or base.settings.retrieval_mode
        if name == "hybrid":
            name = f"hybrid-{base.settings.fusion}"
        runs = {name: {"mode": args.mode}}
    results: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        target = base.with_overrides(fusion=run["fusion"]) if "fusion" in run else base
        results[name] = evaluate(target, questions, k=args.k, mode=run["mode"])

    if args.json:
        payload: dict[str, Any] = results if args.all_modes else next(iter(results.values()))
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        label = f" ({args.variant})" if args.variant else ""
        _print_table(f"{args.questions.name}{label}: {len(questions)} questions", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
