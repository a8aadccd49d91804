"""Conditional questions in Chromium: shown and hidden as answers change (keyboard only), never sent or named when
hidden; without JavaScript all shown with a hint, and the server keeps only the answers that apply. Axe in each
state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from projects import project_with

from browser.a11y import audit, audit_without_javascript
from support import attachment, docx_text

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "conditions"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the conditional form and its page added, built once."""
    files = {
        f"{folder}/{name}.{end}": FIXTURE / folder / f"{name}.{end}"
        for name in ("husdjur", "mat")
        for folder, end in (("schema", "json"), ("docs", "md"))
    }
    return project_with(tmp_path_factory.mktemp("project"), files)


def question(page: Page, label: str):
    """Return the wrapper of a question by its label."""
    return page.locator("[data-formkit-field]").filter(has=page.get_by_label(label, exact=True))


def send(page: Page, checked: bool = False) -> None:
    """Send from the form (through its check page), or from the check page when it is `checked` already."""
    if not checked:
        page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^(HUSDJUR|MAT)-\d{8}-"))


def test_with_javascript_questions_appear_and_disappear_by_keyboard_and_hidden_ones_are_not_sent(
    page: Page, server, smtp_server
):
    page.goto(server.url + "/husdjur/")
    animal, phone = page.get_by_label("Vilket djur har du?"), page.get_by_label("Telefonnummer")
    expect(animal).to_be_hidden()
    expect(page.get_by_label("Postadress")).to_be_hidden()
    audit(page, "/husdjur/ conditional questions hidden")

    page.get_by_label("Ditt namn").fill("Eva")
    page.get_by_label("Ditt namn").press("Tab")
    page.keyboard.press("Space")  # the first radio, "Ja"
    expect(page.get_by_label("Ja", exact=True)).to_be_focused()
    expect(animal).to_be_visible()
    expect(page.locator("[data-formkit-status]")).to_have_text("Ny fråga: ”Vilket djur har du?”.")
    audit(page, "/husdjur/ conditional question shown")

    page.keyboard.press("Tab")
    expect(animal).to_be_focused()
    page.keyboard.type("Katt")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")  # "Nej": the animal is not asked, tips are
    expect(page.get_by_label("Nej", exact=True)).to_be_focused()
    expect(animal).to_be_hidden()
    expect(animal).to_be_disabled()
    expect(page.locator("[data-formkit-status]")).to_have_text(
        "Ny fråga: ”Jag vill ha tips om att skaffa husdjur”. ”Vilket djur har du?” behövs inte längre och är dold."
    )

    page.get_by_label("Telefon", exact=True).check()
    phone.fill("08-123 45")
    page.get_by_label("Meddelande (valfritt)", exact=True).fill("Hej")
    page.get_by_label("Brev", exact=True).check()  # the number typed is no longer asked for
    expect(phone).to_be_hidden()
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link")).to_have_text(["Ange postadress", "Ange meddelandets ämne"])
    audit(page, "/husdjur/ errors on the questions that apply")

    page.get_by_label("Telefon", exact=True).check()  # Postadress is hidden: its error leaves the summary
    expect(summary.get_by_role("link")).to_have_text(["Ange meddelandets ämne"])
    page.get_by_label("Brev", exact=True).check()
    page.get_by_label("Postadress").fill("Storgatan 1")
    page.get_by_label("Meddelandets ämne").fill("Katten")
    send(page)

    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Storgatan 1" in text and "Nej" in text
    assert "08-123 45" not in text and "Telefonnummer" not in text and "Vilket djur har du?" not in text


def test_without_javascript_every_question_is_shown_with_when_to_answer_and_answers_that_do_not_apply_are_dropped(
    browser, page: Page, server, smtp_server
):
    context = browser.new_context(java_script_enabled=False)
    nojs = context.new_page()
    nojs.goto(server.url + "/husdjur/")
    expect(nojs.get_by_label("Vilket djur har du?")).to_be_visible()
    expect(question(nojs, "Vilket djur har du?")).to_contain_text("Svara bara om ”Har du husdjur?” är ”Ja”.")
    expect(question(nojs, "Postadress")).to_contain_text("Svara bara om ”Hur vill du bli kontaktad?” är ”Brev”.")
    audit_without_javascript(nojs, page, "/husdjur/ every conditional question shown (no JavaScript)")

    nojs.get_by_label("Ditt namn").fill("Eva")
    nojs.get_by_label("Ja", exact=True).check()
    nojs.get_by_label("Telefonnummer").fill("08-123 45")  # "Telefon" is not chosen: this does not apply
    nojs.get_by_role("button", name="Fortsätt").click()
    expect(nojs.locator("[data-formkit-summary]").get_by_role("link")).to_have_text(
        ["Svara på frågan ”Vilket djur har du?”"]
    )
    audit_without_javascript(nojs, page, "/husdjur/ errors (no JavaScript)")

    nojs.get_by_label("Vilket djur har du?").fill("Katt")
    nojs.get_by_label("Jag vill ha tips om att skaffa husdjur").check()  # "Nej" is not chosen either
    nojs.get_by_role("button", name="Fortsätt").click()
    check = nojs.locator("[data-formkit-check]")
    expect(check).to_contain_text("Katt")
    expect(check).not_to_contain_text("Telefonnummer")
    send(nojs, checked=True)

    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Katt" in text
    assert "08-123 45" not in text and "Jag vill ha tips om att skaffa husdjur" not in text
    context.close()


def test_choices_offered_only_for_one_answer_appear_and_disappear_and_a_hidden_choice_is_not_kept(page: Page, server):
    page.goto(server.url + "/mat/")
    food = page.get_by_role("group", name="Vad äter djuret?")
    expect(food).to_be_hidden()

    page.get_by_label("Katt", exact=True).check()
    expect(food.get_by_label("Kött")).to_be_visible()
    expect(food.get_by_label("Insekter")).to_be_hidden()
    food.get_by_label("Kött").check()
    page.get_by_label("Fisk", exact=True).first.check()  # the animal: its choices change, "Kött" is not kept
    expect(food.get_by_label("Kött")).to_be_hidden()
    expect(food.get_by_label("Maskar")).to_be_visible()
    expect(page.locator("[data-formkit-status]")).to_have_text("Svarsalternativen för ”Vad äter djuret?” har ändrats.")
    audit(page, "/mat/ choices offered for one answer")
    page.get_by_role("button", name="Fortsätt").click()

    summary = page.locator("[data-formkit-summary]")
    expect(summary.get_by_role("link")).to_have_text(["Välj ett svar på frågan ”Vad äter djuret?”"])
    food.get_by_label("Maskar").check()
    send(page)


def test_focus_in_a_question_that_is_hidden_moves_to_the_question_before_it(page: Page, server):
    page.goto(server.url + "/husdjur/")
    page.get_by_label("Ja", exact=True).check()
    page.get_by_label("Vilket djur har du?").focus()

    # A change the user did not type (a draft opened from a file fills the answers in the same way).
    page.evaluate("""() => {
        const no = document.querySelector('input[name=husdjur][value=nej]');
        no.checked = true;
        no.dispatchEvent(new Event('change', {bubbles: true}));
    }""")

    expect(page.get_by_label("Vilket djur har du?")).to_be_hidden()
    expect(page.get_by_label("Nej", exact=True)).to_be_focused()
