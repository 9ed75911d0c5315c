"""Parsers for single cells: INSZ, sex, names, numbers, school ids, codes.

Each raises ValueError with a short message for the user ("is not a real date"); the import that
calls it adds file, row, column and a hint.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from stdnum.be import bis, nn
from stdnum.exceptions import ValidationError

from clbhealth.core.privacy import holds_insz_like, mask_insz, mask_insz_like  # noqa: F401 (re-exported)

MAX_NAME_CHARS = 100
MAX_TEXT_CHARS = 200
_FORMULA_START = ("=", "+", "@")


def text_of(value: object) -> str | None:
    """A cell as trimmed text (integral numbers without '.0'), None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def parse_name(value: object, max_chars: int = MAX_NAME_CHARS) -> str:
    """A person's name: letters required, no formula, not absurdly long."""
    text = text_of(value)
    if text is None:
        raise ValueError("is empty")
    check_not_formula(text)
    if len(text) > max_chars:
        raise ValueError(f"is {len(text)} characters long (at most {max_chars})")
    check_no_insz(text)
    if not any(ch.isalpha() for ch in text):
        raise ValueError("holds no letters")
    return text


def parse_label(value: object, max_chars: int = MAX_TEXT_CHARS, *, insz_ok: bool = False) -> str | None:
    """A free label (class name, street): trimmed, no formula, bounded length; None when blank.

    A valid INSZ in it is refused unless `insz_ok` (a lot number may look like one).
    """
    text = text_of(value)
    if text is None:
        return None
    check_not_formula(text)
    if len(text) > max_chars:
        raise ValueError(f"is {len(text)} characters long (at most {max_chars})")
    if not insz_ok:
        check_no_insz(text)
    return text


def check_no_insz(text: str) -> None:
    """Refuse a name or label holding a valid INSZ: it would reach the schools' files and the logs."""
    for digits in holds_insz_like(text):
        if len(digits) == 11 and (nn.is_valid(digits) or bis.is_valid(digits)):
            raise ValueError("holds a national register number (INSZ); it belongs in the INSZ column only, "
                             "never in a name or label")


def check_not_formula(text: str) -> None:
    """Refuse text that a spreadsheet would run as a formula (=, +, @ at the start), an error value, or
    a control character (an escape sequence would reach the terminal and the files)."""
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValueError("holds a control character; only plain text is accepted")
    if text.startswith(_FORMULA_START) or (
        text.startswith("-") and len(text) > 1 and not text[1:].replace(" ", "").isalnum()
    ):  # '-1' is a number and '-A' text to Excel, but '-1+A1' is a formula
        raise ValueError("looks like a spreadsheet formula; only plain text is accepted")
    if text.upper() in SPREADSHEET_ERRORS:
        raise ValueError(f"is the spreadsheet error {text}: the formula behind it failed; type the value instead")


SPREADSHEET_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!",
                                "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!"})


def parse_school_id(value: object) -> str:
    """A school id: numbers lose leading zeros (000018 = 18), text is upper-cased."""
    text = text_of(value)
    if text is None:
        raise ValueError("is empty")
    check_not_formula(text)
    compact = text.replace(" ", "")
    if compact.isdigit():
        return str(int(compact))
    if len(compact) > 40 or not re.fullmatch(r"[0-9A-Za-z_\-./]+", compact):
        raise ValueError("is not a school id (digits, e.g. the instellingsnummer)")
    return compact.upper()


def parse_pupil_number(value: object) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    check_not_formula(text)
    compact = text.replace(" ", "")
    if len(compact) > 40:
        raise ValueError("is too long for a pupil number")
    return compact


@dataclass(frozen=True)
class Insz:
    """A validated national register (or BIS) number with what it encodes."""

    number: str
    birth_date: dt.date | None
    birth_year: int | None
    sex: str | None  # 'M' or 'V'; None when a BIS number does not encode it

    def masked(self) -> str:
        return mask_insz(self.number)


def parse_insz(value: object) -> Insz | None:
    """An INSZ (rijksregisternummer) or BIS number, in any usual notation; None when blank."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value).zfill(11)  # Excel drops the leading zero of numbers born 2000-2009
    else:
        text = str(value).strip().lstrip("'")  # Excel's text prefix
        if not text:
            return None
        if re.fullmatch(r"\d{9,10}\.0", text):
            text = text[:-2].zfill(11)
        if re.fullmatch(r"\d(?:[.,]\d+)?[eE]\+?\d+", text):
            raise ValueError("was shortened by Excel to a number in scientific notation; format the column as "
                             "text in the school software's export and export again")
    compact = re.sub(r"[\s.\-/]", "", text)
    if not compact.isdigit():
        raise ValueError("is not a national register number (11 digits, e.g. 85.07.30-033.28)")
    if len(compact) == 10:
        compact = "0" + compact
    if len(compact) != 11:
        raise ValueError(f"has {len(compact)} digits; a national register number has 11")
    for module in (nn, bis):
        try:
            module.validate(compact)
        except ValidationError:
            continue
        sex = module.get_gender(compact)
        return Insz(
            number=compact,
            birth_date=module.get_birth_date(compact),
            birth_year=module.get_birth_year(compact),
            sex=None if sex is None else ("M" if sex == "M" else "V"),
        )
    raise ValueError("has wrong check digits (not a valid national register number)")


_SEX = {
    "m": "M", "man": "M", "mannelijk": "M", "jongen": "M", "male": "M", "boy": "M", "h": "M",
    "v": "V", "vrouw": "V", "vrouwelijk": "V", "meisje": "V", "f": "V", "female": "V", "girl": "V", "w": "V",
    "x": "X", "onbekend": "X", "other": "X", "ander": "X",
}


def parse_sex(value: object) -> str:
    text = text_of(value)
    if text is None:
        raise ValueError("is empty")
    key = text.lower().strip(". ")
    if key not in _SEX:
        raise ValueError("is not a sex; write M, V or X")
    return _SEX[key]


_EDUCATION = {
    "gewoon": "gewoon", "regular": "gewoon", "go": "gewoon", "gewoon onderwijs": "gewoon",
    "buitengewoon": "buitengewoon", "buo": "buitengewoon", "bubao": "buitengewoon", "buso": "buitengewoon",
    "special": "buitengewoon", "buitengewoon onderwijs": "buitengewoon",
    "okan": "okan",
    "huisonderwijs": "huisonderwijs", "home": "huisonderwijs", "home education": "huisonderwijs",
}


def parse_education(value: object) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).lower()
    if plain in _EDUCATION:
        return _EDUCATION[plain]
    for key in ("huisonderwijs", "buitengewoon", "okan"):
        if key in plain:
            return key
    raise ValueError("is not a form of education; write gewoon, buitengewoon, okan or huisonderwijs")


def parse_bool(value: object) -> bool:
    text = text_of(value)
    if text is None:
        return False
    key = text.lower()
    if key in {"1", "true", "waar", "ja", "yes", "j", "y", "x"}:
        return True
    if key in {"0", "false", "onwaar", "nee", "no", "n"}:
        return False
    raise ValueError("is not yes or no")


def parse_coordinate(value: object, low: float, high: float) -> float | None:
    """A latitude or longitude, with a decimal point or comma; None when blank."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise ValueError("is not a number") from None
    if not low <= number <= high:
        raise ValueError(f"lies outside {low}..{high}")
    return number
