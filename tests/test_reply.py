"""The answer loop: a link per receiving unit, the answer page, the answer and its supplements."""

import base64
import dataclasses
import datetime
import json
import re
import time
import urllib.parse
from pathlib import Path

import pytest

from handler import normalise, pipeline, reply
from handler.app import create_app
from handler.delivery import hand_over
from handler.errors import BadLink, ExpiredLink, FormDefinitionError, MissingLink
from handler.forms import load_forms
from handler.reference import TIMEZONE, add_months
from handler.register import new_report
from handler.reply import AlreadyAnswered, Link, ReportGone
from handler.settings import load
from support import attachment, docx_text, valid_answers

ROOT = Path(__file__).resolve().parent.parent

REPLY = "bus-avvikelse-svar"
LINK = Link("BUS-20261122-7KQ2MX", 1)
SECRETARIAT = {"BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"}
UNITS = {0: ("Björkskolan", "rektor@solna.se"), 1: ("BUP Solna", "chef.bup@regionstockholm.se")}
CONFIG = {"SECRET_KEY": "a-test-key", "REPLY_TOKEN_DAYS": 180}
JSON = {"Accept": "application/json"}


def links(**overrides):
    """Link settings as the handler loads them, from CONFIG and FORMKIT_* names without the prefix."""
    return load({"TESTING": True, **CONFIG, **overrides}, environ={}).links


def links_of(app):
    return app.extensions["formkit.settings"].links


LINKS = links()
SOURCE_KEY = "insecure-development-key-set-FORMKIT_SECRET_KEY"  # the key once written in the source


@pytest.fixture(scope="module")
def forms():
    return load_forms(ROOT / "schema")


@pytest.fixture(scope="module")
def report_form(forms):
    return forms["bus-avvikelse"]


def forge(payload: dict, links=LINKS) -> str:
    """Sign and seal any payload, as someone holding the key could: what verify must still refuse."""
    return reply._serializer(links, REPLY).dumps(payload).decode()


def link_in(message) -> str:
    return re.search(r"https?://\S+/svara\?token=\S+", message.get_body(("plain",)).get_content()).group(0)


def by_id(messages, reference: str, kind: str):
    """Return the message whose Message-ID is `<reference>.<kind>@…`."""
    [found] = [m for m in messages if m["Message-ID"].startswith(f"<{reference}.{kind}@")]
    return found


def send_report(client, smtp_server) -> tuple[str, dict[int, str]]:
    """Send a report; return its reference and each receiving unit's answer link, from its own e-mail."""
    reference = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers=JSON).json["reference"]
    messages = smtp_server.inbox.wait_for(4)
    return reference, {unit: link_in(by_id(messages, reference, f"report.{unit}")) for unit in UNITS}


def answer_fields(token: str, **changes) -> dict:
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
        **changes,
    }


def token_of(link: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]


def path_of(link: str) -> str:
    return link.removeprefix("http://127.0.0.1:8000")


def arrival(reference: str) -> str:
    return datetime.datetime.strptime(reference.split("-")[1], "%Y%m%d").date().isoformat()


def record(app, reference: str = "BUS-20261122-7KQ2MX", created=None) -> str:
    """Record a report in the app's register, as if it had been sent; return its reference."""
    form = app.extensions["formkit.forms"]["bus-avvikelse"]
    data = normalise.clean(normalise.from_pairs(form, list(valid_answers().items())))
    created = created or datetime.datetime(2026, 11, 22, 14, 3, tzinfo=TIMEZONE)
    app.extensions["formkit.register"].record(new_report(form, data, reference, created))
    return reference


# ---- tokens ----


def test_a_token_holds_the_reference_and_the_units_index_and_nothing_else():
    token = reply.issue(LINKS, REPLY, LINK)

    assert reply.verify(LINKS, REPLY, token) == LINK
    assert reply._serializer(LINKS, REPLY).loads(token) == {"r": LINK.reference, "u": 1}


