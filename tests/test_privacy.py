"""The privacy guard: a personnummer or samordningsnummer in any text is refused; look-alikes pass."""

import json

import pytest

from handler.privacy import find_identity_number
from support import valid_answers

URL = "/api/forms/bus-avvikelse"


@pytest.mark.parametrize(
    "text",
    [
        "Barnet 121212-1212 går i årskurs 3",
        "121212+1212",
        "121212 1212",
        "1212121212",
        "19121212-1212",
        "191212121212",
        "20121212 1212",
        "samordningsnummer 121272-1219",
        "(121212-1212)",
    ],
)
def test_valid_identity_numbers_are_found_as_people_write_them(text):
    assert find_identity_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ring 070-123 45 67",
        "0701234567",
        "08-123 456 78",
        "Mötet var 2026-03-15 kl 10",
        "20260315",
        "121212-1213",  # wrong check digit
        "129912-1212",  # no such month
        "Ordernummer 1234567890123",
        "Ärende 4411-2024-0001",
        "samordningsnummer med fel kontrollsiffra 121272-1218",
    ],
)
def test_numbers_that_only_look_similar_pass(text):
    assert find_identity_number(text) is None


def test_a_personnummer_anywhere_in_the_report_is_refused_on_its_field(client):
    answers = valid_answers() | {"beskrivning.forslag_atgard": "Kontakta om 121212-1212"}

    response = client.post(URL, data=answers, headers={"Accept": "application/json"})

    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["name"] == "beskrivning.forslag_atgard"
    assert "identifieras" in error["message"] and "kontaktperson" in error["message"]


def test_the_guard_can_be_turned_off_per_form_in_x_formkit(tmp_path, config):
    from handler.app import create_app

    schema = {
        "title": "Anteckning",
        "type": "object",
        "x-formkit": {"privacy_guard": False},
        "properties": {"text": {"type": "string", "title": "Text"}},
    }
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "anteckning.json").write_text(json.dumps(schema))
    app = create_app({**config, "SCHEMA_DIR": str(tmp_path / "schema")})

    response = app.test_client().post("/api/forms/anteckning", json={"text": "121212-1212"})

    assert response.status_code == 201
