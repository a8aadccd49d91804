"""Alternatives in Chromium: a form with a choice at the root and one in a group, in a copy of the project, and one
whose alternatives share field names.

With JavaScript only the chosen alternative's fields are shown and sent, switching by keyboard is announced;
without JavaScript every alternative's fields are shown and the server keeps the chosen one's. Errors name
only fields the user can see, and axe is clean in every state.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import attachment, docx_text

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "alternatives"
PAGE = "/kontaktval/"
NONE_CHOSEN = ["Välj ett alternativ under ”Identifiering”", "Välj ett alternativ"]  # the group's, then the root's


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the alternatives form and its page added, built once."""
    files = {
        f"{folder}/{name}.{end}": FIXTURE / folder / f"{name}.{end}"
        for name in ("kontaktval", "kontaktlista", "anstallning")
        for folder, end in (("schema", "json"), ("docs", "md"))
    }
    return project_with(tmp_path_factory.mktemp("project"), files)


def panel(page: Page, radio_id: str):
    return page.locator(f"#{radio_id}-fields")


def test_with_javascript_only_the_chosen_alternative_is_shown_switched_by_keyboard_and_sent(
    page: Page, server, smtp_server
):
    page.goto(server.url + PAGE)
    page.get_by_label("Ditt namn").fill("Eva Ek")
    for radio in ("f-_alternativ-1", "f-_alternativ-2", "f-identifiering-_alternativ-1"):
        expect(panel(page, radio)).to_be_hidden()  # nothing chosen: no alternative's questions yet
    audit(page, "alternatives: none chosen")

    page.locator("#f-_alternativ-1").focus()
    page.keyboard.press("Space")
    expect(panel(page, "f-_alternativ-1")).to_be_visible()
    page.get_by_label("E-postadress").fill("inte en adress")  # typed, then another alternative chosen
    page.locator("#f-_alternativ-1").focus()
    page.keyboard.press("ArrowDown")

    expect(page.locator("#f-_alternativ-2")).to_be_checked()
    expect(page.locator("#f-_alternativ-2")).to_be_focused()
    expect(panel(page, "f-_alternativ-2")).to_be_visible()
    expect(panel(page, "f-_alternativ-1")).to_be_hidden()
    expect(page.get_by_label("E-postadress")).to_be_disabled()
    expect(page.locator("[data-formkit-status]")).to_have_text("Frågorna för ”Telefon” visas under valet.")
    audit(page, "alternatives: switched by keyboard")

    page.get_by_label("Telefonnummer").fill("08-123 456 78")
    page.get_by_role("group", name="Identifiering").get_by_label("Med kod").check()
    page.get_by_label("Kod", exact=True).fill("1234")
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.get_by_role("button", name="Fortsätt").click()
    sent = posted.value.post_data
    assert "epost" not in sent and "fornamn" not in sent  # hidden fields are not sent
    assert "_alternativ=2" in sent and "telefon=" in sent

    check = page.locator("[data-formkit-check]")
    expect(check.locator("dt")).to_contain_text(["Ditt namn", "Valt alternativ", "Kod", "Valt alternativ"])
    expect(check.locator("dd.formkit-answers-value").nth(1)).to_have_text("Med kod")
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_be_visible()
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Telefon" in text and "08-123 456 78" in text and "Med kod" in text and "1234" in text
    assert "inte en adress" not in text


def test_with_javascript_errors_name_the_choice_then_only_the_chosen_alternatives_fields(page: Page, server):
    page.goto(server.url + PAGE)
    page.get_by_label("Ditt namn").fill("Eva Ek")
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link")).to_have_text(NONE_CHOSEN)
    audit(page, "alternatives: errors, none chosen")
    summary.get_by_role("link").nth(1).click()
    expect(page.locator("#f-_alternativ-1")).to_be_focused()

    page.keyboard.press("Space")  # "E-post", its address left empty
    page.get_by_role("group", name="Identifiering").get_by_label("Med namn").check()
    page.get_by_role("button", name="Fortsätt").click()

    expect(summary.get_by_role("link")).to_have_text(["Ange förnamn", "Ange e-postadress"])
    expect(page.locator("#f-telefon-error")).to_be_hidden()
    audit(page, "alternatives: errors in the chosen alternatives")


def test_without_javascript_every_alternative_is_shown_and_only_the_chosen_one_kept(browser, server, smtp_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    inspector = browser.new_page()
    page.goto(server.url + PAGE)
    every = ("f-_alternativ-1", "f-_alternativ-2", "f-identifiering-_alternativ-1", "f-identifiering-_alternativ-2")
    for radio in every:
        expect(panel(page, radio)).to_be_visible()
    audit_without_javascript(page, inspector, "alternatives without JavaScript: all shown")

    page.get_by_label("Ditt namn").fill("Eva Ek")
    page.get_by_role("button", name="Fortsätt").click()
    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link")).to_have_text(NONE_CHOSEN)
    assert summary.get_by_role("link").nth(1).get_attribute("href") == "#f-_alternativ-1"
    audit_without_javascript(page, inspector, "alternatives without JavaScript: errors")

    page.get_by_label("E-postadress").fill("inte en adress")  # in the alternative not chosen: dropped
    page.locator("#f-_alternativ-2").check()
    page.get_by_label("Telefonnummer").fill("08-123 456 78")
    page.get_by_role("group", name="Identifiering").get_by_label("Med namn").check()
    page.get_by_label("Förnamn").fill("Eva")
    page.get_by_label("Kod", exact=True).fill("fel")  # dropped too, though it breaks the pattern
    page.get_by_role("button", name="Fortsätt").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Kontrollera"))
    expect(page.locator("dd.formkit-answers-value")).to_contain_text(["Eva Ek", "Med namn", "Eva", "Telefon"])
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page).to_have_url(re.compile(r"/api/forms/kontaktval/kvitto/"))
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Med namn" in text and "Eva" in text and "Telefon" in text
    assert "inte en adress" not in text and "fel" not in text.split()
    inspector.close()
    context.close()