# Not the last character of a part: base64 leaves a few of its bits unused, so changing only those
# decodes to the same bytes (the token is then unchanged in substance, and rightly still valid).
@pytest.mark.parametrize("position", [0, 10, 40, -30, -10])
def test_a_token_changed_anywhere_is_refused(position):
    token = reply.issue(LINKS, REPLY, LINK)
    changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]

    with pytest.raises(BadLink) as refused:
        reply.verify(LINKS, REPLY, changed)
    assert "Länken är inte giltig" in refused.value.detail


def test_a_token_with_another_units_payload_put_in_is_refused():
    payload, timestamp, signature = reply.issue(LINKS, REPLY, LINK).split(".")
    other = reply.issue(LINKS, REPLY, Link(LINK.reference, 0))

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, ".".join([other.split(".")[0], timestamp, signature]))


def test_a_token_signed_with_another_key_is_refused():
    forged = reply.issue(links(SECRET_KEY="someone-elses-key"), REPLY, LINK)

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forged)


def test_a_token_made_for_another_form_is_refused():
    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, reply.issue(LINKS, "bus-avvikelse", LINK))


def test_a_token_older_than_its_lifetime_has_expired():
    issued = time.time() - 181 * 86400

    with pytest.raises(ExpiredLink) as refused:
        reply.verify(LINKS, REPLY, reply.issue(LINKS, REPLY, LINK, issued_at=issued))
    assert "Länken har gått ut" in refused.value.detail
    assert reply.verify(links(REPLY_TOKEN_DAYS=200), REPLY, reply.issue(LINKS, REPLY, LINK, issued))


def test_a_missing_token_says_to_use_the_link_in_the_email():
    for token in ("", None):
        with pytest.raises(MissingLink) as refused:
            reply.verify(LINKS, REPLY, token)
        assert refused.value.status == 400
        assert "länken i e-postmeddelandet" in refused.value.detail


def test_tokens_signed_before_a_key_rotation_still_work():
    old = reply.issue(LINKS, REPLY, LINK)
    rotated = links(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=[CONFIG["SECRET_KEY"]])

    assert reply.verify(rotated, REPLY, old) == LINK


@pytest.mark.parametrize("unit", ["1", -1, True, 1.5, None, [1], 10**9])
def test_a_link_must_name_one_unit_by_its_whole_number(unit):
    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forge({"r": LINK.reference, "u": unit}))
    with pytest.raises(ValueError):
        reply.issue(LINKS, REPLY, Link(LINK.reference, unit))


@pytest.mark.parametrize("reference", [LINK.reference + "\n", LINK.reference + "\r\nX: y", "bus-20261122-7KQ2MX"])
def test_a_reference_ending_in_a_newline_or_otherwise_malformed_is_refused(reference):
    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, forge({"r": reference, "u": 0}))
    with pytest.raises(ValueError):
        reply.issue(LINKS, REPLY, Link(reference, 0))


def test_a_token_shows_not_even_the_reference():
    token = reply.issue(LINKS, REPLY, LINK)
    payload, timestamp, signature = token.split(".")

    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    for secret in (LINK.reference, "7KQ2MX", "BUS-"):
        assert secret.encode() not in decoded and secret not in token


def test_a_token_sealed_for_another_form_cannot_be_opened_even_with_a_valid_signature():
    # The encryption key is derived from the secret key and the reply form, not the key itself.
    other = reply._serializer(LINKS, "bus-avvikelse").dumps({"r": "x"}).decode()
    payload = other.split(".")[0]
    signer = reply._serializer(LINKS, REPLY).make_signer(f"formkit.reply.{REPLY}")
    resigned = signer.sign(payload.encode()).decode()  # a valid signature over a payload sealed for another form

    with pytest.raises(BadLink):
        reply.verify(LINKS, REPLY, resigned)


def test_a_genuine_link_of_the_first_version_says_its_report_is_not_in_the_register():
    # The first links carried the reporting manager's address, before the register recorded any report.
    first = forge({"r": LINK.reference, "d": "2026-11-22", "a": "carl.chef@solna.se"})

    with pytest.raises(ReportGone) as gone:
        reply.verify(LINKS, REPLY, first)
    assert gone.value.status == 410 and "finns inte längre i registret" in gone.value.detail


