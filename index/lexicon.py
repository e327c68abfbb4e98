"""What the answer layer knows about words: IDF weights, chat abbreviations and named entities.

The word lists are data in `knowledge/` (admins extend them without touching code):

* `teencode.yaml`: chat abbreviations ("dc", "ko", "bn") and what they stand for;
* `entities.yaml`: the words for each support item of `criteria.yaml`, and how the knowledge
  base marks a value as not found (provinces come from the one list,
  `index/leads/provinces.yaml`, with the 2025 merges);
* `criteria.yaml`: which support items have no known level ("Chưa tìm được mức hỗ trợ");
* `glossary.yaml`: English terms of the domain in Vietnamese, and document phrasings of
  question words (`index.glossary`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index import yaml_text
from index.glossary import Glossary, load_glossary, shipped_glossary
from index.textnorm import (
    expand_abbreviations,
    fold_diacritics,
    fold_same_length,
    legal_number_tokens,
)

logger = logging.getLogger(__name__)

TEENCODE_FILE = "teencode.yaml"
ENTITIES_FILE = "entities.yaml"
CRITERIA_FILE = "criteria.yaml"

_YEAR_RE = re.compile(r"(?<![\d/])((?:19|20)\d\d)(?![\d/])")
#: "2016–2020", "2021-2025": a period names every year in it.
_PERIOD_RE = re.compile(r"(?<![\d/])((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)(?![\d/])")
#: Longest period whose inner years are spelt out (a programme runs five or ten years).
MAX_PERIOD_YEARS = 10


class TermStats:
    """Inverse document frequencies of folded content tokens over the indexed chunks.

    Rare words ("hội chợ", "Vĩnh Long") say more about which unit answers a question than
    frequent ones ("khuyến công", "hỗ trợ"); folded homographs of function words ("co" for
    "có" and "cơ") are frequent and so weigh little, which is why no folded stopword list
    is needed.

    Args:
        token_sets: One collection of tokens per chunk.
    """

    def __init__(self, token_sets: Iterable[Iterable[str]]) -> None:
        df: Counter[str] = Counter()
        total = 0
        for tokens in token_sets:
            df.update(set(tokens))
            total += 1
        self._df = df
        self._n = max(total, 1)

    def idf(self, token: str) -> float:
        """BM25-style IDF, always positive; unknown words get the highest weight."""
        df = self._df.get(token, 0)
        return math.log((self._n - df + 0.5) / (df + 0.5) + 1.0)

    def known(self, token: str) -> bool:
        """Tells whether the token occurs in the indexed text at all."""
        return token in self._df


@dataclass(frozen=True, slots=True)
class Mention:
    """A named entity found in a text."""

    #: "province", "item", "doc" or "year".
    kind: str
    #: Canonical key: the province name, the support item id, "nd45", "2021".
    key: str
    start: int = -1
    end: int = -1
    #: For a province: the province it belongs to since 2025 (itself when unchanged).
    parent: str = ""


@dataclass(frozen=True, slots=True)
class Entities:
    """The entities of one text, by kind."""

    mentions: tuple[Mention, ...] = ()

    def keys(self, kind: str) -> frozenset[str]:
        """Canonical keys of one kind."""
        return frozenset(m.key for m in self.mentions if m.kind == kind)

    def parents(self) -> frozenset[str]:
        """Post-2025 provinces of the province mentions."""
        return frozenset(m.parent for m in self.mentions if m.kind == "province")

    def first(self, kind: str) -> Mention | None:
        """The first mention of one kind, by position."""
        found = [m for m in self.mentions if m.kind == kind and m.start >= 0]
        return min(found, key=lambda m: m.start) if found else None


@dataclass(slots=True)
class Lexicon:
    """Abbreviations, entity names and not-found items loaded from `knowledge/`."""

    abbreviations: dict[str, str] = field(default_factory=dict)
    #: (folded alias, canonical name, post-2025 province), longest alias first.
    provinces: list[tuple[str, str, str]] = field(default_factory=list)
    #: (folded alias, support item id), longest alias first.
    items: list[tuple[str, str]] = field(default_factory=list)
    #: Support item ids whose level the knowledge base marks as not found.
    unknown_items: frozenset[str] = frozenset()
    #: Folded phrases by which the knowledge base says a value was not found.
    not_found_markers: tuple[str, ...] = ()
    #: Support item id -> its label in criteria.yaml.
    item_labels: dict[str, str] = field(default_factory=dict)
    #: English glossary and Vietnamese synonyms (`glossary.yaml`).
    glossary: Glossary = field(default_factory=shipped_glossary)
    _names: dict[str, tuple[str, str, str]] = field(default_factory=dict, repr=False)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def _names_pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            entries = [
                (alias, ("province", name, parent)) for alias, name, parent in self.provinces
            ]
            entries += [(alias, ("item", item, "")) for alias, item in self.items]
            entries.sort(key=lambda e: -len(e[0]))
            parts = []
            for number, (alias, value) in enumerate(entries):
                self._names[f"n{number}"] = value
                parts.append(f"(?P<n{number}>{re.escape(alias)})")
            body = "|".join(parts) or "(?!x)x"
            self._pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)")
        return self._pattern

    def expand(self, text: str) -> str:
        """The text with chat abbreviations expanded (see `textnorm.expand_abbreviations`)."""
        return expand_abbreviations(text, self.abbreviations)

    def find(self, text: str) -> Entities:
        """Finds provinces, support items, document numbers and years in a text.

        Names are matched on whole words of the folded text, longest first, without
        overlaps, so "hội chợ triển lãm ở nước ngoài" is one item, not "hội chợ" plus more.

        Args:
            text: A question or a passage.

        Returns:
            The mentions, with spans into `text` for provinces and items.
        """
        folded = fold_same_length(text)
        mentions: list[Mention] = []
        # One alternation, longest alias first: a single left-to-right pass finds
        # non-overlapping whole-word names.
        for match in self._names_pattern().finditer(folded):
            kind, key, parent = self._names[match.lastgroup or ""]
            last = mentions[-1] if mentions else None
            if last is not None and (last.kind, last.key) == (kind, key):
                if not folded[last.end : match.start()].strip():
                    # "mua máy móc" + "thiết bị": one mention of one item.
                    mentions[-1] = Mention(kind, key, last.start, match.end(), parent)
                    continue
            mentions.append(Mention(kind, key, match.start(), match.end(), parent))
        for token in legal_number_tokens(text):
            if "_" not in token:
                mentions.append(Mention("doc", token))
        for match in _YEAR_RE.finditer(text):
            mentions.append(Mention("year", match.group(1), match.start(), match.end()))
        for match in _PERIOD_RE.finditer(text):
            start, end = int(match.group(1)), int(match.group(2))
            if 0 < end - start <= MAX_PERIOD_YEARS:
                mentions.extend(Mention("year", str(y)) for y in range(start + 1, end))
        return Entities(tuple(mentions))

    def says_not_found(self, text: str) -> bool:
        """Tells whether a text is the knowledge base saying a value was not found."""
        folded = fold_diacritics(text).casefold()
        return any(marker in folded for marker in self.not_found_markers)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml_text.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        logger.warning("%s is missing; the answer layer works without it", path)
        return {}
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("%s cannot be read (%s); the answer layer works without it", path, exc)
        return {}


def _fold_key(text: str) -> str:
    return " ".join(fold_same_length(text).split())


def word_lists_hash(knowledge_dir: Path) -> str:
    """Content hash of the word lists beside the glossary, kept in the index manifest.

    Abbreviations and entity names shape how questions are read, and so the intent
    classifier's features and the entities saved with the units: an index built with other
    lists is stale. A missing file hashes as empty, like `load_lexicon` reads it.
    """
    digest = hashlib.sha256()
    for name in (TEENCODE_FILE, ENTITIES_FILE, CRITERIA_FILE):
        path = knowledge_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


def load_lexicon(knowledge_dir: Path) -> Lexicon:
    """Reads the word lists of a knowledge directory; missing files give empty lists.

    A directory without `glossary.yaml` uses the shipped one (`index.glossary.glossary_path`).

    Args:
        knowledge_dir: `Settings.knowledge_dir`.

    Returns:
        The lexicon.

    Raises:
        GlossaryError: `glossary.yaml` is malformed (the message names the problem).
    """
    teencode = _read_yaml(knowledge_dir / TEENCODE_FILE)
    abbreviations = {
        str(k).casefold(): str(v) for k, v in (teencode.get("abbreviations") or {}).items()
    }
    entities = _read_yaml(knowledge_dir / ENTITIES_FILE)
    provinces: list[tuple[str, str, str]] = []
    # The one province list (index/leads/provinces.yaml, with the 2025 merges).
    from index.leads.provinces import load_provinces

    for province in load_provinces():
        for alias in (province.name, *province.aliases):
            if len(alias) > 2:  # "HN", "TP" would match ordinary words once folded
                provinces.append((_fold_key(alias), province.name, province.name))
        for former in province.former:
            for alias in (former.name, *former.aliases):
                if len(alias) > 2:
                    provinces.append((_fold_key(alias), former.name, province.name))
    items = [
        (_fold_key(str(alias)), str(item))
        for item, aliases in (entities.get("support_items") or {}).items()
        for alias in aliases
    ]
    criteria = _read_yaml(knowledge_dir / CRITERIA_FILE)
    markers = tuple(_fold_key(str(m)) for m in entities.get("not_found_markers") or [])
    labels: dict[str, str] = {}
    unknown: set[str] = set()
    for item in criteria.get("support_items") or []:
        labels[str(item["id"])] = str(item.get("label", item["id"]))
        level = _fold_key(str(item.get("level", "")))
        if any(level.startswith(marker) for marker in markers):
            unknown.add(str(item["id"]))
    return Lexicon(
        abbreviations=abbreviations,
        provinces=sorted(provinces, key=lambda p: -len(p[0])),
        items=sorted(items, key=lambda i: -len(i[0])),
        unknown_items=frozenset(unknown),
        not_found_markers=markers,
        item_labels=labels,
        glossary=load_glossary(knowledge_dir),
    )
