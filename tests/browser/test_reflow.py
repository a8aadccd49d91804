"""Reflow and zoom: nothing scrolls sideways at 320 CSS pixels, and at 200 % zoom everything still works.

Screenshots of every page and state go to test-artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from browser.a11y import ARTIFACTS, FOCUSED, audit, site_paths, walk_tab_stops
from browser.test_submit import CONTINUE, continue_and_send, fill_report

NARROW = {"viewport": {"width": 320, "height": 640}}
# A 1280 x 720 window at 200 % zoom: half the CSS pixels, each drawn twice as large.
ZOOMED = {"viewport": {"width": 640, "height": 360}, "device_scale_factor": 2}


def assert_reflows(page: Page, name: str) -> None:
    """Assert that nothing scrolls sideways, and save a full-page screenshot as test-artifacts/<name>.png."""
    page.wait_for_load_state()  # styles loaded: a page that follows a form post may still be loading
    width, viewport = page.evaluate("document.documentElement.scrollWidth"), page.viewport_size["width"]
    assert width <= viewport, f"{name}: the page is {width} CSS px wide in a {viewport} px window"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def slug(path: str) -> str:
    """Return a file-name part for a page path: / is "start"."""
    return path.strip("/").replace("/", "-") or "start"


def test_every_page_and_the_404_page_reflow_at_320_css_pixels(open_context, live_server, built_site):
    page = open_context(**NARROW).new_page()
    for path in [*site_paths(built_site), "/finns-inte/"]:
        page.goto(live_server.url + path)
        assert_reflows(page, f"reflow-320-{slug(path)}")
    assert open_context.foreign == []


def test_the_form_reflows_at_320_css_pixels_with_errors_rows_and_receipt(open_context, live_server, smtp_server):
    page = open_context(**NARROW).new_page()
    page.goto(live_server.url + "/rapportera/")
    page.get_by_role("button", name=CONTINUE).click()
    expect(page.locator("[data-formkit-summary]")).to_be_visible()
    assert_reflows(page, "reflow-320-form-errors")
    audit(page, "/rapportera/ bus-avvikelse: with errors, 320 CSS px wide")
    page.get_by_role("button", name="Lägg till verksamhet").click()
    assert_reflows(page, "reflow-320-form-row-added")
    fill_report(page)
    page.get_by_role("button", name="Ta bort verksamhet 2").click()
    continue_and_send(page)
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-"))
    assert_reflows(page, "reflow-320-form-receipt")

    page = open_context(java_script_enabled=False, **NARROW).new_page()
    page.goto(live_server.url + "/rapportera/")
    assert_reflows(page, "reflow-320-form-without-javascript")
    page.get_by_role("button", name=CONTINUE).click()
    expect(page.locator("[data-formkit-summary]")).to_be_visible()
    assert_reflows(page, "reflow-320-form-errors-without-javascript")
    assert open_context.foreign == []


def test_at_200_percent_zoom_the_menu_and_search_work_with_the_keyboard_and_the_form_is_sent(
    open_context, live_server, smtp_server
):
    page = open_context(**ZOOMED).new_page()
    page.goto(live_server.url + "/om-bus/")
    assert_reflows(page, "zoom-200-om-bus")
    closed = walk_tab_stops(page)
    assert [stop["label"] for stop in closed[1:3]] == ["Meny", "Sök"], "the menu and search buttons come first"
    assert not any(stop["text"] == "Start" for stop in closed), "the closed menu's links are out of the tab order"

    page.goto(live_server.url + "/om-bus/")
    menu = page.get_by_role("button", name="Meny")
    for _ in range(2):
        page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()

    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.md-sidebar--primary').getBoundingClientRect().left >= 0")
    for _ in range(10):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["visible"], f"menu link {focused['text']!r} is on screen"
        if focused["text"] == "Rapportera en BUS-avvikelse":
            break
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "zoom-200-menu-open.png")
    audit(page, "/om-bus/ at 200 % zoom with the menu open")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/rapportera/$"))

    search = page.get_by_role("button", name="Sök")
    search.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Sök")).to_be_focused()
    page.keyboard.press("Escape")
    expect(search).to_be_focused()

    assert_reflows(page, "zoom-200-form")
    fill_report(page)
    continue_and_send(page)
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-"))
    assert_reflows(page, "zoom-200-form-receipt")
    assert open_context.foreign == []
