"""Composing a submission's e-mails, reminders and notices, with no SMTP server and no token minting: only messages."""

import dataclasses
import datetime
import email
import email.generator
import email.mime.text
import email.policy
import io
import json
import os
import socket
from pathlib import Path

import pytest

from handler import mail, normalise
from handler.forms import load_forms
from handler.reference import TIMEZONE
from handler.register import Due, ReportRecord, UnitRecord
from handler.reply import LinkedReport, UnitLink
from handler.settings import load
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
CREATED = datetime.datetime(2026, 11, 22, 14, 3, tzinfo=TIMEZONE)
REFERENCE = "BUS-20261122-7KQ2MX"
LINK = "https://bus.example.se/api/forms/bus-avvikelse-svar/svara?token=as-given"
LINKED = LinkedReport(REFERENCE, "2026-11-22", "carl.chef@solna.se", 1, "BUP Solna", "2027-01-22")
UNIT_LINKS = [
    UnitLink(0, "Björkskolan", "rektor@solna.se", LINK + "-0"),
    UnitLink(1, "BUP Solna", "chef.bup@regionstockholm.se", LINK + "-1"),
]
DUE = Due(
    REFERENCE, "bus-avvikelse", 1, "BUP Solna", "chef.bup@regionstockholm.se", CREATED, datetime.date(2027, 1, 22)
)
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


def compose_report(forms, data, **mail_settings):
    """The report's messages with each unit's link as given, as the pipeline composes them."""
    return mail.compose(
        forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings(**mail_settings), units=UNIT_LINKS
    )


def test_a_report_goes_to_each_unit_apart_then_once_to_the_copies_and_no_address_twice(forms, data, no_network):
    björkskolan, bup, copy, receipt = compose_report(forms, data)

    assert (addresses(björkskolan, "To"), addresses(björkskolan, "Cc")) == (["rektor@solna.se"], [])
    assert (addresses(bup, "To"), addresses(bup, "Cc")) == (["chef.bup@regionstockholm.se"], [])
    assert (addresses(copy, "To"), addresses(copy, "Cc")) == ([*SECRETARIAT, "carl.chef@solna.se"], [])
    assert addresses(björkskolan, "Reply-To") == addresses(bup, "Reply-To") == ["carl.chef@solna.se"]
    assert addresses(receipt, "To") == ["eva.ek@solna.se"]
    assert mail.recipients(copy) == addresses(copy, "To")


def test_messages_have_stable_distinct_ids_and_name_their_reference(forms, data):
    messages = compose_report(forms, data)

    assert [m["Message-ID"] for m in messages] == [
        f"<{REFERENCE}.{kind}@bus.example.se>" for kind in ("report.0", "report.1", "copy", "receipt")
    ]
    assert {m["X-Formkit-Reference"] for m in messages} == {REFERENCE}
    assert parsed(messages[0])["From"].addresses[0].display_name == "Formulärtjänsten"


def test_each_unit_gets_its_own_link_as_given_with_a_calendar_reminder_of_the_deadline(forms, data, no_network):
    björkskolan, bup, _, receipt = compose_report(forms, data)

    for message, unit in ((björkskolan, UNIT_LINKS[0]), (bup, UNIT_LINKS[1])):
        body = parsed(message).get_body(("plain",)).get_content()
        assert unit.link in body and "Svara senast 2027-01-22" in body and f"Din verksamhet {unit.name} har" in body
        assert parsed(message)["Subject"] == f"BUS-avvikelse {REFERENCE} till {unit.name} – Svara senast 2027-01-22"
        [calendar] = [p for p in parsed(message).iter_attachments() if p.get_content_type() == "text/calendar"]
        ics = calendar.get_content().replace("\r\n ", "").replace("\n ", "")
        assert "DTSTART;VALUE=DATE:20270122" in ics and unit.link in ics and f"({unit.name})" in ics
    assert UNIT_LINKS[0].link not in parsed(bup).get_body(("plain",)).get_content()
    assert [p.get_filename() for p in parsed(receipt).iter_attachments()] == [f"{REFERENCE}.docx"]


