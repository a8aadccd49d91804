"""The answer loop: signed links in the report e-mail, the answer page, and the answer's e-mail."""

import base64
import dataclasses
import datetime
import re
import time
import urllib.parse
from pathlib import Path

import pytest

from handler import normalise, reply
from handler.app import create_app
from handler.errors import BadLink, ExpiredLink, FormDefinitionError, MissingLink
from handler.forms import load_forms
from handler.reference import add_months
from handler.reply import LinkedReport
from handler.settings import load
from support import attachment, docx_text, valid_answers

ROOT = Path(__file__).resolve().parent.parent

REPLY = "bus-avvikelse-svar"
LINKED = LinkedReport("BUS-20261122-7KQ2MX", "2026-11-22", "carl.chef@solna.se")
SECRETARIAT = {"BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"}
CONFIG = {"SECRET_KEY": "a-test-key", "REPLY_TOKEN_DAYS": 180}


def links(**overrides):
    """Link settings as the handler loads them, from CONFIG and FORMKIT_* names without the prefix."""
    return load({"TESTING": True, **CONFIG, **overrides}, environ={}).links


def links_of(app):
    return app.extensions["formkit.settings"].links


LINKS = links()
SOURCE_KEY = "insecure-development-key-set-FORMKIT_SECRET_KEY"  # the key once written in the source


@pytest.fixture(scope="module")
def report_form():
    return load_forms(ROOT / "schema")["bus-avvikelse"]


def forge(payload: dict, links=LINKS) -> str:
    """Sign and seal any payload, as someone holding the key could: what verify must still refuse."""
    return reply._serializer(links, REPLY).dumps(payload).decode()


def report_link(client, smtp_server) -> tuple[str, str, object]:
    """Send a report; return its reference, the answer link from its e-mail, and the e-mail."""
    reference = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"})
    report = smtp_server.inbox.wait_for(2)[0]
    link = re.search(r"https?://\S+/svara\?token=\S+", report.get_body(("plain",)).get_content()).group(0)
    return reference.json["reference"], link, report


def answer_fields(token: str) -> dict:
    """A complete answer as the form sends it, with the link's token in its hidden field."""
    return {
        "_token": token,
        "handelse": "- Remissen kom fram i mars\n- Den blev liggande under sommaren",
        "forbattringsatgarder": "Vi inför en veckovis genomgång av inkomna remisser.",
        "mottagande.datum": "2026-11-25",
        "mottagande.namn": "Berit Bup",
        "mottagande.enhet": "BUP Solna",
        "mottagande.epost": "berit.bup@regionstockholm.se",
        "mottagande.telefon": "08-123 000 00",
    }


def token_of(link: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]


# ---- tokens ----


def test_a_token_holds_the_reference_the_report_date_and_the_address_to_answer():
    token = reply.issue(LINKS, REPLY, LINKED)

    assert reply.verify(LINKS, REPLY, token) == LINKED


# Not the last character of a part: base64 leaves a few of its bits unused, so changing only those
# decodes to the same bytes (the token is then unchanged in substance, and rightly still valid).
@pytest.mark.parametrize("position", [0, 10, 40, -30, -10])
def test_a_token_changed_anywhere_is_refused(position):
    token = reply.issue(LINKS, REPLY, LINKED)
    changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]

    with pytest.raises(BadLink) as refused:
        reply.verify(LINKS, REPLY, changed)
    assert "Länken är inte giltig" in refused.value.detail


def test_a_token_with_another_address_put_in_is_refused():
    payload, timestamp, signature = reply.issue(LINKS, REPLY, LINKED).split(".")
    other = reply.issue(LINKS, REPLY, LinkedReport(LINKED.reference, LINKED.date, "angripare@example.com"))

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, ".".join([other.split(".")[0], timestamp, signature]))


def test_a_token_signed_with_another_key_is_refused():
    forged = reply.issue(links(SECRET_KEY="someone-elses-key"), REPLY, LINKED)

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forged)