def test_a_draft_keeps_the_choice_and_shows_its_questions_after_a_reload(page: Page, server):
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the changed form?" on reload
    page.goto(server.url + PAGE)
    page.locator("#f-_alternativ-2").check()
    page.get_by_label("Telefonnummer").fill("08-123 456 78")
    page.get_by_role("group", name="Identifiering").get_by_label("Med kod").check()
    page.wait_for_function("Object.keys(sessionStorage).some(k => k.startsWith('formkit:draft:kontaktval'))")

    page.reload()

    expect(page.locator("#f-_alternativ-2")).to_be_checked()
    expect(page.get_by_label("Telefonnummer")).to_have_value("08-123 456 78")
    expect(panel(page, "f-_alternativ-2")).to_be_visible()
    expect(panel(page, "f-_alternativ-1")).to_be_hidden()
    expect(panel(page, "f-identifiering-_alternativ-2")).to_be_visible()
    expect(page.get_by_label("E-postadress")).to_be_disabled()
    audit(page, "alternatives: a draft restored")


def test_each_row_chooses_its_own_alternative_and_sends_only_its_fields(page: Page, server, smtp_server):
    page.goto(server.url + "/kontaktlista/")
    first = page.get_by_role("group", name="Kontakt 1")
    first.get_by_label("Namn").fill("Eva Ek")
    first.get_by_label("Via telefon").check()
    first.get_by_label("Telefon", exact=True).fill("08-123 456 78")
    page.get_by_role("button", name="Lägg till kontakt").click()

    second = page.get_by_role("group", name="Kontakt 2")
    expect(second.get_by_label("Via e-post")).not_to_be_checked()
    expect(panel(page, "f-kontakter-1-_alternativ-1")).to_be_hidden()
    expect(panel(page, "f-kontakter-1-_alternativ-2")).to_be_hidden()
    second.get_by_label("Namn").fill("Bo Berg")
    second.get_by_label("Via e-post").check()
    expect(panel(page, "f-kontakter-1-_alternativ-1")).to_be_visible()
    expect(panel(page, "f-kontakter-0-_alternativ-2")).to_be_visible()  # the first row keeps its own choice
    assert second.get_by_label("Via e-post").get_attribute("aria-controls") == "f-kontakter-1-_alternativ-1-fields"
    audit(page, "alternatives in rows: each row switched")
    second.get_by_label("E-post", exact=True).fill("bo@solna.se")

    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.get_by_role("button", name="Fortsätt").click()
    sent = posted.value.post_data
    assert "kontakter.0.epost" not in sent and "kontakter.1.telefon" not in sent
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_be_visible()
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Via telefon" in text and "08-123 456 78" in text and "Via e-post" in text and "bo@solna.se" in text


def test_with_javascript_a_shared_field_is_the_chosen_alternatives_switched_by_keyboard(
    page: Page, server, smtp_server
):
    page.goto(server.url + "/anstallning/")
    page.get_by_label("Ditt namn").fill("Eva Ek")
    page.locator("#f-anstallning-_alternativ-1").focus()
    page.keyboard.press("Space")
    page.get_by_label("Yrkestitel").fill("Säljare")  # typed, then the other alternative chosen
    page.locator("#f-anstallning-_alternativ-1").focus()
    page.keyboard.press("ArrowDown")

    expect(page.locator("#f-anstallning-_alternativ-2")).to_be_checked()
    expect(page.get_by_label("Yrkestitel")).to_be_disabled()
    page.get_by_role("button", name="Fortsätt").click()
    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link")).to_have_text(["Ange tjänst", "Ange skolans namn"])
    summary.get_by_role("link").first.click()
    expect(page.locator("#f-anstallning-_alternativ2-titel")).to_be_focused()
    audit(page, "shared names: errors in the chosen alternative")

    page.keyboard.type("Lärare")
    page.get_by_label("Skolans namn").fill("Solna skola")
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.get_by_role("button", name="Fortsätt").click()
    sent = posted.value.post_data
    assert "_alternativ1.titel" not in sent and "anstallning._alternativ2.titel=L%C3%A4rare" in sent
    expect(page.locator("dd.formkit-answers-value")).to_contain_text(["Eva Ek", "Skola", "Lärare"])
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_be_visible()
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Skola" in text and "Lärare" in text and "Solna skola" in text and "Säljare" not in text


def test_without_javascript_a_shared_field_of_each_alternative_is_typed_apart_and_only_the_chosen_kept(
    browser, server, smtp_server
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/anstallning/")
    page.get_by_label("Ditt namn").fill("Eva Ek")
    page.get_by_label("Yrkestitel").fill("Säljare")
    page.get_by_label("Tjänst").fill("Lärare")
    page.locator("#f-anstallning-_alternativ-2").check()
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")  # "Skola" chosen: its school is missing, not the company
    expect(summary.get_by_role("link")).to_have_text(["Ange skolans namn"])
    expect(page.get_by_label("Tjänst")).to_have_value("Lärare")
    expect(page.get_by_label("Yrkestitel")).to_have_value("Säljare")
    page.get_by_label("Skolans namn").fill("Solna skola")
    page.get_by_role("button", name="Fortsätt").click()

    expect(page.locator("dd.formkit-answers-value")).to_contain_text(["Eva Ek", "Skola", "Lärare"])
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page).to_have_url(re.compile(r"/api/forms/anstallning/kvitto/"))
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Lärare" in text and "Solna skola" in text and "Säljare" not in text
    context.close()
