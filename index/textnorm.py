"""Text normalisation shared by indexing and querying: NFC, diacritic folding, legal numbers.

Every function here is pure. The same `bm25_tokens` runs over documents and queries, so a
question typed without accents (`quyet dinh 2665`) still matches the accented source text.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Frequent function words that carry no meaning for retrieval. Question words such as
#: "bao nhiêu" are kept on purpose: they hint at numbers and are cheap for BM25 anyway.
STOPWORDS: frozenset[str] = frozenset(
    {
        "là", "của", "và", "có", "được", "các", "những", "cho", "với", "thì", "mà",
        "này", "đó", "ở", "để", "một", "khi", "về", "từ", "tại", "bị", "do", "nên",
        "cũng", "đã", "sẽ", "đang", "rằng", "như", "hay", "hoặc", "gì", "nào", "ạ",
        "nhé", "vậy", "thế", "à", "ơi", "xin", "hỏi", "ai", "em", "tôi", "mình",
    }
)  # fmt: skip

_WORD_RE = re.compile(r"[^\W_]+")

#: Kind words of Vietnamese legal documents (diacritic-folded, lower case) -> short code.
_KIND_WORDS: dict[str, str] = {
    "thong tu lien tich": "ttlt",
    "ttlt": "ttlt",
    "nghi dinh": "nd",
    "nd": "nd",
    "quyet dinh": "qd",
    "qd": "qd",
    "thong tu": "tt",
    "tt": "tt",
    "chi thi": "ct",
    "ct": "ct",
    "nghi quyet": "nq",
    "nq": "nq",
    # English names of the same kinds, so "Circular 36/2013" names TT 36/2013 as
    # "Thông tư 36/2013" does (English questions on the legal index, issue 8).
    "joint circular": "ttlt",
    "circular": "tt",
    "decree": "nd",
    "decision": "qd",
    "directive": "ct",
    "resolution": "nq",
}
_KIND_ALT = "|".join(
    sorted((re.escape(k).replace(r"\ ", r"\s+") for k in _KIND_WORDS), key=len, reverse=True)
)
_CODE_ALT = "ttlt|nd|qd|tt|ct|nq"

# "45/2012/nd-cp", "2665/qd-ubnd", "04/ct-bct": number, optional year, then the kind code.
_NUMBER_FIRST_RE = re.compile(rf"(?<![\w/])(\d{{1,5}})(?:/((?:19|20)\d\d))?/({_CODE_ALT})(?![a-z])")
# "nghi dinh 45", "quyet dinh so 2665/qd-ubnd", "nd-cp 45", "nd45", "decision no. 29/2014":
# kind word, then number.
_KIND_FIRST_RE = re.compile(
    rf"(?<![\w/])({_KIND_ALT})(?:-[a-z]+)*\s*(?:(?:so|no)\s*)?[:.]?\s*(\d{{1,5}})(?:/((?:19|20)\d\d)(?!\d))?(?![\d.,]\d)"
)


def nfc(text: str) -> str:
    """Returns the NFC form of a text, so composed and decomposed accents compare equal.

    Args:
        text: Any Unicode text.

    Returns:
        The text in Unicode normalisation form C.
    """
    return unicodedata.normalize("NFC", text)


def fold_diacritics(text: str) -> str:
    """Removes Vietnamese diacritics: "Quyết định" -> "Quyet dinh", "Đ" -> "D".

    Args:
        text: Any Unicode text.

    Returns:
        The NFC text without combining marks, with đ/Đ replaced by d/D.
    """
    if len(text) <= _CACHED_FOLD_CHARS:
        return _fold_word(text)
    return _fold(text)


#: Texts up to this long (words, in practice) are folded through a cache: answering folds
#: the same few thousand words ~3,300 times per answer, half its time (profiled over 48
#: answers). Longer texts are folded directly, so the cache never pins whole chunks.
_CACHED_FOLD_CHARS = 32


@functools.lru_cache(maxsize=65_536)
def _fold_word(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return nfc(stripped.replace("đ", "d").replace("Đ", "D"))


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    # One character per character, so positions in the folded copy cut the original text.
    return base.lower()[:1] or char


class _FoldTable(dict[int, str]):
    """`str.translate` table of `_fold_char`, filled in as characters are first seen."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold_same_length(text: str) -> str:
    """Folds diacritics and case keeping the length, so folded offsets fit the original."""
    # One table look-up per character instead of a normalisation: answering a question
    # with a previous one folds ~300 characters (the follow-up check), 13 % of `answer()`.
    return unicodedata.normalize("NFC", text).translate(_FOLD_TABLE)


