"""Turning retrieved passages into a short, cited Vietnamese answer, or a polite refusal.

The answer is extractive on purpose: every sentence shown to the user is copied from a
retrieved passage (only markdown markers are removed and over-long sentences cut with an
ellipsis), so the bot can never state a fact that is not in the knowledge base.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.schema import Answer, Citation, Passage
from index.textnorm import fold_diacritics

#: Shown when the question is empty, or holds only emoji, spaces or punctuation.
EMPTY_MESSAGE = (
    "Anh/chị vui lòng nhập câu hỏi bằng chữ, ví dụ: "
    "“Cơ sở sản xuất ở nông thôn được hỗ trợ khuyến công những gì?”"
)
#: Shown when the question is longer than `Settings.max_question_chars`.
TOO_LONG_MESSAGE = (
    "Câu hỏi của anh/chị quá dài. Anh/chị vui lòng gửi câu hỏi ngắn gọn hơn "
    "(một hoặc hai câu) để tôi tra cứu chính xác."
)
#: Shown when nothing in the knowledge base answers the question.
NO_MATCH_MESSAGE = (
    "Xin lỗi, tôi chưa tìm thấy thông tin phù hợp trong tài liệu khuyến công hiện có. "
    "Anh/chị vui lòng liên hệ cán bộ khuyến công hoặc Trung tâm Khuyến công thuộc "
    "Sở Công Thương tỉnh, thành phố để được hướng dẫn cụ thể."
)

#: Dense cosines are mapped linearly from this floor (0) to this ceiling (1).
DENSE_FLOOR, DENSE_CEILING = 0.78, 0.90
#: Calibrated on the dev set plus held-out paraphrases: answerable Vietnamese questions
#: score >= 0.66 (typed without accents >= 0.47), off-topic ones <= 0.41 (<= 0.45); English
#: questions score near 0 and abstain. `Settings.abstain_threshold` should be this value.
RECOMMENDED_THRESHOLD = 0.5
#: Dense share of the confidence for Vietnamese typed without diacritics.
ACCENTLESS_DENSE_SHARE = 0.2

#: Upper bound of the answer body, in characters.
MAX_ANSWER_CHARS = 700
#: A single sentence longer than this is cut at a word boundary with an ellipsis.
MAX_SENTENCE_CHARS = 320
#: Passages (best first) whose sentences compete for the answer.
MAX_SOURCE_PASSAGES = 4
#: Sentences in one answer.
MAX_SENTENCES = 4
#: A sentence is kept only if it scores at least this share of the best sentence.
RELATIVE_FLOOR = 0.6
#: Score penalty per rank of the passage a sentence comes from.
PASSAGE_RANK_DECAY = 0.05
#: Share of a question word's weight credited when it is near a sentence, not in it.
CONTEXT_CREDIT = 0.5
#: Shorter lines (headings, table headers) are not answers.
MIN_SENTENCE_WORDS = 4

# Question and function words. They say nothing about the topic, so they neither count as
# evidence for a match nor steer the sentence choice. Matched before folding: folded, "cho"
# (for) would also remove "chợ" (market) and "hỏi" (ask) would remove "hội" (association).
STOPWORDS = frozenset(
    """
    à ạ ai anh ấy bao bạn bị biết bởi cả các cái cần cho chị chỉ chứ có còn của cùng cũng đã
    đang đâu đây để đến đều đi đó được em gì giùm giúp hả hay hãy hỏi hơn khi không là lại liệu
    lúc mà mình một muốn nào nhiêu này nếu nhé nhiều như những nó nữa ở ơi phải qua ra rằng rất rồi
    sao sẽ tại thế thì thôi tôi trong tức và vào vẫn vậy về vì với xin
    what which who whom whose when where why how did does is are was were the of for from
    with and or you we they this that these those my your our please about tell give good
    best recommend
    """.split()
)
#: Stopwords as they look typed without diacritics, minus the spellings shared with content
#: words ("co" is also "cơ sở", "hoi" also "hội", "cho" also "chợ", "de" also "đề án").
FOLDED_STOPWORDS = frozenset(
    {unicodedata.normalize("NFC", w) for w in STOPWORDS if w.isascii()}
    | {
        "a",
        "ai",
        "anh",
        "bao",
        "ban",
        "bi",
        "biet",
        "boi",
        "ca",
        "cac",
        "cai",
        "can",
        "chi",
        "chu",
        "cua",
        "cung",
        "da",
        "dang",
        "dau",
        "day",
        "den",
        "deu",
        "di",
        "duoc",
        "em",
        "gi",
        "gium",
        "giup",
        "hay",
        "hon",
        "khi",
        "khong",
        "la",
        "lai",
        "lieu",
        "luc",
        "ma",
        "minh",
        "mot",
        "muon",
        "nao",
        "nay",
        "neu",
        "nhe",
        "nhieu",
        "nhu",
        "nhung",
        "nua",
        "o",
        "oi",
        "phai",
        "qua",
        "ra",
        "rang",
        "rat",
        "roi",
        "sao",
        "se",
        "tai",
        "the",
        "thi",
        "thoi",
        "toi",
        "trong",
        "tuc",
        "va",
        "vao",
        "van",
        "vay",
        "ve",
        "vi",
        "voi",
        "xin",
    }
)

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Candidate sentence ends: after . ! ? … : ; and at line breaks. After . ! ? … or : a piece
# that does not start with a capital is glued back ("tr. đồng", "hội chợ: 100%"); after ";"
# it is not, because Vietnamese lists put one item per ";".
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")
_BULLET = re.compile(r"^\s*(?:#{1,6}\s+|[-*+•]\s+|\d{1,2}[.)]\s+|>\s*)+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")


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


def content_tokens(text: str) -> list[str]:
    """Folded, lower-case word tokens of a text without question and function words.

    Args:
        text: Any text.

    Returns:
        Tokens in order ("Quảng Nam hỗ trợ gì?" -> ["quang", "nam", "ho", "tro"]).
    """
    tokens: list[str] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFC", text).casefold()):
        if token in STOPWORDS or (token.isascii() and token in FOLDED_STOPWORDS):
            continue
        tokens.append(token if token.isascii() else fold_diacritics(token))
    return tokens


def _bigrams(tokens: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(tokens, tokens[1:], strict=False))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Signals that tell whether the retrieved passages answer the question."""

    #: Best dense cosine of any chunk (None in BM25-only mode).
    top_dense: float | None
    #: Share of the query's content words found in the best passages.
    word_coverage: float
    #: Share of the query's adjacent content-word pairs found adjacent in the best passages;
    #: Vietnamese words are mostly two syllables, so this approximates whole-word matches.
    pair_coverage: float
    #: Number of distinct content words in the query.
    query_words: int
    #: Weight of the dense cosine in the confidence; lowered for accent-less queries,
    #: on which the e5 model is unreliable.
    dense_share: float = 0.5

    @property
    def confidence(self) -> float:
        """One number in [0, 1]: half dense similarity, half lexical overlap.

        e5 cosines are compressed (off-topic questions still reach about 0.83, on-topic ones
        about 0.84 to 0.95), so the cosine is ramped from 0.78 to 0.90 and never decides
        alone: an off-topic question rarely shares adjacent word pairs with a passage.
        Without a dense score (BM25 mode) the lexical overlap is the confidence.
        """
        lexical = 0.5 * self.word_coverage + 0.5 * self.pair_coverage
        if self.top_dense is None:
            return lexical
        dense = _ramp(self.top_dense, DENSE_FLOOR, DENSE_CEILING)
        return self.dense_share * dense + (1.0 - self.dense_share) * lexical


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def gather_evidence(
    question: str,
    passages: Sequence[Passage],
    *,
    top_dense: float | None,
    depth: int = 3,
    dense_share: float = 0.5,
    stats: TermStats | None = None,
) -> Evidence:
    """Measures how well the best passages cover the question.

    Coverage is IDF-weighted when `stats` is given, so a rare word of the question that
    the knowledge base lacks ("hộ chiếu", "giá vàng") weighs more than a common one it has
    ("thủ tục", "hôm nay").

    Args:
        question: The cleaned question.
        passages: Retrieved passages, best first.
        top_dense: Best dense cosine from the retriever.
        depth: How many of the best passages count.
        dense_share: Weight of the dense cosine in the confidence.
        stats: Word statistics of the index (uniform weights when None).

    Returns:
        The evidence for the abstain decision.
    """
    query = content_tokens(question)
    words = set(query)
    if not words or not passages:
        return Evidence(top_dense, 0.0, 0.0, len(words), dense_share)
    passage_tokens: set[str] = set()
    passage_pairs: set[tuple[str, str]] = set()
    for passage in passages[:depth]:
        tokens = content_tokens(passage.chunk.text)
        passage_tokens.update(tokens)
        passage_pairs.update(_bigrams(tokens))
    idf = {w: (stats.idf(w) if stats else 1.0) for w in words}
    word_cov = sum(idf[w] for w in words & passage_tokens) / sum(idf.values())
    pairs = _bigrams(query)
    pair_weight = {pair: idf[pair[0]] + idf[pair[1]] for pair in pairs}
    pair_cov = (
        sum(pair_weight[pair] for pair in pairs & passage_pairs) / sum(pair_weight.values())
        if pairs
        else word_cov
    )
    return Evidence(top_dense, word_cov, pair_cov, len(words), dense_share)


