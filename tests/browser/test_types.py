"""Types, formats and choices of any value in Chromium, with and without JavaScript (issue 14, points 2 and 6).

The browser's own checks say what the server says (exclusiveMaximum, multipleOf, time, date-time, uri), a
choice of objects is chosen by its label and arrives as its value, read-only answers are shown and a
write-only one is never shown back. Axe in each state.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with
from test_names import SCHEMA as HYPHENATED

from browser.a11y import audit, audit_without_javascript
from support import attachment, docx_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NUMBER_OR_TEXT = {  # "type": ["integer", "string"]: a number is checked as one, other text as text
    "title": "Antal",
    "type": "object",
    "required": ["antal"],
    "properties": {
        "antal": {"type": ["integer", "string"], "title": "Antal", "minimum": 1, "maximum": 10, "maxLength": 4}
    },
    "x-formkit": {"mail": {"to": "sekretariatet@example.se"}},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the types form and its page added, built once."""
    files = {
        "schema/typer.json": FIXTURES / "typer.json",
        "docs/typer.md": FIXTURES / "types" / "docs" / "typer.md",
        "schema/namn.json": FIXTURES / "types" / "schema" / "namn.json",  # a root that is no object
        "docs/namn.md": FIXTURES / "types" / "docs" / "namn.md",
        "schema/bindestreck.json": json.dumps(HYPHENATED, ensure_ascii=False),  # names with "-" (corpus "date")
        "docs/bindestreck.md": "---\ntitle: Bindestreck\n---\n\n# Bindestreck\n\n[[form bindestreck]]\n",
        "schema/antal.json": json.dumps(NUMBER_OR_TEXT),
        "docs/antal.md": "---\ntitle: Antal\n---\n\n# Antal\n\n[[form antal]]\n",
    }
    return project_with(tmp_path_factory.mktemp("project"), files)


def fill_valid(page: Page) -> None:
    page.get_by_label("Amsterdam").check()
    page.get_by_label("Två platser").check()
    page.get_by_label("Mötet börjar").fill("2026-03-15T14:30")
    page.get_by_label("Lunch").fill("12:15")
    page.get_by_label("Webbplats").fill("https://www.example.se/traff")
    page.get_by_label("Lösenord").fill("hemligt-123")
    page.get_by_label("Pris").fill("12.5")
    page.get_by_label("E-post").fill("ann@solna.se")


def summary(page: Page) -> list[str]:
    expect(page.locator("[data-formkit-summary]")).to_be_visible()
    return page.locator("[data-formkit-summary] a").all_inner_texts()


def test_with_javascript_the_browser_says_what_the_server_says_and_the_answers_arrive_as_values(
    page: Page, server, smtp_server
):
    page.goto(server.url + "/typer/")
    form = page.locator('[data-formkit="typer"]')
    expect(form.get_by_label("Webbplats")).to_have_attribute("placeholder", "https://www.example.se")
    expect(form.locator(".formkit-read-only").filter(has_text="Kod")).to_contain_text("A1")
    expect(form.locator("input[name=kod], input[name=version], input[name=upplysning]")).to_have_count(0)
    audit(page, "/typer/ as built")

    fill_valid(page)
    page.get_by_label("Pris").fill("1000")
    page.get_by_label("Webbplats").fill("www.example.se")
    page.get_by_label("Lunch").fill("")
    page.get_by_role("button", name="Fortsätt").click()
    assert summary(page) == [
        "Webbplats måste vara en hel webbadress, till exempel https://www.example.se",
        "Pris måste vara mindre än 1\u00a0000",
    ]
    audit(page, "/typer/ errors found by the browser")

    page.get_by_label("Pris").fill("12.3")
    page.get_by_label("Webbplats").fill("https://www.example.se/traff")
    page.get_by_role("button", name="Fortsätt").click()
    assert summary(page) == ["Pris måste vara ett tal i steg om 0,5, till exempel 0,5 eller 1"]

    page.get_by_label("Pris").fill("12.5")
    page.get_by_label("Lunch").fill("12:15")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_text("Ifyllt (visas inte här)")).to_be_visible()
    expect(page.get_by_text("2026-03-15 14:30")).to_be_visible()
    assert "hemligt-123" not in page.locator("main").inner_text()
    audit(page, "/typer/ check page")
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^TYPER-"))
    assert "hemligt-123" not in page.content()

    report = smtp_server.inbox.wait_for(2)[0]
    text = docx_text(attachment(report)[1])
    for shown in ("Amsterdam", "Två platser", "2026-03-15 14:30", "12:15", "v2", "A1", "12.5", "hemligt-123"):
        assert shown in text, shown


