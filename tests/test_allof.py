"""allOf merged into one group or field, references to embedded `$id`s and `$anchor`s, and recursive references
expanded to a fixed depth: the Field tree, the server's verdict on both kinds of body, the DOCX read back, and
`formkit check` refusing what cannot work, naming file, line, field and keyword."""

from __future__ import annotations

import json
import socket

import pytest

from handler.app import create_app
from handler.fields import MAX_DEPTH, Kind
from handler.forms import read_form
from support import attachment, docx_text

JSON = {"Accept": "application/json"}

ALL_OF = {
    "title": "Beställning",
    "type": "object",
    "allOf": [
        {
            "title": "Den första delen",
            "properties": {"lorem": {"title": "Lorem", "type": ["string", "boolean"], "default": True}},
            "required": ["lorem"],
        },
        {
            "properties": {
                "lorem": {"type": "boolean"},
                "antal": {"title": "Antal", "allOf": [{"type": "integer"}, {"minimum": 0}, {"maximum": 10}]},
            },
            "required": ["antal"],
        },
    ],
    "properties": {"namn": {"title": "Namn", "type": "string"}},
}

BUNDLE = {
    "$id": "https://formkit.invalid/schemas/bundle",
    "title": "Ett paket",
    "type": "object",
    "$defs": {
        "https://formkit.invalid/schemas/mixins/integer": {
            "$id": "https://formkit.invalid/schemas/mixins/integer",
            "type": "integer",
        },
        "nonNegative": {"$anchor": "non-negative", "minimum": 0},
        "count": {"allOf": [{"$ref": "/schemas/mixins/integer"}, {"$ref": "#non-negative"}]},
    },
    "properties": {"num": {"title": "Antal", "$ref": "#/$defs/count"}},
    "required": ["num"],
}

TREE = {
    "title": "Ett träd",
    "type": "object",
    "definitions": {
        "node": {
            "type": "object",
            "properties": {
                "name": {"title": "Namn", "type": "string"},
                "children": {
                    "title": "Barn",
                    "type": "array",
                    "items": {"oneOf": [{"title": "Inget", "type": "null"}, {"$ref": "#/definitions/node"}]},
                },
            },
        }
    },
    "properties": {"tree": {"title": "Träd", "$ref": "#/definitions/node"}},
}


def write(tmp_path, name: str, schema: dict):
    folder = tmp_path / "schema"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def loaded(tmp_path, name: str, schema: dict):
    form, problems, _ = read_form(write(tmp_path, name, schema))
    assert problems == [], problems
    return form


def client_for(tmp_path, config, name: str, schema: dict):
    write(tmp_path, name, schema)
    return create_app({**config, "SCHEMA_DIR": str(tmp_path / "schema")}).test_client()


def problems(tmp_path, schema: dict) -> list[str]:
    _, found, _ = read_form(write(tmp_path, "anmalan", schema))
    return [str(problem) for problem in found]


# ---- allOf ----


def test_an_all_of_of_objects_is_one_group_with_the_fields_in_order_and_required_united(tmp_path):
    form = loaded(tmp_path, "bestallning", ALL_OF)

    assert [(c.name, c.kind, c.required) for c in form.root.children] == [
        ("namn", Kind.TEXT, False),
        ("lorem", Kind.CHECKBOX, True),
        ("antal", Kind.INTEGER, True),
    ]
    assert form.field_at("antal").minimum == 0 and form.field_at("antal").maximum == 10
    assert form.field_at("lorem").default is True


def test_an_all_of_answers_get_the_same_verdict_on_both_bodies_and_arrive_in_the_docx(tmp_path, config, smtp_server):
    client = client_for(tmp_path, config, "bestallning", ALL_OF)
    url = "/api/forms/bestallning"

    by_form = client.post(url, data={"namn": "Eva", "lorem": "true", "antal": "7"}, headers=JSON)
    by_json = client.post(url, json={"namn": "Eva", "lorem": True, "antal": 7})
    assert (by_form.status_code, by_json.status_code) == (201, 201), (by_form.json, by_json.json)
    text = docx_text(attachment(smtp_server.inbox.wait_for(2)[0])[1])
    assert "Antal" in text and "7" in text and "Eva" in text

    refused_form = client.post(url, data={"namn": "Eva", "lorem": "true", "antal": "11"}, headers=JSON)
    refused_json = client.post(url, json={"namn": "Eva", "lorem": True, "antal": 11})
    assert refused_form.status_code == refused_json.status_code == 422
    assert [e["name"] for e in refused_form.json["errors"]] == [e["name"] for e in refused_json.json["errors"]]
    assert [e["name"] for e in refused_json.json["errors"]] == ["antal"]


def test_an_all_of_whose_types_cannot_meet_is_refused_naming_file_line_field_and_keyword(tmp_path):
    schema = {
        "title": "A",
        "type": "object",
        "properties": {"tal": {"title": "Tal", "allOf": [{"type": "string"}, {"type": "integer"}]}},
    }

    found = problems(tmp_path, schema)

    assert len(found) == 1 and "anmalan.json:" in found[0] and 'fältet "tal"' in found[0], found
    assert '"type"' in found[0] and '"allOf"' in found[0]
    line = int(found[0].split(":")[1])
    assert '"integer"' in write(tmp_path, "anmalan", schema).read_text().splitlines()[line - 1]


def test_an_all_of_with_two_different_patterns_is_refused_naming_the_keyword(tmp_path):
    schema = {
        "title": "A",
        "type": "object",
        "properties": {"kod": {"title": "Kod", "allOf": [{"pattern": "^a"}, {"pattern": "^b"}]}},
    }

    found = problems(tmp_path, schema)

    assert found and '"pattern"' in found[0] and 'fältet "kod"' in found[0], found