def test_no_links_are_made_for_an_address_to_answer_outside_the_forms_domains(report_form):
    data = normalise.clean(normalise.from_pairs(report_form, list(valid_answers().items())))
    outside = json.loads(json.dumps(data))
    outside["beskrivning"]["chef"]["epost"] = "carl.chef@gmail.com"

    made = reply.unit_links(report_form, data, LINK.reference, LINKS)
    assert [(u.index, u.name, u.address) for u in made] == [(i, *UNITS[i]) for i in UNITS]
    assert [reply.verify(LINKS, REPLY, token_of(u.link)) for u in made] == [Link(LINK.reference, i) for i in UNITS]
    assert [u.link for u in reply.unit_links(report_form, outside, LINK.reference, LINKS)] == ["", ""]


# ---- the report e-mails: one per unit with its own link, one copy for the rest ----


def test_each_receiving_unit_gets_its_own_email_with_a_link_that_answers_for_it_alone(client, smtp_server):
    reference, unit_links = send_report(client, smtp_server)
    due = add_months(datetime.date.fromisoformat(arrival(reference)), 2).isoformat()

    for unit, (name, address) in UNITS.items():
        message = by_id(smtp_server.inbox.messages, reference, f"report.{unit}")
        assert [a.addr_spec for a in message["To"].addresses] == [address] and message["Cc"] is None
        assert message["Subject"] == f"BUS-avvikelse {reference} till {name} – Svara senast {due}"
        assert f"Din verksamhet {name} har fått" in message.get_body(("plain",)).get_content()
        assert message["Reply-To"].addresses[0].addr_spec == "carl.chef@solna.se"
        assert reply.verify(links_of(client.application), REPLY, token_of(unit_links[unit])) == Link(reference, unit)
        [calendar] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        ics = calendar.get_content().replace("\r\n ", "").replace("\n ", "")
        assert f"DTSTART;VALUE=DATE:{due.replace('-', '')}" in ics and token_of(unit_links[unit]) in ics
        assert f"UID:{reference}.deadline.{unit}@formkit.localhost" in ics
    assert unit_links[0] != unit_links[1]


def test_the_copies_get_one_message_for_their_information_with_no_link_and_no_calendar(client, smtp_server):
    reference, _ = send_report(client, smtp_server)

    copy = by_id(smtp_server.inbox.messages, reference, "copy")
    assert {a.addr_spec for a in copy["To"].addresses} == SECRETARIAT | {"carl.chef@solna.se"}
    assert copy["Subject"] == f"För kännedom: BUS-avvikelse {reference}"
    body = copy.get_body(("plain",)).get_content()
    assert "Det här är en kopia för kännedom. Du behöver inte svara eller göra något." in body
    assert "Björkskolan: rektor@solna.se" in body and "BUP Solna: chef.bup@regionstockholm.se" in body
    assert "token=" not in body and "Svara senast" not in copy["Subject"]
    assert [p.get_filename() for p in copy.iter_attachments()] == [f"{reference}.docx"]


def test_every_message_of_a_report_has_its_own_stable_message_id(client, smtp_server):
    reference, _ = send_report(client, smtp_server)

    ids = sorted(m["Message-ID"] for m in smtp_server.inbox.messages)
    assert ids == sorted(
        f"<{reference}.{kind}@formkit.localhost>" for kind in ("report.0", "report.1", "copy", "receipt")
    )
    assert by_id(smtp_server.inbox.messages, reference, "receipt")["To"].addresses[0].addr_spec == "eva.ek@solna.se"


def test_the_link_uses_the_configured_base_url(config, smtp_server):
    client = create_app({**config, "BASE_URL": "https://bus.example.se/"}).test_client()

    _, unit_links = send_report(client, smtp_server)

    assert unit_links[0].startswith("https://bus.example.se/api/forms/bus-avvikelse-svar/svara?token=")


