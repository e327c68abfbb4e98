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

from index.glossary import EnglishRendering, english_terms, synonyms_for
from index.legal import article_label
from index.schema import Answer, Citation, DocumentMeta, Passage
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
#: Passages whose retrieval score is below this share of the best one give no sentence:
#: a weakly related passage mixes unrelated facts into the answer.
PASSAGE_FLOOR = 0.6
#: A sentence whose folded word set overlaps a chosen one this much (Jaccard) repeats it.
DUPLICATE_JACCARD = 0.6
#: Bonus for a sentence holding what the question word asks for (a date, an amount, a body).
INTENT_BONUS = 0.25
#: Weight of the focus words (see `QueryTerms.focus`) found in a sentence's label, the part
#: before ":": "Hỗ trợ ứng dụng máy móc thiết bị: tối đa 50%" is about machinery,
#: "Mô hình trình diễn (gồm nhà xưởng, máy móc): tối đa 30%" only mentions it.
LABEL_WEIGHT = 0.5
#: Longest label; a ":" further into a sentence does not introduce its content.
LABEL_CHARS = 160
#: Share of a label sentence's score ("... mục tiêu cụ thể là:") given to the sentence
#: after it, which holds the content the label announces.
FOLLOWER_SHARE = 0.9
#: A passage whose section heading holds this share of a "what/which ... ?" question's
#: weight is the answer as a whole: its sentences are given in document order, first.
SECTION_MATCH = 0.6
#: How many sentences back a list item looks for the "...:" line that announces its list.
LEADER_REACH = 6
#: Score given to the sentences of such a section, above any ordinary match.
SECTION_SCORE = 10.0
#: IDF multiplier of the words naming the support asked about (see `QueryTerms.focus`).
FOCUS_BOOST = 2.0
#: Content words after "hỗ trợ" that name it.
FOCUS_WORDS = 4
#: Dense share of the confidence for English questions rendered through the glossary: the
#: e5 cosine of an English question against Vietnamese text is low even when on topic.
ENGLISH_DENSE_SHARE = 0.2

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
class QueryTerms:
    """The content words of a question, as matched against passages and sentences."""

    #: Distinct content words (folded).
    words: frozenset[str]
    #: Adjacent content-word pairs of the question (within one glossary term for English).
    pairs: frozenset[tuple[str, str]]
    #: Glossary rendering when the question is English about this domain.
    english: EnglishRendering | None = None
    #: (key words, phrasings as word lists) of the question's synonym entries.
    synonyms: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = ()
    #: Words naming what support is asked about ("hỗ trợ mua máy móc" -> máy, móc).
    focus: frozenset[str] = frozenset()

    def weights(self, stats: TermStats | None) -> dict[str, float]:
        """IDF weight of each word, raised for the focus words."""
        return {
            w: (stats.idf(w) if stats else 1.0) * (FOCUS_BOOST if w in self.focus else 1.0)
            for w in self.words
        }


def query_terms(question: str) -> QueryTerms:
    """Content words and word pairs of a question; English domain terms in Vietnamese.

    An English question about this domain ("trade fairs abroad") is matched through its
    glossary terms ("hội chợ triển lãm", "nước ngoài") plus any numbers it contains.

    Args:
        question: The cleaned question.

    Returns:
        The words, pairs, glossary rendering and synonym entries of the question.
    """
    rendering = english_terms(question)
    synonyms = tuple(
        (tuple(key.split()), tuple(tuple(content_tokens(alt)) for alt in alts))
        for key, alts in synonyms_for(question)
    )
    if rendering is None:
        tokens = content_tokens(question)
        return QueryTerms(
            frozenset(tokens), frozenset(_bigrams(tokens)), None, synonyms, _focus(tokens)
        )
    words: set[str] = {t for t in content_tokens(question) if t.isdigit()}
    pairs: set[tuple[str, str]] = set()
    for term in rendering.terms:
        tokens = content_tokens(term)
        words.update(tokens)
        pairs.update(_bigrams(tokens))
    return QueryTerms(frozenset(words), frozenset(pairs), rendering, synonyms)


def _focus(tokens: Sequence[str]) -> frozenset[str]:
    # In "Tôi có xưởng chế biến, có được hỗ trợ mua máy móc không?" the first clause is
    # background; what follows "hỗ trợ" is what the user asks about. Question words are
    # already gone from `tokens`, so the span runs to the end of the question.
    for i in range(len(tokens) - 1):
        if tokens[i] == "ho" and tokens[i + 1] == "tro":
            span = [t for t in tokens[i + 2 : i + 2 + FOCUS_WORDS] if not t.isdigit()]
            return frozenset(span) - {"ho", "tro", "khuyen", "cong"}
    return frozenset()


