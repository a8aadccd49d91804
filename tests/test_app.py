"""The endpoint through Flask's test client, with a real SMTP server on loopback."""

import re

import pytest

from handler.app import create_app
from support import attachment, docx_text, valid_answers

URL = "/api/forms/bus-avvikelse"
REFERENCE = re.compile(r"^BUS-\d{8}-[2-9A-HJ-KM-NP-Z]{6}$")


def test_a_valid_report_reaches_the_managers_the_secretariat_and_the_reporter(client, smtp_server):
    response = client.post(URL, data=valid_answers(), headers={"Accept": "application/json"})

    assert response.status_code == 201
    reference = response.json["reference"]
    assert REFERENCE.match(reference)
    report, other_unit, copy, receipt = smtp_server.inbox.wait_for(4)  # each unit its own, one copy for the rest
    assert reference in report["Subject"]
    assert [a.addr_spec for a in report["To"].addresses] == ["rektor@solna.se"]
    assert [a.addr_spec for a in other_unit["To"].addresses] == ["chef.bup@regionstockholm.se"]
    assert {a.addr_spec for a in copy["To"].addresses} == {
        "BUS-avvikelser@storsthlm.se",
        "BUS-avvikelser.hsf@sll.se",
        "carl.chef@solna.se",
    }
    body = report.get_body(("plain",)).get_content()
    assert "två månader" in body and "BUS-sekretariatet" in body
    assert receipt["To"].addresses[0].addr_spec == "eva.ek@solna.se"
    assert reference in receipt["Subject"]
    assert [set(envelope_to) for _, envelope_to in smtp_server.inbox.envelopes[:3]] == [
        {"rektor@solna.se"},
        {"chef.bup@regionstockholm.se"},
        {"BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se", "carl.chef@solna.se"},
    ]


def test_messages_are_7_bit_so_any_smtp_server_takes_them_and_read_back_in_swedish(client, smtp_server):
    assert client.post(URL, data=valid_answers()).status_code == 303

    report, *_ = smtp_server.inbox.wait_for(4)

    assert all(raw.isascii() for raw in smtp_server.inbox.raw)  # no 8BITMIME or SMTPUTF8 needed
    assert report["From"].addresses[0].display_name == "Formulärtjänsten"
    assert "– Svara senast" in report["Subject"]
    assert "två månader" in report.get_body(("plain",)).get_content()


def test_the_attached_document_holds_every_answer_in_the_paper_forms_order(client, smtp_server):
    reference = client.post(URL, data=valid_answers(), headers={"Accept": "application/json"}).json["reference"]

    name, data = attachment(smtp_server.inbox.wait_for(1)[0])
    text = docx_text(data)

    assert name == f"{reference}.docx"
    assert reference in text
    expected = [
        "1. Vilken typ av händelse avser BUS-avvikelsen",
        "Remiss till BUP besvarades inte",
        "2. Mellan vilka verksamheter har avvikelsen uppstått?",
        "Björkskolan",
        "Grundskola",
        "Solna stad",
        "rektor@solna.se",
        "BUP Solna",
        "Barn- och ungdomspsykiatri",
        "Region Stockholm",
        "3. Beskrivning av händelsen från rapporterande verksamhet",
        "Remissen skickades i mars",
        "Gemensamt möte",
        "Anna Andersson",
        "Kontaktuppgifter till rapporterande verksamhet",
        "2026-11-20",
        "Elevhälsan Solna",
        "Eva Ek",
        "Ansvarig chef vid rapporterande verksamhet",
        "Carl Chef",
        "4. Beskrivning av händelsen från mottagande verksamhet",
        "Förbättringsåtgärder",
        "Datum för mottagande",
    ]
    positions = [text.find(item) for item in expected]
    assert -1 not in positions, [e for e, p in zip(expected, positions) if p == -1]
    assert positions == sorted(positions)


def test_a_browser_without_javascript_is_sent_to_a_receipt_page_with_the_reference(client, smtp_server):
    response = client.post(URL, data=valid_answers())

    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    reference = response.headers["Location"].rsplit("/", 1)[1]
    assert page.status_code == 200
    assert reference in page.text
    assert '<html lang="sv"' in page.text or "<html lang=sv" in page.text


