"""A field's place has six spellings; `FieldPath` converts between them, and only ASCII digits are rows."""

from __future__ import annotations

import pytest

from handler.paths import MAX_ROW_DIGITS, ROW_LIMIT, FieldPath, html_id, pattern_of, row_index
from support import cost_ratio

PLACE = FieldPath(("verksamheter", 0, "enhet"))


def test_one_place_has_all_its_spellings():
    assert PLACE.pattern == ("verksamheter", "*", "enhet")
    assert PLACE.name == "verksamheter.0.enhet"
    assert PLACE.pointer == "/verksamheter/0/enhet"
    assert PLACE.routing == "/verksamheter/*/enhet"
    assert PLACE.html_id == "f-verksamheter-0-enhet"
    assert PLACE.rows == (0,) and not PLACE.is_pattern
    assert str(PLACE) == "verksamheter.0.enhet"


@pytest.mark.parametrize(
    "spelling",
    [
        "verksamheter.0.enhet",
        "/verksamheter/0/enhet",
        "f-verksamheter-0-enhet",
        ("verksamheter", 0, "enhet"),
        ("verksamheter", "0", "enhet"),
        ["verksamheter", 0, "enhet"],
        PLACE,
    ],
)
def test_every_spelling_reads_back_as_the_same_place(spelling):
    assert FieldPath.of(spelling) == PLACE


def test_a_routing_pointer_reads_as_a_pattern():
    path = FieldPath.of("/verksamheter/*/chef_epost")

    assert path.is_pattern and path.parts == ("verksamheter", "*", "chef_epost")
    assert path.routing == "/verksamheter/*/chef_epost" and path.name == "verksamheter.*.chef_epost"
    assert path.at_rows([2]) == FieldPath(("verksamheter", 2, "chef_epost"))


def test_the_whole_form_is_the_empty_path():
    assert FieldPath.of("") == FieldPath.of("/") == FieldPath(()) == FieldPath.from_name("")
    assert FieldPath(()).pointer == ""


def test_an_html_id_reads_back_as_its_place():
    for name in ("namn", "verksamheter.0.enhet", "beskrivning.chef.epost"):
        assert FieldPath.from_html_id(FieldPath.from_name(name).html_id).name == name


def test_a_names_own_hyphen_is_doubled_in_its_id_so_ids_stay_one_places_and_read_back():
    places = [("a-b", "c"), ("a", "b-c"), ("a", "b", "c"), ("a-b-c",), ("lista", 0, "alt-datum"), ("lista-0", "x")]

    ids = [FieldPath(place).html_id for place in places]

    assert ids[:2] == ["f-a--b-c", "f-a-b--c"]
    assert len(set(ids)) == len(ids)
    assert [FieldPath.from_html_id(html_id).parts for html_id in ids] == places
    assert [FieldPath.of(html_id).parts for html_id in ids] == places
    assert [html_id(FieldPath(place).name) for place in places] == ids


def test_pointer_parts_are_escaped_as_json_pointers_are():
    path = FieldPath(("a/b", "c~d"))

    assert path.pointer == "/a~1b/c~0d"
    assert FieldPath.from_pointer(path.pointer) == path


def test_a_child_is_one_step_further_down():
    assert FieldPath(("verksamheter",)).child("3").child("enhet") == FieldPath(("verksamheter", 3, "enhet"))


@pytest.mark.parametrize(
    ("part", "index"),
    [
        ("0", 0),
        ("12", 12),
        (7, 7),
        ("²", None),  # "²".isdigit() is True in Python; int("²") fails
        ("٣", None),  # an Arabic-Indic three
        ("３", None),  # a full-width three
        ("-1", None),
        (-1, None),
        ("1e3", None),
        (" 1", None),
        ("", None),
        (True, None),
        ("*", None),
        ("enhet", None),
    ],
)
def test_only_ascii_digits_make_a_row_number(part, index):
    assert row_index(part) == index


def test_a_row_number_of_thousands_of_digits_is_not_parsed():
    index = row_index("9" * 5000)  # int() of this is slow, and then refused by Python 3.11+

    assert index == ROW_LIMIT and cost_ratio(row_index, "9" * 50, "9" * 5000) < 1000
    assert row_index("9" * MAX_ROW_DIGITS) == 10**MAX_ROW_DIGITS - 1


def test_a_name_part_that_is_not_a_row_number_stays_a_name():
    assert FieldPath.from_name("verksamheter.².enhet").parts == ("verksamheter", "²", "enhet")
    assert pattern_of("verksamheter.².enhet") == ("verksamheter", "²", "enhet")
    assert pattern_of(("verksamheter", "12", "enhet")) == ("verksamheter", "*", "enhet")