def _with_synonyms(tokens: list[str], terms: QueryTerms) -> list[str]:
    # A sentence that says "còn hạn chế" answers "khó khăn gì?": it is credited with the
    # question's words, as if it said them.
    if not terms.synonyms:
        return tokens
    joined = f" {' '.join(tokens)} "
    extra: list[str] = []
    for key, alts in terms.synonyms:
        if any(alt and f" {' '.join(alt)} " in joined for alt in alts):
            extra.extend(key)
    return tokens + extra if extra else tokens


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
    terms = query_terms(question)
    words = set(terms.words)
    if terms.english is not None:
        dense_share = min(dense_share, ENGLISH_DENSE_SHARE)
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
    pairs = set(terms.pairs)
    pair_weight = {pair: idf[pair[0]] + idf[pair[1]] for pair in pairs}
    pair_cov = (
        sum(pair_weight[pair] for pair in pairs & passage_pairs) / sum(pair_weight.values())
        if pairs
        else word_cov
    )
    if terms.english is not None:
        # English words the glossary does not know ("laptop") count against the match.
        word_cov *= terms.english.covered
        pair_cov *= terms.english.covered
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


Intent = str  # "quantity" | "date" | "contact"

# Question words (folded, space-padded) -> what the answer should contain.
_INTENT_CUES: dict[Intent, tuple[str, ...]] = {
    "quantity": (
        " bao nhieu ",
        " so hieu ",
        " ty le ",
        " muc ho tro ",
        " muc chi ",
        " toi da ",
        " so luong ",
        " bao lau ",
        " how many ",
        " how much ",
        " maximum ",
        " amount ",
        " percent",
    ),
    "date": (
        " bao gio ",
        " khi nao ",
        " ngay nao ",
        " nam nao ",
        " thang nao ",
        " thoi han ",
        " han chot ",
        " han cuoi ",
        " thoi gian nao ",
        " luc nao ",
        " when ",
        " deadline ",
        " what date ",
    ),
    "list": (" gi ", " nhung gi ", " gom ", " nhung nao ", " cac buoc "),
    "contact": (
        " o dau ",
        " lien he ",
        " co quan nao ",
        " noi nao ",
        " nop cho ai ",
        " hoi ai ",
        " tim ai ",
        " don vi nao ",
        " where ",
        " whom ",
        " contact ",
        " who ",
    ),
}
# "mấy" (how many) typed without accents is "may", which is also "máy" (machine).
_HOW_MANY = re.compile(r" may (?!moc|thiet|bay|tinh|nong|may|cat|ep|det|in )")
_DIGIT = re.compile(r"\d")
_AMOUNT = re.compile(
    r"\d\s*(?:%|phần trăm|triệu|tỷ|nghìn|ngàn|đồng|lao động|cơ sở|sản phẩm|mô hình|hội chợ"
    r"|hội nghị|doanh nghiệp|lượt|người|kỳ|chuyên đề|nhóm)|\d{1,3}(?:\.\d{3})+",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}/(?:19|20)\d\d\b|\bngày\s+\d|\btháng\s+\d|\bnăm\s+(?:19|20)\d\d"
    r"|\bhạn\b|\btrước ngày\b|\bquý\s+[IV\d]",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"Sở Công Thương|Trung tâm Khuyến công|Bộ Công Thương|UBND|Ủy ban nhân dân|Cục\s|"
    r"cơ quan|liên hệ|đầu mối|điện thoại|địa chỉ|website",
    re.IGNORECASE,
)


def question_intents(question: str) -> frozenset[Intent]:
    """What kind of fact a question asks for, from its question words.

    Args:
        question: The question, with or without diacritics, Vietnamese or English.

    Returns:
        A subset of {"quantity", "date", "contact"}: "bao nhiêu / mức / how much" want an
        amount, "bao giờ / thời hạn / when" a date, "ở đâu / liên hệ / where" a body.
    """
    folded = f" {' '.join(_TOKEN.findall(fold_diacritics(question).casefold()))} "
    found = {intent for intent, cues in _INTENT_CUES.items() if any(c in folded for c in cues)}
    if _HOW_MANY.search(folded):
        found.add("quantity")
    return frozenset(found)


