"""Drafts without server state, at 320 and 1280 px: what is typed survives a reload and back/forward in the tab
(sessionStorage, never localStorage), can be saved as a file and opened again (checked against the form and its
version), is cleared after sending and by "Rensa formuläret", and leaving a changed form asks first. Without
JavaScript there are no drafts: the page says nothing about them."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from browser.a11y import audit
from browser.test_submit import continue_and_send, fill_report

SIZES = {"320": {"width": 320, "height": 640}, "1280": {"width": 1280, "height": 800}}
BOTH = pytest.mark.parametrize("size", SIZES, ids=[f"{size}px" for size in SIZES])
CONTACT = "Kontaktperson som vid behov kan ge kompletterande uppgifter"
STORED = """() => ({session: Object.keys(sessionStorage).filter(k => k.startsWith('formkit:')),
                  local: Object.keys(localStorage).length})"""


class Dialogs:
    """Answers the page's dialogs (the leave question, the confirmations) as told, and keeps what they said."""

    def __init__(self, page: Page, accept: bool = True):
        self.seen: list[tuple[str, str]] = []
        self.accept = accept
        page.on("dialog", self.answer)

    def answer(self, dialog) -> None:
        self.seen.append((dialog.type, dialog.message))
        dialog.accept() if self.accept else dialog.dismiss()

    def of(self, kind: str) -> list[str]:
        return [message for seen, message in self.seen if seen == kind]


def typed(open_context, live_server, size: str) -> tuple[Page, Dialogs]:
    """The BUS form with every field filled and a second unit added, as a person types it."""
    page = open_context(viewport=SIZES[size]).new_page()
    dialogs = Dialogs(page)
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_role("button", name="Lägg till verksamhet").click()
    row = page.get_by_role("group", name="Verksamhet 2")
    row.get_by_label("Enhet", exact=True).fill("BUP Solna")
    row.get_by_label("Verksamhetstyp").select_option(label="Barn- och ungdomspsykiatri")
    row.get_by_label("Huvudman").select_option(label="Region Stockholm")
    row.get_by_label("Chefens e-post").fill("chef.bup@regionstockholm.se")
    return page, dialogs


def assert_all_there(page: Page) -> None:
    """Every kind of answer is back: added rows, autocomplete="off" fields, choices, long texts and their count."""
    row = page.get_by_role("group", name="Verksamhet 2")
    expect(row.get_by_label("Enhet", exact=True)).to_have_value("BUP Solna")
    expect(row.get_by_label("Enhet", exact=True)).to_have_attribute("autocomplete", "off")
    expect(row.get_by_label("Chefens e-post")).to_have_value("chef.bup@regionstockholm.se")
    expect(row.get_by_label("Huvudman")).to_have_value("region-stockholm")
    expect(page.get_by_role("group", name=CONTACT).get_by_label("Namn")).to_have_value("Anna Andersson")
    expect(page.get_by_label("Samverkan enligt BUS-överenskommelsen i stort")).to_be_checked()
    expect(page.get_by_role("group", name="Verksamhet 1").get_by_label("Huvudman")).to_have_value("solna")
    expect(page.get_by_label("Händelsen", exact=True)).to_have_value("- Remiss i mars\n- Inget svar")
    expect(page.locator("#f-handelsetyp-count")).to_contain_text(re.compile(r"\b1\s?976\b"))  # the count agrees


@BOTH
def test_what_is_typed_survives_a_reload_and_back_and_forward_in_session_storage_only(open_context, live_server, size):
    page, dialogs = typed(open_context, live_server, size)

    page.reload()
    assert dialogs.of("beforeunload"), "reloading a changed form asks first"
    assert_all_there(page)
    stored = page.evaluate(STORED)
    assert stored["session"] == ["formkit:draft:bus-avvikelse:/rapportera/"] and stored["local"] == 0

    page.locator(".md-footer__link--next").click()  # the footer's "Nästa", under the form
    expect(page).not_to_have_url(re.compile(r"/rapportera/$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/rapportera/$"))
    assert_all_there(page)
    audit(page, f"/rapportera/ with a draft restored at {size} px")


