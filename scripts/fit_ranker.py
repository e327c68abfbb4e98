"""Fits the passage ranker (`index.passage_ranker`) on tuning files, never on what is reported.

`python -m scripts.fit_ranker --index KNOWLEDGE_DIR:INDEX_DIR --questions FILE ...
[--index ... --questions ...] [--features NAME,...] [--out knowledge/passage_ranker.json]`

Each `--index` pair is evaluated with the `--questions` files that follow it, so the same
tuning questions can be asked of the knowledge base alone and of the knowledge base plus the
legal corpus (the ranker must serve both). A head candidate is a positive when its chunk
holds an answer key of its row (and comes from the row's `doc`, when the row names one).
The logistic regression's regularisation is chosen by cross-validation on the held-out hit@1
of the reordered head, with folds grouped by document: all questions answered from one
document (the document of their first positive) stay in one fold, so the
estimate is that of documents the fit has not seen, as with a newly uploaded law. The script
prints that hit@1 next to the untuned ordering's. `--features` fits only the named features
(the others get weight 0): a small model is what the tuning files can support.
`--keep PATH` keeps the weights of a ranker file for the other features and fits only the
named ones on top of them (an offset): fitting only the English copies of features
(`english_*`, zero for other questions) this way leaves every other question's ordering
exactly as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.logs import configure_logging

logger = logging.getLogger(__name__)

#: Regularisation strengths tried by cross-validation.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def head_rows(
    engine: Any, questions: list[Any]
) -> tuple[list[np.ndarray], list[np.ndarray], list[str], list[str]]:
    """Per answerable question: the head's feature matrix, its 0/1 labels, id and group.

    The group is the document the question is answered from (see `answer_group`).
    """
    from index.question import analyse, prepare_question
    from index.retrieval import RERANK_DEPTH
    from scripts.eval_judging import contains_key, doc_matches

    snapshot = engine._current()
    retriever, models = snapshot.retriever, snapshot.models
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ids: list[str] = []
    groups: list[str] = []
    for item in questions:
        if not item.answerable:
            continue
        text = prepare_question(item.question, max_chars=engine.settings.max_question_chars).text
        query = analyse(
            text, models.lexicon, restore_accents=engine.settings.restore_diacritics,
            restorer=models.restorer.restore if models.restorer is not None else None,
        )  # fmt: skip
        fused, dense, bm25, vector = retriever.fused(
            query.expanded, dense_text=query.dense_text, lexical_text=query.lexical_text
        )
        head = fused[:RERANK_DEPTH]
        if not head:
            continue
        labels = []
        docs = []
        for scored in head:
            chunk = retriever._chunks[scored.chunk_id]
            doc = retriever.in_force.doc_for(scored.chunk_id)
            right_doc = item.doc is None or doc_matches(item.doc, number=doc.number, doc_id=doc.doc_id)
            labels.append(int(right_doc and contains_key(chunk.text, item.answer_keys)))
            docs.append(doc.doc_id)
        x = retriever.features.rows(
            query.expanded, head, query.tokens, dense=dense, bm25=bm25, vector=vector
        )
        xs.append(x)
        ys.append(np.asarray(labels))
        ids.append(item.id)
        groups.append(answer_group(docs, labels, fallback=item.id))
    return xs, ys, ids, groups


def answer_group(docs: list[str], labels: list[int], *, fallback: str) -> str:
    """The cross-validation group of a question: the document its answer is in.

    Positives come from the row's `doc` when it names one, so this is that document.

    Args:
        docs: doc_id of each head candidate.
        labels: 1 for each candidate holding an answer key.
        fallback: The question's id, its own group when the head holds no answer (such a
            question is not used in the fit anyway).

    Returns:
        A key shared by the questions answered from one document.
    """
    for doc_id, label in zip(docs, labels, strict=True):
        if label:
            return f"doc:{doc_id}"
    return f"question:{fallback}"


def hit1(scores: list[np.ndarray], ys: list[np.ndarray]) -> float:
    """Share of questions (with a positive in the head) whose best-scored candidate is positive."""
    found = [(s, y) for s, y in zip(scores, ys, strict=True) if y.any()]
    return sum(int(y[int(np.argmax(s))]) for s, y in found) / max(len(found), 1)


def pairs(
    xs: list[np.ndarray], ys: list[np.ndarray], idx: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise differences (positive minus negative, and the reverse) within each question.

    Each question weighs the same however many pairs it has, so a long head does not
    dominate the fit.
    """
    rows: list[np.ndarray] = []
    labels: list[int] = []
    weights: list[float] = []
    for q in idx:
        x, y = xs[q], ys[q]
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        if not len(pos) or not len(neg):
            continue
        diff = (x[pos][:, None, :] - x[neg][None, :, :]).reshape(-1, x.shape[1])
        rows += [diff, -diff]
        labels += [1] * len(diff) + [0] * len(diff)
        weights += [1.0 / len(diff)] * (2 * len(diff))
    return np.vstack(rows), np.asarray(labels), np.asarray(weights)


