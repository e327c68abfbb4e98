"""Values in answer texts: whether a text states a value or a support level, and what a count
question counts ("bao nhiêu đề án") and where a text gives that count.

The unit scorer, the honest-unknown rules and the "value unknown" model read them alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.question import Query
from index.textnorm import compare_key, fold_key

#: Units that make a number an amount of money or a share ("2,52 tỉ đồng", "50%"); every
#: value pattern below starts from them, so a spelling added here counts for both.
_AMOUNT_UNITS = r"%|phần trăm|triệu|tỷ|tỉ|nghìn|ngàn|đồng"

_VALUE_RE = re.compile(
    rf"\d[\d.,]*\s*(?:{_AMOUNT_UNITS}|lần|năm|ngày|tháng|điểm|thành viên"
    r"|lao động|cơ sở|sản phẩm|mô hình|hội chợ|đề án)|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,3}(?:\.\d{3})+",
    re.IGNORECASE,
)


_AMOUNT_RE = re.compile(rf"\d[\d.,]*\s*(?:{_AMOUNT_UNITS})", re.IGNORECASE)


# What a count question counts: "bao nhiêu đề án", "mấy bộ hồ sơ", "mấy lần". Matched with
# accents when the question has them: folded, "mấy" is "máy" (machinery), and "cơ sở" and
# "đề án" begin like "có" and "để" ("năm 2020 có ..." is no count of establishments).
_COUNT_ASKED = re.compile(r"\b(?:bao nhiêu|mấy)\s+(\w+)")
_COUNT_ASKED_FOLDED = re.compile(r"\b(?:bao nhieu|may)\s+(\w+)")


def counted_nouns(query: Query) -> tuple[str, ...]:
    """The nouns a question asks a number of ("mấy bộ hồ sơ" -> "bộ"), folded when the
    question has no accents; () for other questions."""
    if query.accentless:
        found = _COUNT_ASKED_FOLDED.findall(fold_key(query.expanded))
    else:
        found = _COUNT_ASKED.findall(compare_key(query.expanded))
    return tuple(dict.fromkeys(n for n in found if not n.isdigit()))


def count_pattern(nouns: Sequence[str]) -> re.Pattern[str] | None:
    """Matches a number of one of the nouns in a lower-case text: "03 (ba) bộ hồ sơ", "15 ngày".

    A number followed by the noun and another number is a date ("tháng 5 năm 2012"), not a
    count of years.
    """
    if not nouns:
        return None
    alternatives = "|".join(re.escape(n) for n in nouns)
    return re.compile(rf"\d[\d.,]*\s*(?:\([^)]{{0,30}}\)\s*)?(?:{alternatives})\b(?!\s*\d)")


def has_value(text: str) -> bool:
    """Tells whether a text states a value: an amount, a percentage, a count or a date."""
    return _VALUE_RE.search(text) is not None


def has_amount(text: str) -> bool:
    """Tells whether a text states a support level: an amount of money or a percentage."""
    return _AMOUNT_RE.search(text) is not None
