"""Files in Chromium: chosen with the file input, checked, sent with and without JavaScript, arriving attached
to the e-mail and listed in the DOCX; axe-clean with a file chosen and with errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import docx_text

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
TEXT = "Anteckningar från mötet.\n".encode()
SCHEMA = {
    "title": "Skicka in intyg",
    "type": "object",
    "required": ["namn", "intyg"],
    "properties": {
        "namn": {"type": "string", "title": "Namn", "x-autocomplete": "off"},
        "intyg": {
            "type": "string",
            "format": "data-url",
            "title": "Intyg",
            "description": "Intyget som PDF.",
            "x-accept": ["application/pdf"],
            "x-max-bytes": 4000,
        },
        "bilagor": {
            "type": "array",
            "title": "Bilagor",
            "maxItems": 2,
            "items": {"type": "string", "format": "data-url", "x-accept": ["image/png", "text/plain"]},
        },
    },
    "x-formkit": {"mail": {"to": "sekretariatet@example.se"}},
}
PAGE = "---\ntitle: Skicka in intyg\n---\n\n# Skicka in intyg\n\n[[form intyg]]\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with a form that takes files, and its page, built once."""
    files = {"schema/intyg.json": json.dumps(SCHEMA, ensure_ascii=False), "docs/intyg.md": PAGE}
    return project_with(tmp_path_factory.mktemp("project"), files)


def choose(page: Page, label: str, *files: tuple[str, str, bytes]) -> None:
    page.get_by_label(label, exact=True).set_input_files(
        [{"name": name, "mimeType": kind, "buffer": data} for name, kind, data in files]
    )


def fill(page: Page) -> None:
    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    choose(page, "Intyg", ("läkarintyg.pdf", "application/pdf", PDF))
    choose(page, "Bilagor (valfritt)", ("foto.png", "image/png", PNG), ("anteckningar.txt", "text/plain", TEXT))


def assert_delivered(smtp_server, reference: str) -> None:
    [report] = smtp_server.inbox.wait_for(1)
    attached = {p.get_filename(): p.get_payload(decode=True) for p in report.iter_attachments()}
    assert attached["läkarintyg.pdf"] == PDF
    assert attached["foto.png"] == PNG
    assert attached["anteckningar.txt"] == TEXT
    text = docx_text(attached[f"{reference}.docx"])
    assert f"läkarintyg.pdf ({len(PDF)} byte)" in text
    assert f"foto.png ({len(PNG)} byte), anteckningar.txt ({len(TEXT)} byte)" in text


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_files_chosen_are_checked_sent_and_arrive_attached(browser, server, smtp_server, javascript):
    context = browser.new_context(java_script_enabled=javascript, locale="sv-SE")
    page = context.new_page()
    page.goto(server.url + "/intyg/")
    expect(page.locator("form.formkit-form")).to_have_attribute("enctype", "multipart/form-data")
    fill(page)
    if javascript:
        audit(page, "files: chosen")
    page.get_by_role("button", name="Fortsätt").click()

    check = page.locator("[data-formkit-check]")
    expect(check).to_contain_text(f"läkarintyg.pdf ({len(PDF)} byte)")
    expect(check).to_contain_text("foto.png")
    page.get_by_role("button", name="Skicka", exact=True).click()

    reference = page.locator("[data-formkit-reference]")
    expect(reference).to_have_text(re.compile(r"^INTYG-\d{8}-[0-9A-Z]{4,}$"))
    assert_delivered(smtp_server, reference.inner_text())
    context.close()


def test_with_javascript_a_file_too_big_is_said_before_anything_is_sent(page: Page, server, smtp_server):
    page.goto(server.url + "/intyg/")
    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    choose(page, "Intyg", ("stort.pdf", "application/pdf", PDF + b"%" * 5000))
    page.get_by_role("button", name="Fortsätt").click()
    message = "Filen ”stort.pdf” är för stor. Den får vara högst 4 kB. Välj en mindre fil."
    expect(page.locator("[data-formkit-summary]")).to_contain_text(message)
    expect(page.locator("#f-intyg-error")).to_contain_text(message)
    expect(page.get_by_label("Intyg", exact=True)).to_have_attribute("aria-invalid", "true")
    audit(page, "files: too big (JavaScript)")
    assert smtp_server.inbox.messages == []


