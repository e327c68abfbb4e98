"""Fits the answer-unit scorer and the selection values on tuning files, never on what is reported.

`python -m scripts.fit_scorer --questions tests/data/tuning_questions.jsonl
[--questions more.jsonl] [--with-accentless] [--out knowledge/answer_scorer.json]`

A unit of the top passages is a positive when it contains an answer key of its (answerable)
tuning row. The logistic regression's regularisation is chosen by grouped cross-validation
(a question's units stay in one fold); its held-out probabilities give the reliability table
printed at the end. The selection values (MMR weight, floors) are then picked by a small grid
over the whole pipeline on the same tuning rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.logs import configure_logging

if TYPE_CHECKING:
    from index.engine import Engine
    from scripts.evaluate import Question

logger = logging.getLogger(__name__)

#: Regularisation strengths tried by cross-validation.
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: Selection values tried on the whole pipeline.
LAMBDA_GRID = (0.5, 0.8)
RELATIVE_GRID = (0.4, 0.6)
FLOOR_GRID = (0.02, 0.05, 0.1)


def unit_rows(engine: Engine, questions: list[Question]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels and question groups of every candidate unit."""
    from index.answering import rank_units
    from index.question import prepare_question
    from scripts.evaluate import contains_key

    features: list[np.ndarray] = []
    labels: list[int] = []
    groups: list[int] = []
    # A question and its unaccented copy share an id, so they stay in one fold.
    group_of: dict[str, int] = {}
    for item in questions:
        if not item.answerable:
            continue
        number = group_of.setdefault(item.id, len(group_of))
        text = prepare_question(item.question, max_chars=engine.settings.max_question_chars).text
        query, retrieval, prediction, models = engine.inspect(text)
        asks_value = prediction.asks_value if prediction is not None else 0.0
        asks_list = prediction.asks_list if prediction is not None else None
        ranked = rank_units(
            query, retrieval.passages, retrieval.query_vector, asks_value, models, asks_list
        )
        for candidate in ranked:
            unit = candidate.unit
            shown = " ".join([unit.label, unit.text, *unit.items])
            features.append(candidate.features)
            labels.append(int(contains_key(shown, item.answer_keys)))
            groups.append(number)
    return np.vstack(features), np.asarray(labels), np.asarray(groups)


def fit_weights(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[Any, float, np.ndarray]:
    """Picks C by grouped CV log-loss; returns the refitted model, C and held-out probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold

    folds = list(GroupKFold(n_splits=5).split(x, y, groups))
    best: tuple[float, float, np.ndarray] | None = None
    for c in C_GRID:
        held_out = np.zeros(len(y))
        for train, test in folds:
            model = LogisticRegression(C=c, max_iter=5000).fit(x[train], y[train])
            held_out[test] = model.predict_proba(x[test])[:, 1]
        loss = log_loss(y, held_out, labels=[0, 1])
        logger.info("C=%s held-out log-loss %.4f", c, loss)
        if best is None or loss < best[0]:
            best = (loss, c, held_out)
    assert best is not None
    _, c, held_out = best
    return LogisticRegression(C=c, max_iter=5000).fit(x, y), c, held_out


def reliability(probabilities: np.ndarray, outcomes: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted-probability bins against the observed rate (the calibration curve)."""
    table = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (probabilities >= low) & ((probabilities < high) | (high == 1.0))
        if inside.any():
            table.append(
                {
                    "bin": f"{low:.1f}-{high:.1f}",
                    "n": int(inside.sum()),
                    "mean_predicted": round(float(probabilities[inside].mean()), 3),
                    "observed": round(float(outcomes[inside].mean()), 3),
                }
            )
    return table


def _objective(metrics: dict[str, Any]) -> float:
    # What the targets weigh: the answer first and found, refusals right, honest
    # unknowns; concise answers break ties.
    parts = [
        metrics.get("answer_first") or 0.0,
        metrics.get("answer_hit") or 0.0,
        metrics.get("abstain_accuracy") or 0.0,
        1.0 - (metrics.get("false_abstain") or 0.0),
        metrics.get("unknown_honesty") or 0.0,
    ]
    return sum(parts) - (metrics.get("answer_chars_p50") or 0.0) / 10_000.0


def main(argv: list[str] | None = None) -> int:
    """Fits the scorer and writes it; prints the reliability table."""
    parser = argparse.ArgumentParser(prog="python -m scripts.fit_scorer")
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, default=None, help="default: knowledge/answer_scorer.json")
    parser.add_argument(
        "--with-accentless",
        action="store_true",
        help="also fit on every question typed without diacritics (as owners often type)",
    )
    args = parser.parse_args(argv)
    configure_logging(logging.INFO, stream=sys.stderr)

    from index.answering import Selection
    from index.engine import load_engine
    from index.settings import Settings
    from index.unit_scorer import FEATURES, SCORER_FILE, UnitScorer
    from scripts.evaluate import ensure_index, evaluate, load_questions, make_variant

    settings = Settings()
    ensure_index(settings)
    engine = load_engine(settings)
    questions = [q for path in args.questions for q in load_questions(path)]
    if args.with_accentless:
        questions += make_variant(questions, "accentless")
    x, y, groups = unit_rows(engine, questions)
    model, c, held_out = fit_weights(x, y, groups)
    scorer = UnitScorer(
        {name: round(float(w), 4) for name, w in zip(FEATURES, model.coef_[0], strict=True)},
        round(float(model.intercept_[0]), 4),
    )
    models = engine.inspect("khuyến công")[3]
    models.scorer = scorer
    best: tuple[float, Selection, dict[str, Any]] | None = None
    for mmr in LAMBDA_GRID:
        for relative in RELATIVE_GRID:
            for floor in FLOOR_GRID:
                models.selection = Selection(mmr, floor, relative)
                metrics = evaluate(engine, questions)
                score = _objective(metrics)
                if best is None or score > best[0] + 1e-9:
                    best = (score, models.selection, metrics)
    assert best is not None
    _, selection, metrics = best
    table = reliability(held_out, y)
    scorer.info = {
        "fitted": dt.date.today().isoformat(),
        "tuning_files": [p.as_posix() for p in args.questions],
        "with_accentless": args.with_accentless,
        "questions": len({int(g) for g in groups}),
        "units": len(y),
        "positives": int(y.sum()),
        "c": c,
        "selection": {
            "mmr_lambda": selection.mmr_lambda,
            "answer_floor": selection.answer_floor,
            "relative_floor": selection.relative_floor,
        },
        "tuning_metrics": {
            k: (round(v, 3) if isinstance(v, float) else v)
            for k, v in metrics.items()
            if k != "by_kind"
        },
        "reliability_held_out": table,
    }
    out = args.out or settings.knowledge_dir / SCORER_FILE
    scorer.save(out)
    sys.stdout.write(json.dumps(scorer.info, ensure_ascii=False, indent=1) + "\n")
    logger.info("Wrote %s", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
