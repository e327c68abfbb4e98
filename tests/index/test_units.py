"""Answer units: sentences, whole list items tied to their label, whole lists, table rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.schema import Chunk
from index.units import UnitStore, units_for_chunk

TEXT = (
    "Hồ sơ đề nghị hỗ trợ gồm:\n"
    "- Giấy chứng nhận đăng ký kinh doanh.\n"
    "- Báo giá máy móc thiết bị; bản cam kết.\n"
    "Việc triển khai chương trình nhằm huy động các nguồn lực; góp phần chuyển dịch cơ cấu kinh tế.\n"
    "| Nội dung | Mức |\n|---|---|\n| Máy móc | 50% |\n"
)


def _units() -> list:
    return units_for_chunk(Chunk(chunk_id=7, doc_id="d", text=TEXT))


def test_items_keep_their_label_and_are_never_cut_at_semicolons() -> None:
    items = [u for u in _units() if u.kind == "item"]
    assert [u.text for u in items] == [
        "Giấy chứng nhận đăng ký kinh doanh.",
        "Báo giá máy móc thiết bị; bản cam kết.",
    ]
    assert all(u.label == "Hồ sơ đề nghị hỗ trợ gồm:" for u in items)
    # The label is not a unit of its own: it would be shown without its content.
    assert not [u for u in _units() if u.kind == "sentence" and u.text.endswith(":")]


def test_whole_list_is_one_unit_too() -> None:
    (whole,) = [u for u in _units() if u.kind == "list"]
    assert whole.text == "Hồ sơ đề nghị hỗ trợ gồm:"
    assert len(whole.items) == 2
    assert {u.group for u in _units() if u.kind in ("item", "list")} == {whole.group}


def test_a_clause_continued_after_a_semicolon_stays_one_sentence() -> None:
    sentences = [u.text for u in _units() if u.kind == "sentence"]
    assert sentences == [
        "Việc triển khai chương trình nhằm huy động các nguồn lực; góp phần chuyển dịch cơ cấu kinh tế."
    ]


def test_table_rows_carry_the_header_as_label() -> None:
    (row,) = [u for u in _units() if u.kind == "row"]
    assert row.text == "Máy móc | 50%" and row.label.endswith("Nội dung | Mức")


def test_tokens_are_folded_once_at_build_time() -> None:
    first = _units()[0]
    assert "giay" in first.tokens and "ho" in first.tokens  # label words count too
    assert all(token == token.casefold() and token.isascii() for token in first.tokens)


def test_store_round_trip(tmp_path: Path) -> None:
    units = _units()
    vectors = np.random.default_rng(0).random((len(units), 4)).astype(np.float32)
    UnitStore(units, vectors).save(tmp_path)

    loaded = UnitStore.load(tmp_path)

    assert loaded.units == units
    assert np.allclose(loaded.vectors, vectors)
    assert loaded.rows_of(7) == list(range(len(units))) and loaded.rows_of(8) == []


def test_a_clause_announcing_its_points_labels_them_and_is_not_shown_alone() -> None:
    text = (
        "2. Ngành nghề ưu tiên:\n"
        "a) Ưu tiên công nghiệp cơ khí, hóa chất phục vụ nông nghiệp.\n"
        "b) Ưu tiên sản phẩm công nghiệp nông thôn tiêu biểu.\n"
        "3. Mức kinh phí ưu tiên do Bộ quyết định.\n"
    )
    units = units_for_chunk(Chunk(chunk_id=8, doc_id="d", text=text))
    points = [u for u in units if u.kind == "item" and u.label == "Ngành nghề ưu tiên:"]
    assert [u.text[:12] for u in points] == ["Ưu tiên công", "Ưu tiên sản "]
    assert not [u for u in units if u.text == "Ngành nghề ưu tiên:" and u.kind != "list"]
    # The next clause numbered like the label is not one of its points.
    (third,) = [u for u in units if u.text.startswith("Mức kinh phí")]
    assert third.label == ""


def test_an_item_of_several_sentences_is_a_unit_whole_and_sentence_by_sentence() -> None:
    text = (
        "- Nghị định 134/2004/NĐ-CP: nghị định trước đây. Tình trạng: đã được thay thế.\n"
        "- Nghị định 45/2012/NĐ-CP: còn hiệu lực.\n"
    )
    units = units_for_chunk(Chunk(chunk_id=3, doc_id="d", text=text))

    sentences = [u.text for u in units if u.kind == "sentence"]
    items = [u.text for u in units if u.kind == "item"]
    assert sentences == ["Nghị định 134/2004/NĐ-CP: nghị định trước đây.", "Tình trạng: đã được thay thế."]
    # The later sentence alone has lost its subject; the whole item keeps it.
    assert items[0] == "Nghị định 134/2004/NĐ-CP: nghị định trước đây. Tình trạng: đã được thay thế."
    whole = next(u for u in units if u.kind == "item" and u.text == items[0])
    own = [u for u in units if u.kind == "sentence"]
    other = next(u for u in units if u.kind == "item" and u.text != items[0])
    assert all(whole.repeats(u) and u.repeats(whole) for u in own)
    assert not whole.repeats(other)
