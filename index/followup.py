"""Rewrites short follow-up questions ("còn ở Quảng Nam thì sao?") into self-contained ones.

Transport-agnostic and pure: the bot keeps the previous question, this module only combines
texts. Detection works on a diacritic-folded copy of the text that has exactly the same length
as the original, so positions found in the folded copy cut the original text correctly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["is_followup", "next_context", "rewrite_followup"]

#: Openers that mark a follow-up, folded and longest first so "the con" wins over "the".
_OPENERS = (
    "vay thi con",
    "the con",
    "vay con",
    "con doi voi",
    "con voi",
    "con neu",
    "con",
    "vay thi",
    "vay",
    "the thi",
    "the",
    "the neu",
    "neu la",
    "what about",
    "how about",
    "and for",
    "and in",
    "and",
    "va",
)
#: Closers that mark a follow-up, folded and longest first.
_CLOSERS = (
    "thi nhu the nao",
    "thi the nao",
    "thi ra sao",
    "thi sao",
    "the nao",
    "ra sao",
    "duoc khong",
    "thi sao a",
    "nhe",
    "a",
)
#: Words that give a question its own topic; a bare "Quảng Nam?" has none of them.
_TOPIC_WORDS = (
    "khuyen cong",
    "ho tro",
    "nghi dinh",
    "thong tu",
    "quyet dinh",
    "dieu kien",
    "doi tuong",
    "ho so",
    "kinh phi",
    "muc",
    "dang ky",
    "chinh sach",
    "de an",
    "thu tuc",
    "chuong trinh",
    "san pham",
    "nganh nghe",
    "may moc",
    "thiet bi",
    "support",
    "policy",
    "eligible",
)
#: Closers that make any short message a follow-up, and ones that only do without a topic.
_STRONG_CLOSERS = ("thi nhu the nao", "thi the nao", "thi ra sao", "thi sao", "thi sao a")
_WEAK_CLOSERS = ("the nao", "ra sao")
#: A message longer than this (in words, after removing filler) is taken as self-contained.
_MAX_FOLLOWUP_WORDS = 10

_PROVINCES = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bà Rịa Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn",
    "Bắc Ninh", "Bến Tre", "Bình Dương", "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau",
    "Cao Bằng", "Cần Thơ", "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai",
    "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương",
    "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum",
    "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An", "Nam Định", "Nghệ An",
    "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi",
    "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên",
    "Thanh Hóa", "Thừa Thiên Huế", "Huế", "Tiền Giang", "TP. Hồ Chí Minh", "Hồ Chí Minh",
    "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)  # fmt: skip
_ENTITIES = (
    "cơ sở công nghiệp nông thôn",
    "doanh nghiệp nhỏ và vừa",
    "doanh nghiệp siêu nhỏ",
    "doanh nghiệp nhỏ",
    "doanh nghiệp",
    "hộ kinh doanh",
    "hợp tác xã",
    "tổ hợp tác",
    "làng nghề",
    "cơ sở sản xuất",
)

_SPACE_RE = re.compile(r"\s+")


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    # Keep one character per character so folded positions map back onto the original.
    return base.lower()[:1] or char


def _fold(text: str) -> str:
    return "".join(_fold_char(char) for char in text)


def _normalise(text: str) -> str:
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _has_phrase(folded: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded) is not None


def _find_any(text: str, names: tuple[str, ...]) -> tuple[int, int, str] | None:
    """Finds the first (longest) name of `names` in text; returns start, end, canonical name."""
    folded = _fold(text)
    for name in sorted(names, key=len, reverse=True):
        match = re.search(rf"(?<!\w){re.escape(_fold(name))}(?!\w)", folded)
        if match:
            return match.start(), match.end(), name
    return None


def _strip_filler(question: str) -> str:
    """Removes follow-up openers and closers, keeping the specifics in their original form."""
    text = question.strip().rstrip("?!.…").strip()
    changed = True
    while changed and text:
        changed = False
        folded = _fold(text)
        for opener in _OPENERS:
            if (
                folded == opener
                or folded.startswith(opener + " ")
                or folded.startswith(opener + ",")
            ):
                text = text[len(opener) :].lstrip(" ,").strip()
                changed = True
                break
        folded = _fold(text)
        for closer in _CLOSERS:
            if folded == closer or folded.endswith(" " + closer):
                text = text[: len(text) - len(closer)].rstrip(" ,?").strip()
                changed = True
                break
    return text


def is_followup(question: str) -> bool:
    """Tells whether a message reads as a follow-up to an earlier question.

    Args:
        question: The user's message.

    Returns:
        True for short messages that open with "còn"/"thế còn"/"vậy"/"what about"..., close
        with "thì sao", or are a bare phrase ending in "thế nào"/"?" without topic words.
    """
    text = _normalise(question)
    if not text:
        return False
    folded = _fold(text).rstrip(" ?!.…")
    specifics = _strip_filler(text)
    if len(specifics.split()) > _MAX_FOLLOWUP_WORDS:
        return False
    has_topic = any(_has_phrase(_fold(specifics), word) for word in _TOPIC_WORDS)
    # "Thế nào là ..." asks for a definition; it is not "thế" as in "so then".
    if folded.startswith(("the nao", "the la")):
        return False
    if any(folded == o or folded.startswith(o + " ") for o in _OPENERS):
        return True
    if any(folded.endswith(" " + c) or folded == c for c in _STRONG_CLOSERS):
        return True
    # "Quảng Nam thế nào?" or "hộ kinh doanh?" continues the topic; "Thời tiết thế nào?" and
    # "Giá vàng hôm nay?" are new questions, so a weak cue needs a known province or entity.
    names_known = (
        _find_any(specifics, _PROVINCES) is not None or _find_any(specifics, _ENTITIES) is not None
    )
    if any(folded.endswith(" " + c) for c in _WEAK_CLOSERS):
        return not has_topic and names_known
    return text.endswith("?") and len(specifics.split()) <= 4 and not has_topic and names_known


def rewrite_followup(question: str, previous: str | None) -> str:
    """Combines a follow-up question with the previous question into a self-contained one.

    A province or establishment type named in the follow-up replaces the one named in the
    previous question ("Mức hỗ trợ ở Đà Nẵng?" + "còn ở Quảng Nam thì sao?" → "Mức hỗ trợ ở
    Quảng Nam?"); otherwise the specifics are appended to the previous question.

    Args:
        question: The new message.
        previous: The previous (already self-contained) question, or None.

    Returns:
        The rewritten question, or `question` unchanged when it is self-contained or there is
        no previous question.
    """
    if not previous or not previous.strip() or not is_followup(question):
        return question
    prev = _normalise(previous)
    specifics = _strip_filler(_normalise(question))
    if not specifics:
        return prev
    rewritten = prev
    for names in (_PROVINCES, _ENTITIES):
        new_match = _find_any(specifics, names)
        old_match = _find_any(rewritten, names)
        if new_match and old_match:
            start, end, _ = old_match
            if names is _PROVINCES:
                replacement = new_match[2]
            else:
                replacement = specifics[new_match[0] : new_match[1]]
            if start == 0:
                replacement = replacement[:1].upper() + replacement[1:]
            rewritten = rewritten[:start] + replacement + rewritten[end:]
    if rewritten != prev:
        return rewritten
    core = prev.rstrip(" ?!.…")
    province = _find_any(specifics, _PROVINCES)
    if province is not None:
        # Canonical spelling with diacritics helps the dense model on folded input.
        start, end, name = province
        if _fold(specifics[:start]).strip() in ("", "o", "tai", "in", "at") and end == len(
            specifics
        ):
            specifics = f"ở {name}"
        else:
            specifics = specifics[:start] + name + specifics[end:]
    mark = "?" if prev.endswith("?") else ""
    return f"{core}, {specifics}{mark}"


def next_context(previous: str | None, answer: Any) -> str | None:
    """The context an adapter keeps after an answer: the one rule for every transport.

    A question that was searched (answered, or in scope but unknown) becomes the context of
    the next one; a refusal, an action or an invalid message leaves it unchanged.

    Args:
        previous: The context before this turn.
        answer: The `index.schema.Answer` of this turn.

    Returns:
        The context to pass as `previous` with the next question.
    """
    if answer.outcome in ("answered", "unknown") and answer.resolved:
        return str(answer.resolved)
    return previous
