"""Round trip of conditional questions: hypothesis builds forms with `if`/`then`/`else` and `dependentSchemas`, and
valid answers for them (hypothesis-jsonschema); each answer set is posted as JSON and form-encoded, and every
value in it is in the DOCX (`tests/corpus.py` posts and reads back, as for the public corpus)."""

from __future__ import annotations

import json

from corpus import round_trip
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from support import generated

FORM_ID = "villkor"
TEXT = "^[A-Za-zÅÄÖåäö][A-Za-zÅÄÖåäö ]{0,12}[A-Za-zÅÄÖåäö]$"  # no digits: ten of them could be a personnummer
WORDS = ["Solna", "Nacka", "Täby", "Ekerö"]
leaf = st.one_of(
    st.just({"type": "string", "pattern": TEXT}),
    st.just({"type": "integer", "minimum": 0, "maximum": 500}),
    st.just({"type": "boolean"}),
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=3, unique=True).map(
        lambda values: {"type": "string", "enum": values}
    ),
)


def titled(properties: dict) -> dict:
    return {name: {"title": name.capitalize(), **schema} for name, schema in properties.items()}


@st.composite
def conditional_forms(draw) -> dict:
    """Return a form whose questions depend on a choice (then, else) and on a text being answered."""
    values = draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=3, unique=True))
    then = draw(st.dictionaries(st.sampled_from(["alfa", "beta"]), leaf, min_size=1, max_size=2))
    schema = {
        "title": "Villkor",
        "type": "object",
        "unevaluatedProperties": False,
        "required": ["val"],
        "properties": {
            "val": {"type": "string", "title": "Val", "enum": values},
            "ovrigt": {"type": "string", "title": "Övrigt", "pattern": TEXT},
        },
        "if": {"properties": {"val": {"const": values[0]}}},
        "then": {"properties": titled(then)},
    }
    answerable = [name for name, rule in then.items() if rule["type"] != "boolean"]  # a box left empty posts nothing
    if answerable:
        schema["then"]["required"] = draw(st.lists(st.sampled_from(answerable), unique=True))
    if draw(st.booleans()):
        schema["else"] = {"properties": titled({"gamma": draw(leaf)})}
    if draw(st.booleans()):
        detail = {"properties": titled({"detalj": {"type": "string", "pattern": TEXT}}), "required": ["detalj"]}
        schema["dependentSchemas"] = {"ovrigt": detail}
    return schema


@generated(max_examples=20)
@given(schema=conditional_forms(), data=st.data())
def test_every_value_of_valid_answers_to_a_conditional_form_is_in_the_document(mailer, schema, data):
    answers = data.draw(from_schema(schema), label="answers")
    outcomes = round_trip(FORM_ID, schema, answers, mailer)

    assert outcomes == {"json": None, "form": None}, json.dumps(answers, ensure_ascii=False)
