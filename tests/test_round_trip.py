"""Round trip: hypothesis builds forms from the constructs the kit supports, and valid answers for them
(hypothesis-jsonschema); each answer set is posted as JSON and form-encoded, and every value is in the DOCX.

The constructs: text (with a pattern), e-mail, date, integers and numbers with bounds, yes/no, choices
(`enum`, `oneOf` with `const` and `title`), sets of choices, lists of values, tuples (`prefixItems` and
draft-07's `"items": [...]`) of values, yes/no and groups with rows added after them, sections and repeated
groups, nested; field names with hyphens among them.
`tests/corpus.py` posts and reads back, as it does for the public corpus.
"""

from __future__ import annotations

import json

from corpus import round_trip
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from handler.validation import is_email
from support import generated

FORM_ID = "rundtur"
# Letters, spaces and punctuation, no edge spaces and no digits (ten of them could be a personnummer).
TEXT = "^[A-Za-zÅÄÖåäöé][A-Za-zÅÄÖåäöé ,.'-]{0,18}[A-Za-zÅÄÖåäöé]$"
WORDS = ["Solna", "Sundbyberg", "Järfälla", "Täby", "Nacka", "Huddinge", "Botkyrka", "Ekerö"]
names = st.sampled_from("namn ort datum antal belopp epost val flera del rader Avgift alt-datum e-post".split())


def titled(schema: dict, title: str) -> dict:
    return {"title": title, **schema}


choices = st.lists(st.sampled_from(WORDS), min_size=2, max_size=5, unique=True)
tuples = st.one_of(
    # Tuples of any field: a yes/no and a group in fixed places, and rows added after them. Written as draft-07
    # does, which hypothesis-jsonschema reads (it would draw 2020-12's "items" for every place); the kit reads both.
    st.just(
        {
            "type": "array",
            "maxItems": 4,
            "items": [
                {"type": "boolean", "title": "Ja eller nej"},
                {
                    "type": "object",
                    "title": "Del",
                    "additionalProperties": False,
                    "required": ["ort"],
                    "properties": {
                        "ort": {"type": "string", "pattern": TEXT, "title": "Ort"},
                        "dag": {"type": "string", "format": "date", "title": "Dag"},
                    },
                },
            ],
            "additionalItems": {"type": "string", "pattern": TEXT, "title": "Rad"},
        }
    ),
    choices.map(
        lambda values: {
            "type": "array",
            "maxItems": 3,
            "items": [{"type": "string", "enum": values, "title": "Val"}],
            "additionalItems": {
                "type": "object",
                "title": "Rad",
                "additionalProperties": False,
                "required": ["antal"],
                "properties": {"antal": {"type": "integer", "minimum": 0, "maximum": 50, "title": "Antal"}},
            },
        }
    ),
)
leaf = st.one_of(
    st.just({"type": "string", "pattern": TEXT}),
    st.just({"type": "string", "pattern": TEXT, "x-widget": "textarea", "maxLength": 200}),
    st.just({"type": "string", "format": "email"}),
    st.just({"type": "string", "format": "date"}),
    st.integers(-1000, 1000).map(lambda low: {"type": "integer", "minimum": low, "maximum": low + 5000}),
    st.just({"type": "number", "minimum": -1000, "maximum": 1000}),
    st.just({"type": "boolean"}),
    choices.map(lambda values: {"type": "string", "enum": values}),
    choices.map(lambda values: {"type": "string", "oneOf": [{"const": v.lower(), "title": v} for v in values]}),
    choices.map(lambda values: {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": values}}),
    # Lists of values (three rows without JavaScript, so at most three) and a tuple, in both spellings.
    st.just({"type": "array", "maxItems": 3, "items": {"type": "string", "pattern": TEXT}}),
    st.just({"type": "array", "maxItems": 3, "uniqueItems": True, "items": {"type": "string", "format": "date"}}),
    st.just({"type": "array", "maxItems": 3, "items": {"type": "integer", "minimum": 0, "maximum": 500}}),
    st.just(
        {"type": "array", "prefixItems": [{"type": "string", "pattern": TEXT}, {"type": "integer"}], "items": False}
    ),
    st.just(
        {
            "type": "array",
            "items": [{"type": "number", "minimum": -90, "maximum": 90}, {"type": "string", "format": "email"}],
            "additionalItems": False,  # the form shows no place for more, and refuses them (README)
        }
    ),
    tuples,
)


def objects(fields, required: bool = True):
    """Return object schemas over `fields`, closed (the kit refuses keys it has no field for), some required."""

    def build(properties: dict, wanted: list[bool]) -> dict:
        schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: titled(s, name.capitalize()) for name, s in properties.items()},
        }
        scalar = [n for n, s in properties.items() if s.get("type") not in ("array", "object")]
        chosen = [n for n, keep in zip(scalar, wanted) if keep] if required else []
        return {**schema, "required": chosen} if chosen else schema

    return st.builds(build, st.dictionaries(names, fields, min_size=1, max_size=4), st.lists(st.booleans()))


