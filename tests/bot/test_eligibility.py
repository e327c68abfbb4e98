"""/kiemtra through the real Application: steps, back, "Không rõ", multi-select, result."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from index.criteria import Criteria, load_criteria
from tests.bot.conftest import OWNER_ID

REPO_ROOT = Path(__file__).resolve().parents[2]


def last_callback_data(sent) -> list[str]:
    """Returns the callback data of the last call that carried inline buttons."""
    for call in reversed(sent):
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return [b.get("callback_data") for row in markup["inline_keyboard"] for b in row]
    return []


@pytest.fixture
def criteria() -> Criteria:
    return load_criteria(REPO_ROOT / "knowledge" / "criteria.yaml")


def index_of(options: list, option_id: str) -> int:
    return next(i for i, option in enumerate(options) if option.id == option_id)


def data_for(criteria: Criteria, step: str, option_id: str) -> str:
    lists = {
        "type": criteria.beneficiary_types,
        "area": criteria.area_rules,
        "sector": criteria.sectors,
        "support": criteria.support_items,
        "province": criteria.provinces,
    }
    return f"elig:{step}:{index_of(lists[step], option_id)}"


@pytest.fixture
def press(app, make_callback_update):
    async def do(data: str, user_id: int = OWNER_ID) -> None:
        await app.process_update(make_callback_update(data, user_id=user_id))

    return do


async def walk(app, press, make_command_update, criteria, *, area: str, support: list[str]):
    await app.process_update(make_command_update("/kiemtra"))
    await press(data_for(criteria, "type", "ho_kinh_doanh"))
    await press(data_for(criteria, "area", area))
    await press(data_for(criteria, "sector", "che_bien_nong_lam_thuy_san"))
    for item in support:
        await press(data_for(criteria, "support", item))
    await press("elig:support:done")
    await press(data_for(criteria, "province", "quang_nam"))


async def test_full_check_with_back_and_multi_select(
    app, sent, press, make_command_update, criteria
) -> None:
    await app.process_update(make_command_update("/kiemtra"))
    assert sent.methods() == ["sendMessage"]
    assert sent.texts()[0] == texts.ELIG_STEP_TYPE
    first = sent.callback_data()
    assert "elig:type:u" in first and "elig:cancel" in first
    assert not any(data.startswith("elig:back") for data in first)

    await press(data_for(criteria, "type", "ho_kinh_doanh"))
    assert sent.texts()[-1] == texts.ELIG_STEP_AREA
    assert sent[-1].method == "editMessageText"
    assert "elig:back:type" in sent.callback_data()

    sent.clear()
    await press("elig:back:type")
    assert sent.texts() == [texts.ELIG_STEP_TYPE]

    await press(data_for(criteria, "type", "ho_kinh_doanh"))
    await press(data_for(criteria, "area", "xa_thi_tran_huyen_thi_xa"))
    await press(data_for(criteria, "sector", "che_bien_nong_lam_thuy_san"))
    assert sent.texts()[-1] == texts.ELIG_STEP_SUPPORT

    machines = criteria.support_items[index_of(criteria.support_items, "may_moc_thiet_bi")]
    demo = criteria.support_items[index_of(criteria.support_items, "mo_hinh_trinh_dien")]
    await press(data_for(criteria, "support", machines.id))
    await press(data_for(criteria, "support", demo.id))
    labels = [text for text, _ in sent.buttons()[-len(criteria.support_items) - 4 :]]
    assert "✅ " + machines.label in labels and "✅ " + demo.label in labels
    sent.clear()
    await press(data_for(criteria, "support", demo.id))  # untick
    labels = [text for text, _ in sent.buttons()]
    assert "✅ " + machines.label in labels and demo.label in labels
    assert "✅ " + demo.label not in labels

    await press("elig:support:done")
    assert sent.texts()[-1] == texts.ELIG_STEP_PROVINCE
    sent.clear()
    await press(data_for(criteria, "province", "quang_nam"))

    result = sent.texts()[-1]
    assert sent[-1].method == "editMessageText"
    assert "có khả năng đủ điều kiện" in result
    assert machines.label in result and demo.label not in result
    assert "300 triệu đồng/cơ sở" in result  # cap
    assert "Thông tư 28/2018/TT-BTC" in result  # legal basis
    assert "Báo giá máy móc thiết bị" in result  # required documents
    assert "235/2025" in result and "thấp hơn" in result  # legal notice
    assert "Bước tiếp theo" in result
    assert last_callback_data(sent) == ["lead:start"]

    stored = app.user_data[OWNER_ID]["eligibility"]
    assert stored["verdict"] == "likely_eligible"
    assert stored["establishment_type_label"] == "Hộ kinh doanh"
    assert stored["province_label"] == "Quảng Nam"
    assert stored["support_item_labels"] == [machines.label]


async def test_unknown_answers_need_verification(app, sent, press, make_command_update) -> None:
    await app.process_update(make_command_update("/kiemtra"))
    for step in ("type", "area", "sector", "support", "province"):
        await press(f"elig:{step}:u")

    result = sent.texts()[-1]
    assert "cần xác minh thêm" in result
    assert "Chưa rõ loại hình" in result
    assert last_callback_data(sent) == ["lead:start"]
    assert app.user_data[OWNER_ID]["eligibility"]["verdict"] == "needs_verification"


async def test_urban_machinery_is_not_eligible_with_reason(
    app, sent, press, make_command_update, criteria
) -> None:
    await walk(
        app, press, make_command_update, criteria, area="phuong_khac", support=["may_moc_thiet_bi"]
    )
    result = sent.texts()[-1]
    assert "chưa đủ điều kiện" in result
    assert "sản xuất sạch hơn" in result
    assert "235/2025" in result


async def test_urban_cleaner_production_is_eligible(
    app, sent, press, make_command_update, criteria
) -> None:
    await walk(
        app,
        press,
        make_command_update,
        criteria,
        area="phuong_khac",
        support=["mo_hinh_thi_diem_san_xuat_sach_hon"],
    )
    assert "có khả năng đủ điều kiện" in sent.texts()[-1]


async def test_stale_button_after_the_check_ended_is_answered_politely(
    app, sent, press, make_command_update, criteria
) -> None:
    await walk(app, press, make_command_update, criteria, area="phuong_khac", support=[])
    sent.clear()

    await press(data_for(criteria, "type", "ho_kinh_doanh"))

    assert sent.answered_callbacks() == [texts.ELIG_STALE]
    assert sent.texts() == [texts.ELIG_STALE_MESSAGE]
    assert sent.callback_data() == ["menu:check"]


async def test_button_from_before_a_restart_is_answered(app, sent, press) -> None:
    await press("elig:support:done", user_id=4242)
    assert sent.answered_callbacks() == [texts.ELIG_STALE]


async def test_menu_button_starts_the_check(app, sent, press) -> None:
    await press("menu:check")
    assert sent.methods() == ["answerCallbackQuery", "sendMessage"]
    assert sent.texts() == [texts.ELIG_STEP_TYPE]


async def test_cancel_button_and_huy_end_the_check(app, sent, press, make_command_update) -> None:
    await app.process_update(make_command_update("/kiemtra"))
    await press("elig:cancel")
    assert sent.texts()[-1] == texts.ELIG_CANCELLED

    await app.process_update(make_command_update("/kiemtra"))
    await press("elig:type:u")
    await app.process_update(make_command_update("/huy"))
    assert sent.texts()[-1] == texts.ELIG_CANCELLED

    await app.process_update(make_command_update("/huy"))
    assert sent.texts()[-1] == texts.LEAD_NOTHING_TO_CANCEL


async def test_button_of_another_step_keeps_the_current_step(
    app, sent, press, make_command_update
) -> None:
    await app.process_update(make_command_update("/kiemtra"))
    await press("elig:type:u")
    sent.clear()
    await press("elig:province:0")  # an old message's button while at the area step
    assert sent.answered_callbacks() == [texts.ELIG_OLD_BUTTON]
    await press("elig:area:u")
    assert sent.texts()[-1] == texts.ELIG_STEP_SECTOR


async def test_callback_data_fits_telegram_limit(app, sent, press, make_command_update) -> None:
    await app.process_update(make_command_update("/kiemtra"))
    for step in ("type", "area", "sector"):
        await press(f"elig:{step}:u")
    await press("elig:support:u")
    assert sent.callback_data()
    assert all(len(data.encode()) <= 64 for data in sent.callback_data())


def test_legal_basis_of_an_amended_or_superseded_document_gets_its_notice(
    criteria: Criteria,
) -> None:
    from bot.eligibility_views import describe_result
    from index.eligibility import evaluate_eligibility
    from index.schema import DocumentMeta

    result = evaluate_eligibility(
        criteria,
        establishment_type="ho_kinh_doanh",
        area=criteria.area_rules[0].id,
        sector="che_bien_nong_lam_thuy_san",
        support_items=[],
        province="quang_nam",
    )
    nd45 = DocumentMeta(
        doc_id="imported/corpus/nd-45.md", title="Nghị định về khuyến công", doc_type="decree",
        number="45/2012/NĐ-CP", status="amended", amended_by=("235/2025/NĐ-CP",),
    )  # fmt: skip
    ttbtc = DocumentMeta(
        doc_id="imported/tt-28.md", title="Thông tư kinh phí", doc_type="circular",
        number="28/2018/TT-BTC", status="superseded", superseded_by=("99/2026/TT-BTC",),
    )  # fmt: skip
    guide = DocumentMeta(doc_id="guides/x.md", title="Hướng dẫn", doc_type="guide",
                         based_on=("45/2012/NĐ-CP",))  # fmt: skip

    plain = describe_result(criteria, result)
    assert texts.ELIG_BASIS_STATUS not in plain  # nothing indexed to check against
    text = describe_result(criteria, result, [nd45, ttbtc, guide])
    assert texts.ELIG_BASIS_STATUS in text
    assert "Nghị định 45/2012/NĐ-CP đã được sửa đổi, bổ sung bởi 235/2025/NĐ-CP" in text
    assert "Thông tư 28/2018/TT-BTC đã hết hiệu lực (thay thế bởi 99/2026/TT-BTC)" in text
    assert text.count("235/2025/NĐ-CP;") <= 1  # one notice per document, not per item
    assert len(text) <= 4096
