"""WCAG 2.1 AA in Chromium: axe-core on every page of the built site and every state of every form.

The pages come from the built site's sitemap.xml and the forms from the pages, so a new page or a new
form is covered without a new test. Browsers without JavaScript are audited through their DOM (see
`a11y.audit_without_javascript`). Every request that would leave the site's origin is blocked and fails.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from browser.a11y import audit, audit_without_javascript, forms_on_pages, site_paths
from browser.test_submit import CONTINUE, continue_and_send, fill_report
from handler import reply
from handler.forms import load_forms

ROOT = Path(__file__).resolve().parents[2]
PERSONNUMMER = "19121212-1212"  # Skatteverket's example number: valid, so the server refuses it

HEADINGS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .filter(h => h.checkVisibility()).map(h => [Number(h.tagName[1]), h.textContent.trim()])"""

CONTROLS = """form => [...form.querySelectorAll('input, select, textarea')]
  .filter(c => c.type !== 'hidden' && !c.closest('.formkit-honeypot'))
  .map(c => {
    const wrapper = c.closest('[data-formkit-field]');
    const label = c.labels[0];
    const box = label && label.getBoundingClientRect();
    const hint = wrapper && wrapper.querySelector('.formkit-hint');
    const group = c.closest('fieldset.formkit-choices');
    const mark = wrapper && wrapper.querySelector('.formkit-optional');
    const described = (c.getAttribute('aria-describedby') || '') + ' ' +
      ((group && group.getAttribute('aria-describedby')) || '');
    return {
      name: c.name, type: c.type, autocomplete: c.getAttribute('autocomplete'),
      label: label ? label.textContent.trim() : '',
      labelVisible: !!label && label.checkVisibility() && box.width > 1 && box.height > 1,
      hint: hint ? hint.id : null, describedBy: described.split(' ').filter(Boolean),
      required: c.required || (c.type === 'radio' && !!group && !!group.querySelector('[required]')),
      optionalText: mark && mark.checkVisibility() ? mark.textContent.trim() : '',
      marked: !!wrapper && !wrapper.hasAttribute('data-required'),
    };
  })"""

# The reporter's own contact details get autofill tokens (WCAG 1.3.5); fields about other people are "off".
OWN_DETAILS = {
    "beskrivning.rapporterande.enhet": "organization",
    "beskrivning.rapporterande.kontaktperson": "name",
    "beskrivning.rapporterande.epost": "email",
    "beskrivning.rapporterande.telefon": "tel",
}
INPUT_TYPES = {"email": "email", "date": "date", "integer": "number", "number": "number", "textarea": "textarea"}
INPUT_TYPES |= {"select": "select-one", "radio": "radio", "checkboxes": "checkbox", "checkbox": "checkbox"}


def assert_headings_in_order(page: Page, state: str) -> None:
    """One h1 first, and no heading level skipped on the way down (axe's heading-order is not a WCAG rule)."""
    headings = page.evaluate(HEADINGS)
    levels = [level for level, _ in headings]
    assert levels[:1] == [1] and levels.count(1) == 1, f"{state}: one h1, and first: {headings}"
    for (before, _), (level, text) in zip(headings, headings[1:]):
        assert level <= before + 1, f"{state}: heading h{level} {text!r} follows h{before}: {headings}"


def test_every_page_in_the_sitemap_passes_axe_and_fetches_nothing_from_another_origin(
    open_context, live_server, built_site
):
    paths = site_paths(built_site)
    assert len(paths) == len(list((ROOT / "docs").rglob("*.md"))), "the sitemap lists every page of docs/"
    assert "/tillganglighet/" in paths, "the accessibility statement is a page of the site"
    seen = []
    page = open_context().new_page()
    page.on("request", lambda request: seen.append(request.url))
    titles = {}
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert page.evaluate("document.documentElement.lang") == "sv", path
        title, h1 = page.title(), page.locator("h1").inner_text().strip()
        assert h1 in title and title.endswith("BUS-avvikelser"), f"{path}: title {title!r} names the page {h1!r}"
        assert title not in titles, f"{path} has the same title as {titles.get(title)}: {title!r}"
        titles[title] = path
        assert_headings_in_order(page, path)
        audit(page, f"page {path}")
    assert len(seen) > len(paths), "the pages loaded their styles and scripts"
    assert open_context.foreign == [], "requests left the site's origin"
    assert open_context.broken == [], "every style, script and image loaded"


