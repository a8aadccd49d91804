"""One page with every construct the kit renders (issue 14), axe-clean in each state, with and without JavaScript.

The form is tests/fixtures/every-construct/schema/alla-konstruktioner.json: text, e-mail, telephone, date,
date-time, time, uri, integer, a number with exclusiveMaximum and multipleOf, a nullable text, a note of type
null, const, readOnly, writeOnly, textarea, choices (of text, numbers and objects), checkboxes, a yes/no box,
lists of values, tuples (2020-12 and draft-07), files (one and several), a repeating group with a list in its
rows, name–value rows, allOf (of groups and on one field), a recursive $ref tree, alternatives and conditional
questions. axe runs as loaded, with alternatives switched, conditional questions shown and hidden, files
chosen, rows added and removed, with every error after "Fortsätt", on the check page and on the receipt; then
the DOCX that arrives is read back for every answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import docx_text

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "every-construct"
FORM = "alla-konstruktioner"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40

# What is typed into each text-like field, by its name, and must come back in the DOCX.
TYPED = {
    "namn": "Eva Ek",
    "epost": "eva.ek@solna.se",
    "telefon": "08-746 10 00",
    "datum": "2026-11-20",
    "antal": "7",
    "beskrivning": "Hissen stod still i en timme.",
    "mote": "2026-03-15T14:30",
    "lunch": "12:15",
    "webb": "https://www.example.se/traff",
    "smeknamn": "Evis",
    "losen": "hemligt-123",
    "pris": "12.5",
    "djur": "Katt",
    "meddelande": "Tack för hjälpen",
    "amne": "Hissen",
    "adresser.0": "anna@solna.se",
    "plats.0": "59.3293",
    "plats.1": "18.0686",
    "rum.0": "Sal A",
    "rum.1": "4",
    "vittnen.0.vittne_namn": "Bo Berg",
    "vittnen.0.sprak.0": "Finska",
    "extra._extra.0.namn": "rumsnummer",
    "extra._extra.0.varde": "B412",
    "adress.gata": "Storgatan 1",
    "adress.ort": "Solna",
    "barn": "2",
    "slakt.person_namn": "Greta Ek",
    "kontakt.mobil": "070-123 45 67",
}
CHOSEN = ["Digital miljö", "Täby", "Två platser", "Lokaler", "Ja", "Med sms"]
# How the DOCX shows what was typed, where it differs; and what it shows unasked (const, readOnly default).
SHOWN = {"mote": "2026-03-15 14:30"}
FIXED = ["v2", "A1"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the form of every construct on a page of its own, built once."""
    files = {
        f"schema/{FORM}.json": FIXTURE / "schema" / f"{FORM}.json",
        f"docs/{FORM}.md": FIXTURE / "docs" / f"{FORM}.md",
    }
    return project_with(tmp_path_factory.mktemp("project"), files)