def test_json_bodies_are_accepted_like_form_bodies(client, smtp_server):
    answers = valid_answers()
    body = {
        "handelsetyp": answers["handelsetyp"],
        "omrade": answers["omrade"],
        "verksamheter": [
            {"enhet": "Skolan", "verksamhetstyp": "grundskola", "huvudman": "nacka", "chef_epost": "rektor@nacka.se"}
        ],
        "beskrivning": {
            "handelsen": "Det hände",
            "uppgiftslamnare": {"namn": "Ann", "telefon": "070-123 45 67"},
            "rapporterande": {
                "datum": "2026-11-01",
                "enhet": "BUM",
                "verksamhetstyp": "bum",
                "huvudman": "region-stockholm",
                "kontaktperson": "Bo",
                "epost": "bo@regionstockholm.se",
                "telefon": "08-123 45 67",
            },
            "chef": {"namn": "Cia", "epost": "cia@regionstockholm.se"},
        },
    }
    response = client.post(URL, json=body)

    assert response.status_code == 201
    assert smtp_server.inbox.wait_for(2)[0]["To"].addresses[0].addr_spec == "rektor@nacka.se"


def test_without_an_smtp_server_mail_is_written_as_eml_files(tmp_path, config):
    from handler.app import create_app

    app = create_app({**config, "SMTP_HOST": "", "MAIL_DIR": str(tmp_path / "mail")})
    response = app.test_client().post(URL, data=valid_answers(), headers={"Accept": "application/json"})

    assert response.status_code == 201
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 4  # one per receiving unit, the copy and the receipt
    assert response.json["reference"] in files[0].read_text()


def test_mail_redirect_sends_everything_to_one_mailbox(config, smtp_server):
    client = create_app({**config, "MAIL_REDIRECT": "staging@example.se"}).test_client()
    client.post(URL, data=valid_answers(), headers={"Accept": "application/json"})

    for _, recipients in smtp_server.inbox.wait_for(2) and smtp_server.inbox.envelopes:
        assert recipients == ["staging@example.se"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{", "application/json", 400),
        (b"[]", "application/json", 400),
        (b'{"a": 1, "a": 2}', "application/json", 400),
        (b"[" * 3000 + b"]" * 3000, "application/json", 400),
        (b"handelsetyp=\xff", "application/x-www-form-urlencoded", 400),
        (b"okant=1", "application/x-www-form-urlencoded", 400),
        (b"hello", "text/plain", 415),
        (b"x" * 300_000, "application/json", 413),
    ],
)
def test_unreadable_bodies_get_a_clear_problem_answer_never_a_500(client, body, content_type, status):
    response = client.post(URL, data=body, content_type=content_type, headers={"Accept": "application/json"})

    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"]


def test_an_unknown_form_is_404(client):
    response = client.post("/api/forms/finns-inte", json={})

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_opening_the_endpoints_address_leads_to_the_page_with_the_form(config, tmp_path):
    # the site's own pages are served too, as under `formkit serve`
    client = create_app({**config, "PUBLIC_DIR": str(tmp_path)}).test_client()

    page = client.get("/api/forms/bus-avvikelse")

    assert page.status_code == 303
    assert page.headers["Location"] == "/rapportera/"
    assert client.get("/api/forms/bus-avvikelse-svar").headers["Location"] == "/svara/"


def test_invalid_answers_get_422_with_one_swedish_message_per_field(client):
    answers = valid_answers() | {"verksamheter.0.chef_epost": "inte-en-adress", "handelsetyp": ""}
    response = client.post(URL, data=answers, headers={"Accept": "application/json"})

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = {e["name"]: e for e in response.json["errors"]}
    assert set(errors) == {"handelsetyp", "verksamheter.0.chef_epost"}
    assert errors["verksamheter.0.chef_epost"]["message"] == "Ange chefens e-postadress, till exempel namn@kommun.se"
    assert errors["verksamheter.0.chef_epost"]["label"] == "Chefens e-post"


def test_without_javascript_invalid_answers_show_the_form_again_with_the_input_kept(client):
    answers = valid_answers() | {"verksamheter.0.chef_epost": "inte-en-adress"}
    response = client.post(URL, data=answers)

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "Det finns fel i formuläret" in response.text
    assert 'value="inte-en-adress"' in response.text
    assert "Anna Andersson" in response.text
    assert 'href="#f-verksamheter-0-chef_epost"' in response.text
