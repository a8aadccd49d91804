"""Size checks before any costly work: long texts, many rows and runs of combining marks."""

import unicodedata
from pathlib import Path

from handler import marks
from handler.bounds import SLACK, check_bounds
from handler.forms import load_forms
from handler.validation import MAX_ERRORS, field_error
from support import cost_ratio

FORM = load_forms(Path(__file__).parent.parent / "schema")["bus-avvikelse"]
BOMB = "a" + "\u0301\u0316" * 65000


def test_the_generated_table_of_combining_marks_matches_this_pythons_unicode():
    assert marks.UNICODE_VERSION == unicodedata.unidata_version
    expected = "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in marks.ranges())
    assert marks.NON_STARTERS == expected


def test_a_run_of_combining_marks_within_the_length_limit_is_refused_on_its_field_at_once():
    errors = check_bounds(FORM, {"handelsetyp": BOMB[:4001]})
    # Refused at the first long run of marks: a text 16 times longer costs no more to refuse.
    assert cost_ratio(lambda text: check_bounds(FORM, {"handelsetyp": text}), BOMB[:4001], BOMB[: 16 * 4000]) < 8
    assert [e.path for e in errors] == [("handelsetyp",)]
    assert "kombineras" in errors[0].message


def test_the_whole_bomb_is_far_too_long_for_its_field_and_refused_without_being_normalised():
    errors = check_bounds(FORM, {"handelsetyp": BOMB})
    assert errors == [field_error(FORM, ("handelsetyp",), "maxLength", 2000)]


def test_thirty_combining_marks_in_a_row_still_pass():
    assert check_bounds(FORM, {"handelsetyp": "a" + "\u0301\u0316" * 15}) == []


def test_ordinary_swedish_text_with_decomposed_letters_passes():
    assert check_bounds(FORM, {"handelsetyp": unicodedata.normalize("NFD", "Återkoppling från BUP, Österåker")}) == []


def test_a_text_far_longer_than_its_field_allows_is_refused_without_being_normalised():
    limit = FORM.field_at(("handelsetyp",)).max_length
    assert check_bounds(FORM, {"handelsetyp": "x" * (SLACK * limit + SLACK)}) == []
    errors = check_bounds(FORM, {"handelsetyp": "x" * (SLACK * limit + SLACK + 1)})
    assert errors == [field_error(FORM, ("handelsetyp",), "maxLength", limit)]


def test_131000_rows_give_one_error_on_the_list_and_none_per_row():
    errors = check_bounds(FORM, {"verksamheter": [{"enhet": "x"}] * 131_000})
    rows = [{"enhet": "x"}] * 1_000, [{"enhet": "x"}] * 131_000  # the count is read, the rows are not walked
    assert cost_ratio(lambda many: check_bounds(FORM, {"verksamheter": many}), *rows) < 20
    assert [e.path for e in errors] == [("verksamheter",)]


def test_no_more_than_max_errors_are_returned_whatever_is_sent():
    answers = {f"okand{i}": BOMB[:200] for i in range(1000)}
    errors = check_bounds(FORM, answers)
    assert len(errors) == MAX_ERRORS
    assert errors[0].path == ("okand0",) and "inget fält" in errors[0].message
