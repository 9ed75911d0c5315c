"""Load and check protocol data files (TOML), versioned by school year."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from clbhealth.core.dates import SchoolYear
from clbhealth.core.errors import ClbError
from clbhealth.core.grades import GRADE_INDEX
from clbhealth.protocols.fields import HINT, Lines, check_fields, check_tables
from clbhealth.readers.files import read_input

@dataclass(frozen=True)
class Product:
    """A vaccine product the CLB gives for some dose codes; the CNK code may be left for the CLB to fill in."""

    name: str
    codes: tuple[str, ...]
    cnk: str
    source: str


@dataclass(frozen=True)
class Rule:
    """One version of a contact moment or vaccination dose."""

    kind: Literal["contact", "vaccination"]
    code: str
    name: str
    source: str
    from_year: SchoolYear
    until_year: SchoolYear | None = None
    select: Literal["class", "birth_year"] = "class"
    grades: tuple[str, ...] = ()
    age: int | None = None
    staff: tuple[str, ...] = ()
    minutes: int = 0
    series: str | None = None
    dose: int = 1
    follows: str | None = None
    interval_months: int = 0
    three_dose_from_age: int | None = None
    interval_months_three_dose: int | None = None
    only_three_dose: bool = False
    catch_up_grades: tuple[str, ...] = ()
    catch_up_max_age: int | None = None
    with_contact: str | None = None
    parents_invited: bool = False
    window_until: str | None = None
    short_interval_months: int | None = None
    two_dose_option_until_age: int | None = None
    not_needed_after: str | None = None
    not_needed_after_age: int | None = None
    disease: str | None = None  # (vaccinations) what the vaccine protects against, in plain Dutch

    def three_dose_age(self, two_dose_option: bool = False) -> int | None:
        """The age at the first dose from which the series has 3 doses (None: never).

        With the 2-dose option for 15-18 (a workspace setting) it moves past `two_dose_option_until_age`.
        """
        if self.three_dose_from_age is None:
            return None
        if two_dose_option and self.two_dose_option_until_age is not None:
            return self.two_dose_option_until_age + 1
        return self.three_dose_from_age

    def in_force(self, year: SchoolYear) -> bool:
        return self.from_year <= year and (self.until_year is None or year <= self.until_year)

    @property
    def is_vaccination(self) -> bool:
        return self.kind == "vaccination"

    def validity(self) -> str:
        if self.until_year is None:
            return f"from {self.from_year}"
        return f"{self.from_year} to {self.until_year}"


@dataclass(frozen=True)
class Protocol:
    """A whole protocol: its contact moments and vaccinations over the school years."""

    id: str
    name: str
    source: str
    first_year: SchoolYear
    compulsory_age: int
    rules: tuple[Rule, ...] = field(default=())
    vaccinations_by_age_education: tuple[str, ...] = ()
    products: tuple[Product, ...] = ()

    def products_for(self, code: str) -> list[Product]:
        """The products that can be given for a dose code."""
        return [p for p in self.products if code in p.codes]

    def parents_invited(self, code: str) -> bool:
        """Whether parents are invited to this contact moment (K1), so each child gets its own time."""
        return any(r.parents_invited for r in self.versions(code))

    def missing_cnk(self) -> list[Product]:
        """Products whose CNK code the CLB still has to fill in (no public source gives it)."""
        return [p for p in self.products if not p.cnk]

    def in_force(self, year: SchoolYear) -> list[Rule]:
        """The rules that apply in `year`, in protocol order."""
        return [r for r in self.rules if r.in_force(year)]

    def versions(self, code: str) -> list[Rule]:
        """Every version of one code, past and present."""
        return [r for r in self.rules if r.code == code]

    def codes(self, year: SchoolYear, kind: str | None = None) -> list[str]:
        """Codes in force in `year` (contacts first, then vaccinations), without repeats."""
        return list(dict.fromkeys(r.code for r in self.in_force(year) if kind is None or r.kind == kind))

    def all_codes(self) -> list[str]:
        return list(dict.fromkeys(r.code for r in self.rules))

    def rule(self, code: str, year: SchoolYear) -> Rule | None:
        """The first version of `code` in force in `year`."""
        return next((r for r in self.rules if r.code == code and r.in_force(year)), None)

    def series_of(self, code: str) -> str:
        rule = next((r for r in self.rules if r.code == code), None)
        return (rule.series or rule.code) if rule else code

    def check_year(self, year: SchoolYear) -> None:
        if year < self.first_year:
            raise ClbError(
                f"The protocol '{self.id}' starts in {self.first_year}; it has no rules for {year}.",
                hint="The five systematic contact moments exist since 2019-2020.",
            )


MAX_PROTOCOL_BYTES = 10 * 1024 * 1024


def load_protocol(name_or_path: str, base: Path | None = None) -> Protocol:
    """Load a bundled protocol by id ('flanders') or a CLB's own TOML file by path."""
    path = Path(name_or_path)
    if base is not None and not path.is_absolute():
        path = base / path
    if name_or_path.endswith(".toml"):
        text = _protocol_text(path)
        label = str(path)
    else:
        resource = resources.files("clbhealth.protocols").joinpath(f"{name_or_path}.toml")
        if not resource.is_file():
            raise ClbError(
                f"Unknown protocol '{name_or_path}'.",
                hint="Use 'flanders' or the path of a protocol .toml file in clbhealth.toml.",
            )
        text = resource.read_text(encoding="utf-8")
        label = f"protocol '{name_or_path}'"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClbError(f"{label} is not valid TOML: {exc}", hint=HINT) from None
    return _build(label, data, Lines(text))