def test_the_copy_says_it_is_for_information_and_has_no_link_and_no_calendar(forms, data):
    copy = compose_report(forms, data)[2]

    body = parsed(copy).get_body(("plain",)).get_content()
    assert parsed(copy)["Subject"] == f"För kännedom: BUS-avvikelse {REFERENCE}"
    assert "kopia för kännedom" in body and "Du behöver inte svara" in body
    assert "- Björkskolan: rektor@solna.se\n- BUP Solna: chef.bup@regionstockholm.se" in body
    assert "token=" not in body and "2027-01-22" in body
    assert [p.get_filename() for p in parsed(copy).iter_attachments()] == [f"{REFERENCE}.docx"]


def test_without_links_the_units_get_their_messages_but_no_calendar(forms, data):
    unlinked = [dataclasses.replace(unit, link="") for unit in UNIT_LINKS]
    messages = mail.compose(forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings(), units=unlinked)

    assert [p.get_filename() for p in parsed(messages[0]).iter_attachments()] == [f"{REFERENCE}.docx"]


def test_a_report_without_units_is_one_message_to_all_it_names(forms, data):
    report, receipt = mail.compose(forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings())

    assert addresses(report, "To") == ["rektor@solna.se", "chef.bup@regionstockholm.se"]
    assert addresses(report, "Cc") == [*SECRETARIAT, "carl.chef@solna.se"]
    assert report["Message-ID"] == f"<{REFERENCE}.report@bus.example.se>"


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
    unit = UnitLink(0, "Enheten", "a@solna.se", LINK)
    [report] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings(),
                            units=[unit])  # fmt: skip

    assert parsed(report).get_body(("plain",)).get_content() == f"Hej!\n\nSvara här senast 2027-01-22:\n{LINK}\n"


def test_a_form_that_names_no_recipient_goes_to_the_default_address(tmp_path):
    form = bare_form(tmp_path, {})
    [report] = mail.compose(form, {}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings(DEFAULT_TO="in@bus.example.se"))

    assert addresses(report, "To") == ["in@bus.example.se"]


def answer(forms, linked=LINKED, answers=ANSWER):
    [message] = mail.compose(
        forms["bus-avvikelse-svar"], answers, "SVAR-20261125-ABCDEF", CREATED, b"docx", mail=settings(), linked=linked
    )
    return message


def test_an_answer_goes_to_the_reporting_manager_and_threads_with_the_units_report_and_the_copy(forms, no_network):
    message = answer(forms)

    assert addresses(message, "To") == ["carl.chef@solna.se"]
    assert addresses(message, "Cc") == [*SECRETARIAT, "berit@rs.se"]
    assert message["Message-ID"] == "<SVAR-20261125-ABCDEF.answer@bus.example.se>"
    assert message["In-Reply-To"] == f"<{REFERENCE}.report.1@bus.example.se>"
    assert message["References"] == f"<{REFERENCE}.copy@bus.example.se> <{REFERENCE}.report.1@bus.example.se>"
    assert [p.get_filename() for p in parsed(message).iter_attachments()] == [f"{REFERENCE}-svar-bup-solna.docx"]
    assert parsed(message)["Subject"] == f"Svar på BUS-avvikelse {REFERENCE} från BUP Solna"
    assert "Här är svaret från BUP Solna" in parsed(message).get_body(("plain",)).get_content()


def test_a_supplement_says_so_in_its_subject_body_and_file_name(forms):
    message = answer(forms, dataclasses.replace(LINKED, answered="2026-11-25"))

    assert parsed(message)["Subject"] == f"Komplettering av svar på BUS-avvikelse {REFERENCE} från BUP Solna"
    assert "Här är en komplettering av svaret från BUP Solna" in parsed(message).get_body(("plain",)).get_content()
    assert [p.get_filename() for p in parsed(message).iter_attachments()] == [
        f"{REFERENCE}-komplettering-bup-solna.docx"
    ]