def intent_bonus(sentence: str, intents: frozenset[Intent]) -> float:
    """Score bonus of a sentence that holds what the question word asks for.

    Args:
        sentence: A candidate sentence.
        intents: From `question_intents`.

    Returns:
        `INTENT_BONUS` per satisfied intent (an amount weighs a bit more than a bare
        digit), 0 when the question has no such intent.
    """
    bonus = 0.0
    if "quantity" in intents:
        if _AMOUNT.search(sentence):
            bonus += INTENT_BONUS
        elif _DIGIT.search(sentence):
            bonus += INTENT_BONUS * 0.5
    if "date" in intents and _DATE.search(sentence):
        bonus += INTENT_BONUS
    if "contact" in intents and _CONTACT.search(sentence):
        bonus += INTENT_BONUS
    return bonus


def _asks_quantity(question: str) -> bool:
    return "quantity" in question_intents(question)


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage_rank: int
    position: int
    text: str
    score: float
    tokens: frozenset[str]


def _score_sentence(
    tokens: Sequence[str],
    words: set[str] | frozenset[str],
    pairs: set[tuple[str, str]] | frozenset[tuple[str, str]],
    idf: dict[str, float],
    context: set[str] | frozenset[str] = frozenset(),
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

    English questions are matched through their glossary terms, and a sentence using a
    document phrasing of a question word ("hạn chế" for "khó khăn") is credited with it.

    Args:
        question: The question.
        text: A chunk text.
        stats: Word statistics of the index (uniform weights when None).
        context: Text around the sentences (title, headings), credited partly.

    Returns:
        0 when no sentence shares a content word; about 1 when one sentence holds all the
        question's words, more when their pairs are adjacent too.
    """
    terms = query_terms(question)
    idf = {w: (stats.idf(w) if stats else 1.0) for w in terms.words}
    around = set(_with_synonyms(content_tokens(f"{context}\n{text}"), terms))
    return max(
        (
            _score_sentence(
                _with_synonyms(content_tokens(s), terms), terms.words, terms.pairs, idf, around
            )
            for s in split_sentences(text)
        ),
        default=0.0,
    )


def _ends_line(sentence: str, text: str) -> bool:
    tail = sentence[-30:]
    return f"{tail}\n" in unicodedata.normalize("NFC", text).replace("\r", "")


def _announces_more(sentence: str) -> bool:
    return sentence.endswith((":", ";"))


_PARENTHESES = re.compile(r"\([^()]*\)")


def label_tokens(sentence: str) -> list[str]:
    """Content words of what a "label: content" sentence is about.

    Parenthesised asides are skipped, so "Mô hình trình diễn (gồm nhà xưởng, máy móc): tối
    đa 30%" is labelled "mô hình trình diễn".

    Args:
        sentence: A sentence.

    Returns:
        Folded content words of the label; empty when the sentence has no label.
    """
    head, colon, rest = sentence.partition(":")
    if not colon or not rest.strip() or len(head) > LABEL_CHARS:
        return []
    return content_tokens(_PARENTHESES.sub(" ", head))


def _label_score(
    sentence: str, words: frozenset[str], idf: dict[str, float], terms: QueryTerms
) -> float:
    # Only the words naming the support asked about count: other words of the question
    # match labels by accident once folded ("nghệ nhân" and "đào tạo nghề" share "nghe").
    total = sum(idf[w] for w in words)
    if total <= 0 or not terms.focus:
        return 0.0
    present = terms.focus & words & set(label_tokens(sentence))
    return LABEL_WEIGHT * sum(idf[w] for w in present) / total


def _jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    union = len(left | right)
    return len(left & right) / union if union else 0.0


def is_near_duplicate(
    tokens: frozenset[str],
    chosen: Iterable[frozenset[str]],
    *,
    threshold: float = DUPLICATE_JACCARD,
) -> bool:
    """Tells whether a sentence repeats an already chosen one.

    Args:
        tokens: Folded content words of the candidate sentence.
        chosen: Folded content words of each sentence already in the answer.
        threshold: Jaccard overlap from which two sentences count as the same fact.

    Returns:
        True when the overlap with any chosen sentence reaches the threshold.
    """
    return any(_jaccard(tokens, other) >= threshold for other in chosen)


def select_sentences(
    question: str,
    passages: Sequence[Passage],
    *,
    stats: TermStats | None = None,
    max_chars: int = MAX_ANSWER_CHARS,
) -> list[tuple[Passage, list[str]]]:
    """Picks the sentences that best answer the question from the top passages.

    Sentences of the best passages compete together: each is scored by the IDF-weighted
    share of the question's content words (and adjacent word pairs) it contains, plus a
    small bonus when it holds what the question word asks for (an amount for "bao nhiêu",
    a date for "bao giờ", a body for "ở đâu"), with a small penalty for lower-ranked
    passages. Passages scoring well below the best one are left out; a sentence is kept
    while it scores at least `RELATIVE_FLOOR` of the best one and does not repeat a chosen
    sentence, up to `MAX_SENTENCES` and `max_chars`. A chosen sentence ending in ":" or ";"
    brings the sentence after it. When the best passage's section heading matches a
    "gì / gồm những gì" question, that section is given first, in document order. When no
    sentence shares a word with the question the opening of the best passage is used.

    Args:
        question: The cleaned question.
        passages: Retrieved passages, best first.
        stats: Word statistics of the index (uniform weights when None).
        max_chars: Budget for the whole answer body.

    Returns:
        (passage, sentences) groups in relevance order, best sentence first; consecutive
        sentences of one passage share a group.
    """
    terms = query_terms(question)
    intents = question_intents(question)
    words, pairs = terms.words, terms.pairs
    idf = terms.weights(stats)
    top = list(passages[:MAX_SOURCE_PASSAGES])
    best_score = max((p.score for p in top), default=0.0)
    candidates: list[_Candidate] = []
    # Only a question asking "what / which" alone: "bao nhiêu" or "bao giờ" want one fact.
    asks_list = intents == {"list"}
    section = 0  # sentence count of the passage when it answers as a whole
    # (passage rank, position) of a sentence ending in ":" or ";" -> the sentence after it.
    followers: dict[tuple[int, int], str] = {}
    # (passage rank, position) of a list item -> (position, text) of the "...:" line above.
    leaders: dict[tuple[int, int], tuple[int, str]] = {}
    seen: set[str] = set()
    for rank, passage in enumerate(top):
        if best_score > 0 and passage.score < PASSAGE_FLOOR * best_score:
            continue
        around = set(
            _with_synonyms(content_tokens(f"{_context_of(passage)}\n{passage.chunk.text}"), terms)
        )
        decay = 1.0 - PASSAGE_RANK_DECAY * rank
        sentences = split_sentences(passage.chunk.text)
        section = 0
        if rank == 0 and asks_list and _heading_share(passage, words, idf) >= SECTION_MATCH:
            section = len(sentences)
        leader: tuple[int, str] | None = None  # the last "...:" sentence seen in the passage
        for position, sentence in enumerate(sentences):
            if _announces_more(sentence) and position + 1 < len(sentences):
                followers[(rank, position)] = sentences[position + 1]
            if leader is not None and 0 < position - leader[0] <= LEADER_REACH:
                leaders[(rank, position)] = leader
            if position and sentences[position - 1].endswith(";") and not _starts_upper(sentence):
                # "...; riêng cơ sở ..." continues a sentence: its first clause leads it.
                leaders[(rank, position)] = (position - 1, sentences[position - 1])
            if sentence.endswith(":") and _ends_line(sentence, passage.chunk.text):
                # Only a line of its own announces a list; "Hạn đăng ký: Sở ... gửi" does not.
                leader = (position, sentence)
            if sentence in seen or len(sentence.split()) < MIN_SENTENCE_WORDS:
                continue
            seen.add(sentence)
            words_of = content_tokens(sentence)
            score = _score_sentence(_with_synonyms(words_of, terms), words, pairs, idf, around)
            if score <= 0:
                continue
            score += _label_score(sentence, words, idf, terms)
            score += intent_bonus(sentence, intents)
            score *= decay
            if section:
                # The section answers as a whole: keep its order, ahead of other passages.
                score = SECTION_SCORE + (section - position) / section
            candidates.append(_Candidate(rank, position, sentence, score, frozenset(words_of)))
    chosen: list[_Candidate] = []
    if candidates:
        candidates.sort(key=lambda c: (-c.score, c.passage_rank, c.position))
        floor = RELATIVE_FLOOR * candidates[0].score
        used = 0
        picked = 0
        # Word sets of the facts already stated: a sentence plus its follower is one fact.
        stated: list[frozenset[str]] = []
        for cand in candidates:
            if cand.score < floor or picked >= MAX_SENTENCES:
                break
            if cand.text in {c.text for c in chosen} or is_near_duplicate(cand.tokens, stated):
                continue
            length = len(trim_sentence(cand.text)) + 1
            if chosen and used + length > max_chars:
                continue
            # A list item ("Nghệ nhân nhân dân, nghệ nhân ưu tú.") means little without the
            # line announcing the list ("Nghị định 235 mở rộng đối tượng hỗ trợ:").
            lead = leaders.get((cand.passage_rank, cand.position))
            if lead is not None and lead[1] not in {c.text for c in chosen}:
                lead_length = len(trim_sentence(lead[1])) + 1
                lead_tokens = frozenset(content_tokens(lead[1]))
                if used + length + lead_length <= max_chars and not is_near_duplicate(
                    lead_tokens, stated
                ):
                    chosen.append(
                        _Candidate(cand.passage_rank, lead[0], lead[1], cand.score, lead_tokens)
                    )
                    stated.append(lead_tokens)
                    used += lead_length
            chosen.append(cand)
            stated.append(cand.tokens)
            used += length
            picked += 1
            # "Mục tiêu cụ thể là:" says nothing without what follows; a clause ending in
            # ";" continues in the next one. The follower rides along with its sentence.
            follower = followers.get((cand.passage_rank, cand.position))
            if follower is None or follower in {c.text for c in chosen}:
                continue
            tokens = frozenset(content_tokens(follower))
            length = len(trim_sentence(follower)) + 1
            if used + length <= max_chars and not is_near_duplicate(tokens, stated):
                chosen.append(
                    _Candidate(cand.passage_rank, cand.position + 1, follower, cand.score, tokens)
                )
                stated[-1] = stated[-1] | tokens
                used += length
    elif top:
        opening = split_sentences(top[0].chunk.text)[:2]
        chosen = [_Candidate(0, i, text, 0.0, frozenset()) for i, text in enumerate(opening)]
    result: list[tuple[Passage, list[str]]] = []
    previous: _Candidate | None = None
    for cand in chosen:
        # Sentences of one passage share a paragraph when joining them cannot blur where
        # one ends: the next is the one after it in the text, or starts a new sentence.
        same = previous is not None and previous.passage_rank == cand.passage_rank
        if (
            same
            and previous is not None
            and (cand.position == previous.position + 1 or _starts_upper(cand.text))
        ):
            result[-1][1].append(trim_sentence(cand.text))
        else:
            result.append((top[cand.passage_rank], [trim_sentence(cand.text)]))
        previous = cand
    return result


def _heading_share(passage: Passage, words: frozenset[str], idf: dict[str, float]) -> float:
    total = sum(idf[w] for w in words)
    heading = set(content_tokens(" ".join(passage.chunk.heading_path)))
    return sum(idf[w] for w in words & heading) / total if total > 0 else 0.0


def _context_of(passage: Passage) -> str:
    chunk = passage.chunk
    doc = passage.doc
    return " ".join([doc.title, doc.province or "", *chunk.heading_path, chunk.index_text])


def document_citation(doc: DocumentMeta, *, article: str | None = None) -> Citation:
    """The citation of a document (and optionally one of its articles), with its status."""
    return Citation(
        title=doc.title,
        number=doc.number,
        issued=doc.issued,
        url=doc.url,
        doc_id=doc.doc_id,
        article=article,
        doc_type=doc.doc_type,
        status=doc.status,
        amended_by=doc.amended_by,
        superseded_by=doc.superseded_by,
        expired_on=doc.expired_on,
    )


def citation_for(passage: Passage) -> Citation:
    """The citation shown for a passage: its article ("Điều 5 khoản 1"), document and status."""
    return document_citation(passage.doc, article=article_label(passage.chunk.path))


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
            outcome="refused",
            confidence=evidence.confidence,
        )
    selection = select_sentences(question, passages, stats=stats)
    paragraphs = [" ".join(sentences) for _, sentences in selection]
    citations: list[Citation] = []
    for passage, _ in selection:
        # One citation per article: two clauses of one decree are two sources to check.
        citation = citation_for(passage)
        if all((c.doc_id, c.article) != (citation.doc_id, citation.article) for c in citations):
            citations.append(citation)
    return Answer(
        question=question,
        text="\n\n".join(paragraphs),
        confident=True,
        citations=citations,
        passages=list(passages),
        outcome="answered",
        confidence=evidence.confidence,
    )


def refusal(question: str, reason: str) -> Answer:
    """The answer for a question that cannot be searched ("empty" or "too_long")."""
    text = EMPTY_MESSAGE if reason == "empty" else TOO_LONG_MESSAGE
    return Answer(question=question, text=text, confident=False, reason=reason, outcome="invalid")


def _starts_upper(piece: str) -> bool:
    stripped = piece.lstrip("\"“'(*_[-–—•> ")
    return stripped[:1].isupper()
