"""`formkit serve` watches docs/, schema/ and site/: it rebuilds, reloads the forms, and keeps the last good
site when a change breaks it."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from projects import Served, copy_project, fetch


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`formkit serve` (watching by default) in a copy of the project."""
    server = Served(copy_project(tmp_path_factory.mktemp("watched")))
    yield server
    server.stop()


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def page_version(html: str) -> str:
    return re.search(r'name="_version" value="([0-9a-f]+)"', html).group(1)


def test_pages_carry_the_reload_script_with_the_build_number(served):
    status, html = fetch(served.url + "/rapportera/")

    build = served.state()["build"]
    assert status == 200
    assert f'<script src="/__formkit/reload.js" data-build="{build}"></script></body>' in html
    assert "/__formkit/version" in fetch(served.url + "/__formkit/reload.js")[1]


def test_a_changed_page_is_rebuilt_and_served(served):
    before = served.state()["build"]

    edit(served.root / "docs" / "rapportera.md", "# Rapportera en BUS-avvikelse", "# Rapportera en avvikelse nu")

    served.wait_for(lambda state: state["build"] > before)
    assert "Rapportera en avvikelse nu" in fetch(served.url + "/rapportera/")[1]
    assert "Webbplatsen byggd om på" in served.output()


def test_a_changed_theme_file_is_rebuilt(served):
    before = served.state()["build"]

    with open(served.root / "site" / "assets" / "formkit.css", "a", encoding="utf-8") as css:
        css.write("\n.formkit-watch-test { color: inherit; }\n")

    served.wait_for(lambda state: state["build"] > before)
    assert ".formkit-watch-test" in fetch(served.url + "/assets/formkit.css")[1]


def test_a_changed_schema_reaches_both_the_page_and_the_handler(served):
    before = served.state()["build"]
    old = page_version(fetch(served.url + "/rapportera/")[1])

    edit(
        served.root / "schema" / "bus-avvikelse.json", '"title": "Förslag till åtgärd"', '"title": "Förslag på åtgärd"'
    )

    served.wait_for(lambda state: state["build"] > before)
    html = fetch(served.url + "/rapportera/")[1]
    new = page_version(html)
    assert "Förslag på åtgärd" in html and new != old
    url = served.url + "/api/forms/bus-avvikelse"
    assert "form_changed" not in post_json(url, {"_version": new, "handelsetyp": "x"})[1]
    assert post_json(url, {"_version": old, "handelsetyp": "x"})[1]["form_changed"] is True


def test_a_broken_schema_keeps_the_last_good_site_and_says_what_is_wrong(served):
    schema = served.root / "schema" / "bus-avvikelse.json"
    good = schema.read_text(encoding="utf-8")
    before = served.state()["build"]
    page_before = fetch(served.url + "/rapportera/")[1]

    edit(schema, '"x-widget": "textarea"', '"x-widgett": "textarea"')

    state = served.wait_for(lambda state: state["problems"])
    assert state["build"] == before
    assert any('okänt nyckelord "x-widgett"' in p and "bus-avvikelse.json:" in p for p in state["problems"])
    assert 'okänt nyckelord "x-widgett"' in served.output()
    assert "den senaste fungerande webbplatsen visas fortfarande" in served.output()
    assert fetch(served.url + "/rapportera/")[1].split("data-build")[0] == page_before.split("data-build")[0]
    assert post_json(served.url + "/api/forms/bus-avvikelse", {"handelsetyp": "x"})[0] == 422  # the handler runs on

    schema.write_text(good, encoding="utf-8")

    state = served.wait_for(lambda state: state["build"] > before)
    assert state["problems"] == []


def test_a_form_placed_on_a_second_page_is_refused_while_watching(served):
    before = served.state()["build"]
    page = served.root / "docs" / "kopia.md"

    page.write_text("# Kopia\n\n[[form bus-avvikelse]]\n", encoding="utf-8")

    state = served.wait_for(lambda state: state["problems"])
    assert any("kopia.md:3" in p and "står redan på" in p for p in state["problems"])
    page.unlink()
    served.wait_for(lambda state: state["build"] > before)


def test_without_watching_no_script_is_added(tmp_path):
    server = Served(copy_project(tmp_path / "project"), "--no-watch")
    try:
        status, html = fetch(server.url + "/rapportera/")
        assert status == 200 and "__formkit" not in html
        assert fetch(server.url + "/__formkit/version")[0] == 404
    finally:
        server.stop()


def test_watching_is_the_default_and_can_be_asked_for_or_turned_off(capsys):
    from handler.cli import main

    with pytest.raises(SystemExit) as usage:
        main(["serve", "--watch", "--help"])

    assert usage.value.code == 0
    assert "--watch, --no-watch" in capsys.readouterr().out