def _protocol_text(path: Path) -> str:
    """A CLB's own protocol file as text, or a clear error: missing, not a file, too big, binary, not UTF-8."""
    hint = ("Fix 'protocol' in clbhealth.toml, or start from a copy of the bundled flanders.toml "
            "(the clbhealth/protocols folder of the installation).")
    if not path.exists():
        raise ClbError(f"Protocol file {path} does not exist.", hint=hint)
    if not path.is_file():
        raise ClbError(f"Protocol file {path} is not a file.", hint=hint)
    raw = read_input(path, limit=MAX_PROTOCOL_BYTES, what="protocol file")  # a regular file of a sane size
    if b"\0" in raw:
        raise ClbError(f"Protocol file {path} is not a text file.", hint=hint)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ClbError(f"Protocol file {path} is not UTF-8 text (line {line}; saved as Windows-1252?).",
                       hint="Save it as UTF-8 (in Notepad: Save as, Encoding UTF-8).") from None


def _build(label: str, data: dict, lines: Lines) -> Protocol:
    """The protocol from its TOML data, every table and field checked against the schema (protocols.fields)."""
    def fail(message: str) -> ClbError:
        return ClbError(f"{label}: {message}", hint=HINT)

    check_tables(label, data, lines)
    head = data.get("protocol", {})
    if not isinstance(head, dict):
        raise fail("[protocol] must be a table (name, source, first_year)")
    for kind in ("contact", "vaccination", "product"):
        if not isinstance(data.get(kind, []), list) or not all(isinstance(r, dict) for r in data.get(kind, [])):
            raise fail(f"'{kind}' must be a list of [[{kind}]] tables")
    check_fields(label, "[protocol]", "protocol", 1, head, lines)
    for kind in ("contact", "vaccination", "product"):
        for n, raw in enumerate(data.get(kind, []), start=1):
            where = f"{kind} #{n}" + (f" ({raw['code']})" if isinstance(raw.get("code"), str) else "")
            check_fields(label, where, kind, n, raw, lines)
    if not data.get("contact") and not data.get("vaccination"):
        raise fail("has no [[contact]] or [[vaccination]] rules: a protocol lists the rules it applies")
    if not str(head.get("name", "")).strip():
        raise fail("[protocol] lacks 'name'")
    try:
        first_year = SchoolYear.parse(head.get("first_year", "2019-2020"))
    except ValueError as exc:
        raise fail(str(exc)) from None
    rules = [_rule(kind, n, raw, fail) for kind in ("contact", "vaccination")
             for n, raw in enumerate(data.get(kind, []), start=1)]
    codes = {r.code for r in rules}
    for rule in rules:
        for name, other in (("follows", rule.follows), ("with_contact", rule.with_contact),
                            ("not_needed_after", rule.not_needed_after)):
            if other and other not in codes:
                raise fail(f"{rule.code}: {name} names unknown code '{other}'")
    products = tuple(_product(n, raw, codes, fail) for n, raw in enumerate(data.get("product", []), start=1))
    return Protocol(
        id=str(head.get("id", "custom")),
        name=str(head.get("name", "")),
        source=str(head.get("source", "")),
        first_year=first_year,
        compulsory_age=int(head.get("compulsory_age", 5)),
        rules=tuple(rules),
        vaccinations_by_age_education=tuple(head.get("vaccinations_by_age_education", ())),
        products=products,
    )