def test_a_token_made_for_another_form_is_refused():
    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, reply.issue(LINKS, "bus-avvikelse", LINKED))


def test_a_token_older_than_its_lifetime_has_expired():
    issued = time.time() - 181 * 86400

    with pytest.raises(ExpiredLink) as refused:
        reply.verify(LINKS, REPLY, reply.issue(LINKS, REPLY, LINKED, issued_at=issued))
    assert "Länken har gått ut" in refused.value.detail
    assert reply.verify(links(REPLY_TOKEN_DAYS=200), REPLY, reply.issue(LINKS, REPLY, LINKED, issued))


def test_a_missing_token_says_to_use_the_link_in_the_email():
    for token in ("", None):
        with pytest.raises(MissingLink) as refused:
            reply.verify(LINKS, REPLY, token)
        assert refused.value.status == 400
        assert "länken i e-postmeddelandet" in refused.value.detail


def test_tokens_signed_before_a_key_rotation_still_work():
    old = reply.issue(LINKS, REPLY, LINKED)
    rotated = links(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=[CONFIG["SECRET_KEY"]])

    assert reply.verify(rotated, REPLY, old) == LINKED


@pytest.mark.parametrize(
    "address",
    [
        "x@gmail.com, y@evil.example",  # two addresses: the answer would go to both
        "carl.chef@solna.se, y@evil.example",
        "Carl Chef <carl.chef@solna.se>",  # a display name
        "carl.chef@solna.se\r\nBcc: y@evil.example",  # a header of its own
        "carl.chef@solna.se\n",
        "carl.chef@solna.se;y@evil.example",
        "carl.chef",
    ],
)
def test_a_link_must_name_exactly_one_bare_address(address, report_form):
    forged = forge({"r": LINKED.reference, "d": LINKED.date, "a": address})

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forged, report_form)
    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forged)  # even without the report form at hand
    with pytest.raises(ValueError):
        reply.issue(LINKS, REPLY, LinkedReport(LINKED.reference, LINKED.date, address))


def test_a_link_to_an_address_outside_the_report_forms_domains_is_refused(report_form):
    forged = forge({"r": LINKED.reference, "d": LINKED.date, "a": "x@gmail.com"})

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forged, report_form)
    assert reply.verify(LINKS, REPLY, reply.issue(LINKS, REPLY, LINKED), report_form) == LINKED


def test_no_link_is_made_for_an_address_outside_the_forms_domains(report_form):
    data = normalise.clean(normalise.from_pairs(report_form, list(valid_answers().items())))
    created = datetime.datetime(2026, 11, 22, 14, 3, tzinfo=datetime.UTC)
    outside = {**data, "beskrivning": {**data["beskrivning"], "chef": {**data["beskrivning"]["chef"]}}}
    outside["beskrivning"]["chef"]["epost"] = "carl.chef@gmail.com"

    assert reply.answer_link(report_form, data, LINKED.reference, created, LINKS).startswith(LINKS.base_url)
    assert reply.answer_link(report_form, outside, LINKED.reference, created, LINKS) == ""


@pytest.mark.parametrize("reference", [LINKED.reference + "\n", LINKED.reference + "\r\nX: y", "bus-20261122-7KQ2MX"])
def test_a_reference_ending_in_a_newline_or_otherwise_malformed_is_refused(reference):
    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forge({"r": reference, "d": LINKED.date, "a": LINKED.answer_to}))
    with pytest.raises(ValueError):
        reply.issue(LINKS, REPLY, LinkedReport(reference, LINKED.date, LINKED.answer_to))


def test_a_token_shows_neither_the_address_nor_the_reference():
    token = reply.issue(LINKS, REPLY, LINKED)
    payload, timestamp, signature = token.split(".")

    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    for secret in (LINKED.answer_to, "carl.chef", "solna", LINKED.reference, "7KQ2MX"):
        assert secret.encode() not in decoded and secret not in token


