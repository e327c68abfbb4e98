"""Admin CLI: `python -m scripts <command>` (or `khuyencong <command>`).

Heavy modules (the embedding model, the index, the leads store) are imported inside the
commands, so `--help` and `reindex --if-needed` on a current index stay fast.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from index.logs import configure_logging
from scripts.argparse_typer import add_argparse_command

if TYPE_CHECKING:
    from index.settings import Settings

logger = logging.getLogger("scripts.cli")

app = typer.Typer(
    help="Công cụ quản trị Trợ lý Khuyến công: chỉ mục tài liệu, hồ sơ đăng ký, thống kê.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
leads_app = typer.Typer(help="Xem và xuất hồ sơ đăng ký hỗ trợ.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")

#: Commands that need no settings or report a broken configuration themselves.
_SETTINGS_OPTIONAL = {"doctor", "evaluate", "bench"}


@dataclass(slots=True)
class CliState:
    """What the callback prepares for every command."""

    console: Console
    settings: Settings | None
    settings_error: str | None = None


class ExportFormat(StrEnum):
    """File formats of `leads export`."""

    csv = "csv"
    xlsx = "xlsx"


def _fail(console: Console, message: str) -> NoReturn:
    console.print(f"[bold red]❌ {message}[/]")
    raise typer.Exit(code=1)


def _state(ctx: typer.Context) -> CliState:
    state = ctx.obj
    assert isinstance(state, CliState)
    return state


def _settings(ctx: typer.Context) -> Settings:
    state = _state(ctx)
    if state.settings is None:
        _fail(state.console, f"Không đọc được cấu hình: {state.settings_error}")
    return state.settings


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Ghi log chi tiết (DEBUG).")
    ] = False,
) -> None:
    """Công cụ quản trị Trợ lý Khuyến công."""
    console = Console()
    settings: Settings | None = None
    error: str | None = None
    try:
        from index.settings import get_settings

        settings = get_settings()
    except Exception as exc:  # pydantic ValidationError, unreadable .env, ...
        error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if ctx.invoked_subcommand not in _SETTINGS_OPTIONAL:
            _fail(console, f"Không đọc được cấu hình (.env / biến môi trường): {error}")
    level = "DEBUG" if verbose else (settings.log_level if settings else "INFO")
    # Model and HTTP libraries are chatty at INFO; the progress bar says enough.
    configure_logging(str(level))
    ctx.obj = CliState(console=console, settings=settings, settings_error=error)


# --- migrate / reindex / sources --------------------------------------------------------------


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Tạo thư mục dữ liệu và áp dụng các migration cơ sở dữ liệu (Alembic)."""
    state = _state(ctx)
    settings = _settings(ctx)
    from index.leads.db import migrate as run_migrations

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        run_migrations(settings.database_url)
    except Exception as exc:
        logger.debug("Migration failed", exc_info=True)
        _fail(
            state.console,
            f"Không áp dụng được migration: {exc}. Kiểm tra DATABASE_URL và quyền ghi "
            f"thư mục {settings.data_dir}.",
        )
    state.console.print("[green]✅ Cơ sở dữ liệu đã ở phiên bản mới nhất.[/]")


@app.command()
def reindex(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Xây lại toàn bộ chỉ mục.")] = False,
    if_needed: Annotated[
        bool,
        typer.Option("--if-needed", help="Chỉ xây khi chỉ mục chưa có hoặc đã cũ."),
    ] = False,
) -> None:
    """Cập nhật chỉ mục tài liệu (mặc định chỉ xử lý tài liệu mới hoặc đã thay đổi)."""
    state = _state(ctx)
    settings = _settings(ctx)
    from index.build import build_index, index_status
    from index.errors import KhuyenCongError

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
            _fail(state.console, str(exc))
        except Exception as exc:
            logger.debug("Build failed", exc_info=True)
            _fail(state.console, f"Không xây được chỉ mục: {exc}")
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
    state.console.print(f"Phiên bản chỉ mục: {report.version}")


