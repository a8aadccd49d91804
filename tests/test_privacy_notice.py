"""The privacy notice as data: x-formkit.privacy becomes FormSettings.privacy, an answer form has its report's,
`formkit check` warns about a form that collects personal data without one, and the receipt links to it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import markdown
import pytest

from handler.check import check_project
from handler.errors import FormDefinitionError
from handler.forms import PrivacyNotice, load_forms
from handler.markdown_ext import privacy_notice
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
PRIVACY = {
    "controller": "Kommunen",
    "contact": "kansliet@kommun.se",
    "data_protection_officer": "dataskyddsombud@kommun.se",
    "purpose": "Att besvara frågan",
    "legal_basis": "Allmänt intresse",
    "recipients": ["kansliet", "arkivet"],
    "retention": "Ett år",
}


def form_with(tmp_path: Path, fields: dict, settings: dict | None = None) -> Path:
    (tmp_path / "schema").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    schema = {"title": "Fråga", "type": "object", "properties": fields, "x-formkit": settings or {}}
    (tmp_path / "schema" / "fraga.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "docs" / "fraga.md").write_text("# Fråga\n\n[[form fraga]]\n", encoding="utf-8")
    return tmp_path / "schema"


def test_the_bus_forms_block_becomes_typed_settings_and_its_answer_form_shares_it():
    forms = load_forms(ROOT / "schema")
    notice = forms["bus-avvikelse"].settings.privacy

    assert isinstance(notice, PrivacyNotice)
    assert notice.page == "/personuppgifter/"
    assert "Region Stockholm" in notice.controller and "30 dagar" in notice.retention
    assert any("BUS-sekretariatet" in recipient for recipient in notice.recipients)
    assert forms["bus-avvikelse-svar"].settings.privacy == notice


@pytest.mark.parametrize(
    "field",
    [
        {"type": "string", "format": "email", "title": "E-post"},
        {"type": "string", "title": "Telefon", "x-widget": "tel"},
        {"type": "string", "title": "Namn", "x-autocomplete": "name"},
    ],
    ids=["e-mail", "telephone", "name"],
)
def test_a_form_that_collects_personal_data_without_a_notice_gets_a_warning_naming_what_to_add(tmp_path, field):
    checked = check_project(form_with(tmp_path, {"kontakt": field}))

    assert checked.problems == []
    (warning,) = checked.warnings
    assert warning.severity == "warning" and warning.file.endswith("fraga.json")
    assert 'Lägg till "privacy" i x-formkit' in warning.message and "[[privacy fraga]]" in warning.message


def test_a_form_with_a_notice_or_without_personal_data_gets_no_warning(tmp_path):
    with_notice = form_with(
        tmp_path / "a", {"e": {"type": "string", "format": "email", "title": "E-post"}}, {"privacy": PRIVACY}
    )
    without_personal_data = form_with(tmp_path / "b", {"fraga": {"type": "string", "title": "Fråga"}})

    assert check_project(with_notice).warnings == []
    assert check_project(without_personal_data).warnings == []
    assert check_project(with_notice).forms["fraga"].settings.privacy.recipients == ("kansliet", "arkivet")


def test_a_notice_missing_a_required_part_is_an_error_that_names_the_parts(tmp_path):
    partial = {key: value for key, value in PRIVACY.items() if key != "retention"}
    checked = check_project(
        form_with(tmp_path, {"e": {"type": "string", "format": "email", "title": "E-post"}}, {"privacy": partial})
    )

    (problem,) = checked.problems
    assert "x-formkit.privacy" in str(problem) and "retention" in str(problem)


def test_the_directive_writes_one_section_per_part_with_the_kits_texts_where_the_form_has_none(tmp_path):
    schema_dir = form_with(
        tmp_path, {"e": {"type": "string", "format": "email", "title": "E-post"}}, {"privacy": PRIVACY}
    )
    form = load_forms(schema_dir)["fraga"]

    html = markdown.markdown("\n".join(privacy_notice(form)))

    assert re.findall(r"<h2>(.*?)</h2>", html) == [
        "Vem är personuppgiftsansvarig?",
        "Dataskyddsombud",
        "Varför behandlas uppgifterna?",
        "Vilken är den rättsliga grunden?",
        "Vem får uppgifterna?",
        "Uppgifterna skickas med e-post",
        "Hur länge sparas uppgifterna?",
        "Dina rättigheter",
        "Klagomål till Integritetsskyddsmyndigheten",
    ]
    assert "<li>kansliet</li>" in html and "registerutdrag" in html and "https://www.imy.se/" in html


def test_a_page_that_shows_the_notice_of_a_form_without_one_fails_the_build(tmp_path):
    form = load_forms(form_with(tmp_path, {"fraga": {"type": "string"}}))["fraga"]

    with pytest.raises(FormDefinitionError, match='har inget "privacy"'):
        privacy_notice(form)


def test_the_receipt_e_mail_links_to_the_notice(client, smtp_server):
    assert client.post("/api/forms/bus-avvikelse", data=valid_answers()).status_code == 303

    messages = smtp_server.inbox.wait_for(4)  # one per receiving unit, the copy and the receipt
    [receipt] = [m for m in messages if ".receipt@" in m["Message-ID"]]
    assert "/personuppgifter/" in receipt.get_body(("plain",)).get_content()


def test_the_privacy_page_is_built_from_the_schema(tmp_path):
    from projects import build, copy_project

    root = copy_project(tmp_path / "project")
    schema = root / "schema" / "bus-avvikelse.json"
    text = schema.read_text(encoding="utf-8")
    schema.write_text(text.replace("högst 30 dagar efter sista svarsdag", "högst 45 dagar efter sista svarsdag"))

    page = (build(root) / "personuppgifter" / "index.html").read_text(encoding="utf-8")

    assert "högst 45 dagar efter sista svarsdag" in page and 'id="vem-far-uppgifterna"' in page
    shutil.rmtree(root / "public")
