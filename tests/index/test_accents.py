"""Guessing diacritics from the index's own words (index/accents.py)."""

from __future__ import annotations

from pathlib import Path

from index.accents import AccentRestorer
from index.answer_build import fit_restorer
from index.lexicon import load_lexicon
from index.question import analyse
from index.settings import Settings
from index.textnorm import fold_diacritics

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"

DOCUMENTS = [
    "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến: tối đa 300 triệu đồng/cơ sở.",
    "Máy móc, thiết bị được hỗ trợ phải là máy mới.",
    "Tổ chức hội chợ triển lãm hàng công nghiệp nông thôn.",
    "Mô hình trình diễn kỹ thuật tại cơ sở sản xuất.",
    "Ghi chú (khuyen-cong-2021, slug): khong co dau",
]
QUESTIONS = ["Mỗi địa bàn được làm mấy mô hình trình diễn?", "Hỗ trợ bao nhiêu?"]


def test_restores_domain_words_from_their_neighbours() -> None:
    restorer = AccentRestorer.fit(DOCUMENTS, QUESTIONS)
    assert restorer.restore("ho tro may moc bao nhieu") == "hỗ trợ máy móc bao nhiêu"


def test_question_words_come_from_the_examples() -> None:
    # "mấy" never occurs in the documents, where "máy" is frequent: the examples teach it.
    restorer = AccentRestorer.fit(DOCUMENTS, QUESTIONS)
    assert restorer.restore("duoc lam may mo hinh trinh dien") == "được làm mấy mô hình trình diễn"


def test_keeps_unknown_words_digits_punctuation_and_capitals() -> None:
    restorer = AccentRestorer.fit(DOCUMENTS, QUESTIONS)
    restored = restorer.restore("Ho tro xyz 300 trieu, OK?")
    assert restored == "Hỗ trợ xyz 300 triệu, OK?"
    assert fold_diacritics(restored) == "Ho tro xyz 300 trieu, OK?"


def test_unaccented_text_in_documents_is_not_learnt() -> None:
    # "khong co dau" and the slug have no diacritic at all: they must not outvote "không".
    restorer = AccentRestorer.fit([*DOCUMENTS, "Không có dấu."], [])
    assert restorer.restore("khong co dau") == "không có dấu"


def test_empty_restorer_returns_the_text() -> None:
    assert AccentRestorer.fit([], []).restore("ho tro") == "ho tro"


def test_analyse_embeds_the_restored_question(tmp_path: Path) -> None:
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path)
    restorer = fit_restorer(DOCUMENTS, settings)
    assert restorer is not None
    query = analyse(
        "ho tro may moc bao nhieu", load_lexicon(KNOWLEDGE),
        restore_accents=True, restorer=restorer.restore,
    )  # fmt: skip
    assert query.accentless
    assert query.dense_text == "hỗ trợ máy móc bao nhiêu"
    # Accented questions are embedded as typed.
    typed = analyse("Hỗ trợ máy mọc?", load_lexicon(KNOWLEDGE), restore_accents=True,
                    restorer=restorer.restore)  # fmt: skip
    assert typed.dense_text == "Hỗ trợ máy mọc?"


def test_province_names_are_known_without_being_in_the_documents(tmp_path: Path) -> None:
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path)
    restorer = fit_restorer(DOCUMENTS, settings)
    assert restorer is not None
    assert restorer.restore("co so o ha noi") == "cơ sở ở hà nội"


def test_given_questions_replace_those_of_intents_yaml(tmp_path: Path) -> None:
    # Cross-validation (scripts.calibration) fits on its training folds only; the province
    # names stay, as in the build.
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path)
    restorer = fit_restorer(DOCUMENTS, settings, questions=["Xưởng gỗ được mấy phần trăm?"])
    assert restorer is not None
    assert restorer.restore("xuong go duoc may phan tram") == "xưởng gỗ được mấy phần trăm"
    assert restorer.restore("co so ha noi") == "cơ sở hà nội"
    bare = fit_restorer(DOCUMENTS, settings, questions=[])
    assert bare is not None and bare.restore("xuong go") == "xuong go"


def test_vidiac_setting_gives_no_restorer(tmp_path: Path) -> None:
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path, diacritic_restorer="vidiac")
    assert fit_restorer(DOCUMENTS, settings) is None
    off = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path, restore_diacritics=False)
    assert fit_restorer(DOCUMENTS, off) is None


def test_saved_restorer_restores_as_the_fit(tmp_path: Path) -> None:
    # Ties between spellings are decided by insertion order: the file must keep it.
    fitted = AccentRestorer.fit([*DOCUMENTS, "Mây trên núi, máy dưới xưởng."], QUESTIONS)
    fitted.save(tmp_path / "accents.json")
    loaded = AccentRestorer.load(tmp_path / "accents.json")
    assert len(loaded) == len(fitted)
    for typed in ("ho tro may moc bao nhieu", "duoc lam may mo hinh trinh dien", "may tren nui"):
        assert loaded.restore(typed) == fitted.restore(typed)
