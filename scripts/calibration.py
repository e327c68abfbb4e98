"""Reliability of the intent classifier: predicted probability against observed accuracy.

`python -m scripts.calibration [--questions tests/data/tuning_questions.jsonl ...] [--json]`

Two held-out views, never the reported sets:

* grouped 5-fold cross-validation on `knowledge/intents.yaml` (an example and its unaccented
  copy stay in one fold): each example is predicted by a classifier that never saw it;
* the tuning files' rows, read by the published classifier: answerable and unknown rows are
  in scope, `expect_abstain` rows out of scope, `expect_intent` rows actions.

The decision rule of `index.answering` (the most probable group wins) is read off the first
table: the operating point is where the observed accuracy of the top group crosses the
predicted probability.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from index.logs import configure_logging
from scripts.fit_scorer import reliability

logger = logging.getLogger(__name__)


def cross_validated(settings: Any, c: float | None = None) -> dict[str, Any]:
    """Held-out predictions of classifiers fitted on four fifths of intents.yaml."""
    from sklearn.model_selection import StratifiedGroupKFold

    from index.answer_build import EmbeddingCache, chunk_stats, fit_restorer
    from index.embedding import encode_queries, load_embedding_model
    from index.index_versions import current_version, versions_root
    from index.intent_fit import REGULARISATION_C, example_inputs, fit_classifier
    from index.intents import INTENTS_FILE, read_examples
    from index.lexicon import load_lexicon
    from index.store import load_version

    examples = read_examples(settings.knowledge_dir / INTENTS_FILE)
    lexicon = load_lexicon(settings.knowledge_dir)
    version = current_version(settings)
    loaded = load_version(versions_root(settings) / version) if version else None
    stats = chunk_stats(loaded.units) if loaded is not None else None
    chunk_texts = [c.text for c in (loaded.chunks.values() if loaded is not None else ())]
    cache = EmbeddingCache(settings, "query")
    model = load_embedding_model(settings)

    def embed(texts: Any) -> np.ndarray:
        return cache.encode(list(texts), lambda batch: encode_queries(model, batch))

    labels = np.asarray([e.label for e in examples])
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=1)
    restore = settings.restore_diacritics
    strength = REGULARISATION_C if c is None else c
    top_p, top_ok, in_p, in_true, log_losses = [], [], [], [], []
    for train, test in folds.split(labels, labels, groups=[e.source for e in examples]):
        # The restorer learns question phrasing from the training examples only.
        fitted = fit_restorer(chunk_texts, settings, questions=[examples[i].text for i in train])
        restorer = fitted.restore if fitted is not None else None
        classifier = fit_classifier(
            [examples[i] for i in train], embed, lexicon, stats, c=strength,
            restore_accents=restore, restorer=restorer,
        )  # fmt: skip
        held = [examples[i] for i in test]
        dense, texts, coverage = example_inputs(
            held, lexicon, stats, restore_accents=restore, restorer=restorer
        )
        vectors = embed(dense)
        for example, vector, text, cov in zip(held, vectors, texts, coverage, strict=True):
            prediction = classifier.predict(vector, text, cov)
            groups = prediction.groups
            top = max(groups, key=groups.__getitem__)
            top_p.append(groups[top])
            top_ok.append(float(top == example.group))
            in_p.append(prediction.in_scope)
            in_true.append(float(example.group == "in_scope"))
            log_losses.append(-np.log(max(prediction.probabilities.get(example.label, 0.0), 1e-12)))
    cache.save()
    top_arr, ok_arr = np.asarray(top_p), np.asarray(top_ok)
    return {
        "examples": len(examples),
        "c": strength,
        "log_loss": round(float(np.mean(log_losses)), 4),
        "group_accuracy": round(float(ok_arr.mean()), 3),
        "top_group": reliability(top_arr, ok_arr),
        "in_scope": reliability(np.asarray(in_p), np.asarray(in_true)),
    }


def on_tuning(engine: Any, paths: list[Path]) -> dict[str, Any]:
    """P(in scope) of the published classifier on the tuning rows, against their kind."""
    from index.question import prepare_question
    from scripts.eval_questions import load_questions

    probs, truth, correct = [], [], []
    for item in [q for path in paths for q in load_questions(path)]:
        text = prepare_question(item.question, max_chars=2000).text
        _, _, prediction, _ = engine.inspect(text)
        if prediction is None:
            continue
        group = (
            "actions" if item.expect_intent else "out_of_scope" if item.expect_abstain else "in_scope"
        )
        groups = prediction.groups
        probs.append(prediction.in_scope)
        truth.append(float(group == "in_scope"))
        correct.append(float(max(groups, key=groups.__getitem__) == group))
    return {
        "rows": len(probs),
        "group_accuracy": round(float(np.mean(correct)), 3) if correct else None,
        "in_scope": reliability(np.asarray(probs), np.asarray(truth)),
    }


def main(argv: list[str] | None = None) -> int:
    """Prints the reliability tables (JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m scripts.calibration")
    parser.add_argument("--questions", type=Path, action="append", default=[])
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--sweep", action="store_true", help="also compare regularisation strengths"
    )
    args = parser.parse_args(argv)
    configure_logging(logging.WARNING, stream=sys.stderr)

    from index.engine import load_engine
    from index.settings import Settings
    from scripts.evaluate import ensure_index

    settings = Settings()
    ensure_index(settings)
    report: dict[str, Any] = {"intents_cv": cross_validated(settings)}
    if args.sweep:
        report["sweep"] = {
            str(c): {k: v for k, v in cross_validated(settings, c).items() if k in ("log_loss", "group_accuracy")}
            for c in (1.0, 10.0, 100.0)
        }
    if args.questions:
        report["tuning"] = on_tuning(load_engine(settings), args.questions)
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        return 0
    for name, block in report.items():
        if name == "sweep":
            sys.stdout.write(f"\nC sweep (grouped 5-fold CV): {json.dumps(block)}\n")
            continue
        for table_name in ("top_group", "in_scope"):
            if table_name not in block:
                continue
            sys.stdout.write(f"\n{name} · {table_name} (accuracy {block['group_accuracy']})\n")
            sys.stdout.write("| p bin | n | mean predicted | observed |\n|---|---|---|---|\n")
            for row in block[table_name]:
                sys.stdout.write(
                    f"| {row['bin']} | {row['n']} | {row['mean_predicted']} | {row['observed']} |\n"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
