"""References people can read aloud, and the two-month answer deadline."""

import datetime
import re

import pytest

from handler.reference import ALPHABET, add_months, new_reference


def test_a_reference_is_prefix_date_and_six_characters_without_look_alikes():
    reference = new_reference("BUS", datetime.datetime(2026, 11, 22, 9, 0))

    assert re.fullmatch(r"BUS-20261122-[0-9A-Z]{6}", reference)
    assert not set(reference.split("-")[2]) & set("01ILO")
    assert not set(ALPHABET) & set("01ILO")


def test_references_do_not_repeat():
    assert len({new_reference("BUS") for _ in range(2000)}) == 2000


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 11, 22), datetime.date(2027, 1, 22)),
        (datetime.date(2026, 12, 31), datetime.date(2027, 2, 28)),
        (datetime.date(2027, 12, 31), datetime.date(2028, 2, 29)),
        (datetime.date(2026, 8, 31), datetime.date(2026, 10, 31)),
    ],
)
def test_two_months_later_is_the_same_day_or_the_months_last(day, expected):
    assert add_months(day, 2) == expected
