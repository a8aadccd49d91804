"""The BUS form with the keyboard alone: a sensible tab order, a visible focus ring, rows that move focus."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from browser.a11y import FOCUSED, assert_focus_is_visible, site_paths, walk_tab_stops
from support import valid_answers

# Counts pointer events, to show that the whole report is made without a mouse.
NO_MOUSE = """window.pointerEvents = 0;
for (const type of ['pointerdown', 'mousedown', 'mouseup']) {
  addEventListener(type, () => { window.pointerEvents += 1; }, true);
}"""

# A radio group is one tab stop (arrows move inside it), so it counts once, where its first radio is.
FORM_ORDER = """form => [...form.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter(e => e.type !== 'hidden' && e.tabIndex >= 0 && e.checkVisibility())
  .filter((e, i, all) => e.type !== 'radio' || all.findIndex(o => o.type === 'radio' && o.name === e.name) === i)
  .map(e => e.name || e.textContent.trim().replace(/\\s+/g, ' '))"""


def choose_with_arrows(page: Page, value: str) -> None:
    """Move a focused, closed <select> to `value` with the arrow keys, as a keyboard user does."""
    for _ in range(60):
        if page.evaluate("document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value!r} not reached with the arrow keys")


def choose_radio_with_arrows(page: Page, value: str) -> None:
    """Choose `value` in a radio group that has the focus: arrows move through it, Space checks the one focused."""
    for _ in range(30):
        if page.evaluate("document.activeElement.value") == value:
            page.keyboard.press("Space")
            assert page.evaluate("document.activeElement.checked"), f"radio {value!r} not checked by Space"
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"radio {value!r} not reached with the arrow keys")


def test_the_whole_bus_form_is_completed_and_sent_with_the_keyboard_alone(open_context, live_server, smtp_server):
    answers = valid_answers()
    page = open_context().new_page()
    page.add_init_script(NO_MOUSE)
    page.goto(live_server.url + "/rapportera/")
    positive = page.evaluate("[...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0).length")
    assert positive == 0, "no tabindex above 0 that would reorder the page"

    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUSED)
    assert skip["text"] == "Gå till innehållet", "the first Tab reaches the skip link"
    assert_focus_is_visible(skip)
    page.keyboard.press("Enter")

    visited, contrasts, rows_added, tab = [], [], 0, True
    for _ in range(200):
        if tab:
            page.keyboard.press("Tab")
        tab = True
        focused = page.evaluate(FOCUSED)
        contrasts.append(assert_focus_is_visible(focused))
        key = focused["name"] or focused["text"]
        if visited and visited[-1] == key:
            continue  # still inside the date field: its year, month, day and calendar button take a Tab each
        visited.append(key)
        if focused["type"] == "submit":
            order = page.locator("form.formkit-form").evaluate(FORM_ORDER)
            page.keyboard.press("Enter")
            break
        if focused["tag"] == "button" and key.startswith("Lägg till") and rows_added == 0:
            page.keyboard.press("Enter")
            rows_added += 1
            assert page.evaluate("document.activeElement.name") == "verksamheter.1.enhet", "focus on the new row"
            tab = False
        elif focused["type"] == "date":
            for press in ("ArrowUp", "Tab", "ArrowUp", "Tab", "ArrowUp"):  # each part of the date, in any order
                page.keyboard.press(press)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.evaluate("document.activeElement.value"))
        elif focused["tag"] == "select":
            choose_with_arrows(page, answers[key])
        elif focused["type"] == "radio":  # typing into a radio would reach the site's search shortcut ("s")
            choose_radio_with_arrows(page, answers[key])
        elif key in answers:
            page.keyboard.type(answers[key])
            assert page.evaluate("document.activeElement.value") == answers[key]
    else:
        raise AssertionError(f"the submit button was never reached: {visited}")
    # The form's button continues to the check page, whose heading has the focus: on to its send button, and send.
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar innan du skickar")
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        contrasts.append(assert_focus_is_visible(focused))
        if focused["text"] == "Skicka BUS-avvikelsen":
            page.keyboard.press("Enter")
            break
    else:
        raise AssertionError("the check page's send button was never reached")

    # The walk pressed "Lägg till verksamhet" once (focus then jumped to the new row), and the button that removes
    # row 1 appeared behind the focus; otherwise the tab order is the form's order from top to bottom.
    walked = visited[visited.index("handelsetyp") :]
    walked.remove("Lägg till verksamhet")
    assert walked == [key for key in order if key != "Ta bort verksamhet 1"], "the tab order follows the form"
    assert {name for name in answers if name != "beskrivning.rapporterande.datum"} <= set(visited)
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-\d{8}-"))
    expect(page.get_by_role("heading", name="Tack, din rapport är skickad")).to_be_focused()
    assert page.evaluate("window.pointerEvents") == 0, "no mouse was used"
    reference = page.locator("[data-formkit-reference]").inner_text()
    assert reference in smtp_server.inbox.wait_for(2)[0]["Subject"]
    print(f"keyboard: {len(visited)} tab stops, lowest focus ring contrast {min(contrasts):.1f}:1")


def test_rows_are_added_and_removed_with_named_buttons_that_move_focus_and_announce_the_change(
    open_context, live_server
):
    page = open_context().new_page()
    page.add_init_script(NO_MOUSE)
    page.goto(live_server.url + "/rapportera/")
    status = page.locator("[data-formkit-status]")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_be_empty()
    add = page.get_by_role("button", name="Lägg till verksamhet", exact=True)
    assert add.evaluate("b => b.tagName === 'BUTTON' && b.type === 'button'")
    assert page.get_by_role("button", name=re.compile("^Ta bort")).count() == 0, "the one required row stays"

    add.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f-verksamheter-1-enhet")).to_be_focused()
    expect(status).to_have_text("Verksamhet 2 har lagts till.")
    add.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f-verksamheter-2-enhet")).to_be_focused()
    expect(status).to_have_text("Verksamhet 3 har lagts till.")
    page.keyboard.type("Tredje enheten")
    for number in (1, 2, 3):
        remove = page.get_by_role("button", name=f"Ta bort verksamhet {number}", exact=True)
        expect(remove).to_have_text(f"Ta bort verksamhet {number}")
        assert remove.evaluate("b => b.tagName === 'BUTTON' && b.closest('[data-formkit-row]').id") == (
            f"f-verksamheter-{number - 1}"
        ), "each remove button sits in the row it names"
        assert_focus_is_visible(remove.evaluate(f"b => {{ b.focus(); return ({FOCUSED})(); }}"))

    # Removing a row in the middle: the next row moves up and takes the focus.
    page.get_by_role("button", name="Ta bort verksamhet 2", exact=True).focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Verksamhet 2 har tagits bort.")
    expect(page.get_by_role("group", name="Verksamhet 3")).to_have_count(0)
    moved = page.get_by_role("group", name="Verksamhet 2").get_by_label("Enhet", exact=True)
    expect(moved).to_have_value("Tredje enheten")
    expect(moved).to_be_focused()
    expect(moved).to_have_attribute("name", "verksamheter.1.enhet")

    # Removing the last row: focus goes to the button that adds a row again.
    page.get_by_role("button", name="Ta bort verksamhet 2", exact=True).focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Verksamhet 2 har tagits bort.")
    expect(add).to_be_focused()
    expect(page.get_by_role("button", name=re.compile("^Ta bort"))).to_have_count(0)
    assert page.evaluate("window.pointerEvents") == 0


def test_every_tab_stop_on_every_page_shows_a_focus_ring_with_enough_contrast(open_context, live_server, built_site):
    page = open_context().new_page()
    paths, stops = site_paths(built_site), []
    for path in paths:
        page.goto(live_server.url + path)
        walked = walk_tab_stops(page)
        assert len(walked) > 3, f"{path}: the page has tab stops"
        stops += walked
    lowest = min(stop["contrast"] for stop in stops)
    print(f"focus ring: {len(stops)} tab stops on {len(paths)} pages, lowest contrast {lowest:.1f}:1")