def _canonical(code: str, number: str, year: str | None) -> list[str]:
    value = str(int(number))  # "04" and "4" are the same decision
    tokens = [f"{code}{value}"]
    if year:
        tokens.append(f"{code}{value}_{year}")
    return tokens


_REFERENCE_TAIL_RE = re.compile(r"(?:/[a-z]+)?(?:-[a-z]+)*")


def legal_reference_spans(folded: str) -> list[tuple[int, int]]:
    """Character spans of the legal document references in a folded, lower-case text.

    "nghi dinh 45/2012/nd-cp", "45/2012/nd-cp" and "nd 45" are each one span, with the
    issuer suffix; overlapping matches of the two patterns are merged.

    Args:
        folded: The text folded without changing its length (`fold_same_length`)
            and lower-cased, so the spans cut the original text.

    Returns:
        (start, end) pairs in text order.
    """
    spans = []
    for match in (*_NUMBER_FIRST_RE.finditer(folded), *_KIND_FIRST_RE.finditer(folded)):
        tail = _REFERENCE_TAIL_RE.match(folded, match.end())
        spans.append((match.start(), tail.end() if tail else match.end()))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def legal_number_tokens(text: str) -> list[str]:
    """Finds references to legal documents and returns their canonical tokens.

    `Nghị định 45/2012/NĐ-CP`, `nđ 45`, `45/2012/ND-CP` and `NĐ-CP 45` all give `nd45`
    (plus `nd45_2012` when the year is written); likewise `qd2665`, `tt28`, `ct4`, `nq23`,
    and `ttlt26` for `Thông tư liên tịch 26/2014` or `26/2014/TTLT-BTC-BCT`.

    Args:
        text: A document text or a question.

    Returns:
        Canonical tokens in order of appearance (duplicates kept, as term frequency).
    """
    folded = fold_diacritics(text).lower()
    found: list[tuple[int, list[str]]] = []
    for match in _NUMBER_FIRST_RE.finditer(folded):
        found.append((match.start(), _canonical(match.group(3), match.group(1), match.group(2))))
    for match in _KIND_FIRST_RE.finditer(folded):
        kind = re.sub(r"\s+", " ", match.group(1))
        code = _KIND_WORDS[kind]
        # "Nghị định 45/2012/NĐ-CP" is matched by both patterns; keep one reference.
        tail = folded[match.end() : match.end() + 8]
        if re.match(rf"/(?:(?:19|20)\d\d/)?{code}(?![a-z])", tail):
            continue
        found.append((match.start(), _canonical(code, match.group(2), match.group(3))))
    found.sort(key=lambda item: item[0])
    return [token for _, tokens in found for token in tokens]


def normalize_legal_numbers(text: str) -> str:
    """Appends the canonical legal-number tokens of a text to it.

    Args:
        text: A document text or a question.

    Returns:
        The text followed by its canonical tokens (e.g. `... 2665/QĐ-UBND qd2665`), or the
        text unchanged when it names no legal document.
    """
    tokens = legal_number_tokens(text)
    return f"{text} {' '.join(tokens)}" if tokens else text


def syllables(text: str) -> list[str]:
    """Splits a text into lower-case NFC syllables; punctuation and "-" or "/" separate.

    Args:
        text: Any text.

    Returns:
        Syllables and numbers, e.g. "giai đoạn 2021-2025" -> ["giai", "đoạn", "2021", "2025"].
    """
    return _WORD_RE.findall(nfc(text).lower())


def bm25_tokens(text: str, *, bigrams: bool = False) -> list[str]:
    """Tokenises a document or a query for BM25, the same way for both.

    The tokens are the lower-case syllables without stopwords, the diacritic-folded form
    of each syllable that has accents, optional folded syllable bigrams, and the canonical
    legal-number tokens from `legal_number_tokens`.

    Args:
        text: A document text or a question.
        bigrams: Also emit folded bigrams of consecutive syllables ("khuyen_cong").

    Returns:
        The token list (order kept, duplicates kept as term frequency).
    """
    tokens: list[str] = []
    folded_seq: list[str] = []
    for syllable in syllables(text):
        if syllable in STOPWORDS:
            folded_seq.append("")  # a stopword breaks a bigram
            continue
        tokens.append(syllable)
        folded = fold_diacritics(syllable)
        if folded != syllable:
            tokens.append(folded)
        folded_seq.append(folded)
    if bigrams:
        tokens.extend(
            f"{left}_{right}"
            for left, right in zip(folded_seq, folded_seq[1:], strict=False)
            if left and right
        )
    tokens.extend(legal_number_tokens(text))
    return tokens


