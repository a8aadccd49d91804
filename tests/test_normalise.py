"""Normalisation: whatever people paste becomes clean text, and form bodies become the same object as JSON."""

from pathlib import Path

import pytest

from handler.body import decode_json
from handler.errors import BadSubmission
from handler.forms import load_forms
from handler.normalise import clean, clean_text, from_pairs

FORM = load_forms(Path(__file__).parent.parent / "schema")["bus-avvikelse"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cafe\u0301", "Café"),  # decomposed accent becomes NFC
        ("rad ett\x0brad två", "rad ett\nrad två"),  # Word's line break
        ("a\r\nb\rc", "a\nb\nc"),
        ("noll\x00byte\x07klocka\x1b", "nollbyteklocka"),
        ("  trimmad \t\n", "trimmad"),
        ("ensam \ud800 surrogat", "ensam  surrogat"),
        ("tab\tstannar", "tab\tstannar"),
        ("ej tecken \ufffe\uffff", "ej tecken"),
    ],
)
def test_text_is_cleaned_so_nothing_pasted_can_break_a_document(raw, expected):
    assert clean_text(raw) == expected


def test_blank_fields_empty_groups_and_blank_rows_are_dropped():
    data = {"a": "", "b": "  ", "c": {"d": ""}, "rows": [{"x": ""}, {"x": "kvar"}, {}], "e": "ja"}

    assert clean(data) == {"rows": [{"x": "kvar"}], "e": "ja"}


def test_dotted_names_become_nested_objects_and_rows_become_a_compact_list():
    pairs = [
        ("verksamheter.0.enhet", "Skolan"),
        ("verksamheter.3.enhet", "BUP"),
        ("beskrivning.chef.namn", "Chef"),
        ("_version", "x"),
    ]

    data = from_pairs(FORM, pairs)

    assert data == {"verksamheter": [{"enhet": "Skolan"}, {"enhet": "BUP"}], "beskrivning": {"chef": {"namn": "Chef"}}}


@pytest.mark.parametrize(
    "name", ["okant", "verksamheter.x.enhet", "beskrivning.chef.epost.mer", "verksamheter.999.enhet"]
)
def test_a_name_the_form_does_not_have_is_a_bad_submission(name):
    with pytest.raises(BadSubmission):
        from_pairs(FORM, [(name, "x")])


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[1]",
        b'"text"',
        b'{"a": 1, "a": 2}',
        b"\xff\xfe",
        b'{"a": NaN}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 50 + b"1" + b"}" * 50,
    ],
)
def test_json_bodies_are_read_strictly(body):
    with pytest.raises(BadSubmission):
        decode_json(body)


def test_json_escapes_for_lone_surrogates_are_read_and_then_cleaned():
    data = decode_json(b'{"handelsetyp": "a\\ud800b"}')

    assert clean(data) == {"handelsetyp": "ab"}
