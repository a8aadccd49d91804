"""Validation: one plain Swedish message per field, in the form's order, never raw validator text."""

import shutil
from pathlib import Path

import pytest

from handler.errors import Invalid
from handler.forms import load_forms
from handler.validation import validate

FIXTURES = Path(__file__).parent / "fixtures"
VALID = {
    "namn": "Ann",
    "epost": "ann@solna.se",
    "datum": "2026-11-22",
    "antal": 2,
    "val": "a",
    "rader": [{"enhet": "Skolan"}],
}


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema")
    shutil.copy(FIXTURES / "every-check.json", folder / "prov.json")
    return load_forms(folder)["prov"]


def errors_of(form, data) -> dict[str, str]:
    with pytest.raises(Invalid) as raised:
        validate(form, data)
    return {error.name: error.message for error in raised.value.errors}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"namn": None}, "namn", "Ange namn"),
        ({"val": None}, "val", "Välj verksamhetstyp"),
        ({"rader": None}, "rader", "Lägg till minst en rad under verksamheter"),
        ({"namn": 7}, "namn", "Ange namn som text"),
        ({"antal": "tre"}, "antal", "Antal barn måste vara ett heltal, till exempel 12"),
        ({"namn": "A"}, "namn", "Namn måste vara minst 2 tecken"),
        ({"namn": "Abcdefg"}, "namn", "Namn får vara högst 5 tecken. Korta texten."),
        ({"epost": "ann@"}, "epost", "Ange e-postadressen i rätt format, till exempel namn@kommun.se"),
        ({"epost": "ann solna@solna.se"}, "epost", "Ange e-postadressen i rätt format, till exempel namn@kommun.se"),
        ({"epost": "åsa@solna.se"}, "epost", "Ange e-postadressen i rätt format, till exempel namn@kommun.se"),
        ({"datum": "2026-02-30"}, "datum", "Datum måste vara ett riktigt datum, till exempel 2026-03-15"),
        ({"datum": "22/11/2026"}, "datum", "Datum måste vara ett riktigt datum, till exempel 2026-03-15"),
        ({"antal": 0}, "antal", "Antal barn måste vara 1 eller mer"),
        ({"antal": 10}, "antal", "Antal barn måste vara 9 eller mindre"),
        ({"val": "c"}, "val", "Välj ett av alternativen för verksamhetstyp"),
        ({"farg": "grön"}, "farg", "Välj ett av alternativen för färg"),
        ({"kod": "12"}, "kod", "Ange postnumret med fem siffror, till exempel 123 45"),
        ({"rader": []}, "rader", "Lägg till minst en rad under verksamheter"),
        ({"rader": [{"enhet": "a"}] * 3}, "rader", "Du kan ange högst 2 rader under verksamheter"),
        ({"rader": [{}]}, "rader.0.enhet", "Ange enhet"),
        ({"okand": "x"}, "okand", 'Formuläret har inget fält som heter "okand". Ta bort det.'),
    ],
)
def test_each_failed_keyword_becomes_one_plain_swedish_message_on_its_field(form, change, field, message):
    data = {**VALID, **change}
    data = {key: value for key, value in data.items() if value is not None}

    assert errors_of(form, data) == {field: message}


def test_a_missing_field_is_blamed_on_itself_not_on_its_parent(form):
    assert "rader.0.enhet" in errors_of(form, {**VALID, "rader": [{}]})


def test_a_group_left_out_is_blamed_on_its_required_fields_as_the_browser_does():
    bus = load_forms(Path(__file__).parent.parent / "schema")["bus-avvikelse"]

    names = errors_of(bus, {"handelsetyp": "Remiss besvarades inte"})

    assert "beskrivning" not in names
    assert {"beskrivning.handelsen", "beskrivning.rapporterande.datum", "beskrivning.chef.epost"} <= set(names)
    assert names["beskrivning.handelsen"] == "Beskriv händelsen"


def test_errors_come_one_per_field_in_the_forms_order_row_by_row(form):
    data = {"antal": "x", "namn": "", "rader": [{}, {}], "datum": "nej", "epost": "x"}

    names = list(errors_of(form, data))

    assert names == ["namn", "epost", "datum", "antal", "val", "rader.0.enhet", "rader.1.enhet"]


