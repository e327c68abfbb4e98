"""Lead exports for staff: CSV (UTF-8 with BOM) and XLSX, with Vietnamese headers.

Owners type their own names and establishment names, so every free-text cell that a
spreadsheet could read as a formula (``= + - @``, tab, carriage return) gets a leading
apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from index.dates import VN_TZ
from index.leads.models import Lead
from index.leads.status import status_label

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_DATE_HEADER = "Ngày tạo"
XLSX_DATE_HEADER = "Ngày tạo (giờ VN)"

# (header, cell value, xlsx column width); the date column is appended per format.
_Column = tuple[str, Callable[[Lead], object], int]
_COLUMNS: tuple[_Column, ...] = (
    ("ID", lambda lead: lead.id, 8),
    ("Họ tên", lambda lead: lead.full_name, 26),
    # Validated E.164 (+84…), never a formula: kept as-is so it stays dialable.
    ("Số điện thoại", lambda lead: lead.phone, 16),
    ("Cơ sở", lambda lead: lead.establishment_name, 32),
    ("Loại hình", lambda lead: lead.establishment_type or "", 18),
    ("Ngành nghề", lambda lead: lead.sector or "", 22),
    ("Tỉnh/thành", lambda lead: lead.province, 16),
    ("Quận/huyện", lambda lead: lead.district or "", 16),
    ("Nhu cầu hỗ trợ", lambda lead: "; ".join(lead.support_items or []), 40),
    ("Trạng thái", lambda lead: status_label(lead.status), 18),
)
_TRUSTED_HEADERS = {"ID", "Số điện thoại"}


def neutralize_formula(value: str) -> str:
    """Prefixes an apostrophe to text a spreadsheet would evaluate as a formula.

    Args:
        value: A cell's text.

    Returns:
        The text, prefixed with ``'`` if it starts with ``= + - @``, tab or CR.
    """
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _cell(header: str, value: object) -> object:
    if isinstance(value, str) and header not in _TRUSTED_HEADERS:
        return neutralize_formula(value)
    return value


def _local(moment: datetime) -> datetime:
    # Stored times are UTC (AwareDateTime); a naive one can only be UTC too.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(VN_TZ)


def leads_to_csv(leads: Sequence[Lead]) -> bytes:
    """Exports leads as CSV that Excel opens with Vietnamese intact.

    Args:
        leads: The leads, in the order to write them.

    Returns:
        UTF-8 bytes with a BOM; the date column is ISO 8601 in Vietnam time with its
        offset, e.g. ``2026-03-01T09:30:00+07:00``.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([header for header, _, _ in _COLUMNS] + [CSV_DATE_HEADER])
    for lead in leads:
        row = [_cell(header, getter(lead)) for header, getter, _ in _COLUMNS]
        row.append(_local(lead.created_at).isoformat(timespec="seconds"))
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8-sig")


def leads_to_xlsx(leads: Sequence[Lead]) -> bytes:
    """Exports leads as an Excel workbook with one sheet "Leads".

    The header row is bold and frozen, columns have readable widths, and the creation
    date is a real Excel datetime in Vietnam time (Excel has no time zones, so the
    value is converted to UTC+7 and stored naive; the header says so).

    Args:
        leads: The leads, in the order to write them.

    Returns:
        The .xlsx file content.
    """
    # openpyxl is imported on the first export (~0.2 CPU-s), not at every bot start.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = "Leads"
    headers = [header for header, _, _ in _COLUMNS] + [XLSX_DATE_HEADER]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for lead in leads:
        row = [_cell(header, getter(lead)) for header, getter, _ in _COLUMNS]
        row.append(_local(lead.created_at).replace(tzinfo=None))
        sheet.append(row)
    date_column = len(headers)
    for row_index in range(2, sheet.max_row + 1):
        sheet.cell(row=row_index, column=date_column).number_format = "yyyy-mm-dd hh:mm"
    widths = [width for _, _, width in _COLUMNS] + [20]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
