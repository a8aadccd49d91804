"""`formkit check` on random schema fragments: problems (file, line, what to do) or a working form, never a crash.

Hypothesis builds fragments from JSON Schema's keywords with values of the right and of every wrong
type, nested, with references that lead nowhere or to themselves, and puts each in a form (as one
question, and as the form itself). `read_form` must return either problems, each naming the file and a
line, or a form; a form it accepts must render and take an empty answer without a crash.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.conventions import Problem
from handler.errors import FormkitError
from handler.forms import read_form
from handler.normalise import clean
from handler.render import render_form
from handler.validation import validate

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
names = st.sampled_from(["a", "b", "namn", "x-y", "Å", "", "0", "a b", "$ref", "properties"])
numbers = st.one_of(st.integers(-5, 100), st.floats(-5, 100, allow_nan=False), st.booleans(), st.text(max_size=3))
TYPES = ["string", "integer", "number", "boolean", "object", "array", "null", "date", ""]
FORMATS = ["email", "date", "date-time", "time", "uri", "data-url", "uuid", "regex", ""]
REFS = ["#", "#/$defs/a", "#/$defs/b", "#/definitions/a", "#/properties", "#/properties/a", "#/nope", "http://x/y"]
PATTERNS = ["^[a-z]+$", "\\d+", "(", "[", "(?<n>a)", "\\p{L}", "a{2,1}", "^$", "(?i)a", "*"]


def keyword_values(fragment, scalars=scalars, numbers=numbers):
    """Return the strategy of each keyword's value: sometimes right, often of another type (`scalars`)."""
    fragments = st.lists(fragment, max_size=3)
    return {
        "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), max_size=3) | scalars,
        "title": st.text(max_size=6) | scalars,
        "description": st.text(max_size=6) | scalars,
        "format": st.sampled_from(FORMATS) | scalars,
        "pattern": st.sampled_from(PATTERNS) | scalars,
        "minLength": numbers,
        "maxLength": numbers,
        "minimum": numbers,
        "maximum": numbers,
        "exclusiveMinimum": numbers,
        "exclusiveMaximum": numbers,
        "multipleOf": numbers,
        "minItems": numbers,
        "maxItems": numbers,
        "uniqueItems": st.booleans() | scalars,
        "enum": st.lists(json_values, max_size=4) | scalars,
        "const": json_values,
        "default": json_values,
        "examples": st.lists(json_values, max_size=2) | scalars,
        "readOnly": st.booleans() | scalars,
        "writeOnly": st.booleans() | scalars,
        "required": st.lists(names, max_size=3) | scalars,
        "properties": st.dictionaries(names, fragment, max_size=3) | scalars,
        "patternProperties": st.dictionaries(st.sampled_from(PATTERNS), fragment, max_size=2),
        "additionalProperties": st.booleans() | fragment,
        "items": fragment | fragments | st.booleans(),
        "prefixItems": fragments | scalars,
        "additionalItems": fragment | st.booleans(),
        "oneOf": fragments | scalars,
        "anyOf": fragments | scalars,
        "allOf": fragments | scalars,
        "not": fragment,
        "if": fragment,
        "then": fragment,
        "else": fragment,
        "dependentRequired": st.dictionaries(names, st.lists(names, max_size=2) | scalars, max_size=2),
        "dependentSchemas": st.dictionaries(names, fragment, max_size=2),
        "dependencies": st.dictionaries(names, fragment | st.lists(names, max_size=2), max_size=2),
        "$ref": st.sampled_from(REFS) | scalars,
        "$defs": st.dictionaries(st.sampled_from(["a", "b"]), fragment, max_size=2),
        "definitions": st.dictionaries(st.sampled_from(["a", "b"]), fragment, max_size=2),
        "contentMediaType": st.sampled_from(["image/png", "application/pdf", "*/*"]) | scalars,
        "contentEncoding": st.sampled_from(["base64", "7bit"]) | scalars,
        "x-widget": st.sampled_from(["radio", "select", "textarea", "tel", "nope"]) | scalars,
        "x-messages": st.dictionaries(st.sampled_from(["required", "type", "x"]), st.text(max_size=5) | scalars)
        | scalars,
        "x-placeholder": st.text(max_size=5) | scalars,
        "x-autocomplete": st.sampled_from(["email", "name", "off", "bad token"]) | scalars,
        "x-item-title": st.text(max_size=5) | scalars,
        "x-accept": st.lists(st.text(max_size=8), max_size=2) | scalars,
        "x-max-bytes": numbers,
    }


def schema_fragment(fragment, **junk):
    values = keyword_values(fragment, **junk)
    return st.lists(st.sampled_from(sorted(values)), max_size=5, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({key: values[key] for key in keys})
    )


fragments = st.deferred(lambda: st.one_of(st.booleans(), schema_fragment(fragments)))
# Fragments whose keywords all have values of the right type: most become forms, to render and validate.
right = {"scalars": st.nothing(), "numbers": st.integers(0, 100) | st.floats(0.5, 100)}
typed = st.deferred(lambda: schema_fragment(typed, **right))
# Half the time a fragment is one question of a form, the other half the form itself.
forms = st.one_of(
    fragments.map(lambda f: {"title": "Prov", "type": "object", "properties": {"fraga": f}}),
    schema_fragment(fragments).map(lambda f: {"title": "Prov", **f}),
    fragments,
    typed.map(lambda f: {"title": "Prov", "type": "object", "properties": {"fraga": f, "annan": f}}),
)


def checked(schema) -> tuple:
    """Write the schema to a form file and check it as `formkit check` does; return (path, form, problems)."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    path = folder / "prov.json"
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    form, problems, _ = read_form(path)
    return path, form, problems


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(forms)
def test_any_schema_is_refused_with_problems_that_name_the_file_and_line_or_becomes_a_working_form(schema):
    path, form, problems = checked(schema)

    assert all(isinstance(problem, Problem) for problem in problems)
    assert all(problem.file == str(path) and (problem.line or 0) >= 1 for problem in problems), problems
    assert all(str(problem).startswith(f"{path}:") for problem in problems)
    assert all('"' in problem.message or "”" in problem.message for problem in problems)  # the keyword, quoted
    if form is not None:
        assert problems == []
        render_form(form, "/api/forms/prov")
        try:
            validate(form, clean({}))
        except FormkitError:
            pass  # refusing an empty answer (a required question) is a verdict, not a crash


def test_a_keyword_a_question_cannot_show_is_refused_naming_the_file_line_field_and_keyword():
    schema = {
        "title": "Prov",
        "type": "object",
        "properties": {
            "antal": {"title": "Antal", "type": "integer", "not": {"const": 3}},
            # a plain allOf merges into one field (tests/test_allof.py); one with a condition the page cannot show
            "num": {"title": "Num", "allOf": [{"type": "integer"}, {"if": {"minimum": 5}, "then": {"multipleOf": 5}}]},
        },
    }

    path, form, problems = checked(schema)

    assert form is None
    assert [str(p).split(" kan inte")[0] for p in problems] == [
        f'{path}:8: fältet "antal": "not" på en fråga',
        f'{path}:14: fältet "num": "allOf" på en fråga',
    ]
