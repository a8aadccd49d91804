"""Reading a body once: answers, version, token and honeypot, with bounded work whatever is sent."""

import json
from pathlib import Path

import pytest

from handler.body import MAX_DEPTH, decode_json, depth, read_body
from handler.errors import BadSubmission, UnsupportedMediaType
from handler.forms import load_forms
from support import cost_ratio, valid_answers

FORM = load_forms(Path(__file__).parent.parent / "schema")["bus-avvikelse"]
FORM_BODY = "application/x-www-form-urlencoded"


def encoded(pairs: dict) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode()


def test_a_form_body_is_read_into_answers_and_the_kits_own_fields():
    body = read_body(FORM, FORM_BODY, encoded(valid_answers() | {"_version": "abc", "_token": " t ", "_hemsida": ""}))

    assert body.answers["verksamheter"][1]["enhet"] == "BUP Solna"
    assert (body.version, body.token, body.honeypot, body.is_json) == ("abc", "t", False, False)
    assert "_version" not in body.answers and "_token" not in body.answers


def test_a_json_body_gives_the_same_fields():
    raw = json.dumps({"handelsetyp": "x", "_version": FORM.version, "_token": "t", "_hemsida": "spam"}).encode()

    body = read_body(FORM, "application/json", raw)

    assert body.answers == {"handelsetyp": "x"}
    assert (body.version, body.token, body.honeypot, body.is_json) == (FORM.version, "t", True, True)
    assert not body.changed_since_loaded(FORM)


def test_another_content_type_is_415():
    with pytest.raises(UnsupportedMediaType):
        read_body(FORM, "text/plain", b"x")


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 600, 900, 5000])
def test_json_nested_deeper_than_the_limit_is_refused_at_any_depth(levels):
    with pytest.raises(BadSubmission, match="djupt nästlat"):
        decode_json(b'{"a": ' + b"[" * levels + b"]" * levels + b"}")


def test_depth_is_measured_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert depth(value) == 100_001


def test_a_duplicate_key_at_the_end_of_20000_keys_is_found_in_linear_time():
    def body(count: int) -> bytes:
        return ("{" + ", ".join(f'"k{i}": 1' for i in range(count)) + ', "k0": 2}').encode()

    def refused(raw: bytes) -> None:
        with pytest.raises(BadSubmission, match='nyckeln "k0" förekommer flera gånger'):
            decode_json(raw)

    # Ten times the keys: ten to thirty times the time, as the parser's memory outgrows the caches; a pairwise
    # check would take a hundred times (and minutes).
    assert cost_ratio(refused, body(10_000), body(100_000), tries=3) < 60


def test_a_key_holding_a_lone_surrogate_is_refused_and_named_so_it_can_be_written_back():
    with pytest.raises(BadSubmission) as refused:
        decode_json(b'{"\\ud800": 1}')
    assert "\\ud800" in refused.value.detail
    refused.value.detail.encode("utf-8")  # the answer can carry its own message


@pytest.mark.parametrize("name", ["verksamheter.\u00b2.enhet", "verksamheter.\u0663.enhet", "verksamheter.1\u00b2.x"])
def test_a_row_numbered_with_other_digits_than_0_to_9_is_no_field(name):
    with pytest.raises(BadSubmission, match="inget fält"):
        read_body(FORM, FORM_BODY, encoded({name: "x"}))


def test_a_row_number_of_5000_digits_is_too_large_without_being_read_as_a_number():
    with pytest.raises(BadSubmission, match="för stort radnummer"):
        read_body(FORM, FORM_BODY, encoded({f"verksamheter.{'9' * 5000}.enhet": "x"}))


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str]] = ()) -> tuple[str, bytes]:
    """Return a Content-Type and a multipart/form-data body as a browser sends one."""
    parts = [f'--XyZ\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n' for n, v in fields]
    parts += [
        f'--XyZ\r\nContent-Disposition: form-data; name="{n}"; filename="{f}"\r\nContent-Type: text/plain\r\n\r\nx\r\n'
        for n, f in files
    ]
    return "multipart/form-data; boundary=XyZ", ("".join(parts) + "--XyZ--\r\n").encode()


def test_a_multipart_body_reads_like_a_form_body():
    content_type, raw = multipart([*valid_answers().items(), ("_version", FORM.version)])

    body = read_body(FORM, content_type, raw)

    assert body == read_body(FORM, FORM_BODY, encoded(valid_answers() | {"_version": FORM.version}))


@pytest.mark.parametrize(
    ("content_type", "raw", "message"),
    [
        ("multipart/form-data", b"--XyZ--\r\n", "boundary"),
        ("multipart/form-data; boundary=XyZ", b"--XyZ\r\nno headers end", "multipart"),
        (*multipart([("handelsetyp", "x")], [("bilaga", "intyg.pdf")]), "filer"),
    ],
)
def test_a_multipart_body_that_cannot_be_read_or_carries_a_file_is_refused(content_type, raw, message):
    with pytest.raises(BadSubmission, match=message):
        read_body(FORM, content_type, raw)
