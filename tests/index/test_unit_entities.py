"""Unit entities found at build time: saved, read back equal, and only used when they hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.lexicon import load_lexicon
from index.unit_entities import (
    SavedEntities,
    entity_text,
    find_unit_entities,
    load_unit_entities,
    names_key,
    save_unit_entities,
    usable_entities,
)
from index.units import AnswerUnit, UnitStore

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
LEXICON = load_lexicon(REPO_KNOWLEDGE)


def _units() -> UnitStore:
    texts = [
        "Quảng Nam hỗ trợ hội chợ triển lãm ở nước ngoài tối đa 300 triệu đồng năm 2021.",
        "Theo Nghị định 45/2012/NĐ-CP, giai đoạn 2021–2025 hỗ trợ máy móc thiết bị.",
        "Đoạn văn không nêu tên riêng nào.",
    ]
    units = [AnswerUnit(chunk_id=i, position=0, kind="sentence", text=t) for i, t in enumerate(texts)]
    # A list: its label and items count too.
    units.append(
        AnswerUnit(9, 0, "list", "Hồ sơ gồm:", label="Hồ sơ gồm:", items=("Giấy tờ ở Đồng Tháp",))
    )
    return UnitStore(units, np.zeros((len(units), 4), dtype=np.float32))


def test_saved_entities_read_back_equal(tmp_path: Path) -> None:
    units = _units()
    saved = find_unit_entities(units, LEXICON)
    assert all(
        e == LEXICON.find(entity_text(u)) for e, u in zip(saved.entities, units.units, strict=True)
    )
    assert saved.entities[0].keys("province") == {"Quảng Nam"}
    assert saved.entities[1].keys("doc") and "2023" in saved.entities[1].keys("year")
    assert not saved.entities[2].mentions
    assert saved.entities[3].keys("province") == {"Đồng Tháp"}

    save_unit_entities(tmp_path / "e.json", saved)
    loaded = load_unit_entities(tmp_path / "e.json")

    assert loaded == saved
    assert usable_entities(loaded, LEXICON, len(units)) == saved.entities


def test_entities_found_with_other_names_or_units_are_not_used() -> None:
    saved = find_unit_entities(_units(), LEXICON)
    other = load_lexicon(REPO_KNOWLEDGE)
    other.items.append(("lo say che", "lo_say"))
    assert names_key(other) != saved.key
    assert usable_entities(saved, other, 4) == ()
    assert usable_entities(saved, LEXICON, 5) == ()
    assert usable_entities(None, LEXICON, 4) == ()
    assert usable_entities(SavedEntities(saved.key, ()), LEXICON, 0) == ()