def test_the_recipient_limit_counts_each_recipient_once_per_report_however_many_messages_name_it(config, smtp_server):
    # The reporting manager is in the copy and the Reply-To of every unit's message; still one report for them.
    client = create_app({**config, "RECIPIENT_RATELIMIT": "1 per hour"}).test_client()

    first = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers=JSON)
    second = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers=JSON)

    assert (first.status_code, second.status_code) == (201, 429)


def test_serverless_a_units_report_the_mail_server_refuses_is_a_503_and_nothing_is_recorded(app, config):
    from aiosmtpd.controller import Controller

    from support import Inbox, free_port

    class RefusingTheSecondUnit(Inbox):
        async def handle_DATA(self, server, session, envelope):
            if b".report.1@" in envelope.content:
                return "554 5.7.1 Refused"
            return await super().handle_DATA(server, session, envelope)

    inbox = RefusingTheSecondUnit()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        serverless = create_app({**config, "OUTBOX_DIR": "", "SMTP_PORT": smtp.port})
        response = serverless.test_client().post("/api/forms/bus-avvikelse", data=valid_answers(), headers=JSON)
    finally:
        smtp.stop()

    # A 201 would leave BUP Solna without its report for ever; after a 503 the user sends it again.
    assert response.status_code == 503
    today = datetime.datetime.now(TIMEZONE).date()
    assert app.extensions["formkit.register"].reports_between(today, today) == []


# ---- the answer page ----


def test_the_answer_page_shows_the_report_the_unit_the_deadline_and_where_the_answer_goes(client, smtp_server):
    reference, unit_links = send_report(client, smtp_server)
    due = add_months(datetime.date.fromisoformat(arrival(reference)), 2).isoformat()

    page = client.get(path_of(unit_links[1]))

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert re.search(rf'<input[^>]*id="f-_shown-1" value="{reference}" readonly>', page.text)
    assert re.search(r'<input[^>]*id="f-_shown-2" value="BUP Solna" readonly>', page.text)
    assert f'<input type="hidden" name="_token" value="{token_of(unit_links[1])}">' in page.text
    assert 'action="/api/forms/bus-avvikelse-svar' in page.text
    facts = page.text.split("<table data-formkit-facts>")[1].split("</table>")[0]
    assert "<td data-formkit-unit>BUP Solna</td>" in facts and f"<td>{arrival(reference)}</td>" in facts
    assert f'<th scope="row">Svara senast</th><td data-formkit-deadline>{due}</td>' in facts
    assert "Ansvarig chef vid rapporterande verksamhet (carl.chef@solna.se), med kopia till" in facts
    assert "BUS-avvikelser@storsthlm.se, BUS-avvikelser.hsf@sll.se och till dig" in facts
    shown = page.text.split("data-formkit-answering")[1].split("</section>")[0]
    for answer in (
        "Remiss till BUP besvarades inte",
        "Samverkan enligt BUS-överenskommelsen i stort",
        "Björkskolan",
        "Barn- och ungdomspsykiatri",
        "- Remissen skickades i mars<br>- Inget svar kom",
        "Anna Andersson",
    ):
        assert answer in shown
    assert "<h3>3. Beskrivning av händelsen från rapporterande verksamhet</h3>" in shown
    assert re.search(rf'name="mottagande.datum"[^>]*value="{arrival(reference)}"', page.text)
    assert "Besvarad" not in page.text and '<h2 id="formkit-answer-title">Ditt svar för BUP Solna</h2>' in page.text


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
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_a_link_to_a_report_the_register_does_not_hold_says_so_in_plain_swedish(client, app):
    token = reply.issue(links_of(app), REPLY, Link("BUS-20261122-NOSUCH", 0))

    page = client.get(f"/api/forms/{REPLY}/svara?token={token}")
    problem = client.get(f"/api/forms/{REPLY}/svara?token={token}", headers=JSON)

    assert page.status_code == 410 and page.mimetype == "text/html"
    assert "Rapporten finns inte längre" in page.text and "finns inte längre i registret" in page.text
    assert problem.status_code == 410 and problem.mimetype == "application/problem+json"
    assert problem.json["title"] == "Rapporten finns inte längre"


