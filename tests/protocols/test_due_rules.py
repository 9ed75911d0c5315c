"""One test per rule of the protocol (protocol-facts §1-2), on the pure due logic with a fixed date."""

from __future__ import annotations

import datetime as dt

import pytest

from clbhealth.core.dates import SchoolYear
from clbhealth.protocols.due import STATUSES, DueSettings, compute_due
from tests.conftest import AS_OF, YEAR, event, frames, pupil


def due(protocol, pupils, events=None, *, year=YEAR, as_of=AS_OF, settings=None):
    p, e = frames(pupils, events)
    out = compute_due(p, e, protocol, year, as_of, settings, statuses=STATUSES)
    return {(r.pupil_id, r.moment): (r.status, r.reason, r.due_from) for r in out.itertuples()}


def status(result, pupil_id, moment):
    return result.get((pupil_id, moment), (None, None, None))[0]


# --- contact moments ---------------------------------------------------------------------------


def test_k1_by_birth_year_not_by_class(protocol):
    result = due(protocol, [
        pupil(1, "K1", "2023-12-31"),           # born Y-3: due
        pupil(2, "K1", "2024-01-15"),           # 2.5-year-old entering K1: not yet
        pupil(3, "K2", "2023-02-01", cls="K1-K2 gemengd"),  # mixed class, born Y-3: due
    ])
    assert status(result, 1, "K1") == "due"
    assert "born 2023" in result[(1, "K1")][1]
    assert status(result, 2, "K1") is None
    assert status(result, 3, "K1") == "due"


@pytest.mark.parametrize("grade,code", [("L1", "L1"), ("L4", "L4"), ("L6", "L6"), ("S3", "S3")])
def test_class_based_contacts(protocol, grade, code):
    standard = {"L1": 2020, "L4": 2017, "L6": 2015, "S3": 2012}[grade]
    result = due(protocol, [pupil(1, grade, f"{standard}-05-01"), pupil(2, grade, f"{standard + 1}-05-01"),
                            pupil(3, grade, f"{standard - 1}-05-01")])
    for pid in (1, 2, 3):  # younger and older pupils go with their class
        assert status(result, pid, code) == "due"
        assert result[(pid, code)][1] == f"grade {grade}"


def test_younger_pupil_in_cohort_but_lower_grade_is_not_due(protocol):
    result = due(protocol, [pupil(1, "K3", "2020-03-01")])  # born Y-6 but still in K3
    assert status(result, 1, "L1") is None


@pytest.mark.parametrize("education,label", [("huisonderwijs", "home education"), ("okan", "OKAN"),
                                             ("buitengewoon", "special education")])
def test_ungraded_pupils_by_age_cohort(protocol, education, label):
    school = "HUISONDERWIJS" if education == "huisonderwijs" else "100"
    pupils = [pupil(i, None, f"{2026 - age}-06-01", education=education, school=school)
              for i, age in ((1, 6), (2, 9), (3, 11), (4, 14), (5, 7))]
    result = due(protocol, pupils)
    assert status(result, 1, "L1") == "due"
    assert result[(1, "L1")][1] == f"age cohort born 2020, {label}"
    assert status(result, 2, "L4") == "due"
    assert status(result, 3, "L6") == "due"
    assert status(result, 4, "S3") == "due"
    assert all(status(result, 5, c) not in ("due",) for c in ("L1", "L4", "L6", "S3"))


def test_okan_pupil_with_a_grade_is_still_by_age(protocol):
    result = due(protocol, [pupil(1, "S1", "2012-04-01", education="okan")])
    assert status(result, 1, "S3") == "due"


def test_skipped_grade_in_cohort_is_due(protocol):
    result = due(protocol, [pupil(1, "S1", "2015-04-01"),   # born Y-11, skipped L6
                            pupil(2, "S1", "2014-04-01")])  # regular S1 pupil without L6 record
    assert status(result, 1, "L6") == "due"
    assert "skipped grade" in result[(1, "L6")][1]
    assert status(result, 2, "L6") == "missed"


def test_owed_once_repeater_is_done(protocol):
    result = due(protocol, [pupil(1, "L1", "2019-03-01")], [event(1, "L1", "2025-10-07", "done")])
    assert status(result, 1, "L1") == "done"
    assert "2025-10-07" in result[(1, "L1")][1]


def test_missed_when_past_grade_without_record(protocol):
    result = due(protocol, [pupil(1, "L5", "2016-02-01")])
    assert status(result, 1, "L4") == "missed"
    assert "2025-2026" in result[(1, "L4")][1]


def test_catch_up_setting_turns_missed_into_due(protocol):
    result = due(protocol, [pupil(1, "L5", "2016-02-01")], settings=DueSettings(catch_up_missed_contacts=True))
    assert status(result, 1, "L4") == "due"
    assert result[(1, "L4")][1].startswith("catch-up")