def test_every_form_passes_axe_empty_partly_filled_with_errors_and_with_rows_added_and_removed(
    open_context, live_server, built_site
):
    page = open_context().new_page()
    forms = forms_on_pages(built_site)
    assert ("/rapportera/", "bus-avvikelse") in forms
    for path, form_id in forms:
        state = f"{path} {form_id}"
        page.goto(live_server.url + path)
        form = page.locator(f'[data-formkit="{form_id}"]')
        audit(page, f"{state}: empty")

        form.locator("input[type=text]:not([tabindex='-1']):not([readonly]), textarea").first.fill("Ett svar")
        audit(page, f"{state}: partly filled")

        form.locator("[type=submit]").click()
        expect(form.locator("[data-formkit-summary]")).to_be_focused()
        assert page.title().startswith("Fel: ")
        assert_headings_in_order(page, f"{state}: errors")
        audit(page, f"{state}: partly filled, with errors (JavaScript)")

        lists = form.locator("[data-formkit-list]")
        for index in range(lists.count()):
            rows = lists.nth(index).locator(":scope > [data-formkit-row]")
            before = rows.count()
            lists.nth(index).locator(":scope > .formkit-add").click()
            expect(rows).to_have_count(before + 1)
            audit(page, f"{state}: row added to list {index + 1}")
            rows.last.locator(":scope > .formkit-remove").click()
            expect(rows).to_have_count(before)
            audit(page, f"{state}: row removed from list {index + 1}")
    assert open_context.foreign == []


def test_the_bus_form_passes_axe_with_server_errors_and_on_its_receipt_with_javascript(
    open_context, live_server, smtp_server
):
    page = open_context().new_page()
    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    page.get_by_label("Förslag till åtgärd").fill(f"Ring om barnet {PERSONNUMMER}")
    page.get_by_role("button", name=CONTINUE).click()
    expect(page.locator("#f-beskrivning-forslag_atgard-error")).to_contain_text("personnumret")
    audit(page, "/rapportera/ bus-avvikelse: filled in, refused by the server (JavaScript)")

    page.get_by_label("Förslag till åtgärd").fill("Gemensamt möte")
    continue_and_send(page)
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-"))
    expect(page.get_by_role("heading", name="Tack, din rapport är skickad")).to_be_focused()
    assert_headings_in_order(page, "receipt (JavaScript)")
    audit(page, "/rapportera/ bus-avvikelse: receipt (JavaScript)")
    assert open_context.foreign == []


def test_every_form_passes_axe_without_javascript_empty_with_errors_and_on_the_receipt_page(
    open_context, live_server, built_site, smtp_server
):
    page = open_context(java_script_enabled=False).new_page()
    inspector = open_context().new_page()
    forms = live_server.app.extensions["formkit.forms"]
    for path, form_id in forms_on_pages(built_site):
        state = f"{path} {form_id}"
        page.goto(live_server.url + path)
        audit_without_javascript(page, inspector, f"{state}: empty (no JavaScript)")
        if forms[form_id].settings.reply_of:  # an answer form is sent from its link, with the token
            linked = reply.LinkedReport("BUS-20261122-ABCDEF", "2026-11-22", "chef@solna.se")
            links = live_server.app.extensions["formkit.settings"].links
            token = reply.issue(links, form_id, linked)
            state = f"/api/forms/{form_id}/{reply.ROUTE} {form_id}"
            page.goto(live_server.url + reply.url(dataclasses.replace(links, base_url=""), form_id, token))
            audit_without_javascript(page, inspector, f"{state}: answer page from the link (no JavaScript)")
        form = page.locator(f'[data-formkit="{form_id}"]')
        form.locator("input[type=text]:not([tabindex='-1']):not([readonly]), textarea").first.fill("Ett svar")
        with page.expect_navigation() as answer:
            form.locator("[type=submit]").click()
        assert answer.value.status == 422
        expect(page.locator("[data-formkit-summary]")).to_be_visible()
        assert page.title().startswith("Fel: ")
        assert_headings_in_order(page, f"{state}: 422 page")
        audit_without_javascript(page, inspector, f"{state}: partly filled, 422 page with errors (no JavaScript)")

    page.goto(live_server.url + "/rapportera/")
    fill_report(page)
    continue_and_send(page)
    expect(page.locator("[data-formkit-reference]")).to_have_text(re.compile(r"^BUS-"))
    assert_headings_in_order(page, "receipt page")
    audit_without_javascript(page, inspector, "/rapportera/ bus-avvikelse: receipt page (no JavaScript)")
    assert open_context.foreign == []