_RULE_DEFAULTS = {
    "select": "class", "age": None, "series": None, "follows": None, "three_dose_from_age": None,
    "interval_months_three_dose": None, "catch_up_max_age": None, "with_contact": None, "window_until": None,
    "short_interval_months": None, "two_dose_option_until_age": None, "not_needed_after": None,
    "not_needed_after_age": None, "disease": None,
}


def _rule(kind: str, n: int, raw: dict, fail) -> Rule:
    """One [[contact]] or [[vaccination]] table, checked."""
    for required in ("code", "name", "source", "from_year"):
        if required not in raw:
            raise fail(f"{kind} #{n} lacks '{required}' (every rule cites its source)")
    try:
        rule = Rule(
            kind=kind,  # type: ignore[arg-type]
            code=str(raw["code"]), name=str(raw["name"]), source=str(raw["source"]),
            from_year=SchoolYear.parse(raw["from_year"]),
            until_year=SchoolYear.parse(raw["until_year"]) if raw.get("until_year") else None,
            grades=tuple(raw.get("grades", ())), staff=tuple(raw.get("staff", ())),
            minutes=int(raw.get("minutes", 0)), dose=int(raw.get("dose", 1)),
            interval_months=int(raw.get("interval_months", 0)),
            only_three_dose=bool(raw.get("only_three_dose", False)),
            catch_up_grades=tuple(raw.get("catch_up_grades", ())),
            parents_invited=bool(raw.get("parents_invited", False)),
            **{key: raw.get(key, default) for key, default in _RULE_DEFAULTS.items()},
        )
    except (ValueError, TypeError) as exc:
        raise fail(f"{kind} #{n} ({raw.get('code')}): {exc}") from None
    for grade in (*rule.grades, *rule.catch_up_grades):
        if grade not in GRADE_INDEX:
            raise fail(f"{rule.code}: unknown grade '{grade}'")
    if rule.select not in ("class", "birth_year"):
        raise fail(f"{rule.code}: select must be 'class' or 'birth_year'")
    if rule.follows is None and (not rule.grades or rule.age is None):
        raise fail(f"{rule.code}: needs 'grades' and 'age' (or 'follows' for a later dose)")
    return rule


def _product(n: int, raw: dict, codes: set[str], fail) -> Product:
    """One [[product]] table: a name, the dose codes it serves, its CNK code ('' = for the CLB to fill in)."""
    if not raw.get("name") or not raw.get("codes") or "source" not in raw:
        raise fail(f"product #{n} needs 'name', 'codes' and 'source'")
    cnk = str(raw.get("cnk", "")).strip()
    if cnk and not (cnk.isdigit() and len(cnk) == 7):
        raise fail(f"product {raw['name']}: cnk '{cnk}' is not a 7-digit CNK code (leave it empty when unknown)")
    for code in raw["codes"]:
        if code not in codes:
            raise fail(f"product {raw['name']}: unknown dose code '{code}'")
    return Product(str(raw["name"]), tuple(raw["codes"]), cnk, str(raw["source"]))