def test_a_link_to_a_unit_the_report_does_not_have_is_gone_too(client, app):
    reference = record(app)
    token = reply.issue(links_of(app), REPLY, Link(reference, 2))  # the report has units 0 and 1

    assert client.get(f"/api/forms/{REPLY}/svara?token={token}").status_code == 410


def test_the_answer_page_exists_only_for_a_reply_form(client):
    assert client.get("/api/forms/bus-avvikelse/svara?token=x").status_code == 404


def test_the_answer_page_inside_the_built_site_links_to_the_site(config, built_site, smtp_server):
    client = create_app({**config, "PUBLIC_DIR": str(built_site)}).test_client()
    _, unit_links = send_report(client, smtp_server)

    page = client.get(path_of(unit_links[0])).text

    assert 'href="/assets/formkit.css"' in page and 'src="/assets/formkit.js"' in page
    assert 'href="../' not in page and 'src="../' not in page
    assert "Svara på en BUS-avvikelse" in page and "Rapporten du svarar på" in page


def test_after_the_answers_are_erased_the_page_says_so_and_that_the_answer_goes_to_the_copies(app, client):
    reference = record(app, created=datetime.datetime(2026, 1, 5, 10, 0, tzinfo=TIMEZONE))  # deadline 2026-03-05
    app.extensions["formkit.register"].purge(datetime.datetime(2026, 4, 20, tzinfo=TIMEZONE))  # 30 days after
    token = reply.issue(links_of(app), REPLY, Link(reference, 0))

    page = client.get(f"/api/forms/{REPLY}/svara?token={token}")

    assert page.status_code == 200
    assert "Rapportens innehåll finns inte längre kvar här" in page.text
    assert "Remiss till BUP besvarades inte" not in page.text and "Björkskolan" in page.text  # its name is kept
    assert "har raderats tillsammans med rapportens innehåll" in page.text


# ---- the answer ----


def test_an_answer_goes_to_the_reporting_manager_names_its_unit_and_marks_it_answered(app, client, smtp_server):
    reference, unit_links = send_report(client, smtp_server)

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token_of(unit_links[1])))

    assert response.status_code == 303
    answer = smtp_server.inbox.wait_for(5)[4]
    assert [a.addr_spec for a in answer["To"].addresses] == ["carl.chef@solna.se"]
    assert {a.addr_spec for a in answer["Cc"].addresses} == SECRETARIAT | {"berit.bup@regionstockholm.se"}
    assert answer["Subject"] == f"Svar på BUS-avvikelse {reference} från BUP Solna"
    assert answer["In-Reply-To"] == f"<{reference}.report.1@formkit.localhost>"
    assert answer["References"].split() == [f"<{reference}.copy@formkit.localhost>", answer["In-Reply-To"]]
    name, data = attachment(answer)
    assert name == f"{reference}-svar-bup-solna.docx"
    text = docx_text(data)
    expected = [
        "Svar på BUS-avvikelse",
        reference,
        "Svar från",
        "BUP Solna",
        arrival(reference),
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
    assert "Rapporterande enhet" not in text and "Komplettering" not in text  # section 4 only, a first answer
    björkskolan, bup = app.extensions["formkit.register"].units(reference)
    assert bup.answered_at is not None and bup.supplemented_at is None and björkskolan.answered_at is None


def test_a_unit_that_answered_sees_besvarad_and_its_second_answer_is_a_supplement(app, client, smtp_server):
    reference, unit_links = send_report(client, smtp_server)
    token = token_of(unit_links[1])
    client.post(f"/api/forms/{REPLY}", data=answer_fields(token), headers=JSON)
    answered = app.extensions["formkit.register"].units(reference)[1].answered_at

    again = client.get(path_of(unit_links[1]))
    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token, handelse="Vi har talat med BUP."))

    day = answered.astimezone(TIMEZONE).date().isoformat()
    assert f'<p class="admonition-title">Besvarad {day}</p>' in again.text
    assert "Komplettera svaret för BUP Solna" in again.text
    assert response.status_code == 303
    supplement = smtp_server.inbox.wait_for(6)[5]
    assert supplement["Subject"] == f"Komplettering av svar på BUS-avvikelse {reference} från BUP Solna"
    assert "Här är en komplettering av svaret från BUP Solna" in supplement.get_body(("plain",)).get_content()
    assert [a.addr_spec for a in supplement["To"].addresses] == ["carl.chef@solna.se"]
    name, data = attachment(supplement)
    assert name == f"{reference}-komplettering-bup-solna.docx"
    text = docx_text(data)
    assert text.startswith("Komplettering av svar på BUS-avvikelse") and f"Besvarad\n{day}" in text
    assert "Vi har talat med BUP." in text
    bup = app.extensions["formkit.register"].units(reference)[1]
    assert bup.answered_at == answered and bup.supplemented_at > answered


