"""Composing a submission's e-mails, with no SMTP server and no token minting: compose only builds messages."""

import datetime
import email
import email.policy
import json
import socket
from pathlib import Path

import pytest

from handler import mail, normalise
from handler.forms import load_forms
from handler.reference import TIMEZONE
from handler.reply import LinkedReport
from handler.settings import load
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
CREATED = datetime.datetime(2026, 11, 22, 14, 3, tzinfo=TIMEZONE)
REFERENCE = "BUS-20261122-7KQ2MX"
LINK = "https://bus.example.se/api/forms/bus-avvikelse-svar/svara?token=as-given"
LINKED = LinkedReport(REFERENCE, "2026-11-22", "carl.chef@solna.se")
SECRETARIAT = ["BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"]
ANSWER = {"handelse": "Utrett.", "forbattringsatgarder": "Ny rutin.", "mottagande": {"epost": "berit@rs.se"}}


def settings(**overrides):
    """Mail settings as the handler loads them, from FORMKIT_* names without the prefix."""
    return load({"TESTING": True, "MAIL_DOMAIN": "bus.example.se", **overrides}, environ={}).mail


def parsed(message) -> email.message.EmailMessage:
    """The message as a recipient's mail program reads it."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def addresses(message, header: str) -> list[str]:
    return [a.addr_spec for a in parsed(message)[header].addresses] if message[header] else []


@pytest.fixture(scope="module")
def forms():
    return load_forms(ROOT / "schema")


@pytest.fixture(scope="module")
def data(forms):
    return normalise.clean(normalise.from_pairs(forms["bus-avvikelse"], list(valid_answers().items())))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: composing must not need one."""

    def refuse(*args, **kwargs):
        raise AssertionError("compose opened a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def bare_form(tmp_path, mail_block: dict):
    """A one-field form whose x-formkit.mail is `mail_block`."""
    schema = {
        "type": "object",
        "title": "Anmälan",
        "x-formkit": {"reference_prefix": "ANM", "mail": mail_block},
        "properties": {"epost": {"type": "string", "format": "email", "title": "E-post"}},
    }
    (tmp_path / "anmalan.json").write_text(json.dumps(schema))
    return load_forms(tmp_path)["anmalan"]


def test_a_report_goes_to_the_units_with_copies_and_no_address_twice(forms, data, no_network):
    report, receipt = mail.compose(forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings())

    assert addresses(report, "To") == ["rektor@solna.se", "chef.bup@regionstockholm.se"]
    assert addresses(report, "Cc") == [*SECRETARIAT, "carl.chef@solna.se"]
    assert addresses(report, "Reply-To") == ["carl.chef@solna.se"]
    assert addresses(receipt, "To") == ["eva.ek@solna.se"]
    assert mail.recipients(report) == addresses(report, "To") + addresses(report, "Cc")


def test_messages_have_stable_ids_and_name_their_reference(forms, data):
    report, receipt = mail.compose(forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings())

    assert report["Message-ID"] == f"<{REFERENCE}.report@bus.example.se>"
    assert receipt["Message-ID"] == f"<{REFERENCE}.receipt@bus.example.se>"
    assert report["X-Formkit-Reference"] == receipt["X-Formkit-Reference"] == REFERENCE
    assert parsed(report)["From"].addresses[0].display_name == "Formulärtjänsten"


def test_the_answer_link_is_used_as_given_with_a_calendar_reminder_of_the_deadline(forms, data, no_network):
    report, receipt = mail.compose(
        forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings(), link=LINK
    )

    body = parsed(report).get_body(("plain",)).get_content()
    assert LINK in body and "Svara senast 2027-01-22" in body
    assert parsed(report)["Subject"] == f"BUS-avvikelse {REFERENCE} – Svara senast 2027-01-22"
    [calendar] = [p for p in parsed(report).iter_attachments() if p.get_content_type() == "text/calendar"]
    assert "DTSTART;VALUE=DATE:20270122" in calendar.get_content()
    assert "token=as-given" in calendar.get_content().replace("\r\n ", "")
    assert [p.get_filename() for p in parsed(receipt).iter_attachments()] == [f"{REFERENCE}.docx"]


def test_without_a_link_a_report_has_no_calendar(forms, data):
    report, _ = mail.compose(forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings())

    assert [p.get_filename() for p in parsed(report).iter_attachments()] == [f"{REFERENCE}.docx"]


def test_the_default_texts_are_the_template_files(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost", "receipt_to": "/epost"})
    report, receipt = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings())
    values = mail.placeholders(form, "ANM-20261122-ABCD", CREATED)

    templates = ROOT / "handler" / "templates" / "mail"
    assert parsed(report)["Subject"] == mail.fill((templates / "report_subject.txt").read_text().strip(), values)
    assert parsed(report)["Subject"] == "Anmälan ANM-20261122-ABCD"
    assert parsed(report).get_body(("plain",)).get_content() == mail.fill(
        (templates / "report_body.txt").read_text(), values
    )
    assert parsed(receipt)["Subject"] == "Kvitto: Anmälan ANM-20261122-ABCD"
    assert (
        "Tack! Vi har tagit emot ditt ärende med referens ANM-20261122-ABCD"
        in parsed(receipt).get_body(("plain",)).get_content()
    )


def test_the_editors_texts_win_over_the_defaults(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost", "subject": "Ny anmälan {reference}", "body": "Se bilagan, {form}."})
    [report] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings())

    assert parsed(report)["Subject"] == "Ny anmälan ANM-20261122-ABCD"
    assert parsed(report).get_body(("plain",)).get_content().rstrip("\n") == "Se bilagan, Anmälan."


def test_a_link_the_editors_text_forgot_is_added_after_it(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost", "body": "Hej!\n"})
    [report] = mail.compose(
        form, {"epost": "a@solna.se"}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings(), link=LINK
    )

    assert parsed(report).get_body(("plain",)).get_content() == f"Hej!\n\nSvara här senast 2027-01-22:\n{LINK}\n"


def test_a_form_that_names_no_recipient_goes_to_the_default_address(tmp_path):
    form = bare_form(tmp_path, {})
    [report] = mail.compose(form, {}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings(DEFAULT_TO="in@bus.example.se"))

    assert addresses(report, "To") == ["in@bus.example.se"]


def test_an_answer_goes_to_the_address_in_its_token_and_threads_with_the_report(forms, no_network):
    [answer] = mail.compose(
        forms["bus-avvikelse-svar"], ANSWER, "SVAR-20261125-ABCDEF", CREATED, b"docx", mail=settings(), linked=LINKED
    )

    assert addresses(answer, "To") == ["carl.chef@solna.se"]
    assert addresses(answer, "Cc") == [*SECRETARIAT, "berit@rs.se"]
    assert answer["In-Reply-To"] == answer["References"] == f"<{REFERENCE}.report@bus.example.se>"
    assert [p.get_filename() for p in parsed(answer).iter_attachments()] == [f"{REFERENCE}-svar.docx"]
    assert parsed(answer)["Subject"] == f"Svar på BUS-avvikelse {REFERENCE}"


def test_an_answer_without_texts_of_its_own_names_the_report_it_answers(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost"})
    [answer] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261125-ABCD", CREATED, b"x", mail=settings(),
                            linked=LINKED)  # fmt: skip

    assert REFERENCE in parsed(answer)["Subject"]
    assert REFERENCE in parsed(answer).get_body(("plain",)).get_content()


def test_staging_sends_everything_to_one_mailbox_and_names_the_real_recipients(forms, data):
    report, _ = mail.compose(
        forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings(MAIL_REDIRECT="test@bus.example.se")
    )

    assert addresses(report, "To") == ["test@bus.example.se"] and report["Cc"] is None
    assert "rektor@solna.se" in report["X-Formkit-Original-Recipients"]


def test_no_header_value_carries_a_line_break(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost", "subject": "Rad ett\r\nBcc: x@evil.example {reference}"})
    [report] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings())

    raw = report.as_bytes()
    assert b"\nBcc:" not in raw and report["Bcc"] is None
    assert parsed(report)["Subject"] == "Rad ett Bcc: x@evil.example ANM-20261122-ABCD"
