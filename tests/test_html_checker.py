"""The W3C Nu HTML Checker (npm vnu-jar, installed by `make test` into .tools/) finds no error on any page.

Every page of the built site and every page the handler writes itself (receipt, 422 page with errors,
404, 413, 415, 400, 503, the answer page from a link and its refusals) is checked in one Java process.
The theme's own markup is fixed in site/, never by turning a check off.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import material
import pytest

from handler import pages, reply
from handler.app import create_app
from support import valid_answers

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
VNU = ROOT / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
URL = "/api/forms/bus-avvikelse"
HTML = {"Accept": "text/html"}


@pytest.fixture
def site_app(config, built_site, tmp_path):
    public = tmp_path / "public"
    shutil.copytree(built_site, public)
    return create_app({**config, "PUBLIC_DIR": str(public)})


def handler_pages(app) -> dict[str, tuple[int, str]]:
    """Return (status, HTML) of every kind of page the handler writes, by a name for the report."""
    client = app.test_client()
    found = {}

    def keep(name: str, response, status: int) -> None:
        assert response.status_code == status, (name, response.status_code)
        assert response.mimetype == "text/html", name
        found[name] = (response.status_code, response.get_data(as_text=True))

    sent = client.post(URL, data=valid_answers())
    assert sent.status_code == 303
    keep("receipt", client.get(sent.headers["Location"]), 200)
    keep("422 with errors", client.post(URL, data={"handelsetyp": "", "_version": "x"}, headers=HTML), 422)
    keep("404 site page", client.get("/finns-inte/"), 404)
    keep("404 unknown form", client.post("/api/forms/finns-inte", data={"a": "b"}, headers=HTML), 404)
    keep("415", client.post(URL, data=b"hej", content_type="text/plain", headers=HTML), 415)
    bad = b"handelsetyp=%C5tg%E4rd"
    keep("400", client.post(URL, data=bad, content_type="application/x-www-form-urlencoded", headers=HTML), 400)
    keep("413", client.post(URL, data=b"x" * 300_000, content_type="text/plain", headers=HTML), 413)

    settings = app.extensions["formkit.settings"]
    reference = sent.headers["Location"].rsplit("/", 1)[1]  # a link needs its report in the register (else 410)
    token = reply.issue(settings.links, "bus-avvikelse-svar", reply.Link(reference, 0))  # the first unit's link
    link = reply.url(dataclasses.replace(settings.links, base_url=""), "bus-avvikelse-svar", token)
    keep("answer page from the link", client.get(link), 200)
    keep("answer page without a link", client.get("/api/forms/bus-avvikelse-svar/svara?token="), 400)
    altered = {"_token": "A" + token[1:] if token[0] != "A" else "B" + token[1:], "handelse": "Svar"}
    keep("answer with an altered link", client.post("/api/forms/bus-avvikelse-svar", data=altered), 403)
    with app.test_request_context("/api/forms/bus-avvikelse", method="POST"):
        form = app.extensions["formkit.forms"]["bus-avvikelse"]
        keep(
            "503", pages.unavailable(form, {"handelsetyp": "Text"}, "Tjänsten är inte tillgänglig", "Försök igen."), 503
        )
        keep("429", pages.problem(429, "För många försök", "Vänta en stund och försök igen."), 429)
    return found


def nu_html_checker(files: list[Path]) -> list[dict]:
    """Return the checker's errors for `files`, from one Java process."""
    assert VNU.is_file(), f"{VNU} is missing: `make test` installs it (npm install --prefix .tools vnu-jar)"
    run = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stderr or run.stdout)  # vnu writes its report to stderr
    return [message for message in report["messages"] if message.get("type") in ("error", "non-document-error")]


def test_every_built_page_and_every_handler_page_has_no_html_error(built_site, site_app, tmp_path):
    files = sorted(built_site.rglob("*.html"))
    assert (built_site / "personuppgifter" / "index.html") in files, "the privacy notice is a page of the site"
    folder = tmp_path / "handler-pages"
    folder.mkdir()
    for name, (status, html) in handler_pages(site_app).items():
        path = folder / f"{status}-{name.replace(' ', '-')}.html"
        path.write_text(html, encoding="utf-8")
        files.append(path)

    errors = nu_html_checker(files)

    lines = [f"{m.get('url', '').rsplit('/', 2)[-2:]}:{m.get('lastLine')}: {m['message']}" for m in errors]
    assert errors == [], f"{len(errors)} errors in {len(files)} pages:\n" + "\n".join(lines)
    assert len(files) > 20


# What site/base.html changes in Material's base.html: lines outside any block, so a copy is the only way.
BASE_CHANGES = [
    (
        '<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">\n'
        '    <input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">',
        "{#- formkit: no autocomplete on the toggles -#}\n"
        '    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer">\n'
        '    <input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search">',
    ),
    (
        "      {% if page.toc | first is defined %}\n"
        "        {% set skip = page.toc | first %}\n"
        '        <a href="{{ skip.url | url }}" class="md-skip">\n'
        '          {{ lang.t("action.skip") }}\n'
        "        </a>\n"
        "      {% endif %}\n",
        "      {#- formkit: the skip link on every page, to the content -#}\n"
        '      <a href="#innehall" class="md-skip">\n'
        '        {{ lang.t("action.skip") }}\n'
        "      </a>\n",
    ),
    (
        '            <div class="md-content" data-md-component="content">',
        "            {#- formkit: the skip link's target -#}\n"
        '            <div class="md-content" id="innehall" data-md-component="content">',
    ),
]


def test_the_theme_base_template_is_materials_with_only_the_marked_lines_changed():
    # When Material's base.html changes, this says so, and the copy is made again from the new file.
    original = (Path(material.__file__).parent / "templates" / "base.html").read_text(encoding="utf-8")
    ours = (ROOT / "site" / "base.html").read_text(encoding="utf-8")
    expected = original.split("-#}\n", 1)[1]
    for old, new in BASE_CHANGES:
        assert expected.count(old) == 1, f"Material's base.html no longer has: {old}"
        expected = expected.replace(old, new)

    assert ours.split("-#}\n", 1)[1] == expected
