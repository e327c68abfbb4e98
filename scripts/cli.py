"""Admin CLI: `python -m scripts <command>` (or `khuyencong <command>`).

Heavy modules (the embedding model, the index, the leads store) are imported inside the
commands, so `--help` and `reindex --if-needed` on a current index stay fast.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from index.logs import configure_logging
from scripts.argparse_typer import add_argparse_command
from scripts.cli_state import CliState, db_session, fail, hint, settings_of, state_of
from scripts.documents_cli import add_documents, document_status
from scripts.index_cli import migrate, reindex, sources
from scripts.leads_cli import leads_app

if TYPE_CHECKING:
    from index.settings import Settings

logger = logging.getLogger("scripts.cli")

app = typer.Typer(
    help="Công cụ quản trị Trợ lý Khuyến công: chỉ mục tài liệu, hồ sơ đăng ký, thống kê.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(leads_app, name="leads")

#: Commands that need no settings or report a broken configuration themselves.
_SETTINGS_OPTIONAL = {"doctor", "evaluate", "bench", "loadtest"}


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
            fail(console, f"Không đọc được cấu hình (.env / biến môi trường): {error}")
    level = "DEBUG" if verbose else (settings.log_level if settings else "INFO")
    # Model and HTTP libraries are chatty at INFO; the progress bar says enough.
    configure_logging(str(level))
    ctx.obj = CliState(console=console, settings=settings, settings_error=error)


app.command()(migrate)
app.command()(reindex)
app.command()(sources)
app.command("status")(document_status)
app.command("add")(add_documents)


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
    state = state_of(ctx)
    from index.leads.stats import compute_stats

    try:
        with db_session(ctx) as session:
            result = compute_stats(session=session, days=days)
    except typer.Exit:
        raise
    except Exception as exc:
        logger.debug("Stats failed", exc_info=True)
        fail(
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
        hint(
            console,
            "Chưa có số liệu: hồ sơ và câu hỏi được ghi khi bot chạy (`make run`). "
            f"Cơ sở dữ liệu đang dùng: {_masked_url(settings_of(ctx).database_url)}.",
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
    messages_per_second: Annotated[
        float | None,
        typer.Option(
            "--messages-per-second",
            help="Giới hạn tin/giây của bot (mặc định: cấu hình, 30 như Telegram).",
        ),
    ] = None,
    reply_messages_per_second: Annotated[
        float | None,
        typer.Option(
            "--reply-messages-per-second",
            help="Giới hạn tin trả lời/giây của bot (0: không giới hạn; mặc định: cấu hình).",
        ),
    ] = None,
    flood_rate: Annotated[
        float | None,
        typer.Option("--flood-rate", help="Telegram giả trả 429 khi bot gửi quá số tin/giây này."),
    ] = None,
    bot_env: Annotated[
        list[str] | None,
        typer.Option("--bot-env", help="Cấu hình thêm cho bot thử, dạng KHÓA=GIÁ_TRỊ (lặp lại)."),
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
    if messages_per_second is not None:
        argv.append(f"--messages-per-second={messages_per_second}")
    if reply_messages_per_second is not None:
        argv.append(f"--reply-messages-per-second={reply_messages_per_second}")
    if flood_rate is not None:
        argv.append(f"--flood-rate={flood_rate}")
    argv += [f"--bot-env={item}" for item in bot_env or []]
    if as_json:
        argv.append("--json")
    raise typer.Exit(code=loadtest_main(argv))


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

    state = state_of(ctx)
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
