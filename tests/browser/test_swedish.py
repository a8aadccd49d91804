"""Issue 13's Swedish and its checkers' findings, as a person meets them in Chromium at 320 and 1280 px, with and
without JavaScript: specific messages, (valfritt) on optional fields, official names, headings of their own for
problems that are not errors in the answers, an answer page that explains, and theme markup that checkers accept."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from browser.a11y import audit, audit_without_javascript, contrast, parse_colour, site_paths
from browser.test_submit import fill_report

SIZES = {"320": {"width": 320, "height": 640}, "1280": {"width": 1280, "height": 800}}
BOTH = pytest.mark.parametrize("size", SIZES, ids=[f"{size}px" for size in SIZES])
JS = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
SEND = "Fortsätt"  # the form's own button, which continues to the check page before anything is sent
MUNICIPALITIES = [
    "Botkyrka kommun", "Danderyds kommun", "Ekerö kommun", "Haninge kommun", "Huddinge kommun", "Järfälla kommun",
    "Lidingö stad", "Nacka kommun", "Norrtälje kommun", "Nykvarns kommun", "Nynäshamns kommun", "Salems kommun",
    "Sigtuna kommun", "Sollentuna kommun", "Solna stad", "Stockholms stad", "Sundbybergs stad", "Södertälje kommun",
    "Tyresö kommun", "Täby kommun", "Upplands Väsby kommun", "Upplands-Bro kommun", "Vallentuna kommun",
    "Vaxholms stad", "Värmdö kommun", "Österåkers kommun",
]  # fmt: skip


def opened(open_context, size: str, javascript: bool = True) -> Page:
    return open_context(viewport=SIZES[size], java_script_enabled=javascript).new_page()


def send_empty(page: Page, javascript: bool) -> None:
    if javascript:
        page.get_by_role("button", name=SEND).click()
    else:
        with page.expect_navigation():
            page.get_by_role("button", name=SEND).click()
    expect(page.locator("[data-formkit-summary]")).to_be_visible()


@JS
@BOTH
def test_messages_say_whose_value_is_missing_the_same_with_and_without_javascript(
    open_context, live_server, size, javascript
):
    page = opened(open_context, size, javascript)
    page.goto(live_server.url + "/rapportera/")
    send_empty(page, javascript)

    links = page.locator("[data-formkit-summary] a").all_inner_texts()
    text = "\n".join(links)
    for message in (
        "Beskriv händelsen",
        "Ange namnet på den som kan lämna barnets uppgifter",
        "Ange kontaktpersonens namn",
        "Ange kontaktpersonens e-post",
        "Ange enhetschefens namn",
        "Ange enhetschefens e-post",
    ):
        assert message in text, f"{message!r} in {links}"
    for vague in ("Ange namn enhetschef", "Ange händelsen", "Ange e-post", "Ange enhet ", "Ange kontaktperson "):
        assert not any(link.startswith(vague) for link in links), f"{vague!r} in {links}"


@JS
@BOTH
def test_optional_fields_say_valfritt_and_required_ones_carry_no_mark(open_context, live_server, size, javascript):
    page = opened(open_context, size, javascript)
    page.goto(live_server.url + "/rapportera/")
    form = page.locator('[data-formkit="bus-avvikelse"]')

    expect(form.locator(".formkit-intro")).to_have_text("Fyll i alla fält som inte är märkta (valfritt).")
    expect(form.get_by_label("Förslag till åtgärd (valfritt)")).to_be_visible()
    manager = form.get_by_role("group", name="Ansvarig chef vid rapporterande verksamhet")
    expect(manager.get_by_label("Enhet (valfritt)", exact=True)).to_be_visible()
    expect(manager.get_by_label("Telefonnummer (valfritt)", exact=True)).to_be_visible()
    expect(manager.get_by_label("E-post", exact=True)).to_be_visible()
    assert "obligatoriskt" not in form.inner_text()
    if not javascript:  # formkit.js says how much is left; the page as served says how much is allowed
        expect(form.locator("#f-handelsetyp-count")).to_have_text("Högst 2\u00a0000 tecken.")


def test_the_character_count_writes_numbers_the_swedish_way_and_counts_characters_not_code_units(
    page: Page, live_server
):
    page.goto(live_server.url + "/rapportera/")
    field = page.locator("#f-handelsetyp")
    count = page.locator("#f-handelsetyp-count")

    expect(count).to_have_text("Du har 2\u00a0000 tecken kvar.")
    field.fill("\U0001f4a9\U0001f4a9")  # two characters, four UTF-16 code units, as the server counts them: two
    expect(count).to_have_text("Du har 1\u00a0998 tecken kvar.")


def test_the_owners_are_the_official_names_of_the_counties_26_municipalities(page: Page, live_server):
    page.goto(live_server.url + "/rapportera/")
    owner = page.get_by_role("group", name="Verksamhet 1").get_by_label("Huvudman")

    options = [o.strip() for o in owner.locator("option").all_inner_texts()]

    assert options[1:27] == MUNICIPALITIES
    assert options[27:] == ["Region Stockholm", "Enskild huvudman, till exempel fristående skola"]
    assert owner.locator("option").last.get_attribute("value") == "annan"  # the stored value stays
    assert page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen?").is_visible()


@BOTH
def test_without_javascript_blank_optional_rows_are_not_marked_and_a_group_link_leads_to_its_first_field(
    open_context, live_server, size
):
    page = opened(open_context, size, javascript=False)
    page.goto(live_server.url + "/rapportera/")
    send_empty(page, javascript=False)

    for row in (1, 2):
        controls = page.locator(f"#f-verksamheter-{row} input, #f-verksamheter-{row} select")
        assert controls.count() >= 4
        for index in range(controls.count()):
            control = controls.nth(index)
            expect(control).not_to_have_attribute("aria-invalid", "true")
            colour = control.evaluate("c => getComputedStyle(c).borderTopColor")
            assert parse_colour(colour)[:3] != (176, 0, 32), f"row {row + 1}: {colour} is the error colour"
    summary = page.locator("[data-formkit-summary]")
    to_list = summary.get_by_role("link", name="Ange minst en verksamhet som avvikelsen gäller")
    expect(to_list).to_have_attribute("href", "#f-verksamheter-0-enhet")
    hrefs = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for href in hrefs:
        target = page.locator(href)
        expect(target).to_have_count(1)
        assert target.evaluate("e => ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName)"), f"{href} is a field"
    to_list.click()
    expect(page.get_by_role("group", name="Verksamhet 1").get_by_label("Enhet", exact=True)).to_be_focused()


@BOTH
def test_problems_that_are_not_errors_in_the_answers_have_their_own_heading(open_context, live_server, size):
    page = opened(open_context, size)
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    summary = page.locator("[data-formkit-summary]")
    heading = summary.get_by_role("heading")
    problem = {"type": "about:blank", "title": "För många försök", "status": 429, "detail": "Vänta en stund."}

    def too_many(route):
        if route.request.method != "POST":
            return route.continue_()
        headers = {"Content-Type": "application/problem+json", "Retry-After": "60"}
        route.fulfill(status=429, headers=headers, body=json.dumps(problem, ensure_ascii=False))

    page.route("**/api/forms/bus-avvikelse", too_many)
    page.get_by_role("button", name=SEND).click()
    expect(heading).to_have_text("För många försök: formuläret är inte skickat")
    page.wait_for_timeout(100)  # it used to be reset to the errors' heading after 0 ms
    expect(heading).to_have_text("För många försök: formuläret är inte skickat")
    expect(summary).to_contain_text("Försök igen om 60 sekunder.")
    expect(page).to_have_title(re.compile(r"^Inte skickat: "))

    page.unroute("**/api/forms/bus-avvikelse")
    page.route("**/api/forms/bus-avvikelse", lambda route: route.abort())
    page.get_by_role("button", name=SEND).click()
    expect(heading).to_have_text("Det gick inte att nå servern: formuläret är inte skickat")
    assert "Det finns fel" not in summary.inner_text()

    page.unroute("**/api/forms/bus-avvikelse")
    page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen").fill("")
    page.get_by_role("button", name=SEND).click()
    expect(heading).to_have_text("Det finns fel i formuläret")
    assert open_context.foreign == []


@JS
@BOTH
def test_the_answer_page_without_a_link_explains_how_to_answer_and_shows_no_form(
    open_context, live_server, size, javascript
):
    page = opened(open_context, size, javascript)
    page.goto(live_server.url + "/svara/")

    expect(page.get_by_role("heading", name="Svara via länken i e-postmeddelandet")).to_be_visible()
    expect(page.locator("form.formkit-form")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Förbättringsåtgärder")).to_have_count(0)
    state = f"/svara/ without a link at {size} px"
    if javascript:
        audit(page, state)
    else:
        audit_without_javascript(page, opened(open_context, size), state + " (no JavaScript)")


def test_opening_the_endpoints_address_leads_to_the_form(page: Page, live_server):
    response = page.goto(live_server.url + "/api/forms/bus-avvikelse")

    assert response.url == live_server.url + "/rapportera/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapportera en BUS-avvikelse")


@BOTH
def test_the_heading_is_readable_and_the_warning_no_smaller_than_the_text(open_context, live_server, size):
    page = opened(open_context, size)
    page.goto(live_server.url + "/rapportera/")

    h1 = page.locator("h1").evaluate("h => [getComputedStyle(h).fontWeight, getComputedStyle(h).color]")
    assert int(h1[0]) >= 600, f"h1 weight {h1[0]}"
    *rgb, alpha = parse_colour(h1[1])
    seen = tuple(255 * (1 - alpha) + channel * alpha for channel in rgb)  # on white
    assert alpha >= 0.85 and contrast(seen, (255, 255, 255)) >= 12, f"h1 colour {h1[1]}"
    sizes = page.evaluate(
        """() => [getComputedStyle(document.querySelector('.admonition p:not(.admonition-title)')).fontSize,
                  getComputedStyle(document.querySelector('article > p')).fontSize]"""
    )
    warning, body = (float(value.removesuffix("px")) for value in sizes)
    assert warning >= body, f"the warning is {warning}px, the text {body}px"


@BOTH
def test_the_menu_and_search_are_buttons_not_labels_and_the_search_can_be_submitted(open_context, live_server, size):
    page = opened(open_context, size)
    page.goto(live_server.url + "/om-bus/")

    assert page.evaluate("document.querySelectorAll('label[role], label[tabindex]').length") == 0
    if size == "320":
        for name in ("Meny", "Sök"):
            button = page.get_by_role("button", name=name, exact=True)
            expect(button).to_be_visible()
            assert button.evaluate("b => b.tagName") == "BUTTON"
        page.get_by_role("button", name="Sök", exact=True).click()
    search = page.get_by_role("textbox", name="Sök")
    search.press_sequentially("personuppgifter")  # Material searches as keys are typed
    expect(page.locator(".md-search-result__list [href]").first).to_be_attached(timeout=10_000)
    page.locator("form.md-search__form").evaluate("form => form.requestSubmit()")
    expect(page).to_have_url(re.compile(r"/personuppgifter/"))


@BOTH
def test_the_form_page_fetches_materials_script_when_search_is_opened_and_search_finds_a_page(
    open_context, live_server, size
):
    page = opened(open_context, size)
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(live_server.url + "/rapportera/")
    page.wait_for_timeout(300)

    theme = [url for url in fetched if "/assets/javascripts/" in url or "search_index" in url]
    assert theme == [], "the form page waits for search before it fetches Material's script"
    if size == "320":
        page.get_by_role("button", name="Sök", exact=True).click()
    else:
        page.keyboard.press("s")  # Material's shortcut, before its script is there
    search = page.get_by_role("textbox", name="Sök")
    expect(search).to_be_focused()
    search.press_sequentially("personuppgifter")
    expect(page.locator(".md-search-result__list [href]").first).to_be_attached(timeout=10_000)
    page.locator("form.md-search__form").evaluate("form => form.requestSubmit()")
    expect(page).to_have_url(re.compile(r"/personuppgifter/"))


@JS
def test_every_skip_link_leads_to_content_that_is_there(open_context, live_server, built_site, smtp_server, javascript):
    page = opened(open_context, "1280", javascript)
    paths = [*site_paths(built_site), "/finns-inte/", "/api/forms/bus-avvikelse/kvitto/BUS-20261122-ABCDEF"]
    for path in paths:
        page.goto(live_server.url + path)
        assert_skip_link(page, path)
    page.goto(live_server.url + "/rapportera/")
    send_empty(page, javascript)
    assert_skip_link(page, "the form with errors")


def assert_skip_link(page: Page, where: str) -> None:
    skip = page.locator("a.md-skip")
    expect(skip).to_have_count(1)
    target = skip.get_attribute("href")
    assert target == "#innehall", where
    expect(page.locator(target)).to_contain_text(page.locator("h1").inner_text())
