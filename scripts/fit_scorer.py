"""Fits the answer-unit scorer and the selection values on tuning files, never on what is reported.

`python -m scripts.fit_scorer [--index KNOWLEDGE_DIR:INDEX_DIR] --questions
tests/data/tuning_questions.jsonl [--questions more.jsonl] [--index ... --questions ...]
[--with-accentless] [--out knowledge/answer_scorer.json]`

Each `--index` pair is asked the `--questions` files that follow it (as in
`scripts.fit_ranker`), so the scorer can be fitted on the knowledge base alone and on the
knowledge base plus the legal corpus at once; `--questions` before any `--index` use the
index the settings name. A unit of the top passages is a positive when it contains an answer
key of its (answerable) tuning row and, when the row names a document, comes from it. The logistic regression's regularisation is chosen by grouped cross-validation
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
    from scripts.eval_questions import Question

logger = logging.getLogger(__name__)

#: Regularisation strengths tried by cross-validation.
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: Selection values tried on the whole pipeline.
LAMBDA_GRID = (0.5, 0.8)
RELATIVE_GRID = (0.4, 0.6)
FLOOR_GRID = (0.02, 0.05, 0.1)


def unit_rows(engine: Engine, questions: list[Question]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels and question groups of every candidate unit."""
    features: list[np.ndarray] = []
    labels: list[int] = []
    groups: list[int] = []
    # A question and its unaccented copy share an id, so they stay in one fold.
    group_of: dict[str, int] = {}
    for item in questions:
        if not item.answerable:
            continue
        number = group_of.setdefault(item.id, len(group_of))
        for candidate in ranked_candidates(engine, item.question):
            features.append(candidate.features)
            labels.append(int(answers_row(candidate, item)))
            groups.append(number)
    return np.vstack(features), np.asarray(labels), np.asarray(groups)


def ranked_candidates(engine: Engine, question: str) -> list[Any]:
    """The candidate units of one question, scored and ordered as answering ranks them."""
    from index.answering import rank_units
    from index.question import prepare_question

    text = prepare_question(question, max_chars=engine.settings.max_question_chars).text
    query, retrieval, prediction, models = engine.inspect(text)
    asks_value = prediction.asks_value if prediction is not None else 0.0
    asks_list = prediction.asks_list if prediction is not None else None
    return rank_units(
        query, retrieval.passages, retrieval.query_vector, asks_value, models, asks_list
    )


def answers_row(candidate: Any, item: Question) -> bool:
    """Whether a candidate unit answers a tuning row: it holds an answer key, and comes from
    the row's document when the row names one (as `scripts.fit_ranker` labels passages).

    Without the document test, the same words quoted by another law or retold by one of our
    guides taught the scorer that those units answer as well as the article asked about.
    """
    from scripts.eval_judging import contains_key, doc_matches

    unit = candidate.unit
    shown = " ".join([unit.label, unit.text, *unit.items])
    if not contains_key(shown, item.answer_keys):
        return False
    doc = candidate.passage.doc
    return item.doc is None or doc_matches(item.doc, number=doc.number, doc_id=doc.doc_id)


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


def index_plan(raw: list[str]) -> list[tuple[str, list[Path]]]:
    """Each `--index KNOWLEDGE_DIR:INDEX_DIR` with the `--questions` files that follow it.

    `--questions` given before any `--index` are asked of the index the settings name (the
    environment), as before `--index` existed; that entry's directory is "".
    """
    plan: list[tuple[str, list[Path]]] = []
    split = [part for arg in raw for part in (arg.split("=", 1) if arg.startswith("--") else [arg])]
    for flag, value in zip(split, split[1:], strict=False):
        if flag == "--index":
            plan.append((value, []))
        elif flag == "--questions":
            if not plan:
                plan.append(("", []))
            plan[-1][1].append(Path(value))
    return plan


def main(argv: list[str] | None = None) -> int:
    """Fits the scorer and writes it; prints the reliability table."""
    parser = argparse.ArgumentParser(prog="python -m scripts.fit_scorer")
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument(
        "--index", action="append", default=[],
        help="KNOWLEDGE_DIR:INDEX_DIR; the --questions after it are asked of it",
    )  # fmt: skip
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
    from index.unit_scorer import FEATURES, ORDER_ONLY, SCORER_FILE, UnitScorer
    from scripts.eval_questions import load_questions, make_variant
    from scripts.evaluate import ensure_index, evaluate

    raw = list(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    # One engine per index, each with its questions: the scorer serves the knowledge base
    # alone and the knowledge base plus the legal texts, so it is fitted on both.
    asked: list[tuple[Engine, list[Question]]] = []
    for pair, paths in index_plan(raw):
        if pair:
            knowledge, index_dir = pair.split(":", 1)
            current = Settings(knowledge_dir=Path(knowledge), index_dir=Path(index_dir))
        else:
            current = settings
        ensure_index(current)
        questions = [q for path in paths for q in load_questions(path)]
        if args.with_accentless:
            questions += make_variant(questions, "accentless")
        asked.append((load_engine(current), questions))
    parts = [unit_rows(engine, questions) for engine, questions in asked]
    x = np.vstack([p[0] for p in parts])
    # An order-only feature is not part of the probability this fits: its weight comes from
    # `scripts.fit_unit_offset`, run after this refit (see `index.unit_scorer.ORDER_ONLY`).
    x[:, [FEATURES.index(name) for name in ORDER_ONLY]] = 0.0
    y = np.concatenate([p[1] for p in parts])
    # Group ids restart per index; offset them so each (index, question) is its own group.
    offsets = np.cumsum([0, *(int(p[2].max()) + 1 if len(p[2]) else 0 for p in parts)])
    groups = np.concatenate([p[2] + offsets[i] for i, p in enumerate(parts)])
    model, c, held_out = fit_weights(x, y, groups)
    scorer = UnitScorer(
        {name: round(float(w), 4) for name, w in zip(FEATURES, model.coef_[0], strict=True)},
        round(float(model.intercept_[0]), 4),
    )
    all_models = [engine.inspect("khuyến công")[3] for engine, _ in asked]
    for models in all_models:
        models.scorer = scorer
    best: tuple[float, Selection, dict[str, Any]] | None = None
    for mmr in LAMBDA_GRID:
        for relative in RELATIVE_GRID:
            for floor in FLOOR_GRID:
                for models in all_models:
                    models.selection = Selection(mmr, floor, relative)
                runs = [evaluate(engine, questions) for engine, questions in asked]
                score = sum(_objective(m) for m in runs)
                if best is None or score > best[0] + 1e-9:
                    best = (score, all_models[0].selection, runs[-1])
    assert best is not None
    _, selection, metrics = best
    table = reliability(held_out, y)
    scorer.info = {
        "fitted": dt.date.today().isoformat(),
        "command": " ".join(["python -m scripts.fit_scorer", *raw]),
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