def test_without_javascript_the_server_gives_the_same_verdict_and_never_echoes_write_only(
    browser, page: Page, server, smtp_server
):
    context = browser.new_context(java_script_enabled=False)
    nojs = context.new_page()
    nojs.goto(server.url + "/typer/")
    audit_without_javascript(nojs, page, "/typer/ as built (no JavaScript)")

    fill_valid(nojs)
    nojs.get_by_label("Pris").fill("1000")
    nojs.get_by_label("Webbplats").fill("www.example.se")
    nojs.get_by_role("button", name="Fortsätt").click()
    assert summary(nojs) == [
        "Webbplats måste vara en hel webbadress, till exempel https://www.example.se",
        "Pris måste vara mindre än 1\u00a0000",
    ]
    expect(nojs.get_by_label("Amsterdam")).to_be_checked()
    expect(nojs.get_by_label("Mötet börjar")).to_have_value("2026-03-15T14:30")
    expect(nojs.get_by_label("Lösenord")).to_have_value("")
    assert "hemligt-123" not in nojs.content()
    audit_without_javascript(nojs, page, "/typer/ errors (no JavaScript)")

    nojs.get_by_label("Pris").fill("12.5")
    nojs.get_by_label("Webbplats").fill("https://www.example.se/traff")
    nojs.get_by_label("Lösenord").fill("hemligt-123")
    nojs.get_by_role("button", name="Fortsätt").click()
    expect(nojs.get_by_text("Ifyllt (visas inte här)")).to_be_visible()
    nojs.get_by_role("button", name="Skicka", exact=True).click()
    expect(nojs.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^TYPER-"))
    context.close()

    report, receipt = smtp_server.inbox.wait_for(2)
    assert "Amsterdam" in docx_text(attachment(report)[1]) and "hemligt-123" in docx_text(attachment(report)[1])
    assert "hemligt-123" not in docx_text(attachment(receipt)[1])


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_form_whose_root_is_no_object_asks_one_question_and_sends_it(
    browser, page: Page, server, smtp_server, javascript
):
    context = browser.new_context(java_script_enabled=javascript, locale="sv-SE")
    tab = context.new_page()
    tab.goto(server.url + "/namn/")
    question = tab.get_by_label("Ditt namn", exact=True)
    expect(question).to_have_attribute("name", "svar")
    if javascript:
        audit(tab, "/namn/ one question")
    else:
        audit_without_javascript(tab, page, "/namn/ one question (no JavaScript)")

    question.fill("A")
    tab.get_by_role("button", name="Fortsätt").click()
    assert summary(tab) == ["Ditt namn måste vara minst 2 tecken"]
    tab.get_by_label("Ditt namn", exact=True).fill("Ada")
    tab.get_by_role("button", name="Fortsätt").click()
    tab.get_by_role("button", name="Skicka", exact=True).click()
    expect(tab.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^NAMN-"))
    context.close()

    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Ditt namn" in text and "Ada" in text


def test_with_javascript_an_error_links_to_its_field_when_names_hold_hyphens(page: Page, server, smtp_server):
    page.goto(server.url + "/bindestreck/")
    page.get_by_role("button", name="Lägg till rad").click()  # formkit.js names the new row's ids
    page.get_by_role("group", name="Rad 1").get_by_label("Radens namn").fill("Första raden")
    page.get_by_role("group", name="Rad 2").get_by_label("Antal").fill("3")
    page.get_by_role("button", name="Fortsätt").click()

    links = page.locator("[data-formkit-summary] a")
    expect(links).to_have_count(2)
    assert links.nth(1).get_attribute("href") == "#f-fler--rader-1-rad--namn"
    links.nth(1).click()
    expect(page.get_by_role("group", name="Rad 2").get_by_label("Radens namn")).to_be_focused()
    links.nth(0).click()
    expect(page.get_by_label("E-post")).to_be_focused()

    page.get_by_label("E-post").fill("ann@solna.se")
    page.get_by_role("group", name="Rad 2").get_by_label("Radens namn").fill("Andra raden")
    page.get_by_label("Text", exact=True).check()
    page.get_by_label("En text").fill("Valfri text")
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BINDESTRECK-"))

    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    for shown in ("ann@solna.se", "Första raden", "Andra raden", "Valfri text"):
        assert shown in text, shown


@pytest.mark.parametrize("typed", ["1,5", "20", "0", "ingen", "7", "ett"])
def test_a_field_that_takes_a_number_or_text_gets_the_servers_verdict_in_the_browser(page: Page, server, typed):
    """A number input could not hold "ett"; the field is a text input whose number is checked as a number."""
    answer = urllib.request.Request(
        server.url + "/api/forms/antal",
        data=urllib.parse.urlencode({"antal": typed, "_step": "kontrollera"}).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(answer, timeout=10) as response:
            assert response.status == 200  # the check page: valid
            expected = []
    except urllib.error.HTTPError as refused:
        assert refused.code == 422
        expected = [error["summary"] for error in json.loads(refused.read())["errors"]]

    page.goto(server.url + "/antal/")
    page.get_by_label("Antal").fill(typed)
    page.get_by_role("button", name="Fortsätt").click()

    if expected:
        assert summary(page) == expected
    else:
        expect(page.locator("[data-formkit-check]")).to_contain_text(typed)
