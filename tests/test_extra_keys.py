"""Extra keys: a key no field has is refused on every form the tests know, on both paths, or it is delivered.

An answer that is accepted (201) but missing from the DOCX and the e-mail is lost. So every object of every
form (the root, each group, a row of each repeated group) gets one extra key, sent as JSON and form-encoded:
the answer must be a 4xx that names the key, or, if it is accepted, the value must be in the DOCX.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from corpus import CORPUS, Example, entry, form_id, names
from jsonschema import Draft202012Validator

from handler import normalise, reply
from handler.app import create_app
from handler.check import check_project
from handler.fields import PAIRS
from handler.forms import FORM_ID, Kind
from handler.reference import TIMEZONE
from handler.register import new_report
from support import docx_text, valid_answers

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
EXTRA, VALUE = "extranyckel", "Extravärde 4711"


def known_forms() -> list[tuple[str, dict | None, Path]]:
    """Return every form the tests know: the project's own folder, each fixture form and each corpus schema."""
    found: list[tuple[str, dict | None, Path]] = [("schema", None, ROOT / "schema")]
    for path in sorted(FIXTURES.rglob("*.json")):
        # aws/ holds no forms; corpus/ is added below; json-schema-test-suite/ holds test cases, not form files.
        data = {"aws", "corpus", "json-schema-test-suite"} & set(path.relative_to(FIXTURES).parts)
        if data or path.name == "identity-numbers.json":
            continue
        if '"properties"' in path.read_text(encoding="utf-8"):
            found.append((path.stem, json.loads(path.read_text(encoding="utf-8")), path))
    found += [(form_id(name), entry(name)["schema"], CORPUS / f"{name}.json") for name in names()]
    return found


def objects_of(form) -> list[tuple]:
    """Return the concrete path of every object in a form: the root, each group, the first row of each list."""
    found = []
    for node in form.root.walk():
        if node.kind == Kind.GROUP and PAIRS not in node.path:  # a name–value row is no object of the form's
            # A row is its first; a tuple's position ("0") is its number in the answers, as a row's is.
            found.append(tuple(0 if part == "*" else int(part) if part.isdigit() else part for part in node.path))
    return found


def nest(path: tuple, value) -> dict:
    """Return a JSON answer with `value` at `path`; a row number makes a list."""
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


