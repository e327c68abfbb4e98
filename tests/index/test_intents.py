"""The intent and scope classifier: fitting on intents.yaml, calibration, saving with the index."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.intents import (
    ACTIONS,
    IntentClassifier,
    IntentModelError,
    fit_classifier,
    read_examples,
)
from index.lexicon import load_lexicon

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def fake_embed(texts: Sequence[str]) -> np.ndarray:
    """A deterministic bag-of-hashed-words embedding: no model needed, still informative."""
    rows = np.zeros((len(texts), 64), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.casefold().split():
            rows[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-9)


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    examples = read_examples(KNOWLEDGE / "intents.yaml")
    return fit_classifier(examples, fake_embed, load_lexicon(KNOWLEDGE), None)


def _predict(classifier: IntentClassifier, text: str):  # noqa: ANN202
    return classifier.predict(fake_embed([text])[0], text, 0.0)


def test_examples_cover_every_group_and_action() -> None:
    examples = read_examples(KNOWLEDGE / "intents.yaml")
    labels = {e.label for e in examples}
    assert set(ACTIONS) <= labels
    assert {"ask_level", "ask_quantity", "ask_info", "tax", "loans", "land", "ocop"} <= labels
    # Each written example is also learnt without accents, in the same fold group.
    folded = [e for e in examples if e.text == "Xoa du lieu cua toi"]
    assert folded and folded[0].source == next(e.source for e in examples if e.text == "Xóa dữ liệu của tôi")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("tôi muốn đăng ký tư vấn khuyến công", "register"),
        ("kiểm tra điều kiện giúp tôi", "check_eligibility"),
        ("xóa dữ liệu cá nhân của tôi", "delete_data"),
        ("lãi suất vay vốn ngân hàng", "loans"),
    ],
)
def test_predicts_the_intent_of_clear_requests(classifier: IntentClassifier, text: str, label: str) -> None:
    prediction = _predict(classifier, text)
    assert prediction.label == label
    assert abs(sum(prediction.probabilities.values()) - 1.0) < 1e-6
    assert abs(sum(prediction.groups.values()) - 1.0) < 1e-6


def test_value_questions_are_told_from_other_in_scope_questions(classifier: IntentClassifier) -> None:
    assert _predict(classifier, "mức hỗ trợ máy móc tối đa bao nhiêu tiền").asks_value > 0.5
    assert _predict(classifier, "hồ sơ đề nghị hỗ trợ gồm những giấy tờ gì").asks_value < 0.5


def test_saved_model_loads_and_predicts_the_same(classifier: IntentClassifier, tmp_path: Path) -> None:
    classifier.save(tmp_path)
    loaded = IntentClassifier.load(tmp_path, classifier.info)
    text = "thuế khoán hộ kinh doanh"
    assert _predict(loaded, text).probabilities == pytest.approx(_predict(classifier, text).probabilities)


def test_a_model_from_another_sklearn_version_is_refused(classifier: IntentClassifier, tmp_path: Path) -> None:
    classifier.save(tmp_path)
    with pytest.raises(IntentModelError, match="reindex"):
        IntentClassifier.load(tmp_path, {**classifier.info, "sklearn": "0.1"})


def test_malformed_intents_file_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text("in_scope:\n  ask_info: nothing\n", encoding="utf-8")
    with pytest.raises(IntentModelError, match="list of examples"):
        read_examples(path)


def test_the_direct_arithmetic_gives_scikit_learns_probabilities(classifier: IntentClassifier) -> None:
    for text in ("mức hỗ trợ máy móc tối đa bao nhiêu", "cho tôi gặp cán bộ", "giá vàng hôm nay"):
        vector = fake_embed([text])[0]
        fast = _predict(classifier, text).probabilities
        row = classifier.features(vector.reshape(1, -1), [text], [0.0])
        expected = classifier.model.predict_proba(row)[0]
        assert [fast[str(c)] for c in classifier.model.classes_] == pytest.approx(list(expected), abs=1e-6)


def test_list_questions_are_told_from_yes_no_questions(classifier: IntentClassifier) -> None:
    assert _predict(classifier, "hồ sơ đề nghị hỗ trợ gồm những giấy tờ gì").asks_list > 0.5
    assert _predict(classifier, "mức hỗ trợ máy móc tối đa bao nhiêu tiền").asks_list < 0.5
