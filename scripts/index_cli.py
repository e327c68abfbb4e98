"""`migrate`, `reindex` and `sources`: the database schema, the document index and its contents.

Registered on the app by scripts/cli.py (`khuyencong reindex …`); `print_failed` is shared with
`add` (scripts/importing.py).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scripts.cli_state import fail, hint, settings_of, state_of

logger = logging.getLogger("scripts.cli")


def migrate(ctx: typer.Context) -> None:
    """Tạo thư mục dữ liệu và áp dụng các migration cơ sở dữ liệu (Alembic)."""
    state = state_of(ctx)
    settings = settings_of(ctx)
    from index.leads.db import migrate as run_migrations

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        run_migrations(settings.database_url)
    except Exception as exc:
        logger.debug("Migration failed", exc_info=True)
        fail(
            state.console,
            f"Không áp dụng được migration: {exc}. Kiểm tra DATABASE_URL và quyền ghi "
            f"thư mục {settings.data_dir}.",
        )
    state.console.print("[green]✅ Cơ sở dữ liệu đã ở phiên bản mới nhất.[/]")


def reindex(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Xây lại toàn bộ chỉ mục.")] = False,
    if_needed: Annotated[
        bool,
        typer.Option("--if-needed", help="Chỉ xây khi chỉ mục chưa có hoặc đã cũ."),
    ] = False,
) -> None:
    """Cập nhật chỉ mục tài liệu (mặc định chỉ xử lý tài liệu mới hoặc đã thay đổi)."""
    state = state_of(ctx)
    settings = settings_of(ctx)
    from index.build import build_index
    from index.errors import KhuyenCongError
    from index.published import index_status

    if if_needed and not full:
        status = index_status(settings)
        if status == "current":
            state.console.print("✅ Chỉ mục đã cập nhật, không cần xây lại.")
            return
        state.console.print(f"Trạng thái chỉ mục: [bold]{status}[/] — đang xây lại…")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=state.console,
        transient=True,
    ) as progress:
        task = progress.add_task("Đang chuẩn bị…", total=None)

        def on_progress(done: int, total: int, message: str) -> None:
            progress.update(task, completed=done, total=total or None, description=message)

        try:
            report = build_index(settings, full=full, progress=on_progress)
        except KhuyenCongError as exc:
            fail(state.console, str(exc))
        except Exception as exc:
            logger.debug("Build failed", exc_info=True)
            fail(state.console, f"Không xây được chỉ mục: {exc}")
    table = Table(title="Kết quả cập nhật chỉ mục")
    for column in ("Thêm", "Thay đổi", "Xóa", "Giữ nguyên", "Số đoạn", "Thời gian (s)"):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(report.added)),
        str(len(report.changed)),
        str(len(report.removed)),
        str(len(report.unchanged)),
        str(report.chunks),
        f"{report.seconds:.1f}",
    )
    state.console.print(table)
    print_failed(state.console, report.failed)
    state.console.print(f"Phiên bản chỉ mục: {report.version}")


def print_failed(console: Console, failed: list[tuple[str, str]]) -> None:
    """Names every document a build skipped, with the reason."""
    if not failed:
        return
    table = Table(title=f"⚠️ Bỏ qua {len(failed)} tài liệu không đọc được")
    table.add_column("Tài liệu", overflow="fold")
    table.add_column("Lý do", overflow="fold")
    for doc_id, reason in failed:
        table.add_row(doc_id, reason)
    console.print(table)


def sources(ctx: typer.Context) -> None:
    """Liệt kê các tài liệu đã có trong chỉ mục, với hiệu lực và văn bản liên quan."""
    state = state_of(ctx)
    settings = settings_of(ctx)
    from bot.answer_views import document_status_text
    from index.dates import format_vn_date
    from index.errors import KhuyenCongError
    from index.published import list_sources

    try:
        docs = list_sources(settings)
    except KhuyenCongError as exc:
        fail(state.console, str(exc))
    table = Table(title=f"Tài liệu trong chỉ mục ({len(docs)})")
    for column in ("Tiêu đề", "Số hiệu", "Ngày ban hành", "Hiệu lực", "doc_id"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        # Our own guides are not the law: they show no law's number or date as theirs.
        number = "—" if doc.doc_type == "guide" else doc.number or "—"
        issued = "—" if doc.doc_type == "guide" else format_vn_date(doc.issued) or "—"
        table.add_row(doc.title, number, issued, document_status_text(doc), doc.doc_id)
    state.console.print(table)
    if not docs:
        hint(
            state.console,
            f"Chỉ mục chưa có tài liệu: thêm bằng `khuyencong add THƯ_MỤC` (hoặc chép tệp vào "
            f"{settings.knowledge_dir} rồi chạy `python -m scripts reindex`).",
        )
