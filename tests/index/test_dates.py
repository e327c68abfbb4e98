"""Vietnamese dates and Vietnam-time day boundaries."""

from __future__ import annotations

import datetime as dt

from index.dates import (
    VN_TZ,
    format_vn_date,
    parse_vn_date,
    to_iso_date,
    vn_date_range,
    vn_day_bounds,
)


def test_parse_the_ways_people_write_dates() -> None:
    assert parse_vn_date("25/11/2026") == dt.date(2026, 11, 25)
    assert parse_vn_date("5-7-2012") == dt.date(2012, 7, 5)
    assert parse_vn_date("2026-11-25") == dt.date(2026, 11, 25)
    assert parse_vn_date("Hà Nội, ngày 21 tháng 5 năm 2012") == dt.date(2012, 5, 21)
    assert parse_vn_date("ngay 21 thang 5 nam 2012") == dt.date(2012, 5, 21)
    assert parse_vn_date("31/02/2026") is None
    assert parse_vn_date("hôm qua") is None


def test_format_omits_unknown_and_keeps_partial_dates() -> None:
    assert format_vn_date("2012-05-21") == "21/05/2012"
    assert format_vn_date("2016-06") == "06/2016"
    assert format_vn_date("2018") == "2018"
    assert format_vn_date("unknown") == "" and format_vn_date(None) == ""
    assert to_iso_date("unknown") is None and to_iso_date(dt.date(2014, 2, 18)) == "2014-02-18"


def test_a_lead_at_three_in_the_morning_belongs_to_that_vietnam_day() -> None:
    created = dt.datetime(2026, 11, 25, 3, 0, tzinfo=VN_TZ).astimezone(dt.UTC)
    assert created.day == 24  # 24/11 20:00 UTC
    start, end = vn_day_bounds(dt.date(2026, 11, 25))
    assert start <= created < end
    assert start == dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)
    assert format_vn_date(created) == "25/11/2026"
    assert format_vn_date(created, with_time=True) == "25/11/2026 03:00"


def test_a_date_range_covers_whole_vietnam_days_at_both_ends() -> None:
    start, end = vn_date_range(dt.date(2026, 11, 25), dt.date(2026, 11, 26))
    assert start == dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.UTC)  # 27/11 00:00 in Vietnam
    three_am = dt.datetime(2026, 11, 25, 3, 0, tzinfo=VN_TZ)
    last_minute = dt.datetime(2026, 11, 26, 23, 59, tzinfo=VN_TZ)
    assert start is not None and end is not None
    assert start <= three_am < end and start <= last_minute < end
    assert vn_date_range(None, None) == (None, None)
    assert vn_date_range(None, dt.date(2026, 1, 1))[0] is None
