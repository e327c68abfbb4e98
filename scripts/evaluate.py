"""Retrieval and answer quality on a JSONL question set, broken down by kind.

`python -m scripts.evaluate --questions PATH [--k 5] [--json] [--mode dense|bm25|hybrid]
[--fusion rrf|weighted] [--all-modes] [--variant accentless|nfd] [--details FILE]
[--followups FILE]`

Row kinds (one JSON object per line; unknown fields such as `note` or `file` are ignored):

* answerable: `{"id", "question", "answer_keys": [...], "doc"?, "article"?, "kind"?}`;
* out of scope: `{"id", "question", "expect_abstain": true}`;
* answer not in the documents: `{"id", "question", "expect_unknown": true, "forbidden": [...]}`;
* an action: `{"id", "question", "expect_intent": "register" | "talk_to_staff" | ...}`.

Answers are judged on what a user is shown (`bot.answer_views.render_answer`), so the
numbers measure the product, not an internal field. A row without `kind` gets one from its
expectation, or from how it is written (accented, unaccented, english).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.logs import configure_logging
from scripts.eval_judging import Judged, judge
from scripts.eval_metrics import summarize, summarize_by_kind
from scripts.eval_questions import Dialogue, Question, load_followups, load_questions, make_variant
from scripts.eval_report import detail_record, print_table

if TYPE_CHECKING:
    from index.engine import Engine
    from index.settings import Settings

logger = logging.getLogger(__name__)

MODES: dict[str, dict[str, Any]] = {
    "dense": {"mode": "dense"},
    "bm25": {"mode": "bm25"},
    "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf"},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
}


def ask_all(
    engine: Engine,
    questions: Sequence[Question],
    *,
    k: int = 5,
    mode: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Judged]:
    """Asks every question through `Engine.answer` and judges what would be shown."""
    judged: list[Judged] = []
    for done, item in enumerate(questions, start=1):
        answer = engine.answer(item.question, mode=mode, k=max(k, 5))  # type: ignore[arg-type]
        judged.append(judge(item, answer, k=k))
        if progress is not None:
            progress(done, len(questions))
    return judged


def ask_dialogues(
    engine: Engine, dialogues: Sequence[Dialogue], *, k: int = 5, mode: str | None = None
) -> list[Judged]:
    """Plays each dialogue through the engine's follow-up handling; judges the last turn."""
    from index.followup import next_context

    judged: list[Judged] = []
    for dialogue in dialogues:
        previous: str | None = None
        for turn in dialogue.turns:
            earlier = engine.answer(turn, mode=mode, k=max(k, 5), previous=previous)  # type: ignore[arg-type]
            previous = next_context(previous, earlier)
        answer = engine.answer(dialogue.last.question, mode=mode, k=max(k, 5), previous=previous)  # type: ignore[arg-type]
        judged.append(judge(dialogue.last, answer, k=k))
    return judged


def evaluate(
    engine: Engine,
    questions: Sequence[Question],
    *,
    k: int = 5,
    mode: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Asks every question and returns the metrics, with a `by_kind` breakdown.

    Args:
        engine: The engine to evaluate.
        questions: From `load_questions`.
        k: Passages retrieved per question (hit@5 and MRR@5 need k >= 5).
        mode: Retrieval mode; the engine's setting when None.
        progress: Called with (done, total) after each question.

    Returns:
        The metrics named in `METRIC_KEYS`, `EXTRA_KEYS` and `COUNT_KEYS`, plus `by_kind`;
        rates are in [0, 1], latencies in ms.
    """
    judged = ask_all(engine, questions, k=k, mode=mode, progress=progress)
    return {**summarize(judged), "by_kind": summarize_by_kind(judged)}


def ensure_index(settings: Settings) -> None:
    """Builds the index when it is missing or out of date, so a fresh checkout works."""
    from index.build import build_index
    from index.published import index_status

    status = index_status(settings)
    if status == "current":
        return
    logger.info("Index is %s; building it from %s", status, settings.knowledge_dir)
    build_index(settings, full=status == "mismatch")


def build_parser() -> argparse.ArgumentParser:
    """The options of `python -m scripts.evaluate`; `khuyencong evaluate` is generated from it."""
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
    parser.add_argument(
        "--details", type=Path, default=None, help="write one JSONL record per question here"
    )
    parser.add_argument(
        "--followups", type=Path, default=None, help="multi-turn JSONL file (last turn judged)"
    )
    return parser


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None, *, engine: Engine | None = None) -> int:
    """Runs the evaluation from the command line; returns the exit code.

    Args:
        argv: Command-line arguments (sys.argv[1:] when None).
        engine: An already loaded engine (tests); loaded from the environment when None.
    """
    args = _parse_args(argv)
    configure_logging(logging.WARNING if args.json else logging.INFO, stream=sys.stderr)
    for path in (args.questions, args.followups):
        if path is not None and not path.is_file():
            logger.error("Question file not found: %s", path)
            return 2
    questions = make_variant(load_questions(args.questions), args.variant)
    dialogues = load_followups(args.followups) if args.followups else []
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
    results: dict[str, dict[str, Any]] = {}
    details: list[dict[str, Any]] = []
    for name, run in runs.items():
        target = base.with_overrides(fusion=run["fusion"]) if "fusion" in run else base
        judged = ask_all(target, questions, k=args.k, mode=run["mode"])
        results[name] = {**summarize(judged), "by_kind": summarize_by_kind(judged)}
        details.extend({"run": name, **detail_record(j)} for j in judged)
    followups: dict[str, Any] | None = None
    if dialogues:
        judged = ask_dialogues(base, dialogues, k=args.k, mode=args.mode)
        followups = {**summarize(judged), "by_kind": summarize_by_kind(judged)}
        details.extend({"run": "followups", **detail_record(j)} for j in judged)

    if args.details is not None:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        with args.details.open("w", encoding="utf-8") as handle:
            for record in details:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if args.json:
        payload: dict[str, Any] = results if args.all_modes else dict(next(iter(results.values())))
        if followups is not None:
            payload["followups"] = followups
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        label = f" ({args.variant})" if args.variant else ""
        rows = dict(results)
        if followups is not None:
            rows[f"followups ({len(dialogues)})"] = followups
        print_table(f"{args.questions.name}{label}: {len(questions)} questions", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