def test_a_supplement_is_marked_even_when_the_editors_texts_forget_it(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost", "subject": "Svar {report_reference}", "body": "Se bilagan.\n"})
    supplement = dataclasses.replace(LINKED, answered="2026-11-25")
    [message] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261125-ABCD", CREATED, b"x", mail=settings(),
                             linked=supplement)  # fmt: skip

    assert parsed(message)["Subject"] == f"Komplettering: Svar {REFERENCE}"
    body = parsed(message).get_body(("plain",)).get_content()
    assert body == "Det här är en komplettering till svaret som BUP Solna skickade 2026-11-25.\n\nSe bilagan.\n"


def test_an_answer_to_an_erased_report_goes_to_the_copies_and_says_why(forms):
    message = answer(forms, dataclasses.replace(LINKED, answer_to=""))

    assert addresses(message, "To") == [*SECRETARIAT, "berit@rs.se"] and message["Cc"] is None
    assert "inte kunnat skickas till den som rapporterade" in parsed(message).get_body(("plain",)).get_content()


def test_an_answer_file_name_is_plain_ascii_whatever_the_units_name(forms):
    message = answer(forms, dataclasses.replace(LINKED, unit_name="Förskolan Ängen/Öst", unit=0))

    assert [p.get_filename() for p in parsed(message).iter_attachments()] == [
        f"{REFERENCE}-svar-forskolan-angen-ost.docx"
    ]
    assert mail.answer_name(dataclasses.replace(LINKED, unit_name="", unit=3)) == f"{REFERENCE}-svar-verksamhet-4.docx"


def test_an_answer_without_texts_of_its_own_names_the_report_and_the_unit(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost"})
    [message] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261125-ABCD", CREATED, b"x", mail=settings(),
                             linked=LINKED)  # fmt: skip

    assert parsed(message)["Subject"] == f"Svar från BUP Solna på ärendet {REFERENCE}: Anmälan ANM-20261125-ABCD"
    assert f"Svar från BUP Solna på ärendet {REFERENCE}" in parsed(message).get_body(("plain",)).get_content()


# ---- reminders and the overdue notice ----


def test_a_reminder_goes_to_the_unit_alone_with_its_own_link_and_the_deadline(forms, no_network):
    message = mail.reminder(forms["bus-avvikelse"], DUE, LINK, mail=settings(), attachment=b"docx",
                            reply_to=["carl.chef@solna.se"])  # fmt: skip

    assert addresses(message, "To") == ["chef.bup@regionstockholm.se"] and message["Cc"] is None
    assert parsed(message)["Subject"] == f"Påminnelse: BUS-avvikelse {REFERENCE} – Svara senast 2027-01-22"
    body = parsed(message).get_body(("plain",)).get_content()
    assert LINK in body and "BUP Solna har fått BUS-avvikelse" in body and "inte svarat ännu" in body
    assert message["Message-ID"] == f"<{REFERENCE}.reminder.1@bus.example.se>"
    assert message["In-Reply-To"] == f"<{REFERENCE}.report.1@bus.example.se>"
    assert addresses(message, "Reply-To") == ["carl.chef@solna.se"]
    assert [p.get_filename() for p in parsed(message).iter_attachments()] == [f"{REFERENCE}.docx"]


def test_the_overdue_notice_goes_to_the_secretariat_and_names_the_units_that_have_not_answered(forms):
    answered = CREATED + datetime.timedelta(days=20)
    reminded = CREATED + datetime.timedelta(days=47)
    units = (
        UnitRecord(0, "Björkskolan", None, CREATED, None, answered, None, {}),
        UnitRecord(1, "BUP Solna", None, CREATED, reminded, None, None, {}),
    )
    record = ReportRecord(REFERENCE, "bus-avvikelse", "v", CREATED, DUE.deadline, {}, units, None, None, None)

    message = mail.overdue_notice(forms["bus-avvikelse"], record, mail=settings())

    assert addresses(message, "To") == SECRETARIAT
    assert parsed(message)["Subject"] == f"Sista svarsdag har passerat: BUS-avvikelse {REFERENCE}"
    body = parsed(message).get_body(("plain",)).get_content()
    assert "var 2027-01-22. De här verksamheterna har inte svarat:\n- BUP Solna (påmind 2027-01-08)\n" in body
    assert "Har svarat:\n- Björkskolan (besvarad 2026-12-12)\n" in body
    assert message["Message-ID"] == f"<{REFERENCE}.overdue@bus.example.se>" and not message.is_multipart()


