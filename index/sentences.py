"""The one Vietnamese sentence splitter, used by chunking and by the answer units.

A boundary is ".", "?", "!", ";" or "…" followed by a space, or a line break. Decimals
(1.000) and dates (16/8/2016) never split because a boundary needs a space after the mark;
abbreviations such as "TP." or "ThS." and very short pieces such as "Điều 1." are merged
with what follows.
"""

from __future__ import annotations

import re

# Abbreviations whose trailing dot does not end a sentence ("TP. Hồ Chí Minh", "ThS. Lê").
_ABBREVIATIONS = frozenset(
    {"tp", "ths", "ts", "pgs", "gs", "bs", "ks", "cn", "ông", "bà", "q", "p", "tx", "tt", "st", "v.v", "vv"}
)  # fmt: skip
_SENTENCE_END_RE = re.compile(r"(?<=[.?!;…])[\"'”)\]]*\s+")
#: Pieces shorter than this many words are merged with the next one ("Điều 1.").
MIN_SENTENCE_WORDS = 3


def split_sentences(text: str) -> list[str]:
    """Splits Vietnamese text into sentences at ., ?, !, ;, … and line ends.

    Args:
        text: A paragraph (or several lines).

    Returns:
        The sentences, stripped, in order.
    """
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            pieces.extend(part.strip() for part in _SENTENCE_END_RE.split(line) if part.strip())
    sentences: list[str] = []
    carry = ""
    for piece in pieces:
        candidate = f"{carry} {piece}".strip() if carry else piece
        last_word = candidate.rstrip(".").split()[-1].lower() if candidate.split() else ""
        ends_with_abbreviation = candidate.endswith(".") and last_word in _ABBREVIATIONS
        if ends_with_abbreviation or len(candidate.split()) < MIN_SENTENCE_WORDS:
            carry = candidate
            continue
        sentences.append(candidate)
        carry = ""
    if carry:
        if sentences and len(carry.split()) < MIN_SENTENCE_WORDS:
            sentences[-1] = f"{sentences[-1]} {carry}"
        else:
            sentences.append(carry)
    return sentences
