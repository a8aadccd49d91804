"""The browser's privacy guard (formkit.js hasIdentityNumber) gives the server's verdict on every text."""

import json
from pathlib import Path

import pytest
from test_privacy import TABLE, every_spelling

from handler.privacy import find_identity_number

FORMKIT_JS = Path(__file__).resolve().parents[2] / "site" / "assets" / "formkit.js"


@pytest.fixture
def guard(page):
    """Return a function judging texts with formkit.js's hasIdentityNumber in Chromium."""
    page.set_content("<!doctype html><html lang='sv'><head><title>Vakt</title></head><body></body></html>")
    page.add_script_tag(path=FORMKIT_JS)
    return lambda texts: page.evaluate("texts => texts.map(text => window.formkit.hasIdentityNumber(text))", texts)


def test_the_browser_gives_the_verdict_of_the_shared_table(guard):
    texts = [case["text"] for case in TABLE["cases"]]

    verdicts = guard(texts)

    wrong = [case["why"] for case, found in zip(TABLE["cases"], verdicts) if found is not case["found"]]
    assert wrong == []


def test_the_browser_catches_every_spelling_the_server_catches(guard):
    texts = every_spelling()

    verdicts = guard(texts)

    assert [text for text, found in zip(texts, verdicts) if not found] == []
    assert all(find_identity_number(text) for text in texts)


def test_the_browser_and_the_server_agree_on_look_alikes_and_long_texts(guard):
    texts = [
        "Ring 08-123 456 78 eller 070-123 45 67, ordernummer 1234567890123, mötet 2026-11-20.",
        "811218-9877 " * 2000,
        "\uff18\uff11\uff11\uff12\uff11\uff18 " * 2000 + "\uff19\uff18\uff17\uff16",
        json.dumps({"a": "811218 - 98 76"}),
        "811218" + " " * 50_000 + "x",
    ]

    assert guard(texts) == [bool(find_identity_number(text)) for text in texts]
