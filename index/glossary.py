"""A small bilingual glossary of the industrial-promotion domain, for English questions.

The knowledge base is Vietnamese. An English question ("What support is there for trade
fairs abroad?") shares no word with it, and the e5 cosine alone cannot tell it from an
off-topic English question. Rendering the question's domain terms in Vietnamese gives BM25,
the sentence choice and the confidence something to match. A question with no domain term
("Recommend a good laptop") gets no rendering, so it still abstains.

A second, much smaller table lists Vietnamese words that documents use for the same idea
as common question words ("khó khăn" is written "hạn chế", "còn thiếu", "vướng mắc").

The tables are data, `knowledge/glossary.yaml`, which admins edit like `teencode.yaml`; it
is read with the other word lists by `index.lexicon.load_lexicon`, and its hash is recorded
in the index manifest, so an edit makes the index stale and a re-index applies it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from index import yaml_text
from index.errors import KhuyenCongError
from index.textnorm import fold_diacritics, has_diacritics

logger = logging.getLogger(__name__)

GLOSSARY_FILE = "glossary.yaml"
#: The glossary shipped with the code, used by a knowledge directory that has none.
SHIPPED_GLOSSARY = Path(__file__).resolve().parent.parent / "knowledge" / GLOSSARY_FILE

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_KEY_WORDS = 5
#: Share of an English question's content words a generic-only rendering must cover to be
#: searched by BM25 (`Glossary.search_terms`). Swept on the 106 English rows of the legal
#: tuning files: BM25 hit@5 63 / 76 / 76 / 72 / 68 of 106 at never / 0 / 0.4 / 0.6 / 0.8;
#: 0.4 keeps the gain while a question mostly of words without a key keeps its own words.
SEARCH_COVERAGE = 0.4
_SECTIONS = frozenset({"english", "generic", "english_stopwords", "synonyms"})


class GlossaryError(KhuyenCongError):
    """`glossary.yaml` cannot be read or does not have the expected shape."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path} is not a valid glossary: {problem}. Fix the file (the comments at its "
            "top describe each section) and re-index."
        )


def _stem(word: str) -> str:
    # Enough for glossary keys: "fairs" -> "fair", "businesses" -> "business".
    if len(word) > 4 and word.endswith("es") and word[:-2].endswith(("ss", "sh", "ch", "x")):
        return word[:-2]
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.casefold())]


_VOWELS = frozenset("aeiouy")


def _lemma(word: str) -> str:
    """A coarser form of a stemmed word, so inflections find a key typed in another one.

    "registering", "registered" -> "register"; "organising", "organised", "organise" ->
    "organis"; "certified", "certify" -> "certifi"; "planned" -> "plan"; "violation",
    "violate" -> "violat". Both the keys and
    the question are reduced, so the forms need only agree, not be real words. It is tried
    after the exact (plural-stemmed) form, which keeps "processing" and "settlement" apart
    from "process" and "settle" when the glossary has both.
    """
    if word.endswith(("mming", "mmed")):
        # "programming" is not a "programme" (which reduces to "programm").
        return word
    if len(word) >= 7 and word.endswith("ion"):
        word = word[:-3]
    elif len(word) >= 6 and word.endswith("ing"):
        word = _undouble(word[:-3])
    elif len(word) >= 5 and word.endswith("ed") and not word.endswith("eed"):
        word = _undouble(word[:-2])
    if len(word) >= 5 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    if len(word) >= 4 and word.endswith("y") and word[-2] not in _VOWELS:
        word = word[:-1] + "i"
    return word


def _undouble(word: str) -> str:
    # "planned" -> "plann" -> "plan", "submitted" -> "submit". Not "ll", "ss": "controlled"
    # keeps it, which only loses a match.
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in _VOWELS | {"l", "s"}:
        return word[:-1]
    return word


@dataclass(frozen=True, slots=True)
class EnglishRendering:
    """The Vietnamese terms found for an English question."""

    #: Vietnamese terms, one per matched glossary key, in question order.
    terms: tuple[str, ...]
    #: Glossary keys that matched.
    keys: tuple[str, ...]
    #: Share of the question's English content words covered by a key.
    covered: float
    #: Keys too common outside this domain to make a question answerable alone.
    generic: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @property
    def text(self) -> str:
        """The terms joined into one Vietnamese search string."""
        return " ".join(self.terms)

    @property
    def on_topic(self) -> bool:
        """True when at least one matched key is specific to this domain."""
        return any(key not in self.generic for key in self.keys)


