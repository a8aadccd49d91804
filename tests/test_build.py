"""The site build: the form lands in the page under MkDocs and Zensical; a broken form stops the build."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from handler.app import create_app
from handler.build import build, extension_folders
from handler.errors import FormDefinitionError
from support import project_copy

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def break_schema(project: Path) -> None:
    path = project / "schema" / "bus-avvikelse.json"
    schema = json.loads(path.read_text())
    schema["properties"]["handelsetyp"]["x-widgte"] = "textarea"  # a misspelt keyword
    path.write_text(json.dumps(schema, ensure_ascii=False))


def test_the_mkdocs_build_places_the_form_on_its_page_with_the_page_meta(built_site):
    page = (built_site / "rapportera" / "index.html").read_text()

    assert '<form class="formkit-form" method="post" action="/api/forms/bus-avvikelse"' in page
    assert '<legend class="formkit-legend">Kontaktuppgifter till rapporterande verksamhet</legend>' in page
    assert "Uppdaterad" in page and "Redaktör" in page
    assert '<html lang="sv"' in page
    assert "fonts.googleapis" not in page


def test_the_form_page_loads_only_what_the_form_needs_and_names_materials_script_for_later(built_site):
    page = (built_site / "rapportera" / "index.html").read_text()
    scripts = re.findall(r"<script [^>]*src=[^>]*>", page)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)

    assert scripts == [
        '<script src="../assets/formkit.js" defer data-theme-script="javascripts/bundle.a5f9d56c.min.js">'
    ], "one script, deferred; Material's comes when search is opened"
    assert (built_site / "assets" / "javascripts" / "bundle.a5f9d56c.min.js").is_file(), "base.html's name"
    assert not any("palette" in style for style in styles), "the palette's stylesheet has nothing the site uses"
    assert "__palette" not in page, "nor does the script that reads a chosen palette from localStorage"
    other = (built_site / "om-bus" / "index.html").read_text()
    assert '<script src="../assets/javascripts/bundle.a5f9d56c.min.js"></script>' in other


def test_the_start_page_links_to_the_form(built_site):
    page = (built_site / "index.html").read_text()

    assert 'href="rapportera/"' in page and "Rapportera en BUS-avvikelse" in page


def test_zensical_builds_the_same_site_with_the_form(tmp_path):
    project = project_copy(tmp_path)
    result = subprocess.run([BIN / "zensical", "build"], cwd=project, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    page = (project / "public" / "rapportera" / "index.html").read_text()
    assert 'data-formkit="bus-avvikelse"' in page
    assert "Redaktör" in page


def test_a_broken_schema_fails_the_build_naming_the_file_and_the_field(tmp_path):
    project = project_copy(tmp_path)
    break_schema(project)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([BIN / "formkit", "build"], cwd=project, capture_output=True, text=True, env=env)

    assert result.returncode == 1
    assert "bus-avvikelse.json" in result.stderr
    assert "handelsetyp" in result.stderr and "x-widgte" in result.stderr


def test_a_broken_schema_stops_the_handler_from_starting(tmp_path):
    project = project_copy(tmp_path)
    break_schema(project)

    with pytest.raises(FormDefinitionError) as error:
        create_app({"TESTING": True, "SCHEMA_DIR": str(project / "schema"), "OUTBOX_DIR": str(tmp_path / "outbox")})

    assert "bus-avvikelse.json" in str(error.value) and "handelsetyp" in str(error.value)


def test_a_page_that_names_an_unknown_form_fails_the_build(tmp_path):
    project = project_copy(tmp_path)
    (project / "docs" / "rapportera.md").write_text("# Fel\n\n[[form finns-inte]]\n")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([BIN / "formkit", "build"], cwd=project, capture_output=True, text=True, env=env)

    assert result.returncode == 1
    assert "finns-inte" in result.stderr


# ---- one module builds the site: it checks once, then builds into the folder it is given ----


@pytest.fixture
def counted(monkeypatch):
    """Count the runs of the whole-project check, wherever they come from."""
    import handler.check

    calls = []
    original = handler.check.check_project

    def check_project(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(handler.check, "check_project", check_project)
    return calls


def test_the_build_checks_the_forms_once_and_builds_into_the_folder_given(tmp_path, counted):
    project = project_copy(tmp_path / "project")

    built = build(project / "mkdocs.yml", tmp_path / "out")

    assert len(counted) == 1  # the Markdown extension reuses the build's check on every page
    assert built.site_dir == (tmp_path / "out").resolve() and built.seconds > 0
    assert set(built.forms) == {"bus-avvikelse", "bus-avvikelse-svar"}
    assert 'data-formkit="bus-avvikelse"' in (tmp_path / "out" / "rapportera" / "index.html").read_text()
    assert not (project / "public").exists()


def test_the_command_line_build_is_the_same_build_and_says_its_seconds(tmp_path, counted):
    from handler.cli import build_site

    project = project_copy(tmp_path)

    seconds = build_site(str(project / "mkdocs.yml"))

    assert isinstance(seconds, float) and len(counted) == 1
    assert (project / "public" / "rapportera" / "index.html").is_file()


def test_a_broken_form_stops_the_build_before_mkdocs_starts(tmp_path, counted):
    project = project_copy(tmp_path / "project")
    break_schema(project)

    with pytest.raises(FormDefinitionError) as error:
        build(project / "mkdocs.yml", tmp_path / "out")

    assert any("handelsetyp" in line and "x-widgte" in line for line in error.value.problems)
    assert len(counted) == 1 and not (tmp_path / "out").exists()


def test_the_build_checks_the_folders_the_form_extension_is_configured_with(tmp_path):
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\nmarkdown_extensions:\n  - toc\n  - formkit:\n      schema_dir: formular\n")
    bare = tmp_path / "bare.yml"
    bare.write_text("site_name: x\nmarkdown_extensions:\n  - toc\n")

    assert extension_folders(ROOT / "mkdocs.yml") == ("schema", "")
    assert extension_folders(config) == ("formular", "")
    assert extension_folders(bare) is None
