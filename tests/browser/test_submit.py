"""A person fills in the BUS form in Chromium, checks the answers and sends them, and the report arrives by e-mail."""

import re

from playwright.sync_api import Page, expect

from support import attachment, docx_text

CONTINUE, SEND = "Fortsätt", "Skicka BUS-avvikelsen"  # the form's own button; the check page's


def continue_and_send(page: Page) -> None:
    """Go on from the form to the check page and send from there, as a person does (with or without JavaScript)."""
    page.get_by_role("button", name=CONTINUE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar innan du skickar")
    page.get_by_role("button", name=SEND).click()


def fill_report(page: Page) -> None:
    """Fill every field of the BUS form by its visible label, as a person would."""
    page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen").fill("Remissen besvarades inte")
    page.get_by_label("Samverkan enligt BUS-överenskommelsen i stort").check()
    row = page.get_by_role("group", name="Verksamhet 1")
    row.get_by_label("Enhet", exact=True).fill("Björkskolan")
    row.get_by_label("Verksamhetstyp").select_option(label="Grundskola")
    row.get_by_label("Huvudman").select_option(label="Solna stad")
    row.get_by_label("Chefens e-post").fill("rektor@solna.se")
    section = page.get_by_role("group", name="3. Beskrivning av händelsen från rapporterande verksamhet")
    section.get_by_label("Händelsen").fill("- Remiss i mars\n- Inget svar")
    section.get_by_label("Förslag till åtgärd").fill("Gemensamt möte")
    contact = page.get_by_role("group", name="Kontaktperson som vid behov kan ge kompletterande uppgifter")
    contact.get_by_label("Namn").fill("Anna Andersson")
    contact.get_by_label("Telefonnummer").fill("08-123 456 78")
    reporter = page.get_by_role("group", name="Kontaktuppgifter till rapporterande verksamhet")
    reporter.get_by_label("Datum för rapportering").fill("2026-11-20")
    reporter.get_by_label("Rapporterande enhet").fill("Elevhälsan Solna")
    reporter.get_by_label("Verksamhetstyp").select_option(label="Grundskola")
    reporter.get_by_label("Huvudman").select_option(label="Solna stad")
    reporter.get_by_label("Kontaktperson").fill("Eva Ek")
    reporter.get_by_label("E-post").fill("eva.ek@solna.se")
    reporter.get_by_label("Telefonnummer").fill("08-746 10 00")
    manager = page.get_by_role("group", name="Ansvarig chef vid rapporterande verksamhet")
    manager.get_by_label("Namn enhetschef").fill("Carl Chef")
    manager.get_by_label("Enhet (valfritt)", exact=True).fill("Elevhälsan")
    manager.get_by_label("E-post").fill("carl.chef@solna.se")
    manager.get_by_label("Telefonnummer").fill("08-746 10 01")


def test_a_report_filled_in_by_label_is_sent_and_arrives_with_its_document(page: Page, live_server, smtp_server):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Rapportera en BUS-avvikelse").first.click()
    expect(page).to_have_url(re.compile(r"/rapportera/$"))

    fill_report(page)
    continue_and_send(page)

    reference = page.locator("[data-formkit-reference]")
    expect(reference).to_have_text(re.compile(r"^BUS-\d{8}-[0-9A-Z]{4,}$"))
    report = smtp_server.inbox.wait_for(2)[0]
    assert reference.inner_text() in report["Subject"]
    _, data = attachment(report)
    text = docx_text(data)
    for answer in ("Remissen besvarades inte", "Björkskolan", "Solna stad", "Carl Chef", "Anna Andersson"):
        assert answer in text


def test_without_javascript_the_form_posts_and_shows_the_receipt_page(browser, live_server, smtp_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/rapportera/")

    fill_report(page)
    continue_and_send(page)

    expect(page).to_have_url(re.compile(r"/api/forms/bus-avvikelse/kvitto/BUS-"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack, din rapport är skickad")
    reference = page.locator("[data-formkit-reference]").inner_text()
    assert reference in smtp_server.inbox.wait_for(2)[0]["Subject"]
    context.close()