def test_staging_sends_everything_to_one_mailbox_and_names_the_real_recipients(forms, data):
    report, _ = mail.compose(
        forms["bus-avvikelse"], data, REFERENCE, CREATED, b"docx", mail=settings(MAIL_REDIRECT="test@bus.example.se")
    )

    assert addresses(report, "To") == ["test@bus.example.se"] and report["Cc"] is None
    assert "rektor@solna.se" in report["X-Formkit-Original-Recipients"]


def email_package_bytes(message) -> bytes:
    """The message as the email package itself writes it (the kit writes shared parts and bodies its own way)."""
    buffer = io.BytesIO()
    email.generator.BytesGenerator(buffer, mangle_from_=False, policy=message.policy).flatten(message)
    return buffer.getvalue()


def test_the_kit_writes_each_message_byte_for_byte_as_the_email_package_does(forms, data):
    document = os.urandom(30_000)  # a DOCX of many base64 lines, shared by every message of the report
    messages = mail.compose(
        forms["bus-avvikelse"], data, REFERENCE, CREATED, document, mail=settings(), units=UNIT_LINKS
    )
    messages.append(answer(forms))
    messages.append(
        mail._message(settings(), REFERENCE, "report", "Å", "Rad ett\r\nRad två\rslut", ["a@solna.se"], [], [], [])
    )

    assert len(messages) == 6  # two units, the copy, the receipt, an answer, a body with other line ends
    for message in messages:
        assert message.as_bytes() == email_package_bytes(message)


@pytest.mark.parametrize(
    "text", ["", "Hej", "Rad ett\nRad två\n", "åäö € 😀 = ?\t \n" * 40, "x" * 200 + " \n.\nFrom here", "a\r\nb\rc"]
)
@pytest.mark.parametrize("subtype, params", [("plain", ()), ("calendar", (("method", "PUBLISH"),))])
def test_a_text_part_is_the_one_mimetext_makes(text, subtype, params):
    made = mail._text_part(text, subtype, params)
    expected = email.mime.text.MIMEText(text, subtype, mail.UTF8, policy=mail.POLICY)
    for name, value in params:
        expected.set_param(name, value)

    assert made.items() == expected.items() and made.get_payload() == expected.get_payload()
    assert made.get_charset() == expected.get_charset() and made.policy is expected.policy
    assert made.as_bytes() == email_package_bytes(expected)


def test_no_header_value_carries_a_line_break(tmp_path):
    form = bare_form(tmp_path, {"to": "/epost", "subject": "Rad ett\r\nBcc: x@evil.example {reference}"})
    [report] = mail.compose(form, {"epost": "a@solna.se"}, "ANM-20261122-ABCD", CREATED, b"x", mail=settings())

    raw = report.as_bytes()
    assert b"\nBcc:" not in raw and report["Bcc"] is None
    assert parsed(report)["Subject"] == "Rad ett Bcc: x@evil.example ANM-20261122-ABCD"


@pytest.mark.parametrize("subject", ["Kort ärende", "Långt ärende – " + "åäö ÅÄÖ € 😀 = ? _ " * 12 + "slut", "Ä" * 200])
def test_a_subject_with_swedish_letters_is_folded_into_short_lines_and_reads_back_whole(subject):
    message = mail._message(settings(), REFERENCE, "report", subject, "Text", ["a@solna.se"], [], [], [])
    raw = message.as_bytes()
    head = raw.split(b"\n\n", 1)[0]

    assert head.isascii() and max(len(line) for line in head.split(b"\n")) <= 78
    assert parsed(message)["Subject"] == subject


@pytest.mark.parametrize("text", ["Kort", "Svara på " + "åäö€😀\\;," * 30, "a" * 73 + "\\" + "ö" * 40])
def test_a_calendar_line_is_folded_below_75_octets_and_unfolds_to_what_it_was(text):
    line = "DESCRIPTION:" + mail._ics_text(text)
    folded = mail._ics_fold(line)
    parts = [part.encode("utf-8") for part in folded.split("\r\n ")]

    assert folded.replace("\r\n ", "") == line
    assert all(len(part) < 75 for part in parts)
