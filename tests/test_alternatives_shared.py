"""Alternatives that share field names, or whose answers could fit more than one: the answer is checked against the
alternative chosen. The markup (each shared field posted under its alternative's key), the server's verdict on
form-encoded and JSON bodies, where errors point, and the DOCX read back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import lxml.html
import pytest

from handler import review
from handler.app import create_app
from handler.forms import read_form
from handler.render import render_form
from support import attachment, checked_form, client_of

SCHEMA = Path(__file__).resolve().parent / "fixtures" / "alternatives" / "schema" / "anstallning.json"
URL = "/api/forms/anstallning"
JSON = {"Accept": "application/json"}
# A page without JavaScript posts every alternative's fields: here "Skola" is chosen, "Företag" typed in too.
AT_SCHOOL = {
    "namn": "Eva Ek",
    "anstallning._alternativ": "2",
    "anstallning._alternativ1.typ": "foretag",
    "anstallning._alternativ1.titel": "Säljare",
    "anstallning.foretag": "Firman AB",
    "anstallning._alternativ2.typ": "skola",
    "anstallning._alternativ2.titel": "Lärare",
    "anstallning.skola": "Solna skola",
}


@pytest.fixture
def form():
    return checked_form(SCHEMA)


@pytest.fixture
def client(tmp_path, config):
    return client_of(tmp_path, config, SCHEMA)


def rows_of(message) -> list[tuple[str, ...]]:
    document = docx.Document(io.BytesIO(attachment(message)[1]))
    return [tuple(c.text for c in row.cells) for table in document.tables for row in table.rows]


# ---- markup ----


def test_a_field_two_alternatives_share_posts_under_its_alternatives_key_with_an_id_of_its_own(form):
    html = lxml.html.fromstring(render_form(form, URL))
    names = [c.get("name") for c in html.get_element_by_id("f-anstallning").iter("input") if c.get("type") == "text"]

    assert names == [
        "anstallning._alternativ1.titel",
        "anstallning.foretag",  # a name only one alternative has stays as it is
        "anstallning._alternativ2.titel",
        "anstallning.skola",
    ]
    ids = [e.get("id") for e in html.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    label = html.xpath("//label[@for='f-anstallning-_alternativ2-titel']")[0]
    assert label.text_content().strip() == "Tjänst"


# ---- the server's verdict ----


def test_only_the_chosen_alternatives_answers_reach_the_document_at_their_plain_places(client, smtp_server):
    response = client.post(URL, data=AT_SCHOOL, headers=JSON)

    assert response.status_code == 201, response.json
    rows = rows_of(smtp_server.inbox.wait_for(1)[0])
    assert ("Valt alternativ", "Skola") in rows and ("Tjänst", "Lärare") in rows
    assert ("Skolans namn", "Solna skola") in rows
    assert not any("Säljare" in row or "Firman AB" in row for row in rows)


def test_answers_that_fit_two_alternatives_are_accepted_for_the_one_chosen(client, smtp_server):
    # Both "Kontakt" alternatives have the same field: "oneOf" would refuse any answer; the choice decides.
    posted = {**AT_SCHOOL, "kontakt._alternativ": "2", "kontakt._alternativ2.uppgift": "Kansliet"}

    response = client.post(URL, data=posted, headers=JSON)

    assert response.status_code == 201, response.json
    rows = rows_of(smtp_server.inbox.wait_for(1)[0])
    assert ("Valt alternativ", "Organisation") in rows and ("Uppgift", "Kansliet") in rows


def test_an_error_is_on_the_chosen_alternatives_field_by_its_name_and_its_plain_path(client):
    posted = {**AT_SCHOOL, "anstallning._alternativ2.titel": "L"}  # too short for "Tjänst"; "Yrkestitel" has none

    response = client.post(URL, data=posted, headers=JSON)

    assert response.status_code == 422
    assert [(e["name"], e["path"], e["message"]) for e in response.json["errors"]] == [
        ("anstallning._alternativ2.titel", "/anstallning/titel", "Tjänst måste vara minst 3 tecken")
    ]


def test_without_javascript_the_summary_links_to_the_chosen_alternatives_input_and_the_message_stands_by_it(client):
    posted = {**AT_SCHOOL, "anstallning._alternativ2.titel": ""}

    response = client.post(URL, data=posted)

    assert response.status_code == 422
    html = lxml.html.fromstring(response.get_data(as_text=True))
    assert [a.get("href") for a in html.xpath("//div[@data-formkit-summary]//a")] == [
        "#f-anstallning-_alternativ2-titel"
    ]
    assert html.get_element_by_id("f-anstallning-_alternativ2-titel-error").text_content().strip() == "Fel: Ange tjänst"
    assert html.get_element_by_id("f-anstallning-_alternativ1-titel").get("value") == "Säljare"  # kept as typed
    assert html.get_element_by_id("f-anstallning-_alternativ-2").get("checked") is not None


def test_json_answers_at_their_plain_places_are_the_alternative_whose_fields_they_answer(client, smtp_server):
    answers = {"namn": "Eva Ek", "anstallning": {"titel": "Lärare", "skola": "Solna skola"}}

    response = client.post(URL, json=answers)

    assert response.status_code == 201, response.json
    rows = rows_of(smtp_server.inbox.wait_for(1)[0])
    assert ("Valt alternativ", "Skola") in rows and ("Tjänst", "Lärare") in rows


def test_json_answers_that_fit_two_alternatives_are_the_first_unless_the_client_sends_the_choice(client, smtp_server):
    school = {"titel": "Lärare", "skola": "Solna skola"}
    first = client.post(URL, json={"namn": "Eva Ek", "anstallning": school, "kontakt": {"uppgift": "Eva"}})
    chosen = {"namn": "Eva Ek", "anstallning": school, "kontakt": {"_alternativ": "2", "uppgift": "Kansliet"}}
    second = client.post(URL, json=chosen)

    assert (first.status_code, second.status_code) == (201, 201), (first.json, second.json)
    texts = [rows_of(message) for message in smtp_server.inbox.wait_for(2)]
    assert ("Valt alternativ", "Person") in texts[0] and ("Valt alternativ", "Organisation") in texts[1]


def test_json_answers_with_the_discriminator_are_checked_against_the_alternative_it_names(client):
    # The answers fit neither alternative; the discriminator "typ" says they are meant for "Skola".
    answers = {"namn": "Eva Ek", "anstallning": {"typ": "skola", "titel": "L", "skola": "Solna skola"}}

    response = client.post(URL, json=answers)

    assert response.status_code == 422
    assert [(e["name"], e["message"]) for e in response.json["errors"]] == [
        ("anstallning._alternativ2.titel", "Tjänst måste vara minst 3 tecken")
    ]


def test_answers_to_fields_no_one_alternative_has_are_refused_on_the_radios(client):
    answers = {"namn": "Eva Ek", "anstallning": {"titel": "Lärare", "skola": "Solna skola", "foretag": "Firman AB"}}

    response = client.post(URL, json=answers)

    assert [e["name"] for e in response.json["errors"]] == ["anstallning._alternativ"]


def test_the_delivered_answers_are_the_plain_shape_of_the_schema(form):
    from handler.normalise import clean, from_pairs
    from handler.validation import validate

    data = validate(form, clean(from_pairs(form, list(AT_SCHOOL.items())), form.root))

    assert json.loads(json.dumps(data)) == {
        "namn": "Eva Ek",
        "anstallning": {"typ": "skola", "titel": "Lärare", "skola": "Solna skola"},
    }


def test_the_check_page_changes_a_shared_field_at_the_chosen_alternatives_input(form):
    from handler.normalise import clean, from_pairs
    from handler.validation import validate

    data = validate(form, clean(from_pairs(form, list(AT_SCHOOL.items())), form.root))
    answers = [(a.label, a.value, a.target) for s in review.sections(form, data) for a in s.answers]

    assert ("Tjänst", "Lärare", "f-anstallning-_alternativ2-titel") in answers
    assert ("Valt alternativ", "Skola", "f-anstallning-_alternativ-1") in answers
    assert not any(label == "Yrkestitel" for label, _, _ in answers)


def test_in_rows_each_row_shows_its_chosen_alternatives_shared_field_in_that_alternatives_column(
    tmp_path, config, smtp_server
):
    folder = tmp_path / "rader" / "schema"
    folder.mkdir(parents=True)
    alternatives = [
        {"title": title, "properties": {"titel": {"type": "string", "title": label}}, "required": ["titel"]}
        for title, label in (("Företag", "Yrkestitel"), ("Skola", "Tjänst"))
    ]
    row = {"type": "object", "title": "Anställning", "oneOf": alternatives}
    schema = {
        "title": "Rader",
        "type": "object",
        "properties": {"rader": {"type": "array", "title": "Rader", "items": row}},
    }
    (folder / "rader.json").write_text(json.dumps(schema), encoding="utf-8")
    client = create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()
    posted = {
        "rader.0._alternativ": "1",
        "rader.0._alternativ1.titel": "Säljare",
        "rader.0._alternativ2.titel": "Lärare",
        "rader.1._alternativ": "2",
        "rader.1._alternativ2.titel": "Rektor",
    }

    assert client.post("/api/forms/rader", data=posted, headers=JSON).status_code == 201

    rows = rows_of(smtp_server.inbox.wait_for(1)[0])
    assert ("Valt alternativ", "Yrkestitel", "Tjänst") in rows
    assert ("Företag", "Säljare", "–") in rows and ("Skola", "–", "Rektor") in rows


def other_form(tmp_path, config, name: str, schema: dict):
    folder = tmp_path / name / "schema"
    folder.mkdir(parents=True)
    (folder / f"{name}.json").write_text(json.dumps(schema), encoding="utf-8")
    return create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()


MODES = {
    "title": "Läge",
    "type": "object",
    "properties": {
        "lage": {
            "type": "object",
            "title": "Läge",
            "oneOf": [
                {"title": "Enkelt", "properties": {"namn": {"type": "string", "default": "enkelt", "readOnly": True}}},
                {
                    "title": "Utökat",
                    "properties": {
                        "namn": {"type": "string", "title": "Namn", "default": "utökat", "readOnly": True},
                        "antal": {"type": "integer", "title": "Antal"},
                    },
                },
            ],
        }
    },
}


def test_a_read_only_field_alternatives_share_keeps_the_chosen_alternatives_default(tmp_path, config, smtp_server):
    client = other_form(tmp_path, config, "lage", MODES)

    by_form = client.post("/api/forms/lage", data={"lage._alternativ": "2", "lage.antal": "3"}, headers=JSON)
    by_json = client.post("/api/forms/lage", json={"lage": {"_alternativ": "2", "namn": "ändrat"}})

    assert (by_form.status_code, by_json.status_code) == (201, 201), (by_form.json, by_json.json)
    for message in smtp_server.inbox.wait_for(2):
        rows = rows_of(message)
        assert ("Valt alternativ", "Utökat") in rows and ("Namn", "utökat") in rows
        assert not any("ändrat" in row for row in rows)


def test_an_any_of_of_lists_asks_the_first_kind_of_list_and_takes_any_of_them_as_json(tmp_path, config, smtp_server):
    schema = {
        "title": "Listor",
        "type": "object",
        "properties": {
            "varden": {
                "title": "Värden",
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "number"}},
                ],
            }
        },
    }
    client = other_form(tmp_path, config, "listor", schema)
    form = read_form(Path(client.application.config["SCHEMA_DIR"]) / "listor.json")[0]
    html = lxml.html.fromstring(render_form(form, "/api/forms/listor"))

    assert html.xpath("//input[@name='varden.0'][@type='text']")
    assert (
        client.post("/api/forms/listor", data={"varden.0": "ett", "varden.1": "två"}, headers=JSON).status_code == 201
    )
    assert client.post("/api/forms/listor", json={"varden": [1.5, 2]}).status_code == 201
    texts = [rows_of(message) for message in smtp_server.inbox.wait_for(2)]
    assert any("två" in cell for row in texts[0] for cell in row)
    assert any("1,5" in cell or "1.5" in cell for row in texts[1] for cell in row)