@app.command()
def sources(ctx: typer.Context) -> None:
    """Liệt kê các tài liệu đã có trong chỉ mục."""
    state = _state(ctx)
    settings = _settings(ctx)
    from index.build import list_sources
    from index.errors import KhuyenCongError

    try:
        docs = list_sources(settings)
    except KhuyenCongError as exc:
        _fail(state.console, str(exc))
    from bot.answer_views import doc_status_label
    from index.dates import format_vn_date

    table = Table(title=f"Tài liệu trong chỉ mục ({len(docs)})")
    for column in ("Tiêu đề", "Số hiệu", "Ngày ban hành", "Hiệu lực", "doc_id"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        table.add_row(
            doc.title,
            doc.number or "—",
            format_vn_date(doc.issued) or "—",
            doc_status_label(doc.status),
            doc.doc_id,
        )
    state.console.print(table)
    if not docs:
        _hint(
            state.console,
            f"Chỉ mục chưa có tài liệu: thêm tệp vào {settings.knowledge_dir} "
            "rồi chạy `python -m scripts reindex`.",
        )


# --- leads ------------------------------------------------------------------------------------
# Statuses, provinces and dates are read by the leads store's own functions, exactly as the
# Telegram /leads and /export commands read them (tests/scripts/test_parity.py).


def _parse_status(console: Console, value: str | None) -> Any:
    """Reads a LeadStatus from its value or Vietnamese label, ignoring accents and case."""
    if value is None:
        return None
    from index.leads.models import LeadStatus
    from index.leads.status import parse_status, status_label

    status = parse_status(value)
    if status is None:
        choices = ", ".join(f"{s.value} ({status_label(s)})" for s in LeadStatus)
        _fail(console, f"Trạng thái không hợp lệ: {value!r}. Chọn một trong: {choices}.")
    return status


def _parse_province(console: Console, value: str | None) -> Any:
    """Resolves --province like /leads does; an ambiguous name lists its candidates."""
    if value is None or not value.strip():
        return None
    from index.leads.provinces import resolve_province

    match = resolve_province(value)
    if match.ambiguous:
        choices = "; ".join(candidate.label for candidate in match.candidates)
        _fail(
            console,
            f"Tỉnh/thành {value!r} chưa rõ, có thể là: {choices}. Ghi rõ hơn, "
            'ví dụ --province "quang ngai".',
        )
    return match


def _parse_day(console: Console, value: str | None) -> date | None:
    if value is None:
        return None
    from index.dates import parse_vn_date

    day = parse_vn_date(value)
    if day is None:
        _fail(console, f"Ngày không hợp lệ: {value!r} (dùng YYYY-MM-DD hoặc dd/mm/yyyy).")
    return day


def _date_range(
    console: Console, since: str | None, until: str | None
) -> tuple[datetime | None, datetime | None]:
    """Vietnam calendar days --since..--until (both included) as UTC instants."""
    from index.dates import vn_date_range

    return vn_date_range(_parse_day(console, since), _parse_day(console, until))


@contextmanager
def _db_session(ctx: typer.Context) -> Iterator[Any]:
    """Opens a session on the leads database and disposes the engine afterwards."""
    state = _state(ctx)
    settings = _settings(ctx)
    from index.leads.db import create_db_engine, session_scope

    try:
        engine = create_db_engine(settings.database_url)
    except Exception as exc:
        _fail(state.console, f"Không kết nối được cơ sở dữ liệu: {exc}. Kiểm tra DATABASE_URL.")
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def _hint(console: Console, text: str) -> None:
    console.print(f"[dim]💡 {text}[/]", highlight=False)


_SINCE_HELP = "Từ ngày (giờ Việt Nam), YYYY-MM-DD hoặc dd/mm/yyyy."
_UNTIL_HELP = "Đến hết ngày (giờ Việt Nam), YYYY-MM-DD hoặc dd/mm/yyyy."


@leads_app.command("list")
def leads_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="Lọc theo trạng thái.")
    ] = None,
    province: Annotated[
        str | None,
        typer.Option("--province", "-p", help="Lọc theo tỉnh/thành (tên mới hoặc tên cũ)."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help=_SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option("--until", help=_UNTIL_HELP)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Số hồ sơ tối đa.")] = 50,
) -> None:
    """Liệt kê hồ sơ đăng ký, mới nhất trước (ngày theo giờ Việt Nam)."""
    state = _state(ctx)
    lead_status = _parse_status(state.console, status)
    match = _parse_province(state.console, province)
    since_dt, until_dt = _date_range(state.console, since, until)
    from index.dates import format_vn_date
    from index.leads import crud
    from index.leads.status import status_label

    try:
        with _db_session(ctx) as session:
            rows = [
                (
                    str(lead.id),
                    format_vn_date(lead.created_at),
                    lead.full_name,
                    lead.phone,
                    lead.province or "",
                    ", ".join(lead.support_items or []),
                    status_label(lead.status),
                )
                for lead in crud.list_leads(
                    session=session,
                    status=lead_status,
                    # The store resolves the name: "quang nam" finds the leads of Đà Nẵng.
                    province=province if match is not None else None,
                    since=since_dt,
                    until=until_dt,
                    limit=limit,
                )
            ]
    except typer.Exit:
        raise
    except Exception as exc:
        logger.debug("Listing leads failed", exc_info=True)
        _fail(state.console, f"Không đọc được hồ sơ: {exc}. Đã chạy `python -m scripts migrate`?")
    title = f"Hồ sơ đăng ký ({len(rows)})"
    if match is not None:
        title += f" · {match.label}"
    table = Table(title=title)
    for column in ("#", "Ngày", "Họ tên", "Điện thoại", "Tỉnh", "Cần hỗ trợ", "Trạng thái"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    state.console.print(table)
    if not rows:
        filtered = any(v is not None for v in (status, province, since, until))
        if match is not None and not match.found:
            _hint(state.console, f"Không nhận ra tỉnh/thành {province!r}; kiểm tra lại tên.")
        elif filtered:
            _hint(state.console, "Không có hồ sơ khớp bộ lọc: bỏ bớt --status/--province/--since.")
        else:
            _hint(
                state.console,
                "Chưa có hồ sơ nào. Hồ sơ được tạo khi người dân dùng /dangky trên Telegram.",
            )


@leads_app.command("export")
def leads_export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Định dạng tệp: csv hoặc xlsx.")
    ] = ExportFormat.csv,
    status: Annotated[str | None, typer.Option("--status", help="Lọc theo trạng thái.")] = None,
    since: Annotated[str | None, typer.Option("--since", help=_SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option("--until", help=_UNTIL_HELP)] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Đường dẫn tệp kết quả.")
    ] = None,
) -> None:
    """Xuất hồ sơ đăng ký ra tệp CSV (UTF-8) hoặc Excel."""
    state = _state(ctx)
    lead_status = _parse_status(state.console, status)
    since_dt, until_dt = _date_range(state.console, since, until)
    from index.leads import crud
    from index.leads.export import leads_to_csv, leads_to_xlsx

    target = output or Path(f"leads.{fmt.value}")
    try:
        with _db_session(ctx) as session:
            leads = crud.list_leads(
                session=session, status=lead_status, since=since_dt, until=until_dt, limit=None
            )
            payload = leads_to_csv(leads) if fmt is ExportFormat.csv else leads_to_xlsx(leads)
            count = len(leads)
    except typer.Exit:
        raise
    except Exception as exc:
        logger.debug("Export failed", exc_info=True)
        _fail(state.console, f"Không xuất được hồ sơ: {exc}. Đã chạy `python -m scripts migrate`?")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
    except OSError as exc:
        _fail(state.console, f"Không ghi được tệp {target}: {exc}")
    state.console.print(f"✅ Đã xuất {count} hồ sơ vào [bold]{target}[/].")
    if count == 0:
        _hint(state.console, "Tệp chỉ có dòng tiêu đề: không có hồ sơ nào khớp bộ lọc.")


