"""Errors people understand: the GOV.UK error summary and messages, with and without JavaScript,
and the browser's checks giving the same verdict as the server's on generated values."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Page, expect

from browser.test_submit import fill_report
from support import valid_answers

URL = "/api/forms/bus-avvikelse"


def test_an_empty_submit_shows_a_focused_summary_linking_to_each_field(page: Page, live_server):
    page.goto(live_server.url + "/rapportera/")
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()

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

    links.nth(1).click()
    expect(page.get_by_role("group", name="Verksamhet 1").get_by_label("Enhet", exact=True)).to_be_focused()


def test_fixing_and_resubmitting_clears_the_errors_that_were_fixed(page: Page, live_server, smtp_server):
    page.goto(live_server.url + "/rapportera/")
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()
    field = page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen")

    field.fill("Remissen besvarades inte")
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()

    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-handelsetyp-error")).to_be_hidden()
    expect(page.locator("[data-formkit-summary]").get_by_role("link").first).to_have_text("Ange enhetens namn (Verksamhet 1)")

    fill_report(page)
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile("^BUS-"))
    expect(page).not_to_have_title(re.compile(r"^Fel: "))


def test_the_servers_refusal_shows_in_the_same_place(page: Page, live_server):
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_label("Förslag till åtgärd").fill("Barnet har personnummer 121212-1212")
    page.route("**/api/forms/**", lambda route: route.abort())  # only the browser's own check may speak
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()

    expect(page.locator("#f-beskrivning-forslag_atgard-error")).to_contain_text("Ta bort personnumret")
    expect(page.get_by_label("Förslag till åtgärd")).to_have_value("Barnet har personnummer 121212-1212")


def test_without_javascript_the_422_page_shows_the_summary_and_keeps_what_was_typed(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_role("group", name="Verksamhet 1").get_by_label("Chefens e-post").fill("rektor@")

    with page.expect_navigation() as answer:
        page.get_by_role("button", name="Skicka BUS-avvikelsen").click()

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
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()
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
