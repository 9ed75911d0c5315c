"""The vaccination rules of protocol-facts §2 added for issue 11, each on a fixed date with its source."""

from __future__ import annotations

import datetime as dt

from clbhealth.protocols.due import DueSettings
from tests.conftest import event, pupil
from tests.protocols.test_due_rules import due, status


def test_hpv_catch_up_goes_by_age_on_the_day(protocol):
    """[C] VWVJ Oct 2023: 'alle leerlingen tot en met de leeftijd van 14 jaar (vb leerling in 4SO die nog geen 15
    jaar is)'. On 2026-12-01 an S4 pupil still 14 is offered HPV; an S2 pupil who turned 15 is not."""
    source = protocol.rule("HPV1", protocol.first_year).source
    assert "vwvj.be/nl/inhaalvaccinatie-tegen-hpv" in source
    result = due(protocol, [pupil(1, "S4", "2012-03-01", school="200"),   # 14 on 2026-12-01 (turns 15 in 2027)
                            pupil(2, "S2", "2011-11-20", school="200"),   # 15 since 2026-11-20
                            pupil(3, "S4", "2011-12-15", school="200")],  # still 14 on the day, 15 on 15/12
                 as_of=dt.date(2026, 12, 1))
    assert status(result, 1, "HPV1") == "needs_consent"
    assert "catch-up" in result[(1, "HPV1")][1]
    assert status(result, 2, "HPV1") == "missed"
    assert status(result, 3, "HPV1") == "needs_consent"
    later = due(protocol, [pupil(3, "S4", "2011-12-15", school="200")], as_of=dt.date(2026, 12, 16))
    assert status(later, 3, "HPV1") == "missed"


def test_hpv2_sooner_than_five_months_needs_hpv3(protocol):
    """[C] Gardasil 9 EU product text: 'If the second vaccine dose is administered earlier than 5 months after the
    first dose, a third dose should always be administered'."""
    assert "earlier than 5 months" in open_toml()
    pupils = [pupil(1, "S2", "2013-02-01", school="200")]
    short = due(protocol, pupils, [event(1, "HPV1", "2026-09-15", "done"), event(1, "HPV2", "2027-01-20", "done")],
                as_of=dt.date(2027, 2, 1))
    assert status(short, 1, "HPV3") == "due"  # a CLB dose proves consent for the series
    assert short[(1, "HPV3")][2] == "2027-04-20"  # 3 months after HPV2
    assert "less than 5 months after HPV1" in short[(1, "HPV3")][1]
    on_time = due(protocol, pupils, [event(1, "HPV1", "2026-09-15", "done"), event(1, "HPV2", "2027-02-15", "done")],
                  as_of=dt.date(2027, 3, 1))
    assert status(on_time, 1, "HPV3") is None


def test_no_dtpa_in_s3_after_dtpa_ipv_at_12_or_older(protocol):
    """[C] VWVJ 01/2014 (Hoge Gezondheidsraad 2013): 'Indien DTPa-IPV op de leeftijd van 12 jaar of ouder werd
    gegeven, hoeft geen dTpa aangeboden te worden in het 3de secundair onderwijs'."""
    assert "vwvj.be/en/node/623" in protocol.rule("dTpa", protocol.first_year).source
    pupils = [pupil(1, "S3", "2012-05-01", school="200"), pupil(2, "S3", "2012-05-01", school="200")]
    result = due(protocol, pupils, [event(1, "DTPa-IPV", "2024-06-01", "done_external"),   # at 12
                                    event(2, "DTPa-IPV", "2024-04-01", "done_external")])  # at 11
    assert status(result, 1, "dTpa") == "done"
    assert result[(1, "dTpa")][1] == "not needed: DTPa-IPV given on 2024-06-01 at age 12 or older"
    assert status(result, 2, "dTpa") == "needs_consent"


def test_clb_dose_after_a_refusal_proves_consent(protocol):
    """[C] 'Het CLB geeft nooit vaccinaties zonder schriftelijke toestemming' (clbaandeleie.be): the latest record
    counts, and a CLB dose is such a record, so the series goes on."""
    pupils = [pupil(1, "S2", "2013-02-01", school="200")]
    result = due(protocol, pupils, [event(1, "HPV1", "2026-09-01", "consent_refused"),
                                    event(1, "HPV1", "2026-10-05", "done")], as_of=dt.date(2027, 4, 1))
    assert status(result, 1, "HPV2") == "due"
    assert "consent on 2026-10-05" in result[(1, "HPV2")][1]
    external = due(protocol, pupils, [event(1, "HPV1", "2026-09-01", "consent_refused"),
                                      event(1, "HPV1", "2026-10-05", "done_external")], as_of=dt.date(2027, 4, 1))
    assert status(external, 1, "HPV2") == "refused"  # a dose elsewhere says nothing about consent for the CLB


def test_special_education_vaccinated_by_age_even_with_a_grade(protocol):
    """[C] 'Voor leerlingen uit het buitengewoon onderwijs worden ze op een bepaalde leeftijd aangeboden'
    (clbdiesttess.be); contacts still follow the grade."""
    assert protocol.vaccinations_by_age_education == ("buitengewoon",)
    result = due(protocol, [pupil(1, "L3", "2017-04-01", education="buitengewoon", school="400"),  # born Y-9
                            pupil(2, "L3", "2017-04-01", school="100")])
    assert status(result, 1, "MMR2") == "needs_consent"  # by age: 9 this year (the L4 cohort)
    assert "special education" in result[(1, "MMR2")][1]
    assert status(result, 1, "L4") is None  # the contact follows the grade (L3)
    assert status(result, 2, "MMR2") is None


def test_two_dose_hpv_schedule_for_15_to_18_is_a_setting(protocol):
    """[C] VWVJ Oct 2023: 'als alternatief een schema van 2 dosissen ... aan leerlingen van 15 tot 18 jaar';
    [I] default 3 doses from 15."""
    pupils = [pupil(1, "S3", "2011-01-10", school="200")]
    events = [event(1, "HPV1", "2026-10-05", "done")]
    default = due(protocol, pupils, events)
    assert default[(1, "HPV2")][2] == "2026-11-05"  # 3-dose schedule: 1 month
    two = due(protocol, pupils, events, settings=DueSettings(two_dose_15_18=True))
    assert two[(1, "HPV2")][2] == "2027-03-05"  # 2-dose schedule: 5 months
    both = events + [event(1, "HPV2", "2027-03-10", "done")]
    assert status(due(protocol, pupils, both, as_of=dt.date(2027, 4, 1),
                      settings=DueSettings(two_dose_15_18=True)), 1, "HPV3") is None
    assert status(due(protocol, pupils, both, as_of=dt.date(2027, 4, 1)), 1, "HPV3") == "due"


def test_protocol_facts_moved_into_the_data(protocol):
    """K1 invites parents, 3 doses from 15, the HPV1 window before Christmas: data, not code."""
    year = protocol.first_year
    assert protocol.parents_invited("K1") and not protocol.parents_invited("L1")
    assert protocol.rule("HPV2", year).three_dose_age() == 15
    assert protocol.rule("HPV2", year).three_dose_age(two_dose_option=True) == 19
    assert protocol.rule("HPV1", year).window_until == "christmas"
    assert [p.name for p in protocol.products_for("HPV2")] == ["Gardasil 9"]
    assert {p.name for p in protocol.missing_cnk()} >= {"Gardasil 9", "Boostrix"}


def open_toml() -> str:
    from importlib import resources

    return resources.files("clbhealth.protocols").joinpath("flanders.toml").read_text(encoding="utf-8")