def is_confident(evidence: Evidence, *, threshold: float) -> bool:
    """Tells whether the evidence clears the abstain threshold.

    Args:
        evidence: Signals from `gather_evidence`.
        threshold: `Settings.abstain_threshold`.

    Returns:
        False when the bot should say it does not know.
    """
    if evidence.query_words == 0:
        return False
    return evidence.confidence >= threshold


def split_sentences(text: str) -> list[str]:
    """Splits a chunk into displayable sentences, dropping markdown markers.

    Headings, bullets and list numbers are stripped from the start of each line and bold
    markers removed; table rows keep their cells separated by " | ".

    Args:
        text: Chunk text (markdown).

    Returns:
        Non-empty sentences in document order.
    """
    pieces: list[str] = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        for piece in _SENTENCE_END.split(line):
            previous = pieces[-1] if pieces else ""
            inside_brackets = previous.count("(") > previous.count(")")
            glue = inside_brackets or not (previous.endswith(";") or _starts_upper(piece))
            if previous and glue:
                pieces[-1] = f"{previous} {piece}"
            else:
                pieces.append(piece)
        pieces.append("")  # a line break always ends a sentence
    sentences: list[str] = []
    for piece in pieces:
        line = _EMPHASIS.sub("", _BULLET.sub("", piece)).strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue  # the |---|---| separator row of a table
            line = " | ".join(c for c in cells if c)
        line = _SPACES.sub(" ", line).strip()
        if sum(ch.isalnum() for ch in line) >= 3:
            sentences.append(line)
    return sentences