# ---- embedded resources ($id, $anchor) ----


def test_a_ref_to_an_embedded_id_and_to_an_anchor_resolves_in_the_file(tmp_path):
    form = loaded(tmp_path, "paket", BUNDLE)

    num = form.field_at("num")
    assert (num.kind, num.minimum, num.required) == (Kind.INTEGER, 0, True)


def test_a_bundle_is_validated_without_a_network_fetch(tmp_path, config, smtp_server, monkeypatch):
    lookup = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):  # the mail goes to the loopback SMTP server; nothing else may
        assert host in ("127.0.0.1", "localhost"), f"a network connection to {host} was attempted"
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    client = client_for(tmp_path, config, "paket", BUNDLE)

    assert client.post("/api/forms/paket", data={"num": "3"}, headers=JSON).status_code == 201
    assert client.post("/api/forms/paket", json={"num": 3}).status_code == 201
    by_form = client.post("/api/forms/paket", data={"num": "-1"}, headers=JSON)
    by_json = client.post("/api/forms/paket", json={"num": -1})
    assert by_form.status_code == by_json.status_code == 422
    assert by_form.json["errors"][0]["name"] == by_json.json["errors"][0]["name"] == "num"
    assert "3" in docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])


def test_a_ref_outside_the_file_is_still_refused(tmp_path):
    schema = {**BUNDLE, "properties": {"num": {"title": "Antal", "$ref": "https://elsewhere.invalid/x"}}}

    found = problems(tmp_path, schema)

    assert found and "pekar utanför filen" in found[0] and '"$ref"' in found[0], found


# ---- recursive references ----


def test_a_recursive_reference_is_a_tree_of_repeated_groups_max_depth_levels_deep(tmp_path):
    form = loaded(tmp_path, "trad", TREE)

    levels, node = 0, form.field_at("tree")
    while node is not None:
        levels += 1
        assert node.kind == Kind.GROUP and node.children[0].name == "name"
        rows = next((c for c in node.children if c.name == "children"), None)
        node = rows.item if rows is not None else None
    assert levels == MAX_DEPTH
    assert form.field_at("tree.children.*.children.*.name") is not None


def test_a_tree_posts_on_both_bodies_and_deeper_answers_are_refused_never_dropped(tmp_path, config, smtp_server):
    client = client_for(tmp_path, config, "trad", TREE)
    url = "/api/forms/trad"
    deep = {"name": "rot", "children": [{"name": "gren", "children": [{"name": "löv"}]}]}
    pairs = {"tree.name": "rot", "tree.children.0.name": "gren", "tree.children.0.children.0.name": "löv"}

    assert client.post(url, json={"tree": deep}).status_code == 201
    assert client.post(url, data=pairs, headers=JSON).status_code == 201
    for message in smtp_server.inbox.wait_for(2):
        text = docx_text(attachment(message)[1])
        assert "rot" in text and "gren" in text and "löv" in text

    deeper = json.loads(json.dumps(deep))
    deeper["children"][0]["children"][0]["children"] = [{"name": "för djupt"}]
    by_json = client.post(url, json={"tree": deeper})
    by_form = client.post(url, data={**pairs, "tree.children.0.children.0.children.0.name": "för djupt"}, headers=JSON)
    assert by_json.status_code in (400, 422) and by_form.status_code in (400, 422)


def test_a_required_self_reference_that_could_never_end_is_refused(tmp_path):
    schema = {
        "title": "A",
        "type": "object",
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/$defs/node"}},
                "required": ["next"],
            }
        },
        "properties": {"start": {"title": "Start", "$ref": "#/$defs/node"}},
        "required": ["start"],
    }

    found = problems(tmp_path, schema)

    assert found and "pekar på sig själv" in found[0] and "anmalan.json:" in found[0], found


@pytest.mark.parametrize("ref", ["#", "#/definitions/loop"])
def test_a_reference_to_the_whole_form_or_a_ref_chain_is_refused(tmp_path, ref):
    schema = {
        "title": "A",
        "type": "object",
        "definitions": {"loop": {"$ref": "#/definitions/loop"}},
        "properties": {"a": {"title": "A", "$ref": ref}},
    }

    found = problems(tmp_path, schema)

    assert found and "pekar på sig själv" in found[0], found


def test_the_corpus_all_of_and_bundled_schema_samples_work():
    from corpus import WORKS, try_all

    verdicts = {verdict.name: verdict for verdict in try_all(["allOf", "bundledSchema"])}

    assert {name: (v.verdict, v.why) for name, v in verdicts.items()} == {
        "allOf": (WORKS, ""),
        "bundledSchema": (WORKS, ""),
    }


def test_x_max_depth_on_the_part_sets_how_many_levels_a_tree_has(tmp_path):
    schema = json.loads(json.dumps(TREE))
    schema["definitions"]["node"]["x-max-depth"] = 2

    form = loaded(tmp_path, "trad", schema)

    assert form.field_at("tree.children.*.name") is not None
    assert form.field_at("tree.children.*.children") is None


def test_an_x_max_depth_out_of_range_is_refused_naming_the_keyword(tmp_path):
    text = json.dumps(TREE).replace('"definitions"', '"$defs"').replace("#/definitions/", "#/$defs/")
    schema = json.loads(text)  # the kit's conventions are checked in "$defs" (draft 2020-12)
    schema["$defs"]["node"]["x-max-depth"] = 0

    found = problems(tmp_path, schema)

    assert found and "anmalan.json:" in found[0] and "x-max-depth" in found[0], found