@dataclass(frozen=True, slots=True)
class Glossary:
    """The English glossary and the Vietnamese synonyms of one knowledge directory."""

    #: English phrase -> Vietnamese terms of this domain, in file order.
    english: Mapping[str, str] = field(default_factory=dict)
    #: Keys common outside this domain: alone they do not make an English question answerable.
    generic: frozenset[str] = frozenset()
    #: English words that carry no topic; they are neither matched nor counted as uncovered.
    stopwords: frozenset[str] = frozenset()
    #: Diacritic-free question words -> how documents phrase the same idea.
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _keys: dict[tuple[str, ...], str] = field(default_factory=dict, init=False, repr=False)
    _lemma_keys: dict[tuple[str, ...], str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        # Stemmed word tuples of the keys; a later key stemming like an earlier one wins.
        object.__setattr__(self, "_keys", {tuple(_words(k)): k for k in self.english})
        # Their lemma tuples, tried when no exact form matches; the first key keeps a lemma.
        lemmas: dict[tuple[str, ...], str] = {}
        for words, key in self._keys.items():
            lemmas.setdefault(tuple(_lemma(w) for w in words), key)
        object.__setattr__(self, "_lemma_keys", lemmas)

    def is_stopword(self, word: str) -> bool:
        """True for an English word without topic, tested as typed and stemmed.

        The stemmer is meant for plural nouns: it reads "does" as "doe", so the stopword
        list, which holds the words as typed, is tested with the unstemmed word too.
        """
        return word in self.stopwords or _stem(word) in self.stopwords

    def render_english(self, question: str) -> EnglishRendering | None:
        """Finds the domain terms of an English question and gives their Vietnamese terms.

        Matching is greedy, longest key first, on whole words ("trade fairs" -> "trade fair").
        Questions with Vietnamese diacritics are left alone.

        Args:
            question: The user's question.

        Returns:
            The rendering, or None when the question has diacritics or matches no key.
        """
        if has_diacritics(question):
            return None
        raw = _WORD.findall(question.casefold())
        words = [_stem(w) for w in raw]
        lemmas = [_lemma(w) for w in words]
        terms: list[str] = []
        keys: list[str] = []
        content = 0
        covered = 0
        i = 0
        while i < len(words):
            for size in range(min(_MAX_KEY_WORDS, len(words) - i), 0, -1):
                key = self._keys.get(tuple(words[i : i + size]))
                if key is None:
                    key = self._lemma_keys.get(tuple(lemmas[i : i + size]))
                if key is not None:
                    if self.english[key] not in terms:
                        terms.append(self.english[key])
                    keys.append(key)
                    span = [w for w in raw[i : i + size] if not self.is_stopword(w)]
                    content += len(span)
                    covered += len(span)
                    i += size
                    break
            else:
                if not self.is_stopword(raw[i]) and not words[i].isdigit():
                    content += 1
                i += 1
        if not keys:
            return None
        share = covered / content if content else 1.0
        return EnglishRendering(tuple(terms), tuple(keys), share, self.generic)

    def english_terms(self, question: str) -> EnglishRendering | None:
        """The rendering of an English question about this domain, or None.

        Unlike `render_english`, a question whose only matches are generic words ("How much
        is a laptop?") gets None.

        Args:
            question: The user's question.

        Returns:
            The rendering when at least one domain-specific key matched.
        """
        rendering = self.render_english(question)
        return rendering if rendering is not None and rendering.on_topic else None

    def search_terms(self, question: str) -> EnglishRendering | None:
        """The rendering BM25 searches an English question with, or None.

        An on-topic rendering, or one of generic keys only that covers at least
        `SEARCH_COVERAGE` of the question's content words: "Who chairs the national
        selection council?" is all generic words, and BM25 over its English words finds
        nothing in Vietnamese texts. Such a question is still not on topic (`english_terms`),
        so it is neither embedded with these terms nor made answerable by them.

        Args:
            question: The user's question.

        Returns:
            The rendering to append to the BM25 query.
        """
        rendering = self.render_english(question)
        if rendering is None or not (rendering.on_topic or rendering.covered >= SEARCH_COVERAGE):
            return None
        return rendering

    def synonyms_for(self, question: str) -> list[tuple[str, tuple[str, ...]]]:
        """The synonym entries whose key occurs in the question.

        Args:
            question: The user's question (with or without diacritics).

        Returns:
            (key, phrasings) pairs; the key is diacritic-free, the phrasings are Vietnamese.
        """
        folded = f" {' '.join(_words(fold_diacritics(question)))} "
        return [(key, alts) for key, alts in self.synonyms.items() if f" {key} " in folded]

    def synonym_text(self, question: str) -> str:
        """Document phrasings of the question's intent words, for the BM25 query.

        Args:
            question: The user's question (any diacritics).

        Returns:
            The phrasings joined by spaces; empty when none applies.
        """
        return " ".join(alt for _, alts in self.synonyms_for(question) for alt in alts)


def _strings(path: Path, section: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise GlossaryError(path, f"`{section}` must be a list of non-empty texts")
    return [v.strip() for v in value]


def parse_glossary(data: Any, path: Path) -> Glossary:
    """Checks the parsed YAML of a glossary file and builds the glossary.

    Args:
        data: What `yaml.safe_load` gave (None for an empty file: an empty glossary).
        path: The file, named in errors.

    Returns:
        The glossary.

    Raises:
        GlossaryError: A section is of the wrong type, an entry is empty, or a generic key
            is not a key of `english`.
    """
    if data is None:
        return Glossary()
    if not isinstance(data, dict):
        raise GlossaryError(path, "the file must be a mapping with `english`, `generic`, ...")
    unknown = sorted(str(k) for k in data if k not in _SECTIONS)
    if unknown:
        raise GlossaryError(path, f"unknown section(s) {', '.join(unknown)}")
    raw_english = data.get("english") or {}
    if not isinstance(raw_english, dict):
        raise GlossaryError(path, "`english` must map English phrases to Vietnamese terms")
    english: dict[str, str] = {}
    for key, value in raw_english.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
            raise GlossaryError(path, f"entry {key!r} of `english` needs a Vietnamese text")
        if not _words(key):
            raise GlossaryError(path, f"key {key!r} of `english` has no English word")
        english[key.strip().casefold()] = value.strip()
    generic = _strings(path, "generic", data.get("generic") or [])
    missing = sorted(set(generic) - set(english))
    if missing:
        raise GlossaryError(path, f"generic key(s) {', '.join(missing)} not in `english`")
    stopwords = data.get("english_stopwords") or ""
    if not isinstance(stopwords, str):
        raise GlossaryError(path, "`english_stopwords` must be words separated by spaces")
    raw_synonyms = data.get("synonyms") or {}
    if not isinstance(raw_synonyms, dict):
        raise GlossaryError(path, "`synonyms` must map question words to lists of phrasings")
    synonyms: dict[str, tuple[str, ...]] = {}
    for key, alts in raw_synonyms.items():
        if not isinstance(key, str) or not key.strip():
            raise GlossaryError(path, f"synonym key {key!r} must be a text")
        # Keys are compared with the folded question, so a key typed with accents still works.
        folded = " ".join(_words(fold_diacritics(key)))
        synonyms[folded] = tuple(_strings(path, f"synonyms: {key}", alts))
    return Glossary(english, frozenset(generic), frozenset(stopwords.split()), synonyms)


def glossary_path(knowledge_dir: Path) -> Path:
    """The glossary file a knowledge directory uses: its own, else the shipped one."""
    own = knowledge_dir / GLOSSARY_FILE
    return own if own.is_file() else SHIPPED_GLOSSARY


def read_glossary(path: Path) -> Glossary:
    """Reads and checks one glossary file.

    Args:
        path: A `glossary.yaml`.

    Returns:
        The glossary.

    Raises:
        GlossaryError: The file cannot be read, is not valid YAML or has the wrong shape.
    """
    try:
        data = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise GlossaryError(path, f"cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise GlossaryError(path, f"invalid YAML{where}") from exc
    return parse_glossary(data, path)


def load_glossary(knowledge_dir: Path) -> Glossary:
    """The glossary of a knowledge directory (the shipped one when it has no glossary.yaml).

    Args:
        knowledge_dir: `Settings.knowledge_dir`.

    Returns:
        The glossary.

    Raises:
        GlossaryError: The file is malformed; the message names it and the problem.
    """
    path = glossary_path(knowledge_dir)
    if path == SHIPPED_GLOSSARY and path.parent != knowledge_dir.resolve():
        logger.info("%s has no %s: using the shipped one", knowledge_dir, GLOSSARY_FILE)
    return read_glossary(path)


@lru_cache(maxsize=1)
def shipped_glossary() -> Glossary:
    """The glossary shipped in `knowledge/`, for callers without a knowledge directory."""
    return read_glossary(SHIPPED_GLOSSARY)


def glossary_hash(knowledge_dir: Path) -> str:
    """Content hash of the glossary file a knowledge directory uses, kept in the manifest.

    The glossary shapes how questions are read (and so the intent classifier's features):
    an index built with another glossary is stale.
    """
    return hashlib.sha256(glossary_path(knowledge_dir).read_bytes()).hexdigest()[:16]
