"""Travel between a person's base and a site: straight line x road factor at an average speed,
or an imported matrix of real travel times."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from clbhealth.core.privacy import shown_path
from clbhealth.core.errors import ClbError
from clbhealth.readers.files import read_input_text

EARTH_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


class TravelModel:
    """One-way road km and minutes from a person (or the office) to a site."""

    def __init__(self, road_factor: float, speed_kmh: float, matrix: dict[tuple[str, str], tuple[float, float]] | None = None):
        self.road_factor = road_factor
        self.speed_kmh = speed_kmh
        self.matrix = matrix or {}

    def one_way(self, from_id: str, lat1: float, lon1: float, to_id: str, lat2: float, lon2: float) -> tuple[float, int]:
        """(km, minutes) one way."""
        known = self.matrix.get((from_id, to_id)) or self.matrix.get((to_id, from_id))
        if known is not None:
            minutes, km = known
            return km, int(round(minutes))
        km = haversine_km(lat1, lon1, lat2, lon2) * self.road_factor
        return km, int(round(km / self.speed_kmh * 60))


MAX_MATRIX_BYTES = 50 * 1024 * 1024


def read_matrix(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """A CSV with from_id, to_id, minutes, km (ids: staff ids, school ids or OFFICE)."""
    try:
        text = read_input_text(path, limit=MAX_MATRIX_BYTES, what="travel matrix", encoding="utf-8-sig")
    except ClbError as exc:
        raise ClbError(f"The travel matrix: {exc.message}", hint="Fix [travel] matrix in clbhealth.toml.") from None
    except UnicodeDecodeError:
        raise ClbError(f"The travel matrix {shown_path(path)} is not UTF-8 text.", hint="Save it as CSV UTF-8.") from None
    delimiter = ";" if text.count(";") > text.count(",") else ","
    matrix = {}
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    for row_number, row in enumerate(reader, start=2):
        try:
            key = (row["from_id"].strip(), row["to_id"].strip())
            matrix[key] = (float(row["minutes"].replace(",", ".")), float((row.get("km") or "0").replace(",", ".")))
        except (KeyError, ValueError, AttributeError):
            raise ClbError(f"{shown_path(path, name_only=True)}, row {row_number}: needs from_id, to_id, minutes (and km) as numbers.") from None
    return matrix
