"""The one phone rule: a Vietnamese mobile or fixed-line number, stored in E.164.

Staff call owners back from Vietnam, so a number outside Vietnam (or a premium, toll-free or
shared-cost one) is not a way to reach an owner. `LeadCreate` and every adapter use this rule.
"""

from __future__ import annotations

import re

import phonenumbers

_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)
_SEPARATORS = re.compile(r"[\s.\-()]")
_DIGITS = re.compile(r"\+?\d{8,15}")


class InvalidPhoneError(ValueError):
    """The text is not a Vietnamese mobile or fixed-line number."""


def _candidates(compact: str) -> list[str]:
    if compact.startswith("0084"):
        return ["+" + compact[2:], compact]
    if compact.startswith("84"):
        # Telegram shares contacts as "84912345678", without the plus.
        return ["+" + compact, compact]
    return [compact]


def normalize_vn_phone(raw: str) -> str:
    """Parses a Vietnamese phone number as typed or shared into E.164.

    Args:
        raw: E.g. "0912 345 678", "+84 912-345-678", "84912345678", "024 3825 1234".

    Returns:
        The E.164 form, e.g. "+84912345678".

    Raises:
        InvalidPhoneError: (a ValueError) if it is not a valid Vietnamese mobile or fixed-line
            number.
    """
    compact = _SEPARATORS.sub("", raw.strip())
    if _DIGITS.fullmatch(compact):
        for candidate in _candidates(compact):
            try:
                number = phonenumbers.parse(candidate, "VN")
            except phonenumbers.NumberParseException:
                continue
            if (
                phonenumbers.is_valid_number(number)
                and phonenumbers.region_code_for_number(number) == "VN"
                and phonenumbers.number_type(number) in _PHONE_TYPES
            ):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneError(f"not a Vietnamese phone number: {raw!r}")