def document_folds(groups: list[str], n_splits: int = 5) -> list[tuple[list[int], list[int]]]:
    """(train, test) index lists with every group wholly in one test fold.

    Groups are dealt to folds in a fixed shuffled order, so a document with many questions
    does not decide the fold sizes alone and the folds are the same on every run.
    """
    names = sorted(set(groups))
    order = np.random.RandomState(0).permutation(len(names))
    fold_of = {names[i]: k % n_splits for k, i in enumerate(order)}
    folds: list[tuple[list[int], list[int]]] = []
    for k in range(min(n_splits, len(names))):
        test = [i for i, g in enumerate(groups) if fold_of[g] == k]
        train = [i for i, g in enumerate(groups) if fold_of[g] != k]
        folds.append((train, test))
    return folds


class OffsetModel:
    """A pairwise logistic regression with a fixed part of the score (`coef_` like sklearn's)."""

    def __init__(self, c: float) -> None:
        self.c = c
        self.coef_ = np.zeros((1, 0))

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray) -> OffsetModel:
        """Fits on pair rows whose last column is the fixed score difference (weight 1).

        Minimises C x the weighted log-loss + half the squared weights, as sklearn's
        LogisticRegression without intercept does, the fixed column left unpenalised.
        """
        from scipy.optimize import minimize

        features, offset = x[:, :-1], x[:, -1]
        sign = np.where(y == 1, 1.0, -1.0)

        def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
            margin = sign * (offset + features @ beta)
            value = self.c * float(np.sum(sample_weight * np.logaddexp(0.0, -margin)))
            slope = -self.c * sample_weight * sign / (1.0 + np.exp(margin))
            return value + 0.5 * float(beta @ beta), features.T @ slope + beta

        start = np.zeros(features.shape[1])
        beta = minimize(loss, start, jac=True, method="L-BFGS-B").x
        self.coef_ = np.asarray(beta).reshape(1, -1)
        return self