def test_no_missed_before_the_protocol_started(protocol):
    result = due(protocol, [pupil(1, "S6", "2009-02-01")])  # L4 in 2017-2018, before 2019-2020
    assert status(result, 1, "L4") is None
    assert status(result, 1, "L6") == "missed"  # L6 in 2019-2020


def test_objection_stops_the_contact_until_proof(protocol):
    result = due(protocol, [pupil(1, "L1", "2020-02-01"), pupil(2, "L1", "2020-02-01")],
                 [event(1, "L1", "2026-09-15", "objected"),
                  event(2, "L1", "2026-09-15", "objected"), event(2, "L1", "2026-10-20", "done_external")])
    assert status(result, 1, "L1") == "objected"
    assert status(result, 2, "L1") == "done"
    assert "externally" in result[(2, "L1")][1]


def test_objection_against_one_staff_member_keeps_pupil_due(protocol):
    p, e = frames([pupil(1, "L1", "2020-02-01")], [event(1, "L1", "2026-09-15", "objected", staff="N3")])
    out = compute_due(p, e, protocol, YEAR, AS_OF)
    row = out[out["moment"] == "L1"].iloc[0]
    assert row["status"] == "due"
    assert row["excluded_staff"] == "N3"


def test_absent_pupil_stays_due(protocol):
    result = due(protocol, [pupil(1, "L4", "2017-02-01")], [event(1, "L4", "2026-10-05", "absent")])
    assert status(result, 1, "L4") == "due"
    assert "absent on 2026-10-05" in result[(1, "L4")][1]


def test_history_after_as_of_is_ignored(protocol):
    result = due(protocol, [pupil(1, "L4", "2017-02-01")], [event(1, "L4", "2027-01-10", "done")])
    assert status(result, 1, "L4") == "due"


def test_home_education_has_no_k1(protocol):
    result = due(protocol, [pupil(1, None, "2020-06-01", education="huisonderwijs", school="HUISONDERWIJS")],
                 year=YEAR)
    assert status(result, 1, "K1") is None


# --- vaccinations --------------------------------------------------------------------------------


def test_vaccination_needs_consent_then_due_then_refused(protocol):
    result = due(protocol, [pupil(1, "L1", "2020-02-01"), pupil(2, "L1", "2020-02-01"), pupil(3, "L1", "2020-02-01")],
                 [event(2, "DTPa-IPV", "2026-09-10", "consent_given"),
                  event(3, "DTPa-IPV", "2026-09-10", "consent_refused")])
    assert status(result, 1, "DTPa-IPV") == "needs_consent"
    assert status(result, 2, "DTPa-IPV") == "due"
    assert status(result, 3, "DTPa-IPV") == "refused"


def test_latest_consent_record_counts(protocol):
    result = due(protocol, [pupil(1, "L1", "2020-02-01")],
                 [event(1, "DTPa-IPV", "2026-09-10", "consent_refused"),
                  event(1, "DTPa-IPV", "2026-09-20", "consent_given")])
    assert status(result, 1, "DTPa-IPV") == "due"


def test_mmr2_in_l4_from_2023_2024(protocol):
    result = due(protocol, [pupil(1, "L4", "2017-02-01"), pupil(2, "L5", "2016-02-01")])
    assert status(result, 1, "MMR2") == "needs_consent"
    assert status(result, 2, "MMR2") == "missed"  # was in L4 in 2025-2026


def test_mmr2_in_l5_before_and_both_in_transition_year(protocol):
    before = due(protocol, [pupil(1, "L4", "2013-02-01"), pupil(2, "L5", "2012-02-01")], year=SchoolYear(2022),
                 as_of=dt.date(2022, 12, 1))
    assert status(before, 1, "MMR2") is None
    assert status(before, 2, "MMR2") == "needs_consent"
    transition = due(protocol, [pupil(1, "L4", "2014-02-01"), pupil(2, "L5", "2013-02-01")], year=SchoolYear(2023),
                     as_of=dt.date(2023, 12, 1))
    assert status(transition, 1, "MMR2") == "needs_consent"
    assert status(transition, 2, "MMR2") == "needs_consent"


def test_mmr2_catch_up_at_l6(protocol):
    result = due(protocol, [pupil(1, "L6", "2015-02-01")])
    assert status(result, 1, "MMR2") == "needs_consent"
    assert "catch-up" in result[(1, "MMR2")][1]


def test_dtpa_ipv_with_l1_and_dtpa_in_s3(protocol):
    result = due(protocol, [pupil(1, "L1", "2020-02-01"), pupil(2, "S3", "2012-02-01", school="200")])
    assert status(result, 1, "DTPa-IPV") == "needs_consent"
    assert status(result, 2, "dTpa") == "needs_consent"
    assert status(result, 1, "dTpa") is None


