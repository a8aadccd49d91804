"""The site build: the form lands in the page under MkDocs and Zensical; a broken form stops the build."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handler.app import create_app
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
