"""The English glossary and document synonyms, read from knowledge/glossary.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.glossary import (
    GLOSSARY_FILE,
    SEARCH_COVERAGE,
    SHIPPED_GLOSSARY,
    Glossary,
    GlossaryError,
    load_glossary,
    shipped_glossary,
)
from index.lexicon import load_lexicon
from index.question import analyse, lexical_query

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
GLOSSARY = shipped_glossary()


def test_english_question_gets_vietnamese_domain_terms() -> None:
    rendering = GLOSSARY.english_terms("What support is there for trade fairs abroad?")
    assert rendering is not None
    assert "hội chợ triển lãm" in rendering.terms and "nước ngoài" in rendering.terms
    assert rendering.covered == 1.0
    # The longest key wins: "vocational training" is one term, not "đào tạo" alone.
    training = GLOSSARY.english_terms("Is there vocational training for workers?")
    assert training is not None and "đào tạo nghề" in training.terms


def test_generic_words_alone_do_not_make_a_question_on_topic() -> None:
    rendering = GLOSSARY.render_english("How much is a good laptop?")
    assert rendering is not None and rendering.keys == ("how much",)
    assert not rendering.on_topic
    assert GLOSSARY.english_terms("How much is a good laptop?") is None


@pytest.mark.parametrize(
    "question",
    [
        "Recommend a good laptop for programming",
        "ho kinh doanh co duoc ho tro khuyen cong khong",
        "muc ho tro mo hinh trinh dien toi da bao nhieu",
        "Quang Nam to chuc bao nhieu hoi cho cap tinh",
        "Hộ kinh doanh có được hỗ trợ không?",
    ],
)
def test_vietnamese_questions_are_not_rendered(question: str) -> None:
    assert GLOSSARY.render_english(question) is None
    assert lexical_query(question) == question


def test_glossary_values_are_vietnamese_and_keys_lower_case() -> None:
    # The shipped file loaded whole (admins add entries, so there is no upper bound).
    assert len(GLOSSARY.english) >= 200
    for key, value in GLOSSARY.english.items():
        assert key == key.casefold() and value.strip()
    assert GLOSSARY.generic < set(GLOSSARY.english)
    assert {"the", "what", "how"} <= GLOSSARY.stopwords


def test_lexical_query_appends_terms_and_synonyms() -> None:
    english = lexical_query("How much can I get for machinery?")
    assert english.startswith("How much can I get for machinery?")
    assert "máy móc thiết bị" in english
    vietnamese = lexical_query("Khuyến công đang gặp khó khăn gì?")
    assert "hạn chế" in vietnamese
    assert GLOSSARY.synonym_text("kho khan gi") == GLOSSARY.synonym_text("khó khăn gì")


def test_english_question_is_read_through_its_glossary_terms() -> None:
    lexicon = load_lexicon(REPO_KNOWLEDGE)
    query = analyse("What did the national programme achieve in vocational training?", lexicon)
    assert query.english is not None
    assert {"dao", "tao", "nghe"} <= set(query.tokens)
    assert "vocational" not in query.tokens
    assert query.dense_text.endswith(f"({query.english.text})")


def test_stopwords_are_told_before_the_plural_stemming() -> None:
    # The stemmer reads "does" as "doe": a stopword must still be one.
    assert GLOSSARY.is_stopword("does")
    rendering = GLOSSARY.render_english("What does the trade fair support cover")
    assert rendering is not None
    # "cover" is the only content word without a key.
    assert rendering.covered == pytest.approx(3 / 4)


def test_everyday_english_words_of_legal_questions_are_rendered() -> None:
    rendering = GLOSSARY.render_english(
        "Where does the industrial promotion money come from and who decides what to spend "
        "on each duty?"
    )
    assert rendering is not None
    assert {"nguồn", "quyết định", "chi", "nhiệm vụ"} <= set(rendering.terms)


def test_generic_terms_stand_for_the_english_words_but_not_for_the_scope() -> None:
    lexicon = load_lexicon(REPO_KNOWLEDGE)
    query = analyse("How often is the rural product selection organised?", lexicon)
    # Only generic keys match: not known to be on topic, so not embedded with them; they
    # cover the whole question, so BM25 searches them (its English words match nothing).
    assert query.english is None
    assert "nông thôn" not in query.dense_text and "nông thôn" in query.lexical_text
    # The unit scorer matches the Vietnamese terms too, not only the English words (which
    # match "One Commune One Product" and little else).
    assert {"nong", "thon", "san", "pham"} <= set(query.tokens)
    assert {"nong", "thon", "san", "pham"} <= set(query.focus_tokens)
    # The classifier's coverage still reads the question's own (unknown) words.
    assert "selection" in query.scope_tokens and "nong" not in query.scope_tokens


def test_generic_renderings_are_searched_only_when_they_cover_the_question() -> None:
    laptop = "How much is a good laptop?"
    assert GLOSSARY.search_terms(laptop) is None and lexical_query(laptop) == laptop
    council = GLOSSARY.search_terms("Who chairs the national selection council?")
    assert council is not None and council.covered >= SEARCH_COVERAGE
    assert "Hội đồng" in council.terms and not council.on_topic
    assert "Hội đồng" in lexical_query("Who chairs the national selection council?")
    on_topic = GLOSSARY.search_terms("Is there support for a demonstration model?")
    assert on_topic is not None and on_topic.on_topic


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("Who is registering the products?", "đăng ký"),
        ("Which fairs are organised by the province?", "tổ chức"),
        ("What happens if a facility violates the rules?", "vi phạm"),
        ("Which projects were appraised last year?", "thẩm định"),
        ("Can a certificate be revoked?", "thu hồi"),
    ],
)
def test_inflected_words_find_the_key_typed_in_another_form(question: str, term: str) -> None:
    rendering = GLOSSARY.render_english(question)
    assert rendering is not None and term in rendering.terms


def test_an_exact_key_wins_over_a_key_of_the_same_lemma() -> None:
    # "processing" and "process" reduce alike; each keeps its own key.
    process = GLOSSARY.render_english("What is the process?")
    processing = GLOSSARY.render_english("Is food processing supported?")
    assert process is not None and process.terms == ("quy trình",)
    assert processing is not None and "chế biến" in processing.terms


def test_on_topic_and_vietnamese_questions_are_covered_by_their_tokens() -> None:
    lexicon = load_lexicon(REPO_KNOWLEDGE)
    for question in ("How much support is there for trade fairs abroad?", "ho tro may moc bn"):
        query = analyse(question, lexicon)
        assert query.scope_tokens == query.tokens


def _knowledge_with(tmp_path: Path, extra: str) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    text = SHIPPED_GLOSSARY.read_text(encoding="utf-8")
    (knowledge / GLOSSARY_FILE).write_text(text.replace("english:\n", f"english:\n{extra}", 1))
    return knowledge


def test_an_entry_added_by_an_admin_takes_effect(tmp_path: Path) -> None:
    question = "Is there support for a tea drying kiln?"
    # Only the generic "support" matches: not known to be about industrial promotion.
    assert analyse(question, load_lexicon(REPO_KNOWLEDGE)).english is None
    knowledge = _knowledge_with(tmp_path, "  drying kiln: lò sấy\n")

    query = analyse(question, load_lexicon(knowledge))

    assert query.english is not None and query.english.terms == ("hỗ trợ", "lò sấy")
    assert "lò sấy" in query.lexical_text and query.dense_text.endswith("(hỗ trợ lò sấy)")
    assert {"lo", "say"} <= set(query.tokens)
    assert "lò sấy" in lexical_query(question, load_glossary(knowledge))


def test_a_synonym_added_by_an_admin_is_searched(tmp_path: Path) -> None:
    knowledge = _knowledge_with(tmp_path, "")
    path = knowledge / GLOSSARY_FILE
    path.write_text(
        path.read_text(encoding="utf-8") + "  thời hạn: [trong vòng, chậm nhất]\n",
        encoding="utf-8",
    )
    # Keys are compared folded, so one typed with accents matches either spelling.
    assert load_glossary(knowledge).synonym_text("thoi han nop ho so") == (
        "giấy tờ thành phần trong vòng chậm nhất"
    )


def test_a_knowledge_dir_without_the_file_uses_the_shipped_one(tmp_path: Path) -> None:
    assert load_glossary(tmp_path).english == GLOSSARY.english


def test_an_empty_file_turns_the_glossary_off(tmp_path: Path) -> None:
    (tmp_path / GLOSSARY_FILE).write_text("# nothing\n", encoding="utf-8")
    empty = load_glossary(tmp_path)
    assert empty == Glossary()
    assert empty.english_terms("What support is there for trade fairs abroad?") is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("english: [a, b\n", "invalid YAML at line"),
        ("- trade fair\n", "must be a mapping"),
        ("english:\n  trade fair:\n", "'trade fair' of `english` needs a Vietnamese text"),
        ("english:\n  trade fair: hội chợ\ngeneric: [fair]\n", "generic key(s) fair"),
        ("englsh:\n  trade fair: hội chợ\n", "unknown section(s) englsh"),
        ("synonyms:\n  kho khan: hạn chế\n", "`synonyms: kho khan` must be a list"),
        ("english_stopwords: [a, the]\n", "words separated by spaces"),
    ],
)
def test_a_malformed_file_is_a_clear_error(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / GLOSSARY_FILE).write_text(content, encoding="utf-8")

    with pytest.raises(GlossaryError) as caught:
        load_lexicon(tmp_path)

    message = str(caught.value)
    assert str(tmp_path / GLOSSARY_FILE) in message and problem in message
    assert "re-index" in message


def test_the_shipped_file_is_the_repository_one() -> None:
    assert SHIPPED_GLOSSARY == REPO_KNOWLEDGE / GLOSSARY_FILE
    assert load_glossary(REPO_KNOWLEDGE).english == GLOSSARY.english


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("Can the money pay for television and radio programmes?", {"chi", "truyền hình"}),
        ("Who keeps the invoices for the treasury?", {"hóa đơn", "Kho bạc"}),
        ("Does the centre keep an electronic database?", {"điện tử", "cơ sở dữ liệu"}),
    ],
)
def test_everyday_administrative_english_is_rendered(question: str, terms: set[str]) -> None:
    rendering = GLOSSARY.render_english(question)
    assert rendering is not None and terms <= set(rendering.terms)
    # Everyday words are generic: alone they never make a question on topic.
    assert not (set(rendering.keys) & {"invoice", "treasury", "database"}) - GLOSSARY.generic
