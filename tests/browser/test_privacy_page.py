"""The privacy notice (GDPR art. 13): a page of the site written from the form's x-formkit privacy block,
linked beside the send button, readable at 320 px and 1280 px, with and without JavaScript, and clean for axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser.a11y import audit, audit_without_javascript
from browser.test_reflow import assert_reflows

SIZES = {"320": {"width": 320, "height": 640}, "1280": {"width": 1280, "height": 800}}
TITLE = "Så behandlar vi personuppgifter"
# What article 13 asks a notice to say, one section each, in this order.
SECTIONS = [
    "Vem är personuppgiftsansvarig?",
    "Dataskyddsombud",
    "Vilka personuppgifter behandlas?",
    "Varför behandlas uppgifterna?",
    "Vilken är den rättsliga grunden?",
    "Vem får uppgifterna?",
    "Uppgifterna skickas med e-post",
    "Hur länge sparas uppgifterna?",
    "Dina rättigheter",
    "Klagomål till Integritetsskyddsmyndigheten",
]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{size}px" for size in SIZES])
def test_the_send_button_has_the_privacy_notice_beside_it_and_the_notice_says_what_article_13_asks(
    open_context, live_server, size, javascript
):
    page = open_context(viewport=SIZES[size], java_script_enabled=javascript).new_page()
    inspector = open_context(viewport=SIZES[size]).new_page()
    page.goto(live_server.url + "/rapportera/")
    form = page.locator('[data-formkit="bus-avvikelse"] form')
    link = form.get_by_role("link", name=TITLE)
    button = form.locator("[type=submit]")
    expect(link).to_be_visible()
    # beside the button: the last thing before it, and on screen with it
    assert form.evaluate("f => f.querySelector('[type=submit]').previousElementSibling.querySelector('a') !== null")
    link_box, button_box = link.bounding_box(), button.bounding_box()
    assert 0 <= button_box["y"] - (link_box["y"] + link_box["height"]) < 80, (link_box, button_box)

    link.click()
    expect(page).to_have_url(re.compile(r"/personuppgifter/$"))
    expect(page).to_have_title(f"{TITLE} - BUS-avvikelser")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    headings = page.get_by_role("heading", level=2)
    expect(headings).to_have_text(SECTIONS)
    content = page.locator("article")
    expect(content).to_contain_text("Region Stockholm")
    expect(content).to_contain_text("BUS-avvikelser@storsthlm.se")
    expect(content).to_contain_text("artikel 6.1 e")
    expect(content).to_contain_text("högst 30 dagar efter sista svarsdag")
    expect(content).to_contain_text("Integritetsskyddsmyndigheten (IMY)")
    expect(content).to_contain_text("klass, ålder, diagnos, en liten skola eller en ovanlig händelse")
    expect(page.get_by_role("link", name="imy.se")).to_have_attribute("href", "https://www.imy.se/")
    assert_reflows(page, f"privacy-{size}-{'js' if javascript else 'no-js'}")
    state = f"/personuppgifter/ at {size} px {'with' if javascript else 'without'} JavaScript"
    if javascript:
        audit(page, state)
    else:
        audit_without_javascript(page, inspector, state)
    assert open_context.foreign == []


def test_the_answer_form_links_to_the_same_notice(page: Page, live_server, smtp_server):
    from handler import reply
    from support import valid_answers

    # A link answers a report the register holds: send one first, then open its first unit's link.
    sent = live_server.app.test_client().post("/api/forms/bus-avvikelse", data=valid_answers())
    reference = sent.headers["Location"].rsplit("/", 1)[1]
    links = live_server.app.extensions["formkit.settings"].links
    token = reply.issue(links, "bus-avvikelse-svar", reply.Link(reference, 0))
    page.goto(live_server.url + f"/api/forms/bus-avvikelse-svar/{reply.ROUTE}?token={token}")

    link = page.locator('[data-formkit="bus-avvikelse-svar"] form').get_by_role("link", name=TITLE)
    expect(link).to_have_attribute("href", "/personuppgifter/")


def test_the_free_text_fields_warn_about_details_that_point_out_a_child(page: Page, live_server):
    page.goto(live_server.url + "/rapportera/")

    for label in ("1. Vilken typ av händelse", "Händelsen", "Förslag till åtgärd"):
        field = page.get_by_label(label)
        hint = page.locator("#" + field.get_attribute("aria-describedby").split()[0])
        expect(hint).to_contain_text("klass, ålder, diagnos, en liten skola eller en ovanlig händelse")