section = objects(leaf)
field = st.one_of(
    leaf,
    section,
    section.map(lambda row: {"type": "array", "maxItems": 3, "items": row}),
)
forms = objects(field).map(lambda schema: {"title": "Rundtur", **schema})
# Every form of these has a tuple of any field, in a section or a repeated group too.
tuple_forms = objects(
    st.one_of(tuples, objects(tuples), objects(tuples).map(lambda row: {"type": "array", "maxItems": 2, "items": row}))
).map(lambda schema: {"title": "Rundtur", **schema})


def every_field_answered(schema):
    """Return the schema with every field required and every list given a row: answers that fill the whole form."""
    if not isinstance(schema, dict):
        return schema
    filled = {key: every_field_answered(value) if key in ("items",) else value for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict):
        filled["properties"] = {name: every_field_answered(sub) for name, sub in schema["properties"].items()}
        filled["required"] = list(schema["properties"])
    if schema.get("type") == "array":
        filled["minItems"] = 1
    return filled


def ticked(value):
    """Return the answers with every box ticked: every field is required, and a required box must be ticked."""
    if isinstance(value, dict):
        return {key: ticked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [ticked(item) for item in value]
    return True if value is False else value


def answers_are_a_persons(value) -> bool:
    """E-mail addresses the kit can deliver to (hypothesis-jsonschema's may use any domain), nothing else odd."""
    if isinstance(value, dict):
        return all(answers_are_a_persons(v) for v in value.values())
    if isinstance(value, list):
        return all(answers_are_a_persons(v) for v in value)
    if isinstance(value, str) and "@" in value:
        return is_email(value)
    return not (isinstance(value, float) and abs(value) < 1e-6 and value != 0)


@generated(max_examples=25)
@given(schema=forms, data=st.data())
def test_every_value_of_valid_answers_to_a_generated_form_is_in_the_document(mailer, schema, data):
    answers = ticked(data.draw(from_schema(every_field_answered(schema)), label="answers"))
    assume(answers_are_a_persons(answers))
    outcomes = round_trip(FORM_ID, schema, answers, mailer)

    assert outcomes == {"json": None, "form": None}, json.dumps(answers, ensure_ascii=False)


@generated(max_examples=10)
@given(schema=tuple_forms, data=st.data())
def test_every_value_of_valid_answers_to_a_generated_form_with_tuples_of_any_field_is_in_the_document(
    mailer, schema, data
):
    answers = ticked(data.draw(from_schema(every_field_answered(schema)), label="answers"))
    assume(answers_are_a_persons(answers))
    outcomes = round_trip(FORM_ID, schema, answers, mailer)

    assert outcomes == {"json": None, "form": None}, json.dumps(answers, ensure_ascii=False)
