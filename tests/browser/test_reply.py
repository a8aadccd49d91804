"""The whole loop in Chromium: a report reaches each receiving unit with a link of its own; each manager opens
their link from the delivered e-mail and answers, one of them twice (a supplement); the reporting unit's
manager gets each answer as a Word document naming the unit."""

import json
import re
import time
import urllib.request
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from browser.a11y import audit, audit_without_javascript
from support import attachment, docx_text, valid_answers

SECRETARIAT = {"BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"}
UNITS = {0: "Björkskolan", 1: "BUP Solna"}


def send_report(live_server, smtp_server) -> tuple[str, dict[int, str]]:
    """Send a report with two receiving units; return its reference and each unit's link from its own e-mail.

    Posted as a client would: how the report form is filled in and checked is tests/browser/test_submit.py's.
    """
    request = urllib.request.Request(
        live_server.url + "/api/forms/bus-avvikelse",
        data=urlencode(valid_answers()).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        reference = json.load(response)["reference"]
    messages = smtp_server.inbox.wait_for(4)
    links = {}
    for unit in UNITS:
        [report] = [m for m in messages if m["Message-ID"] == f"<{reference}.report.{unit}@formkit.localhost>"]
        assert "Svara senast" in report["Subject"] and UNITS[unit] in report["Subject"]
        links[unit] = re.search(r"http://\S+/svara\?token=\S+", report.get_body(("plain",)).get_content()).group(0)
        assert links[unit].startswith(live_server.url + "/api/forms/bus-avvikelse-svar/svara?token=")
    [copy] = [m for m in messages if m["Message-ID"] == f"<{reference}.copy@formkit.localhost>"]
    assert "/svara?token=" not in copy.get_body(("plain",)).get_content()
    return reference, links


def fill_answer(
    page: Page, name: str = "Berit Bup", text: str = "- Remissen kom fram i mars\n- Den blev liggande"
) -> None:
    """Fill the answer form by its visible labels, as the receiving unit's manager would ("Datum för mottagande"
    is filled in already)."""
    page.get_by_label("Händelse", exact=True).fill(text)
    page.get_by_label("Förbättringsåtgärder").fill("Veckovis genomgång av remisser.")
    contact = page.get_by_role("group", name="Kontaktuppgifter till ansvarig chef för mottagande verksamhet")
    contact.get_by_label("Namn enhetschef").fill(name)
    contact.get_by_label("Enhet", exact=True).fill("BUP Solna")
    contact.get_by_label("E-post").fill("berit.bup@regionstockholm.se")
    contact.get_by_label("Telefonnummer").fill("08-123 000 00")


def answers_in(smtp_server, count: int) -> dict[str, object]:
    """Wait for `count` answers; return them by subject."""
    for _ in range(100):
        answers = [m for m in smtp_server.inbox.messages if m["Message-ID"].startswith("<SVAR-")]
        if len(answers) >= count:
            return {m["Subject"]: m for m in answers}
        time.sleep(0.1)
    raise AssertionError(f"expected {count} answers, got {len(answers)}")


def check_answer_email(answer, reference: str, unit: str, kind: str = "svar") -> str:
    """Check an answer's routing and DOCX; return the DOCX's text."""
    assert [a.addr_spec for a in answer["To"].addresses] == ["carl.chef@solna.se"]
    assert {a.addr_spec for a in answer["Cc"].addresses} == SECRETARIAT | {"berit.bup@regionstockholm.se"}
    name, data = attachment(answer)
    slug = {"Björkskolan": "bjorkskolan", "BUP Solna": "bup-solna"}[unit]
    assert name == f"{reference}-{kind}-{slug}.docx"
    text = docx_text(data)
    assert reference in text and f"Svar från\n{unit}" in text
    return text


def test_two_receiving_units_answer_through_their_own_links_and_one_of_them_twice(
    browser, page: Page, live_server, smtp_server
):
    reference, links = send_report(live_server, smtp_server)
    arrived = "-".join([reference.split("-")[1][:4], reference.split("-")[1][4:6], reference.split("-")[1][6:]])

    # Björkskolan's manager, with JavaScript: the report read-only, the deadline, where the answer goes.
    page.goto(links[0])
    expect(page.get_by_label("Referens", exact=True)).to_have_value(reference)
    expect(page.get_by_label("Verksamhet som svarar")).to_have_value("Björkskolan")
    expect(page.get_by_label("Datum för mottagande")).to_have_value(arrived)
    answering = page.locator("[data-formkit-answering]")
    expect(answering.get_by_role("heading", name="Rapporten du svarar på")).to_be_visible()
    expect(answering.locator("[data-formkit-unit]")).to_have_text("Björkskolan")
    expect(answering.locator("[data-formkit-deadline]")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    expect(answering.locator("[data-formkit-answer-to]")).to_contain_text("carl.chef@solna.se")
    expect(answering.locator("[data-formkit-answer-to]")).to_contain_text("BUS-avvikelser@storsthlm.se")
    expect(answering).to_contain_text("Remiss till BUP besvarades inte")
    expect(answering.get_by_role("cell", name="chef.bup@regionstockholm.se")).to_be_visible()
    expect(page.get_by_role("heading", name="Ditt svar för Björkskolan")).to_be_visible()
    audit(page, f"/api/forms/bus-avvikelse-svar/svara {reference} unit 0: the report read-only (JavaScript)")
    fill_answer(page, name="Rektor Rut", text="- Vi fick remissen\n- Vi följde upp den")
    page.get_by_role("button", name="Skicka svaret").click()
    expect(page.get_by_role("heading", name="Tack, ditt svar är skickat")).to_be_visible()

    # BUP Solna's manager, without JavaScript: answers, then opens the link again and sends a supplement.
    plain_context = browser.new_context(java_script_enabled=False)
    plain, inspector = plain_context.new_page(), browser.new_page()
    plain.goto(links[1])
    expect(plain.get_by_label("Verksamhet som svarar")).to_have_value("BUP Solna")
    expect(plain.locator("[data-formkit-answered]")).to_have_count(0)
    fill_answer(plain)
    plain.get_by_role("button", name="Skicka svaret").click()
    expect(plain).to_have_url(re.compile(r"/api/forms/bus-avvikelse-svar/kvitto/SVAR-"))
    expect(plain.get_by_role("heading", level=1)).to_have_text("Tack, ditt svar är skickat")

    plain.goto(links[1])
    answered = plain.locator("[data-formkit-answered]")
    expect(answered).to_contain_text(re.compile(r"Besvarad \d{4}-\d{2}-\d{2}"))
    expect(answered).to_contain_text("komplettering")
    expect(plain.get_by_role("heading", name="Komplettera svaret för BUP Solna")).to_be_visible()
    audit_without_javascript(plain, inspector, "answer page of a unit that has answered: Besvarad (no JavaScript)")
    fill_answer(plain, text="- Vi har nu talat med skolan")
    plain.get_by_role("button", name="Skicka svaret").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Tack, ditt svar är skickat")
    plain_context.close()
    inspector.close()

    answers = answers_in(smtp_server, 3)
    assert sorted(answers) == sorted(
        [
            f"Svar på BUS-avvikelse {reference} från Björkskolan",
            f"Svar på BUS-avvikelse {reference} från BUP Solna",
            f"Komplettering av svar på BUS-avvikelse {reference} från BUP Solna",
        ]
    )
    first = check_answer_email(answers[f"Svar på BUS-avvikelse {reference} från Björkskolan"], reference, UNITS[0])
    assert "Vi följde upp den" in first and "Rektor Rut" in first and f"Datum för mottagande\n{arrived}" in first
    bup = check_answer_email(answers[f"Svar på BUS-avvikelse {reference} från BUP Solna"], reference, UNITS[1])
    assert "Den blev liggande" in bup and "Komplettering" not in bup
    supplement = answers[f"Komplettering av svar på BUS-avvikelse {reference} från BUP Solna"]
    text = check_answer_email(supplement, reference, UNITS[1], kind="komplettering")
    assert text.startswith("Komplettering av svar på BUS-avvikelse") and "Besvarad" in text
    assert "Vi har nu talat med skolan" in text
    assert supplement["In-Reply-To"] == f"<{reference}.report.1@formkit.localhost>"

    units = live_server.app.extensions["formkit.register"].units(reference)
    assert all(unit.answered_at for unit in units)
    assert units[0].supplemented_at is None and units[1].supplemented_at > units[1].answered_at


def test_an_altered_link_is_refused_and_what_was_typed_stays(page: Page, live_server, smtp_server):
    _, links = send_report(live_server, smtp_server)
    page.goto(links[0])
    fill_answer(page)
    token = page.locator("input[name=_token]")
    value = token.get_attribute("value")
    token.evaluate(
        "(input, value) => { input.value = value; }", "A" + value[1:] if value[0] != "A" else "B" + value[1:]
    )

    page.get_by_role("button", name="Skicka svaret").click()

    expect(page.locator("[data-formkit-summary]")).to_contain_text("Länken är inte giltig")
    expect(page.get_by_label("Förbättringsåtgärder")).to_have_value("Veckovis genomgång av remisser.")
    assert len(smtp_server.inbox.messages) == 4  # each unit's report, the copy and the receipt: no answer


def test_a_link_to_a_report_the_register_no_longer_holds_says_so(page: Page, live_server):
    from handler import reply

    links = live_server.app.extensions["formkit.settings"].links
    token = reply.issue(links, "bus-avvikelse-svar", reply.Link("BUS-20261122-NOSUCH", 0))

    response = page.goto(live_server.url + f"/api/forms/bus-avvikelse-svar/{reply.ROUTE}?token={token}")

    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapporten finns inte längre")
    expect(page.get_by_text("finns inte längre i registret")).to_be_visible()
    audit(page, "answer page of a report the register does not hold (410)")


def test_the_answer_page_in_the_menu_explains_how_to_answer_and_shows_no_form(page: Page, live_server, smtp_server):
    # Without the link from the report's e-mail an answer can never be sent: no form, but how to answer (issue 13).
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Svara på en BUS-avvikelse").first.click()
    expect(page).to_have_url(re.compile(r"/svara/$"))

    expect(page.get_by_role("heading", name="Svara via länken i e-postmeddelandet")).to_be_visible()
    expect(page.get_by_text("Svara direkt på e-postmeddelandet med rapporten")).to_be_visible()
    expect(page.locator("form.formkit-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Skicka svaret")).to_have_count(0)
    audit(page, "/svara/ without a link: how to answer, no form")
    assert len(smtp_server.inbox.messages) == 0
