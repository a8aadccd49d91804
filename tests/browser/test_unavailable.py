"""When the mail server refuses in serverless mode, nothing the user typed is lost, with or without JS."""

import re
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from test_faults import Misbehaving, Smtp

from browser.test_submit import continue_and_send, fill_report
from handler.app import create_app
from support import LiveServer


@pytest.fixture
def refusing_site(config, built_site, tmp_path):
    """The built site and a serverless handler in front of an SMTP server that answers 451 until told."""
    inbox = Misbehaving(["4xx"] * 1000)
    public = tmp_path / "public"
    shutil.copytree(built_site, public)
    with Smtp(inbox) as smtp:
        server = LiveServer(create_app({**config, "OUTBOX_DIR": "", "SMTP_PORT": smtp.port, "PUBLIC_DIR": str(public)}))
        server.inbox = inbox
        yield server
        server.stop()


def test_without_javascript_a_refused_report_comes_back_filled_in_and_can_be_sent_again(browser, refusing_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(refusing_site.url + "/rapportera/")
    fill_report(page)

    continue_and_send(page)

    expect(page.get_by_role("alert")).to_contain_text("formuläret är inte skickat")
    expect(page).to_have_title(re.compile(r"^Inte skickat: "))
    expect(page.get_by_role("group", name="Verksamhet 1").get_by_label("Chefens e-post")).to_have_value(
        "rektor@solna.se"
    )
    section = page.get_by_role("group", name="3. Beskrivning av händelsen från rapporterande verksamhet")
    expect(section.get_by_label("Händelsen")).to_have_value("- Remiss i mars\n- Inget svar")

    refusing_site.inbox.behaviour = []  # the mail server is back
    continue_and_send(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Tack, din rapport är skickad")
    assert len(refusing_site.inbox.wait_for(3)) == 3  # the one unit's report, the copy for information, the receipt
    context.close()


def test_the_page_of_a_refused_report_has_no_accessibility_violations(page, refusing_site):
    page.route("**/formkit.js", lambda route: route.abort())  # the form posts natively; axe still runs
    page.goto(refusing_site.url + "/rapportera/")
    fill_report(page)

    continue_and_send(page)

    expect(page.get_by_role("alert")).to_contain_text("formuläret är inte skickat")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_with_javascript_a_refused_report_stays_in_the_form_with_a_message(page, refusing_site):
    page.goto(refusing_site.url + "/rapportera/")
    fill_report(page)

    continue_and_send(page)

    expect(page.locator("[data-formkit-summary]")).to_contain_text("Försök igen om 30 sekunder")
    expect(page.get_by_role("group", name="Verksamhet 1").get_by_label("Chefens e-post")).to_have_value(
        "rektor@solna.se"
    )
    assert refusing_site.inbox.messages == []
