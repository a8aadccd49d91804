"""Lists of simple values and tuples in Chromium (issue 14, point 1), with and without JavaScript.

Rows of one value are added and removed with named buttons, from the keyboard, with the focus moved and
the change announced; without JavaScript there are fixed blank rows. The browser's check says what the
server says, the answers arrive in the DOCX, and every state is axe clean. The form is
tests/fixtures/values/schema/listor.json, placed on a page of a copy of the project.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import assert_shown_in_order

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "values"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the form of lists placed on a page of its own, built once."""
    files = {"schema/listor.json": FIXTURE / "schema" / "listor.json", "docs/listor.md": FIXTURE / "docs" / "listor.md"}
    return project_with(tmp_path_factory.mktemp("project"), files)


def addresses(page: Page):
    return page.get_by_role("group", name="E-postadresser")


def test_rows_of_values_are_added_and_removed_from_the_keyboard_with_focus_moved_and_the_change_said(page, server):
    page.goto(server.url + "/listor/")
    status = page.locator("[data-formkit-status]")
    group = addresses(page)
    add = group.get_by_role("button", name="Lägg till e-postadress", exact=True)
    expect(group.get_by_label(re.compile(r"^E-postadress \d$"))).to_have_count(1)  # the blank rows are gone
    expect(group.get_by_role("button", name=re.compile("^Ta bort"))).to_have_count(0)  # minItems 1 keeps one

    page.get_by_label("E-postadress 1", exact=True).fill("anna@solna.se")
    add.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("E-postadress 2", exact=True)).to_be_focused()
    expect(status).to_have_text("E-postadress 2 har lagts till.")
    page.keyboard.type("bo@taby.se")
    add.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("E-postadress 3", exact=True)).to_be_focused()
    expect(status).to_have_text("E-postadress 3 har lagts till.")
    page.keyboard.type("cecilia@danderyd.se")
    add.focus()
    page.keyboard.press("Enter")
    expect(add).to_be_hidden()  # maxItems 4
    for number in (1, 2, 3, 4):
        expect(group.get_by_role("button", name=f"Ta bort e-postadress {number}", exact=True)).to_have_count(1)
    audit(page, "lists of values: four rows added")

    # The last row removed: the focus goes to the row that takes its place, the one before it.
    page.get_by_role("button", name="Ta bort e-postadress 4", exact=True).focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("E-postadress 4 har tagits bort.")
    expect(add).to_be_visible()
    # A row in the middle: the next one moves up, keeps its value, takes the name and the focus.
    page.get_by_role("button", name="Ta bort e-postadress 2", exact=True).focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("E-postadress 2 har tagits bort.")
    moved = page.get_by_label("E-postadress 2", exact=True)
    expect(moved).to_have_value("cecilia@danderyd.se")
    expect(moved).to_be_focused()
    expect(moved).to_have_attribute("name", "adresser.1")
    expect(moved).to_have_attribute("id", "f-adresser-1")
    expect(page.get_by_label(re.compile(r"^E-postadress \d$"))).to_have_count(2)


def fill_wrongly(page: Page, javascript: bool) -> None:
    """The same address twice and a broken one in row 3, a number too small and a longitude too large."""
    page.get_by_label("E-postadress 1", exact=True).fill("anna@solna.se")
    for number, value in ((2, "anna@solna.se"), (3, "inte en adress")):
        if javascript:
            addresses(page).get_by_role("button", name="Lägg till e-postadress").click()
        page.get_by_label(f"E-postadress {number}", exact=True).fill(value)
    page.get_by_label("Mötesdag 1", exact=True).fill("2027-01-15")
    page.get_by_label("Antal 1", exact=True).fill("0")
    page.get_by_label("Latitud").fill("59.3")
    page.get_by_label("Longitud").fill("200")