def test_no_raw_validator_text_reaches_a_user(form):
    data = {"namn": ["x"], "epost": 5, "datum": None, "antal": 1.5, "val": {}, "rader": "x", "farg": 3}

    for message in errors_of(form, data).values():
        assert "is not" not in message and "'" not in message and "None" not in message


def test_the_bus_forms_manager_email_has_the_editors_own_message():
    form = load_forms(Path(__file__).parent.parent / "schema")["bus-avvikelse"]
    rows = [{"enhet": "Skolan", "verksamhetstyp": "grundskola", "huvudman": "solna", "chef_epost": "rektor"}]

    assert errors_of(form, {"verksamheter": rows})["verksamheter.0.chef_epost"] == (
        "Ange chefens e-postadress, till exempel namn@kommun.se"
    )


def test_the_quick_check_of_a_choice_accepts_exactly_what_its_one_of_accepts():
    import copy

    from handler.normalise import clean, from_pairs
    from handler.validation import _as_enums, _quick, _validator
    from support import valid_answers

    form = load_forms(Path(__file__).parent.parent / "schema")["bus-avvikelse"]
    assert "oneOf" not in _as_enums(form.schema)["$defs"]["huvudman"] and "oneOf" in form.schema["$defs"]["huvudman"]
    report = clean(from_pairs(form, list(valid_answers().items())))
    places = [("verksamheter", 0, "huvudman"), ("verksamheter", 1, "verksamhetstyp"), ("omrade",)]
    for place in places:
        good = report
        for step in place:
            good = good[step]
        for value in (good, "ingen-sadan", "", None, 3, [good], good.upper()):
            changed = copy.deepcopy(report)
            parent = changed
            for step in place[:-1]:
                parent = parent[step]
            parent[place[-1]] = value
            assert _quick(form).is_valid(changed) is _validator(form).is_valid(changed) is (value == good), place


def test_a_one_of_that_is_not_only_distinct_strings_is_kept_as_written():
    from handler.validation import _as_enums

    repeated = {"oneOf": [{"const": "a"}, {"const": "a"}]}  # oneOf: matching two branches fails
    numbers = {"oneOf": [{"const": 1}, {"const": 2}]}
    schemas = {"oneOf": [{"const": "a"}, {"type": "integer"}]}
    for schema in (repeated, numbers, schemas):
        assert _as_enums(schema) == schema
    assert _as_enums({"const": {"oneOf": [{"const": "a"}]}}) == {"const": {"oneOf": [{"const": "a"}]}}


def test_a_required_box_left_unticked_is_refused_alike_on_the_json_and_the_form_path(tmp_path):
    """A browser sends nothing for an unticked box, so `false` cannot answer a required one on any path."""
    import json

    from handler.forms import load_form
    from handler.normalise import clean, from_pairs
    from handler.validation import validate as check

    schema = {
        "title": "Samtycke",
        "type": "object",
        "properties": {"ja": {"type": "boolean", "title": "Jag godkänner villkoren"}},
        "required": ["ja"],
    }
    (tmp_path / "samtycke.json").write_text(json.dumps(schema), encoding="utf-8")
    form = load_form(tmp_path / "samtycke.json")

    verdicts = {}
    for way, data in {"json": {"ja": False}, "form": clean(from_pairs(form, []))}.items():
        with pytest.raises(Invalid) as refused:
            check(form, data)
        verdicts[way] = [(e.path, e.message) for e in refused.value.errors]
    assert verdicts["json"] == verdicts["form"] == [(("ja",), "Kryssa i ”Jag godkänner villkoren”")]
    assert check(form, {"ja": True}) == {"ja": True}


@pytest.mark.parametrize(
    "address, valid",
    [
        ("rektor@solna.se", True),
        ("rektor@solna", False),  # no top-level domain
        ("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".se", True),  # 254 octets, the most
        ("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 59 + ".se", False),  # 255
        ("a" * 5000 + "@solna.se", False),
        ("rektör@solna.se", False),  # only ASCII addresses
    ],
)
def test_an_address_gets_the_same_verdict_every_time_it_is_checked(address, valid):
    from handler.validation import is_email

    assert [is_email(address) for _ in range(3)] == [valid] * 3