def choose_files(page: Page) -> None:
    page.get_by_label("Intyg", exact=True).set_input_files(
        {"name": "intyg.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_label("Bilagor (valfritt)", exact=True).set_input_files(
        {"name": "foto.png", "mimeType": "image/png", "buffer": PNG}
    )


def fill(page: Page) -> None:
    """Answer every question, the optional ones too, in the first row of each list."""
    form = page.locator("form.formkit-form")
    for label in CHOSEN:
        form.get_by_label(label, exact=True).check()
    form.get_by_label("Amsterdam").check()  # an enum of objects, labelled by its value
    form.get_by_label("Jag vill ha en kopia av svaret").check()
    for name, value in TYPED.items():
        form.locator(f'[name="{name}"]').fill(value)
    choose_files(page)


def delivered(smtp_server) -> tuple[str, dict[str, bytes]]:
    [report] = smtp_server.inbox.wait_for(1)
    attached = {p.get_filename(): p.get_payload(decode=True) for p in report.iter_attachments()}
    [document] = [data for name, data in attached.items() if name.endswith(".docx")]
    return docx_text(document), attached


def assert_every_answer_arrived(smtp_server) -> None:
    text, attached = delivered(smtp_server)
    assert attached["intyg.pdf"] == PDF and attached["foto.png"] == PNG
    for value in [*{**TYPED, **SHOWN}.values(), *CHOSEN, *FIXED, "Amsterdam"]:
        assert value in text, f"{value!r} is not in the DOCX:\n{text}"
    assert "Jag vill ha en kopia av svaret" in text
    assert f"intyg.pdf ({len(PDF)} byte)" in text and f"foto.png ({len(PNG)} byte)" in text
    assert "rumsnummer" in text and "B412" in text
    assert "Postadress" not in text  # the alternative not chosen
    assert "Jag vill ha tips om att skaffa husdjur" not in text  # the condition that does not apply


def send_and_audit(page: Page, smtp_server, check) -> None:
    """Go to the check page, audit it, send, audit the receipt and read the DOCX back."""
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Kontrollera dina svar"))
    answers = page.locator("[data-formkit-check]")
    expect(answers).to_contain_text("Med sms")
    expect(answers).to_contain_text("rumsnummer")
    expect(answers).to_contain_text("Ifyllt (visas inte här)")  # writeOnly: never shown back
    assert "hemligt-123" not in page.locator("main").inner_text()
    check("every construct: the check page")
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^ALLA-\d{8}-"))
    check("every construct: the receipt")
    assert "hemligt-123" not in page.content()
    assert_every_answer_arrived(smtp_server)


def test_with_javascript_every_construct_is_axe_clean_in_every_state_and_sends(page: Page, server, smtp_server):
    page.goto(server.url + f"/{FORM}/")
    status = page.locator("[data-formkit-status]")
    expect(page.get_by_label("Vilket djur har du?", exact=True)).to_be_hidden()
    expect(page.get_by_label("Postadress", exact=True)).to_be_hidden()
    audit(page, "every construct: as loaded (JavaScript)")

    page.get_by_role("button", name="Fortsätt").click()
    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link").first).to_have_attribute("href", "#f-namn")
    expect(summary).not_to_contain_text("Platsens läge")  # a tuple not required may be left blank, as the server says
    audit(page, "every construct: errors, nothing filled in (JavaScript)")

    page.get_by_label("Med brev", exact=True).check()
    expect(page.get_by_label("Postadress", exact=True)).to_be_visible()
    page.get_by_label("Med sms", exact=True).check()
    expect(page.get_by_label("Postadress", exact=True)).to_be_hidden()
    expect(page.get_by_label("Mobilnummer", exact=True)).to_be_visible()
    audit(page, "every construct: alternative switched (JavaScript)")

    page.get_by_label("Ja", exact=True).check()
    page.get_by_label("Meddelande (valfritt)", exact=True).fill("Tack")
    expect(page.get_by_label("Vilket djur har du?", exact=True)).to_be_visible()
    audit(page, "every construct: conditional questions shown (JavaScript)")
    page.get_by_label("Nej", exact=True).check()
    expect(page.get_by_label("Vilket djur har du?", exact=True)).to_be_hidden()
    expect(page.get_by_label("Jag vill ha tips om att skaffa husdjur")).to_be_visible()
    audit(page, "every construct: conditional questions switched (JavaScript)")

    choose_files(page)
    audit(page, "every construct: files chosen (JavaScript)")

    addresses = page.get_by_role("group", name="E-postadresser")
    addresses.get_by_role("button", name="Lägg till e-postadress").click()
    expect(page.get_by_label("E-postadress 2", exact=True)).to_be_focused()
    expect(status).to_have_text("E-postadress 2 har lagts till.")
    page.get_by_role("button", name=re.compile("^Lägg till vittne")).click()
    page.get_by_role("button", name=re.compile("^Lägg till uppgift")).click()
    audit(page, "every construct: rows added (JavaScript)")
    page.get_by_role("button", name="Ta bort e-postadress 2", exact=True).click()
    expect(page.get_by_label("E-postadress 2", exact=True)).to_have_count(0)
    audit(page, "every construct: rows removed (JavaScript)")

    fill(page)
    send_and_audit(page, smtp_server, lambda state: audit(page, f"{state} (JavaScript)"))


def test_without_javascript_every_construct_is_axe_clean_in_every_state_and_sends(browser, server, smtp_server):
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    page = context.new_page()
    inspector = browser.new_page()
    page.goto(server.url + f"/{FORM}/")
    expect(page.get_by_label("Vilket djur har du?", exact=True)).to_be_visible()  # every question, with when to answer
    expect(page.get_by_label("Postadress", exact=True)).to_be_visible()  # every alternative's fields
    audit_without_javascript(page, inspector, "every construct: as loaded (no JavaScript)")

    page.get_by_role("button", name="Fortsätt").click()
    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link").first).to_have_attribute("href", "#f-namn")
    expect(summary).not_to_contain_text("Platsens läge")  # a tuple not required may be left blank, as the server says
    audit_without_javascript(page, inspector, "every construct: errors, nothing filled in (no JavaScript)")

    fill(page)
    send_and_audit(page, smtp_server, lambda state: audit_without_javascript(page, inspector, f"{state} (no JS)"))
    inspector.close()
    context.close()
