"""Follow-up questions are rewritten into self-contained ones; other questions pass through."""

from __future__ import annotations

import pytest

from index.followup import is_followup, rewrite_followup

PREVIOUS = "Mức hỗ trợ khuyến công ở Đà Nẵng là bao nhiêu?"


@pytest.mark.parametrize(
    "question",
    [
        "còn ở Quảng Nam thì sao?",
        "con o quang nam thi sao",
        "Còn Quảng Nam?",
        "what about Quảng Nam?",
        "How about Quang Nam",
        "Quảng Nam thì thế nào?",
        "Quảng Nam?",
    ],
)
def test_province_follow_up_replaces_the_previous_province(question: str) -> None:
    assert (
        rewrite_followup(question, PREVIOUS) == "Mức hỗ trợ khuyến công ở Quảng Nam là bao nhiêu?"
    )


def test_entity_follow_up_replaces_the_previous_entity() -> None:
    previous = "Doanh nghiệp nhỏ và vừa có được hỗ trợ khuyến công không?"

    rewritten = rewrite_followup("thế còn hộ kinh doanh?", previous)

    assert rewritten == "Hộ kinh doanh có được hỗ trợ khuyến công không?"


def test_follow_up_without_replaceable_part_is_appended_without_filler() -> None:
    previous = "Hộ kinh doanh có được hỗ trợ khuyến công không?"

    rewritten = rewrite_followup("vậy mức hỗ trợ bao nhiêu?", previous)

    assert rewritten.startswith("Hộ kinh doanh có được hỗ trợ khuyến công không")
    assert rewritten.endswith("mức hỗ trợ bao nhiêu?")
    assert "vậy" not in rewritten.lower()


def test_entity_follow_up_is_appended_when_the_previous_names_none() -> None:
    rewritten = rewrite_followup("thế còn hộ kinh doanh?", PREVIOUS)

    assert rewritten.startswith("Mức hỗ trợ khuyến công ở Đà Nẵng là bao nhiêu")
    assert "hộ kinh doanh" in rewritten
    assert "thế còn" not in rewritten


def test_province_is_added_with_diacritics_when_the_previous_names_none() -> None:
    rewritten = rewrite_followup("con o quang nam thi sao", "Hồ sơ đề nghị hỗ trợ gồm những gì?")

    assert rewritten == "Hồ sơ đề nghị hỗ trợ gồm những gì, ở Quảng Nam?"


@pytest.mark.parametrize(
    "question",
    [
        "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?",
        "Thế nào là cơ sở công nghiệp nông thôn?",
        "Thủ tục đăng ký như thế nào?",
        "Mức hỗ trợ xây dựng mô hình trình diễn là bao nhiêu?",
        "Xin chào",
    ],
)
def test_self_contained_questions_are_unchanged(question: str) -> None:
    assert not is_followup(question)
    assert rewrite_followup(question, PREVIOUS) == question


@pytest.mark.parametrize("previous", [None, "", "   "])
def test_without_previous_question_the_question_is_unchanged(previous: str | None) -> None:
    assert rewrite_followup("còn ở Quảng Nam thì sao?", previous) == "còn ở Quảng Nam thì sao?"


def test_long_message_starting_with_con_is_self_contained() -> None:
    question = (
        "Còn bao lâu nữa thì hết hạn nộp hồ sơ đề nghị hỗ trợ kinh phí khuyến công "
        "cho năm sau của cơ sở chúng tôi ở huyện miền núi?"
    )

    assert rewrite_followup(question, PREVIOUS) == question


def test_empty_question_is_unchanged() -> None:
    assert rewrite_followup("", PREVIOUS) == ""
    assert not is_followup("   ")


@pytest.mark.parametrize(
    "question",
    [
        "Giá vàng hôm nay?",
        "thời tiết thế nào?",
        "Tỷ giá đô la Mỹ hôm nay?",
        # "vay" is "to borrow" as typed, "vậy" only with its marks; "the" is English's article.
        "vay von ngan hang lai suat bao nhieu",
        "Vay vốn ngân hàng lãi suất bao nhiêu",
        "The loan interest rate for a small workshop",
    ],
)
def test_new_unrelated_questions_are_not_followups(question: str) -> None:
    previous = "Tôi có xưởng chế biến ở nông thôn, có được hỗ trợ mua máy móc không?"
    assert not is_followup(question)
    assert rewrite_followup(question, previous) == question


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        (
            "còn tỉnh Đắk Nông thì sao?",
            "Quảng Nam tổ chức bao nhiêu hội chợ?",
            "Đắk Nông tổ chức bao nhiêu hội chợ?",
        ),
        (
            "thế còn máy đóng gói?",
            "Mức hỗ trợ thiết kế bao bì sản phẩm tối đa bao nhiêu?",
            "Mức hỗ trợ máy đóng gói tối đa bao nhiêu?",
        ),
        (
            "con dak nong thi sao",
            "Tổng kinh phí khuyến công của Quảng Nam là bao nhiêu?",
            "Tổng kinh phí khuyến công của Đắk Nông là bao nhiêu?",
        ),
    ],
)
def test_follow_up_replaces_the_province_or_item_instead_of_appending(
    question: str, previous: str, expected: str
) -> None:
    assert rewrite_followup(question, previous) == expected


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        (
            "còn giai đoạn 2016-2020?",
            "Tổng kinh phí khuyến công của Quảng Nam giai đoạn 2021-2025 là bao nhiêu?",
            "Tổng kinh phí khuyến công của Quảng Nam giai đoạn 2016-2020 là bao nhiêu?",
        ),
        (
            "còn năm 2022?",
            "Bình Định thực hiện bao nhiêu đề án khuyến công trong năm 2021?",
            "Bình Định thực hiện bao nhiêu đề án khuyến công trong năm 2022?",
        ),
        (
            "còn Nghị định 235/2025 thì sao?",
            "Theo Nghị định 45/2012/NĐ-CP, mức hỗ trợ đào tạo nghề là bao nhiêu?",
            "Theo Nghị định 235/2025, mức hỗ trợ đào tạo nghề là bao nhiêu?",
        ),
        (
            "còn Đắk Nông giai đoạn 2016-2020 thì sao?",
            "Tổng kinh phí khuyến công của Quảng Nam giai đoạn 2021-2025 là bao nhiêu?",
            "Tổng kinh phí khuyến công của Đắk Nông giai đoạn 2016-2020 là bao nhiêu?",
        ),
    ],
)
def test_follow_up_replaces_the_document_or_year_instead_of_appending(
    question: str, previous: str, expected: str
) -> None:
    assert rewrite_followup(question, previous) == expected


def test_year_of_a_document_number_is_not_replaced_as_a_year() -> None:
    previous = "Nghị định 45/2012 có hiệu lực từ ngày nào?"

    rewritten = rewrite_followup("còn năm 2025?", previous)

    assert rewritten.startswith("Nghị định 45/2012 có hiệu lực từ ngày nào")
    assert rewritten.endswith("năm 2025?")


@pytest.mark.parametrize(
    "question", ["vậy Quảng Nam thì sao?", "Vậy Quảng Nam?", "vay Quang Nam thi sao", "thế Quảng Nam?"]
)
def test_marked_openers_and_closers_still_make_follow_ups(question: str) -> None:
    assert is_followup(question)
    assert rewrite_followup(question, PREVIOUS) == "Mức hỗ trợ khuyến công ở Quảng Nam là bao nhiêu?"
