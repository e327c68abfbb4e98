"""Reading a question: cleaning it, expanding chat abbreviations, and what each retriever sees.

Everything that varies with how an owner types (no accents, "dc"/"ko", English) is settled
here once, so retrieval, the intent classifier and the unit scorer all see the same forms.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from index.glossary import EnglishRendering, Glossary, shipped_glossary
from index.lexicon import Entities, Lexicon
from index.textnorm import content_tokens, has_diacritics

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Onset + vowel nucleus + coda of a Vietnamese syllable written without diacritics.
_VI_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x)?"
    r"[aeiouy]{1,3}(ng|nh|ch|c|m|n|p|t)?$"
)
#: Share of words that must look like Vietnamese syllables for a text typed without accents
#: to count as Vietnamese (English words like "programming" are not syllables).
ACCENTLESS_SYLLABLE_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class PreparedQuestion:
    """A question cleaned for search, or the reason it cannot be searched."""

    text: str
    reason: str | None = None


def prepare_question(question: str, *, max_chars: int) -> PreparedQuestion:
    """Normalises a raw question and decides whether it can be searched at all.

    Control and zero-width characters are removed, whitespace collapsed and the text put in
    NFC. A question with no letter or digit is "empty"; one longer than `max_chars` is
    "too_long".

    Args:
        question: Whatever the user typed.
        max_chars: Longest accepted question, in characters.

    Returns:
        The cleaned text and a refusal reason (None when it can be searched).
    """
    text = unicodedata.normalize("NFC", question or "")
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text.replace("\r", "\n")).strip()
    if not any(ch.isalnum() for ch in text):
        return PreparedQuestion(text="", reason="empty")
    if len(text) > max_chars:
        return PreparedQuestion(text=text[:max_chars], reason="too_long")
    return PreparedQuestion(text=text)


def looks_accentless_vietnamese(text: str) -> bool:
    """Tells whether a text is Vietnamese typed without diacritics.

    Every word must be plain ASCII and most words must be valid Vietnamese syllables.

    Args:
        text: The question.

    Returns:
        True for "chuong trinh khuyen cong ho tro gi", False for accented Vietnamese,
        English, or texts of fewer than two words.
    """
    if has_diacritics(text):
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 2 or not all(w.isascii() for w in words):
        return False
    syllables = sum(1 for w in words if _VI_SYLLABLE.match(w))
    return syllables / len(words) >= ACCENTLESS_SYLLABLE_SHARE


@functools.lru_cache(maxsize=1)
def _diacritic_restorer() -> object | None:
    try:
        from pyvi import ViUtils
    except ImportError:  # optional: without pyvi the question is embedded as typed
        logger.warning("pyvi is not installed; questions without accents are embedded as typed")
        return None
    return ViUtils


def restore_diacritics(text: str) -> str:
    """Guesses the accents of a Vietnamese text typed without them (pyvi's offline ViDiac).

    Args:
        text: Vietnamese without diacritics.

    Returns:
        The text with guessed diacritics, or the text unchanged when pyvi is missing.
    """
    restorer = _diacritic_restorer()
    if restorer is None:
        return text
    try:
        return str(restorer.add_accents(text))  # type: ignore[attr-defined]
    except (KeyError, IndexError, ValueError):
        # ViDiac fails on some letter sequences ("xw"); the question is then embedded as typed.
        return text


@dataclass(frozen=True, slots=True)
class Query:
    """One question as every part of the answer layer reads it."""

    #: The cleaned question (see `prepare_question`).
    text: str
    #: The question with chat abbreviations expanded.
    expanded: str
    #: What the embedding model encodes (see `analyse`).
    dense_text: str
    #: What BM25 searches: the question, English glossary terms and document phrasings.
    lexical_text: str
    #: Folded content tokens (of the glossary terms too, for English).
    tokens: tuple[str, ...]
    entities: Entities
    english: EnglishRendering | None = None
    #: Vietnamese typed without diacritics.
    accentless: bool = False
    #: Folded content tokens of the clause that asks (see `focus_clause`).
    focus_tokens: tuple[str, ...] = ()
    #: Adjacent pairs of the question's content tokens, in order (multi-syllable words).
    bigrams: frozenset[tuple[str, str]] = frozenset()
    #: What the intent classifier's vocabulary coverage reads: `tokens`, except that an
    #: English question matching only generic glossary keys keeps its own words, so "machine
    #: learning" does not look covered by "máy móc thiết bị".
    scope_tokens: tuple[str, ...] = ()


def lexical_query(query: str, glossary: Glossary | None = None) -> str:
    """The BM25 query: the question plus its Vietnamese glossary terms and synonyms.

    Args:
        query: The question.
        glossary: The knowledge directory's glossary; the shipped one when None.

    Returns:
        The question, followed by the Vietnamese search terms of an English question
        (`Glossary.search_terms`) and by document phrasings of intent words ("khó khăn" -> "hạn chế").
    """
    glossary = glossary or shipped_glossary()
    english = glossary.search_terms(query)
    extra = [english.text if english is not None else "", glossary.synonym_text(query)]
    return " ".join([query, *(e for e in extra if e)])


_CLAUSE_END = re.compile(r"[.?!;,:\n]+")


def focus_clause(text: str) -> str:
    """The clause of a question that asks, when the question first describes a situation.

    "Tôi có xưởng chế biến ở nông thôn, có được hỗ trợ đào tạo nghề không?" asks about
    "đào tạo nghề"; the situation before it shares words with many passages. The asking
    clause of a written question comes last, so this is the last clause (split at
    punctuation) with at least two content words; the whole text when there is one clause.
    """
    clauses = [c for c in _CLAUSE_END.split(text) if len(content_tokens(c)) >= 2]
    return clauses[-1] if clauses else text


def bigrams_of(tokens: tuple[str, ...] | list[str]) -> frozenset[tuple[str, str]]:
    """Adjacent token pairs: most Vietnamese words have two syllables ("chuyển đổi")."""
    return frozenset(zip(tokens, tokens[1:], strict=False))


def analyse(
    text: str,
    lexicon: Lexicon,
    *,
    restore_accents: bool = False,
    restorer: Callable[[str], str] | None = None,
) -> Query:
    """Reads a cleaned question once for retrieval, classification and unit scoring.

    Args:
        text: The cleaned question (`prepare_question(...).text`).
        lexicon: Abbreviations, entity names and the glossary.
        restore_accents: Embed a question typed without accents with guessed diacritics.
        restorer: Guesses them (`index.accents.AccentRestorer.restore`, fitted on the
            index); pyvi's ViDiac when None.

    Returns:
        The query. An English question about this domain is embedded and searched with its
        Vietnamese glossary terms appended ("trade fairs abroad (hội chợ triển lãm nước
        ngoài)"), which is how the cross-lingual match is bridged.
    """
    expanded = lexicon.expand(text)
    accentless = looks_accentless_vietnamese(expanded)
    # The unit scorer reads an English question through all its glossary terms, generic ones
    # too ("rural product" -> "nông thôn sản phẩm"): its English words alone match no
    # Vietnamese unit, except by accident ("One Commune One Product" in the OCOP passages).
    rendering = None if accentless else lexicon.glossary.render_english(expanded)
    english = rendering if rendering is not None and rendering.on_topic else None
    dense_text = expanded
    if english is not None:
        dense_text = f"{expanded} ({english.text})"
    elif accentless and restore_accents:
        dense_text = (restorer or restore_diacritics)(expanded)
    synonyms = lexicon.glossary.synonym_text(expanded)
    # BM25 gets the terms of a question on this domain, and those of one mostly made of
    # generic keys ("Who chairs the selection council?"), see `Glossary.search_terms`; the
    # embedding gets the on-topic terms only (generic ones there lost a held-out question).
    search = None if accentless else lexicon.glossary.search_terms(expanded)
    extra = [search.text if search is not None else "", synonyms]
    lexical_text = " ".join([expanded, *(e for e in extra if e)])
    own = content_tokens(expanded)
    tokens = list(own)
    focus = content_tokens(focus_clause(expanded))
    if english is not None:
        tokens = [t for t in own if t.isdigit()] + content_tokens(english.text)
        focus = tokens
    elif rendering is not None:
        # Generic terms only: the English words stay too (some legal texts carry English
        # notes), and the Vietnamese terms let units that say it in Vietnamese match.
        tokens = own + content_tokens(rendering.text)
        focus = tokens
    pairs = bigrams_of(tokens)
    # Document phrasings of the question's words ("khó khăn" is written "hạn chế") count as
    # the question's own words for the lexical overlap of units.
    tokens += content_tokens(synonyms)
    scope = tokens if english is not None else own + content_tokens(synonyms)
    return Query(
        text=text,
        expanded=expanded,
        dense_text=dense_text,
        lexical_text=lexical_text,
        tokens=tuple(dict.fromkeys(tokens)),
        entities=lexicon.find(f"{expanded} {rendering.text}" if rendering else expanded),
        english=english,
        accentless=accentless,
        focus_tokens=tuple(dict.fromkeys(focus)),
        bigrams=pairs,
        scope_tokens=tuple(dict.fromkeys(scope)),
    )
