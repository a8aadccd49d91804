"""The endpoint through Flask's test client, with a real SMTP server on loopback."""

import html
import re
import time

import pytest
from werkzeug.datastructures import MultiDict

from handler.app import create_app
from support import attachment, docx_text, eventually, valid_answers

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
    mail = tmp_path / "mail"
    files = eventually(lambda: len(list(mail.glob("*.eml"))) >= 4 and sorted(mail.glob("*.eml")))  # the courier's
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


# ---- the check step before sending, and the receipt ----

CHECK = {"_step": "kontrollera"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """Return the check page's hidden fields, as its send button posts them."""
    check = page[page.index("data-formkit-check") :]
    return [(name, html.unescape(value)) for name, value in HIDDEN.findall(check)]


def test_without_javascript_valid_answers_are_shown_to_check_and_only_the_check_pages_button_sends(client, smtp_server):
    checked = client.post(URL, data=valid_answers() | CHECK)

    assert checked.status_code == 200
    assert checked.mimetype == "text/html"
    assert "<h1" in checked.text and "Kontrollera dina svar innan du skickar" in checked.text
    assert "Björkskolan: rektor@solna.se" in checked.text and "BUP Solna: chef.bup@regionstockholm.se" in checked.text
    assert "Ansvarig chef vid rapporterande verksamhet: carl.chef@solna.se" in checked.text
    assert "BUS-avvikelser@storsthlm.se" in checked.text and "eva.ek@solna.se" in checked.text
    assert ">Skicka BUS-avvikelsen</button>" in checked.text
    fields = hidden_fields(checked.text)
    assert ("verksamheter.1.chef_epost", "chef.bup@regionstockholm.se") in fields
    assert ("beskrivning.handelsen", "- Remissen skickades i mars\n- Inget svar kom") in fields
    assert "_step" not in dict(fields)
    time.sleep(0.5)
    assert smtp_server.inbox.messages == [], "nothing is sent before the send button"

    sent = client.post(URL, data=MultiDict(fields))

    assert sent.status_code == 303
    reference = sent.headers["Location"].rsplit("/", 1)[1]
    assert reference in smtp_server.inbox.wait_for(2)[0]["Subject"]


def test_the_check_step_refuses_invalid_answers_with_422_as_sending_does(client, smtp_server):
    answers = valid_answers() | {"verksamheter.0.chef_epost": "inte-en-adress"} | CHECK

    page = client.post(URL, data=answers)
    problem = client.post(URL, data=answers, headers={"Accept": "application/json"})

    assert page.status_code == 422 and "Det finns fel i formuläret" in page.text
    assert 'name="_step" value="kontrollera"' in page.text, "the corrected form is checked again before it is sent"
    assert problem.status_code == 422 and problem.json["errors"][0]["name"] == "verksamheter.0.chef_epost"
    assert smtp_server.inbox.messages == []


def test_change_on_the_check_page_gives_the_filled_form_back_unchecked_and_unsent(client, smtp_server):
    fields = hidden_fields(client.post(URL, data=valid_answers() | CHECK).text)

    form = client.post(URL, data=MultiDict([*fields, ("_step", "andra")]))

    assert form.status_code == 200
    assert 'value="chef.bup@regionstockholm.se"' in form.text and "Anna Andersson" in form.text
    assert ">Fortsätt</button>" in form.text
    assert "data-formkit-summary hidden>" in form.text and 'aria-invalid="true"' not in form.text, "no errors shown"
    assert smtp_server.inbox.messages == []


def test_formkit_js_gets_the_check_pages_content_as_json_and_json_clients_still_send_at_once(client, smtp_server):
    checked = client.post(URL, data=valid_answers() | CHECK, headers={"Accept": "application/json"})

    assert checked.status_code == 200
    assert checked.json["title"] == "Kontrollera dina svar innan du skickar: BUS-avvikelse"
    assert 'data-formkit-check="bus-avvikelse"' in checked.json["check"]
    assert smtp_server.inbox.messages == []
    sent = client.post(URL, data=valid_answers(), headers={"Accept": "application/json"})
    assert sent.status_code == 201, "a client that asks for no step sends, as before the check page"


def test_the_receipt_shows_the_reference_the_deadline_and_the_units_it_went_to_but_no_typed_address(app, client):
    location = client.post(URL, data=valid_answers()).headers["Location"]
    reference = location.rsplit("/", 1)[1]

    page = app.test_client().get(location)  # someone else who knows the reference: no sender's key

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    record = app.extensions["formkit.register"].report(reference)
    assert f"data-formkit-reference>{reference}</strong>" in page.text
    assert f"{record.deadline.day} " in page.text and f" {record.deadline.year}</strong>" in page.text
    assert "<li>Björkskolan</li>" in page.text and "<li>BUP Solna</li>" in page.text
    assert "<li>BUS-avvikelser@storsthlm.se</li>" in page.text
    assert "<li>Ansvarig chef vid rapporterande verksamhet</li>" in page.text
    assert 'href="/vad-hander-sedan/"' in page.text
    for typed in ("rektor@solna.se", "carl.chef@solna.se", "eva.ek@solna.se", "Anna Andersson"):
        assert typed not in page.text


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_the_senders_receipt_lists_every_address_so_a_mistyped_one_is_noticed(app, client, accept):
    answer = client.post(URL, data=valid_answers(), headers={"Accept": accept})
    location = answer.headers["Location"]
    cookie = answer.headers["Set-Cookie"]

    page = client.get(location)

    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={location}" in cookie
    listed = page.text.split("data-formkit-addresses>")[1].split("</ul>")[0]
    addresses = re.findall(r"<li>(.*?)</li>", listed)
    assert addresses == [
        "Björkskolan: rektor@solna.se",
        "BUP Solna: chef.bup@regionstockholm.se",
        "BUS-avvikelser@storsthlm.se (kopia)",
        "BUS-avvikelser.hsf@sll.se (kopia)",
        "Ansvarig chef vid rapporterande verksamhet: carl.chef@solna.se (kopia)",
        "eva.ek@solna.se (kvitto)",
    ]
    assert "<li>Björkskolan</li>" in page.text  # the units by name, as everyone sees them


def test_a_senders_key_opens_only_its_own_receipt_and_a_forged_one_none(app, client):
    first = client.post(URL, data=valid_answers()).headers
    second = app.test_client().post(URL, data=valid_answers()).headers["Location"]
    key = first["Set-Cookie"].split(";")[0].split("=", 1)[1]
    other = app.test_client()
    other.set_cookie("formkit_kvitto", key, path=second)

    assert "rektor@solna.se" not in other.get(second).text  # a key for another reference
    forged = app.test_client()
    forged.set_cookie("formkit_kvitto", key[:-2] + "xx", path=first["Location"])
    assert "rektor@solna.se" not in forged.get(first["Location"]).text
    assert "rektor@solna.se" in client.get(first["Location"]).text


@pytest.mark.parametrize("reference", ["BUS-20990101-ZZZZZZ", "SVAR-20990101-ZZZZZZ"])
def test_a_receipt_for_a_reference_that_was_never_sent_is_a_404_that_says_so(client, reference):
    page = client.get(f"{URL}/kvitto/{reference}")
    problem = client.get(f"{URL}/kvitto/{reference}", headers={"Accept": "application/json"})

    assert page.status_code == 404
    assert "Tack" not in page.text
    if reference.startswith("BUS-"):
        assert "Kvittot finns inte" in page.text and reference in page.text
    assert problem.status_code == 404 and problem.mimetype == "application/problem+json"


def test_the_receipt_e_mail_lists_every_recipient_so_a_mistyped_address_is_noticed(client, smtp_server):
    client.post(URL, data=valid_answers(), headers={"Accept": "application/json"})

    messages = smtp_server.inbox.wait_for(4)
    (receipt,) = [m for m in messages if ".receipt@" in m["Message-ID"]]
    body = receipt.get_body(("plain",)).get_content()

    assert "Rapporten har skickats till:" in body
    assert "- Björkskolan: rektor@solna.se" in body and "- BUP Solna: chef.bup@regionstockholm.se" in body
    copies = next(line for line in body.splitlines() if line.startswith("- För kännedom: "))
    assert {"BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se", "carl.chef@solna.se"} <= set(
        copies.removeprefix("- För kännedom: ").split(", ")
    )
