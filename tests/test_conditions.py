"""Conditional questions (if/then/else, dependentRequired, dependentSchemas, draft-07 dependencies): read into
Field.condition, rendered with a hint that says when to answer, kept only when they apply, in the DOCX in order."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler import pipeline
from handler.app import create_app
from handler.body import read_body
from handler.check import check_project
from handler.conditions import Condition, applies, hidden_paths, prune
from handler.document import render_report
from handler.errors import Invalid
from handler.reference import TIMEZONE
from handler.render import render_form
from handler.review import sections
from support import attachment, docx_text

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conditions"
URL = "/api/forms/husdjur"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def form():
    checked = check_project(FIXTURE / "schema")
    assert checked.problems == []
    return checked.forms["husdjur"]


@pytest.fixture
def client(config):
    return create_app({**config, "SCHEMA_DIR": str(FIXTURE / "schema")}).test_client()


def write(tmp_path: Path, schema: dict) -> list[str]:
    """Return the problems `formkit check` finds in one form file, one line each."""
    folder = tmp_path / "schema"
    folder.mkdir(exist_ok=True)
    (folder / "prov.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")
    return [str(problem) for problem in check_project(folder).problems]


def base(**extra) -> dict:
    properties = {
        "husdjur": {"type": "string", "title": "Har du husdjur?", "enum": ["Ja", "Nej"]},
        "antal": {"type": "integer", "title": "Antal"},
    }
    return {"title": "Prov", "type": "object", "properties": properties, **extra}


# ---- the field model ----


def test_questions_a_condition_adds_stand_right_after_the_question_they_depend_on(form):
    names = [child.name for child in form.root.children]

    assert names == ["namn", "husdjur", "djur", "tips", "kontakt", "telefon", "adress", "meddelande", "amne"]
    assert form.field_at(("djur",)).condition == Condition.is_in("husdjur", ["ja"])
    assert form.field_at(("tips",)).condition == Condition.is_in("husdjur", ["nej"])  # else: the other choices
    assert form.field_at(("telefon",)).condition == Condition.is_in("kontakt", ["telefon"])
    assert form.field_at(("amne",)).condition is None
    assert form.field_at(("amne",)).required_when == Condition.answered("meddelande")


def test_an_if_on_an_optional_question_applies_while_it_is_unanswered_as_json_schema_says(tmp_path):
    schema = base(**{"if": {"properties": {"husdjur": {"const": "Ja"}}}, "then": {"properties": {"djur": {}}}})
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "prov.json").write_text(json.dumps(schema), encoding="utf-8")
    condition = check_project(tmp_path / "schema").forms["prov"].field_at(("djur",)).condition

    assert condition.holds({}) and condition.holds({"husdjur": "Ja"}) and not condition.holds({"husdjur": "Nej"})


def test_draft_07_dependencies_as_a_list_make_a_question_required_when_another_is_answered(tmp_path):
    schema = base(dependencies={"antal": ["husdjur"]}, dependentSchemas={"husdjur": {"properties": {"ras": {}}}})
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "prov.json").write_text(json.dumps(schema), encoding="utf-8")
    found = check_project(tmp_path / "schema").forms["prov"]

    assert found.field_at(("husdjur",)).required_when == Condition.answered("antal")
    assert found.field_at(("ras",)).condition == Condition.answered("husdjur")


def test_conditions_compare_as_json_schema_does_so_true_is_not_one():
    condition = Condition.is_in("x", [1])

    assert condition.holds({"x": 1}) and condition.holds({"x": 1.0})
    assert not condition.holds({"x": True}) and not condition.holds({"x": "1"}) and not condition.holds({})


# ---- formkit check ----


@pytest.mark.parametrize(
    ("extra", "key", "needle"),
    [
        ({"if": {"properties": {"husdjur": {"pattern": "^J"}}}, "then": {}}, '"pattern":', '"husdjur" med "pattern"'),
        ({"if": {"properties": {"antal": {"minimum": 3}}}, "then": {}}, '"minimum":', 'jämför "antal" med "minimum"'),
        ({"if": {"properties": {"katt": {"const": 1}}}, "then": {}}, '"katt":', 'nämner "katt"'),
        ({"if": {"properties": {"antal": {"const": 1}}}, "then": {"minProperties": 2}}, '"minProperties":', "med"),
        ({"then": {"properties": {"x": {}}}}, '"then":', '"then" gäller bara tillsammans med "if"'),
        ({"dependentRequired": {"antal": ["katt"]}}, '"katt"', '"dependentRequired" nämner "katt"'),
        ({"dependencies": {"husdjur": {"oneOf": [{"properties": {"x": {}}}]}}}, '"properties":', '"husdjur" och'),
        ({"dependencies": {"antal": ["husdjur"]}, "unevaluatedProperties": False}, '"dependencies":', "Schemas"),
    ],
)
def test_check_refuses_a_condition_it_cannot_ask_naming_file_line_and_keyword(tmp_path, extra, key, needle):
    found = write(tmp_path, base(**extra))

    text = json.dumps(base(**extra), indent=2, ensure_ascii=False)
    line = text[: text.rindex(key)].count("\n") + 1
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'schema' / 'prov.json'}:{line}: ")
    assert needle in found[0]


def test_check_finds_a_typo_in_a_question_a_condition_adds_and_names_its_field(tmp_path):
    schema = base(**{"if": {"properties": {"husdjur": {"const": "Ja"}}}})
    schema["then"] = {"properties": {"djur": {"type": "string", "title": "Djur", "x-widgt": "textarea"}}}

    [problem] = write(tmp_path, schema)

    assert 'fältet "djur": okänt nyckelord "x-widgt". Menade du "x-widget"?' in problem


def test_check_names_the_field_an_if_compares(tmp_path):
    [problem] = write(tmp_path, base(**{"if": {"properties": {"antal": {"minimum": 3}}}, "then": {}}))

    assert 'fältet "antal": "if" jämför "antal" med "minimum"' in problem


def test_check_refuses_additional_properties_false_which_would_refuse_every_added_question(tmp_path):
    schema = base(additionalProperties=False, **{"if": {"properties": {"husdjur": {"const": "Ja"}}}})
    schema["then"] = {"properties": {"djur": {"type": "string", "title": "Djur"}}}

    [problem] = write(tmp_path, schema)

    assert '"unevaluatedProperties": false' in problem and ":18:" in problem


def test_check_refuses_one_question_added_twice_with_different_rules(tmp_path):
    schema = base(
        allOf=[
            {"if": {"properties": {"husdjur": {"const": "Ja"}}}, "then": {"properties": {"x": {"type": "string"}}}},
            {"if": {"properties": {"husdjur": {"const": "Nej"}}}, "then": {"properties": {"x": {"type": "integer"}}}},
        ]
    )

    [problem] = write(tmp_path, schema)

    assert 'frågan "x" läggs till på två sätt' in problem


def test_check_refuses_a_condition_on_a_field_that_is_no_group(tmp_path):
    schema = base()
    schema["properties"]["antal"] |= {"if": {"minimum": 1}, "then": {"maximum": 3}}

    [problem] = write(tmp_path, schema)

    assert 'fältet "antal"' in problem and '"if" fungerar bara i en grupp' in problem


FOOD = {
    "title": "Djur",
    "type": "object",
    "properties": {"animal": {"title": "Djur", "enum": ["Cat", "Fish"]}},
    "allOf": [
        {
            "if": {"properties": {"animal": {"const": "Cat"}}},
            "then": {"properties": {"food": {"title": "Mat", "enum": ["meat", "fish"]}}, "required": ["food"]},
        },
        {
            "if": {"properties": {"animal": {"const": "Fish"}}},
            "then": {"properties": {"food": {"title": "Mat", "enum": ["insect", "fish"]}}, "required": ["food"]},
        },
        {"required": ["animal"]},
    ],
}


def food_form(tmp_path: Path):
    (tmp_path / "schema").mkdir(exist_ok=True)
    (tmp_path / "schema" / "djur.json").write_text(json.dumps(FOOD), encoding="utf-8")
    checked = check_project(tmp_path / "schema")
    assert checked.problems == []
    return checked.forms["djur"]


def test_one_question_added_with_other_choices_under_another_condition_offers_each_choice_when_it_applies(tmp_path):
    food = food_form(tmp_path).field_at(("food",))
    cat, fish = Condition.is_in("animal", ["Cat"]), Condition.is_in("animal", ["Fish"])

    assert [key for key, _ in food.choices] == ["meat", "fish", "insect"]
    assert food.condition == Condition.is_in("animal", ["Cat", "Fish"]) and food.required
    assert food.choice_conditions == {"meat": cat, "fish": Condition.any_of([cat, fish]), "insect": fish}


def test_each_choice_offered_only_sometimes_says_when_and_the_server_checks_the_choice_made(tmp_path, config):
    form = food_form(tmp_path)
    html = render_form(form, "/api/forms/djur")
    client = create_app({**config, "SCHEMA_DIR": str(tmp_path / "schema")}).test_client()

    assert 'id="f-food-when">Svara bara om ”Djur” är ”Cat” eller ”Fish”.</div>' in html
    assert 'id="f-food-1-when">Bara om ”Djur” är ”Cat”.</div>' in html
    assert 'id="f-food-3-when">Bara om ”Djur” är ”Fish”.</div>' in html
    assert 'aria-describedby="f-food-3-when"' in html
    refused = client.post("/api/forms/djur", data={"animal": "Cat", "food": "insect"}, headers=JSON)
    assert refused.status_code == 422 and [e["name"] for e in refused.json["errors"]] == ["food"]
    assert client.post("/api/forms/djur", json={"animal": "Fish", "food": "insect"}).status_code == 201


# ---- the rendered markup ----


def test_without_javascript_every_conditional_question_is_shown_with_a_hint_saying_when_to_answer(form):
    html = render_form(form, URL)

    assert 'id="f-djur-when">Svara bara om ”Har du husdjur?” är ”Ja”.</div>' in html
    assert 'id="f-telefon-when">Svara bara om ”Hur vill du bli kontaktad?” är ”Telefon”.</div>' in html
    assert 'id="f-amne-when">Måste fyllas i om ”Meddelande” har ett svar.</div>' in html
    assert 'aria-describedby="f-djur-when"' in html
    assert 'name="djur" required' not in html  # required only when it applies: formkit.js says so


def test_formkit_js_gets_each_condition_as_data_on_the_question(form):
    html = render_form(form, URL)

    assert 'data-formkit-when="{&#34;in&#34;: &#34;husdjur&#34;, &#34;values&#34;: [&#34;ja&#34;]}"' in html
    assert 'data-formkit-required-when="{&#34;answered&#34;: &#34;meddelande&#34;}"' in html


# ---- the server's verdict: JSON and form-encoded agree, answers that do not apply are dropped ----

CASES = [
    ({"namn": "Eva", "husdjur": "ja"}, ["djur"]),
    ({"namn": "Eva"}, ["husdjur"]),  # "Vilket djur har du?" is hidden until "Ja": never named
    ({"namn": "Eva", "husdjur": "nej", "kontakt": "telefon"}, ["telefon"]),
    ({"namn": "Eva", "husdjur": "nej", "kontakt": "brev", "telefon": "08-1"}, ["adress"]),
    ({"namn": "Eva", "husdjur": "nej", "meddelande": "Hej"}, ["amne"]),
    ({"namn": "Eva", "husdjur": "nej", "djur": "Katt", "kontakt": "brev", "adress": "Gatan 1", "telefon": "08"}, []),
]


@pytest.mark.parametrize(("answers", "expected"), CASES)
def test_json_and_form_bodies_get_the_same_verdict_naming_only_questions_that_apply(client, answers, expected):
    as_json = client.post(URL, json=answers)
    as_form = client.post(URL, data=urlencode(answers), content_type="application/x-www-form-urlencoded", headers=JSON)

    assert as_json.status_code == as_form.status_code == (422 if expected else 201)
    if expected:
        assert [e["name"] for e in as_json.json["errors"]] == [e["name"] for e in as_form.json["errors"]] == expected


def test_answers_to_questions_that_do_not_apply_are_dropped_before_validation(form):
    answers = {"namn": "Eva", "husdjur": "nej", "djur": "Katt", "tips": True, "kontakt": "brev", "telefon": "08"}

    assert prune(form.root, answers) == {"namn": "Eva", "husdjur": "nej", "tips": True, "kontakt": "brev"}


def test_the_error_message_for_a_telefon_left_out_is_the_fields_own(client):
    response = client.post(URL, json={"namn": "Eva", "husdjur": "nej", "kontakt": "telefon"})

    assert response.json["errors"][0]["message"] == "Ange telefonnummer"


def test_without_javascript_the_error_page_names_the_question_that_applies(client):
    response = client.post(URL, data={"namn": "Eva", "husdjur": "ja", "tips": "on"})

    assert response.status_code == 422
    assert 'href="#f-djur"' in response.text and "Svara på frågan ”Vilket djur har du?”" in response.text


# ---- what is delivered: the check page and the DOCX hold the questions that applied, in the form's order ----


def test_the_check_page_lists_only_the_questions_that_applied(form):
    data = {"namn": "Eva", "husdjur": "ja", "djur": "Katt", "kontakt": "telefon", "telefon": "08-12"}
    labels = [answer.label for section in sections(form, data) for answer in section.answers]

    assert labels == [
        "Ditt namn",
        "Har du husdjur?",
        "Vilket djur har du?",
        "Hur vill du bli kontaktad?",
        "Telefonnummer",
        "Meddelande",
        "Meddelandets ämne",
    ]


def test_the_document_holds_the_questions_that_applied_in_the_forms_order(form):
    data = {"namn": "Eva", "husdjur": "nej", "tips": True, "kontakt": "brev", "adress": "Storgatan 1"}
    created = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=TIMEZONE)

    text = docx_text(render_report(form, data, "HUSDJUR-1", created))

    assert "Vilket djur har du?" not in text and "Telefonnummer" not in text
    order = ["Har du husdjur?", "Nej", "Jag vill ha tips om att skaffa husdjur", "Ja", "Postadress", "Storgatan 1"]
    positions = [text.index(word, text.index("Har du husdjur?")) for word in order]
    assert positions == sorted(positions)


def test_a_sent_report_arrives_with_the_answers_that_applied_and_not_the_dropped_one(client, smtp_server):
    answers = {"namn": "Eva", "husdjur": "ja", "djur": "Katt", "tips": "on", "kontakt": "telefon", "telefon": "08-12"}

    response = client.post(URL, data=answers, headers=JSON)

    assert response.status_code == 201
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Katt" in text and "08-12" in text
    assert "Jag vill ha tips om att skaffa husdjur" not in text


def test_a_condition_in_a_repeated_row_reads_its_own_row(tmp_path):
    row = base(**{"if": {"properties": {"husdjur": {"const": "Ja"}}, "required": ["husdjur"]}})
    row["then"] = {"properties": {"ras": {"type": "string", "title": "Ras"}}}
    schema = {"title": "Rader", "type": "object", "properties": {"rader": {"type": "array", "items": row}}}
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "rader.json").write_text(json.dumps(schema), encoding="utf-8")
    form = check_project(tmp_path / "schema").forms["rader"]
    rows = [{"husdjur": "Ja", "ras": "Tax"}, {"husdjur": "Nej", "ras": "Tax"}]

    assert prune(form.root, {"rader": rows}) == {"rader": [rows[0], {"husdjur": "Nej"}]}
    html = render_form(form, "/api/forms/rader")
    assert 'data-formkit-field="rader.0.ras"' in html
    assert "{&#34;in&#34;: &#34;rader.*.husdjur&#34;, &#34;values&#34;: [&#34;Ja&#34;]}" in html


# ---- any answers: both paths agree, and no verdict names a question that does not apply ----

ANSWERS = {
    "namn": st.sampled_from(["", "Eva"]),
    "husdjur": st.sampled_from(["", "ja", "nej"]),
    "djur": st.sampled_from(["", "Katt"]),
    "tips": st.just(True),  # a box left empty is no answer on the form path, and false on the JSON path
    "kontakt": st.sampled_from(["", "telefon", "brev"]),
    "telefon": st.sampled_from(["", "08-12"]),
    "adress": st.sampled_from(["", "Gatan 1"]),
    "meddelande": st.sampled_from(["", "Hej"]),
    "amne": st.sampled_from(["", "Katten"]),
}


def verdict(form, content_type: str, raw: bytes):
    """Return the clean answers the pipeline keeps, or the names its errors give, for one body."""
    try:
        return pipeline._checked(form, read_body(form, content_type, raw))
    except Invalid as error:
        return [e.name for e in error.errors]


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({}, optional=ANSWERS))
def test_any_answers_get_one_verdict_on_both_paths_naming_only_questions_that_apply(form, answers):
    pairs = [(k, "on" if v is True else v) for k, v in answers.items()]
    as_json = verdict(form, "application/json", json.dumps(answers).encode())
    as_form = verdict(form, "application/x-www-form-urlencoded", urlencode(pairs).encode())

    assert as_json == as_form
    if isinstance(as_json, list):  # the names are all of questions that apply to what was sent
        kept = prune(form.root, {k: v for k, v in answers.items() if v != ""})
        assert not set(as_json) & {".".join(path) for path in hidden_paths(form.root, kept)}
    else:
        assert all(applies(form.field_at((name,)), as_json) for name in as_json)


@pytest.mark.parametrize(
    "extra",
    [
        {"dependencies": {"husdjur": {"oneOf": [5, {"properties": []}]}}},
        {"if": {"properties": {"husdjur": 5}}, "then": {"properties": {"x": 5}}},
        {"if": [], "else": {"required": 5}},
        {"allOf": [{"if": {"required": ["katt"]}}, {"then": {}}]},
    ],
)
def test_check_refuses_broken_conditions_without_crashing(tmp_path, extra):
    assert write(tmp_path, base(**extra))