# --- stats ------------------------------------------------------------------------------------


def _counts_table(
    title: str, counts: dict[Any, int], key_label: str, *, labels: Any = str
) -> Table:
    table = Table(title=title)
    table.add_column(key_label, overflow="fold")
    table.add_column("Số lượng", justify="right")
    for key, value in counts.items():
        table.add_row(labels(key), str(value))
    if not counts:
        table.add_row("(chưa có)", "0")
    return table


@app.command()
def stats(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", help="Số ngày gần nhất.")] = 14,
) -> None:
    """Thống kê hồ sơ và câu hỏi (giống lệnh /thongke trong Telegram)."""
    state = _state(ctx)
    from index.leads.stats import compute_stats

    try:
        with _db_session(ctx) as session:
            result = compute_stats(session=session, days=days)
    except typer.Exit:
        raise
    except Exception as exc:
        logger.debug("Stats failed", exc_info=True)
        _fail(
            state.console, f"Không tính được thống kê: {exc}. Đã chạy `python -m scripts migrate`?"
        )
    console = state.console
    console.print(
        f"Tổng số hồ sơ: [bold]{result.total_leads}[/] "
        f"(mới trong {days} ngày: {result.leads_in_period})"
    )
    from index.leads.status import status_label

    console.print(
        _counts_table(
            "Hồ sơ theo trạng thái", dict(result.leads_by_status), "Trạng thái", labels=status_label
        )
    )
    console.print(_counts_table("Hồ sơ theo tỉnh/thành", result.leads_by_province, "Tỉnh/thành"))
    console.print(_counts_table("Nội dung cần hỗ trợ", result.leads_by_support_item, "Nội dung"))
    per_day = {day.strftime("%d/%m/%Y"): count for day, count in result.questions_per_day}
    console.print(_counts_table("Câu hỏi mỗi ngày", per_day, "Ngày"))
    share = result.confident_share
    console.print(
        "Tỉ lệ câu hỏi được trả lời chắc chắn: "
        f"[bold]{'—' if share is None else f'{share:.0%}'}[/] ({result.total_questions} câu hỏi)"
    )
    unanswered = Table(title="Câu hỏi chưa trả lời được nhiều nhất")
    unanswered.add_column("Câu hỏi", overflow="fold")
    unanswered.add_column("Số lần", justify="right")
    for question, count in result.top_unanswered:
        unanswered.add_row(question, str(count))
    if not result.top_unanswered:
        unanswered.add_row("(chưa có)", "")
    console.print(unanswered)
    if result.total_leads == 0 and result.total_questions == 0:
        _hint(
            console,
            "Chưa có số liệu: hồ sơ và câu hỏi được ghi khi bot chạy (`make run`). "
            f"Cơ sở dữ liệu đang dùng: {_masked_url(_settings(ctx).database_url)}.",
        )


