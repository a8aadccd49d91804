"""Files: a file field renders as a file input, is posted as multipart or as base64 in JSON, is checked by its
content and size, arrives attached to the e-mail and listed in the DOCX, and is kept nowhere else."""

from __future__ import annotations

import base64
import datetime
import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from handler import files
from handler.app import create_app
from handler.check import check_project
from handler.fields import FILE_TYPES
from handler.forms import Kind, load_forms
from handler.register import new_report
from handler.render import render_form
from support import docx_text

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
TEXT = "Hej, det här är en textfil.\n".encode()
JSON_ONLY = {"Accept": "application/json"}
SCHEMA = {
    "title": "Skicka bilagor",
    "type": "object",
    "required": ["namn", "intyg"],
    "properties": {
        "namn": {"type": "string", "title": "Namn"},
        "intyg": {
            "type": "string",
            "format": "data-url",
            "title": "Intyg",
            "x-accept": ["application/pdf"],
            "x-max-bytes": 4000,
        },
        "bilagor": {
            "type": "array",
            "title": "Bilagor",
            "maxItems": 2,
            "items": {"type": "string", "format": "data-url"},
        },
        "bild": {"type": "string", "title": "Bild", "contentMediaType": "image/png", "contentEncoding": "base64"},
    },
    "x-formkit": {"mail": {"to": "sekretariatet@example.se"}},
}
RJSF_FILES = {  # react-jsonschema-form's "Files" sample
    "title": "Files",
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "data-url", "title": "Single file"},
        "files": {"type": "array", "title": "Multiple files", "items": {"type": "string", "format": "data-url"}},
    },
}


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")):
            package.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)  # the same bytes each time
    return buffer.getvalue()


def data_url(kind: str, name: str, data: bytes) -> str:
    return f"data:{kind};name={name};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def schema_dir(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "bilagor.json").write_text(json.dumps(SCHEMA, ensure_ascii=False), encoding="utf-8")
    (folder / "rjsf-files.json").write_text(json.dumps(RJSF_FILES), encoding="utf-8")
    return folder


@pytest.fixture
def form(schema_dir):
    return load_forms(schema_dir)["bilagor"]


@pytest.fixture
def files_app(config, schema_dir):
    return create_app({**config, "SCHEMA_DIR": str(schema_dir)})


@pytest.fixture
def files_client(files_app):
    return files_app.test_client()


def post_files(client, fields: dict, **headers):
    return client.post(
        "/api/forms/bilagor", data=fields, content_type="multipart/form-data", headers={**JSON_ONLY, **headers}
    )


# ---- the form definition ----


def test_data_url_content_media_type_and_arrays_of_them_are_file_fields(form):
    intyg, bilagor, bild = (form.field_at((name,)) for name in ("intyg", "bilagor", "bild"))
    assert (intyg.kind, intyg.accept, intyg.max_bytes, intyg.multiple) == (Kind.FILE, ("application/pdf",), 4000, False)
    assert (bilagor.kind, bilagor.multiple, bilagor.max_items, bilagor.max_bytes) == (Kind.FILE, True, 2, 10485760)
    assert bilagor.accept == FILE_TYPES  # no types named: every type the kit recognises by content
    assert (bild.kind, bild.accept, files.is_data_url(bild)) == (Kind.FILE, ("image/png",), False)


def test_react_jsonschema_forms_files_sample_is_a_working_form(schema_dir):
    checked = check_project(schema_dir, None)
    assert checked.problems == []
    sample = checked.forms["rjsf-files"]
    assert [node.kind for node in sample.root.children] == [Kind.FILE, Kind.FILE]


