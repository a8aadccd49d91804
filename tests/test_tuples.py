"""Tuples of any field (issue 14, point 1): positions that are groups, yes/no questions, choices and dates, and
the rows added after them ("items" after "prefixItems", draft-07 "additionalItems"), read, rendered, checked
and delivered. The fixture form is tests/fixtures/tuples/schema/tupler.json; the browser side is
tests/browser/test_tuples.py.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
from pathlib import Path

import docx
import pytest

from handler.app import create_app
from handler.check import check_project
from handler.fields import Kind
from handler.forms import load_forms
from handler.normalise import clean, from_pairs
from handler.pages import readonly
from handler.render import render_form
from handler.review import sections
from support import attachment

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tuples"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def form():
    return load_forms(FIXTURE / "schema")["tupler"]


@pytest.fixture
def client(config):
    return create_app({**config, "SCHEMA_DIR": str(FIXTURE / "schema")}).test_client()


def as_pairs(data, name: str = "") -> list[tuple[str, str]]:
    """Return the (name, value) pairs a browser posts for `data`: a yes/no as "true" or "false"."""
    if isinstance(data, dict):
        return [pair for key, value in data.items() for pair in as_pairs(value, f"{name}.{key}" if name else key)]
    if isinstance(data, list):
        return [pair for index, value in enumerate(data) for pair in as_pairs(value, f"{name}.{index}")]
    return [(name, json.dumps(data) if isinstance(data, bool) else "" if data is None else str(data))]


def post(client, data, way: str):
    if way == "json":
        return client.post("/api/forms/tupler", json=data, headers=JSON)
    body = urllib.parse.urlencode(as_pairs(data))
    return client.post("/api/forms/tupler", data=body, content_type="application/x-www-form-urlencoded", headers=JSON)


def verdict(response) -> list[tuple[str, str]]:
    if response.status_code == 201:
        return []
    assert response.status_code == 422, response.get_data(as_text=True)
    return [(e["name"], e["summary"]) for e in response.json["errors"]]


# ---- the form definition ----


def test_a_tuples_positions_are_fields_of_any_kind_and_its_added_rows_a_list_item(form):
    deltagare, matning = form.field_at(("deltagare",)), form.field_at(("matning",))

    assert [(c.name, c.kind, c.title, c.required) for c in deltagare.children] == [
        ("0", Kind.GROUP, "Kontaktperson", True),
        ("1", Kind.RADIO, "Kommer på plats", False),
        ("2", Kind.DATE, "Första dag", False),
    ]
    assert deltagare.children[1].choices == [("true", "Ja"), ("false", "Nej")]
    assert deltagare.children[1].choice_values == [True, False]
    assert [c.path for c in deltagare.children[0].children] == [("deltagare", "0", "namn"), ("deltagare", "0", "roll")]
    assert (deltagare.item.kind, deltagare.item.title, deltagare.item.path) == (
        Kind.GROUP,
        "Medföljande",
        ("deltagare", "*"),
    )
    assert deltagare.extra_rows == (0, 1)  # maxItems 4 less the three fixed values
    assert (matning.item.kind, matning.item.title, matning.children[1].kind) == (Kind.TEXT, "Kommentar", Kind.RADIO)
    assert form.field_at(("plats",)).item is None  # "items": false


def test_a_path_through_a_tuple_finds_the_position_or_the_added_row(form):
    deltagare = form.field_at(("deltagare",))

    assert form.field_named("deltagare.0.namn") is deltagare.children[0].children[0]
    assert form.field_named("deltagare.1") is deltagare.children[1]
    assert form.field_named("deltagare.3.kost") is deltagare.item.children[1]
    assert form.field_at(("deltagare", "*", "namn")) is deltagare.item.children[0]
    assert form.field_named("matning.7") is form.field_at(("matning",)).item
    assert form.field_named("plats.2") is None


def test_formkit_check_accepts_tuples_of_groups_yes_no_choices_dates_and_added_rows():
    assert check_project(FIXTURE / "schema", docs_dir=None).problems == []


# ---- rendered markup ----


def test_the_tuple_shows_its_positions_then_blank_rows_to_add_without_javascript(form):
    html = render_form(form, "/api/forms/tupler")
    deltagare = re.search(
        r'<fieldset[^>]*data-formkit-tuple="deltagare".*?(?=<fieldset[^>]*data-formkit-tuple="matning")', html, re.S
    ).group(0)
    matning = re.search(
        r'<fieldset[^>]*data-formkit-tuple="matning".*?(?=<fieldset[^>]*data-formkit-tuple="plats")', html, re.S
    ).group(0)

    assert '<legend class="formkit-legend">Kontaktperson</legend>' in deltagare
    assert 'name="deltagare.0.namn" required' in deltagare
    assert re.findall(r'<input type="radio" id="(f-deltagare-1-\d)" name="deltagare.1" value="(\w+)"', deltagare) == [
        ("f-deltagare-1-1", "true"),
        ("f-deltagare-1-2", "false"),
    ]
    assert '<label for="f-deltagare-1-1">Ja</label>' in deltagare and 'type="date" id="f-deltagare-2"' in deltagare
    added = re.search(r'<fieldset[^>]*id="f-deltagare-fler"[^>]*>', deltagare).group(0)
    assert 'data-formkit-list="deltagare"' in added and 'data-offset="3"' in added
    assert 'data-min="0"' in added and 'data-max="1"' in added and 'data-item-label="medföljande"' in added
    assert re.findall(r'data-formkit-row="(\d)"', deltagare) == ["3"]  # maxItems leaves room for one
    assert '<legend class="formkit-row-legend">Medföljande 1</legend>' in deltagare
    assert 'name="deltagare.3.namn"' in deltagare and 'name="deltagare.3.kost"' in deltagare
    assert re.findall(r'for="(f-matning-\d)" data-formkit-row-title>([^<]+)<', matning) == [
        ("f-matning-2", "Kommentar 1"),
        ("f-matning-3", "Kommentar 2"),
        ("f-matning-4", "Kommentar 3"),
    ]
    assert "data-formkit-values" in matning and "f-plats-fler" not in html


def test_answers_given_come_back_in_their_positions_and_rows(form):
    values = {"deltagare": [{"namn": "Anna"}, False, "2027-01-15", {"namn": "Bo", "kost": True}]}
    html = render_form(form, "/api/forms/tupler", values=values)

    assert re.search(r'name="deltagare.1" value="false" checked', html)
    assert 'name="deltagare.0.namn" required maxlength="80" value="Anna"' in html or 'value="Anna"' in html
    assert re.search(r'name="deltagare.3.namn"[^>]* value="Bo"', html)
    assert re.search(r'name="deltagare.3.kost" value="on" checked', html)


# ---- normalising and the server's verdict, the same on both paths ----


def test_posted_positions_and_added_rows_become_one_list_without_blank_rows(form):
    pairs = [
        ("deltagare.0.namn", "Anna"),
        ("deltagare.1", "true"),
        ("deltagare.2", ""),
        ("deltagare.3.namn", "Bo"),
        ("matning.0", "12,5"),
        ("matning.1", "km"),
        ("matning.2", ""),
        ("matning.3", "mätt två gånger"),
        ("matning.4", ""),
    ]

    assert clean(from_pairs(form, pairs), form.root) == {
        "deltagare": [{"namn": "Anna"}, True, None, {"namn": "Bo"}],  # a blank position is asked for, not shifted
        "matning": [12.5, "km", "mätt två gånger"],  # a blank added row is dropped, as a list's
    }


VALID = {
    "deltagare": [{"namn": "Anna", "roll": "Rektor"}, False, "2027-01-15", {"namn": "Bo", "kost": True}],
    "matning": [12.5, "km", "mätt två gånger", "med GPS"],
    "plats": [59.3, 18.05],
}

CASES = [
    ("valid", VALID, []),
    ("only the required position", {"deltagare": [{"namn": "Anna"}]}, []),
    ("the tuple left out", {}, [("deltagare.0.namn", "Ange namn (Kontaktperson)")]),
    (
        "a blank inside the group position",
        {"deltagare": [{"roll": "Lärare"}, True]},
        [("deltagare.0.namn", "Ange namn (Kontaktperson)")],
    ),
    (
        "a yes/no left blank before a later value",
        {"deltagare": [{"namn": "Anna"}, None, "2027-01-15"]},
        [("deltagare.1", "Välj kommer på plats (Deltagare)")],
    ),
    (
        "an added row without its required name",
        {"deltagare": [{"namn": "Anna"}, True, "2027-01-15", {"kost": True}]},
        [("deltagare.3.namn", "Ange namn (Medföljande 1)")],
    ),
    (
        "an added value too long",
        {"deltagare": [{"namn": "Anna"}], "matning": [3, "m", "ok", "x" * 41]},
        [("matning.3", "Kommentar får vara högst 40 tecken. Korta texten. (Kommentar 2)")],
    ),
    (
        "a date position that does not exist",
        {"deltagare": [{"namn": "Anna"}, True, "2027-02-30"]},
        [("deltagare.2", "Första dag måste vara ett riktigt datum, till exempel 2026-03-15 (Deltagare)")],
    ),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_json_and_form_encoded_paths_give_the_same_verdict(client, data, expected):
    assert verdict(post(client, data, "json")) == expected
    assert verdict(post(client, data, "form")) == expected


def test_more_rows_than_max_items_or_a_value_past_a_closed_tuple_are_refused(client):
    five = {"deltagare": [{"namn": "A"}, True, "2027-01-15", {"namn": "B"}, {"namn": "C"}]}
    closed = {"deltagare": [{"namn": "A"}], "plats": [59.3, 18.05, 3]}

    assert verdict(post(client, five, "json")) == [("deltagare", "Du kan ange högst 4 rader under deltagare")]
    assert verdict(post(client, closed, "json")) == [
        ("plats", "Du kan ange högst 2 värden under plats. Ta bort de övriga.")
    ]
    assert verdict(post(client, {"deltagare": [{"namn": "A"}, "ja"]}, "json")) == [
        ("deltagare.1", "Välj ett av alternativen för kommer på plats (Deltagare)")
    ]


# ---- delivered: the DOCX read back, and the check page ----


def test_every_position_and_added_row_arrives_in_the_docx(client, smtp_server):
    assert post(client, VALID, "form").status_code == 201

    _, data = attachment(smtp_server.inbox.wait_for(1)[0])
    document = docx.Document(io.BytesIO(data))
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]

    assert headings == ["Deltagare", "Kontaktperson", "Medföljande", "Mätning", "Kommentar", "Plats", "Veckor"]
    assert [["Namn", "Anna"], ["Roll", "Rektor"]] in tables
    assert [["Kommer på plats", "Nej"], ["Första dag", "2027-01-15"]] in tables
    assert [["Namn", "Behöver specialkost"], ["Bo", "Ja"]] in tables
    assert [["Värde", "12.5"], ["Enhet", "Kilometer"]] in tables
    assert [["Kommentar"], ["mätt två gånger"], ["med GPS"]] in tables


def test_the_check_page_lists_positions_and_added_rows_with_where_to_change_them(form):
    found = {section.title: section for section in sections(form, VALID) if section.title}

    assert [(a.label, a.value, a.target) for a in found["Kontaktperson"].answers] == [
        ("Namn", "Anna", "f-deltagare-0-namn"),
        ("Roll", "Rektor", "f-deltagare-0-roll-1"),
    ]
    answers = [(a.label, a.value, a.target, a.which) for section in sections(form, VALID) for a in section.answers]
    assert ("Kommer på plats", "Nej", "f-deltagare-1-1", "Kommer på plats (Deltagare)") in answers
    assert ("Första dag", "2027-01-15", "f-deltagare-2", "Första dag (Deltagare)") in answers
    assert [(a.label, a.value, a.target) for a in found["Medföljande 1"].answers] == [
        ("Namn", "Bo", "f-deltagare-3-namn"),
        ("Behöver specialkost", "Ja", "f-deltagare-3-kost"),
    ]
    assert [(a.label, a.value, a.target) for a in found["Kommentar"].answers] == [
        ("Kommentar 1", "mätt två gånger", "f-matning-2"),
        ("Kommentar 2", "med GPS", "f-matning-3"),
    ]


def test_the_answer_page_shows_a_reports_tuple_by_position_and_its_added_rows(form):
    blocks = readonly(form, {**VALID, "veckor": [["2027-01-15", "2027-01-20"]]})

    assert ("heading", 3, "Deltagare") in blocks and ("heading", 4, "Kontaktperson") in blocks
    assert ("facts", [("Namn", ["Anna"]), ("Roll", ["Rektor"])]) in blocks
    assert ("facts", [("Kommer på plats", ["Nej"]), ("Första dag", ["2027-01-15"])]) in blocks
    assert ("rows", 4, "Medföljande", ["Namn", "Behöver specialkost"], [["Bo", "Ja"]]) in blocks
    assert ("rows", 4, "Kommentar", ["Kommentar"], [["mätt två gånger"], ["med GPS"]]) in blocks
    assert ("rows", 3, "Veckor", ["Vecka"], [["2027-01-15, 2027-01-20"]]) in blocks
