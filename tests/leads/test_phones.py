"""The one phone rule: Vietnamese mobile and fixed-line numbers only, stored in E.164."""

from __future__ import annotations

import pytest

from index.leads.phones import InvalidPhoneError, normalize_vn_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("+84 912-345-678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),  # how Telegram shares a contact
        ("0084912345678", "+84912345678"),
        ("(024) 3825 1234", "+842438251234"),
        ("024 3825 1234", "+842438251234"),
        ("02773 851 234", "+842773851234"),
    ],
)
def test_vietnamese_numbers_are_stored_in_e164(raw: str, expected: str) -> None:
    assert normalize_vn_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "0912",
        "0112345678",  # no such Vietnamese prefix
        "+14155552671",  # a valid US number is not a way to reach an owner here
        "+4930123456",
        "19001234",  # shared-cost service number
        "số của tôi",
        "",
    ],
)
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneError):
        normalize_vn_phone(raw)
    # InvalidPhoneError is a ValueError, which pydantic turns into a validation error.
    assert issubclass(InvalidPhoneError, ValueError)
