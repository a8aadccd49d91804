"""Check your answers before sending (GOV.UK's pattern), at 320 and 1280 px, with and without JavaScript: the form's
button continues to a page with every answer by section, "Ändra" back to each field, who will receive the report,
and the one button that sends it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser.a11y import audit, audit_without_javascript
from browser.test_accessibility import assert_headings_in_order
from browser.test_submit import CONTINUE, SEND, fill_report

SIZES = {"320": {"width": 320, "height": 640}, "1280": {"width": 1280, "height": 800}}
BOTH = pytest.mark.parametrize("size", SIZES, ids=[f"{size}px" for size in SIZES])
JS = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
CHECK = "Kontrollera dina svar innan du skickar"
SECTION_2 = "2. Mellan vilka verksamheter har avvikelsen uppstått?"
SECTION_3 = "3. Beskrivning av händelsen från rapporterande verksamhet"
# Each row of a summary list as (key, answer), in the page's order.
ROWS = """check => [...check.querySelectorAll('.formkit-answers-row')].map(row =>
  [row.querySelector('dt').textContent.trim(), row.querySelector('.formkit-answers-value').innerText.trim()])"""


def opened(open_context, size: str, javascript: bool) -> Page:
    page = open_context(viewport=SIZES[size], java_script_enabled=javascript).new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # leaving a typed form asks first
    return page


def filled(page: Page, live_server, javascript: bool) -> None:
    """The BUS form with two receiving units, as a person fills it in."""
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    if javascript:
        page.get_by_role("button", name="Lägg till verksamhet").click()
    row = page.get_by_role("group", name="Verksamhet 2")
    row.get_by_label("Enhet", exact=True).fill("BUP Solna")
    row.get_by_label("Verksamhetstyp").select_option(label="Barn- och ungdomspsykiatri")
    row.get_by_label("Huvudman").select_option(label="Region Stockholm")
    row.get_by_label("Chefens e-post").fill("chef.bup@regionstockholm.se")
    page.get_by_role("group", name="Ansvarig chef vid rapporterande verksamhet").get_by_label("Telefonnummer").fill("")


def to_check(page: Page) -> None:
    page.get_by_role("button", name=CONTINUE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CHECK)


@JS
@BOTH
def test_the_form_continues_to_every_answer_by_section_and_nothing_is_sent_yet(
    open_context, live_server, smtp_server, size, javascript
):
    page = opened(open_context, size, javascript)
    filled(page, live_server, javascript)
    expect(page.locator("form.formkit-form [type=submit]")).to_have_text(CONTINUE)

    to_check(page)

    check = page.locator("[data-formkit-check]")
    expect(page).to_have_title(re.compile(rf"^{CHECK}: BUS-avvikelse - "))
    headings = check.locator("h2, h3").all_inner_texts()
    for section in (SECTION_2, "Verksamhet 1", "Verksamhet 2", SECTION_3, "Ansvarig chef vid rapporterande verksamhet"):
        assert section in headings, f"{section!r} in {headings}"
    assert headings.index(SECTION_2) < headings.index("Verksamhet 2") < headings.index(SECTION_3)
    rows = check.evaluate(ROWS)
    for row in (
        ["1. Vilken typ av händelse avser BUS-avvikelsen?", "Remissen besvarades inte"],
        ["Vilket område gäller avvikelsen?", "Samverkan enligt BUS-överenskommelsen i stort"],
        ["Huvudman", "Region Stockholm"],  # a choice by its label, not its value
        ["Chefens e-post", "chef.bup@regionstockholm.se"],
        ["Händelsen", "- Remiss i mars\n- Inget svar"],  # lines kept
        ["Telefonnummer", "Inte ifyllt"],  # an optional field left blank says so
    ):
        assert row in rows, f"{row} in {rows}"
    assert len(rows) >= 24, "every answer of the form is there"
    assert page.locator("form.formkit-form").is_hidden(), "the form gives way to the check page"
    expect(page.get_by_role("heading", name="Rapportera en BUS-avvikelse")).to_have_count(0)
    heading = page.get_by_role("heading", name=CHECK)
    expect(heading).to_be_in_viewport()
    if javascript:
        expect(heading).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"], "no sideways scrolling"
    assert_headings_in_order(page, f"check page at {size} px")
    page.wait_for_timeout(300)
    assert smtp_server.inbox.messages == [], "nothing is sent before the send button"
    state = f"check page at {size} px"
    if javascript:
        audit(page, state)
    else:
        audit_without_javascript(page, opened(open_context, size, True), state + " (no JavaScript)")


@JS
def test_the_check_page_says_who_will_receive_the_report_with_the_forms_routing(
    open_context, live_server, smtp_server, javascript
):
    page = opened(open_context, "1280", javascript)
    filled(page, live_server, javascript)
    to_check(page)

    recipients = page.locator("[data-formkit-recipients]")
    expect(page.get_by_role("heading", name="Mottagare")).to_be_visible()
    rows = dict(recipients.evaluate(ROWS))
    assert rows["Till"].splitlines() == ["Björkskolan: rektor@solna.se", "BUP Solna: chef.bup@regionstockholm.se"]
    assert rows["Kopia för kännedom"].splitlines() == [
        "BUS-avvikelser@storsthlm.se",
        "BUS-avvikelser.hsf@sll.se",
        "Ansvarig chef vid rapporterande verksamhet: carl.chef@solna.se",
    ]
    assert rows["Kvitto med en kopia"] == "eva.ek@solna.se"
    button = page.get_by_role("button", name=SEND)
    expect(button).to_be_visible()
    privacy = page.locator("[data-formkit-check]").get_by_role("link", name="Så behandlar vi personuppgifter")
    assert 0 <= button.bounding_box()["y"] - privacy.bounding_box()["y"] < 120, "the privacy notice is beside it"


@JS
@BOTH
def test_change_leads_back_to_the_field_with_everything_typed_and_the_change_is_checked_again(
    open_context, live_server, smtp_server, size, javascript
):
    page = opened(open_context, size, javascript)
    filled(page, live_server, javascript)
    to_check(page)

    change = page.get_by_role("button", name="Ändra Chefens e-post (Verksamhet 2)")
    expect(change).to_have_text("Ändra Chefens e-post (Verksamhet 2)")
    expect(change.locator(".formkit-visually-hidden")).to_have_text(" Chefens e-post (Verksamhet 2)")
    change.click()

    row = page.get_by_role("group", name="Verksamhet 2")
    field = row.get_by_label("Chefens e-post")
    expect(field).to_be_focused()
    expect(field).to_have_value("chef.bup@regionstockholm.se")
    expect(row.get_by_label("Enhet", exact=True)).to_have_value("BUP Solna")
    header = page.evaluate("document.querySelector('.md-header').getBoundingClientRect().bottom")
    label = row.locator("label", has_text="Chefens e-post").bounding_box()
    assert label["y"] >= header, f"the label is below the header: {label} {header}"
    assert field.bounding_box()["y"] + field.bounding_box()["height"] <= SIZES[size]["height"], "the field is in view"
    field.fill("chef.bup2@regionstockholm.se")

    to_check(page)
    expect(page.locator("[data-formkit-recipients]")).to_contain_text("BUP Solna: chef.bup2@regionstockholm.se")
    page.get_by_role("button", name=SEND).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-\d{8}-"))
    unit = next(m for m in smtp_server.inbox.wait_for(3) if "chef.bup2@regionstockholm.se" in str(m["To"]))
    assert page.locator("[data-formkit-reference]").inner_text() in unit["Subject"]


def test_errors_found_by_the_server_at_the_check_step_show_on_the_form_not_on_a_check_page(
    open_context, live_server, smtp_server
):
    page = opened(open_context, "1280", True)
    filled(page, live_server, True)
    # The browser's own check is let pass; the server still refuses what it is asked to check.
    page.get_by_role("group", name="Verksamhet 2").get_by_label("Chefens e-post").evaluate(
        "f => { f.type = 'text'; f.value = 'chef@'; }"
    )

    page.get_by_role("button", name=CONTINUE).click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        ["Ange chefens e-postadress, till exempel namn@kommun.se (Verksamhet 2)"]
    )
    expect(page.get_by_role("heading", name=CHECK)).to_have_count(0)
    assert smtp_server.inbox.messages == []
