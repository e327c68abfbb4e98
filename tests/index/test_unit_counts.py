"""The counted_value unit feature: what a count question counts, and the count in a text."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.lexicon import load_lexicon
from index.question import analyse
from index.value_mentions import count_pattern, counted_nouns

LEXICON = load_lexicon(Path(__file__).resolve().parents[2] / "knowledge")


@pytest.mark.parametrize(
    ("question", "nouns"),
    [
        ("Các đơn vị phải gửi mấy bộ hồ sơ?", ("bộ",)),
        ("Được hỗ trợ tối đa bao nhiêu lần?", ("lần",)),
        ("cac don vi phai gui may bo ho so", ("bo",)),
        # With accents "máy" is machinery, not "mấy": no count is asked.
        ("Hỗ trợ máy móc thiết bị thế nào?", ()),
        ("Được hỗ trợ bao nhiêu tiền?", ("tiền",)),
    ],
)
def test_counted_nouns(question: str, nouns: tuple[str, ...]) -> None:
    assert counted_nouns(analyse(question, LEXICON)) == nouns


def test_count_pattern_finds_a_count_but_not_a_date() -> None:
    pattern = count_pattern(("bộ", "năm"))
    assert pattern is not None
    assert pattern.search("gửi 03 (ba) bộ hồ sơ về bộ công thương")
    assert pattern.search("trong thời hạn 2 năm") is not None
    assert pattern.search("ngày 15 tháng 5 năm 2012") is None
    assert count_pattern(()) is None