@BOTH
def test_a_draft_saved_as_a_file_opens_again_and_the_form_can_be_cleared(open_context, live_server, size, tmp_path):
    page, dialogs = typed(open_context, live_server, size)

    with page.expect_download() as download:
        page.get_by_role("button", name="Spara utkast som fil").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    draft = json.loads(saved.read_text(encoding="utf-8"))
    assert re.fullmatch(r"utkast-bus-avvikelse-\d{4}-\d{2}-\d{2}\.json", saved.name)
    version = page.locator("form.formkit-form").get_attribute("data-formkit-version")
    assert (draft["form"], draft["version"]) == ("bus-avvikelse", version) and version
    assert ["verksamheter.1.enhet", "BUP Solna"] in draft["answers"]
    assert not any(name.startswith("_") for name, _ in draft["answers"]), "no token, version or honeypot in it"

    page.get_by_role("button", name="Rensa formuläret").click()
    assert dialogs.of("confirm") == ["Vill du rensa formuläret? Allt du har skrivit tas bort."]
    expect(page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen?")).to_have_value("")
    expect(page.get_by_role("group", name="Verksamhet 2")).to_have_count(0)
    expect(page.locator("[data-formkit-status]")).to_have_text("Formuläret är rensat.")
    assert page.evaluate(STORED)["session"] == []

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Öppna utkast").click()
    chooser.value.set_files(saved)

    expect(page.locator("[data-formkit-status]")).to_have_text(
        "Utkastet är öppnat. Kontrollera svaren innan du fortsätter."
    )
    assert_all_there(page)
    audit(page, f"/rapportera/ with a draft opened from a file at {size} px")


def test_clearing_asks_first_and_keeps_everything_when_the_answer_is_no(open_context, live_server):
    page, dialogs = typed(open_context, live_server, "1280")
    dialogs.accept = False

    page.get_by_role("button", name="Rensa formuläret").click()

    assert dialogs.of("confirm")
    assert_all_there(page)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"form": "bus-avvikelse-svar"}, "Utkastet är sparat från ett annat formulär (bus-avvikelse-svar)."),
        ({"version": "0123456789ab"}, "Utkastet är sparat från en annan version av formuläret."),
        ({"formkit": None}, "Filen är inte ett utkast som har sparats med knappen Spara utkast som fil."),
    ],
    ids=["another-form", "another-version", "not-a-draft"],
)
def test_a_draft_file_of_another_form_or_version_is_refused_with_a_clear_message(
    open_context, live_server, tmp_path, change, message
):
    page = open_context(viewport=SIZES["320"]).new_page()
    page.goto(live_server.url + "/rapportera/")
    version = page.locator("form.formkit-form").get_attribute("data-formkit-version")
    draft = {
        "formkit": "formkit-utkast",
        "form": "bus-avvikelse",
        "version": version,
        "answers": [["handelsetyp", "X"]],
    }
    file = tmp_path / "utkast.json"
    file.write_text(json.dumps({**draft, **change}), encoding="utf-8")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Öppna utkast").click()
    chooser.value.set_files(file)

    summary = page.locator("[data-formkit-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Utkastet kunde inte öppnas")
    expect(summary).to_contain_text(message)
    expect(page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen?")).to_have_value("")


def test_a_file_that_is_not_json_is_refused_too(open_context, live_server, tmp_path):
    page = open_context().new_page()
    page.goto(live_server.url + "/rapportera/")
    file = tmp_path / "rapport.json"
    file.write_bytes(b"\x00\xffnot json")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Öppna utkast").click()
    chooser.value.set_files(file)

    expect(page.locator("[data-formkit-summary]")).to_contain_text("Filen är inte ett utkast")


def test_the_draft_is_gone_after_sending_and_the_receipt_leaves_without_asking(open_context, live_server, smtp_server):
    page, dialogs = typed(open_context, live_server, "1280")

    continue_and_send(page)

    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-"))
    assert dialogs.of("beforeunload") == [], "sending is not leaving"
    assert page.evaluate(STORED)["session"] == []
    page.goto(live_server.url + "/rapportera/")
    expect(page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen?")).to_have_value("")
    expect(page.get_by_role("group", name="Verksamhet 2")).to_have_count(0)


def test_leaving_a_changed_form_asks_first_and_staying_keeps_it(open_context, live_server):
    page = open_context().new_page()
    dialogs = Dialogs(page, accept=False)
    page.goto(live_server.url + "/rapportera/")
    page.locator(".md-footer__link--next").click()
    expect(page).not_to_have_url(re.compile(r"/rapportera/$"))
    assert dialogs.of("beforeunload") == [], "an untouched form is left without a question"
    page.go_back()

    page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen?").fill("Remissen besvarades inte")
    page.locator(".md-footer__link--next").click()

    assert dialogs.of("beforeunload"), "a changed form asks before it is left"
    expect(page).to_have_url(re.compile(r"/rapportera/$"))
    expect(page.get_by_label("1. Vilken typ av händelse avser BUS-avvikelsen?")).to_have_value(
        "Remissen besvarades inte"
    )


def test_without_javascript_the_page_offers_no_drafts(open_context, live_server):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(live_server.url + "/rapportera/")

    expect(page.get_by_role("button", name="Spara utkast som fil")).to_have_count(0)
    expect(page.get_by_role("button", name="Rensa formuläret")).to_have_count(0)
    assert "utkast" not in page.locator("article").inner_text().lower()