def test_with_javascript_a_file_of_the_wrong_content_is_refused_by_the_server_on_its_field(page: Page, server):
    page.goto(server.url + "/intyg/")
    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    choose(page, "Intyg", ("intyg.pdf", "application/pdf", PNG))  # a PNG named .pdf
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#f-intyg-error")).to_contain_text("Filen ”intyg.pdf” går inte att ta emot här. Välj en PDF.")
    audit(page, "files: wrong type (server)")


def chosen_and_read(page: Page, label: str, *files: tuple[str, str, bytes]) -> None:
    """Choose files and wait until formkit.js has read their first bytes (it does so as they are chosen)."""
    choose(page, label, *files)
    field = page.get_by_label(label, exact=True)
    page.wait_for_function("control => control.formkitKinds", arg=field.element_handle())


def test_with_javascript_a_file_whose_content_is_not_taken_is_said_before_anything_is_sent(page: Page, server):
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(server.url + "/intyg/")
    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    chosen_and_read(page, "Intyg", ("intyg.pdf", "application/pdf", PNG))  # a PNG named .pdf
    chosen_and_read(page, "Bilagor (valfritt)", ("foto.png", "image/png", PNG), ("data.txt", "text/plain", b"\x00\x01"))
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_contain_text("Filen ”intyg.pdf” går inte att ta emot här. Välj en PDF.")
    expect(summary).to_contain_text("Filen ”data.txt” går inte att ta emot här. Välj en PNG-bild eller textfil.")
    expect(page.get_by_label("Intyg", exact=True)).to_have_attribute("aria-invalid", "true")
    assert posts == []


def test_with_javascript_what_only_the_whole_file_shows_is_refused_by_the_server(page: Page, server):
    """The browser reads a file's first 4 kB; a text file's control character past them is for the server."""
    page.goto(server.url + "/intyg/")
    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    chosen_and_read(page, "Intyg", ("intyg.pdf", "application/pdf", PDF))
    chosen_and_read(page, "Bilagor (valfritt)", ("lang.txt", "text/plain", b"a" * 5000 + b"\x00"))
    page.get_by_role("button", name="Fortsätt").click()
    message = "Filen ”lang.txt” går inte att ta emot här. Välj en PNG-bild eller textfil."
    expect(page.locator("#f-bilagor-error")).to_contain_text(message)


def test_without_javascript_the_error_page_says_to_choose_the_file_again(browser, server, smtp_server):
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    page = context.new_page()
    inspector = browser.new_page()
    page.goto(server.url + "/intyg/")
    choose(page, "Intyg", ("läkarintyg.pdf", "application/pdf", PDF))
    choose(page, "Bilagor (valfritt)", ("program.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 30))
    page.get_by_role("button", name="Fortsätt").click()

    expect(page.locator(".formkit-summary")).to_contain_text("Ange namn")
    expect(page.locator("#f-bilagor-error")).to_contain_text("Filen ”program.exe” går inte att ta emot här.")
    expect(page.locator("#f-intyg-again")).to_have_text(
        f"Du hade valt läkarintyg.pdf ({len(PDF)} byte). Välj filen igen: en fil kan inte sparas när sidan laddas om."
    )
    audit_without_javascript(page, inspector, "files: errors (no JavaScript)")

    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    choose(page, "Intyg", ("läkarintyg.pdf", "application/pdf", PDF))
    choose(page, "Bilagor (valfritt)", ("foto.png", "image/png", PNG), ("anteckningar.txt", "text/plain", TEXT))
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("button", name="Skicka", exact=True).click()
    reference = page.locator("[data-formkit-reference]")
    expect(reference).to_have_text(re.compile(r"^INTYG-"))
    assert_delivered(smtp_server, reference.inner_text())
    inspector.close()
    context.close()