def fit(
    xs: list[np.ndarray],
    ys: list[np.ndarray],
    groups: list[str] | None = None,
    names: Sequence[str] | None = None,
    offsets: list[np.ndarray] | None = None,
) -> tuple[Any, float, dict[str, float]]:
    """Chooses C by document-grouped CV hit@1 of a pairwise logistic regression; refits.

    Args:
        xs: Feature matrix of each question's head.
        ys: 0/1 labels of each head.
        groups: Cross-validation group of each question (`answer_group`); each question is
            its own group when None.
        names: The feature of each column (`index.passage_ranker.FEATURES` when None).
        offsets: The fixed part of each candidate's score (`--keep`), or None to fit all.

    Returns:
        The model fitted on every question, its C and the CV report.
    """
    from sklearn.linear_model import LogisticRegression

    from index.passage_ranker import DEFAULT_WEIGHTS, FEATURES

    useful = [i for i, y in enumerate(ys) if y.any() and not y.all()]
    labels = groups if groups is not None else [str(i) for i in range(len(ys))]
    folds = document_folds([labels[q] for q in useful])
    if offsets is None:
        untuned = np.asarray([DEFAULT_WEIGHTS.get(n, 0.0) for n in (names or FEATURES)])
        base = [xs[q] @ untuned for q in useful]
    else:  # the kept weights alone, and the pairs carry their score as a last column
        base = [offsets[q] for q in useful]
        xs = [np.column_stack([x, o]) for x, o in zip(xs, offsets, strict=True)]
    report = {"untuned_hit@1": hit1(base, [ys[q] for q in useful])}

    def model_for(c: float) -> Any:
        if offsets is not None:
            return OffsetModel(c)
        return LogisticRegression(C=c, max_iter=5000, fit_intercept=False)

    def scored(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
        return x[:, :-1] @ coef + x[:, -1] if offsets is not None else x @ coef

    best: tuple[float, float] | None = None
    for c in C_GRID:
        held: dict[int, np.ndarray] = {}
        for train, test in folds:
            x, y, w = pairs(xs, ys, [useful[i] for i in train])
            model = model_for(c)
            model.fit(x, y, sample_weight=w)
            for i in test:
                q = useful[i]
                held[q] = scored(xs[q], model.coef_[0])
        score = hit1([held[q] for q in useful], [ys[q] for q in useful])
        logger.info("C=%s held-out hit@1 %.3f", c, score)
        report[f"cv_hit@1_C{c}"] = score
        if best is None or score > best[0] + 1e-9:
            best = (score, c)
    assert best is not None
    x, y, w = pairs(xs, ys, useful)
    model = model_for(best[1])
    model.fit(x, y, sample_weight=w)
    report["cv_hit@1"] = best[0]
    return model, best[1], report


def main(argv: list[str] | None = None) -> int:
    from index.engine import load_engine
    from index.passage_ranker import FEATURES, PassageRanker
    from index.settings import Settings
    from scripts.eval_questions import load_questions
    from scripts.fit_scorer import index_plan

    configure_logging()
    parser = argparse.ArgumentParser(prog="python -m scripts.fit_ranker", description=__doc__)
    parser.add_argument("--index", action="append", required=True,
                        help="KNOWLEDGE_DIR:INDEX_DIR; the --questions after it are asked of it")
    parser.add_argument("--questions", action="append", default=[], type=Path)
    parser.add_argument("--features", default="",
                        help="comma-separated features to fit (default: all of FEATURES)")
    parser.add_argument("--out", type=Path, default=Path("knowledge/passage_ranker.json"))
    parser.add_argument("--keep", type=Path, default=None,
                        help="ranker file whose weights of the other features are kept")
    args = parser.parse_args(argv)
    # Pair each --index with the --questions that follow it on the command line.
    raw = list(sys.argv[1:] if argv is None else argv)
    plan = index_plan(raw)
    chosen = [f.strip() for f in args.features.split(",") if f.strip()] or list(FEATURES)
    unknown = sorted(set(chosen) - set(FEATURES))
    if unknown:
        parser.error(f"unknown features: {', '.join(unknown)}")
    columns = [FEATURES.index(name) for name in chosen]
    kept: dict[str, float] = {}
    if args.keep is not None:
        kept = {n: w for n, w in PassageRanker.load(args.keep).weights.items() if n not in chosen}
    kept_weights = np.asarray([kept.get(name, 0.0) for name in FEATURES])
    offsets: list[np.ndarray] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    groups: list[str] = []
    files: list[str] = []
    for pair, paths in plan:
        settings = Settings()  # --questions before any --index: the environment's index
        if pair:
            knowledge, index_dir = pair.split(":", 1)
            settings = Settings(knowledge_dir=Path(knowledge), index_dir=Path(index_dir))
        engine = load_engine(settings)
        for path in paths:
            x, y, _, g = head_rows(engine, load_questions(path))
            xs += [m[:, columns] for m in x]
            offsets += [m @ kept_weights for m in x]
            ys += y
            groups += g
            files.append(f"{path} @ {index_dir}")
            logger.info("%s on %s: %d questions", path, index_dir, len(x))
    model, c, report = fit(xs, ys, groups, chosen, offsets if args.keep is not None else None)
    weights = {name: round(float(w), 4) for name, w in zip(chosen, model.coef_[0], strict=True)}
    weights = {**kept, **weights}
    info = {
        "fitted": dt.date.today().isoformat(),
        "command": " ".join(["python -m scripts.fit_ranker", *raw]),
        "tuning_files": files,
        "questions": len(xs),
        "with_positive_in_head": sum(int(y.any()) for y in ys),
        "c": c,
        "features_fitted": chosen,
        **({"features_kept": kept} if args.keep is not None else {}),
        "cv_groups": "document",
        "report": {k: round(v, 4) for k, v in report.items()},
    }
    PassageRanker(weights, 0.0, info).save(args.out)
    untuned, tuned = report["untuned_hit@1"], report["cv_hit@1"]
    sys.stdout.write(f"untuned hit@1 {untuned:.3f}, cross-validated {tuned:.3f}\n")
    for name, weight in sorted(weights.items(), key=lambda kv: -abs(kv[1])):
        sys.stdout.write(f"  {name:20s} {weight:+.3f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
