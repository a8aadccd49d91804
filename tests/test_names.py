"""Field names with hyphens ("alt-datetime", as in react-jsonschema-form's samples): allowed between other
characters, and each HTML id stays one field's, so labels, error links and both paths still find it."""

from __future__ import annotations

import html.parser
import json

import pytest
from corpus import Mailer, round_trip

from handler.app import create_app
from handler.conventions import NAME
from handler.forms import read_form
from handler.render import render_form

FORM_ID = "bindestreck"
SCHEMA = {
    "title": "Bindestreck",
    "type": "object",
    "required": ["kontakt-uppgifter", "fler-rader"],
    "properties": {
        "kontakt-uppgifter": {
            "type": "object",
            "title": "Kontakt",
            "required": ["e-post"],
            "properties": {"e-post": {"type": "string", "format": "email", "title": "E-post"}},
        },
        "fler-rader": {
            "type": "array",
            "title": "Rader",
            "minItems": 1,
            "items": {
                "type": "object",
                "title": "Rad",
                "required": ["rad-namn"],
                "properties": {
                    "rad-namn": {"type": "string", "title": "Radens namn"},
                    "rad-antal": {"type": "integer", "title": "Antal"},
                },
            },
        },
        "val-grupp": {
            "type": "object",
            "title": "Val",
            "oneOf": [
                {
                    "title": "Datum",
                    "required": ["alt-datum"],
                    "properties": {"alt-datum": {"type": "string", "format": "date", "title": "Ett datum"}},
                },
                {
                    "title": "Text",
                    "required": ["alt-text"],
                    "properties": {"alt-text": {"type": "string", "title": "En text"}},
                },
            ],
        },
    },
}
ANSWERS = {
    "kontakt-uppgifter": {"e-post": "ann@solna.se"},
    "fler-rader": [{"rad-namn": "Första raden", "rad-antal": 3}, {"rad-namn": "Andra raden"}],
    "val-grupp": {"alt-datum": "2026-03-15"},
}


class Page(html.parser.HTMLParser):
    """The ids of a page (each with its tag's attributes), its labels' targets and its links within the page."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: list[str] = []
        self.tags: dict[str, dict] = {}
        self.labels: list[str] = []
        self.links: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
            self.tags[attributes["id"]] = attributes
        if tag == "label" and attributes.get("for"):
            self.labels.append(attributes["for"])
        if tag == "a" and (attributes.get("href") or "").startswith("#"):
            self.links.append(attributes["href"][1:])
        if attributes.get("data-formkit-change"):  # the check page's "Ändra": the id it goes back to
            self.links.append(attributes["data-formkit-change"])


@pytest.fixture
def client(tmp_path, config):
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / f"{FORM_ID}.json").write_text(json.dumps(SCHEMA, ensure_ascii=False), encoding="utf-8")
    return create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()


@pytest.mark.parametrize("name", ["alt-datetime", "e-post", "a-1", "fler_rader-2", "A-B-C"])
def test_a_name_may_hold_a_hyphen_between_two_other_characters(name):
    assert NAME.match(name)


@pytest.mark.parametrize("name", ["a-", "a--b", "-a", "1-a", "a.b", "a -b"])
def test_a_name_may_not_end_with_a_hyphen_hold_two_in_a_row_or_start_with_one(name):
    assert not NAME.match(name)


def test_formkit_check_names_a_field_whose_hyphen_ends_its_name_and_suggests_one_that_works(tmp_path):
    path = tmp_path / "form.json"
    path.write_text(json.dumps({"title": "T", "type": "object", "properties": {"e--post-": {"type": "string"}}}))

    _, problems, _ = read_form(path)

    assert [str(p).split(": ", 1)[1] for p in problems] == [
        'fältet "e--post-": namnet "e--post-" går inte att använda. Fältnamn får bara innehålla bokstäverna '
        "a–z och A–Z (inte å, ä, ö), siffror, _ och -, och ska börja med en bokstav. Ett - står mellan två andra "
        'tecken, aldrig sist eller två i rad. Byt namn på fältet. Till exempel "e-post".'
    ]


def test_every_label_points_at_its_own_input_and_no_id_is_used_twice(client):
    form = client.application.extensions["formkit.forms"][FORM_ID]
    page = Page(render_form(form, f"/api/forms/{FORM_ID}"))

    assert len(page.ids) == len(set(page.ids))
    assert set(page.labels) <= set(page.ids)
    inputs = {page.tags[target].get("name") for target in page.labels}
    assert {"kontakt-uppgifter.e-post", "fler-rader.0.rad-namn", "val-grupp.alt-datum", "val-grupp.alt-text"} <= inputs
    assert page.tags["f-kontakt--uppgifter-e--post"]["name"] == "kontakt-uppgifter.e-post"
    assert page.tags["f-fler--rader-0-rad--namn"]["name"] == "fler-rader.0.rad-namn"


def test_no_field_shares_an_id_with_the_trap_for_robots_even_when_the_form_id_reads_as_its_path(tmp_path):
    path = tmp_path / "bus-avvikelse.json"
    unit = {"type": "object", "title": "Enhet", "properties": {"hemsida": {"type": "string", "title": "Hemsida"}}}
    group = {"type": "object", "title": "Avvikelse", "properties": {"avvikelse": unit}}
    path.write_text(json.dumps({"title": "Bus", "type": "object", "properties": {"bus": group}}), encoding="utf-8")
    form, problems, _ = read_form(path)

    page = Page(render_form(form, "/api/forms/bus-avvikelse"))

    assert not problems and "f-bus-avvikelse-hemsida" in page.ids
    assert len(page.ids) == len(set(page.ids)) and set(page.labels) <= set(page.ids)


def test_without_javascript_each_error_links_to_the_field_it_is_about(client):
    answers = {"kontakt-uppgifter.e-post": "", "fler-rader.0.rad-namn": "", "val-grupp._alternativ": "2"}

    response = client.post(f"/api/forms/{FORM_ID}", data=answers)

    page = Page(response.get_data(as_text=True))
    assert response.status_code == 422
    named = [page.tags[target].get("name") for target in page.links if target in page.tags]
    assert named == ["kontakt-uppgifter.e-post", "fler-rader.0.rad-namn", "val-grupp.alt-text"]


def test_each_change_button_of_the_check_page_goes_back_to_the_field_it_is_about(client):
    answers = {
        "kontakt-uppgifter.e-post": "ann@solna.se",
        "fler-rader.0.rad-namn": "Första raden",
        "val-grupp._alternativ": "2",
        "val-grupp.alt-text": "Valfri text",
        "_step": "kontrollera",  # as the page posts it: the check page first
    }

    check = Page(client.post(f"/api/forms/{FORM_ID}", data=answers).get_data(as_text=True))

    form = Page(render_form(client.application.extensions["formkit.forms"][FORM_ID], f"/api/forms/{FORM_ID}"))
    named = [form.tags[target].get("name") for target in check.links if target in form.tags]
    assert {"kontakt-uppgifter.e-post", "fler-rader.0.rad-namn", "val-grupp.alt-text"} <= set(named)


def test_answers_to_hyphenated_names_arrive_in_the_document_on_both_paths():
    with Mailer() as mailer:
        outcome = round_trip(FORM_ID, SCHEMA, ANSWERS, mailer)

    assert outcome == {"json": None, "form": None}
