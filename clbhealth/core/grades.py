"""Grades (leerjaren) K1-K3, L1-L6, S1-S7 and the many ways schools write them."""

from __future__ import annotations

import re
import unicodedata

GRADES: tuple[str, ...] = (
    "K1", "K2", "K3",
    "L1", "L2", "L3", "L4", "L5", "L6",
    "S1", "S2", "S3", "S4", "S5", "S6", "S7",
)
GRADE_INDEX: dict[str, int] = {grade: i for i, grade in enumerate(GRADES)}
_MAX = {"K": 3, "L": 6, "S": 7}

LEVELS = ("kleuter", "lager", "basis", "secundair", "buitengewoon", "huisonderwijs")
# The grades (by first letter) a school of each level teaches.
GRADE_LEVELS = {"kleuter": "K", "lager": "L", "basis": "KL", "secundair": "S"}


def grade_fits_level(grade: str | None, level: str | None) -> bool:
    """False when a grade (K1, L3, S2) cannot be taught at a school of this level."""
    if not grade or level not in GRADE_LEVELS:
        return True
    return grade[0] in GRADE_LEVELS[level]


def standard_age(grade: str) -> int:
    """The age a pupil usually turns in the calendar year the school year starts in this grade."""
    return GRADE_INDEX[grade] + 3


_ORDINAL_WORDS = {
    "eerste": 1, "tweede": 2, "derde": 3, "vierde": 4, "vijfde": 5, "zesde": 6, "zevende": 7,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
}
_SECONDARY_WORDS = re.compile(r"\b(aso|tso|bso|kso|secundair|middelbaar|stroom|so)\b")
_KINDERGARTEN_WORDS = re.compile(r"kleuter|\bkk\b|\bko\b|peuter|instap|onthaal")
_PRIMARY_WORDS = re.compile(r"\blager\b|\blo\b|\bprimair\b")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def parse_grade(value: object, level: str | None = None) -> str | None:
    """The grade code for a cell such as 'L1', '1ste leerjaar', '3de jaar', '2A', '3KO' or '1'.

    `level` is the school's level (kleuter, lager, basis, secundair, buitengewoon); it decides
    what a bare number or 'jaar' means. Returns None for an empty cell and for 'OKAN'; raises
    ValueError with a message for the user when the text is not a grade or is ambiguous.
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _plain(str(value))
    if not text:
        return None
    if text in {"okan", "onthaalklas", "onthaaljaar"}:
        return None
    if "graad" in text:
        raise ValueError("is a stage (graad), not a year; write the year, e.g. S1 or S3")
    compact = re.sub(r"[\s._\-]", "", text)
    explicit = re.fullmatch(r"([klsp])([0-7])[a-z]*", compact)
    if explicit:
        letter, number = explicit.group(1), int(explicit.group(2))
        return _make("L" if letter == "p" else letter.upper(), number)
    prefixed = re.fullmatch(r"(kl|lo|so)([0-7])[a-z]*", compact)
    if prefixed:
        return _make({"kl": "K", "lo": "L", "so": "S"}[prefixed.group(1)], int(prefixed.group(2)))

    number: int | None = None
    match = re.match(r"\s*(\d+)\s*(?:ste|de|e|st|nd|rd|th|d)?\b", text) or re.match(r"\s*(\d+)", text)
    if match:
        number = int(match.group(1))
    else:
        for word, n in _ORDINAL_WORDS.items():
            if re.search(rf"\b{word}\b", text):
                number = n
                break
    if number is None:
        if _KINDERGARTEN_WORDS.search(text):
            return "K1"  # a peuter- or instapklas: K1 is planned by birth year anyway
        raise ValueError("is not a grade; write K1-K3, L1-L6 or S1-S7 (or e.g. '1ste leerjaar')")

    rest = compact[len(str(number)) :] if match else compact
    if _KINDERGARTEN_WORDS.search(text) or re.fullmatch(r"(ste|de|e)?k[a-z]{0,2}", rest or "-"):
        return _make("K", max(number, 1))
    if _SECONDARY_WORDS.search(text):
        return _make("S", number)
    if _PRIMARY_WORDS.search(text):
        return _make("L", number)
    if level in ("kleuter",):
        return _make("K", max(number, 1))
    if level in ("lager", "basis"):
        return _make("L", number)
    if level == "secundair":
        return _make("S", number)
    if "leerjaar" in text:
        return _make("L", number)
    raise ValueError(
        "is ambiguous for this school (primary or secondary?); write it as L1-L6 or S1-S7"
    )


def _make(letter: str, number: int) -> str:
    if not 1 <= number <= _MAX[letter]:
        kind = {"K": "kindergarten goes K1-K3", "L": "primary goes L1-L6", "S": "secondary goes S1-S7"}[letter]
        raise ValueError(f"is not a grade ({kind})")
    return f"{letter}{number}"


def parse_level(value: object) -> str | None:
    """A school level from 'basisschool', 'Autonome kleuterschool', 'secundair', ..."""
    if value is None:
        return None
    text = _plain(str(value))
    if not text:
        return None
    if "buitengewoon" in text or text.startswith(("buo", "bubao", "buso", "bulo", "buko")):
        return "buitengewoon"
    if "huisonderwijs" in text:
        return "huisonderwijs"
    if "kleuter" in text:
        return "kleuter"
    if "lager" in text or "primair" in text or text == "primary":
        return "lager"
    if "basis" in text:
        return "basis"
    if "secundair" in text or "middelbaar" in text or text in {"secondary", "so"}:
        return "secundair"
    raise ValueError("is not a school level; write kleuter, lager, basis, secundair or buitengewoon")
