"""The browser's own checks (formkit.js) give the JSON Schema Test Suite's verdict, and the server's messages.

The cases are those of tests/test_test_suite.py that one form field can express. Each case's form is
rendered as the site shows it and loaded in Chromium with formkit.js; the answer is given as a person
would (typed into the input, the choice picked, the box ticked) and formkit.js's check of each field
says whether it passes. A value the control cannot hold (a date input turns "2020-02-30" into "") is
one the browser refuses. Where both refuse, the browser shows the server's message.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from test_test_suite import (
    FORM,
    JSON,
    KNOWN_DISAGREEMENTS,
    Case,
    browser_text,
    choice_value,
    difference,
    prepared,
    schema_folder,
)

from handler.app import create_app
from handler.render import render_form, shown
from handler.validation import is_datetime, is_time

FORMKIT_JS = Path(__file__).resolve().parents[2] / "site" / "assets" / "formkit.js"
ORIGIN = "http://formkit.test"
# Give each answer as a person would, then run formkit.js's check on every field of the form.
ANSWER = """([answers]) => {
  const results = {};
  for (const [name, kind, value] of answers) {
    const wrapper = document.querySelector(`[data-formkit-field="${name}"]`);
    if (!wrapper) { results[name] = "no such field"; continue; }
    const controls = Array.from(wrapper.querySelectorAll("input, select, textarea"));
    if (kind === "choice") {
      const wanted = value.map(String);
      let found = 0;
      for (const c of controls) {
        if (c.tagName === "SELECT") {
          for (const o of c.options) if (wanted.includes(o.value)) { o.selected = true; found += 1; }
        } else if (wanted.includes(c.value)) { c.checked = true; found += 1; }
      }
      if (found < new Set(wanted).size) { results[name] = "the page offers no such choice"; continue; }
    } else if (kind === "checkbox") {
      controls[0].checked = value;
    } else {
      controls[0].value = value;
      if (controls[0].value !== value) { results[name] = "the control cannot hold it"; continue; }
    }
  }
  for (const wrapper of document.querySelectorAll("[data-formkit-field]")) {
    const name = wrapper.getAttribute("data-formkit-field");
    if (!(name in results)) results[name] = window.formkit.check(wrapper);
  }
  return results;
}"""


@pytest.fixture(scope="module")
def suite_forms(tmp_path_factory):
    """The app with one form per expressible case (it renders the pages and gives the server's messages)."""
    tmp = tmp_path_factory.mktemp("suite-browser")
    return create_app(
        {
            "TESTING": True,
            "SCHEMA_DIR": str(schema_folder()),
            "OUTBOX_DIR": str(tmp / "outbox"),
            "MAIL_DIR": str(tmp / "mail"),
            "DEFAULT_TO": "kansliet@example.se",
            "DATABASE_URL": f"sqlite:///{tmp / 'formkit.db'}",
            "RATELIMIT": "",
        }
    )


@pytest.fixture(scope="module")
def suite_page(browser):
    """One page on a made-up origin whose content each case replaces; formkit.js comes from the site."""
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    script = FORMKIT_JS.read_text(encoding="utf-8")
    page.route(f"{ORIGIN}/formkit.js", lambda route: route.fulfill(body=script, content_type="text/javascript"))
    yield page
    context.close()


def load(page, html: str) -> None:
    """Show one form as a page of the site, with formkit.js enhancing it."""
    document = (
        "<!doctype html><html lang='sv'><head><meta charset='utf-8'><title>Fall</title></head>"
        f"<body>{html}<script src='{ORIGIN}/formkit.js'></script></body></html>"
    )
    page.route(f"{ORIGIN}/", lambda route: route.fulfill(body=document, content_type="text/html; charset=utf-8"))
    page.goto(f"{ORIGIN}/")
    page.unroute(f"{ORIGIN}/")


def given(form, answers: dict) -> list:
    """Return each answer as the page script gives it: (name, how, what a person types, picks or ticks)."""
    given = []
    for name, value in answers.items():
        node = form.field_named(name)
        if node.kind in ("radio", "select", "checkboxes"):
            values = value if node.kind == "checkboxes" else [value]
            given.append((name, "choice", [choice_value(node, [v for v, _ in node.choices], one) for one in values]))
        elif node.kind == "checkbox":
            given.append((name, "checkbox", bool(value)))
        elif (node.kind == "date-time" and is_datetime(value)) or (node.kind == "time" and is_time(value)):
            given.append((name, "text", shown(node, value)))  # typed in Swedish time: the input holds no offset
        else:
            given.append((name, "text", browser_text(value)))
    return given


def server_messages(client, case: Case, form, pairs) -> dict[str, str]:
    """Return the server's message per field for the same answers, posted as the page posts them."""
    from test_test_suite import posted_pairs

    url = f"/api/forms/{case.id}"
    body = posted_pairs(form, render_form(form, url), case.answers()) + [("_step", "kontrollera")]
    response = client.post(url, data=urllib.parse.urlencode(body), content_type=FORM, headers=JSON)
    if response.status_code != 422:
        return {}
    return {error["name"]: error["message"] for error in response.get_json()["errors"]}


def test_the_browsers_checks_give_the_suites_verdict_and_the_servers_messages(suite_forms, suite_page):
    kept, _ = prepared()
    client = suite_forms.test_client()
    wrong, unlike, compared = [], [], 0
    for case in kept.values():
        if difference(case):
            continue
        compared += 1
        form = suite_forms.extensions["formkit.forms"][case.id]
        load(suite_page, render_form(form, f"/api/forms/{case.id}"))
        results = suite_page.evaluate(ANSWER, [given(form, case.answers())])
        valid = all(message == "" for message in results.values())
        if valid is not case.valid:
            wrong.append(f"{case}: suite {case.valid}, browser {json.dumps(results, ensure_ascii=False)}")
            continue
        said = {name: message for name, message in results.items() if message}
        if said and not set(said.values()) & {"the control cannot hold it", "the page offers no such choice"}:
            server = server_messages(client, case, form, None)
            if server and said != server:
                unlike.append(f"{case}: browser {said}, server {server}")

    known = set(KNOWN_DISAGREEMENTS["browser"])
    assert compared >= 140
    assert sorted(w for w in wrong if w.split(": suite")[0] not in known) == []
    assert sorted(known - {w.split(": suite")[0] for w in wrong}) == [], "fixed: remove them from the known list"
    assert unlike == []