def test_the_other_units_link_still_answers_for_that_unit_only(app, client, smtp_server):
    reference, unit_links = send_report(client, smtp_server)
    client.post(f"/api/forms/{REPLY}", data=answer_fields(token_of(unit_links[1])), headers=JSON)

    page = client.get(path_of(unit_links[0]))
    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token_of(unit_links[0])), headers=JSON)

    assert "Besvarad" not in page.text and "Ditt svar för Björkskolan" in page.text
    assert response.status_code == 201
    answer = smtp_server.inbox.wait_for(6)[5]
    assert answer["Subject"] == f"Svar på BUS-avvikelse {reference} från Björkskolan"
    assert attachment(answer)[0] == f"{reference}-svar-bjorkskolan.docx"
    assert all(unit.answered_at for unit in app.extensions["formkit.register"].units(reference))


def test_an_answer_is_marked_only_if_its_messages_are_queued_in_the_same_step(app, config, tmp_path, smtp_server):
    reference = record(app)
    (tmp_path / "not-a-folder").write_text("the outbox should be a folder")
    broken = create_app({**config, "OUTBOX_DIR": str(tmp_path / "not-a-folder")})
    token = reply.issue(links_of(broken), REPLY, Link(reference, 1))

    response = broken.test_client().post(f"/api/forms/{REPLY}", data=answer_fields(token))

    assert response.status_code == 503 and "Berit Bup" in response.text  # the form again, with what was typed
    assert app.extensions["formkit.register"].units(reference)[1].answered_at is None
    time.sleep(0.3)
    assert smtp_server.inbox.messages == []


def test_an_answer_recorded_meanwhile_makes_the_first_one_a_409_not_a_second_answer(app, smtp_server):
    reference = record(app)
    forms, settings, register = (app.extensions[f"formkit.{n}"] for n in ("forms", "settings", "register"))
    token = reply.issue(settings.links, REPLY, Link(reference, 1))
    linked = reply.open_link(settings.links, forms[REPLY], token, forms["bus-avvikelse"], register)
    register.mark_answered(reference, 1)  # another tab's answer, between opening the link and sending

    marking = pipeline._record(forms[REPLY], {}, "SVAR-20261125-ABCDEF", datetime.datetime.now(TIMEZONE), linked)
    with pytest.raises(AlreadyAnswered) as refused:
        hand_over([], outbox=None, smtp=settings.smtp, label="test", register=register, record=marking)

    assert refused.value.status == 409 and "komplettering" in refused.value.detail
    assert register.units(reference)[1].supplemented_at is None


def test_an_answer_to_a_report_the_register_does_not_hold_is_refused_and_keeps_what_was_typed(app, client):
    token = reply.issue(links_of(app), REPLY, Link("BUS-20261122-NOSUCH", 0))

    page = client.post(f"/api/forms/{REPLY}", data=answer_fields(token))
    problem = client.post(f"/api/forms/{REPLY}", data=answer_fields(token), headers=JSON)

    assert page.status_code == 410 and "finns inte längre i registret" in page.text and 'value="Berit Bup"' in page.text
    assert problem.status_code == 410 and problem.mimetype == "application/problem+json"


