"""`formkit serve` in development: the open page reloads itself after an edit, and shows a broken build, over one
connection per page load that stays open (server-sent events), not a poll."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from projects import Served, copy_project


@pytest.fixture
def served(tmp_path):
    server = Served(copy_project(tmp_path / "project"))
    yield server
    server.stop()


def test_the_open_page_reloads_after_an_edit_and_shows_a_broken_build(page: Page, served):
    requests = []
    page.on("request", lambda request: requests.append(request.url.removeprefix(served.url)))
    page.goto(served.url + "/rapportera/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Rapportera en BUS-avvikelse")
    page.wait_for_timeout(1500)  # a poll every 400 ms would have asked three times by now
    assert [url for url in requests if url.startswith("/__formkit/") and url != "/__formkit/reload.js"] == [
        "/__formkit/events"
    ]
    page_file = served.root / "docs" / "rapportera.md"
    schema = served.root / "schema" / "bus-avvikelse.json"
    good = schema.read_text(encoding="utf-8")

    page_file.write_text(
        page_file.read_text(encoding="utf-8").replace("# Rapportera en BUS-avvikelse", "# Rapportera nu"),
        encoding="utf-8",
    )
    expect(heading).to_have_text("Rapportera nu", timeout=5000)

    schema.write_text(good.replace('"x-widget": "textarea"', '"x-widgett": "textarea"', 1), encoding="utf-8")
    problem = page.locator("[data-formkit-watch]")
    expect(problem).to_contain_text("Bygget misslyckades", timeout=5000)
    expect(problem).to_contain_text('okänt nyckelord "x-widgett"')
    expect(problem).to_have_attribute("role", "alert")
    expect(heading).to_have_text("Rapportera nu")  # the last good page stays

    schema.write_text(good, encoding="utf-8")
    expect(problem).to_have_count(0, timeout=5000)
    expect(heading).to_have_text("Rapportera nu")
    assert "/__formkit/version" not in requests
    assert "/__formkit/" not in served.output()  # nothing logged per connection
