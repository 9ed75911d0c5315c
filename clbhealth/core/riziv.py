"""RIZIV/INAMI (NIHII) numbers of care providers: the vaccinator on a Vaccinnet registration."""

from __future__ import annotations

import re


def parse_riziv(value: object) -> str | None:
    """A RIZIV/INAMI (NIHII) number: 11 digits (dots, dashes and spaces allowed), checked.

    [I] Check digits 7-8 = 97 - (digits 1-6 mod 97), as the number is commonly validated; confirm
    against the RIZIV before relying on it for Vaccinnet.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number cell in Excel
    text = None if value is None else str(value).strip()
    if not text:
        return None
    digits = re.sub(r"[\s.\-/]", "", text)
    if not digits.isdigit() or len(digits) != 11:
        raise ValueError("is not a RIZIV number (11 digits, e.g. 1-23456-78-910)")
    if 97 - int(digits[:6]) % 97 != int(digits[6:8]):
        raise ValueError("has wrong check digits (a typing error?)")
    return digits
