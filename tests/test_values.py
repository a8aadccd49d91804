"""Repeating simple values and tuples (issue 14, point 1): read from the schema, rendered, checked, delivered.

Arrays of strings, dates, e-mail addresses and numbers are lists with one input per row; `prefixItems`
(and draft-07's `"items": [...]`) are tuples: fixed, labelled rows. The fixture form is
tests/fixtures/values/schema/listor.json; the browser side is tests/browser/test_values.py.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import shutil
import urllib.parse
from pathlib import Path

import docx
import pytest

from handler.app import create_app
from handler.check import check_project
from handler.document import render_report
from handler.fields import Kind
from handler.forms import load_forms
from handler.normalise import clean, from_pairs
from handler.render import render_form
from handler.review import sections
from handler.validation import client_messages, messages
from support import attachment

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "values"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def form():
    return load_forms(FIXTURE / "schema")["listor"]


@pytest.fixture
def client(config):
    return create_app({**config, "SCHEMA_DIR": str(FIXTURE / "schema")}).test_client()


def post_pairs(client, pairs):
    body = urllib.parse.urlencode(pairs)
    return client.post("/api/forms/listor", data=body, content_type="application/x-www-form-urlencoded", headers=JSON)


def post_json(client, data):
    return client.post("/api/forms/listor", json=data, headers=JSON)


def verdict(response) -> list[tuple[str, str]]:
    """Return (field name, message) per error, or [] when the answers were accepted."""
    if response.status_code == 201:
        return []
    assert response.status_code == 422, response.get_data(as_text=True)
    return [(e["name"], e["summary"]) for e in response.json["errors"]]


# ---- the form definition ----


def test_an_array_of_simple_values_is_a_list_with_one_input_per_row(form):
    adresser, datum, antal = (form.field_at((name,)) for name in ("adresser", "datum", "antal"))

    assert adresser.kind == Kind.LIST and adresser.holds_values
    assert (adresser.item.kind, adresser.item.title, adresser.item.path) == (
        Kind.EMAIL,
        "E-postadress",
        ("adresser", "*"),
    )
    assert (adresser.min_items, adresser.max_items, adresser.unique_items) == (1, 4, True)
    assert (datum.item.kind, antal.item.kind, antal.item.minimum) == (Kind.DATE, Kind.INTEGER, 1)
    assert not datum.unique_items


def test_prefix_items_and_draft_07_items_arrays_are_tuples_with_positions_named_0_1(form):
    plats, rum = form.field_at(("plats",)), form.field_at(("rum",))

    assert plats.kind == rum.kind == Kind.TUPLE
    assert [(c.name, c.title, c.kind, c.required) for c in plats.children] == [
        ("0", "Latitud", Kind.NUMBER, True),
        ("1", "Longitud", Kind.NUMBER, True),
    ]
    assert [(c.name, c.title, c.kind) for c in rum.children] == [
        ("0", "Värde 1", Kind.TEXT),
        ("1", "Värde 2", Kind.INTEGER),
    ]
    assert form.field_named("plats.1") is plats.children[1] and form.field_at(("rum", 0)) is rum.children[0]
    assert form.field_named("plats.2") is None


def write_form(tmp_path: Path, properties: dict) -> Path:
    schema = {"title": "Prov", "type": "object", "properties": properties}
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "prov.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder


def line_of(folder: Path, needle: str) -> int:
    """Return the line of `needle`, or of the line after it for "needle+1"."""
    needle, _, after = needle.partition("+")
    text = (folder / "prov.json").read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1 + int(after or 0)


REFUSED = [
    (
        "array of arrays of groups",
        {"type": "array", "title": "A", "items": {"type": "array", "items": {"type": "object", "properties": {}}}},
        '"a"',
        ['fältet "a"', "En lista av listor stöds bara när de inre listorna har enkla värden"],
    ),
    (
        "array of booleans",
        {"type": "array", "title": "A", "items": {"type": "boolean"}},
        '"a"',
        ['fältet "a"', 'En lista av "boolean" stöds inte'],
    ),
    ("array without items", {"type": "array", "title": "A"}, '"a"', ['fältet "a"', 'Rätta "items"']),
    (
        "tuple open to anything after it",
        {"type": "array", "title": "A", "prefixItems": [{"type": "string"}], "items": True},
        '"items"',
        ['fältet "a.*"', '"items" kan inte vara true', '"items": false'],
    ),
    (
        "draft-07 tuple open to anything after it",
        {"type": "array", "title": "A", "items": [{"type": "string"}], "additionalItems": True},
        '"additionalItems"',
        ['fältet "a.*"', "kan inte vara true", '"prefixItems"'],
    ),
    (
        "tuple of lists",
        {"type": "array", "title": "A", "prefixItems": [{"type": "array", "items": {"type": "string"}}]},
        '"prefixItems"+1',  # the entry itself, on the line after
        ['fältet "a.0"', '"prefixItems"', "en lista som värde"],
    ),
    (
        "tuple whose added rows hold files",
        {"type": "array", "title": "A", "prefixItems": [{"type": "string"}], "items": {"format": "data-url"}},
        '"items": {',
        ['fältet "a.*"', '"items" efter "prefixItems"', "filer"],
    ),
    (
        "contains",
        {"type": "array", "title": "A", "items": {"type": "string"}, "contains": {"const": "x"}},
        '"contains"',
        ['fältet "a"', '"contains"'],
    ),
]


@pytest.mark.parametrize(("schema", "needle", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_formkit_check_refuses_what_it_cannot_show_naming_file_line_field_and_keyword(
    tmp_path, schema, needle, expected
):
    folder = write_form(tmp_path, {"a": schema})

    found = [str(problem) for problem in check_project(folder, docs_dir=None).problems]

    assert len(found) == 1, found
    assert found[0].startswith(f"{folder / 'prov.json'}:{line_of(folder, needle)}: "), found
    for fragment in expected:
        assert fragment in found[0]


def test_formkit_check_accepts_lists_of_values_and_tuples(tmp_path):
    shutil.copytree(FIXTURE / "schema", tmp_path / "schema")

    assert check_project(tmp_path / "schema", docs_dir=None).problems == []


# ---- rendered markup ----


def test_without_javascript_a_list_of_values_has_three_blank_rows_each_one_labelled_input(form):
    html = render_form(form, "/api/forms/listor")
    datum = re.search(r'<fieldset[^>]*data-formkit-list="datum".*?</fieldset>', html, re.S).group(0)

    assert "data-formkit-values" in datum and '<legend class="formkit-legend">Mötesdagar <span' in datum
    assert re.findall(r'<label class="formkit-label" for="([^"]+)" data-formkit-row-title>([^<]+)</label>', datum) == [
        ("f-datum-0", "Mötesdag 1"),
        ("f-datum-1", "Mötesdag 2"),
        ("f-datum-2", "Mötesdag 3"),
    ]
    assert re.findall(r'<input [^>]*type="date" id="(f-datum-\d)" name="(datum\.\d)"', datum) == [
        ("f-datum-0", "datum.0"),
        ("f-datum-1", "datum.1"),
        ("f-datum-2", "datum.2"),
    ]
    assert " required" not in datum  # rows are optional one by one; the list's own check counts them


def test_the_list_carries_its_counts_and_the_servers_messages_for_the_browser(form):
    html = render_form(form, "/api/forms/listor")
    tag = re.search(r'<fieldset[^>]*data-formkit-list="adresser"[^>]*>', html).group(0)
    shown = json.loads(re.search(r'data-messages="([^"]+)"', tag).group(1).replace("&#34;", '"'))
    adresser = form.field_at(("adresser",))

    assert 'data-min="1"' in tag and 'data-max="4"' in tag and "data-required" in tag
    assert shown == client_messages(adresser)
    assert shown["uniqueItems"] == messages(adresser, "uniqueItems", True)
    assert shown["uniqueItems"] == "Samma värde står flera gånger under e-postadresser. Ta bort dubbletterna."
    assert shown["minItems"] == "Ange minst ett värde under e-postadresser"
    assert shown["required"] == "Ange minst ett värde under e-postadresser"


def test_a_row_per_answer_plus_one_blank_and_never_more_than_max_items(form):
    three = render_form(form, "/api/forms/listor", values={"adresser": ["a@solna.se", "b@solna.se"]})
    full = render_form(form, "/api/forms/listor", values={"adresser": ["a@s.se", "b@s.se", "c@s.se", "d@s.se"]})

    assert re.findall(r'name="adresser\.(\d)"(?: [^>]*)? value="([^"]*)"', three) == [
        ("0", "a@solna.se"),
        ("1", "b@solna.se"),
    ]
    assert three.count('name="adresser.') == 3
    assert full.count('name="adresser.') == 4


def test_a_tuple_is_a_fieldset_of_fixed_labelled_rows_kept_filled_in(form):
    html = render_form(form, "/api/forms/listor", values={"plats": [59.3, 18.05]})
    plats = re.search(r'<fieldset[^>]*data-formkit-tuple="plats".*?</fieldset>', html, re.S).group(0)

    assert '<legend class="formkit-legend">Mötesplatsens läge</legend>' in plats
    assert re.findall(r'<label class="formkit-label" for="(f-plats-\d)">([^<]+)</label>', plats) == [
        ("f-plats-0", "Latitud"),
        ("f-plats-1", "Longitud"),
    ]
    assert 'name="plats.0" required' in plats and 'value="59.3"' in plats and 'value="18.05"' in plats
    assert 'id="f-plats-error"' in plats  # for "too many values", which only the server can say


# ---- normalising and the server's verdict, the same on both paths ----


def test_posted_rows_become_a_list_without_blank_rows_and_a_tuple_keeps_its_positions(form):
    pairs = [
        ("adresser.0", " a@solna.se "),
        ("adresser.1", ""),
        ("adresser.2", "b@solna.se"),
        ("antal.0", "12"),
        ("antal.1", ""),
        ("plats.0", "59,3"),
        ("plats.1", "18"),
        ("rum.0", ""),
        ("rum.1", "4"),
    ]

    assert clean(from_pairs(form, pairs), form.root) == {
        "adresser": ["a@solna.se", "b@solna.se"],
        "antal": [12],
        "plats": [59.3, 18.0],
        "rum": [None, 4],  # a blank inside a tuple is asked for, not shifted
    }


CASES = [
    ("valid", {"adresser": ["a@solna.se", "b@solna.se"], "datum": ["2027-01-15"], "plats": [59.3, 18.05]}, []),
    ("no address", {"datum": ["2027-01-15"]}, [("adresser", "Ange minst ett värde under e-postadresser")]),
    (
        "the same address twice",
        {"adresser": ["a@solna.se", "a@solna.se"]},
        [("adresser", "Samma värde står flera gånger under e-postadresser. Ta bort dubbletterna.")],
    ),
    (
        "too many addresses",
        {"adresser": ["a@s.se", "b@s.se", "c@s.se", "d@s.se", "e@s.se"]},
        [("adresser", "Du kan ange högst 4 värden under e-postadresser")],
    ),
    (
        "a bad address in row 2",
        {"adresser": ["a@solna.se", "inte en adress"]},
        [("adresser.1", "Ange e-postadressen i rätt format, till exempel namn@kommun.se (E-postadress 2)")],
    ),
    (
        "a date that does not exist",
        {"adresser": ["a@solna.se"], "datum": ["2027-02-30"]},
        [("datum.0", "Mötesdag måste vara ett riktigt datum, till exempel 2026-03-15 (Mötesdag 1)")],
    ),
    (
        "a number too small",
        {"adresser": ["a@solna.se"], "antal": [5, 0]},
        [("antal.1", "Antal måste vara 1 eller mer (Antal 2)")],
    ),
    (
        "too many topics",
        {"adresser": ["a@solna.se"], "amnen": ["a", "b", "c", "d"]},
        [("amnen", "Du kan ange högst 3 värden under ämnen")],
    ),
    (
        "a tuple half filled in",
        {"adresser": ["a@solna.se"], "plats": [59.3]},
        [("plats.1", "Ange longitud (Mötesplatsens läge)")],
    ),
    (
        "a tuple's second value out of range",
        {"adresser": ["a@solna.se"], "plats": [59.3, 200]},
        [("plats.1", "Longitud måste vara 180 eller mindre (Mötesplatsens läge)")],
    ),
    ("a blank inside a tuple", {"adresser": ["a@solna.se"], "rum": ["", 4]}, [("rum.0", "Ange värde 1 (Rum)")]),
]


def as_pairs(data, name: str = "") -> list[tuple[str, str]]:
    """Return the (name, value) pairs a browser posts for `data`: rows and positions numbered from 0."""
    if isinstance(data, dict):
        return [pair for key, value in data.items() for pair in as_pairs(value, f"{name}.{key}" if name else key)]
    if isinstance(data, list):
        return [pair for index, value in enumerate(data) for pair in as_pairs(value, f"{name}.{index}")]
    return [(name, str(data))]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_json_and_form_encoded_paths_give_the_same_verdict(client, data, expected):
    assert verdict(post_json(client, data)) == expected
    assert verdict(post_pairs(client, as_pairs(data))) == expected


def test_a_value_beyond_the_tuple_is_refused_whether_the_schema_says_items_false_or_nothing(client):
    closed = verdict(post_json(client, {"adresser": ["a@solna.se"], "plats": [59.3, 18.05, 3]}))
    unsaid = verdict(post_json(client, {"adresser": ["a@solna.se"], "rum": ["Sal A", 4, "extra"]}))

    assert closed == [("plats", "Du kan ange högst 2 värden under mötesplatsens läge. Ta bort de övriga.")]
    assert unsaid == [("rum", "Du kan ange högst 2 värden under rum. Ta bort de övriga.")]
    assert post_pairs(client, [("adresser.0", "a@solna.se"), ("plats.2", "3")]).status_code == 400


# ---- delivered: the DOCX read back, and the check page ----


ANSWERS = {
    "adresser": ["anna@solna.se", "bo@taby.se"],
    "datum": ["2027-01-15", "2027-03-02"],
    "antal": [12, 30],
    "amnen": ["Samverkan", "Elevhälsa"],
    "plats": [59.3293, 18.0686],
    "rum": ["Sal A", 4],
    "grupper": [{"namn": "Elevhälsan", "telefon": ["08-123 45", "08-678 90"]}],
}


def test_every_value_arrives_in_the_docx_in_the_forms_order(client, smtp_server):
    response = post_pairs(client, as_pairs(ANSWERS))
    assert response.status_code == 201, response.get_data(as_text=True)

    _, data = attachment(smtp_server.inbox.wait_for(1)[0])
    document = docx.Document(io.BytesIO(data))
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]

    assert headings == [
        "E-postadresser",
        "Mötesdagar",
        "Antal deltagare per träff",
        "Ämnen",
        "Mötesplatsens läge",
        "Rum",
        "Arbetsgrupper",
    ]
    assert [["E-postadress"], ["anna@solna.se"], ["bo@taby.se"]] in tables
    assert [["Gruppens namn", "Gruppens telefonnummer"], ["Elevhälsan", "08-123 45, 08-678 90"]] in tables
    assert [["Mötesdag"], ["2027-01-15"], ["2027-03-02"]] in tables
    assert [["Antal"], ["12"], ["30"]] in tables
    assert [["Ämne"], ["Samverkan"], ["Elevhälsa"]] in tables
    assert [["Latitud", "59.3293"], ["Longitud", "18.0686"]] in tables
    assert [["Värde 1", "Sal A"], ["Värde 2", "4"]] in tables


def test_an_empty_list_and_an_unanswered_tuple_show_a_dash_in_the_docx(form):
    document = render_report(form, {"adresser": ["a@solna.se"]}, "LISTOR-1", datetime.datetime(2027, 1, 1), None)
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows]
        for table in docx.Document(io.BytesIO(document)).tables
    ]

    assert [["Mötesdag"], ["–"]] in tables
    assert [["Latitud", "–"], ["Longitud", "–"]] in tables


def test_the_check_page_lists_each_value_with_its_row_and_where_to_change_it(form):
    found = sections(form, ANSWERS)
    by_title = {section.title: section for section in found if section.title}

    assert [(a.label, a.value, a.target) for a in by_title["E-postadresser"].answers] == [
        ("E-postadress 1", "anna@solna.se", "f-adresser-0"),
        ("E-postadress 2", "bo@taby.se", "f-adresser-1"),
    ]
    assert [(a.label, a.value, a.target, a.which) for a in by_title["Mötesplatsens läge"].answers] == [
        ("Latitud", "59.3293", "f-plats-0", "Latitud (Mötesplatsens läge)"),
        ("Longitud", "18.0686", "f-plats-1", "Longitud (Mötesplatsens läge)"),
    ]
    assert [s.title for s in found if s.title] == [
        "E-postadresser",
        "Mötesdagar",
        "Antal deltagare per träff",
        "Ämnen",
        "Mötesplatsens läge",
        "Rum",
        "Arbetsgrupper",
        "Arbetsgrupp 1",
        "Gruppens telefonnummer",
    ]
    assert [(a.label, a.value, a.target) for a in by_title["Gruppens telefonnummer"].answers] == [
        ("Telefonnummer 1", "08-123 45", "f-grupper-0-telefon-0"),
        ("Telefonnummer 2", "08-678 90", "f-grupper-0-telefon-1"),
    ]


# ---- a list of lists of values (corpus arrays' nestedList) ----

NESTED = {
    "type": "array",
    "title": "Veckor",
    "maxItems": 2,
    "items": {"type": "array", "title": "Vecka", "items": {"type": "string", "title": "Mötesdag", "maxLength": 20}},
}


def test_a_list_of_lists_of_values_has_rows_each_holding_its_own_list(tmp_path):
    folder = write_form(tmp_path, {"veckor": NESTED})
    form = load_forms(folder)["prov"]
    veckor = form.field_at(("veckor",))
    html = render_form(form, "/api/forms/prov")

    assert (veckor.kind, veckor.item.kind, veckor.item.holds_values) == (Kind.LIST, Kind.LIST, True)
    assert form.field_named("veckor.1.2") is veckor.item.item
    assert re.findall(r'<legend class="formkit-row-legend">([^<]+)</legend>', html) == ["Vecka 1", "Vecka 2"]
    assert re.findall(r'data-formkit-list="(veckor[.\d]*)"', html) == ["veckor", "veckor.0", "veckor.1"]
    assert re.findall(r'name="(veckor\.1\.\d)"', html) == ["veckor.1.0", "veckor.1.1", "veckor.1.2"]
    pairs = [("veckor.0.0", "måndag"), ("veckor.0.1", ""), ("veckor.0.2", "fredag"), ("veckor.1.0", "")]
    assert clean(from_pairs(form, pairs), form.root) == {"veckor": [["måndag", "fredag"]]}


def test_a_list_of_lists_is_checked_alike_on_both_paths_and_every_value_reaches_the_docx(tmp_path, config, smtp_server):
    client = create_app({**config, "SCHEMA_DIR": str(write_form(tmp_path, {"veckor": NESTED}))}).test_client()
    answers = {"veckor": [["måndag", "fredag"], ["tisdag"]]}
    too_long = {"veckor": [["måndag"], ["x" * 21]]}

    def post(data, way):
        if way == "json":
            return client.post("/api/forms/prov", json=data, headers=JSON)
        body = urllib.parse.urlencode(as_pairs(data))
        return client.post("/api/forms/prov", data=body, content_type="application/x-www-form-urlencoded", headers=JSON)

    for way in ("json", "form"):
        assert verdict(post(too_long, way)) == [
            ("veckor.1.0", "Mötesdag får vara högst 20 tecken. Korta texten. (Mötesdag 1)")
        ]
    assert post(answers, "form").status_code == 201

    _, data = attachment(smtp_server.inbox.wait_for(1)[0])
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in docx.Document(io.BytesIO(data)).tables
    ]
    assert [["Vecka"], ["måndag, fredag"], ["tisdag"]] in tables
