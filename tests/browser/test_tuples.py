"""Tuples of any field in Chromium (issue 14, point 1), with and without JavaScript: a group, a yes/no and a date
in fixed positions, and rows added after them with named buttons, the focus moved and the change said; without
JavaScript fixed blank rows. The answers arrive in the DOCX. The form is tests/fixtures/tuples/schema/tupler.json.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import assert_shown_in_order

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "tuples"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the form of tuples placed on a page of its own, built once."""
    files = {"schema/tupler.json": FIXTURE / "schema" / "tupler.json", "docs/tupler.md": FIXTURE / "docs" / "tupler.md"}
    return project_with(tmp_path_factory.mktemp("project"), files)


def test_rows_after_a_tuples_values_are_added_and_removed_with_focus_moved_and_the_change_said(page, server):
    page.goto(server.url + "/tupler/")
    status = page.locator("[data-formkit-status]")
    comments = page.get_by_role("group", name="Kommentar", exact=True)
    add = comments.get_by_role("button", name="Lägg till kommentar", exact=True)
    expect(comments.get_by_label(re.compile(r"^Kommentar \d$"))).to_have_count(0)  # none is needed: all go

    add.focus()
    page.keyboard.press("Enter")
    first = page.get_by_label("Kommentar 1", exact=True)
    expect(first).to_be_focused()
    expect(first).to_have_attribute("name", "matning.2")  # numbered on after the two fixed values
    expect(status).to_have_text("Kommentar 1 har lagts till.")
    page.keyboard.type("mätt en gång")
    add.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Kommentar 2", exact=True)).to_be_focused()
    page.keyboard.type("mätt två gånger")
    audit(page, "tuples: two rows added")

    comments.get_by_role("button", name="Ta bort kommentar 1", exact=True).focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Kommentar 1 har tagits bort.")
    moved = page.get_by_label("Kommentar 1", exact=True)
    expect(moved).to_have_value("mätt två gånger")
    expect(moved).to_be_focused()
    expect(moved).to_have_attribute("name", "matning.2")
    # The one row maxItems leaves after the three fixed values of "Deltagare": then its button goes.
    companions = page.get_by_role("group", name="Medföljande", exact=True)
    companions.get_by_role("button", name="Lägg till medföljande", exact=True).click()
    expect(companions.get_by_role("group", name="Medföljande 1")).to_have_count(1)
    expect(companions.get_by_role("button", name="Lägg till medföljande", exact=True)).to_be_hidden()
    expect(companions.get_by_label("Namn", exact=True)).to_have_attribute("name", "deltagare.3.namn")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_tuple_with_a_group_a_yes_no_and_added_rows_is_sent_and_arrives_in_the_docx(
    browser, server, smtp_server, javascript
):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(server.url + "/tupler/")
    if not javascript:
        audit_without_javascript(page, browser.new_page(), "tuples: the form as built (no JS)")

    page.get_by_role("group", name="Kontaktperson").get_by_label("Namn", exact=True).fill("Anna Berg")
    page.get_by_role("group", name="Kontaktperson").get_by_label("Rektor").check()
    page.get_by_role("group", name="Kommer på plats").get_by_label("Nej").check()
    page.get_by_label("Första dag").fill("2027-01-15")
    companions = page.get_by_role("group", name="Medföljande", exact=True)
    if javascript:
        companions.get_by_role("button", name="Lägg till medföljande", exact=True).click()
    companions.get_by_label("Namn", exact=True).fill("Bo Ek")
    companions.get_by_label("Behöver specialkost").check()
    page.get_by_role("group", name="Mätning").get_by_label("Värde").fill("12.5")
    page.get_by_label("Kilometer").check()
    if javascript:
        page.get_by_role("button", name="Lägg till kommentar", exact=True).click()
        page.get_by_label("Kommentar 1", exact=True).fill("mätt med GPS")
    else:  # the first blank row left blank: blank rows are dropped
        page.get_by_label("Kommentar 2", exact=True).fill("mätt med GPS")
    page.get_by_role("button", name="Fortsätt").click()

    check = page.locator("[data-formkit-check]")
    expect(check).to_be_visible()
    rows = check.locator(".formkit-answers-row")
    expect(rows.filter(has_text="Kommer på plats")).to_contain_text("Nej")
    expect(rows.filter(has_text="Kommentar 1")).to_contain_text("mätt med GPS")
    if javascript:
        audit(page, "tuples: the check page")
    page.get_by_role("button", name="Skicka", exact=True).click()

    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^TUPLER-\d{8}-"))
    shown = ["Anna Berg", "Rektor", "Nej", "2027-01-15", "Bo Ek", "Ja", "12.5", "Kilometer", "mätt med GPS"]
    assert_shown_in_order(smtp_server.inbox.wait_for(1)[0], shown)
    context.close()


def test_a_list_of_lists_gets_buttons_in_every_row_and_renames_the_inner_rows(page, server):
    page.goto(server.url + "/tupler/")
    weeks = page.get_by_role("group", name="Veckor", exact=True)
    weeks.get_by_role("button", name="Lägg till vecka", exact=True).click()
    second = weeks.get_by_role("group", name="Vecka 2", exact=True)
    second.get_by_role("button", name="Lägg till mötesdag", exact=True).click()

    expect(second.get_by_label("Mötesdag 2", exact=True)).to_be_focused()
    expect(second.get_by_label("Mötesdag 2", exact=True)).to_have_attribute("name", "veckor.1.1")
    second.get_by_label("Mötesdag 2", exact=True).fill("2027-01-20")
    weeks.get_by_role("button", name="Ta bort vecka 1", exact=True).click()
    first = weeks.get_by_role("group", name="Vecka 1", exact=True)
    expect(first.get_by_label("Mötesdag 2", exact=True)).to_have_value("2027-01-20")
    expect(first.get_by_label("Mötesdag 2", exact=True)).to_have_attribute("name", "veckor.0.1")
    audit(page, "tuples: a list of lists")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_browsers_check_and_the_servers_name_a_tuples_group_alike(browser, server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(server.url + "/tupler/")

    page.get_by_role("group", name="Kontaktperson").get_by_label("Rektor").check()
    page.get_by_role("group", name="Kommer på plats").get_by_label("Ja").check()
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(["Ange namn (Kontaktperson)"])
    context.close()


def test_a_draft_brings_back_a_tuples_added_rows_after_a_reload(page, server):
    page.goto(server.url + "/tupler/")
    comments = page.get_by_role("group", name="Kommentar", exact=True)
    for number, value in ((1, "mätt en gång"), (2, "mätt två gånger")):
        comments.get_by_role("button", name="Lägg till kommentar", exact=True).click()
        page.get_by_label(f"Kommentar {number}", exact=True).fill(value)
    page.wait_for_timeout(400)  # the draft is saved 300 ms after typing stops

    page.reload()

    expect(comments.get_by_label(re.compile(r"^Kommentar \d$"))).to_have_count(2)
    expect(page.get_by_label("Kommentar 2", exact=True)).to_have_value("mätt två gånger")
    expect(page.get_by_label("Kommentar 2", exact=True)).to_have_attribute("name", "matning.3")