def test_hpv_first_dose_in_s1_girls_and_boys(protocol):
    pupils = [pupil(1, "S1", "2014-02-01", school="200"), dict(pupil(2, "S1", "2014-02-01", school="200"), sex="V")]
    result = due(protocol, pupils)
    assert status(result, 1, "HPV1") == "needs_consent"
    assert status(result, 2, "HPV1") == "needs_consent"


def test_hpv_second_dose_five_months_later(protocol):
    result = due(protocol, [pupil(1, "S1", "2014-02-01", school="200")],
                 [event(1, "HPV1", "2026-09-10", "consent_given"), event(1, "HPV1", "2026-10-05", "done")])
    state, reason, due_from = result[(1, "HPV2")]
    assert state == "due"
    assert due_from == "2027-03-05"
    assert reason.startswith("HPV1 on 2026-10-05; HPV2 from 2027-03-05")
    assert status(result, 1, "HPV3") is None


def test_hpv_three_doses_when_started_at_15(protocol):
    pupils = [pupil(1, "S3", "2011-01-10", school="200")]
    first = due(protocol, pupils, [event(1, "HPV1", "2026-10-05", "done")])
    assert first[(1, "HPV2")][2] == "2026-11-05"  # 1 month in the 3-dose schedule
    second = due(protocol, pupils, [event(1, "HPV1", "2026-10-05", "done"), event(1, "HPV2", "2026-11-10", "done")],
                 as_of=dt.date(2026, 12, 1))
    assert second[(1, "HPV3")][2] == "2027-02-10"  # 3 months after dose 2
    assert status(second, 1, "HPV2") == "done"


def test_hpv_catch_up_in_s3_and_up_to_14(protocol):
    result = due(protocol, [pupil(1, "S3", "2012-02-01", school="200"),   # S3: catch-up
                            pupil(2, "S2", "2013-02-01", school="200"),   # 13: catch-up (up to 14)
                            pupil(3, "S5", "2010-02-01", school="200")])  # 16, S5: missed
    assert status(result, 1, "HPV1") == "needs_consent"
    assert "catch-up" in result[(1, "HPV1")][1]
    assert status(result, 2, "HPV1") == "needs_consent"
    assert status(result, 3, "HPV1") == "missed"


def test_consent_covers_the_series(protocol):
    result = due(protocol, [pupil(1, "S1", "2014-02-01", school="200")],
                 [event(1, "HPV1", "2026-09-10", "consent_given"), event(1, "HPV1", "2026-10-05", "done")],
                 as_of=dt.date(2027, 4, 1))
    assert status(result, 1, "HPV2") == "due"


def test_done_dose_is_not_offered_again(protocol):
    result = due(protocol, [pupil(1, "L4", "2017-02-01")], [event(1, "MMR2", "2026-10-10", "done_external")])
    assert status(result, 1, "MMR2") == "done"


def test_default_statuses_are_due_and_needs_consent(protocol):
    p, e = frames([pupil(1, "L5", "2016-02-01"), pupil(2, "L4", "2017-02-01")])
    out = compute_due(p, e, protocol, YEAR, AS_OF)
    assert set(out["status"]) <= {"due", "needs_consent"}
    assert set(out["pupil_id"]) == {2}


def test_empty_inputs(protocol):
    p, e = frames([])
    out = compute_due(p.reindex(columns=["pupil_id", "last_name", "first_name", "school_id", "class_name", "grade",
                                         "education", "birth_date", "sex"]), e, protocol, YEAR, AS_OF)
    assert len(out) == 0


def test_year_before_protocol_is_refused(protocol):
    from clbhealth.core.errors import ClbError

    p, e = frames([pupil(1, "L1", "2012-02-01")])
    with pytest.raises(ClbError):
        compute_due(p, e, protocol, SchoolYear(2018), dt.date(2018, 12, 1))


def test_a_dose_given_by_the_clb_implies_consent_for_the_series(protocol):
    result = due(protocol, [pupil(1, "S2", "2013-02-01", school="200")], [event(1, "HPV1", "2026-10-05", "done")],
                 as_of=dt.date(2027, 4, 1))
    assert status(result, 1, "HPV2") == "due"
    refused = due(protocol, [pupil(1, "S2", "2013-02-01", school="200")],
                  [event(1, "HPV1", "2026-10-05", "done"), event(1, "HPV2", "2027-01-05", "consent_refused")],
                  as_of=dt.date(2027, 4, 1))
    assert status(refused, 1, "HPV2") == "refused"
    external = due(protocol, [pupil(1, "S2", "2013-02-01", school="200")],
                   [event(1, "HPV1", "2026-10-05", "done_external")], as_of=dt.date(2027, 4, 1))
    assert status(external, 1, "HPV2") == "needs_consent"
