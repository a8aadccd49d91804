"""The privacy guard: a personnummer or samordningsnummer in any text is refused; look-alikes pass."""

import functools
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from stdnum import luhn

from handler.privacy import DASHES, INVISIBLE, PLUSES, SPACES, find_identity_number, is_identity_number
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


# Every spelling, in the same table as the browser's guard (tests/browser/test_privacy_guard.py)

TABLE = json.loads((Path(__file__).parent / "fixtures" / "identity-numbers.json").read_text(encoding="utf-8"))


@functools.cache
def every_spelling() -> list[str]:
    """Return 811218-9876 written with each separator, invisible character and script of digits the guard knows."""
    texts = [f"811218{c}9876" for c in DASHES + SPACES + PLUSES] + [f"8112{c}18-9876" for c in INVISIBLE]
    zeros = [c for c in re.findall(r"\d", "".join(map(chr, range(sys.maxunicode + 1)))) if unicodedata.decimal(c) == 0]
    return texts + ["".join(chr(ord(zero) + int(d)) if d.isdigit() else d for d in "811218-9876") for zero in zeros]


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda case: case["why"])
def test_the_guard_gives_the_verdict_of_the_shared_table(case):
    assert bool(find_identity_number(case["text"])) is case["found"]


def test_every_dash_space_plus_invisible_character_and_script_of_digits_is_caught():
    missed = [text for text in every_spelling() if not find_identity_number(text)]

    assert missed == []
    assert len(every_spelling()) > 100  # the sets and every script's digits really were tried


@pytest.mark.parametrize(
    "body",
    [
        "8112189877 " * 23831,  # as many candidates as fit, each with a real date and a wrong check digit
        "811218-98 77 " * 20164,  # the grouped spelling
        "811218" + " " * 262000 + "x",  # a date, then a gap that never ends in digits
        "1 " * 131072,
        "1" * 262144,
        "\uff18\uff11\uff11\uff12\uff11\uff18\uff0d\uff19\uff18\uff17\uff17 " * 7710,  # full-width: 3 bytes each
    ],
    ids=["candidates", "grouped", "long-gap", "digit-space", "digits", "full-width"],
)
def test_the_guard_reads_256_kib_of_digits_and_spaces_in_linear_time(body):
    assert 250_000 < len(body.encode()) <= 262_144
    started = time.thread_time()  # CPU time: other work on the machine does not count

    assert find_identity_number(body) is None

    assert time.thread_time() - started < 0.2


def test_the_check_digit_is_python_stdnums_luhn():
    numbers = random.Random(10).sample(range(10_000), 2000)

    for date in ("811218", "19811218", "121272"):
        assert [is_identity_number(date, f"{n:04d}") for n in numbers] == [
            luhn.is_valid(date[-6:] + f"{n:04d}") for n in numbers
        ]


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda case: case["why"])
def test_each_way_of_writing_a_number_is_judged_alike_when_posted_to_the_server(client, smtp_server, case):
    from handler.validation import PRIVACY_MESSAGE

    answers = valid_answers() | {"beskrivning.handelsen": case["text"]}
    response = client.post(URL, data=answers, headers={"Accept": "application/json"})

    on_field = [e["message"] for e in response.json.get("errors", []) if e["name"] == "beskrivning.handelsen"]
    if case["found"]:
        assert response.status_code == 422 and on_field == [PRIVACY_MESSAGE]
    else:
        assert response.status_code == 201, response.json