# --- evaluate / bench -------------------------------------------------------------------------
# Generated from the modules' argparse parsers, their one option definition: every option of
# `python -m scripts.evaluate` / `python -m scripts.bench` shows in --help here too.


def _evaluate_parser() -> Any:
    from scripts.evaluate import build_parser

    return build_parser()


def _run_evaluate(argv: list[str]) -> int:
    import scripts.evaluate

    return scripts.evaluate.main(argv)


def _bench_parser() -> Any:
    from scripts.bench import build_parser

    return build_parser()


def _run_bench(argv: list[str]) -> int:
    import scripts.bench

    return scripts.bench.main(argv)


add_argparse_command(
    app,
    "evaluate",
    build_parser=_evaluate_parser,
    run=_run_evaluate,
    help_text="Đánh giá chất lượng truy hồi và trả lời trên bộ câu hỏi (scripts.evaluate).",
)
add_argparse_command(
    app,
    "bench",
    build_parser=_bench_parser,
    run=_run_bench,
    help_text="Đo tốc độ, thông lượng và bộ nhớ (scripts.bench).",
)


# --- doctor -----------------------------------------------------------------------------------


def _masked_url(url: str) -> str:
    from scripts.doctor import mask_database_url

    return mask_database_url(url)


@app.command()
def doctor(
    ctx: typer.Context,
    skip_model: Annotated[
        bool, typer.Option("--skip-model", help="Bỏ qua bước nạp mô hình nhúng.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Kiểm tra cấu hình, tài liệu, mô hình, chỉ mục và cơ sở dữ liệu; chỉ ra cách sửa."""
    import json

    from scripts.doctor import MARKS, info_lines, run_checks

    state = _state(ctx)
    console = state.console
    report = run_checks(
        state.settings,
        state.settings_error,
        skip_model=skip_model,
        # A spinner on stderr while the model loads (≈ 10 s the first time), never in --json.
        loading=None if as_json else lambda text: Console(stderr=True).status(text),
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        raise typer.Exit(code=0 if report.ok else 1)
    for line in info_lines(report.info):
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    if report.info:
        console.print()
    for check in report.checks:
        console.print(
            f"{MARKS[check.level]} {check.message}", highlight=False, markup=False, soft_wrap=True
        )
    if not report.ok:
        console.print("[bold red]Có lỗi cần sửa trước khi chạy bot.[/]")
        raise typer.Exit(code=1)
    if any(check.level == "warn" for check in report.checks):
        console.print("[bold green]Sẵn sàng chạy[/] (các mục ⚠ không bắt buộc).")
        return
    console.print("[bold green]Mọi thứ sẵn sàng.[/]")