@pytest.fixture(params=known_forms(), ids=lambda known: known[0])
def known(request, config, tmp_path):
    """The app serving one known form (or the project's own forms); None when `formkit check` refuses the form."""
    name, schema, folder = request.param
    if schema is not None:
        folder = tmp_path / "schema"
        folder.mkdir()
        form_name = name if FORM_ID.match(name) else form_id(name)
        (folder / f"{form_name}.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    if check_project(folder, None).problems:
        return None  # refused, so nothing can be posted to it: nothing is accepted and dropped
    app = create_app({**config, "SCHEMA_DIR": str(folder)})
    return app, app.extensions["formkit.forms"]


def delivered(smtp_server, before: int) -> str:
    """Return the text of the DOCX of the first message that arrived after the first `before`."""
    message = smtp_server.inbox.wait_for(before + 1)[before]
    return "\n".join(
        docx_text(part.get_content())
        for part in message.iter_attachments()
        if (part.get_filename() or "").endswith(".docx")
    )


def valid_base(form) -> dict:
    """Return valid answers for the form made from its schema (tests/corpus.py), or {} when none are found."""
    made = Example(form.schema).make(form.schema)
    return made if isinstance(made, dict) and Draft202012Validator(form.schema).is_valid(made) else {}


def put(answers, where: tuple, value):
    """Return a copy of `answers` with `value` at `where`, making the objects and rows on the way."""
    if not where:
        return value
    head, rest = where[0], where[1:]
    if isinstance(head, int):
        rows = list(answers) if isinstance(answers, list) else []
        rows += [{}] * (head + 1 - len(rows))
        rows[head] = put(rows[head], rest, value)
        return rows
    found = dict(answers) if isinstance(answers, dict) else {}
    found[head] = put(found.get(head), rest, value)
    return found


def token_for(app, forms, form) -> dict:
    """Return the answer link's token field an answer form needs (a report recorded for it), else nothing."""
    if not form.settings.reply_of:
        return {}
    report = forms[form.settings.reply_of]
    data = normalise.clean(normalise.from_pairs(report, list(valid_answers().items())))
    created = datetime.datetime(2026, 11, 22, 14, 3, tzinfo=TIMEZONE)
    reference = "BUS-20261122-7KQ2MX"
    app.extensions["formkit.register"].record(new_report(report, data, reference, created))
    return {"_token": reply.issue(app.extensions["formkit.settings"].links, form.id, reply.Link(reference, 1))}


def test_an_extra_key_in_any_object_of_any_form_is_refused_or_delivered(known, smtp_server):
    if known is None:
        return
    app, forms = known
    client = app.test_client()
    for form in forms.values():
        token, base = token_for(app, forms, form), valid_base(form)
        for path in objects_of(form):
            where = path + (EXTRA,)
            name = ".".join(str(p) for p in where)
            takes = any(child.kind == Kind.PAIRS for child in form.field_at(path).children)
            before = len(smtp_server.inbox.messages)
            as_json = client.post(f"/api/forms/{form.id}", json={**put(base, where, VALUE), **token})
            posted = {name: VALUE, **token}
            if takes:  # the rows a page offers for keys of one's own
                rows = ".".join(str(p) for p in path + (PAIRS, 0))
                posted = {f"{rows}.namn": EXTRA, f"{rows}.varde": VALUE, **token}
            as_pairs = client.post(f"/api/forms/{form.id}", data=posted, headers={"Accept": "application/json"})
            for answer in (as_json, as_pairs):
                if answer.status_code == 201:
                    text = delivered(smtp_server, before)
                    assert EXTRA in text and VALUE in text, f"{form.id} {name}: accepted and dropped"
                    before += 1 + bool(form.settings.mail.receipt_to)
                    continue
                assert 400 <= answer.status_code < 500, (form.id, name, answer.status_code)
                problem = answer.get_json()
                named = [e["name"] for e in problem.get("errors", [])]
                assert not takes or answer is as_pairs, (
                    f"{form.id} {name}: valid answers with a key of their own refused"
                )
                assert name in named or EXTRA in problem["detail"] or takes, (form.id, name, json.dumps(problem)[:400])


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("additionalProperties", {"type": "object"}),
        ("patternProperties", {"^x_": {"type": "string"}, "^y_": {"type": "integer"}}),
    ],
)
def test_a_group_taking_keys_the_kit_cannot_deliver_is_refused_by_check_naming_file_line_field_and_keyword(
    tmp_path, keyword, value
):
    folder = tmp_path / "schema"
    folder.mkdir()
    schema = {
        "title": "Anmälan",
        "type": "object",
        "properties": {
            "namn": {"type": "string", "title": "Namn"},
            "extra": {"type": "object", "title": "Övrigt", "properties": {}, keyword: value},
        },
    }
    (folder / "anmalan.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    [problem] = check_project(folder, None).problems
    assert problem.file.endswith("anmalan.json")
    assert problem.field == "extra"
    assert problem.line == json.dumps(schema, indent=2).splitlines().index(f'      "{keyword}": {{') + 1
    assert f'"{keyword}"' in problem.message


@pytest.mark.parametrize("written", [{}, {"additionalProperties": True}, {"additionalProperties": False}])
def test_a_group_is_closed_whether_additional_properties_is_absent_true_or_false(tmp_path, config, written):
    folder = tmp_path / "schema"
    folder.mkdir()
    schema = {"title": "Anmälan", "type": "object", "properties": {"namn": {"type": "string", "title": "Namn"}}}
    (folder / "anmalan.json").write_text(json.dumps({**schema, **written}), encoding="utf-8")
    client = create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()
    answer = client.post("/api/forms/anmalan", json={"namn": "Ann", "okand": "x"})
    assert answer.status_code == 422
    assert answer.json["errors"] == [
        {
            "path": "/okand",
            "name": "okand",
            "label": "okand",
            "message": 'Formuläret har inget fält som heter "okand". Ta bort det.',
            "summary": 'Formuläret har inget fält som heter "okand". Ta bort det.',
        }
    ]


@pytest.mark.parametrize("schema", [{}, {"$comment": "Ett utkast"}])
def test_a_form_without_type_or_properties_has_no_questions_and_refuses_any_key(tmp_path, config, schema):
    """A form that says nothing (the Blank sample): no questions; a key posted to it was once dropped.

    A title or description without a type is one question of any value since (react-jsonschema-form's
    "Fallback"; tests/test_types.py), so only a schema that says nothing it asks is left here."""
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "tom.json").write_text(json.dumps(schema), encoding="utf-8")
    client = create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()

    answer = client.post("/api/forms/tom", json={"svar": 1234})

    assert answer.status_code == 422
    assert [error["path"] for error in answer.json["errors"]] == ["/svar"]
    assert client.post("/api/forms/tom", json={}).status_code == 201  # no questions, and it still sends
