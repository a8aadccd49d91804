"""The receipt, like GOV.UK's confirmation page, at 320 and 1280 px and the same with and without JavaScript: a
panel with the reference on one line, what happens next with the deadline and the recipients (with the addresses
for the sender's browser only), a link to the guidance, a print style; and a 404 that says so for a reference that
was never sent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser.a11y import audit, audit_without_javascript
from browser.test_accessibility import assert_headings_in_order
from browser.test_submit import continue_and_send, fill_report
from handler.review import long_date

SIZES = {"320": {"width": 320, "height": 640}, "1280": {"width": 1280, "height": 800}}
BOTH = pytest.mark.parametrize("size", SIZES, ids=[f"{size}px" for size in SIZES])
JS = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
TITLE = "Tack, din rapport är skickad"
# The receipt as a person reads it, without the reference itself: headings, paragraphs and list items in order.
CONTENT = """receipt => [...receipt.querySelectorAll('h1, h2, p, li')].filter(e => e.checkVisibility())
  .map(e => e.innerText.trim().replace(/BUS-\\d{8}-[0-9A-Z]+/, 'REFERENS'))"""


def sent(open_context, live_server, size: str, javascript: bool) -> Page:
    page = open_context(viewport=SIZES[size], java_script_enabled=javascript).new_page()
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    continue_and_send(page)
    expect(page).to_have_url(re.compile(r"/api/forms/bus-avvikelse/kvitto/BUS-\d{8}-[0-9A-Z]{6}#meddelande$"))
    return page


@BOTH
def test_the_receipt_is_the_same_page_with_and_without_javascript(open_context, live_server, smtp_server, size):
    pages = {javascript: sent(open_context, live_server, size, javascript) for javascript in (True, False)}

    seen = {js: page.locator("[data-formkit-receipt]").evaluate(CONTENT) for js, page in pages.items()}
    assert seen[True] == [*seen[False], "Skriv ut eller spara som PDF"], "the same, and a print button with JavaScript"
    for javascript, page in pages.items():
        expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_focused()
        expect(page).to_have_title(re.compile(r"^Skickat: BUS-avvikelse - BUS-avvikelser$"))
        assert_headings_in_order(page, f"receipt at {size} px")
        state = f"receipt at {size} px" + ("" if javascript else " (no JavaScript)")
        if javascript:
            audit(page, state)
        else:
            audit_without_javascript(page, open_context(viewport=SIZES[size]).new_page(), state)


@JS
@BOTH
def test_the_panel_holds_the_reference_on_one_line_and_says_what_happens_next(
    open_context, live_server, smtp_server, size, javascript
):
    page = sent(open_context, live_server, size, javascript)

    panel = page.locator(".formkit-panel")
    reference = panel.locator("[data-formkit-reference]")
    text = reference.inner_text()
    expect(panel.get_by_role("heading", level=1)).to_have_text(TITLE)
    fits = reference.evaluate(
        """r => ({ lines: Math.round(r.getBoundingClientRect().height / parseFloat(getComputedStyle(r).lineHeight)),
                   inside: r.getBoundingClientRect().right <= r.parentElement.getBoundingClientRect().right,
                   wrap: getComputedStyle(r).whiteSpace })"""
    )
    assert fits == {"lines": 1, "inside": True, "wrap": "nowrap"}, f"{text} at {size} px: {fits}"
    widest = reference.evaluate(  # the widest letters a reference can draw, and a longer prefix
        """r => { r.textContent = 'SVAR-20261201-WWWWWW';
                  return r.getBoundingClientRect().right <= r.parentElement.getBoundingClientRect().right; }"""
    )
    reference.evaluate("(r, text) => { r.textContent = text; }", text)
    assert widest, f"a reference of 20 wide characters fits the panel at {size} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]

    receipt = page.locator("[data-formkit-receipt]")
    record = live_server.app.extensions["formkit.register"].report(text)
    expect(receipt.get_by_role("heading", name="Vad händer sedan?", level=2)).to_be_visible()
    expect(receipt.locator("[data-formkit-deadline]")).to_have_text(long_date(record.deadline))
    expect(receipt.locator("[data-formkit-sent-to] li")).to_have_text(["Björkskolan"])
    expect(receipt.locator("[data-formkit-copies] li")).to_have_text(
        ["BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se", "Ansvarig chef vid rapporterande verksamhet"]
    )
    expect(receipt.locator("[data-formkit-addresses] li").first).to_have_text("Björkskolan: rektor@solna.se")
    elsewhere = open_context(java_script_enabled=javascript).new_page()  # anyone else who knows the reference
    elsewhere.goto(page.url)
    expect(elsewhere.locator("[data-formkit-sent-to] li")).to_have_text(["Björkskolan"])
    assert "rektor@solna.se" not in elsewhere.locator("[data-formkit-receipt]").inner_text(), "no typed address"
    expect(page.get_by_role("heading", name="Rapportera en BUS-avvikelse")).to_have_count(0)
    expect(page.get_by_text("Skriv aldrig barnets namn eller personnummer")).to_have_count(0)

    receipt.get_by_role("link", name="Läs mer om vad som händer sedan").click()
    expect(page).to_have_url(re.compile(r"/vad-hander-sedan/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vad händer sedan?")


@JS
def test_the_receipt_prints_as_its_content_alone_in_black_on_white(open_context, live_server, smtp_server, javascript):
    page = sent(open_context, live_server, "1280", javascript)
    if javascript:
        page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
        page.get_by_role("button", name="Skriv ut eller spara som PDF").click()
        assert page.evaluate("window.printed") == 1

    page.emulate_media(media="print")

    for chrome in (".md-header", ".md-sidebar--primary", ".md-footer", ".formkit-print", ".md-skip"):
        expect(page.locator(chrome).first, f"{chrome} is left out of the print").to_be_hidden()
    panel = page.locator(".formkit-panel").evaluate(
        "p => [getComputedStyle(p).backgroundColor, getComputedStyle(p).color, getComputedStyle(p).borderTopStyle]"
    )
    assert panel == ["rgba(0, 0, 0, 0)", "rgb(0, 0, 0)", "solid"], panel
    expect(page.locator("[data-formkit-reference]")).to_be_visible()
    if javascript:  # only a browser with scripts makes the PDF here; both print the same
        pdf = page.pdf()
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") <= 2


@JS
def test_a_receipt_for_a_reference_that_was_never_sent_is_a_404_page_that_says_so(
    open_context, live_server, javascript
):
    page = open_context(java_script_enabled=javascript).new_page()

    response = page.goto(live_server.url + "/api/forms/bus-avvikelse/kvitto/BUS-20990101-ZZZZZZ")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Kvittot finns inte")
    expect(page.locator("article")).to_contain_text("Det finns inget kvitto med referensen BUS-20990101-ZZZZZZ")
    assert "Tack" not in page.locator("article").inner_text()
    expect(page.locator("article").get_by_role("link", name="BUS-avvikelse")).to_have_attribute("href", "/rapportera/")
    state = "receipt of a reference that was never sent (404)"
    if javascript:
        audit(page, state)
    else:
        audit_without_javascript(page, open_context().new_page(), state + " (no JavaScript)")
