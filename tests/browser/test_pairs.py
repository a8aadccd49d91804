"""Name–value rows in Chromium: added and removed with JavaScript, blank rows without, sent and read back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from corpus import entry
from playwright.sync_api import Page, expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import docx_text

PAGE = "---\ntitle: Registrering\n---\n\n# Registrering\n\n[[form registrering]]\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with react-jsonschema-form's "Additional Properties" sample and its page."""
    schema = entry("additionalProperties")["schema"]
    files = {"schema/registrering.json": json.dumps(schema), "docs/registrering.md": PAGE}
    return project_with(tmp_path_factory.mktemp("project"), files)


def delivered(smtp_server) -> str:
    [report] = smtp_server.inbox.wait_for(1)
    [document] = [p.get_content() for p in report.iter_attachments() if p.get_filename().endswith(".docx")]
    return docx_text(document)


def test_with_javascript_rows_are_added_and_removed_and_arrive_in_the_docx(page: Page, server, smtp_server):
    page.goto(server.url + "/registrering/")
    page.get_by_label("First name").fill("Chuck")
    page.get_by_label("Last name").fill("Norris")
    first = page.get_by_role("group", name="Uppgift 1")
    first.get_by_label("Namn").fill("assKickCount")
    first.get_by_label("Värde").fill("infinity")
    page.get_by_role("button", name="Lägg till uppgift").click()
    second = page.get_by_role("group", name="Uppgift 2")
    expect(second.get_by_label("Namn")).to_be_focused()
    second.get_by_label("Namn").fill("favouriteFood")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#f-_extra-1-varde-error")).to_have_text("Fel: Ange värde")
    audit(page, "pairs: a row half filled (JavaScript)")
    page.get_by_role("button", name="Ta bort uppgift 2").click()
    expect(page.get_by_role("group", name="Uppgift 2")).to_have_count(0)
    audit(page, "pairs: rows (JavaScript)")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("[data-formkit-check]")).to_contain_text("assKickCount")
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^REGISTRERING-"))
    text = delivered(smtp_server)
    assert "assKickCount" in text and "infinity" in text and "favouriteFood" not in text


def test_without_javascript_blank_rows_are_filled_and_arrive_in_the_docx(browser, server, smtp_server):
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    page = context.new_page()
    inspector = browser.new_page()
    page.goto(server.url + "/registrering/")
    page.get_by_label("First name").fill("Chuck")
    page.get_by_role("group", name="Uppgift 1").get_by_label("Namn").fill("assKickCount")
    page.get_by_role("group", name="Uppgift 3").get_by_label("Namn").fill("favouriteFood")
    page.get_by_role("group", name="Uppgift 3").get_by_label("Värde").fill("tacos")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator(".formkit-summary")).to_contain_text("Ange värde (Uppgift 1)")
    expect(page.get_by_role("group", name="Uppgift 3").get_by_label("Värde")).to_have_value("tacos")
    audit_without_javascript(page, inspector, "pairs: errors (no JavaScript)")
    page.get_by_label("Last name").fill("Norris")
    page.get_by_role("group", name="Uppgift 1").get_by_label("Värde").fill("infinity")
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^REGISTRERING-"))
    text = delivered(smtp_server)
    assert "assKickCount" in text and "infinity" in text and "favouriteFood" in text and "tacos" in text
    inspector.close()
    context.close()
