"""What the check page and the receipt show, from the form definition and the answers (handler/review.py)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from handler.forms import load_forms
from handler.normalise import clean, from_pairs
from handler.register import ReportRecord, UnitRecord
from handler.review import long_date, recipients, sections, sent_to
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def forms():
    return load_forms(ROOT / "schema")


@pytest.fixture
def report(forms):
    return forms["bus-avvikelse"]


def answers(form, **changes) -> dict:
    """The valid BUS report as the pipeline has it after reading and cleaning."""
    return clean(from_pairs(form, list((valid_answers() | changes).items())))


def unit(index: int, name: str) -> UnitRecord:
    return UnitRecord(index, name, None, None, None, None, None, {})


def test_answers_come_by_section_in_the_forms_order_with_a_section_per_row(report):
    found = sections(report, answers(report))

    assert [(s.title, s.level) for s in found if s.title] == [
        ("2. Mellan vilka verksamheter har avvikelsen uppstått?", 2),
        ("Verksamhet 1", 3),
        ("Verksamhet 2", 3),
        ("3. Beskrivning av händelsen från rapporterande verksamhet", 2),
        ("Kontaktperson som vid behov kan ge kompletterande uppgifter", 3),
        ("Kontaktuppgifter till rapporterande verksamhet", 3),
        ("Ansvarig chef vid rapporterande verksamhet", 3),
    ]
    first = found[0]
    assert first.title == "" and [a.label for a in first.answers] == [
        "1. Vilken typ av händelse avser BUS-avvikelsen?",
        "Vilket område gäller avvikelsen?",
    ]
    row = next(s for s in found if s.title == "Verksamhet 2")
    assert [(a.label, a.value, a.target, a.which) for a in row.answers] == [
        ("Enhet", "BUP Solna", "f-verksamheter-1-enhet", "Enhet (Verksamhet 2)"),
        (
            "Verksamhetstyp",
            "Barn- och ungdomspsykiatri",
            "f-verksamheter-1-verksamhetstyp",
            "Verksamhetstyp (Verksamhet 2)",
        ),
        ("Huvudman", "Region Stockholm", "f-verksamheter-1-huvudman", "Huvudman (Verksamhet 2)"),
        (
            "Chefens e-post",
            "chef.bup@regionstockholm.se",
            "f-verksamheter-1-chef_epost",
            "Chefens e-post (Verksamhet 2)",
        ),
    ]
    area = first.answers[1]
    assert (area.target, area.which) == ("f-omrade-1", "Vilket område gäller avvikelsen?"), "a choice: its first one"
    assert first.answers[0].which == "Vilken typ av händelse avser BUS-avvikelsen?", "no section number read aloud"


def test_an_optional_answer_left_blank_is_listed_without_a_value(report):
    data = answers(report, **{"beskrivning.chef.telefon": "", "beskrivning.forslag_atgard": ""})

    listed = {a.target: a.value for s in sections(report, data) for a in s.answers}

    assert listed["f-beskrivning-chef-telefon"] == "" and listed["f-beskrivning-forslag_atgard"] == ""
    assert listed["f-beskrivning-handelsen"] == "- Remissen skickades i mars\n- Inget svar kom"


def test_recipients_are_the_routing_resolved_with_whose_address_each_is(report):
    found = recipients(report, answers(report), "formular@example.se")

    assert found.to == ["Björkskolan: rektor@solna.se", "BUP Solna: chef.bup@regionstockholm.se"]
    assert found.copies == [
        "BUS-avvikelser@storsthlm.se",
        "BUS-avvikelser.hsf@sll.se",
        "Ansvarig chef vid rapporterande verksamhet: carl.chef@solna.se",
    ]
    assert found.receipt == ["eva.ek@solna.se"]


def test_an_address_that_is_also_a_receiver_is_not_listed_again_as_a_copy(report):
    data = answers(report, **{"beskrivning.chef.epost": "rektor@solna.se"})

    found = recipients(report, data, "formular@example.se")

    assert "Ansvarig chef vid rapporterande verksamhet: rektor@solna.se" not in found.copies
    assert found.to[0] == "Björkskolan: rektor@solna.se"


def test_the_receipt_names_the_registers_units_and_the_fixed_mailboxes_never_a_typed_address(report):
    record = ReportRecord(
        "BUS-20261201-ABCDEF", "bus-avvikelse", report.version, datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        datetime.date(2027, 2, 1), {}, (unit(0, "Björkskolan"), unit(1, "BUP Solna")), None, None, None,
    )  # fmt: skip

    found = sent_to(report, record)

    assert found.to == ["Björkskolan", "BUP Solna"]
    assert found.copies == [
        "BUS-avvikelser@storsthlm.se",
        "BUS-avvikelser.hsf@sll.se",
        "Ansvarig chef vid rapporterande verksamhet",
    ]
    assert found.receipt == ["Kontaktuppgifter till rapporterande verksamhet"]


def test_an_answers_receipt_names_the_reporting_manager_its_link_sends_it_to(forms, report):
    found = sent_to(forms["bus-avvikelse-svar"], None, report)

    assert found.to == ["Ansvarig chef vid rapporterande verksamhet"]
    assert found.copies[:2] == ["BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"]


@pytest.mark.parametrize(
    ("day", "text"),
    [(datetime.date(2027, 2, 1), "1 februari 2027"), (datetime.date(2026, 12, 31), "31 december 2026")],
)
def test_dates_read_as_swedish_running_text(day, text):
    assert long_date(day) == text
