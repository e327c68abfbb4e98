"""Fits the "value unknown" decision on tuning files, never on what is reported.

`python -m scripts.fit_unknowns --index KNOWLEDGE_DIR:INDEX_DIR --questions tuning.jsonl
[--questions more.jsonl] [--index ... --questions ...] [--with-accentless]
[--out knowledge/unknown_model.json]`

Each `--index` pair is asked the `--questions` files that follow it (as in
`scripts.fit_scorer`). A row is a value question the intent classifier sends to the decision
(P(value) ≥ 0.5, some unit left after `index.unknowns.conflicts`): a positive when it expects
an honest unknown, a negative when it has answer keys. Its features are
`index.unknown_model.unknown_features`. The weighed features are the documented fixed set
`index.unknown_model.FIT_FEATURES` (`--select fixed`, the default), or chosen by forward
selection / backward elimination on grouped 5-fold held-out log-loss (`--select forward` /
`backward`, to re-examine that set: a greedy path flips on a loss change of 0.002, so it is
not what ships). The folds are deterministic (a question, its unaccented copy and its asking
of the other index stay in one fold); the regularisation is chosen on them, and the threshold
on the same held-out probabilities; the operating point is stored beside the weights. Rerun
on the same rows, the fit writes the same file; rerun on a fresh build of the same tree's
indexes, the same features, C, threshold and operating point, with weights within 0.0002
(the builds' scores differ in float noise; no tuning row's decision moved).
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
    from index.unknown_model import UnknownModel
    from scripts.eval_questions import Question

logger = logging.getLogger(__name__)

#: Regularisation strengths tried by cross-validation.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
#: The strongest regularisation whose held-out log-loss is within this of the best is chosen,
#: so a loss difference in the fourth decimal between two C values cannot flip the fit (on the
#: 2026-12-03 rows C 30 and 100 were 0.0006 apart).
C_TOLERANCE = 0.002
#: A feature joins only when it lowers the held-out log-loss by more than this.
MIN_GAIN = 0.002
#: Held-out cost of answering "not confirmed" to an answerable question, in missed unknowns.
#: A false unknown costs an answer hit, which acceptance counts on every set, where a missed
#: unknown costs the honesty of rows that are fewer.
FALSE_UNKNOWN_COST = 2.0


def decision_rows(engine: Engine, questions: list[Question]) -> list[tuple[str, dict[str, float], int]]:
    """(row id, features, label) of every tuning row that reaches the decision."""
    from index.answering import rank_units
    from index.question import prepare_question
    from index.unknown_model import unknown_features
    from index.unknowns import conflicts

    rows: list[tuple[str, dict[str, float], int]] = []
    for item in questions:
        if not (item.expect_unknown or item.answerable):
            continue
        text = prepare_question(item.question, max_chars=engine.settings.max_question_chars).text
        query, retrieval, prediction, models = engine.inspect(text)
        if prediction is None or prediction.asks_value < 0.5:
            continue
        ranked = rank_units(
            query, retrieval.passages, retrieval.query_vector, prediction.asks_value, models,
            prediction.asks_list,
        )  # fmt: skip
        ranked = [c for c in ranked if not conflicts(c, query)]
        if not ranked:
            continue  # unknown whatever the model says
        features = unknown_features(query, ranked, prediction, models.lexicon)
        rows.append((item.id, features, int(item.expect_unknown)))
    return rows


def held_out(x: np.ndarray, y: np.ndarray, folds: list[Any], c: float) -> np.ndarray:
    """Held-out P(unknown) of every row."""
    from sklearn.linear_model import LogisticRegression

    probabilities = np.zeros(len(y))
    for train, test in folds:
        model = LogisticRegression(C=c, max_iter=5000).fit(x[train], y[train])
        probabilities[test] = model.predict_proba(x[test])[:, 1]
    return probabilities


def cv_loss(x: np.ndarray, y: np.ndarray, folds: list[Any]) -> tuple[float, float, np.ndarray]:
    """(log-loss, C, held-out probabilities) of the smallest C in `C_GRID` within
    `C_TOLERANCE` of the least held-out log-loss."""
    from sklearn.metrics import log_loss

    trials = []
    for c in C_GRID:
        p = held_out(x, y, folds, c)
        trials.append((round(float(log_loss(y, p, labels=[0, 1])), 6), c, p))
    least = min(t[0] for t in trials)
    return next(t for t in trials if t[0] <= least + C_TOLERANCE)


def select_features(
    x: np.ndarray, y: np.ndarray, folds: list[Any], names: tuple[str, ...]
) -> tuple[list[str], float, float, np.ndarray]:
    """Forward selection on held-out log-loss: chosen names, loss, C, held-out probabilities."""
    chosen: list[str] = []
    prior = float(y.mean())
    loss = -float(np.mean(y * np.log(prior) + (1 - y) * np.log(1 - prior)))
    c, probabilities = 1.0, np.full(len(y), prior)
    while True:
        trials = []
        for name in names:
            if name in chosen:
                continue
            columns = [names.index(n) for n in [*chosen, name]]
            trials.append((*cv_loss(x[:, columns], y, folds), name))
        if not trials:
            break
        best = min(trials, key=lambda t: t[0])
        if loss - best[0] <= MIN_GAIN:
            break
        loss, c, probabilities, name = best
        chosen.append(name)
        logger.info("+ %s: held-out log-loss %.4f (C=%s)", name, loss, c)
    return chosen, loss, c, probabilities


def eliminate_features(
    x: np.ndarray, y: np.ndarray, folds: list[Any], names: tuple[str, ...]
) -> tuple[list[str], float, float, np.ndarray]:
    """Backward elimination on held-out log-loss: drops a feature while the loss rises by
    at most `MIN_GAIN`; chosen names, loss, C, held-out probabilities."""
    chosen = list(names)
    loss, c, probabilities = cv_loss(x, y, folds)
    logger.info("all %d features: held-out log-loss %.4f (C=%s)", len(chosen), loss, c)
    while len(chosen) > 1:
        trials = []
        for name in chosen:
            columns = [names.index(n) for n in chosen if n != name]
            trials.append((*cv_loss(x[:, columns], y, folds), name))
        best = min(trials, key=lambda t: t[0])
        if best[0] > loss + MIN_GAIN:
            break
        loss, c, probabilities, name = best
        chosen.remove(name)
        logger.info("- %s: held-out log-loss %.4f (C=%s)", name, loss, c)
    return chosen, loss, c, probabilities


def operating_point(probabilities: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The threshold of least held-out cost, and its counts."""
    best: dict[str, Any] | None = None
    for threshold in np.round(np.arange(0.05, 0.96, 0.05), 2):
        said = probabilities >= threshold
        tp = int((said & (y == 1)).sum())
        fp = int((said & (y == 0)).sum())
        cost = (int(y.sum()) - tp) + FALSE_UNKNOWN_COST * fp
        if best is None or cost < best["cost"]:
            best = {
                "threshold": float(threshold),
                "cost": cost,
                "unknowns_said": tp,
                "unknowns": int(y.sum()),
                "false_unknowns": fp,
                "answerable": int((y == 0).sum()),
            }
    assert best is not None
    return best