EXPECTED = [
    "Samma värde står flera gånger under e-postadresser. Ta bort dubbletterna.",
    "Ange e-postadressen i rätt format, till exempel namn@kommun.se (E-postadress 3)",
    "Antal måste vara 1 eller mer (Antal 1)",
    "Longitud måste vara 180 eller mindre (Mötesplatsens läge)",
]


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_browsers_check_and_the_servers_say_the_same(browser, server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(server.url + "/listor/")

    fill_wrongly(page, javascript)
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(EXPECTED)
    expect(page.get_by_label("E-postadress 2", exact=True)).to_have_value("anna@solna.se")
    expect(page.get_by_label("E-postadress 3", exact=True)).to_have_attribute("aria-invalid", "true")
    if javascript:
        audit(page, "lists of values: errors shown by the browser")
        # The server's verdict on the same answers, posted as the page would post them without its own check.
        page.evaluate("document.querySelector('form.formkit-form').requestSubmit = null")
        verdict = page.evaluate(
            """async () => {
              const form = document.querySelector('form.formkit-form');
              const response = await fetch(form.action, {method: 'POST', headers: {'Accept': 'application/json'},
                body: new URLSearchParams(new FormData(form))});
              return (await response.json()).errors.map(e => e.summary);
            }"""
        )
        assert verdict == EXPECTED
    else:
        audit_without_javascript(page, browser.new_page(), "lists of values: errors shown by the server (no JS)")
    context.close()


def fill_well(page: Page, javascript: bool) -> None:
    page.get_by_label("E-postadress 1", exact=True).fill("anna@solna.se")
    if javascript:
        addresses(page).get_by_role("button", name="Lägg till e-postadress").click()
        page.keyboard.type("bo@taby.se")
    else:  # row 2 left blank: blank rows are dropped
        page.get_by_label("E-postadress 3", exact=True).fill("bo@taby.se")
    page.get_by_label("Mötesdag 1", exact=True).fill("2027-01-15")
    page.get_by_label("Antal 1", exact=True).fill("12")
    page.get_by_label("Ämne 1", exact=True).fill("Samverkan")
    page.get_by_label("Latitud").fill("59.3293")
    page.get_by_label("Longitud").fill("18.0686")
    page.get_by_role("group", name="Rum").get_by_label("Värde 1").fill("Sal A")
    page.get_by_role("group", name="Rum").get_by_label("Värde 2").fill("4")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_values_are_checked_then_sent_and_arrive_in_the_docx_in_the_forms_order(
    browser, server, smtp_server, javascript
):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(server.url + "/listor/")
    if not javascript:
        audit_without_javascript(page, browser.new_page(), "lists of values: the form as built (no JS)")

    fill_well(page, javascript)
    page.get_by_role("button", name="Fortsätt").click()

    check = page.locator("[data-formkit-check]")
    expect(check).to_be_visible()
    rows = check.locator(".formkit-answers-row")
    expect(rows.filter(has_text="E-postadress 1")).to_contain_text("anna@solna.se")
    expect(rows.filter(has_text="E-postadress 2")).to_contain_text("bo@taby.se")
    expect(rows.filter(has_text="Longitud")).to_contain_text("18.0686")
    if javascript:
        audit(page, "lists of values: the check page")
    else:
        audit_without_javascript(page, browser.new_page(), "lists of values: the check page (no JS)")
    page.get_by_role("button", name="Skicka", exact=True).click()

    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^LISTOR-\d{8}-"))
    shown = ["anna@solna.se", "bo@taby.se", "2027-01-15", "12", "Samverkan", "59.3293", "18.0686", "Sal A", "4"]
    assert_shown_in_order(smtp_server.inbox.wait_for(1)[0], shown)
    context.close()


def test_a_draft_brings_back_every_row_of_values_after_a_reload(page, server):
    page.goto(server.url + "/listor/")
    page.get_by_label("E-postadress 1", exact=True).fill("anna@solna.se")
    for number, value in ((2, "bo@taby.se"), (3, "cecilia@danderyd.se")):
        addresses(page).get_by_role("button", name="Lägg till e-postadress").click()
        page.get_by_label(f"E-postadress {number}", exact=True).fill(value)
    page.get_by_label("Longitud").fill("18.0686")
    page.wait_for_timeout(400)  # the draft is saved 300 ms after typing stops

    page.reload()

    expect(page.get_by_label(re.compile(r"^E-postadress \d$"))).to_have_count(3)
    expect(page.get_by_label("E-postadress 3", exact=True)).to_have_value("cecilia@danderyd.se")
    expect(page.get_by_label("E-postadress 3", exact=True)).to_have_attribute("name", "adresser.2")
    expect(page.get_by_label("Longitud")).to_have_value("18.0686")
    expect(addresses(page).get_by_role("button", name="Ta bort e-postadress 3", exact=True)).to_have_count(1)


def test_a_list_of_values_inside_a_repeated_group_gets_its_own_buttons_in_every_row(page, server):
    page.goto(server.url + "/listor/")
    groups = page.get_by_role("group", name="Arbetsgrupper")
    groups.get_by_role("button", name="Lägg till arbetsgrupp", exact=True).click()
    second = page.get_by_role("group", name="Arbetsgrupp 2", exact=True)
    expect(second.get_by_label(re.compile(r"^Gruppens namn"))).to_be_focused()
    page.keyboard.type("Elevhälsan")

    phones = second.get_by_role("group", name="Gruppens telefonnummer")
    phones.get_by_role("button", name="Lägg till telefonnummer", exact=True).focus()
    page.keyboard.press("Enter")
    expect(phones.get_by_label("Telefonnummer 2", exact=True)).to_be_focused()
    expect(page.locator("[data-formkit-status]")).to_have_text("Telefonnummer 2 har lagts till.")
    page.keyboard.type("08-678 90")
    expect(phones.get_by_label("Telefonnummer 2", exact=True)).to_have_attribute("name", "grupper.1.telefon.1")

    # The first group removed: the second moves up, its list of values with it, and still adds rows.
    page.get_by_role("button", name="Ta bort arbetsgrupp 1", exact=True).click()
    first = page.get_by_role("group", name="Arbetsgrupp 1", exact=True)
    expect(first.get_by_label(re.compile(r"^Gruppens namn"))).to_have_value("Elevhälsan")
    moved = first.get_by_label("Telefonnummer 2", exact=True)
    expect(moved).to_have_value("08-678 90")
    expect(moved).to_have_attribute("name", "grupper.0.telefon.1")
    first.get_by_role("button", name="Lägg till telefonnummer", exact=True).click()
    expect(first.get_by_label("Telefonnummer 3", exact=True)).to_have_attribute("name", "grupper.0.telefon.2")
    audit(page, "lists of values: inside a repeated group")
