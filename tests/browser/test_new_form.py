"""Adding a form is files only: a new schema and a page in a copy of the project, built, served, filled in
Chromium with and without JavaScript, and delivered as e-mail with a DOCX. No code changes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with

from handler.check import check_project
from support import attachment, docx_text

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "new-form"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the new form's schema and page added, built once."""
    files = {
        "schema/traff-anmalan.json": FIXTURE / "schema/traff-anmalan.json",
        "docs/traff.md": FIXTURE / "docs/traff.md",
    }
    return project_with(tmp_path_factory.mktemp("project"), files)


def fill(page: Page, rows_by_js: bool) -> None:
    """Fill every kind of field by its visible label."""
    page.get_by_label("Namn", exact=True).fill("Eva Ek")
    page.get_by_label("E-post", exact=True).fill("eva.ek@solna.se")
    page.get_by_label("Önskat datum").fill("2026-12-03")
    page.get_by_label("Antal deltagare").fill("3")
    page.get_by_role("group", name="Verksamhet").get_by_label("Barn- och ungdomspsykiatri").check()
    page.get_by_label("Kommun").select_option(label="Täby kommun")
    page.get_by_label("Samverkan").check()
    page.get_by_label("Elevhälsa").check()
    page.get_by_label("Meddelande").fill("- Vegetarisk lunch\n- Hörslinga")
    contact = page.get_by_role("group", name="Kontaktperson på plats")
    contact.get_by_label("Kontaktpersonens namn").fill("Carl Chef")
    contact.get_by_label("Telefonnummer").fill("08-123 456 78")
    page.get_by_role("group", name="Kollega 1").get_by_label("Kollegans namn").fill("Anna Andersson")
    page.get_by_role("group", name="Kollega 1").get_by_label("Kollegans e-post").fill("anna@solna.se")
    if rows_by_js:
        page.get_by_role("button", name="Lägg till kollega").click()
    page.get_by_role("group", name="Kollega 2").get_by_label("Kollegans namn").fill("Bo Berg")
    page.get_by_label("Jag godkänner att uppgifterna sparas till träffen").check()


def assert_delivered(smtp_server, reference: str) -> None:
    report = smtp_server.inbox.wait_for(1)[0]
    assert report["To"].addresses[0].addr_spec == "formular@formkit.localhost"  # FORMKIT_DEFAULT_TO
    assert reference in report["Subject"]
    name, data = attachment(report)
    text = docx_text(data)
    assert name == f"{reference}.docx"
    for answer in (
        "Anmälan till nätverksträff",
        "Barn- och ungdomspsykiatri",
        "Täby kommun",
        "Samverkan, Elevhälsa",
        "Vegetarisk lunch",
        "Kontaktperson på plats",
        "Carl Chef",
        "Kollegans e-post",
        "Anna Andersson",
        "Bo Berg",
    ):
        assert answer in text


def test_the_project_with_the_new_files_passes_the_check(project):
    checked = check_project(project / "schema")

    assert checked.problems == [] and "traff-anmalan" in checked.forms
    assert checked.pages["traff-anmalan"] == [(project / "docs" / "traff.md", 9)]


def test_a_new_form_added_as_files_is_filled_in_and_arrives_as_mail(page: Page, server, smtp_server):
    page.goto(server.url + "/traff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmäl dig till nätverksträffen")

    fill(page, rows_by_js=True)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("button", name="Skicka", exact=True).click()

    reference = page.locator("[data-formkit-reference]")
    expect(reference).to_have_text(re.compile(r"^TRAFF-\d{8}-[0-9A-Z]{4,}$"))
    assert_delivered(smtp_server, reference.inner_text())


def test_without_javascript_the_new_form_posts_and_arrives_as_mail(browser, server, smtp_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/traff/")

    fill(page, rows_by_js=False)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("button", name="Skicka", exact=True).click()

    expect(page).to_have_url(re.compile(r"/api/forms/traff-anmalan/kvitto/TRAFF-"))
    assert_delivered(smtp_server, page.locator("[data-formkit-reference]").inner_text())
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_every_kind_of_field_is_checked_with_and_without_javascript(browser, server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(server.url + "/traff/")

    page.get_by_label("E-post", exact=True).fill("inte en adress")
    page.get_by_label("Antal deltagare").fill("25")
    page.get_by_label("Önskat datum").fill("2026-12-03")
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Ange namn",
            "Ange e-postadressen i rätt format, till exempel namn@kommun.se",
            "Antal deltagare måste vara 20 eller mindre",
            "Välj verksamhet",
            "Du behöver godkänna att uppgifterna sparas",
        ]
    )
    expect(page.get_by_label("Antal deltagare")).to_have_value("25")
    context.close()


def test_a_form_changed_while_the_page_was_open_says_so_and_keeps_what_was_typed(page: Page, server, project, tmp_path):
    page.goto(server.url + "/traff/")
    fill(page, rows_by_js=True)
    changed = tmp_path / "schema"
    shutil.copytree(project / "schema", changed)
    schema = json.loads((changed / "traff-anmalan.json").read_text(encoding="utf-8"))
    schema["properties"]["telefon"] = {"type": "string", "title": "Ditt telefonnummer"}
    schema["required"].append("telefon")
    (changed / "traff-anmalan.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    server.app.extensions["formkit.forms"] = check_project(changed, project / "docs").ok()  # the editor published

    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    expect(summary.locator("[data-formkit-notice]")).to_have_text(
        re.compile(r"^Formuläret har ändrats sedan du öppnade sidan.*Det du har skrivit finns kvar")
    )
    expect(summary.get_by_role("link")).to_have_text(["Ange ditt telefonnummer"])
    expect(page.get_by_label("Namn", exact=True)).to_have_value("Eva Ek")
    expect(page.get_by_role("group", name="Kollega 2").get_by_label("Kollegans namn")).to_have_value("Bo Berg")