def test_a_token_sealed_for_another_form_cannot_be_opened_even_with_a_valid_signature():
    # The encryption key is derived from the secret key and the reply form, not the key itself.
    other = reply._serializer(LINKS, "bus-avvikelse").dumps({"r": "x"}).decode()
    payload = other.split(".")[0]
    signer = reply._serializer(LINKS, REPLY).make_signer(f"formkit.reply.{REPLY}")
    resigned = signer.sign(payload.encode()).decode()  # a valid signature over a payload sealed for another form

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, resigned)


# ---- the report e-mail ----


def test_the_report_email_says_when_to_answer_and_carries_the_link_and_a_calendar_reminder(client, smtp_server):
    reference, link, report = report_link(client, smtp_server)
    sent = datetime.datetime.strptime(reference.split("-")[1], "%Y%m%d").date()
    due = add_months(sent, 2).isoformat()

    assert f"Svara senast {due}" in report["Subject"]
    assert f"Svara senast {due}" in report.get_body(("plain",)).get_content()
    assert report["Reply-To"].addresses[0].addr_spec == "carl.chef@solna.se"
    assert link.startswith("http://127.0.0.1:8000/api/forms/bus-avvikelse-svar/svara?token=")
    linked = reply.verify(links_of(client.application), REPLY, token_of(link))
    assert linked == LinkedReport(reference, sent.isoformat(), "carl.chef@solna.se")
    [calendar] = [p for p in report.iter_attachments() if p.get_content_type() == "text/calendar"]
    ics = calendar.get_content()
    assert f"DTSTART;VALUE=DATE:{due.replace('-', '')}" in ics
    assert "BEGIN:VALARM" in ics and reference in ics


def test_the_link_uses_the_configured_base_url(config, smtp_server):
    from handler.app import create_app

    client = create_app({**config, "BASE_URL": "https://bus.example.se/"}).test_client()

    _, link, _ = report_link(client, smtp_server)

    assert link.startswith("https://bus.example.se/api/forms/bus-avvikelse-svar/svara?token=")


# ---- the answer page ----


def test_the_answer_page_shows_the_reference_read_only_and_carries_the_token(client, smtp_server):
    reference, link, _ = report_link(client, smtp_server)

    page = client.get(link.removeprefix("http://127.0.0.1:8000"))

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert re.search(rf'<input[^>]*id="f-_shown-1" value="{reference}" readonly>', page.text)
    assert f'<input type="hidden" name="_token" value="{token_of(link)}">' in page.text
    assert 'action="/api/forms/bus-avvikelse-svar"' in page.text
    assert "Förbättringsåtgärder" in page.text and "Datum för mottagande" in page.text


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("", 400, "Länken saknas"),
        ("eyJyIjoiQlVTIn0.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb", 403, "Länken är inte giltig"),
    ],
)
def test_the_answer_page_refuses_a_missing_or_bad_token_in_plain_swedish(client, token, status, message):
    page = client.get(f"/api/forms/{REPLY}/svara?token={token}")

    assert page.status_code == status
    assert message in page.text


def test_the_answer_page_exists_only_for_a_reply_form(client):
    assert client.get("/api/forms/bus-avvikelse/svara?token=x").status_code == 404


def test_the_answer_page_inside_the_built_site_links_to_the_site(config, built_site, smtp_server):
    client = create_app({**config, "PUBLIC_DIR": str(built_site)}).test_client()
    _, link, _ = report_link(client, smtp_server)

    page = client.get(link.removeprefix("http://127.0.0.1:8000")).text

    assert 'href="/assets/formkit.css"' in page and 'src="/assets/formkit.js"' in page
    assert 'href="../' not in page and 'src="../' not in page
    assert "Svara på en BUS-avvikelse" in page


# ---- the answer ----


