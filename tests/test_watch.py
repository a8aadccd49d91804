"""`formkit serve` watches docs/, schema/ and site/: it rebuilds, reloads the forms, and keeps the last good
site when a change breaks it."""

from __future__ import annotations

import ast
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

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
    script = fetch(served.url + "/__formkit/reload.js")[1]
    assert 'new EventSource("/__formkit/events")' in script and "setTimeout" not in script  # no polling


def next_event(stream) -> dict:
    """Read one server-sent event's data (comments and the retry line skipped)."""
    data = []
    for raw in stream:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data: "):
            data.append(line[len("data: ") :])
        elif not line and data:
            return json.loads("\n".join(data))
    raise AssertionError("the event stream ended")


def test_one_open_connection_hears_of_every_rebuild_and_nothing_is_logged_for_it(served):
    with urllib.request.urlopen(served.url + "/__formkit/events", timeout=20) as stream:
        assert stream.headers.get_content_type() == "text/event-stream"
        assert stream.headers["Cache-Control"] == "no-store"
        first = next_event(stream)
        assert first == served.state()

        edit(served.root / "docs" / "om-bus.md", "## BUSSAM", "## BUSSAM, länets grupp")

        second = next_event(stream)  # on the same connection: no new request for it
        assert second == {"build": first["build"] + 1, "problems": []}
    assert "länets grupp" in fetch(served.url + "/om-bus/")[1]
    assert "/__formkit/" not in served.output()  # neither the stream nor the state requests are logged
    assert '"GET /om-bus/ HTTP/1.1" 200' in served.output()  # the useful lines stay


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


# ---- a rebuild checks the forms once, through the build module ----


def test_a_rebuild_checks_the_forms_once_and_hands_the_handler_the_same_forms(tmp_path, monkeypatch):
    import handler.check
    from handler.app import create_app
    from handler.watch import Watcher

    root = copy_project(tmp_path / "project")
    app = create_app(
        {"TESTING": True, "SCHEMA_DIR": str(root / "schema"), "PUBLIC_DIR": str(root / "public"), "OUTBOX_DIR": ""}
    )
    calls = []
    original = handler.check.check_project

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    for module in ("handler.check", "handler.watch", "handler.cli"):  # wherever a rebuild might call it from
        monkeypatch.setattr(f"{module}.check_project", counted, raising=False)
    watcher = Watcher(app, str(root / "mkdocs.yml"))
    old = app.extensions["formkit.forms"]["bus-avvikelse"]

    edit(root / "schema" / "bus-avvikelse.json", '"title": "Förslag till åtgärd"', '"title": "Förslag på åtgärd"')
    assert watcher.rebuild() is True

    assert len(calls) == 1  # it ran three times per rebuild before the build got its own module
    new = app.extensions["formkit.forms"]["bus-avvikelse"]
    assert new.version != old.version
    assert f'value="{new.version}"' in (root / "public" / "rapportera" / "index.html").read_text(encoding="utf-8")

    edit(root / "schema" / "bus-avvikelse.json", '"x-widget": "textarea"', '"x-widgett": "textarea"')
    assert watcher.rebuild() is False

    assert len(calls) == 2 and app.extensions["formkit.forms"]["bus-avvikelse"] is new
    assert any('okänt nyckelord "x-widgett"' in problem for problem in watcher.builds.problems)


def test_the_watcher_and_the_build_never_import_the_command_line():
    import handler.build
    import handler.watch

    for module in (handler.watch, handler.build):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & {"cli", "handler.cli"}, module.__name__  # the cycle cli <-> watch is gone