def trim_sentence(sentence: str, limit: int = MAX_SENTENCE_CHARS) -> str:
    """Cuts an over-long sentence at a word boundary and marks the cut with an ellipsis."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


class TermStats:
    """Inverse document frequencies of content words over the indexed chunks.

    Rare words ("hội chợ", "Vĩnh Long") say more about which sentence answers a question
    than frequent ones ("khuyến công", "hỗ trợ"), so sentences are scored with IDF weights.

    Args:
        texts: The chunk texts of the index.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        total = 0
        for text in texts:
            df.update(set(content_tokens(text)))
            total += 1
        self._df = df
        self._n = max(total, 1)

    def idf(self, token: str) -> float:
        """BM25-style IDF, always positive; unknown words get the highest weight."""
        df = self._df.get(token, 0)
        return math.log((self._n - df + 0.5) / (df + 0.5) + 1.0)


#: Question words asking for a number, a date or a document number.
_QUANTITY_CUES = (
    "bao nhieu",
    "may ",
    "so hieu",
    "ngay nao",
    "khi nao",
    "nam nao",
    "ty le",
    "muc ho tro",
    "toi da",
    "bao lau",
    "so luong",
    "how many",
    "how much",
)
_DIGIT = re.compile(r"\d")


def _asks_quantity(question: str) -> bool:
    folded = f" {fold_diacritics(question).casefold()} "
    return any(f" {cue}" in folded for cue in _QUANTITY_CUES)


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage_rank: int
    position: int
    text: str
    score: float