def test_a_file_type_the_kit_cannot_recognise_is_refused_by_check_with_its_place(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    schema = {
        "title": "Prov",
        "type": "object",
        "properties": {
            "fil": {
                "type": "string",
                "title": "Fil",
                "contentEncoding": "base64",
                "contentMediaType": "application/x-msdownload",
            }
        },
    }
    (folder / "prov.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    [problem] = check_project(folder, None).problems
    assert (problem.field, problem.line) == ("fil", 9)
    assert "application/x-msdownload" in problem.message


# ---- rendered markup ----


def test_a_form_with_files_posts_multipart_and_each_file_field_says_what_it_takes(form):
    html = render_form(form, "/api/forms/bilagor")
    assert 'enctype="multipart/form-data"' in html
    assert '<input class="formkit-file" type="file" id="f-intyg" name="intyg" required' in html
    assert 'accept="application/pdf"' in html and 'data-max-bytes="4000"' in html
    assert 'aria-describedby="f-intyg-limits"' in html
    assert '<div class="formkit-hint formkit-file-limits" id="f-intyg-limits">PDF, högst 4 kB.</div>' in html
    assert 'name="bilagor" aria-describedby="f-bilagor-limits"' in html and " multiple " in html
    assert "Du kan välja upp till 2 filer." in html


def test_a_form_without_files_keeps_the_plain_form_encoding(config):
    forms = create_app(config).extensions["formkit.forms"]
    assert "enctype" not in render_form(forms["bus-avvikelse"], "/api/forms/bus-avvikelse")


def test_the_page_shown_again_says_to_choose_the_file_again(form):
    values = {"intyg": data_url("application/pdf", "intyg.pdf", PDF)}
    html = render_form(form, "/api/forms/bilagor", values=values, errors=[])
    assert f"Du hade valt intyg.pdf ({len(PDF)} byte). Välj filen igen" in html


# ---- the server's verdict: multipart and JSON ----


def test_a_multipart_post_with_files_is_accepted_and_the_files_arrive_attached(files_client, smtp_server):
    answer = post_files(
        files_client,
        {
            "namn": "Ann",
            "intyg": (io.BytesIO(PDF), "läkarintyg.pdf"),
            "bilagor": [(io.BytesIO(TEXT), "anteckning.txt"), (io.BytesIO(docx_bytes()), "brev.docx")],
            "bild": (io.BytesIO(PNG), "foto.png"),
        },
    )
    assert answer.status_code == 201, answer.get_json()
    [message] = smtp_server.inbox.wait_for(1)
    attached = {
        p.get_filename(): (p.get_content_type(), p.get_payload(decode=True)) for p in message.iter_attachments()
    }
    assert attached["läkarintyg.pdf"] == ("application/pdf", PDF)
    assert attached["anteckning.txt"] == ("text/plain", TEXT)
    assert attached["brev.docx"][1] == docx_bytes()
    assert attached["Bild.png"] == ("image/png", PNG)  # plain base64 has no name: the field's label is its name
    text = docx_text(attached[answer.json["reference"] + ".docx"][1])
    assert f"läkarintyg.pdf ({len(PDF)} byte)" in text
    assert f"anteckning.txt ({len(TEXT)} byte), brev.docx" in text


def test_a_json_post_carries_files_as_the_schema_writes_them(files_client, smtp_server):
    answer = files_client.post(
        "/api/forms/bilagor",
        json={
            "namn": "Ann",
            "intyg": data_url("application/pdf", "intyg.pdf", PDF),
            "bild": base64.b64encode(PNG).decode(),
        },
    )
    assert answer.status_code == 201, answer.get_json()
    [message] = smtp_server.inbox.wait_for(1)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == [names[0], "intyg.pdf", "Bild.png"] and names[0].endswith(".docx")


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ((PNG, "intyg.pdf"), "Filen ”intyg.pdf” går inte att ta emot här. Välj en PDF."),  # by content, not name
        ((b"MZ\x90\x00" + b"\x00" * 20, "intyg.pdf"), "Filen ”intyg.pdf” går inte att ta emot här. Välj en PDF."),
        (
            (PDF + b"x" * 4000, "stort.pdf"),
            "Filen ”stort.pdf” är för stor. Den får vara högst 4 kB. Välj en mindre fil.",
        ),
    ],
)
def test_a_file_of_the_wrong_type_or_too_big_is_refused_on_its_field_in_swedish(files_client, sent, message):
    content, name = sent
    answer = post_files(files_client, {"namn": "Ann", "intyg": (io.BytesIO(content), name)})
    assert answer.status_code == 422
    assert answer.json["errors"] == [
        {"path": "/intyg", "name": "intyg", "label": "Intyg", "message": message, "summary": message}
    ]


def test_json_gets_the_same_verdict_as_multipart(files_client):
    cases = [
        (data_url("application/pdf", "intyg.pdf", PNG), "går inte att ta emot här"),
        (data_url("image/png", "intyg.pdf", PDF), "går inte att ta emot här"),  # the type it claims is checked too
        (data_url("application/pdf", "stort.pdf", PDF + b"x" * 4000), "är för stor"),
        ("data:application/pdf;name=x.pdf;base64,inte base64!", "gick inte att läsa"),
        (base64.b64encode(PDF).decode(), "gick inte att läsa"),  # a data-url field takes no plain base64
    ]
    for value, words in cases:
        answer = files_client.post("/api/forms/bilagor", json={"namn": "Ann", "intyg": value})
        assert answer.status_code == 422, value[:40]
        assert words in answer.json["errors"][0]["message"], answer.json


def test_a_missing_file_and_too_many_files_are_said_on_their_fields(files_client):
    answer = post_files(files_client, {"namn": "Ann", "bild": (io.BytesIO(PNG), "a.png")})
    assert [(e["name"], e["message"]) for e in answer.json["errors"]] == [("intyg", "Bifoga intyg")]
    many = [(io.BytesIO(TEXT), f"{n}.txt") for n in range(3)]
    answer = post_files(files_client, {"namn": "Ann", "intyg": (io.BytesIO(PDF), "a.pdf"), "bilagor": many})
    assert answer.status_code == 422
    assert [(e["name"], e["message"]) for e in answer.json["errors"]] == [
        ("bilagor", "Du kan bifoga högst 2 filer till bilagor")
    ]


