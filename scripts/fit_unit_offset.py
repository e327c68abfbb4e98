"""Fits one answer-unit scorer weight on top of the shipped ones (an offset fit).

`python -m scripts.fit_unit_offset --feature NAME --index KNOWLEDGE_DIR:INDEX_DIR
--questions FILE ... [--index ... --questions ...] [--scorer PATH] [--out PATH]`

A full refit of the scorer (`scripts.fit_scorer`) moves every weight, and has cost
knowledge-base questions when the legal corpus was added (dev hit@1 0.96 -> 0.88). This keeps
the other weights and the bias and chooses the weight of one feature whose weight is 0 today,
from a grid, by what the evaluation's hit@1 reads: whether the passage of the best-scored
unit holds an answer key (from the row's `doc` when it names one). The weight is chosen by
5-fold cross-validation grouped by question (the held-out hit is printed next to the
kept weights'), then on all questions; ties go to the smaller weight. The weight and the
command are written into the scorer file under `offset_fits`.

With `--ranker`, passages are ordered by that passage ranker instead of the knowledge dir's.
The shipped ranker was fitted on the same tuning questions, so on them it is surer than on a
new question; one refitted without some tuning files (`scripts.fit_ranker --out`) gives those
files' questions the ranker scores a new question gets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from index.logs import configure_logging

logger = logging.getLogger(__name__)

#: Weights tried. The scorer's logits span about 10 between a question's units; a step of
#: 0.5 is finer than any difference the tuning questions resolve.
GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


def question_rows(engine: Any, questions: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per answerable question with a key in its passages: unit features, passage labels."""
    from scripts.eval_judging import contains_key, doc_matches
    from scripts.fit_scorer import ranked_candidates

    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for item in questions:
        if not item.answerable:
            continue
        ranked = ranked_candidates(engine, item.question)
        labels = [
            contains_key(c.passage.chunk.text, item.answer_keys)
            and (item.doc is None or doc_matches(item.doc, number=c.passage.doc.number,
                                                 doc_id=c.passage.doc.doc_id))
            for c in ranked
        ]  # fmt: skip
        if any(labels):
            rows.append((np.vstack([c.features for c in ranked]), np.asarray(labels, dtype=bool)))
    return rows


def hits(rows: list[tuple[np.ndarray, np.ndarray]], logit: list[np.ndarray], column: int,
         weight: float) -> int:  # fmt: skip
    """Questions whose best unit (kept logit + weight x feature) comes from a right passage."""
    found = 0
    for (x, y), base in zip(rows, logit, strict=True):
        found += int(y[int(np.argmax(base + weight * x[:, column]))])
    return found


def choose(rows: list[tuple[np.ndarray, np.ndarray]], logit: list[np.ndarray], column: int,
           idx: list[int]) -> float:  # fmt: skip
    """The grid weight with the most hits on the questions `idx` (the smaller on ties)."""
    sub_rows = [rows[i] for i in idx]
    sub_logit = [logit[i] for i in idx]
    scored = [(hits(sub_rows, sub_logit, column, w), -abs(w), w) for w in GRID]
    return max(scored)[2]


def main(argv: list[str] | None = None) -> int:
    from index.engine import load_engine
    from index.passage_ranker import PassageRanker
    from index.settings import Settings
    from index.unit_scorer import FEATURES, SCORER_FILE, UnitScorer
    from scripts.eval_questions import load_questions, make_variant
    from scripts.fit_scorer import index_plan

    configure_logging(logging.INFO, stream=sys.stderr)
    parser = argparse.ArgumentParser(prog="python -m scripts.fit_unit_offset", description=__doc__)
    parser.add_argument("--feature", required=True, choices=FEATURES)
    parser.add_argument("--index", action="append", default=[],
                        help="KNOWLEDGE_DIR:INDEX_DIR; the --questions after it are asked of it")
    parser.add_argument("--questions", action="append", type=Path, required=True)
    parser.add_argument("--with-accentless", action="store_true",
                        help="also ask every question typed without diacritics")
    parser.add_argument("--scorer", type=Path, default=Path("knowledge") / SCORER_FILE,
                        help="the scorer whose other weights are kept")
    parser.add_argument("--out", type=Path, default=None, help="default: the --scorer file")
    parser.add_argument("--ranker", type=Path, default=None,
                        help="a passage ranker file to order passages with (default: the index's)")
    args = parser.parse_args(argv)
    raw = list(sys.argv[1:] if argv is None else argv)
    scorer = UnitScorer.load(args.scorer)
    kept = {name: w for name, w in scorer.weights.items() if name != args.feature}
    weights = np.asarray([kept.get(name, 0.0) for name in FEATURES])
    column = FEATURES.index(args.feature)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for pair, paths in index_plan(raw):
        settings = Settings()
        if pair:
            knowledge, index_dir = pair.split(":", 1)
            settings = Settings(knowledge_dir=Path(knowledge), index_dir=Path(index_dir))
        engine = load_engine(settings)
        if args.ranker is not None:
            engine.use_ranker(PassageRanker.load(args.ranker))
        questions = [q for path in paths for q in load_questions(path)]
        if args.with_accentless:
            questions += make_variant(questions, "accentless")
        found = question_rows(engine, questions)
        logger.info("%s: %d questions with a key in their passages", pair or "default", len(found))
        rows += found
    logit = [x @ weights + scorer.bias for x, _ in rows]
    order = np.random.RandomState(0).permutation(len(rows))
    folds = [sorted(int(i) for i in order[k::5]) for k in range(5)]
    held = 0
    for test in folds:
        train = sorted(set(range(len(rows))) - set(test))
        w = choose(rows, logit, column, train)
        held += hits([rows[i] for i in test], [logit[i] for i in test], column, w)
    weight = choose(rows, logit, column, list(range(len(rows))))
    grid = {str(w): hits(rows, logit, column, w) for w in GRID}
    fit = {
        "feature": args.feature,
        "weight": weight,
        "fitted": dt.date.today().isoformat(),
        "command": " ".join(["python -m scripts.fit_unit_offset", *raw]),
        "questions": len(rows),
        "kept_hit@1": round(grid["0.0"] / max(len(rows), 1), 4),
        "cv_hit@1": round(held / max(len(rows), 1), 4),
        "hits_by_weight": grid,
    }
    if args.ranker is not None:
        # The refit ranker is not shipped: its own command rebuilds it before this one runs.
        fit["ranker_command"] = json.loads(args.ranker.read_text(encoding="utf-8")).get("command")
    fits = [f for f in scorer.info.get("offset_fits", []) if f.get("feature") != args.feature]
    info = {**scorer.info, "offset_fits": [*fits, fit]}
    UnitScorer({**kept, args.feature: weight}, scorer.bias, info).save(args.out or args.scorer)
    sys.stdout.write(json.dumps(fit, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