def test_an_answer_goes_to_the_reporting_manager_with_copies_and_its_document(client, smtp_server):
    reference, link, _ = report_link(client, smtp_server)

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token_of(link)))

    assert response.status_code == 303
    answer = smtp_server.inbox.wait_for(3)[2]
    assert [a.addr_spec for a in answer["To"].addresses] == ["carl.chef@solna.se"]
    assert {a.addr_spec for a in answer["Cc"].addresses} == SECRETARIAT | {"berit.bup@regionstockholm.se"}
    assert reference in answer["Subject"]
    assert answer["In-Reply-To"] == f"<{reference}.report@formkit.localhost>"
    name, data = attachment(answer)
    assert name == f"{reference}-svar.docx"
    text = docx_text(data)
    report_date = datetime.datetime.strptime(reference.split("-")[1], "%Y%m%d").date().isoformat()
    expected = [
        "Svar på BUS-avvikelse",
        reference,
        report_date,
        "4. Beskrivning av händelsen från mottagande verksamhet",
        "Händelse",
        "Remissen kom fram i mars",
        "Den blev liggande under sommaren",
        "Förbättringsåtgärder",
        "veckovis genomgång",
        "Datum för mottagande",
        "2026-11-25",
        "Berit Bup",
        "berit.bup@regionstockholm.se",
    ]
    positions = [text.find(item) for item in expected]
    assert -1 not in positions, [e for e, p in zip(expected, positions) if p == -1]
    assert positions == sorted(positions)
    assert "Rapporterande enhet" not in text  # the answer is section 4 only


def test_the_answer_receipt_says_the_answer_was_sent(client, smtp_server):
    _, link, _ = report_link(client, smtp_server)

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token_of(link)), follow_redirects=True)

    assert "Tack, ditt svar är skickat" in response.text


def test_an_answer_with_an_altered_token_is_refused_and_nothing_is_sent(client, smtp_server):
    _, link, _ = report_link(client, smtp_server)
    token = token_of(link)
    other = reply.issue(
        links_of(client.application), REPLY, LinkedReport("BUS-20261122-7KQ2MX", "2026-11-22", "x@y.se")
    )
    altered = ".".join([other.split(".")[0], *token.split(".")[1:]])

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(altered), headers={"Accept": "application/json"})

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "Länken är inte giltig" in response.json["detail"]
    time.sleep(0.3)
    assert len(smtp_server.inbox.messages) == 2  # the report and its receipt, no answer


def test_a_forged_link_naming_two_addresses_sends_nothing(client, smtp_server):
    payload = {"r": LINKED.reference, "d": LINKED.date, "a": "x@gmail.com, y@evil.example"}
    forged = forge(payload, links_of(client.application))  # as if the key were known

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(forged), headers={"Accept": "application/json"})

    assert response.status_code == 403
    assert "Länken är inte giltig" in response.json["detail"]
    time.sleep(0.3)
    assert smtp_server.inbox.messages == []


def test_without_javascript_an_expired_link_keeps_what_was_typed(client, smtp_server):
    old = reply.issue(links_of(client.application), REPLY, LINKED, issued_at=time.time() - 365 * 86400)

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(old))

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Länken har gått ut" in response.text
    assert "Den blev liggande under sommaren" in response.text
    assert 'value="Berit Bup"' in response.text


