"""The whole loop in Chromium: a report is sent, its manager opens the link from the delivered e-mail,
answers, and the reporting unit's manager gets the answer as a Word document."""

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from support import attachment, docx_text

from .test_submit import fill_report

SECRETARIAT = {"BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"}


def send_report(page: Page, live_server, smtp_server) -> tuple[str, str]:
    """Send a report through the form; return its reference and the answer link from the delivered e-mail."""
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_role("button", name="Skicka BUS-avvikelsen").click()
    reference = page.locator("[data-formkit-reference]")
    expect(reference).to_have_text(re.compile(r"^BUS-"))
    report = smtp_server.inbox.wait_for(2)[0]
    assert "Svara senast" in report["Subject"]
    link = re.search(r"http://\S+/svara\?token=\S+", report.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(live_server.url + "/api/forms/bus-avvikelse-svar/svara?token=")
    return reference.inner_text(), link


def fill_answer(page: Page) -> None:
    """Fill the answer form by its visible labels, as the receiving unit's manager would."""
    page.get_by_label("Händelse", exact=True).fill("- Remissen kom fram i mars\n- Den blev liggande")
    page.get_by_label("Förbättringsåtgärder").fill("Veckovis genomgång av remisser.")
    contact = page.get_by_role("group", name="Kontaktuppgifter till ansvarig chef för mottagande verksamhet")
    contact.get_by_label("Datum för mottagande").fill("2026-11-25")
    contact.get_by_label("Namn enhetschef").fill("Berit Bup")
    contact.get_by_label("Enhet", exact=True).fill("BUP Solna")
    contact.get_by_label("E-post").fill("berit.bup@regionstockholm.se")
    contact.get_by_label("Telefonnummer").fill("08-123 000 00")


def check_answer_email(smtp_server, reference: str) -> None:
    answer = smtp_server.inbox.wait_for(3)[2]
    assert [a.addr_spec for a in answer["To"].addresses] == ["carl.chef@solna.se"]
    assert {a.addr_spec for a in answer["Cc"].addresses} == SECRETARIAT | {"berit.bup@regionstockholm.se"}
    assert reference in answer["Subject"]
    name, data = attachment(answer)
    assert name == f"{reference}-svar.docx"
    text = docx_text(data)
    for expected in ("Svar på BUS-avvikelse", reference, "Remissen kom fram i mars", "Veckovis genomgång", "Berit Bup"):
        assert expected in text


def test_the_receiving_manager_answers_through_the_link_in_the_report_email(page: Page, live_server, smtp_server):
    reference, link = send_report(page, live_server, smtp_server)

    page.goto(link)
    shown = page.get_by_label("Referens", exact=True)
    expect(shown).to_have_value(reference)
    expect(shown).to_have_attribute("readonly", "")
    assert Axe().run(page).violations_count == 0
    fill_answer(page)
    page.get_by_role("button", name="Skicka svaret").click()

    expect(page.get_by_role("heading", name="Tack, ditt svar är skickat")).to_be_visible()
    check_answer_email(smtp_server, reference)


def test_without_javascript_the_answer_is_sent_from_the_link_too(browser, page: Page, live_server, smtp_server):
    reference, link = send_report(page, live_server, smtp_server)
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()

    plain.goto(link)
    expect(plain.get_by_label("Referens", exact=True)).to_have_value(reference)
    fill_answer(plain)
    plain.get_by_role("button", name="Skicka svaret").click()

    expect(plain).to_have_url(re.compile(r"/api/forms/bus-avvikelse-svar/kvitto/SVAR-"))
    expect(plain.get_by_role("heading", level=1)).to_have_text("Tack, ditt svar är skickat")
    check_answer_email(smtp_server, reference)
    context.close()


def test_an_altered_link_is_refused_and_what_was_typed_stays(page: Page, live_server, smtp_server):
    reference, link = send_report(page, live_server, smtp_server)
    page.goto(link)
    fill_answer(page)
    token = page.locator("input[name=_token]")
    value = token.get_attribute("value")
    token.evaluate(
        "(input, value) => { input.value = value; }", "A" + value[1:] if value[0] != "A" else "B" + value[1:]
    )

    page.get_by_role("button", name="Skicka svaret").click()

    expect(page.locator("[data-formkit-summary]")).to_contain_text("Länken är inte giltig")
    expect(page.get_by_label("Förbättringsåtgärder")).to_have_value("Veckovis genomgång av remisser.")
    assert len(smtp_server.inbox.messages) == 2


def test_the_answer_page_in_the_menu_explains_how_to_answer_and_shows_no_form(page: Page, live_server, smtp_server):
    # Without the link from the report's e-mail an answer can never be sent: no form, but how to answer (issue 13).
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Svara på en BUS-avvikelse").first.click()
    expect(page).to_have_url(re.compile(r"/svara/$"))

    expect(page.get_by_role("heading", name="Svara via länken i e-postmeddelandet")).to_be_visible()
    expect(page.get_by_text("Svara direkt på e-postmeddelandet med rapporten")).to_be_visible()
    expect(page.locator("form.formkit-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Skicka svaret")).to_have_count(0)
    assert Axe().run(page).violations_count == 0
    assert len(smtp_server.inbox.messages) == 0
