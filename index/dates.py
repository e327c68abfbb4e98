"""Dates as Vietnamese users write and read them, and Vietnam-time day boundaries.

Everything is stored in UTC and shown in Vietnam time (UTC+7, no daylight saving). A filter
"từ 25/11/2026" means from 25/11 00:00 in Vietnam, which is 24/11 17:00 UTC: `vn_day_bounds`
is the one place that does this conversion.
"""

from __future__ import annotations

import datetime as dt
import re

#: Vietnam time. A fixed offset: Vietnam has no daylight saving time.
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

_ISO_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_DMY_RE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
# "ngày 21 tháng 5 năm 2012", also typed without accents ("ngay 21 thang 5 nam 2012").
_WORDS_RE = re.compile(
    r"ng[aà]y\s+(\d{1,2})\s+th[aá]ng\s+(\d{1,2})\s+n[aă]m\s+(\d{4})", re.IGNORECASE
)
_PARTIAL_RE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?\s*$")


def parse_vn_date(text: str) -> dt.date | None:
    """Reads a date written as 25/11/2026, 25-11-2026, 2026-11-25 or "ngày 25 tháng 11 năm 2026".

    Args:
        text: What the user or the document wrote.

    Returns:
        The date, or None when the text is not a valid date.
    """
    for pattern, order in ((_DMY_RE, "dmy"), (_ISO_RE, "ymd"), (_WORDS_RE, "dmy")):
        match = pattern.search(text) if pattern is _WORDS_RE else pattern.match(text)
        if match is None:
            continue
        a, b, c = (int(g) for g in match.groups())
        day, month, year = (a, b, c) if order == "dmy" else (c, b, a)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None


def format_vn_date(value: dt.date | dt.datetime | str | None, *, with_time: bool = False) -> str:
    """Formats a date for users: 21/05/2012, or 21/05/2012 14:30 in Vietnam time.

    ISO strings are accepted, including the partial "2016-06" (shown 06/2016) and "2018".
    Anything unreadable ("unknown", "") gives "", so callers can omit it.

    Args:
        value: A date, an aware datetime (converted to Vietnam time), an ISO string, or None.
        with_time: Add hours and minutes (datetimes only).

    Returns:
        The formatted date, or "" when there is none.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        local = moment.astimezone(VN_TZ)
        return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    parsed = parse_vn_date(value)
    if parsed is not None:
        return parsed.strftime("%d/%m/%Y")
    partial = _PARTIAL_RE.match(value)
    if partial is not None:
        year, month = partial.group(1), partial.group(2)
        return f"{int(month):02d}/{year}" if month else year
    return ""


def to_iso_date(value: object) -> str | None:
    """Normalises a metadata date (date object, ISO or Vietnamese text) to ISO, or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    parsed = parse_vn_date(text)
    if parsed is not None:
        return parsed.isoformat()
    if _PARTIAL_RE.match(text):
        return text
    return None


def vn_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a Vietnam-time calendar day starts and the next one starts.

    Args:
        day: A calendar day in Vietnam.

    Returns:
        (start, end) as aware UTC datetimes; a moment t is on that day when start <= t < end.
    """
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=VN_TZ).astimezone(dt.UTC)
    return start, start + dt.timedelta(days=1)


def vn_date_range(
    since: dt.date | None, until: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The UTC instants that cover Vietnam calendar days `since` to `until`, both included.

    Args:
        since: First day, or None for no lower bound.
        until: Last day (included), or None for no upper bound.

    Returns:
        (start, end) for a filter start <= t < end; None where there is no bound.
    """
    start = vn_day_bounds(since)[0] if since is not None else None
    end = vn_day_bounds(until)[1] if until is not None else None
    return start, end


def vn_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Vietnam."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(VN_TZ).date()
