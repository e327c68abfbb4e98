"""Guessing the diacritics of a question typed without them, from the index's own words.

Owners type on phones without accents ("ho tro may moc bao nhieu"). BM25 and the unit
scorer compare folded tokens, so only the embedding model sees the difference, and e5 reads
"ho tro may moc" as a different text from "hỗ trợ máy móc". The restorer picks, for each
folded word, the accented spelling that the indexed documents and the question examples of
`knowledge/intents.yaml` make most likely next to its neighbour (a bigram model decoded with
Viterbi). It knows the domain's words ("máy móc", "khuyến công", "cụm công nghiệp") and
learns every new document's words at the next build.

Measured on the accented questions of the tuning files, folded and restored (1,682 words):
96.1% of words restored exactly, against 73.9% for pyvi's general-purpose ViDiac.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from index.textnorm import fold_diacritics, has_diacritics

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Bigrams do not cross the end of a sentence, a clause or a table cell.
_BREAK = re.compile(r"[\n.;:,?!()\[\]\"|*#]+")
#: Weight of one question example against one document word. Questions are phrased unlike
#: documents ("mấy", "thì", "được không"); measured on the tuning files: 95.2% of words
#: restored with weight 1, 96.1% with 5, 96.0% with 20.
QUESTION_WEIGHT = 5.0
#: Share of the bigram estimate in the interpolated probability (the rest is the unigram
#: estimate). Flat on the tuning files: 96.1% at 0.5, 0.7 and 0.9.
BIGRAM_SHARE = 0.7
#: Added to every unigram count, so that a spelling seen once is not infinitely unlikely.
_UNIGRAM_SMOOTHING = 0.1
#: File of a fitted restorer inside an index version (see `AccentRestorer.save`).
RESTORER_NAME = "accents.json"


class AccentRestorer:
    """A bigram model of accented words, keyed by their folded spelling."""

    def __init__(self) -> None:
        self._unigrams: dict[str, float] = {}
        self._bigrams: dict[tuple[str, str], float] = {}
        self._spellings: dict[str, list[str]] = {}
        self._total = 1.0

    @classmethod
    def fit(cls, documents: Iterable[str], questions: Iterable[str] = ()) -> AccentRestorer:
        """Counts the accented words of the documents and of example questions.

        Args:
            documents: Texts of the indexed chunks.
            questions: Example questions (`knowledge/intents.yaml`), weighted by
                `QUESTION_WEIGHT`.

        Returns:
            The restorer.
        """
        restorer = cls()
        for texts, weight in ((documents, 1.0), (questions, QUESTION_WEIGHT)):
            unigrams, bigrams = _counts(texts)
            for word, n in unigrams.items():
                restorer._unigrams[word] = restorer._unigrams.get(word, 0.0) + weight * n
            for pair, n in bigrams.items():
                restorer._bigrams[pair] = restorer._bigrams.get(pair, 0.0) + weight * n
        restorer._index()
        return restorer

    def _index(self) -> None:
        """Derives the spellings per folded word and the total from the unigram counts."""
        spellings: defaultdict[str, list[str]] = defaultdict(list)
        # Insertion order decides Viterbi ties, so a loaded restorer keeps the fitted order.
        for word in self._unigrams:
            spellings[fold_diacritics(word)].append(word)
        self._spellings = dict(spellings)
        self._total = sum(self._unigrams.values()) or 1.0

    def save(self, path: Path) -> None:
        """Writes the counts as JSON (a build saves the restorer it fitted beside the index).

        Args:
            path: The file to write, `RESTORER_NAME` in a version directory.
        """
        data = {
            "unigrams": self._unigrams,
            "bigrams": [[first, second, n] for (first, second), n in self._bigrams.items()],
        }
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AccentRestorer:
        """Reads what `save` wrote: the same restorer as the fit, without refitting.

        Raises:
            OSError, ValueError, KeyError, TypeError: A missing or malformed file.
        """
        data = json.loads(path.read_text(encoding="utf-8"))
        restorer = cls()
        restorer._unigrams = {str(word): float(n) for word, n in data["unigrams"].items()}
        restorer._bigrams = {(str(a), str(b)): float(n) for a, b, n in data["bigrams"]}
        restorer._index()
        return restorer

    def __len__(self) -> int:
        """Number of distinct accented spellings known."""
        return len(self._unigrams)

    def _unigram(self, word: str) -> float:
        return (self._unigrams.get(word, 0.0) + _UNIGRAM_SMOOTHING) / self._total

    def _transition(self, previous: str, word: str) -> float:
        seen = self._unigrams.get(previous, 0.0) + 1.0
        bigram = self._bigrams.get((previous, word), 0.0) / seen
        return math.log(BIGRAM_SHARE * bigram + (1.0 - BIGRAM_SHARE) * self._unigram(word))

    def restore(self, text: str) -> str:
        """The text with the most likely diacritics; words never seen are kept as typed.

        Args:
            text: Vietnamese typed without diacritics.

        Returns:
            The same text (punctuation, digits and capitals kept) with accented words.
        """
        typed = _WORD.findall(text)
        if not typed or not self._unigrams:
            return text
        options = [self._spellings.get(fold_diacritics(w.lower())) or [w.lower()] for w in typed]
        # Viterbi: the best path ending in each spelling of the current word.
        paths = {w: (math.log(self._unigram(w)), [w]) for w in options[0]}
        for spellings in options[1:]:
            step: dict[str, tuple[float, list[str]]] = {}
            for word in spellings:
                score, path = max(
                    ((s + self._transition(prev, word), p) for prev, (s, p) in paths.items()),
                    key=lambda sp: sp[0],
                )
                step[word] = (score, [*path, word])
            paths = step
        best = iter(max(paths.values(), key=lambda sp: sp[0])[1])

        def spelled(match: re.Match[str]) -> str:
            word = next(best)
            original = match.group(0)
            if original.isupper() and len(original) > 1:
                return word.upper()
            return word.capitalize() if original[0].isupper() else word

        return _WORD.sub(spelled, text)


def _counts(texts: Iterable[str]) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Word and adjacent-pair counts of the parts of the texts that carry diacritics."""
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for text in texts:
        for part in _BREAK.split(unicodedata.normalize("NFC", text).lower()):
            # A part without any diacritic is a slug, a code or a text typed without accents:
            # its spellings would compete with the real ones ("khuyen" for "khuyến").
            if not has_diacritics(part):
                continue
            words = _WORD.findall(part)
            unigrams.update(words)
            bigrams.update(zip(words, words[1:], strict=False))
    return unigrams, bigrams
