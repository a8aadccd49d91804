"""Forms are data: sensible defaults, schemas from other tools, every field kind, and the form version."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from handler.app import create_app
from handler.forms import MAX_ROWS, Field, Form, FormSettings, Kind, MailRouting, ReplyLink, load_form, load_forms
from handler.paths import FieldPath
from handler.render import render_form
from support import attachment, docx_text, valid_answers

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NEW_FORM = FIXTURES / "new-form" / "schema" / "traff-anmalan.json"
JSON = {"Accept": "application/json"}


def app_for(tmp_path: Path, config: dict, *schemas: Path):
    """An app whose schema folder holds copies of `schemas` (no docs folder beside it: no page check)."""
    folder = tmp_path / "forms" / "schema"
    folder.mkdir(parents=True)
    for schema in schemas:
        shutil.copy(schema, folder / schema.name)
    return create_app({**config, "SCHEMA_DIR": str(folder)})


# ---- sensible defaults ----


def test_a_plain_schema_without_settings_is_a_working_form(tmp_path, config, smtp_server):
    plain = tmp_path / "kontakt-oss.json"
    plain.write_text(
        json.dumps(
            {
                "type": "object",
                "required": ["fraga"],
                "properties": {"fraga": {"type": "string"}, "svar_senast": {"type": "string", "format": "date"}},
            }
        ),
        encoding="utf-8",
    )
    app = app_for(tmp_path, {**config, "DEFAULT_TO": "kansliet@kommun.se"}, plain)
    form = app.extensions["formkit.forms"]["kontakt-oss"]

    response = app.test_client().post("/api/forms/kontakt-oss", data={"fraga": "Hur anmäler jag?"}, headers=JSON)

    assert response.status_code == 201
    assert response.json["reference"].startswith("KONTAKT-")
    assert form.settings.submit_label == "Skicka" and form.title == "kontakt-oss"
    assert [node.title for node in form.root.children] == ["Fraga", "Svar senast"]
    assert len(form.warnings) == 3 and all('saknar "title"' in str(w) for w in form.warnings)
    (report,) = smtp_server.inbox.wait_for(1)
    assert report["To"].addresses[0].addr_spec == "kansliet@kommun.se"
    assert response.json["reference"] in report["Subject"]
    assert "Hur anmäler jag?" in docx_text(attachment(report)[1])


def test_labels_from_names_read_as_words():
    from handler.conventions import humanize

    assert [humanize(n) for n in ("firstName", "chef_epost", "telephone", "URL")] == [
        "First name",
        "Chef epost",
        "Telephone",
        "Url",
    ]


# ---- schemas written for other tools ----


def test_a_react_jsonschema_form_sample_renders_with_its_labels_defaults_and_limits(tmp_path, config):
    app = app_for(tmp_path, config, FIXTURES / "rjsf-simple.json")
    form = app.extensions["formkit.forms"]["rjsf-simple"]

    html = render_form(form, "/api/forms/rjsf-simple")

    assert form.warnings == []
    for label in ("First name", "Last name", "Age", "Bio", "Password", "Telephone"):  # optional ones say so
        assert re.search(f'>{label}( <span class="formkit-optional">\\(valfritt\\)</span>)?</label>', html), label
    assert 'name="firstName"' in html and 'value="Chuck"' in html
    assert 'name="age"' in html and 'type="number"' in html
    assert 'name="telephone"' in html and 'minlength="10"' in html


def test_a_react_jsonschema_form_sample_validates_in_swedish(tmp_path, config, smtp_server):
    client = app_for(tmp_path, config, FIXTURES / "rjsf-simple.json").test_client()

    bad = client.post("/api/forms/rjsf-simple", data={"firstName": "Chuck", "telephone": "123"}, headers=JSON)
    good = client.post(
        "/api/forms/rjsf-simple",
        data={
            "firstName": "Chuck",
            "lastName": "Norris",
            "age": "75",
            "password": "hemligt",
            "telephone": "0812345678",
        },
        headers=JSON,
    )

    assert bad.status_code == 422
    assert {e["name"]: e["message"] for e in bad.json["errors"]} == {
        "lastName": "Ange last name",
        "telephone": "Telephone måste vara minst 10 tecken",
    }
    assert good.status_code == 201 and good.json["reference"].startswith("RJSF-")
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "First name" in text and "Norris" in text and "75" in text


def test_keywords_the_kit_does_not_use_are_ignored_never_a_crash(tmp_path, config, smtp_server):
    client = app_for(tmp_path, config, FIXTURES / "other-tool.json").test_client()
    page = client.application.extensions["formkit.forms"]["other-tool"]

    html = render_form(page, "/api/forms/other-tool")
    response = client.post(
        "/api/forms/other-tool",
        data=MultiDict([("fullName", "Ada Lovelace"), ("attending", "Maybe"), ("tags", "work"), ("tags", "friends")]),
        headers=JSON,
    )
    bad = client.post("/api/forms/other-tool", data={"fullName": "Ada", "score": "10"}, headers=JSON)

    assert 'type="radio"' in html and 'value="Maybe"' in html and 'type="checkbox"' in html
    assert response.status_code == 201
    assert bad.status_code == 422 and bad.json["errors"][0]["name"] == "score"


# ---- every field kind ----


def test_the_new_form_fixture_has_every_kind_of_field():
    form = load_form(NEW_FORM)

    kinds = {node.dotted: node.kind for node in form.root.walk()}

    assert set(kinds.values()) == {
        "group",
        "list",
        "text",
        "textarea",
        "email",
        "date",
        "integer",
        "checkbox",
        "radio",
        "select",
        "checkboxes",
    }


NEW_FORM_ANSWERS = [
    ("namn", "Eva Ek"),
    ("epost", "eva.ek@solna.se"),
    ("datum", "2026-12-03"),
    ("deltagare", "3"),
    ("verksamhet", "bup"),
    ("kommun", "taby"),
    ("amnen", "samverkan"),
    ("amnen", "elevhalsa"),
    ("meddelande", "- Vegetarisk lunch\n- Hörslinga"),
    ("kontakt.namn", "Carl Chef"),
    ("kontakt.telefon", "08-123 456 78"),
    ("kollegor.0.namn", "Anna Andersson"),
    ("kollegor.0.epost", "anna@solna.se"),
    ("kollegor.1.namn", "Bo Berg"),
    ("kollegor.2.namn", ""),
    ("samtycke", "on"),
]


def test_the_document_is_generic_over_the_schema(tmp_path, config, smtp_server):
    client = app_for(tmp_path, config, NEW_FORM).test_client()

    response = client.post("/api/forms/traff-anmalan", data=MultiDict(NEW_FORM_ANSWERS), headers=JSON)

    assert response.status_code == 201, response.json
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    expected = [
        "Anmälan till nätverksträff",
        response.json["reference"],
        "Antal deltagare\n3",
        "Verksamhet",
        "Barn- och ungdomspsykiatri",  # choices by their labels, not their values
        "Täby kommun",
        "Samverkan, Elevhälsa",
        "Meddelande",
        "Vegetarisk lunch",
        "Kontaktperson på plats",  # a group is a section
        "Carl Chef",
        "Kollegor som också kommer",  # repeated rows are a table with column headings
        "Kollegans namn",
        "Kollegans e-post",
        "Anna Andersson",
        "anna@solna.se",
        "Bo Berg",
        "Jag godkänner att uppgifterna sparas till träffen\nJa",
    ]
    positions = [text.find(item) for item in expected]
    assert -1 not in positions, [e for e, p in zip(expected, positions) if p == -1]
    assert positions == sorted(positions)
    assert "bup" not in text.split() and "taby" not in text


def test_whole_numbers_keep_their_bounds(tmp_path, config):
    client = app_for(tmp_path, config, NEW_FORM).test_client()
    answers = dict(NEW_FORM_ANSWERS)

    low = client.post("/api/forms/traff-anmalan", data={**answers, "deltagare": "0"}, headers=JSON)
    high = client.post("/api/forms/traff-anmalan", data={**answers, "deltagare": "21"}, headers=JSON)
    text = client.post("/api/forms/traff-anmalan", data={**answers, "deltagare": "tre"}, headers=JSON)

    assert [r.json["errors"][0]["message"] for r in (low, high, text)] == [
        "Antal deltagare måste vara 1 eller mer",
        "Antal deltagare måste vara 20 eller mindre",
        "Antal deltagare måste vara ett heltal, till exempel 12",
    ]


# ---- the form version ----


def test_the_version_is_a_hash_of_the_schema_and_changes_with_it(tmp_path):
    copy = tmp_path / "traff-anmalan.json"
    shutil.copy(NEW_FORM, copy)
    before = load_form(copy).version
    schema = json.loads(copy.read_text(encoding="utf-8"))
    schema["properties"]["namn"]["title"] = "Ditt namn"
    copy.write_text(json.dumps(schema), encoding="utf-8")

    assert load_form(NEW_FORM).version == before and len(before) == 12
    assert load_form(copy).version != before
    assert f'name="_version" value="{before}"' in render_form(load_form(NEW_FORM), "/api/forms/traff-anmalan")


@pytest.fixture
def changed_form(tmp_path, config):
    """An app whose form got a new required field after the page (version `old`) was loaded."""
    app = app_for(tmp_path, config, NEW_FORM)
    old = app.extensions["formkit.forms"]["traff-anmalan"].version
    path = Path(app.config["SCHEMA_DIR"]) / "traff-anmalan.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["properties"]["telefon"] = {"type": "string", "title": "Ditt telefonnummer"}
    schema["required"].append("telefon")
    del schema["properties"]["meddelande"]
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return create_app(app.config), old


def test_answers_to_a_changed_form_get_a_clear_message_as_json(changed_form):
    app, old = changed_form
    answers = MultiDict([*NEW_FORM_ANSWERS, ("_version", old)])

    response = app.test_client().post("/api/forms/traff-anmalan", data=answers, headers=JSON)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Formuläret har ändrats"
    assert response.json["form_changed"] is True
    assert "ändrats sedan du öppnade sidan" in response.json["detail"]
    assert "finns kvar" in response.json["detail"]
    assert [e["name"] for e in response.json["errors"]] == ["telefon"]


def test_without_javascript_a_changed_form_comes_back_with_the_message_and_what_was_typed(changed_form):
    app, old = changed_form
    answers = MultiDict([*NEW_FORM_ANSWERS, ("_version", old)])

    response = app.test_client().post("/api/forms/traff-anmalan", data=answers)

    html = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "Formuläret har ändrats sedan du öppnade sidan" in html
    assert 'value="Eva Ek"' in html and 'value="Anna Andersson"' in html and 'value="2026-12-03"' in html
    assert 'name="telefon"' in html  # the new field is there to fill in
    new = app.extensions["formkit.forms"]["traff-anmalan"].version
    assert f'name="_version" value="{new}"' in html


def test_old_answers_that_still_fit_the_changed_form_are_accepted(changed_form, smtp_server):
    app, old = changed_form
    answers = MultiDict([*NEW_FORM_ANSWERS, ("telefon", "08-123 456 78"), ("_version", old)])

    response = app.test_client().post("/api/forms/traff-anmalan", data=answers, headers=JSON)

    assert response.status_code == 201


def test_invalid_answers_to_an_unchanged_form_get_the_ordinary_message(client):
    version = client.application.extensions["formkit.forms"]["bus-avvikelse"].version
    answers = {**valid_answers(), "beskrivning.chef.epost": "inte en adress", "_version": version}

    response = client.post("/api/forms/bus-avvikelse", data=answers, headers=JSON)

    assert response.status_code == 422
    assert "form_changed" not in response.json and response.json["title"] == "Formuläret innehåller fel"


def test_a_json_client_may_send_the_version(client, smtp_server):
    body = {"_version": "000000000000", "handelsetyp": "x"}

    response = client.post("/api/forms/bus-avvikelse", json=body, headers=JSON)

    assert response.status_code == 422 and response.json["form_changed"] is True
    assert "_version" not in {e["name"] for e in response.json["errors"]}


# ---- the field model: typed attributes, defaults once, settings frozen, O(1) lookup ----

TYPED = {
    "type": "object",
    "title": "Typad",
    "x-formkit": {"mail": {"to": "/kontakt/epost", "subject": "Ny {reference}"}},
    "properties": {
        "namn": {
            "type": "string",
            "title": "Namn",
            "minLength": 2,
            "maxLength": 40,
            "pattern": "^[A-Za-z ]+$",
            "default": "Eva",
            "x-placeholder": "Förnamn Efternamn",
            "x-autocomplete": "name",
            "x-messages": {"pattern": "Bara bokstäver"},
        },
        "telefon": {"type": "string", "title": "Telefon", "x-widget": "tel", "x-messages": "Ange ett nummer"},
        "antal": {"type": "integer", "title": "Antal", "minimum": 1, "maximum": 2.5},
        "kontakt": {
            "type": "object",
            "title": "Kontakt",
            "properties": {"epost": {"type": "string", "format": "email", "title": "E-post"}},
        },
        "rader": {
            "type": "array",
            "title": "Rader",
            "minItems": 1,
            "maxItems": 5,
            "x-item-title": "Rad",
            "items": {"type": "object", "properties": {"text": {"type": "string", "title": "Text"}}},
        },
        "fler": {
            "type": "array",
            "title": "Fler",
            "items": {"type": "object", "title": "En till", "properties": {"a": {"type": "string", "title": "A"}}},
        },
    },
}


def typed_form(tmp_path) -> Form:
    path = tmp_path / "typad.json"
    path.write_text(json.dumps(TYPED, ensure_ascii=False), encoding="utf-8")
    return load_form(path)


def test_kinds_are_an_enum_that_still_compares_as_text():
    form = load_form(NEW_FORM)

    assert all(isinstance(node.kind, Kind) for node in form.root.walk())
    assert form.root.kind is Kind.GROUP and form.root.kind == "group" and f"{Kind.TEXTAREA}" == "textarea"
    assert [kind for kind in Kind if kind.is_container] == [Kind.GROUP, Kind.LIST]


def test_the_limits_widget_and_messages_of_a_field_are_typed_attributes(tmp_path):
    form = typed_form(tmp_path)
    namn, telefon, antal = (form.field_at((name,)) for name in ("namn", "telefon", "antal"))
    rader, fler = form.field_at(("rader",)), form.field_at(("fler",))

    assert (namn.min_length, namn.max_length, namn.pattern) == (2, 40, "^[A-Za-z ]+$")
    assert (namn.default, namn.placeholder, namn.autocomplete) == ("Eva", "Förnamn Efternamn", "name")
    assert namn.own_message("pattern") == "Bara bokstäver" and namn.own_message("required") == ""
    assert telefon.widget == "tel" and telefon.own_message("required") == "Ange ett nummer"
    assert telefon.own_message("type") == "Ange ett nummer"
    assert (antal.kind, antal.minimum, antal.maximum, antal.min_length) == (Kind.INTEGER, 1, 2.5, None)
    assert form.field_at(("kontakt", "epost")).format == "email"
    assert (rader.kind, rader.min_items, rader.max_items) == (Kind.LIST, 1, 5)
    assert rader.item_title == rader.item.title == "Rad"
    assert (fler.min_items, fler.max_items, fler.item_title) == (0, MAX_ROWS, "En till")  # the defaults, once


def test_the_settings_are_a_frozen_typed_object_with_the_defaults(tmp_path):
    settings = typed_form(tmp_path).settings

    assert settings == FormSettings(
        reference_prefix="TYPAD", mail=MailRouting(to=("/kontakt/epost",), subject="Ny {reference}")
    )
    assert (settings.submit_label, settings.privacy_guard, settings.allowed_domains) == ("Skicka", True, ())
    assert (settings.reply_form, settings.reply_link, settings.reply_of, settings.receipt) == ("", None, "", "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.reply_of = "annan"


def test_an_answer_form_knows_its_report_as_soon_as_the_forms_are_loaded():
    forms = load_forms(FIXTURES.parent.parent / "schema")

    report, answer = forms["bus-avvikelse"].settings, forms["bus-avvikelse-svar"].settings
    link = ReplyLink(
        "/beskrivning/chef/epost",
        2,
        units="/verksamheter",
        unit_name="enhet",
        unit_address="chef_epost",
        remind_days_before=14,
        received="/mottagande/datum",
    )
    assert report.reply_form == "bus-avvikelse-svar" and report.reply_link == link
    assert answer.reply_of == "bus-avvikelse" and report.reply_of == ""


def test_a_posted_name_finds_its_field_without_walking_the_form(monkeypatch):
    form = load_forms(FIXTURES.parent.parent / "schema")["bus-avvikelse"]
    enhet = next(node for node in form.root.walk() if node.dotted == "verksamheter.*.enhet")

    def walk(self):
        raise AssertionError("field_at walked the form")

    monkeypatch.setattr(Field, "walk", walk)
    for spelling in (
        ("verksamheter", 3, "enhet"),
        ("verksamheter", "3", "enhet"),
        ("verksamheter", "*", "enhet"),
        "verksamheter.3.enhet",
        "/verksamheter/*/enhet",
        FieldPath(("verksamheter", 3, "enhet")),
    ):
        assert form.field_at(spelling) is enhet, spelling
    assert form.field_named("verksamheter.3.enhet") is enhet
    assert form.field_at(("verksamheter",)).kind == Kind.LIST and form.field_at(()) is form.root


@pytest.mark.parametrize("row", ["²", "٣", "３", "*", "-1", "", "3 "])
def test_a_posted_name_whose_row_is_not_ascii_digits_names_no_field(row):
    form = load_forms(FIXTURES.parent.parent / "schema")["bus-avvikelse"]

    assert form.field_named(f"verksamheter.{row}.enhet") is None


def test_a_row_number_of_thousands_of_digits_is_looked_up_without_parsing_it():
    form = load_forms(FIXTURES.parent.parent / "schema")["bus-avvikelse"]

    node = form.field_named("verksamheter." + "9" * 5000 + ".enhet")  # the row bound is normalise's to check

    assert node is not None and node.dotted == "verksamheter.*.enhet"


def test_without_javascript_a_row_is_marked_required_only_below_its_lists_min_items(tmp_path):
    """The HTML `required` (what a screen reader announces) follows minItems, as formkit.js marks rows."""
    items = {
        "type": "object",
        "required": ["alder"],
        "properties": {"alder": {"type": "integer", "title": "Ålder"}, "skola": {"type": "string", "title": "Skola"}},
    }
    schema = {
        "title": "Rader",
        "type": "object",
        "required": ["par"],
        "properties": {
            "barn": {"type": "array", "title": "Barn", "items": {**items, "title": "Barn"}},
            "par": {"type": "array", "title": "Par", "minItems": 2, "items": {**items, "title": "Person"}},
        },
        "x-formkit": {"mail": {"to": "a@example.se"}},
    }
    path = tmp_path / "rader.json"
    path.write_text(json.dumps(schema), encoding="utf-8")

    html = render_form(load_form(path), "/api/forms/rader")

    required = re.findall(r'<input[^>]* name="([^"]+)"[^>]* required', html)
    assert required == ["par.0.alder", "par.1.alder"]  # none in the optional list "barn", none past minItems
    assert 'name="barn.0.alder"' in html and 'name="par.2.alder"' in html


def test_a_choice_is_found_by_its_value_as_json_schema_compares_values():
    from handler.fields import Field, Kind

    values = ["x", 1, "x", True, "1", {"a": [1]}, None]
    choice = Field(
        name="f", path=("f",), kind=Kind.SELECT, title="F",
        choices=[(str(n), f"Val {n}") for n in range(len(values))], choice_values=values,
    )  # fmt: skip

    found = {repr(v): choice.key_of(v) for v in ["x", 1, 1.0, True, "1", {"a": [1.0]}, None, "y", 0, False]}
    assert found == {
        "'x'": "0", "1": "1", "1.0": "1", "True": "3", "'1'": "4", "{'a': [1.0]}": "5", "None": "6",
        "'y'": None, "0": None, "False": None,
    }  # fmt: skip
    assert choice.label_of("x") == "Val 0" and choice.label_of("1") == "Val 4" and choice.label_of("y") is None