def _score_sentence(
    tokens: Sequence[str],
    words: set[str],
    pairs: set[tuple[str, str]],
    idf: dict[str, float],
    context: set[str] = frozenset(),  # type: ignore[assignment]
) -> float:
    total = sum(idf[w] for w in words)
    if not tokens or total <= 0:
        return 0.0
    present = words & set(tokens)
    matched = sum(idf[w] for w in present)
    if not present:
        return 0.0
    # Words found only around the sentence (chunk title, headings, other sentences) count
    # partly: "Xây dựng 5 mô hình trình diễn" answers a question about Quảng Nam when it
    # sits in the Quảng Nam document.
    matched += CONTEXT_CREDIT * sum(idf[w] for w in (words & context) - present)
    # Adjacent pairs weigh extra: "hội chợ" together beats "hội" and "chợ" far apart.
    paired = sum((idf[a] + idf[b]) / 2 for a, b in pairs & _bigrams(tokens))
    return (matched + paired) / total


def best_sentence_match(
    question: str, text: str, stats: TermStats | None = None, *, context: str = ""
) -> float:
    """IDF-weighted share of the question found in the best-matching sentence of a text.

    Args:
        question: The question.
        text: A chunk text.
        stats: Word statistics of the index (uniform weights when None).
        context: Text around the sentences (title, headings), credited partly.

    Returns:
        0 when no sentence shares a content word; about 1 when one sentence holds all the
        question's words, more when their pairs are adjacent too.
    """
    query = content_tokens(question)
    words, pairs = set(query), _bigrams(query)
    idf = {w: (stats.idf(w) if stats else 1.0) for w in words}
    around = set(content_tokens(f"{context}\n{text}"))
    return max(
        (
            _score_sentence(content_tokens(s), words, pairs, idf, around)
            for s in split_sentences(text)
        ),
        default=0.0,
    )