def fit_decision(
    rows: list[tuple[str, dict[str, float], int]], select: str = "fixed"
) -> tuple[UnknownModel, dict[str, Any]]:
    """The fitted decision and what it was chosen at (rows: id, features, label).

    Deterministic: the same rows in the same order give the same file.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    from index.unknown_model import FEATURES, FIT_FEATURES, UnknownModel

    x = np.asarray([[f[name] for name in FEATURES] for _, f, _ in rows], dtype=np.float64)
    y = np.asarray([label for _, _, label in rows])
    groups = [row_id for row_id, _, _ in rows]
    split = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    folds = list(split.split(x, y, groups=groups))
    if select == "fixed":
        chosen = list(FIT_FEATURES)
        loss, c, probabilities = cv_loss(x[:, [FEATURES.index(n) for n in chosen]], y, folds)
    else:
        pick = select_features if select == "forward" else eliminate_features
        chosen, loss, c, probabilities = pick(x, y, folds, FEATURES)
    point = operating_point(probabilities, y)
    columns = [FEATURES.index(n) for n in chosen]
    final = LogisticRegression(C=c, max_iter=5000).fit(x[:, columns], y)
    info = {
        "rows": len(y),
        "unknown_rows": int(y.sum()),
        "selection": select,
        "features_chosen": chosen,
        "c": c,
        "held_out_log_loss": round(loss, 4),
        "operating_point_held_out": point,
    }
    model = UnknownModel(
        {n: round(float(w), 4) for n, w in zip(chosen, final.coef_[0], strict=True)},
        round(float(final.intercept_[0]), 4),
        point["threshold"],
        info,
    )
    return model, info


def build_parser() -> argparse.ArgumentParser:
    """The command line (also read back from the stored `command` by the tests)."""
    parser = argparse.ArgumentParser(prog="python -m scripts.fit_unknowns")
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument(
        "--index", action="append", default=[],
        help="KNOWLEDGE_DIR:INDEX_DIR; the --questions after it are asked of it",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="default: knowledge/unknown_model.json")
    parser.add_argument(
        "--select", choices=("fixed", "forward", "backward"), default="fixed",
        help="features: the fixed FIT_FEATURES, forward selection from none, or backward from all",
    )  # fmt: skip
    parser.add_argument("--with-accentless", action="store_true", help="also every question typed without diacritics")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Fits the decision and writes it; prints its operating point."""
    args = build_parser().parse_args(argv)
    configure_logging(logging.INFO, stream=sys.stderr)

    from index.engine import load_engine
    from index.settings import Settings
    from index.unknown_model import UNKNOWN_FILE
    from scripts.eval_questions import load_questions, make_variant
    from scripts.evaluate import ensure_index
    from scripts.fit_scorer import index_plan

    raw = list(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    rows: list[tuple[str, dict[str, float], int]] = []
    for pair, paths in index_plan(raw):
        current = settings
        if pair:
            knowledge, index_dir = pair.split(":", 1)
            current = Settings(knowledge_dir=Path(knowledge), index_dir=Path(index_dir))
        ensure_index(current)
        questions = [q for path in paths for q in load_questions(path)]
        if args.with_accentless:
            questions += make_variant(questions, "accentless")
        rows += decision_rows(load_engine(current), questions)
    model, info = fit_decision(rows, args.select)
    model.info = {
        "fitted": dt.date.today().isoformat(),
        "command": " ".join(["python -m scripts.fit_unknowns", *raw]),
        **info,
    }
    out = args.out or settings.knowledge_dir / UNKNOWN_FILE
    model.save(out)
    sys.stdout.write(json.dumps({"weights": model.weights, **model.info}, ensure_ascii=False, indent=1) + "\n")
    logger.info("Wrote %s", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
