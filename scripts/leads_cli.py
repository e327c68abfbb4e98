"""`leads list` and `leads export`: the staff's lead tools from a terminal.

Statuses, provinces and dates are read by the leads store's own functions, exactly as the
Telegram /leads and /export commands read them (tests/bot/test_parity.py).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from scripts.cli_state import db_session, fail, hint, state_of

logger = logging.getLogger("scripts.cli")

leads_app = typer.Typer(help="Xem và xuất hồ sơ đăng ký hỗ trợ.", no_args_is_help=True)


class ExportFormat(StrEnum):
    """File formats of `leads export`."""

    csv = "csv"
    xlsx = "xlsx"


def _parse_status(console: Console, value: str | None) -> Any:
    """Reads a LeadStatus from its value or Vietnamese label, ignoring accents and case."""
    if value is None:
        return None
    from index.leads.models import LeadStatus
    from index.leads.status import parse_status, status_label

    status = parse_status(value)
    if status is None:
        choices = ", ".join(f"{s.value} ({status_label(s)})" for s in LeadStatus)
        fail(console, f"Trạng thái không hợp lệ: {value!r}. Chọn một trong: {choices}.")
    return status


def _parse_province(console: Console, value: str | None) -> Any:
    """Resolves --province like /leads does; an ambiguous name lists its candidates."""
    if value is None or not value.strip():
        return None
    from index.leads.provinces import resolve_province

    match = resolve_province(value)
    if match.ambiguous:
        choices = "; ".join(candidate.label for candidate in match.candidates)
        fail(
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
        fail(console, f"Ngày không hợp lệ: {value!r} (dùng YYYY-MM-DD hoặc dd/mm/yyyy).")
    return day


def _date_range(
    console: Console, since: str | None, until: str | None
) -> tuple[datetime | None, datetime | None]:
    """Vietnam calendar days --since..--until (both included) as UTC instants."""
    from index.dates import vn_date_range

    return vn_date_range(_parse_day(console, since), _parse_day(console, until))


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
    state = state_of(ctx)
    lead_status = _parse_status(state.console, status)
    match = _parse_province(state.console, province)
    since_dt, until_dt = _date_range(state.console, since, until)
    from index.dates import format_vn_date
    from index.leads import lead_queries
    from index.leads.status import status_label

    try:
        with db_session(ctx) as session:
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
                for lead in lead_queries.list_leads(
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
        fail(state.console, f"Không đọc được hồ sơ: {exc}. Đã chạy `python -m scripts migrate`?")
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
            hint(state.console, f"Không nhận ra tỉnh/thành {province!r}; kiểm tra lại tên.")
        elif filtered:
            hint(state.console, "Không có hồ sơ khớp bộ lọc: bỏ bớt --status/--province/--since.")
        else:
            hint(
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
    state = state_of(ctx)
    lead_status = _parse_status(state.console, status)
    since_dt, until_dt = _date_range(state.console, since, until)
    from index.leads import lead_queries
    from index.leads.export import leads_to_csv, leads_to_xlsx

    target = output or Path(f"leads.{fmt.value}")
    try:
        with db_session(ctx) as session:
            leads = lead_queries.list_leads(
                session=session, status=lead_status, since=since_dt, until=until_dt, limit=None
            )
            payload = leads_to_csv(leads) if fmt is ExportFormat.csv else leads_to_xlsx(leads)
            count = len(leads)
    except typer.Exit:
        raise
    except Exception as exc:
        logger.debug("Export failed", exc_info=True)
        fail(state.console, f"Không xuất được hồ sơ: {exc}. Đã chạy `python -m scripts migrate`?")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
    except OSError as exc:
        fail(state.console, f"Không ghi được tệp {target}: {exc}")
    state.console.print(f"✅ Đã xuất {count} hồ sơ vào [bold]{target}[/].")
    if count == 0:
        hint(state.console, "Tệp chỉ có dòng tiêu đề: không có hồ sơ nào khớp bộ lọc.")