def compare_key(text: str) -> str:
    """A key for comparing texts as people typed them: NFC, casefolded, single spaces.

    Diacritics are kept, so "mấy" and "máy" stay different words.

    Args:
        text: Any text.

    Returns:
        The key, e.g. ``"Vay  Vốn "`` -> ``"vay vốn"``.
    """
    return " ".join(nfc(text).casefold().split())


def fold_key(text: str) -> str:
    """A key for accent-insensitive matching: `compare_key` without diacritics.

    Punctuation is kept, so stored keys built from it (the leads' need key) stay stable.

    Args:
        text: Any text, e.g. a province name or a support item.

    Returns:
        The folded key, e.g. ``"Đồng  Tháp"`` -> ``"dong thap"``.
    """
    return " ".join(fold_diacritics(text).casefold().split())


def fold_words(text: str) -> str:
    """The folded words of a text joined by single spaces; punctuation only separates.

    For matching what people type against labels and names: "Đã liên hệ", "da_lien_he" and
    "ĐÃ LIÊN-HỆ" all give "da lien he"; "Bà Rịa - Vũng Tàu" gives "ba ria vung tau".

    Args:
        text: Any text.

    Returns:
        The folded, lower-case words separated by one space.
    """
    return " ".join(fold_diacritics(word) for word in syllables(text))


_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


def has_diacritics(text: str) -> bool:
    """Tells whether the text carries any Vietnamese tone or vowel mark (or đ).

    Args:
        text: Any text.

    Returns:
        True when at least one letter has a combining mark after NFD, or is đ/Đ.
    """
    for char in unicodedata.normalize("NFD", text):
        if char in "đĐ" or unicodedata.category(char) == "Mn":
            return True
    return False


def folded_words(text: str) -> list[str]:
    """Lower-case, diacritic-folded word tokens of a text, in order.

    Args:
        text: Any text.

    Returns:
        Tokens such as ["quang", "nam", "ho", "tro"]; stopwords are kept.
    """
    return _TOKEN_RE.findall(fold_diacritics(nfc(text).casefold()))


def content_tokens(text: str) -> list[str]:
    """Folded word tokens without the (accented) stopwords.

    A stopword typed without accents is kept on purpose: folded, "co" is both "có" and
    "cơ sở"; IDF weights (see `index.lexicon.TermStats`) make the frequent folded forms
    weigh little instead.

    Args:
        text: Any text.

    Returns:
        Folded tokens in order ("Quảng Nam hỗ trợ gì?" -> ["quang", "nam", "ho", "tro"]).
    """
    return [
        fold_diacritics(token)
        for token in _TOKEN_RE.findall(nfc(text).casefold())
        if token not in STOPWORDS
    ]


def expand_abbreviations(text: str, table: dict[str, str]) -> str:
    """Replaces chat abbreviations ("dc", "ko", "bn") by the words they stand for.

    Keys are matched as whole tokens, case-insensitively. In a text typed without any
    diacritics the expansion is folded too ("dc" -> "duoc"), so the text stays uniformly
    unaccented for the retrievers.

    Args:
        text: The question.
        table: Lower-case abbreviation -> expansion (from `knowledge/teencode.yaml`).

    Returns:
        The text with abbreviations expanded; unchanged when none occurs.
    """
    if not table:
        return text
    accented = has_diacritics(text)

    source = nfc(text)

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        expansion = table.get(word.casefold())
        # "BCT" in "04/CT-BCT" is part of a document number, not a word.
        joined = source[match.start() - 1 : match.start()] in "/-" and match.start() > 0
        joined = joined or source[match.end() : match.end() + 1] in ("/", "-")
        if expansion is None or joined:
            return word
        return expansion if accented else fold_diacritics(expansion)

    return _TOKEN_RE.sub(replace, source)
