"""Round trip of alternatives: hypothesis builds forms with `oneOf`/`anyOf` of objects (in a section and in the rows
of a repeated group) and valid answers for them (hypothesis-jsonschema); each answer set is posted as JSON and
form-encoded (without a choice, as a page whose radio was not pressed: the answers tell the alternative), and every
value in it is in the DOCX (`tests/corpus.py` posts and reads back, as for the public corpus)."""

from __future__ import annotations

import json

from corpus import round_trip
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from support import generated

FORM_ID = "alternativ"
TEXT = "^[A-Za-zÅÄÖåäö][A-Za-zÅÄÖåäö ]{0,12}[A-Za-zÅÄÖåäö]$"  # no digits: ten of them could be a personnummer
WORDS = ["Solna", "Nacka", "Täby", "Ekerö"]
NAMES = ["alfa", "beta", "gamma", "delta", "epsilon", "zeta"]  # two per alternative: names differ across them
leaf = st.one_of(
    st.just({"type": "string", "pattern": TEXT}),
    st.just({"type": "string", "format": "date"}),
    st.just({"type": "integer", "minimum": 0, "maximum": 500}),
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=3, unique=True).map(
        lambda values: {"type": "string", "enum": values}
    ),
)


def titled(properties: dict) -> dict:
    return {name: {"title": name.capitalize(), **schema} for name, schema in properties.items()}


@st.composite
def alternatives(draw, prefix: str) -> dict:
    """Return an object that is a choice between two or three closed alternatives, each requiring its first field."""
    keyword = draw(st.sampled_from(["oneOf", "anyOf"]))
    members = []
    for index in range(draw(st.integers(2, 3))):
        pool = [prefix + name for name in NAMES[2 * index : 2 * index + 2]]
        fields = draw(st.dictionaries(st.sampled_from(pool), leaf, min_size=1, max_size=2))
        member = {"properties": titled(fields), "required": [sorted(fields)[0]], "additionalProperties": False}
        members.append({"title": f"Sätt {index + 1}", **member} if draw(st.booleans()) else member)
    return {"type": "object", "title": "Kontakt", keyword: members}


@st.composite
def alternative_forms(draw) -> dict:
    """Return a form with a name, a choice between alternatives and, sometimes, rows that each make one."""
    schema = {
        "title": "Alternativ",
        "type": "object",
        "required": ["namn", "kontakt"],
        "additionalProperties": False,
        "properties": {"namn": {"type": "string", "title": "Namn", "pattern": TEXT}, "kontakt": draw(alternatives(""))},
    }
    if draw(st.booleans()):
        row = {**draw(alternatives("rad")), "title": "Rad"}
        schema["properties"]["rader"] = {"type": "array", "title": "Rader", "maxItems": 2, "items": row}
    return schema


@generated(max_examples=20)
@given(schema=alternative_forms(), data=st.data())
def test_every_value_of_valid_answers_to_a_form_with_alternatives_is_in_the_document(mailer, schema, data):
    answers = data.draw(from_schema(schema), label="answers")
    outcomes = round_trip(FORM_ID, schema, answers, mailer)

    assert outcomes == {"json": None, "form": None}, json.dumps(answers, ensure_ascii=False)
