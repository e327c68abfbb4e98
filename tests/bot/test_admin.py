"""Admin tools through the real Application, on a private copy of the knowledge base and index.

Uploads and removals rebuild the index, so these tests never touch the shared session index:
each test copies `knowledge/` and the published index into its tmp dir and serves them with
its own engine (incremental builds then embed only the new document).
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml

from bot import texts
from bot.handlers import admin
from bot.handlers import uploads as uploads_module
from bot.handlers.admin import split_messages
from bot.handlers.uploads import UPLOAD_KEY
from bot.upload_meta import MetaFormatError, parse_upload_meta
from index.errors import DocumentError
from index.settings import Settings
from tests.bot.conftest import (
    ADMIN_ID,
    private_copy_settings,
)

DECREE_QUESTION = "Văn bản gốc quy định về khuyến công là nghị định nào?"
UNIQUE_TEXT = (
    "Kế hoạch thí điểm lò sấy nông sản dùng năng lượng mặt trời tại xã Tà Xùa.\n\n"
    "Mỗi hợp tác xã tham gia được hỗ trợ 37 triệu đồng để lắp đặt lò sấy năng lượng mặt trời "
    "cho thảo quả và chè Shan tuyết. Hồ sơ nộp tại Trung tâm Khuyến công trước ngày 30/6."
)
# The tests drive an initialized (not running) Application and await its tasks themselves.
pytestmark = [
    pytest.mark.real_engine,
    pytest.mark.filterwarnings("ignore:Tasks created via:telegram.warnings.PTBUserWarning"),
]

_file_ids = itertools.count(1)
UNIQUE_QUESTION = "Lò sấy năng lượng mặt trời ở xã Tà Xùa được hỗ trợ bao nhiêu tiền?"


@pytest.fixture
def bot_settings(tmp_path: Path, kb_settings: Settings) -> Settings:
    """Overrides the bot settings: a private knowledge dir and index copy for this test."""
    return private_copy_settings(tmp_path, kb_settings)


@pytest.fixture
def bot_engine(bot_settings: Settings, embedding_model: Any) -> Any:
    """An engine of its own over the private index copy."""
    from index.engine import load_engine

    return load_engine(bot_settings, model=embedding_model)


def uploads(settings: Settings) -> list[str]:
    folder = settings.uploads_dir
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def docx_bytes(title: str, body: str) -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for paragraph in body.split("\n\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def send_document(
    app: Any,
    recording: Any,
    make_document_update: Any,
    name: str,
    content: bytes,
    *,
    mime: str = "text/plain",
    user_id: int = ADMIN_ID,
    size: int | None = None,
) -> None:
    file_id = f"file-{next(_file_ids)}"  # Telegram file ids are ASCII
    recording.files[file_id] = content
    update = make_document_update(name, mime, file_id, user_id=user_id, size=size or len(content))
    await app.process_update(update)


async def finished_build(app: Any) -> Any:
    """Awaits the background re-index the last admin action started."""
    task = app.bot_data.reindex_task
    return await task


def top_doc(engine: Any, question: str) -> str:
    answer = engine.answer(question)
    return answer.passages[0].doc.doc_id if answer.passages else ""


# --- pure helpers ---------------------------------------------------------------------------


def test_parse_upload_meta() -> None:
    meta = parse_upload_meta("Kế hoạch khuyến công 2026 | 12/KH-UBND | 15/01/2026")
    assert (meta.title, meta.number, meta.issued) == (
        "Kế hoạch khuyến công 2026",
        "12/KH-UBND",
        "2026-01-15",
    )
    meta = parse_upload_meta("Chỉ có tiêu đề")
    assert (meta.title, meta.number, meta.issued) == ("Chỉ có tiêu đề", None, None)
    assert parse_upload_meta("Tiêu đề | - | ").number is None
    with pytest.raises(MetaFormatError):
        parse_upload_meta(" | 12/KH | 01/01/2026")
    with pytest.raises(MetaFormatError):
        parse_upload_meta("Tiêu đề | 12 | 31/02/2026")


def test_split_messages_respects_the_limit() -> None:
    lines = [f"dòng {n} " + "x" * 50 for n in range(40)]
    parts = split_messages("Tiêu đề", lines, limit=300)
    assert len(parts) > 1
    assert all(len(part) <= 300 for part in parts)
    assert "\n".join(parts).count("dòng") == 40


# --- upload ---------------------------------------------------------------------------------


async def test_upload_txt_with_metadata_is_indexed_and_answered(
    app, sent, recording, make_document_update, make_message_update, bot_settings, bot_engine
) -> None:
    await send_document(
        app, recording, make_document_update, "Kế hoạch lò sấy.txt", UNIQUE_TEXT.encode()
    )
    (ask,) = sent.texts()
    assert "Tiêu đề | Số hiệu | Ngày" in ask
    assert ("📄 Lấy từ tệp", "admin:meta:file") in sent.buttons()
    assert uploads(bot_settings) == []  # only staged so far

    sent.clear()
    await app.process_update(
        make_message_update(
            "Kế hoạch lò sấy năng lượng mặt trời | 88/KH-KC | 15/01/2026", user_id=ADMIN_ID
        )
    )
    assert uploads(bot_settings) == ["ke-hoach-lo-say.txt", "ke-hoach-lo-say.txt.meta.yaml"]
    sidecar = yaml.safe_load(
        (bot_settings.uploads_dir / "ke-hoach-lo-say.txt.meta.yaml").read_text(encoding="utf-8")
    )
    assert sidecar == {
        "title": "Kế hoạch lò sấy năng lượng mặt trời",
        "number": "88/KH-KC",
        "issued": "2026-01-15",
    }
    assert "uploads/ke-hoach-lo-say.txt" in sent.text()
    assert top_doc(bot_engine, UNIQUE_QUESTION) != "uploads/ke-hoach-lo-say.txt"

    report = await finished_build(app)

    assert report is not None and report.added == ["uploads/ke-hoach-lo-say.txt"]
    assert top_doc(bot_engine, UNIQUE_QUESTION) == "uploads/ke-hoach-lo-say.txt"
    done = sent.texts()[-1]
    assert "thêm 1" in done and texts.ADMIN_REINDEX_RELOADED in done
    # The staging area is cleaned up.
    assert not any((bot_settings.data_dir / "staging").iterdir())


LEGAL_TXT = (
    "ỦY BAN NHÂN DÂN TỈNH LÀO CAI\nSố: 12/2026/QĐ-UBND\nLào Cai, ngày 15 tháng 3 năm 2026\n"
    "QUYẾT ĐỊNH\nVỀ HỖ TRỢ LÒ SẤY NĂNG LƯỢNG MẶT TRỜI\n"
    "Điều 1. Mức hỗ trợ\n" + UNIQUE_TEXT.replace("\n\n", "\n") + "\n"
    "Điều 2. Hiệu lực thi hành\nQuyết định này có hiệu lực kể từ ngày 01 tháng 4 năm 2026.\n"
)


async def test_upload_shows_what_the_header_says_and_takes_corrections(
    app, sent, recording, make_document_update, make_message_update, bot_settings, bot_engine
) -> None:
    await send_document(app, recording, make_document_update, "qd-12.txt", LEGAL_TXT.encode())
    (ask,) = sent.texts()
    for found in ("Số hiệu: 12/2026/QĐ-UBND", "Loại văn bản: Quyết định", "Ngày ban hành: 15/03/2026",
                  "Hiệu lực từ: 01/04/2026", "Ủy ban nhân dân tỉnh Lào Cai"):  # fmt: skip
        assert found in ask, found

    sent.clear()
    await app.process_update(
        make_message_update("số: 12/2026/QĐ-UBND-LC\nhiệu lực: 05/04/2026", user_id=ADMIN_ID)
    )
    sidecar = yaml.safe_load(
        (bot_settings.uploads_dir / "qd-12.txt.meta.yaml").read_text(encoding="utf-8")
    )
    assert sidecar["number"] == "12/2026/QĐ-UBND-LC" and sidecar["effective"] == "2026-04-05"
    assert sidecar["doc_type"] == "decision" and sidecar["issued"] == "2026-03-15"
    await finished_build(app)
    doc = next(d for d in bot_engine.sources() if d.doc_id == "uploads/qd-12.txt")
    assert doc.number == "12/2026/QĐ-UBND-LC"
    answer = bot_engine.answer(UNIQUE_QUESTION)
    assert answer.citations[0].article == "Điều 1"  # a legal upload is cited by its article


async def test_bad_correction_is_explained_and_the_upload_waits(
    app, sent, recording, make_document_update, make_message_update, bot_settings
) -> None:
    await send_document(app, recording, make_document_update, "qd-12.txt", LEGAL_TXT.encode())
    sent.clear()
    await app.process_update(make_message_update("hiệu lực: 31/02/2026", user_id=ADMIN_ID))
    assert "31/02/2026" in sent.text() and uploads(bot_settings) == []
    sent.clear()
    await app.process_update(make_message_update("loại: công văn", user_id=ADMIN_ID))
    assert "công văn" in sent.text() and uploads(bot_settings) == []


async def test_duplicate_upload_is_recognised_not_stored_twice(
    app, sent, recording, make_document_update, bot_settings
) -> None:
    existing = bot_settings.knowledge_dir / "guides" / "thu-tuc-dang-ky.md"
    await send_document(
        app, recording, make_document_update, "ban-sao.md", existing.read_bytes(),
        mime="text/markdown",
    )  # fmt: skip
    (reply,) = sent.texts()
    assert "đã có trong kho" in reply and "guides/thu-tuc-dang-ky.md" in reply
    assert uploads(bot_settings) == []
    assert not list((bot_settings.data_dir / "staging").glob("*/*"))


async def test_zip_bomb_upload_is_refused_in_vietnamese(
    app, sent, recording, make_document_update, bot_settings, tmp_path
) -> None:
    from tests.index.test_file_limits import write_bomb

    bomb = tmp_path / "bomb.docx"
    write_bomb(bomb)
    await send_document(
        app, recording, make_document_update, "ke-hoach.docx", bomb.read_bytes(),
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )  # fmt: skip
    (reply,) = sent.texts()
    assert reply.startswith("❌") and "zip bomb" in reply and "giải nén quá lớn" in reply
    assert uploads(bot_settings) == []


async def test_upload_markdown_merges_metadata_into_front_matter(
    app, sent, recording, make_document_update, make_message_update, bot_settings, bot_engine
) -> None:
    content = "---\nsource: Sở Công Thương\n---\n# Bản tin\n\n" + UNIQUE_TEXT
    await send_document(
        app, recording, make_document_update, "ban-tin.md", content.encode(), mime="text/markdown"
    )
    await app.process_update(make_message_update("Bản tin lò sấy | | 01/03/2026", user_id=ADMIN_ID))

    assert uploads(bot_settings) == ["ban-tin.md"]
    text = (bot_settings.uploads_dir / "ban-tin.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front == {"source": "Sở Công Thương", "title": "Bản tin lò sấy", "issued": "2026-03-01"}
    await finished_build(app)
    sources = {doc.doc_id: doc for doc in bot_engine.sources()}
    assert sources["uploads/ban-tin.md"].title == "Bản tin lò sấy"


async def test_upload_docx_takes_metadata_from_the_file(
    app,
    sent,
    recording,
    make_document_update,
    make_callback_update,
    bot_settings,
    bot_engine,
) -> None:
    content = docx_bytes("Hướng dẫn lò sấy Tà Xùa", UNIQUE_TEXT)
    await send_document(
        app,
        recording,
        make_document_update,
        "huong-dan.docx",
        content,
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    sent.clear()
    await app.process_update(make_callback_update("admin:meta:file", user_id=ADMIN_ID))

    assert uploads(bot_settings) == ["huong-dan.docx"]  # no sidecar: the file's own title
    assert "Hướng dẫn lò sấy Tà Xùa" in sent.text()
    await finished_build(app)
    assert top_doc(bot_engine, UNIQUE_QUESTION) == "uploads/huong-dan.docx"
    titles = {doc.doc_id: doc.title for doc in bot_engine.sources()}
    assert titles["uploads/huong-dan.docx"] == "Hướng dẫn lò sấy Tà Xùa"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("hong.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
        ("rong.txt", b"", "không có nội dung"),
        ("trang.docx", b"PK\x03\x04 broken zip", "DOCX"),
    ],
)
async def test_broken_or_empty_upload_is_rejected(
    app,
    sent,
    recording,
    make_document_update,
    make_callback_update,
    bot_settings,
    bot_engine,
    name,
    content,
    expected,
) -> None:
    version = bot_engine.version
    await send_document(app, recording, make_document_update, name, content)

    # Refused as soon as it arrives: the admin is never asked for metadata of a broken file.
    (reply,) = sent.texts()
    assert reply.startswith("❌") and expected in reply
    assert "Traceback" not in reply
    assert uploads(bot_settings) == []
    assert not list((bot_settings.data_dir / "staging").glob("*/*"))
    sent.clear()
    await app.process_update(make_callback_update("admin:meta:file", user_id=ADMIN_ID))
    assert sent.answered_callbacks() == [texts.ADMIN_UPLOAD_EXPIRED]
    assert app.bot_data.reindex_task is None
    assert bot_engine.version == version
    assert "45/2012" in bot_engine.answer(DECREE_QUESTION).text


async def test_unsupported_and_oversized_uploads_are_refused(
    app, sent, recording, make_document_update, bot_settings
) -> None:
    await send_document(
        app, recording, make_document_update, "anh.jpg", b"\xff\xd8", mime="image/jpeg"
    )
    assert sent.texts() == [texts.ADMIN_UPLOAD_UNSUPPORTED.format(suffix=".jpg")]

    sent.clear()
    await send_document(
        app, recording, make_document_update, "lon.pdf", b"%PDF", size=25 * 1024 * 1024
    )
    assert sent.texts() == [texts.ADMIN_UPLOAD_TOO_BIG.format(limit=uploads_module.MAX_UPLOAD_MB)]
    assert not sent.of("getFile")
    assert uploads(bot_settings) == []


async def test_upload_cancel_discards_the_staged_file(
    app, sent, recording, make_document_update, make_command_update, make_message_update,
    bot_settings,
) -> None:  # fmt: skip
    await send_document(app, recording, make_document_update, "ke-hoach.txt", UNIQUE_TEXT.encode())
    sent.clear()

    await app.process_update(make_command_update("/huy", user_id=ADMIN_ID))

    assert sent.texts() == [texts.ADMIN_UPLOAD_CANCELLED]
    assert not any((bot_settings.data_dir / "staging").iterdir())
    await app.process_update(make_message_update("Tiêu đề | 1 | 01/01/2026", user_id=ADMIN_ID))
    assert uploads(bot_settings) == []


async def test_bad_metadata_asks_again(
    app, sent, recording, make_document_update, make_message_update, bot_settings
) -> None:
    await send_document(app, recording, make_document_update, "ke-hoach.txt", UNIQUE_TEXT.encode())
    sent.clear()

    await app.process_update(make_message_update("Tiêu đề | 1 | 45/13/2026", user_id=ADMIN_ID))

    assert sent.texts() == [texts.ADMIN_UPLOAD_BAD_DATE.format(value="45/13/2026")]
    assert uploads(bot_settings) == []
    assert app.bot_data.reindex_task is None


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), DocumentError("tệp X hỏng")])
async def test_failed_build_removes_the_upload_and_keeps_the_old_index(
    app,
    sent,
    recording,
    make_document_update,
    make_message_update,
    bot_settings,
    bot_engine,
    monkeypatch,
    failure,
) -> None:
    def broken_build(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(admin, "build_index", broken_build)
    version = bot_engine.version
    await send_document(app, recording, make_document_update, "ke-hoach.txt", UNIQUE_TEXT.encode())
    await app.process_update(make_message_update("Kế hoạch | 1 | 01/01/2026", user_id=ADMIN_ID))
    assert uploads(bot_settings) == ["ke-hoach.txt", "ke-hoach.txt.meta.yaml"]

    assert await finished_build(app) is None

    assert uploads(bot_settings) == []
    assert bot_engine.version == version
    report = sent.texts()[-1]
    assert report.startswith("❌") and texts.ADMIN_REINDEX_ROLLED_BACK.strip() in report
    assert "disk full" not in report and "Traceback" not in report
    assert "45/2012" in bot_engine.answer(DECREE_QUESTION).text


# --- /reindex, /sources, /remove --------------------------------------------------------------


async def test_reindex_runs_in_background_and_reports(
    app, sent, make_command_update, bot_settings, bot_engine
) -> None:
    (bot_settings.knowledge_dir / "uploads").mkdir()
    (bot_settings.knowledge_dir / "uploads" / "tin.txt").write_text(UNIQUE_TEXT, encoding="utf-8")

    await app.process_update(make_command_update("/reindex", user_id=ADMIN_ID))
    assert sent.texts() == [texts.ADMIN_REINDEX_STARTED.format(full="")]
    report = await finished_build(app)

    assert report.added == ["uploads/tin.txt"] and not report.changed
    assert top_doc(bot_engine, UNIQUE_QUESTION) == "uploads/tin.txt"
    assert "thêm 1, thay đổi 0, gỡ 0" in sent.texts()[-1]


async def test_reindex_full_is_passed_to_the_build(
    app, sent, make_command_update, monkeypatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_build(settings: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        from index.build import BuildReport

        return BuildReport(chunks=5, seconds=0.5, version="v")

    monkeypatch.setattr(admin, "build_index", fake_build)
    await app.process_update(make_command_update("/reindex full", user_id=ADMIN_ID))
    await finished_build(app)

    assert calls[0]["full"] is True
    assert calls[0]["model"] is not None  # the engine's loaded model is reused
    assert sent.texts()[0] == texts.ADMIN_REINDEX_STARTED.format(full=texts.ADMIN_REINDEX_FULL)


async def test_sources_lists_indexed_documents(app, sent, make_command_update, bot_engine) -> None:
    await app.process_update(make_command_update("/sources", user_id=ADMIN_ID))

    text = sent.text()
    docs = bot_engine.sources()
    assert texts.ADMIN_SOURCES_HEADER.format(count=len(docs)) in text
    for doc in docs:
        assert doc.doc_id in text
    assert all(len(part) <= 4096 for part in sent.texts())
    assert any(doc.number and f"số {doc.number}" in text for doc in docs)


async def test_remove_upload_with_confirmation(
    app,
    sent,
    recording,
    make_document_update,
    make_message_update,
    make_command_update,
    make_callback_update,
    bot_settings,
    bot_engine,
) -> None:
    await send_document(app, recording, make_document_update, "lo-say.txt", UNIQUE_TEXT.encode())
    await app.process_update(make_message_update("Kế hoạch lò sấy Tà Xùa | 9/KH", user_id=ADMIN_ID))
    await finished_build(app)
    assert top_doc(bot_engine, UNIQUE_QUESTION) == "uploads/lo-say.txt"

    sent.clear()
    await app.process_update(make_command_update("/remove lo say ta xua", user_id=ADMIN_ID))
    (confirm,) = sent.texts()
    assert "uploads/lo-say.txt" in confirm
    yes = next(data for data in sent.callback_data() if data.startswith("admin:rm:yes:"))
    assert "admin:rm:no" in sent.callback_data()

    # A stale or forged token does nothing.
    sent.clear()
    await app.process_update(make_callback_update("admin:rm:yes:00000000", user_id=ADMIN_ID))
    assert sent.texts() == [texts.ADMIN_REMOVE_EXPIRED]
    assert "lo-say.txt" in uploads(bot_settings)

    await app.process_update(make_command_update("/remove uploads/lo-say.txt", user_id=ADMIN_ID))
    yes = next(data for data in sent.callback_data()[::-1] if data.startswith("admin:rm:yes:"))
    sent.clear()
    await app.process_update(make_callback_update(yes, user_id=ADMIN_ID))

    assert uploads(bot_settings) == []
    assert sent.texts()[0] == texts.ADMIN_REMOVE_DONE.format(doc_id="uploads/lo-say.txt")
    report = await finished_build(app)
    assert report.removed == ["uploads/lo-say.txt"]
    assert "uploads/lo-say.txt" not in {doc.doc_id for doc in bot_engine.sources()}
    assert top_doc(bot_engine, UNIQUE_QUESTION) != "uploads/lo-say.txt"


async def test_remove_refuses_builtin_and_unknown_and_can_be_declined(
    app, sent, make_command_update, make_callback_update, bot_settings, bot_engine
) -> None:
    builtin = bot_engine.sources()[0]

    await app.process_update(make_command_update(f"/remove {builtin.doc_id}", user_id=ADMIN_ID))
    assert "kho mã nguồn" in sent.text()
    assert (bot_settings.knowledge_dir / builtin.doc_id).is_file()

    sent.clear()
    await app.process_update(make_command_update("/remove khong-ton-tai-xyz", user_id=ADMIN_ID))
    assert sent.texts() == [texts.ADMIN_REMOVE_NOT_FOUND.format(query="khong-ton-tai-xyz")]

    sent.clear()
    await app.process_update(make_command_update("/remove", user_id=ADMIN_ID))
    assert sent.texts() == [texts.ADMIN_REMOVE_USAGE]

    (bot_settings.uploads_dir).mkdir()
    (bot_settings.uploads_dir / "tin.txt").write_text(UNIQUE_TEXT, encoding="utf-8")
    sent.clear()
    await app.process_update(make_command_update("/remove uploads/tin.txt", user_id=ADMIN_ID))
    await app.process_update(make_callback_update("admin:rm:no", user_id=ADMIN_ID))
    assert texts.ADMIN_REMOVE_KEPT in sent.texts()
    assert uploads(bot_settings) == ["tin.txt"]
    assert app.bot_data.reindex_task is None


async def test_upload_state_is_kept_per_user(
    app, recording, make_document_update, bot_settings
) -> None:
    await send_document(app, recording, make_document_update, "ke-hoach.txt", UNIQUE_TEXT.encode())
    pending = app.user_data[ADMIN_ID][UPLOAD_KEY]
    assert Path(pending["path"]).read_text(encoding="utf-8") == UNIQUE_TEXT
    assert Path(pending["path"]).is_relative_to(bot_settings.data_dir / "staging")
