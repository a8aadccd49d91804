"""`formkit check`: one Swedish line per problem naming file, line, field and what to do; the same check
runs in the site build and at the handler's start."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import markdown
import pytest
from jsonschema import Draft202012Validator

from handler.app import create_app
from handler.check import check_project
from handler.cli import main
from handler.conventions import KIT_SCHEMA, KIT_SCHEMA_PATH, Problem, in_order
from handler.errors import FormDefinitionError

ROOT = Path(__file__).resolve().parent.parent
TODO = re.compile(r"\b(Rätta|Lägg|Ta bort|Ändra|Välj|Använd|Skriv|Byt|Kontrollera|Ge |Ange|Peka|Skapa|Menade)")
# A form that asks for an e-mail address needs a privacy notice, or the check warns.
PRIVACY = {
    "controller": "Kommunen",
    "contact": "kansliet@kommun.se",
    "data_protection_officer": "dataskyddsombud@kommun.se",
    "purpose": "Att besvara anmälan",
    "legal_basis": "Allmänt intresse",
    "recipients": ["kansliet"],
    "retention": "Ett år",
}
GOOD = {
    "title": "Anmälan",
    "type": "object",
    "x-formkit": {"mail": {"to": ["/kontakt/epost"]}, "privacy": PRIVACY},
    "required": ["namn"],
    "properties": {
        "namn": {"type": "string", "title": "Namn"},
        "antal": {"type": "integer", "title": "Antal", "minimum": 1},
        "kontakt": {
            "type": "object",
            "title": "Kontakt",
            "properties": {"epost": {"type": "string", "format": "email", "title": "E-post"}},
        },
    },
}


def project(tmp_path: Path, schemas: dict[str, str | dict], pages: dict[str, str] | None = None) -> Path:
    """Write schema files (text or objects) and docs pages; by default each form gets its own page."""
    (tmp_path / "schema").mkdir(exist_ok=True)
    (tmp_path / "docs").mkdir(exist_ok=True)
    for name, content in schemas.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=2, ensure_ascii=False)
        (tmp_path / "schema" / f"{name}.json").write_text(text, encoding="utf-8")
    if pages is None:
        pages = {f"{name}.md": f"# {name}\n\n[[form {name}]]\n" for name in schemas}
    for name, text in pages.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    return tmp_path


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def lines(problems) -> list[str]:
    """The problems as `formkit check` prints them."""
    return [str(problem) for problem in problems]


def problems(tmp_path: Path, schema) -> list[str]:
    return lines(check_project(project(tmp_path, {"anmalan": schema}) / "schema").problems)


def mutated(change) -> dict:
    schema = copy.deepcopy(GOOD)
    change(schema)
    return schema


CASES = [
    (
        "unknown x- keyword",
        lambda s: s["properties"]["namn"].update({"x-widgett": "textarea"}),
        '"x-widgett"',
        ['fältet "namn"', 'okänt nyckelord "x-widgett"', 'Menade du "x-widget"?'],
    ),
    (
        "unknown setting",
        lambda s: s["x-formkit"].update({"refrence_prefix": "ANM"}),
        '"refrence_prefix"',
        ['inställningen "x-formkit.refrence_prefix"', 'Menade du "reference_prefix"?'],
    ),
    (
        "unknown mail setting",
        lambda s: s["x-formkit"]["mail"].update({"subjekt": "Ny"}),
        '"subjekt"',
        ['okänd inställning "subjekt"', 'Menade du "subject"?'],
    ),
    (
        "unsupported widget",
        lambda s: s["properties"]["namn"].update({"x-widget": "dropdown"}),
        '"dropdown"',
        ['fältet "namn"', '"x-widget" kan inte vara "dropdown"', "textarea"],
    ),
    (
        "unsupported format",
        lambda s: s["properties"]["kontakt"]["properties"]["epost"].update({"format": "e-mail"}),
        '"e-mail"',
        ['fältet "kontakt.epost"', '"format" kan inte vara "e-mail"', '"email" och "date"'],
    ),
    (
        "name with å, ä, ö",
        lambda s: s["properties"].update({"född": {"type": "string", "title": "Född"}}),
        '"född"',
        ['namnet "född" går inte att använda', 'Byt namn på fältet. Till exempel "fodd"'],
    ),
    (
        "required names a missing field",
        lambda s: s["required"].append("epost"),
        '"epost"',
        ['"required" nämner "epost"', "Rätta namnet"],
    ),
    (
        "routing path to no e-mail field",
        lambda s: s["x-formkit"]["mail"].update({"to": ["/kontakt/epst"]}),
        '"/kontakt/epst"',
        ['inställningen "x-formkit.mail.to"', "pekar inte på ett e-postfält", 'till exempel "/kontakt/epost"'],
    ),
    (
        "routing path to a text field",
        lambda s: s["x-formkit"]["mail"].update({"cc": "/namn"}),
        '"/namn"',
        ['"x-formkit.mail.cc"', 'sökvägen "/namn" pekar inte på ett e-postfält'],
    ),
    (
        "misspelt type",
        lambda s: s["properties"]["antal"].update({"type": "intger"}),
        '"intger"',
        ['fältet "antal"', 'typen "intger" finns inte', '"integer"'],
    ),
    (
        "number written as text",
        lambda s: s["properties"]["antal"].update({"minimum": "1"}),
        '"minimum"',
        ['"minimum" ska vara ett tal, inte "1"', "utan citattecken"],
    ),
    (
        "reference prefix in lower case",
        lambda s: s["x-formkit"].update({"reference_prefix": "anm"}),
        '"reference_prefix"',
        ['"reference_prefix" kan inte vara "anm"', "versaler"],
    ),
    (
        "$ref to a missing part",
        lambda s: s["properties"].update({"typ": {"$ref": "#/$defs/typ"}}),
        '"#/$defs/typ"',
        ['fältet "typ"', '"$ref" pekar på "#/$defs/typ" som inte finns'],
    ),
    (
        "list of lists",  # a list of simple values is a list of rows (issue 14); a list of lists is not
        lambda s: s["properties"].update({"rader": {"type": "array", "title": "Rader", "items": {"type": "array"}}}),
        '"rader"',
        ['fältet "rader"', 'en lista ska ha "items"'],
    ),
    (
        "radio buttons without choices",
        lambda s: s["properties"]["namn"].update({"x-widget": "radio"}),
        '"x-widget"',
        ['"x-widget": "radio" behöver val', '"oneOf"'],
    ),
    (
        "own error message for an unknown rule",
        lambda s: s["properties"]["namn"].update({"x-messages": {"requird": "Ange namnet"}}),
        '"x-messages"',
        ['"x-messages" har regeln "requird"', 'Menade du "required"?'],
    ),
    (
        "$id that is not the file name",
        lambda s: s.update({"$id": "bus-avvikelse"}),
        '"$id"',
        ['"$id" är "bus-avvikelse" men filen heter anmalan.json', 'Ändra "$id" till "anmalan"'],
    ),
    (
        "a form that is not an object",
        lambda s: s.update({"type": "array"}),
        '"type": "array"',
        ['"type" kan inte vara "array"', 'Ett formulär ska ha "type": "object"'],
    ),
]


@pytest.mark.parametrize(("change", "needle", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_one_swedish_line_naming_file_line_field_and_what_to_do(tmp_path, change, needle, expected):
    schema = mutated(change)
    text = json.dumps(schema, indent=2, ensure_ascii=False)

    found = problems(tmp_path, text)

    assert len(found) == 1, found
    line = found[0]
    assert "\n" not in line
    assert line.startswith(f"{tmp_path / 'schema' / 'anmalan.json'}:{line_of(text, needle)}: ")
    for fragment in expected:
        assert fragment in line
    assert TODO.search(line), line


def test_a_json_syntax_error_names_line_column_and_the_nearest_key(tmp_path):
    text = '{\n  "title": "Anmälan",\n  "type": "object"\n  "properties": {}\n}\n'

    (line,) = problems(tmp_path, text)

    assert re.match(r".*anmalan\.json:4:3: ogiltig JSON \(nära \"type\"\): ett kommatecken saknas", line)


def test_a_trailing_comma_is_named_as_such(tmp_path):
    text = '{\n  "type": "object",\n  "properties": {\n    "namn": {"type": "string", "title": "Namn"},\n  }\n}\n'

    (line,) = problems(tmp_path, text)

    assert ":5:3: ogiltig JSON" in line and "kommatecken för mycket" in line


def test_a_key_written_twice_is_a_problem_on_the_second_line(tmp_path):
    text = (
        '{\n  "type": "object",\n  "properties": {\n    "namn": {"type": "string", "title": "Namn"},\n'
        '    "namn": {"type": "string", "title": "Efternamn"}\n  }\n}\n'
    )

    (line,) = problems(tmp_path, text)

    assert ':5: fältet "namn": står två gånger (rad 4 och 5)' in line and "Ta bort den ena" in line


def test_every_mistake_in_a_file_is_listed_in_line_order(tmp_path):
    schema = mutated(lambda s: s["properties"]["namn"].update({"x-widgett": "textarea", "format": "e-mail"}))
    schema["x-formkit"]["refrence_prefix"] = "ANM"
    text = json.dumps(schema, indent=2, ensure_ascii=False)

    found = problems(tmp_path, text)

    assert len(found) == 3
    numbers = [int(line.split(":")[1]) for line in found]
    assert numbers == sorted(numbers)


def test_a_missing_title_is_a_warning_and_the_label_comes_from_the_name(tmp_path):
    schema = mutated(lambda s: s["properties"].update({"fodelsedatum": {"type": "string", "format": "date"}}))
    checked = check_project(project(tmp_path, {"anmalan": schema}) / "schema")

    assert checked.problems == []
    (warning,) = lines(checked.warnings)
    assert 'fältet "fodelsedatum": saknar "title", så etiketten blir "Fodelsedatum"' in warning
    assert checked.forms["anmalan"].field_at(("fodelsedatum",)).title == "Fodelsedatum"


def test_ids_are_unique_across_files(tmp_path):
    first = mutated(lambda s: s.update({"$id": "https://example.org/anmalan"}))
    root = project(tmp_path, {"anmalan": first, "anmalan-kopia": first})

    found = lines(check_project(root / "schema").problems)

    assert len(found) == 1
    assert "anmalan-kopia.json" in found[0] and "används redan av" in found[0]


def test_a_reply_form_must_exist(tmp_path):
    schema = mutated(lambda s: s["x-formkit"].update({"reply_form": "anmalan-svr"}))
    root = project(tmp_path, {"anmalan": schema, "anmalan-svar": GOOD}, {"a.md": "[[form anmalan]]\n"})

    found = lines(check_project(root / "schema").problems)

    assert any('svarsformuläret "anmalan-svr" finns inte' in p and 'Menade du "anmalan-svar"?' in p for p in found)


def test_a_file_name_must_be_a_form_id(tmp_path):
    found = lines(check_project(project(tmp_path, {"Ny_Blankett": GOOD}) / "schema").problems)

    assert any("Ny_Blankett.json:1:" in p and "filnamnet blir formulärets id" in p for p in found)


# ---- pages: each form on exactly one page ----


def test_a_form_on_no_page_is_a_problem(tmp_path):
    root = project(tmp_path, {"anmalan": GOOD}, {"index.md": "# Start\n"})

    (line,) = lines(check_project(root / "schema").problems)

    assert line.startswith(f"{root / 'schema' / 'anmalan.json'}:1:")
    assert "står inte på någon sida" in line and "[[form anmalan]]" in line


def test_a_form_on_two_pages_is_a_problem_naming_both(tmp_path):
    pages = {"a.md": "# A\n\n[[form anmalan]]\n", "b.md": "# B\n\nText\n\n[[form anmalan]]\n"}
    root = project(tmp_path, {"anmalan": GOOD}, pages)

    (line,) = lines(check_project(root / "schema").problems)

    assert line.startswith(f"{root / 'docs' / 'b.md'}:5: ")
    assert f"står redan på {root / 'docs' / 'a.md'}:3" in line and "bara finnas på en sida" in line


def test_a_page_naming_an_unknown_form_is_a_problem(tmp_path):
    pages = {"a.md": "[[form anmalan]]\n", "b.md": "# B\n[[form anmaln]]\n"}
    root = project(tmp_path, {"anmalan": GOOD}, pages)

    (line,) = lines(check_project(root / "schema").problems)

    assert line.startswith(f"{root / 'docs' / 'b.md'}:2: ")
    assert 'formuläret "anmaln", som inte finns' in line and 'Menade du "anmalan"?' in line


def test_a_linked_reply_form_may_be_on_no_page(tmp_path):
    report = mutated(lambda s: s["x-formkit"].update({"reply_form": "anmalan-svar"}))
    root = project(tmp_path, {"anmalan": report, "anmalan-svar": GOOD}, {"a.md": "[[form anmalan]]\n"})

    assert check_project(root / "schema").problems == []


def test_the_shipped_project_passes_the_check():
    checked = check_project(ROOT / "schema")

    assert checked.problems == [] and checked.warnings == []
    assert set(checked.forms) == {"bus-avvikelse", "bus-avvikelse-svar"}


# ---- the command ----


def test_formkit_check_exits_0_and_says_all_is_well(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(project(tmp_path, {"anmalan": GOOD}))

    assert main(["check"]) == 0

    out, err = capsys.readouterr()
    assert out == "1 formulär i schema/ är i ordning.\n" and err == ""


def test_formkit_check_prints_each_problem_and_warning_and_exits_1(tmp_path, monkeypatch, capsys):
    broken = mutated(lambda s: s["properties"]["namn"].update({"x-widgett": "textarea"}))
    untitled = mutated(lambda s: s["properties"]["namn"].pop("title"))
    monkeypatch.chdir(project(tmp_path, {"anmalan": broken, "enkel": untitled}))

    assert main(["check"]) == 1

    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[0].startswith("schema/anmalan.json:") and "x-widgett" in lines[0]
    assert lines[1].startswith("varning: schema/enkel.json:") and 'saknar "title"' in lines[1]
    assert lines[2] == "1 problem i schema/ och 1 varning. Rätta raderna ovan och kör formkit check igen."
    assert out == ""


def test_formkit_check_with_only_warnings_exits_0(tmp_path, monkeypatch, capsys):
    untitled = mutated(lambda s: s["properties"]["namn"].pop("title"))
    monkeypatch.chdir(project(tmp_path, {"enkel": untitled}))

    assert main(["check"]) == 0

    out, err = capsys.readouterr()
    assert "varning:" in err and out == "1 formulär i schema/ är i ordning (1 varning).\n"


def test_formkit_check_as_json_lists_the_same_problems_for_tools_and_ci(tmp_path, monkeypatch, capsys):
    broken = mutated(lambda s: s["properties"]["namn"].update({"x-widgett": "textarea"}))
    untitled = mutated(lambda s: s["properties"]["namn"].pop("title"))
    monkeypatch.chdir(project(tmp_path, {"anmalan": broken, "enkel": untitled}))
    assert main(["check"]) == 1
    printed = capsys.readouterr().err.splitlines()[:-1]  # the text, without its summary line

    assert main(["check", "--format", "json"]) == 1

    out, err = capsys.readouterr()
    found = json.loads(out)
    assert err == ""
    assert [entry["severity"] for entry in found] == ["error", "warning"]
    error, warning = found
    assert set(error) == {"file", "line", "column", "field", "message", "severity"}
    assert (error["file"], error["field"], error["column"]) == ("schema/anmalan.json", "namn", None)
    assert error["message"].startswith('okänt nyckelord "x-widgett". Menade du "x-widget"?')
    assert (warning["file"], warning["field"]) == ("schema/enkel.json", "namn")
    assert printed == [
        f"{'varning: ' if e['severity'] == 'warning' else ''}{e['file']}:{e['line']}: "
        f'fältet "{e["field"]}": {e["message"]}'
        for e in found
    ]


def test_formkit_check_as_json_prints_an_empty_list_and_exits_0_when_all_is_well(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(project(tmp_path, {"anmalan": GOOD}))

    assert main(["check", "--format", "json"]) == 0

    assert json.loads(capsys.readouterr().out) == []


def test_formkit_check_as_json_gives_a_syntax_error_its_line_and_column(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(project(tmp_path, {"anmalan": '{\n  "type": "object"\n  "properties": {}\n}\n'}))

    assert main(["check", "--format", "json"]) == 1

    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["line"], entry["column"], entry["field"]) == (3, 3, "")
    assert entry["message"].startswith("ogiltig JSON")


def test_formkit_check_reads_the_folders_from_the_environment(tmp_path, monkeypatch, capsys):
    root = project(tmp_path, {"anmalan": GOOD}, {})
    (root / "sidor").mkdir()
    (root / "sidor" / "a.md").write_text("[[form anmalan]]\n", encoding="utf-8")
    monkeypatch.setenv("FORMKIT_SCHEMA_DIR", str(root / "schema"))
    monkeypatch.setenv("FORMKIT_DOCS_DIR", str(root / "sidor"))

    assert main(["check"]) == 0


# ---- problems are data; a form that failed gets no consequential problems ----


def test_problems_are_sorted_by_file_and_line_and_repeats_dropped_as_values():
    later = Problem("schema/a.json", 10, message="sist")
    early = Problem("schema/a.json", 2, message="först")
    page = Problem("docs/a.md", 1, message="sidan")
    whole = Problem("schema/a.json", None, message="hela filen")
    other = Problem("schema/b.json", 1, message="annan fil")

    assert in_order([page, later, other, early, later, whole]) == [whole, early, later, other, page]


def test_a_problem_becomes_one_line_only_when_printed():
    problem = Problem("schema/a.json", 4, None, "kontakt.epost", "Rätta värdet.", "error", 'fältet "kontakt.epost"')

    assert str(problem) == 'schema/a.json:4: fältet "kontakt.epost": Rätta värdet.'
    assert str(Problem("schema/a.json", 4, 3, message="ogiltig JSON")) == "schema/a.json:4:3: ogiltig JSON"
    assert str(Problem("schema", message="mappen finns inte.")) == "schema: mappen finns inte."
    assert problem.as_json()["field"] == "kontakt.epost" and problem.as_json()["line"] == 4


def shipped_project(tmp_path: Path) -> Path:
    for folder in ("schema", "docs"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_one_bad_title_is_one_problem_with_no_warning_and_no_blame_on_the_answer_form(tmp_path):
    root = shipped_project(tmp_path)
    path = root / "schema" / "bus-avvikelse.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["properties"]["handelsetyp"]["title"] = 5
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")

    checked = check_project(root / "schema")

    (problem,) = checked.problems
    assert problem.file == str(path) and problem.field == "handelsetyp" and '"title" ska vara en text' in str(problem)
    assert checked.warnings == []
    assert set(checked.forms) == {"bus-avvikelse-svar"}


def test_a_report_with_broken_json_does_not_blame_its_answer_form(tmp_path):
    root = shipped_project(tmp_path)
    path = root / "schema" / "bus-avvikelse.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"type": "object",', '"type": "object"', 1))

    (problem,) = check_project(root / "schema").problems

    assert problem.file == str(path) and "ogiltig JSON" in problem.message


def test_an_answer_form_that_no_report_links_to_is_still_told_about_its_token(tmp_path):
    root = shipped_project(tmp_path)
    (root / "schema" / "bus-avvikelse.json").unlink()
    (root / "docs" / "rapportera.md").write_text("# Rapportera\n", encoding="utf-8")

    (problem,) = check_project(root / "schema").problems

    assert problem.file.endswith("bus-avvikelse-svar.json") and '"token" betyder adressen' in problem.message


# ---- the build and the handler run the same check ----


def test_the_handler_refuses_to_start_with_a_form_on_no_page(tmp_path):
    root = project(tmp_path, {"anmalan": GOOD}, {"index.md": "# Start\n"})

    with pytest.raises(FormDefinitionError) as caught:
        create_app({"TESTING": True, "SCHEMA_DIR": str(root / "schema"), "OUTBOX_DIR": ""})

    assert "står inte på någon sida" in caught.value.problems[0]


def test_the_site_build_refuses_a_form_on_two_pages(tmp_path):
    root = project(tmp_path, {"anmalan": GOOD}, {"a.md": "[[form anmalan]]\n", "b.md": "[[form anmalan]]\n"})
    config = {"formkit": {"schema_dir": str(root / "schema")}}

    with pytest.raises(FormDefinitionError) as caught:
        markdown.Markdown(extensions=["formkit"], extension_configs=config).convert("[[form anmalan]]")

    assert "står redan på" in caught.value.problems[0]


def test_the_site_build_renders_a_form_that_passes(tmp_path):
    root = project(tmp_path, {"anmalan": GOOD})
    md = markdown.Markdown(extensions=["formkit"], extension_configs={"formkit": {"schema_dir": str(root / "schema")}})

    html = md.convert("# Anmälan\n\n[[form anmalan]]\n")

    assert 'data-formkit="anmalan"' in html and 'name="kontakt.epost"' in html


# ---- the kit's own schema: one source of truth for the editor and the check ----


def test_vscode_maps_the_schema_folder_to_the_shipped_kit_schema():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))

    (mapping,) = settings["json.schemas"]
    assert mapping["fileMatch"] == ["schema/*.json"]
    assert (ROOT / mapping["url"]).resolve() == KIT_SCHEMA_PATH


def test_the_kit_schema_is_a_valid_schema_that_lists_each_x_keyword_once():
    Draft202012Validator.check_schema(KIT_SCHEMA)
    keywords = [k for k in KIT_SCHEMA["$defs"]["keywords"]["properties"] if k.startswith("x-")]
    allowed = KIT_SCHEMA["$defs"]["field"]["propertyNames"]["anyOf"][1]["enum"]
    at_root = KIT_SCHEMA["propertyNames"]["anyOf"][1]["enum"]
    assert sorted(allowed) == sorted(keywords)
    assert sorted(at_root) == sorted(keywords + ["x-formkit"])


def test_what_vscode_validates_agrees_with_the_check():
    validator = Draft202012Validator(KIT_SCHEMA)
    for path in (ROOT / "schema").glob("*.json"):
        assert list(validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))) == []
    broken = mutated(lambda s: s["properties"]["namn"].update({"x-widgett": "textarea"}))
    (error,) = validator.iter_errors(broken)
    assert "x-widgett" in str(error.instance) and "errorMessage" in error.schema


ODD = [
    [],
    {"properties": []},
    {"properties": {"a": True}},
    {"properties": {"a": {"type": "string"}}, "required": "a"},
    {"properties": {"a": {"type": "array", "items": [1]}}},  # a draft-07 tuple is a form (issue 14); of a number, not
    {"properties": {"a": {"title": 5, "type": "string"}}},
    {"properties": {"a": {"oneOf": [1, 2]}}},
    {"properties": {"a": {"$ref": "#"}}},
    {"properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"$ref": "#/$defs/a"}}},
    {"properties": {"a": {"$ref": "other.json#/x"}}},
    {"properties": {"a": {"type": "string"}}, "x-formkit": {"mail": {"to": [5, None]}}},
    {"properties": {"a": {"type": "null"}}},
    {"properties": {"a": {"type": "string", "pattern": "("}}},
    {"properties": {"a": {"type": "string", "x-messages": 5}}},
]


@pytest.mark.parametrize("schema", ODD, ids=[json.dumps(s)[:40] for s in ODD])
def test_an_odd_schema_is_a_problem_with_a_line_never_a_crash(tmp_path, schema):
    found = problems(tmp_path, json.dumps(schema))

    assert found and all(re.match(r".*anmalan\.json:\d+: ", line) and TODO.search(line) for line in found), found


def test_draft_07_definitions_are_checked_as_defs_are_naming_the_part_and_the_field(tmp_path):
    person = {"type": "object", "properties": {"Har du husdjur?": {"type": "string"}}}
    schema = {
        "title": "Anmälan",
        "type": "object",
        "definitions": {"person": person},
        "properties": {"agare": {"title": "Ägare", "$ref": "#/definitions/person"}},
    }

    found = problems(tmp_path, schema)

    line = line_of(json.dumps(schema, indent=2, ensure_ascii=False), '"Har du husdjur?"')
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'schema' / 'anmalan.json'}:{line}: "), found
    assert 'delen "person" i "definitions", fältet "Har du husdjur?": namnet "Har du husdjur?"' in found[0]