def test_the_handlers_own_pages_pass_axe(open_context, live_server):
    page = open_context(java_script_enabled=False).new_page()
    inspector = open_context().new_page()
    for path, status in (("/finns-inte/", 404), ("/api/forms/bus-avvikelse/kvitto/FEL", 404)):
        assert page.goto(live_server.url + path).status == status
        audit_without_javascript(page, inspector, f"handler page: {status} for GET {path}")

    # A browser without JavaScript posts the real form in ways the handler refuses: a readable page each time.
    changes = {
        404: "f => { f.action = '/api/forms/finns-inte'; f.querySelector('[formaction]').formAction = f.action; }",
        415: "f => { f.enctype = 'text/plain'; }",  # the one encoding a browser has that the handler does not read
        400: "f => { f.acceptCharset = 'ISO-8859-1'; f.elements['handelsetyp'].value = 'Åtgärd'; }",
    }
    for status, change in changes.items():
        page.goto(live_server.url + "/rapportera/")
        page.locator("form.formkit-form").evaluate(change)
        with page.expect_navigation() as answer:
            page.get_by_role("button", name=CONTINUE).click()
        assert answer.value.status == status
        title = page.title()
        assert title.endswith(" - BUS-avvikelser") and page.locator("h1").inner_text() in title
        assert_headings_in_order(page, f"{status} page")
        audit_without_javascript(page, inspector, f"handler page: {status} ({title}) for a POST without JavaScript")
    assert open_context.foreign == []
    assert open_context.broken == [], "the handler's pages load the site's styles and scripts"


def test_every_field_has_a_visible_label_a_tied_hint_its_input_type_autocomplete_and_required_text(
    open_context, live_server, built_site
):
    definitions = load_forms(ROOT / "schema")
    page = open_context().new_page()
    for path, form_id in forms_on_pages(built_site):
        page.goto(live_server.url + path)
        kinds = {
            node.dotted: "tel" if node.schema.get("x-widget") == "tel" else INPUT_TYPES.get(node.kind, "text")
            for node in definitions[form_id].root.walk()
        }
        controls = page.locator(f'[data-formkit="{form_id}"] form').evaluate(CONTROLS)
        assert controls
        for control in controls:
            where = f"{path} {form_id} {control['name']}"
            assert control["label"] and control["labelVisible"], f"{where}: a visible label"
            if control["hint"]:
                assert control["hint"] in control["describedBy"], f"{where}: hint tied with aria-describedby"
            assert control["type"] == kinds[re.sub(r"\.\d+\.", ".*.", control["name"])], f"{where}: input type"
            if control["type"] in ("email", "tel"):
                assert control["autocomplete"], f"{where}: e-mail and telephone fields say how to autofill"
            expected = "(valfritt)" if control["marked"] else ""  # optional fields say so (GOV.UK), required ones not
            assert control["optionalText"] == expected, f"{where}: optional is said in text"
            if form_id == "bus-avvikelse" and control["type"] in ("text", "email", "tel"):
                expected = OWN_DETAILS.get(control["name"], "off")
                assert control["autocomplete"] == expected, f"{where}: autocomplete {expected}"
        assert any(c["required"] for c in controls)
