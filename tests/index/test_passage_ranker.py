"""The passage ranker: weights as data, the hand-set default, and citing a law before its guide."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.lifecycle import number_key, with_basis
from index.passage_ranker import (
    FEATURES,
    RANKER_FILE,
    PassageRanker,
    default_ranker,
    feature_row,
    order,
)
from index.schema import Chunk, DocumentMeta, Passage

if TYPE_CHECKING:
    from index.engine import Engine

SHIPPED = Path(__file__).resolve().parents[2] / "knowledge" / RANKER_FILE

ND45 = DocumentMeta(doc_id="corpus/nd-45.md", title="Nghị định về khuyến công",
                    doc_type="decree", number="45/2012/NĐ-CP")  # fmt: skip
TT46 = DocumentMeta(doc_id="corpus/tt-46.md", title="Thông tư 46", doc_type="circular",
                    number="46/2012/TT-BCT")  # fmt: skip
GUIDE = DocumentMeta(doc_id="guides/nganh-nghe.md", title="Ngành nghề", doc_type="guide",
                     based_on=("45/2012/NĐ-CP",))  # fmt: skip


def _passage(cid: int, doc: DocumentMeta, path: tuple[str, ...] = ()) -> Passage:
    return Passage(chunk=Chunk(chunk_id=cid, doc_id=doc.doc_id, text=f"t{cid}", path=path),
                   doc=doc, score=1.0)  # fmt: skip


def test_absent_file_gives_the_hand_set_rerank(tmp_path: Path) -> None:
    ranker = PassageRanker.load(tmp_path / "absent.json")
    assert ranker == default_ranker() and not ranker.fitted
    # fused + unit match + 0.5 for the province: the rerank this model replaced.
    row = feature_row({"fused": 0.8, "unit_match": 0.5, "province": 1.0, "guide": 1.0})
    assert ranker.scores(row)[0] == np.float64(0.8 + 0.5 + 0.5)


def test_weights_round_trip_and_order(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    PassageRanker({"named": 2.0, "fused": 1.0}, -0.5, {"fitted": "2026-12-01"}).save(path)
    ranker = PassageRanker.load(path)
    assert ranker.fitted and ranker.weights == {"named": 2.0, "fused": 1.0}
    rows = np.vstack([feature_row({"fused": 1.0}), feature_row({"fused": 0.6, "named": 1.0})])
    assert order(list(ranker.scores(rows))) == [1, 0]
    assert rows.shape[1] == len(FEATURES)


def test_number_key_ignores_separators_and_case() -> None:
    assert number_key("26/2014/TTLT-BTC-BCT") == number_key("26/2014/ttlt/btc-bct")
    assert number_key("45/2012/NĐ-CP") == number_key("45/2012/ND-CP")
    assert number_key(None) == ""


def test_the_law_behind_a_guide_is_cited_first() -> None:
    guide, law, other = _passage(1, GUIDE), _passage(2, ND45, ("Điều 5",)), _passage(3, TT46)
    cited = with_basis([guide], [guide, other, law])
    assert [p.chunk.chunk_id for p in cited] == [2, 1]
    # Not retrieved: the guide is cited alone; a law already chosen is not cited twice.
    assert [p.chunk.chunk_id for p in with_basis([guide], [guide, other])] == [1]
    assert [p.chunk.chunk_id for p in with_basis([law, guide], [law, guide])] == [2, 1]
    # Only the laws the guide names count.
    assert [p.chunk.chunk_id for p in with_basis([guide, other], [other, guide])] == [1, 3]


def test_the_shipped_ranker_is_fitted_on_tuning_files() -> None:
    ranker = PassageRanker.load(SHIPPED)
    assert ranker.fitted and ranker != default_ranker()
    assert set(ranker.weights) <= set(FEATURES) and "type_named" in ranker.used
    # Fitted on tuning questions only: the held-out and dev sets stay a fair measure.
    assert ranker.info["tuning_files"]
    assert all("/tuning_" in name for name in ranker.info["tuning_files"])
    assert ranker.info["report"]["cv_hit@1"] > ranker.info["report"]["untuned_hit@1"]


def test_the_shipped_weights_put_the_named_type_first() -> None:
    # "Thông tư … quy định …": the circular's chunk just behind our guide on fused score.
    rows = np.vstack([
        feature_row({"fused": 1.0, "unit_match": 0.5}),
        feature_row({"fused": 0.9, "unit_match": 0.5, "type_named": 1.0}),
    ])  # fmt: skip
    assert order(list(default_ranker().scores(rows))) == [0, 1]
    assert order(list(PassageRanker.load(SHIPPED).scores(rows))) == [1, 0]


def test_the_engine_serves_the_shipped_ranker(engine: Engine) -> None:
    # The engine over knowledge/ reads the file (it would serve the default if it did not).
    assert engine.settings.knowledge_dir / RANKER_FILE == SHIPPED
    assert engine.ranker == PassageRanker.load(SHIPPED) and engine.ranker.fitted