def test_an_answer_after_the_answers_are_erased_goes_to_the_copies_and_says_why(app, client, smtp_server):
    reference = record(app, created=datetime.datetime(2026, 1, 5, 10, 0, tzinfo=TIMEZONE))
    app.extensions["formkit.register"].purge(datetime.datetime(2026, 4, 20, tzinfo=TIMEZONE))
    token = reply.issue(links_of(app), REPLY, Link(reference, 0))

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token), headers=JSON)

    assert response.status_code == 201
    [answer] = smtp_server.inbox.wait_for(1)
    assert {a.addr_spec for a in answer["To"].addresses} == SECRETARIAT | {"berit.bup@regionstockholm.se"}
    assert answer["Cc"] is None and "carl.chef" not in str(answer)
    assert "inte kunnat skickas till den som rapporterade" in answer.get_body(("plain",)).get_content()


def test_the_answer_receipt_says_the_answer_was_sent(client, smtp_server):
    _, unit_links = send_report(client, smtp_server)

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(token_of(unit_links[0])), follow_redirects=True)

    assert "Tack, ditt svar är skickat" in response.text


def test_an_answer_with_an_altered_token_is_refused_and_nothing_is_sent(client, smtp_server):
    _, unit_links = send_report(client, smtp_server)
    token = token_of(unit_links[0])
    other = reply.issue(links_of(client.application), REPLY, Link("BUS-20261122-7KQ2MX", 1))
    altered = ".".join([other.split(".")[0], *token.split(".")[1:]])

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(altered), headers=JSON)

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "Länken är inte giltig" in response.json["detail"]
    time.sleep(0.3)
    assert len(smtp_server.inbox.messages) == 4  # the report's messages and its receipt, no answer


def test_a_forged_link_naming_no_unit_sends_nothing(client, smtp_server):
    forged = forge({"r": LINK.reference, "u": "alla"}, links_of(client.application))  # as if the key were known

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(forged), headers=JSON)

    assert response.status_code == 403
    assert "Länken är inte giltig" in response.json["detail"]
    time.sleep(0.3)
    assert smtp_server.inbox.messages == []


def test_without_javascript_an_expired_link_keeps_what_was_typed(client, smtp_server):
    old = reply.issue(links_of(client.application), REPLY, LINK, issued_at=time.time() - 365 * 86400)

    response = client.post(f"/api/forms/{REPLY}", data=answer_fields(old))

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Länken har gått ut" in response.text
    assert "Den blev liggande under sommaren" in response.text
    assert 'value="Berit Bup"' in response.text


def test_an_answer_without_a_token_is_refused_with_a_clear_message(client):
    fields = answer_fields("")
    del fields["_token"]

    response = client.post(f"/api/forms/{REPLY}", data=fields, headers=JSON)

    assert response.status_code == 400
    assert "länken i e-postmeddelandet" in response.json["detail"]


def test_a_json_answer_carries_its_token_in_the_body(client, smtp_server):
    _, unit_links = send_report(client, smtp_server)
    body = {
        "_token": token_of(unit_links[0]),
        "handelse": "Vi har utrett.",
        "forbattringsatgarder": "Ny rutin.",
        "mottagande": {"datum": "2026-11-25", "namn": "Bo", "enhet": "BUP", "epost": "bo@regionstockholm.se"},
    }

    response = client.post(f"/api/forms/{REPLY}", json=body)

    assert response.status_code == 201
    assert response.json["reference"].startswith("SVAR-")
    assert smtp_server.inbox.wait_for(5)[4]["To"].addresses[0].addr_spec == "carl.chef@solna.se"


def test_without_javascript_an_invalid_answer_keeps_the_token_and_the_reference(client, smtp_server):
    reference, unit_links = send_report(client, smtp_server)
    fields = answer_fields(token_of(unit_links[0])) | {"mottagande.epost": "inte-en-adress"}

    response = client.post(f"/api/forms/{REPLY}", data=fields)

    assert response.status_code == 422
    assert f'name="_token" value="{token_of(unit_links[0])}"' in response.text
    assert f'value="{reference}" readonly' in response.text
    assert 'value="inte-en-adress"' in response.text


# ---- linking forms is a setting ----


