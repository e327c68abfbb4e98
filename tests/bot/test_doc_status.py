"""/status and its buttons through the real Application: admins only, applied without restart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import texts
from index.settings import Settings
from tests.bot.conftest import (
    ADMIN_ID,
    OWNER_ID,
    STAFF_ID,
    private_copy_settings,
)

DOC_ID = "guides/chuong-trinh-khuyen-cong-quoc-gia-2026-2030.md"
QUESTION = "Chương trình khuyến công quốc gia giai đoạn 2026-2030 có mục tiêu gì?"


@pytest.fixture
def bot_settings(tmp_path: Path, kb_settings: Settings) -> Settings:
    """Overrides the bot settings: a private knowledge dir and index copy for this test."""
    return private_copy_settings(tmp_path, kb_settings)


@pytest.fixture
def bot_engine(bot_settings: Settings, embedding_model: Any) -> Any:
    from index.engine import load_engine

    return load_engine(bot_settings, model=embedding_model)


def _status_buttons(sent: Any) -> dict[str, str]:
    return {
        data.rsplit(":", 1)[1]: data for _, data in sent.buttons() if data and "admin:st:" in data
    }


async def test_admin_marks_a_document_superseded_with_buttons(
    app, sent, make_command_update, make_callback_update, make_message_update, bot_settings,
    bot_engine,
) -> None:  # fmt: skip
    await app.process_update(make_command_update("/status 2026–2030", user_id=ADMIN_ID))
    card = sent.text()
    assert "còn hiệu lực" in card and DOC_ID in card
    buttons = _status_buttons(sent)
    assert set(buttons) == {"in_force", "amended", "superseded", "expired", "clear"}

    sent.clear()
    await app.process_update(make_callback_update(buttons["superseded"], user_id=ADMIN_ID))
    assert "thay thế" in sent.text() and "<code>-</code>" in sent.text()

    sent.clear()
    await app.process_update(make_message_update("2646/QĐ-BCT-2, 99/2026/QĐ-TTg", user_id=ADMIN_ID))
    done = sent.text()
    assert "✅ Đã cập nhật" in done and "thay thế bởi 2646/QĐ-BCT-2, 99/2026/QĐ-TTg" in done
    stored = yaml.safe_load(bot_settings.lifecycle_path.read_text(encoding="utf-8"))
    entry = stored["documents"][DOC_ID]
    assert entry["status"] == "superseded" and entry["changed_by"] == f"telegram:{ADMIN_ID}"

    # The running engine applies it to the next answer: no restart, no re-index.
    answer = bot_engine.answer(QUESTION)
    cited = [c for c in answer.citations if c.doc_id == DOC_ID]
    assert cited and cited[0].superseded_by == ("2646/QĐ-BCT-2", "99/2026/QĐ-TTg")
    sent.clear()
    await app.process_update(make_command_update("/sources", user_id=ADMIN_ID))
    assert "thay thế bởi 2646/QĐ-BCT-2" in sent.text()

    # "Theo tệp gốc" removes the override again.
    sent.clear()
    await app.process_update(make_command_update("/status 2026–2030", user_id=ADMIN_ID))
    await app.process_update(make_callback_update(_status_buttons(sent)["clear"], user_id=ADMIN_ID))
    assert DOC_ID not in yaml.safe_load(bot_settings.lifecycle_path.read_text("utf-8"))["documents"]


async def test_expired_asks_for_a_date_and_checks_it(
    app, sent, make_command_update, make_callback_update, make_message_update, bot_engine,
) -> None:  # fmt: skip
    await app.process_update(make_command_update("/status 2026–2030", user_id=ADMIN_ID))
    await app.process_update(make_callback_update(_status_buttons(sent)["expired"], user_id=ADMIN_ID))
    sent.clear()
    await app.process_update(make_message_update("31/02/2030", user_id=ADMIN_ID))
    assert "chưa hợp lệ" in sent.text()
    sent.clear()
    await app.process_update(make_message_update("31/12/2030", user_id=ADMIN_ID))
    assert "hết hiệu lực" in sent.text() and "31/12/2030" in sent.text()
    doc = next(d for d in bot_engine.sources() if d.doc_id == DOC_ID)
    assert (doc.status, doc.expired_on) == ("expired", "2030-12-31")


async def test_status_command_and_buttons_are_admin_only(
    app, sent, make_command_update, make_callback_update, bot_settings,
) -> None:  # fmt: skip
    await app.process_update(make_command_update("/status 2026–2030", user_id=ADMIN_ID))
    buttons = _status_buttons(sent)
    for user_id in (OWNER_ID, STAFF_ID):
        sent.clear()
        await app.process_update(make_command_update("/status 2026–2030", user_id=user_id))
        assert sent.texts() == [texts.ADMIN_REFUSAL]
        sent.clear()
        await app.process_update(make_callback_update(buttons["superseded"], user_id=user_id))
        assert sent.answered_callbacks() == [texts.ADMIN_REFUSAL]
    assert not bot_settings.lifecycle_path.exists()


async def test_status_usage_ambiguity_and_stale_buttons(
    app, sent, make_command_update, make_callback_update,
) -> None:  # fmt: skip
    await app.process_update(make_command_update("/status", user_id=ADMIN_ID))
    assert sent.texts() == [texts.ADMIN_STATUS_USAGE]
    sent.clear()
    await app.process_update(make_command_update("/status khuyến công", user_id=ADMIN_ID))
    assert "Có nhiều văn bản khớp" in sent.text()
    sent.clear()
    await app.process_update(make_command_update("/status không-có-gì-như-vậy", user_id=ADMIN_ID))
    assert "Không tìm thấy" in sent.text()
    sent.clear()
    await app.process_update(make_callback_update("admin:st:deadbeef:in_force", user_id=ADMIN_ID))
    assert texts.ADMIN_STATUS_EXPIRED in sent.text()
    assert not re.search(r"Traceback|Error", sent.text())