def select_sentences(
    question: str,
    passages: Sequence[Passage],
    *,
    stats: TermStats | None = None,
    max_chars: int = MAX_ANSWER_CHARS,
) -> list[tuple[Passage, list[str]]]:
    """Picks the sentences that best answer the question from the top passages.

    Sentences of the best passages compete together: each is scored by the IDF-weighted
    share of the question's content words (and adjacent word pairs) it contains, with a
    small bonus for digits when the question asks "how many / which number / when" and a
    small penalty for lower-ranked passages. The best sentences are kept while they score
    at least half the best one, up to `MAX_SENTENCES` and `max_chars`. When no sentence
    shares a word with the question (e.g. an English question) the opening of the best
    passage is used.

    Args:
        question: The cleaned question.
        passages: Retrieved passages, best first.
        stats: Word statistics of the index (uniform weights when None).
        max_chars: Budget for the whole answer body.

    Returns:
        (passage, sentences) pairs, best passage first, sentences in document order.
    """
    query = content_tokens(question)
    words, pairs = set(query), _bigrams(query)
    idf = {w: (stats.idf(w) if stats else 1.0) for w in words}
    wants_number = _asks_quantity(question)
    top = list(passages[:MAX_SOURCE_PASSAGES])
    candidates: list[_Candidate] = []
    seen: set[str] = set()
    for rank, passage in enumerate(top):
        around = set(content_tokens(f"{_context_of(passage)}\n{passage.chunk.text}"))
        for position, sentence in enumerate(split_sentences(passage.chunk.text)):
            if sentence in seen or len(sentence.split()) < MIN_SENTENCE_WORDS:
                continue
            seen.add(sentence)
            score = _score_sentence(content_tokens(sentence), words, pairs, idf, around)
            if score <= 0:
                continue
            if wants_number and _DIGIT.search(sentence):
                score += 0.15
            score *= 1.0 - PASSAGE_RANK_DECAY * rank
            candidates.append(_Candidate(rank, position, sentence, score))
    chosen: list[_Candidate] = []
    if candidates:
        candidates.sort(key=lambda c: (-c.score, c.passage_rank, c.position))
        floor = RELATIVE_FLOOR * candidates[0].score
        used = 0
        for cand in candidates:
            if cand.score < floor or len(chosen) >= MAX_SENTENCES:
                break
            length = len(trim_sentence(cand.text)) + 1
            if chosen and used + length > max_chars:
                continue
            chosen.append(cand)
            used += length
    elif top:
        opening = split_sentences(top[0].chunk.text)[:2]
        chosen = [_Candidate(0, i, text, 0.0) for i, text in enumerate(opening)]
    result: list[tuple[Passage, list[str]]] = []
    for rank in sorted(
        {c.passage_rank for c in chosen},
        key=lambda r: min((-c.score, c.passage_rank) for c in chosen if c.passage_rank == r),
    ):
        mine = sorted((c for c in chosen if c.passage_rank == rank), key=lambda c: c.position)
        result.append((top[rank], [trim_sentence(c.text) for c in mine]))
    return result


def _context_of(passage: Passage) -> str:
    chunk = passage.chunk
    return " ".join([passage.doc.title, *chunk.heading_path, chunk.index_text])


def citation_for(passage: Passage) -> Citation:
    """The citation shown for a passage's document."""
    doc = passage.doc
    return Citation(
        title=doc.title, number=doc.number, issued=doc.issued, url=doc.url, doc_id=doc.doc_id
    )


def compose_answer(
    question: str,
    passages: Sequence[Passage],
    *,
    top_dense: float | None,
    threshold: float,
    stats: TermStats | None = None,
    dense_share: float = 0.5,
) -> Answer:
    """Builds the answer from retrieved passages, or abstains when they do not fit.

    Args:
        question: The cleaned question (see `prepare_question`).
        passages: Retrieved passages, best first.
        top_dense: Best dense cosine from the retriever (None in BM25-only mode).
        threshold: `Settings.abstain_threshold`.
        stats: Word statistics of the index, for sentence selection.
        dense_share: Weight of the dense cosine in the confidence (see `Evidence`).

    Returns:
        An `Answer`; `confident` is False with reason "no_match" when the bot abstains, and
        then its text quotes no passage.
    """
    evidence = gather_evidence(question, passages, top_dense=top_dense, dense_share=dense_share)
    if not passages or not is_confident(evidence, threshold=threshold):
        return Answer(
            question=question,
            text=NO_MATCH_MESSAGE,
            confident=False,
            passages=list(passages),
            reason="no_match",
        )
    selection = select_sentences(question, passages, stats=stats)
    paragraphs = [" ".join(sentences) for _, sentences in selection]
    citations: list[Citation] = []
    for passage, _ in selection:
        if all(c.doc_id != passage.doc.doc_id for c in citations):
            citations.append(citation_for(passage))
    return Answer(
        question=question,
        text="\n\n".join(paragraphs),
        confident=True,
        citations=citations,
        passages=list(passages),
    )


def refusal(question: str, reason: str) -> Answer:
    """The answer for a question that cannot be searched ("empty" or "too_long")."""
    text = EMPTY_MESSAGE if reason == "empty" else TOO_LONG_MESSAGE
    return Answer(question=question, text=text, confident=False, reason=reason)


def _starts_upper(piece: str) -> bool:
    stripped = piece.lstrip("\"“'(*_[-–—•> ")
    return stripped[:1].isupper()
