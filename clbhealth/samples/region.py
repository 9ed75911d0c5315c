"""Large fictional regions (up to all of Flanders) made directly as DataFrames in the shape of the
pupils and events tables, for the benchmarks: vectorised and seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clbhealth.core.dates import SchoolYear
from clbhealth.core.grades import GRADES
from clbhealth.samples.names import BOYS, GIRLS, LAST
from clbhealth.samples.year import SAMPLE_YEAR


def population_frame(n_pupils: int, year: SchoolYear = SAMPLE_YEAR, seed: int = 1,
                     pupils_per_school: int = 320) -> pd.DataFrame:
    """`n_pupils` fictional pupils as a DataFrame in the pupils table's shape (vectorised, fast)."""
    rng = np.random.default_rng(seed)
    n_schools = max(1, n_pupils // pupils_per_school)
    school = rng.integers(0, n_schools, n_pupils)
    secondary = school % 4 == 0
    grade_index = np.where(secondary, rng.integers(9, 15, n_pupils), rng.integers(0, 9, n_pupils))
    shift = rng.choice([0, 1, -1], size=n_pupils, p=[0.94, 0.05, 0.01])
    birth_year = year.start_year - (grade_index + 3) - shift
    birth = (pd.to_datetime(birth_year.astype(str), format="%Y")
             + pd.to_timedelta(rng.integers(0, 365, n_pupils), unit="D"))
    grades = np.array(GRADES, dtype=object)[grade_index]
    no_grade = rng.random(n_pupils) < 0.01
    grades[no_grade] = None
    education = np.where(no_grade, "buitengewoon", "gewoon").astype(object)
    letters = np.array(list("ABC"), dtype=object)[rng.integers(0, 3, n_pupils)]
    class_names = np.where(no_grade, "BuO", np.array([g[1] if g else "" for g in grades], dtype=object) + letters)
    return pd.DataFrame({
        "pupil_id": np.arange(1, n_pupils + 1),
        "last_name": np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n_pupils)],
        "first_name": np.array(BOYS + GIRLS, dtype=object)[rng.integers(0, len(BOYS) + len(GIRLS), n_pupils)],
        "school_id": (100000 + school).astype(str).astype(object),
        "class_name": class_names,
        "grade": grades,
        "education": education,
        "birth_date": birth.strftime("%Y-%m-%d").astype(object),
        "sex": np.where(rng.random(n_pupils) < 0.51, "M", "V").astype(object),
    })


def history_frame(pupils: pd.DataFrame, year: SchoolYear = SAMPLE_YEAR, seed: int = 2) -> pd.DataFrame:
    """Past contacts done for most pupils and this year's consent forms, vectorised."""
    rng = np.random.default_rng(seed)
    from clbhealth.core.grades import GRADE_INDEX

    grade_index = pupils["grade"].map(GRADE_INDEX).fillna(-1).to_numpy(int)
    frames = []
    for code, target in (("K1", 0), ("L1", 3), ("L4", 6), ("L6", 8), ("DTPa-IPV", 3), ("MMR2", 6)):
        years_ago = grade_index - target
        mask = (years_ago > 0) & (years_ago <= 7) & (rng.random(len(pupils)) < 0.9)
        dates = pd.to_datetime([f"{year.start_year}-10-01"] * int(mask.sum())) - pd.to_timedelta(
            years_ago[mask] * 365, unit="D")
        frames.append(pd.DataFrame({"pupil_id": pupils["pupil_id"].to_numpy()[mask], "code": code,
                                    "date": dates.strftime("%Y-%m-%d"), "status": "done", "staff_id": ""}))
    for code, target in (("DTPa-IPV", 3), ("MMR2", 6), ("dTpa", 11), ("HPV1", 9)):
        mask = (grade_index == target) & (rng.random(len(pupils)) < 0.6)
        frames.append(pd.DataFrame({"pupil_id": pupils["pupil_id"].to_numpy()[mask], "code": code,
                                    "date": f"{year.start_year}-09-20", "status": "consent_given", "staff_id": ""}))
    return pd.concat(frames, ignore_index=True)
