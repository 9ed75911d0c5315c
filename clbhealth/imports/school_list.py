"""The government's school list, "Onderwijsaanbod in Vlaanderen", as rows of school sites.

Both shapes (one row per institution, or one per vestigingsplaats) and both forms (`;`, UTF-8 with
BOM, CR line endings as downloaded; `,`/LF as re-saved) are read by `read_table`; this module
turns their rows into site records. Positions come as Belgian Lambert 72 (EPSG:31370) and are
converted to WGS84 with pyproj; 0 or empty means unknown.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from clbhealth.core.errors import ClbError
from clbhealth.imports.common import ImportResult, RowChecker
from clbhealth.readers.tabular import FieldSpec, Table
from clbhealth.readers.values import parse_label, parse_name, parse_school_id, text_of

OFFICIAL_FIELDS = (
    FieldSpec("school_number", ("schoolnummer",), True),
    FieldSpec("site_number", ("intern_vplnummer",)),
    FieldSpec("name", ("naam",), True),
    FieldSpec("main", ("hoofdzetel",)),
    FieldSpec("street", ("straat",)),
    FieldSpec("house", ("huisnummer",)),
    FieldSpec("bus", ("busnummer",)),
    FieldSpec("postcode", ("postcode",)),
    FieldSpec("municipality", ("gemeente",)),
    FieldSpec("lx", ("lx",)),
    FieldSpec("ly", ("ly",)),
    FieldSpec("phone", ("telefoon",)),
    FieldSpec("email", ("e-mail",)),
    FieldSpec("niveau", ("onderwijsniveau",)),
    FieldSpec("kind", ("instellingstype",)),
    FieldSpec("clb", ("clb",)),
)
COMPULSORY = ("BaO", "SO")


def is_official(table: Table) -> bool:
    """The official list has schoolnummer, intern_vplnummer, onderwijsniveau and lx/ly."""
    return all(name in table.columns for name in ("school_number", "site_number", "niveau", "lx", "ly"))


def institution_level(niveau: str, kind: str) -> tuple[str, bool]:
    """(level, special) from onderwijsniveau and instellingstype; an autonomous kindergarten is kleuter."""
    kind = kind.lower()
    if niveau == "SO":
        return "secundair", "buitengewoon" in kind
    if "kleuter" in kind:
        return "kleuter", "buitengewoon" in kind
    if "lagere" in kind:
        return "lager", "buitengewoon" in kind
    return "basis", "buitengewoon" in kind


@lru_cache(maxsize=1)
def _transformer():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)


def lambert72_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) in WGS84 degrees of a Belgian Lambert 72 point (metres)."""
    lon, lat = _transformer().transform(x, y)
    return round(lat, 7), round(lon, 7)


def parse_lambert(value: object) -> float | None:
    """A Lambert 72 coordinate in metres; 0 or empty is None (unknown)."""
    text = text_of(value)
    if text is None:
        return None
    try:
        number = float(str(text).replace(",", "."))
    except ValueError:
        raise ValueError("is not a number of metres") from None
    if number == 0:
        return None
    if not -50_000 <= number <= 400_000:
        raise ValueError("is outside Belgium in Lambert 72 (metres, about 20000-300000)")
    return number


def street_line(street: str | None, house: str | None, bus: str | None) -> str | None:
    """The address as it is written: `Kerkstraat 12 bus 3`."""
    parts = [p for p in (street, house) if p]
    if bus and parts:
        parts.append(f"bus {bus}")
    return " ".join(parts) or None


def parse_official(table: Table, result: ImportResult, clb: str | None) -> tuple[dict, Counter, dict]:
    """Site records by site id, the skipped institutions per onderwijsniveau, and the scope for
    vanished sites ({"clb": ..., "institutions": set, "site_level": bool})."""
    from clbhealth.workspace.schools import site_id

    result.warnings.extend(n for n in table.notes if "columns not used" not in n.message)
    check = RowChecker(table, result.errors, result.warnings)
    parsed: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    skipped: Counter = Counter()
    clbs: Counter = Counter()
    numbers: Counter = Counter()
    for row, cells in table.rows:
        row_clb = str(table.value(cells, "clb") or "").strip()
        clbs[row_clb] += 1
        if clb is not None and row_clb != clb:
            skipped["other CLBs"] += 1
            continue
        niveau = str(table.value(cells, "niveau") or "").strip()
        if niveau not in COMPULSORY:
            skipped[niveau or "no level"] += 1
            continue
        record = _official_record(check, row, cells, niveau)
        if record is None:
            continue
        key = site_id(record["school_number"], record["site_number"])
        if key in parsed:
            check.error(row, "site_number", f"repeats site {key} of row {first_row[key]}",
                        "Each vestigingsplaats (schoolnummer + intern_vplnummer) has one row; remove the repeat.")
            parsed.pop(key)
            continue
        numbers[record["school_number"]] += 1
        parsed[key], first_row[key] = record, row
    if clb is not None and not clbs.get(clb):
        known = ", ".join(c for c, _ in clbs.most_common(5) if c)
        raise ClbError(f"{table.file}: no institution in the list is served by CLB {clb}.",
                       hint=f"Check the CLB's instellingsnummer (column 'clb'; the most frequent: {known}).")
    result.skipped_rows = len(check.bad_rows)
    scope = {"clb": clb, "institutions": set(numbers), "site_level": any(n > 1 for n in numbers.values())}
    return parsed, skipped, scope


def _official_record(check: RowChecker, row: int, cells: list, niveau: str) -> dict | None:
    """One BaO/SO row as a site record, or None when it has errors."""
    before = len(check.errors)
    number = check.parse(row, cells, "school_number", parse_school_id, "Give the schoolnummer as in the list.")
    site = check.parse(row, cells, "site_number", _site_number, "Give the intern_vplnummer (1, 2, ...).")
    name = check.parse(row, cells, "name", lambda v: parse_name(v, 200), "Give the school's name (naam).")
    lx = check.parse(row, cells, "lx", parse_lambert, "Give Lambert 72 metres, e.g. 148311, or 0 if unknown.")
    ly = check.parse(row, cells, "ly", parse_lambert, "Give Lambert 72 metres, e.g. 171089, or 0 if unknown.")
    text = {k: check.parse(row, cells, k, parse_label, "Use plain text.")
            for k in ("street", "house", "bus", "postcode", "municipality", "phone", "email", "kind", "clb", "main")}
    if len(check.errors) > before or number is None or name is None:
        return None
    level, special = institution_level(niveau, text["kind"] or "")
    lat = lon = None
    if lx is not None and ly is not None:
        lat, lon = lambert72_to_wgs84(lx, ly)
    else:
        check.warn(row, "lx", "has no position (lx/ly 0 or empty): the planner cannot place this site",
                   "Fill in lat/lon later with an own-format school CSV, or ask the school for its address position.")
    return {
        "school_number": number, "site_number": site, "name": name,
        "main_site": 0 if (text["main"] or "").lower() in ("false", "nee", "0") else 1,
        "street": street_line(text["street"], text["house"], text["bus"]), "postcode": text["postcode"],
        "municipality": text["municipality"], "lat": lat, "lon": lon, "level": level, "special": int(special),
        "phone": text["phone"], "email": text["email"], "clb": text["clb"], "listed": 1,
    }


def _site_number(value: object) -> int:
    text = text_of(value)
    if text is None:
        return 1
    if not str(text).strip().isdigit():
        raise ValueError("is not a site number (intern_vplnummer: 1, 2, ...)")
    return int(str(text).strip())
