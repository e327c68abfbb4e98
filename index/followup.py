"""Rewrites short follow-up questions ("còn ở Quảng Nam thì sao?") into self-contained ones.

Transport-agnostic and pure: the bot keeps the previous question, this module only combines
texts. Detection works on a diacritic-folded copy of the text that has exactly the same length
as the original, so positions found in the folded copy cut the original text correctly.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

from index.lexicon import Lexicon, load_lexicon
from index.textnorm import fold_same_length, legal_reference_spans

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
#: Openers that are other words when typed without their marks: "vay vốn" (to borrow, a loan
#: question to refuse) and the English article "the". They open a follow-up only as written
#: with the marks; unaccented, a follow-up still shows by its closer or a bare name ("vay Quang
#: Nam thi sao?"), and the two-word openers ("vay con", "the con") stay unambiguous.
_MARKED_ONLY = {"vay": "vậy", "the": "thế"}
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
#: A year or a period ("2021", "2016-2020"), not the year of a document number ("45/2012").
_TIME_RE = re.compile(r"(?<![\d/])(?:19|20)\d\d(?:\s*[-–—]\s*(?:19|20)\d\d)?(?![\d/])")


#: The knowledge shipped with the code, for callers that pass no lexicon.
_SHIPPED_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@functools.lru_cache(maxsize=1)
def _shipped_lexicon() -> Lexicon:
    return load_lexicon(_SHIPPED_KNOWLEDGE)


def _normalise(text: str) -> str:
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _has_phrase(folded: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded) is not None


def _find_any(text: str, names: tuple[str, ...]) -> tuple[int, int, str] | None:
    """Finds the first (longest) name of `names` in text; returns start, end, canonical name."""
    folded = fold_same_length(text)
    for name in sorted(names, key=len, reverse=True):
        match = re.search(rf"(?<!\w){re.escape(fold_same_length(name))}(?!\w)", folded)
        if match:
            return match.start(), match.end(), name
    return None


def _opens_with(text: str, folded: str, opener: str) -> bool:
    """Whether a message (and its same-length folded copy) opens with a follow-up opener."""
    if not (folded == opener or folded.startswith((opener + " ", opener + ","))):
        return False
    marked = _MARKED_ONLY.get(opener)
    return marked is None or text[: len(opener)].lower() == marked


def _strip_filler(question: str) -> str:
    """Removes follow-up openers and closers, keeping the specifics in their original form."""
    text = question.strip().rstrip("?!.…").strip()
    changed = True
    while changed and text:
        changed = False
        folded = fold_same_length(text)
        for opener in _OPENERS:
            if _opens_with(text, folded, opener):
                text = text[len(opener) :].lstrip(" ,").strip()
                changed = True
                break
        folded = fold_same_length(text)
        for closer in _CLOSERS:
            if folded == closer or folded.endswith(" " + closer):
                text = text[: len(text) - len(closer)].rstrip(" ,?").strip()
                changed = True
                break
    return text


def is_followup(question: str, lexicon: Lexicon | None = None) -> bool:
    """Tells whether a message reads as a follow-up to an earlier question.

    Args:
        question: The user's message.
        lexicon: Province and support item names (the shipped lists when None).

    Returns:
        True for short messages that open with "còn"/"thế còn"/"vậy"/"what about"..., close
        with "thì sao", or are a bare phrase ending in "thế nào"/"?" without topic words.
    """
    text = _normalise(question)
    if not text:
        return False
    folded = fold_same_length(text).rstrip(" ?!.…")
    specifics = _strip_filler(text)
    if len(specifics.split()) > _MAX_FOLLOWUP_WORDS:
        return False
    has_topic = any(_has_phrase(fold_same_length(specifics), word) for word in _TOPIC_WORDS)
    # "Thế nào là ..." asks for a definition; it is not "thế" as in "so then".
    if folded.startswith(("the nao", "the la")):
        return False
    if any(_opens_with(text, folded, o) for o in _OPENERS):
        return True
    if any(folded.endswith(" " + c) or folded == c for c in _STRONG_CLOSERS):
        return True
    # "Quảng Nam thế nào?" or "hộ kinh doanh?" continues the topic; "Thời tiết thế nào?" and
    # "Giá vàng hôm nay?" are new questions, so a weak cue needs a known province or entity.
    found = (lexicon or _shipped_lexicon()).find(specifics)
    names_known = bool(found.keys("province") or found.keys("item")) or (
        _find_any(specifics, _ENTITIES) is not None
    )
    if any(folded.endswith(" " + c) for c in _WEAK_CLOSERS):
        return not has_topic and names_known
    return text.endswith("?") and len(specifics.split()) <= 4 and not has_topic and names_known


def _document_spans(text: str) -> list[tuple[int, int]]:
    return legal_reference_spans(fold_same_length(text).lower())


def _time_spans(text: str) -> list[tuple[int, int]]:
    inside = _document_spans(text)
    return [
        m.span()
        for m in _TIME_RE.finditer(text)
        if not any(start <= m.start() < end for start, end in inside)
    ]


def rewrite_followup(question: str, previous: str | None, lexicon: Lexicon | None = None) -> str:
    """Combines a follow-up question with the previous question into a self-contained one.

    A province, support item, establishment type, legal document or year (period) named in
    the follow-up *replaces* the one of the same kind in the previous question ("Mức hỗ trợ
    ở Đà Nẵng?" + "còn ở Quảng Nam thì sao?" → "Mức hỗ trợ ở Quảng Nam?"; "… thiết kế bao bì
    …" + "thế còn máy đóng gói?" → "… máy đóng gói …"; "… giai đoạn 2021-2025 …" + "còn giai
    đoạn 2016-2020?" → "… giai đoạn 2016-2020 …"); otherwise the specifics are appended to
    the previous question.

    Args:
        question: The new message.
        previous: The previous (already self-contained) question, or None.
        lexicon: Province and support item names (the shipped lists when None).

    Returns:
        The rewritten question, or `question` unchanged when it is self-contained or there is
        no previous question.
    """
    lexicon = lexicon or _shipped_lexicon()
    if not previous or not previous.strip() or not is_followup(question, lexicon):
        return question
    prev = _normalise(previous)
    specifics = _strip_filler(_normalise(question))
    if not specifics:
        return prev
    new, old = lexicon.find(specifics), lexicon.find(prev)
    spans: list[tuple[int, int, str]] = []
    for kind in ("province", "item"):
        wanted, had = new.first(kind), old.first(kind)
        if wanted is not None and had is not None:
            # The province as it is written in the list; the item as the user wrote it.
            text = wanted.key if kind == "province" else specifics[wanted.start : wanted.end]
            spans.append((had.start, had.end, text))
    # A document or a year (period) named in the follow-up replaces the previous one too:
    # "còn Nghị định 235/2025?" asks about that decree, "còn năm 2022?" about that year.
    for finder in (_document_spans, _time_spans):
        wanted_spans, had_spans = finder(specifics), finder(prev)
        if wanted_spans and had_spans:
            (start, end), (old_start, old_end) = wanted_spans[0], had_spans[0]
            spans.append((old_start, old_end, specifics[start:end]))
    new_entity, old_entity = _find_any(specifics, _ENTITIES), _find_any(prev, _ENTITIES)
    if new_entity and old_entity:
        spans.append((old_entity[0], old_entity[1], specifics[new_entity[0] : new_entity[1]]))
    rewritten = prev
    for start, end, text in sorted(spans, reverse=True):  # right to left keeps offsets valid
        if start == 0:
            text = text[:1].upper() + text[1:]
        rewritten = rewritten[:start] + text + rewritten[end:]
    if rewritten != prev:
        return rewritten
    core = prev.rstrip(" ?!.…")
    province = new.first("province")
    if province is not None:
        # Canonical spelling with diacritics helps the dense model on folded input.
        start, end, name = province.start, province.end, province.key
        if fold_same_length(specifics[:start]).strip() in (
            "",
            "o",
            "tai",
            "in",
            "at",
            "tinh",
        ) and end == len(specifics):
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