def test_an_answer_without_a_token_is_refused_with_a_clear_message(client):
    fields = answer_fields("")
    del fields["_token"]

    response = client.post(f"/api/forms/{REPLY}", data=fields, headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert "länken i e-postmeddelandet" in response.json["detail"]


def test_a_json_answer_carries_its_token_in_the_body(client, smtp_server):
    _, link, _ = report_link(client, smtp_server)
    body = {
        "_token": token_of(link),
        "handelse": "Vi har utrett.",
        "forbattringsatgarder": "Ny rutin.",
        "mottagande": {"datum": "2026-11-25", "namn": "Bo", "enhet": "BUP", "epost": "bo@regionstockholm.se"},
    }

    response = client.post(f"/api/forms/{REPLY}", json=body)

    assert response.status_code == 201
    assert response.json["reference"].startswith("SVAR-")
    assert smtp_server.inbox.wait_for(3)[2]["To"].addresses[0].addr_spec == "carl.chef@solna.se"


def test_without_javascript_an_invalid_answer_keeps_the_token_and_the_reference(client, smtp_server):
    reference, link, _ = report_link(client, smtp_server)
    fields = answer_fields(token_of(link)) | {"mottagande.epost": "inte-en-adress"}

    response = client.post(f"/api/forms/{REPLY}", data=fields)

    assert response.status_code == 422
    assert f'name="_token" value="{token_of(link)}"' in response.text
    assert f'value="{reference}" readonly' in response.text
    assert 'value="inte-en-adress"' in response.text


# ---- linking forms is a setting ----


def write_forms(tmp_path, report_settings: dict, reply_mail: dict):
    import json

    email = {"type": "string", "format": "email", "title": "E-post"}
    report = {
        "type": "object",
        "title": "Rapport",
        "x-formkit": report_settings,
        "properties": {"chef": email, "text": {"type": "string", "title": "Text"}},
    }
    answer = {"type": "object", "title": "Svar", "x-formkit": {"mail": reply_mail}, "properties": {"svar": email}}
    (tmp_path / "rapport.json").write_text(json.dumps(report))
    (tmp_path / "svar.json").write_text(json.dumps(answer))
    return tmp_path


def test_any_form_can_have_the_answer_loop_by_settings_alone(tmp_path):
    forms = load_forms(
        write_forms(tmp_path, {"reply_form": "svar", "reply_link": {"answer_to": "/chef"}}, {"to": "token"})
    )

    assert forms["svar"].settings.reply_of == "rapport"


@pytest.mark.parametrize(
    ("report_settings", "reply_mail", "problem"),
    [
        ({"reply_form": "finns-inte"}, {}, 'formuläret "finns-inte" finns inte'),
        ({"reply_form": "svar", "reply_link": {"answer_to": "/text"}}, {}, "reply_link.answer_to"),
        ({"reply_link": {"answer_to": "/chef"}}, {}, 'kräver "reply_form"'),
        ({"reply_form": "svar", "reply_link": {"answer_to": "/chef", "deadline_months": 0}}, {}, "deadline_months"),
        ({"reply_form": "svar", "reply_link": {"answer_to": "/chef", "okand": 1}}, {}, 'okänd inställning "okand"'),
        ({}, {"to": "token"}, '"token" betyder adressen i svarslänken'),
    ],
)
def test_a_broken_answer_loop_setting_is_named_in_plain_words(tmp_path, report_settings, reply_mail, problem):
    with pytest.raises(FormDefinitionError) as error:
        load_forms(write_forms(tmp_path, report_settings, reply_mail))

    assert problem in str(error.value)


def test_the_key_the_base_url_and_the_lifetime_come_from_formkit_variables(monkeypatch, config):
    from handler.app import create_app

    monkeypatch.setenv("FORMKIT_SECRET_KEY", "a-long-random-production-key")
    monkeypatch.setenv("FORMKIT_BASE_URL", "https://bus.example.se")
    monkeypatch.setenv("FORMKIT_REPLY_TOKEN_DAYS", "30")
    app = create_app(config)
    settings, configured = app.config, links_of(app)

    assert (settings["BASE_URL"], settings["REPLY_TOKEN_DAYS"]) == ("https://bus.example.se", 30)
    token = reply.issue(configured, REPLY, LINKED, issued_at=time.time() - 31 * 86400)
    with pytest.raises(ExpiredLink):
        reply.verify(configured, REPLY, token)
    source_key = dataclasses.replace(configured, secret_key=SOURCE_KEY, fallbacks=())
    with pytest.raises(BadLink):
        reply.verify(configured, REPLY, reply.issue(source_key, REPLY, LINKED))
