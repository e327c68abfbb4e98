"""CSV and XLSX exports: Vietnamese intact, Excel-friendly, formula injection neutralised."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from index.leads.export import (
    CSV_DATE_HEADER,
    XLSX_DATE_HEADER,
    leads_to_csv,
    leads_to_xlsx,
    neutralize_formula,
)
from index.leads.models import Lead, LeadStatus
from tests.leads.factories import make_lead_in

HEADERS = [
    "ID",
    "Họ tên",
    "Số điện thoại",
    "Cơ sở",
    "Loại hình",
    "Ngành nghề",
    "Tỉnh/thành",
    "Quận/huyện",
    "Nhu cầu hỗ trợ",
    "Trạng thái",
]


def _lead(lead_id: int, **overrides: object) -> Lead:
    status = overrides.pop("status", LeadStatus.new)
    lead = Lead.model_validate(make_lead_in(**overrides))
    lead.id = lead_id
    lead.status = status  # type: ignore[assignment]
    lead.created_at = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    return lead


@pytest.fixture
def leads() -> list[Lead]:
    return [
        _lead(1, phone="0912345678"),
        _lead(
            2,
            full_name='=HYPERLINK("http://evil")',
            establishment_name="+cmd|' /C calc'!A0",
            sector="-2+3",
            district="@SUM(A1)",
            province="Thừa Thiên Huế",
            status=LeadStatus.not_eligible,
            establishment_type=None,
        ),
    ]


def test_csv_has_bom_vietnamese_header_and_values(leads: list[Lead]) -> None:
    data = leads_to_csv(leads)

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS + [CSV_DATE_HEADER]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["ID"] == "1"
    assert first["Họ tên"] == "Nguyễn Văn Ánh"
    assert first["Số điện thoại"] == "+84912345678"
    assert first["Tỉnh/thành"] == "Đồng Tháp"
    assert first["Nhu cầu hỗ trợ"] == "Máy móc thiết bị; Xúc tiến thương mại"
    assert first["Trạng thái"] == "Mới"
    assert first[CSV_DATE_HEADER] == "2026-03-01T09:30:00+07:00"
    assert datetime.fromisoformat(first[CSV_DATE_HEADER]) == datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    assert len(rows) == 3


def test_csv_neutralises_formulas(leads: list[Lead]) -> None:
    rows = list(csv.reader(io.StringIO(leads_to_csv(leads).decode("utf-8-sig"))))
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["Họ tên"] == '\'=HYPERLINK("http://evil")'
    assert second["Cơ sở"] == "'+cmd|' /C calc'!A0"
    assert second["Ngành nghề"] == "'-2+3"
    assert second["Quận/huyện"] == "'@SUM(A1)"
    assert second["Loại hình"] == ""
    assert second["Trạng thái"] == "Không đủ điều kiện"


def test_csv_of_no_leads_is_just_the_header() -> None:
    rows = list(csv.reader(io.StringIO(leads_to_csv([]).decode("utf-8-sig"))))
    assert rows == [HEADERS + [CSV_DATE_HEADER]]


def test_xlsx_header_values_and_dates(leads: list[Lead]) -> None:
    sheet = load_workbook(io.BytesIO(leads_to_xlsx(leads))).active
    assert sheet is not None

    header = [cell.value for cell in sheet[1]]
    assert header == HEADERS + [XLSX_DATE_HEADER]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 26

    first = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert first["ID"] == 1
    assert first["Họ tên"] == "Nguyễn Văn Ánh"
    assert first["Tỉnh/thành"] == "Đồng Tháp"
    assert first["Số điện thoại"] == "+84912345678"
    # Excel has no time zones: Vietnam local time, naive.
    assert first[XLSX_DATE_HEADER] == datetime(2026, 3, 1, 9, 30)
    assert sheet.max_row == 3


def test_xlsx_neutralises_formulas(leads: list[Lead]) -> None:
    sheet = load_workbook(io.BytesIO(leads_to_xlsx(leads))).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    second = dict(zip(header, [cell.value for cell in sheet[3]], strict=True))
    assert second["Họ tên"] == '\'=HYPERLINK("http://evil")'
    assert second["Quận/huyện"] == "'@SUM(A1)"
    assert second["Tỉnh/thành"] == "Thừa Thiên Huế"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("\tx", "'\tx"), ("Ánh", "Ánh"), ("a=b", "a=b"), ("", "")],
)
def test_neutralize_formula(value: str, expected: str) -> None:
    assert neutralize_formula(value) == expected