def test_a_file_posted_to_a_form_without_file_fields_is_still_refused(client):
    answer = client.post(
        "/api/forms/bus-avvikelse",
        data={"handelsetyp": "x", "fil": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
        headers=JSON_ONLY,
    )
    assert answer.status_code == 400
    assert answer.json["detail"] == "Formuläret tar inte emot filer."


def test_a_file_for_a_text_field_of_a_form_with_files_is_refused(files_client):
    answer = post_files(files_client, {"namn": (io.BytesIO(TEXT), "namn.txt")})
    assert answer.status_code == 400
    assert answer.json["detail"] == 'Fältet "namn" tar inte emot filer.'


# ---- kept nowhere but the outbox ----


def test_the_register_keeps_a_files_name_size_and_type_never_its_content(form, files_client, config, smtp_server):
    data = {
        "namn": "Ann",
        "intyg": data_url("application/pdf", "intyg.pdf", PDF),
        "bilagor": [data_url("text/plain", "a.txt", TEXT)],
    }
    entry = new_report(form, data, "BILAGOR-20261201-ABCD", datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC))
    assert entry.answers["intyg"] == {"name": "intyg.pdf", "size": len(PDF), "type": "application/pdf"}
    assert entry.answers["bilagor"] == [{"name": "a.txt", "size": len(TEXT), "type": "text/plain"}]
    answer = post_files(files_client, {"namn": "Ann", "intyg": (io.BytesIO(PDF), "intyg.pdf")})
    assert answer.status_code == 201
    raw = Path(config["DATABASE_URL"].removeprefix("sqlite:///")).read_bytes()
    assert base64.b64encode(PDF)[:24] not in raw and PDF[:24] not in raw


def test_a_multipart_upload_is_read_in_memory_and_no_temporary_file_is_made(files_client, monkeypatch, smtp_server):
    from werkzeug import formparser

    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was made")

    # werkzeug's own default spools a part above 500 kB to a temporary file; the kit's parser never does
    monkeypatch.setattr(formparser, "SpooledTemporaryFile", refuse)
    big = PDF + b"%" * 900_000  # above werkzeug's 500 kB threshold for spooling to disk
    answer = post_files(
        files_client,
        {"namn": "Ann", "bilagor": [(io.BytesIO(big), "stor.pdf")], "intyg": (io.BytesIO(PDF), "intyg.pdf")},
    )
    assert answer.status_code == 201, answer.get_json()


def test_logs_never_carry_a_files_content_or_name(files_client, caplog, smtp_server):
    with caplog.at_level("DEBUG"):
        post_files(files_client, {"namn": "Ann", "intyg": (io.BytesIO(PDF), "hemligt-intyg.pdf")})
        post_files(files_client, {"namn": "Ann", "intyg": (io.BytesIO(PNG), "hemligt-intyg.pdf")})
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))  # not the sink's
    assert "formkit" in caplog.text
    assert "hemligt-intyg" not in ours and "JVBER" not in ours and "iVBOR" not in ours


# ---- bounds ----


def test_only_a_form_with_files_takes_a_larger_body(files_client, client, config):
    big = b"%PDF-" + b"x" * 400_000  # above the default body limit (256 kB), below the file field's 10 MB
    answer = post_files(
        files_client, {"namn": "Ann", "intyg": (io.BytesIO(PDF), "a.pdf"), "bilagor": [(io.BytesIO(big), "b.pdf")]}
    )
    assert answer.status_code == 201, answer.get_json()
    plain = client.post("/api/forms/bus-avvikelse", data={"handelsetyp": "x" * 400_000}, headers=JSON_ONLY)
    assert plain.status_code == 413


def test_a_body_beyond_the_files_room_is_a_swedish_413_never_a_500(files_client):
    huge = b"%PDF-" + b"x" * 70_000_000  # more than every file field together may take
    answer = post_files(files_client, {"namn": "Ann", "bilagor": [(io.BytesIO(huge), "a.pdf")]})
    assert answer.status_code == 413
    assert answer.json["title"] == "Innehållet är för stort"
    assert "välj filen igen" in answer.json["detail"]


def test_a_file_far_too_big_is_refused_before_it_is_decoded_and_the_cost_grows_linearly(files_client):
    def timed(size: int) -> float:
        value = data_url("application/pdf", "a.pdf", PDF + b"x" * size)
        started = time.perf_counter()
        answer = files_client.post("/api/forms/bilagor", json={"namn": "Ann", "intyg": value})
        assert answer.status_code == 422
        assert "är för stor" in answer.json["errors"][0]["message"]
        return time.perf_counter() - started

    timed(100_000)  # warm up
    # Both sizes well beyond the CPU's caches, so only the work, not where the bytes sit, tells them apart.
    small, large = min(timed(1_000_000) for _ in range(3)), min(timed(8_000_000) for _ in range(3))
    assert large < small * 8 * 4  # 8 times the size: linear work (quadratic would be 64 times the time)