def write_forms(tmp_path, report_settings: dict, reply_mail: dict, reply_properties: dict | None = None):
    email = {"type": "string", "format": "email", "title": "E-post"}
    report = {
        "type": "object",
        "title": "Rapport",
        "x-formkit": report_settings,
        "properties": {"chef": email, "text": {"type": "string", "title": "Text"}},
    }
    answer = {
        "type": "object",
        "title": "Svar",
        "x-formkit": {"mail": reply_mail},
        "properties": {"svar": email, **(reply_properties or {})},
    }
    (tmp_path / "rapport.json").write_text(json.dumps(report))
    (tmp_path / "svar.json").write_text(json.dumps(answer))
    return tmp_path


def test_any_form_can_have_the_answer_loop_by_settings_alone(tmp_path):
    forms = load_forms(
        write_forms(tmp_path, {"reply_form": "svar", "reply_link": {"answer_to": "/chef"}}, {"to": "token"})
    )

    assert forms["svar"].settings.reply_of == "rapport"
    assert forms["rapport"].settings.reply_link.remind_days_before == 14  # the default


def test_the_day_the_report_arrived_fills_a_date_field_of_the_answer_form(tmp_path):
    dated = {"mottagen": {"type": "string", "format": "date", "title": "Mottagen"}}
    link = {"answer_to": "/chef", "remind_days_before": 3, "received": "/mottagen"}

    forms = load_forms(write_forms(tmp_path, {"reply_form": "svar", "reply_link": link}, {"to": "token"}, dated))

    assert (forms["rapport"].settings.reply_link.received, forms["rapport"].settings.reply_link.remind_days_before) == (
        "/mottagen",
        3,
    )


@pytest.mark.parametrize(
    ("report_settings", "reply_mail", "problem"),
    [
        ({"reply_form": "finns-inte"}, {}, 'formuläret "finns-inte" finns inte'),
        ({"reply_form": "svar", "reply_link": {"answer_to": "/text"}}, {}, "reply_link.answer_to"),
        ({"reply_link": {"answer_to": "/chef"}}, {}, 'kräver "reply_form"'),
        ({"reply_form": "svar", "reply_link": {"answer_to": "/chef", "deadline_months": 0}}, {}, "deadline_months"),
        ({"reply_form": "svar", "reply_link": {"answer_to": "/chef", "okand": 1}}, {}, 'okänd inställning "okand"'),
        ({}, {"to": "token"}, '"token" betyder adressen i svarslänken'),
        (
            {"reply_form": "svar", "reply_link": {"answer_to": "/chef", "remind_days_before": 0}},
            {},
            "remind_days_before",
        ),
        (
            {"reply_form": "svar", "reply_link": {"answer_to": "/chef", "received": "/svar"}},
            {},
            '"received" ska vara sökvägen till ett datumfält i svarsformuläret svar',
        ),
    ],
)
def test_a_broken_answer_loop_setting_is_named_in_plain_words(tmp_path, report_settings, reply_mail, problem):
    with pytest.raises(FormDefinitionError) as error:
        load_forms(write_forms(tmp_path, report_settings, reply_mail))

    assert problem in str(error.value)


def test_the_key_the_base_url_and_the_lifetime_come_from_formkit_variables(monkeypatch, config):
    monkeypatch.setenv("FORMKIT_SECRET_KEY", "a-long-random-production-key")
    monkeypatch.setenv("FORMKIT_BASE_URL", "https://bus.example.se")
    monkeypatch.setenv("FORMKIT_REPLY_TOKEN_DAYS", "30")
    app = create_app(config)
    settings, configured = app.config, links_of(app)

    assert (settings["BASE_URL"], settings["REPLY_TOKEN_DAYS"]) == ("https://bus.example.se", 30)
    token = reply.issue(configured, REPLY, LINK, issued_at=time.time() - 31 * 86400)
    with pytest.raises(ExpiredLink):
        reply.verify(configured, REPLY, token)
    source_key = dataclasses.replace(configured, secret_key=SOURCE_KEY, fallbacks=())
    with pytest.raises(BadLink):
        reply.verify(configured, REPLY, reply.issue(source_key, REPLY, LINK))
