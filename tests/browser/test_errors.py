"""Errors people understand: the GOV.UK error summary and messages, with and without JavaScript,
and the browser's checks giving the same verdict as the server's on generated values."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Page, expect

from browser.test_submit import CONTINUE, continue_and_send, fill_report
from support import valid_answers

URL = "/api/forms/bus-avvikelse"


def test_an_empty_submit_shows_a_focused_summary_linking_to_each_field(page: Page, live_server):
    page.goto(live_server.url + "/rapportera/")
    page.get_by_role("button", name=CONTINUE).click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading", name="Det finns fel i formuläret")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Fel: "))
    links = summary.get_by_role("link")
    expect(links.first).to_have_text("Beskriv vilken typ av händelse avvikelsen gäller")
    assert links.count() >= 10

    field = page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen")
    message = page.locator("#f-handelsetyp-error")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bf-handelsetyp-error\b"))
    expect(message).to_have_text("Fel: Beskriv vilken typ av händelse avvikelsen gäller")
    assert message.bounding_box()["y"] < field.bounding_box()["y"], "the message stands above the field"

    links.filter(has_text="Ange minst en verksamhet som avvikelsen gäller").click()  # the list: its first field
    expect(page.get_by_role("group", name="Verksamhet 1").get_by_label("Enhet", exact=True)).to_be_focused()


def test_fixing_and_resubmitting_clears_the_errors_that_were_fixed(page: Page, live_server, smtp_server):
    page.goto(live_server.url + "/rapportera/")
    page.get_by_role("button", name=CONTINUE).click()
    field = page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen")

    field.fill("Remissen besvarades inte")
    page.get_by_label("Samverkan enligt BUS-överenskommelsen i stort").check()  # the area, asked since the register
    page.get_by_role("group", name="Verksamhet 1").get_by_label("Chefens e-post").fill("rektor@solna.se")  # a row begun
    page.get_by_role("button", name=CONTINUE).click()

    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-handelsetyp-error")).to_be_hidden()
    expect(page.locator("[data-formkit-summary]").get_by_role("link").first).to_have_text(
        "Ange enhetens namn (Verksamhet 1)"
    )

    fill_report(page)
    continue_and_send(page)
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile("^BUS-"))
    expect(page).not_to_have_title(re.compile(r"^Fel: "))


def test_the_servers_refusal_shows_in_the_same_place(page: Page, live_server):
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_label("Förslag till åtgärd").fill("Barnet har personnummer 121212-1212")
    page.route("**/api/forms/**", lambda route: route.abort())  # only the browser's own check may speak
    page.get_by_role("button", name=CONTINUE).click()

    expect(page.locator("#f-beskrivning-forslag_atgard-error")).to_contain_text("Ta bort personnumret")
    expect(page.get_by_label("Förslag till åtgärd")).to_have_value("Barnet har personnummer 121212-1212")


def test_without_javascript_the_422_page_shows_the_summary_and_keeps_what_was_typed(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_role("group", name="Verksamhet 1").get_by_label("Chefens e-post").fill("rektor@")

    with page.expect_navigation() as answer:
        page.get_by_role("button", name=CONTINUE).click()

    assert answer.value.status == 422
    expect(page).to_have_title(re.compile(r"^Fel: "))
    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link")).to_have_text(
        ["Ange chefens e-postadress, till exempel namn@kommun.se (Verksamhet 1)"]
    )
    expect(summary.get_by_role("link")).to_have_attribute("href", "#f-verksamheter-0-chef_epost")
    row = page.get_by_role("group", name="Verksamhet 1")
    expect(row.get_by_label("Chefens e-post")).to_have_value("rektor@")
    expect(row.get_by_label("Chefens e-post")).to_have_attribute("aria-invalid", "true")
    expect(row.get_by_label("Enhet", exact=True)).to_have_value("Björkskolan")
    expect(page.get_by_label("Förslag till åtgärd")).to_have_value("Gemensamt möte")
    context.close()


# ---- where the summary and its links put things, at 320 and 1280 px, with and without JavaScript ----

SIZES = {"320": {"width": 320, "height": 640}, "1280": {"width": 1280, "height": 800}}
BOTH = pytest.mark.parametrize("size", SIZES, ids=[f"{size}px" for size in SIZES])
JS = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
# Where an element is on screen, and where the sticky header ends.
PLACE = """e => { const box = e.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, header: document.querySelector('.md-header').getBoundingClientRect().bottom,
          height: innerHeight}; }"""
# A field's own label (or its group's legend, for a choice) and the field, as a summary link brings them into view.
LABELLED = """id => { const field = document.getElementById(id); const group = field.closest('.formkit-choices');
  const label = group ? group.querySelector('legend') : document.querySelector(`label[for="${id}"]`);
  const header = document.querySelector('.md-header').getBoundingClientRect().bottom;
  return {focused: document.activeElement === field, label: label.getBoundingClientRect().top,
          field: field.getBoundingClientRect().bottom, header: header, height: innerHeight}; }"""


# How many lines each element takes.
LINES = "els => els.map(e => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)))"


def send_empty(open_context, live_server, size: str, javascript: bool) -> Page:
    page = open_context(viewport=SIZES[size], java_script_enabled=javascript).new_page()
    page.goto(live_server.url + "/rapportera/")
    if javascript:
        page.get_by_role("button", name=CONTINUE).click()
    else:
        with page.expect_navigation():
            page.get_by_role("button", name=CONTINUE).click()
    return page


@JS
@BOTH
def test_a_failed_submit_puts_the_focused_summary_at_the_top_of_the_screen_below_the_header(
    open_context, live_server, size, javascript
):
    page = send_empty(open_context, live_server, size, javascript)

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    heading = summary.get_by_role("heading", name="Det finns fel i formuläret")
    expect(heading).to_be_in_viewport()
    place = summary.evaluate(PLACE)
    assert place["header"] <= place["top"] <= place["header"] + 24, f"the summary starts just below the header: {place}"
    assert heading.evaluate(PLACE)["top"] > place["header"], "the heading is not under the header"
    expect(page).to_have_title(re.compile(r"^Fel: "))


@JS
@BOTH
def test_every_summary_link_puts_its_field_and_its_label_in_view_below_the_header(
    open_context, live_server, size, javascript
):
    page = send_empty(open_context, live_server, size, javascript)
    links = page.locator("[data-formkit-summary] a")
    assert links.count() >= 15

    for index in range(links.count()):
        link = links.nth(index)
        target = link.get_attribute("href").removeprefix("#")
        page.evaluate("scrollTo(0, 0)")
        link.click()
        seen = page.evaluate(LABELLED, target)
        where = f"{link.inner_text()!r} at {size} px: {seen}"
        assert seen["focused"], f"{where}: the field has the focus"
        assert seen["label"] >= seen["header"], f"{where}: the label is below the header"
        assert seen["field"] <= seen["height"], f"{where}: the field is on screen under its label"


@BOTH
def test_summary_entries_are_short_say_whose_value_and_are_the_same_with_and_without_javascript(
    open_context, live_server, size
):
    entries = {}
    for javascript in (True, False):
        page = send_empty(open_context, live_server, size, javascript)
        items = page.locator("[data-formkit-summary] li")
        lines = items.evaluate_all(LINES)
        entries[javascript] = items.all_inner_texts()
        assert max(lines) <= (3 if size == "320" else 1), f"lines per entry at {size} px: {lines} {entries[javascript]}"

    assert entries[True] == entries[False], "the browser lists what the server lists"
    for entry in entries[True]:
        context = re.findall(r"\(([^)]*)\)", entry)
        assert all(re.fullmatch(r"Verksamhet \d+", c) for c in context), f"only a row is named in parentheses: {entry}"
    assert "Ange enhetschefens e-post" in entries[True] and "Ange kontaktpersonens e-post" in entries[True]
    assert len(entries[True]) == len(set(entries[True])), "no two entries read the same"


# ---- the browser and the server agree ----

EMAILS = (
    st.emails()
    | st.from_regex(r"[a-z.+_-]{0,8}@[a-z0-9._-]{0,12}", fullmatch=True)
    | st.sampled_from(
        [
            "namn@kommun.se",
            "a@b",
            "a..b@c.se",
            ".a@b.se",
            "a@b.local",
            "a@b.123",
            "a@-b.se",
            "A@SOLNA.SE",
            "a b@c.se",
            "åsa@solna.se",
        ]
    )
)
PHONES = st.from_regex(r"[0-9+() a-z-]{0,14}", fullmatch=True)
TEXTS = st.from_regex(r"[A-Za-z0-9 .,:-]{0,20}", fullmatch=True) | st.sampled_from(
    [
        "121212-1212",
        "Ring 070-123 45 67",
        "0701234567",
        "2026-03-15",
        "121212-1213",
        "samordning 121272-1219",
        "19121212 1212",
        "ordernr 12345678901234",
    ]
)
AGREE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def verdicts(page: Page, live_server, name: str, label, value: str) -> tuple[str, str]:
    """Return (the browser's message, the server's message) for one field value; "" means accepted."""
    label.fill(value)
    page.get_by_role("button", name=CONTINUE).click()
    shown = page.locator("#f-" + name.replace(".", "-") + "-error")
    client = shown.text_content().removeprefix("Fel: ") if shown.is_visible() else ""
    answer = live_server.app.test_client().post(
        URL, data=valid_answers() | {name: value}, headers={"Accept": "application/json"}
    )
    server = next((e["message"] for e in answer.json.get("errors", []) if e["name"] == name), "")
    return client, server


def ready(page: Page, live_server) -> None:
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.route("**/api/forms/**", lambda route: route.abort())  # the browser's verdict alone


REPORTER, MANAGER = "Kontaktuppgifter till rapporterande verksamhet", "Ansvarig chef vid rapporterande verksamhet"
LONG = st.integers(min_value=195, max_value=205).map(lambda n: "x" * n)
FIELDS = {
    "e-mail": (REPORTER, "E-post", "beskrivning.rapporterande.epost", EMAILS),
    "telephone": (REPORTER, "Telefonnummer", "beskrivning.rapporterande.telefon", PHONES),
    "text": (MANAGER, "Enhet (valfritt)", "beskrivning.chef.enhet", TEXTS | LONG),
}


@pytest.mark.parametrize("kind", FIELDS)
def test_the_browser_and_the_server_give_the_same_verdict_on_generated_values(
    page: Page, live_server, smtp_server, kind
):
    group, label, name, values = FIELDS[kind]
    ready(page, live_server)
    field = page.get_by_role("group", name=group).get_by_label(label, exact=True)

    @AGREE
    @given(value=values)
    def agree(value):
        client, server = verdicts(page, live_server, name, field, value)
        assert client == server, value

    agree()
