"""Compose the e-mails of a submission from the form's `x-formkit.mail` block; sending is transport.py's.

Routing is data: each entry of `to`, `cc`, `receipt_to`, `reply_to` is a fixed address, a path into
the submission (`/verksamheter/*/chef_epost`) or "token" (the reporting unit's manager, whom an answer
link's report names). A report with receiving units (`reply_link.units`) becomes one message per unit,
each with the unit's own answer link, "Svara senast" and a calendar reminder, and one message "för
kännedom" to everyone else it names (no link, no calendar). An answer names its unit and report, and a
unit's later answers are marked as supplements ("Komplettering"). The reminders and the overdue notice
of reminders.py are composed here too. The editor's subjects and bodies win; the defaults are the text
files in templates/mail/.

Message-IDs are stable, so a message delivered twice (delivery is at-least-once) is recognisable:
`<ref>.report.<unit>@`, `<ref>.copy@`, `<ref>.receipt@`, `<ref>.reminder.<unit>@`, `<ref>.overdue@`,
an answer's `<answer-ref>.answer@` (a report without units: `<ref>.report@`), with <unit> the unit's
index in the register (0 for the first row).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
import uuid
from collections.abc import Sequence
from email import encoders
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, getaddresses
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from icalendar import vDuration

from . import files, reply
from .forms import TOKEN, Form
from .reference import TIMEZONE
from .reply import LinkedReport, UnitLink
from .transport import recipients  # noqa: F401 -- the envelope of a composed message, for the rate limit

if TYPE_CHECKING:
    from .register import Due, ReportRecord
    from .settings import MailSettings


class _Policy(Compat32):
    """compat32, with a short cut for the header lines most messages are made of."""

    def fold_binary(self, name, value):
        """Return the header line; a short one-line ASCII value is written as it is, as compat32's
        folding writes it, without its Header object (which was half the cost of writing a message)."""
        if type(value) is _Folded:
            return f"{name}: {value}{self.linesep}".replace("\n ", self.linesep + " ").encode("ascii")
        if (
            type(value) is str
            and value.isascii()
            and len(name) + len(value) + 2 <= self.max_line_length
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


# The classic email API builds a message in a quarter of the time of the header registry's (measured:
# 0.65 against 2.6 ms); body lines that start with "From " stay as written.
POLICY = _Policy().clone(mangle_from_=False)


class _Generator(BytesGenerator):
    """BytesGenerator that writes a part flattened before (`_Multipart.share`) from its bytes, and a body in one
    piece: what the email package writes, byte for byte, in a third of the time."""

    def _write(self, msg):
        flattened = getattr(msg, "_formkit_bytes", None)
        if flattened is None:
            super()._write(msg)
        else:
            self._fp.write(flattened)

    def _write_lines(self, lines):
        """Write a body: the email package cuts it at every line end and writes each line and the line end on
        their own (two writes a line of base64: most of writing a message). Bodies whose line ends are the
        ones written already go in one write; it is the same bytes."""
        if self._NL != "\n" or "\r" in lines:
            super()._write_lines(lines)
        elif lines:
            self.write(lines)


class _Multipart(MIMEMultipart):
    """A multipart message whose shared parts (the DOCX, in each of a report's messages) are written once."""

    @staticmethod
    def share(part: Message) -> Message:
        """Flatten `part` now and keep its bytes, for every message it is attached to; return it."""
        buffer = BytesIO()
        _Generator(buffer, mangle_from_=False, policy=POLICY).flatten(part, linesep=POLICY.linesep)
        part._formkit_bytes = buffer.getvalue()
        return part

    def as_bytes(self, unixfrom=False, policy=None):
        """Return the message as bytes, as Message.as_bytes does, with shared parts as flattened once."""
        buffer = BytesIO()
        _Generator(buffer, mangle_from_=False, policy=self.policy if policy is None else policy).flatten(
            self, unixfrom=unixfrom
        )
        return buffer.getvalue()

    __bytes__ = as_bytes


# UTF-8 text as quoted-printable: 7-bit safe for any SMTP server, and still readable in the source.
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
TEXTS = Path(__file__).parent / "templates" / "mail"
# A reminder a week before the deadline, at 09:00: an all-day event starts at midnight.
REMINDER = datetime.timedelta(days=-7, hours=9)
TRIGGER = vDuration(REMINDER).to_ical().decode()  # -P6DT15H
ANSWER, SUPPLEMENT = "Svar", "Komplettering av svar"  # {answer_kind}: what an answer is, in its subject


def compose(
    form: Form,
    data: dict,
    reference: str,
    created: datetime.datetime,
    attachment: bytes,
    *,
    mail: MailSettings,
    units: Sequence[UnitLink] = (),
    linked: LinkedReport | None = None,
    receipt: bytes | None = None,
) -> list[Message]:
    """Return the submission's messages, the receipt last when the form names one.

    `units`: a report's receiving units with their answer links (reply.unit_links), each getting a
    message of its own, and the others named a copy "för kännedom"; `linked`: this is an answer, for
    the unit and report its link names; `receipt`: the receipt's own document, when it differs (write-only
    answers left out).
    """
    routing = form.settings.mail
    values = placeholders(form, reference, created, linked)
    name = answer_name(linked) if linked else f"{reference}.docx"
    document = _Multipart.share(_attachment(name, attachment, DOCX))  # once, in each message and the receipt
    reply_to = resolve(data, routing.reply_to, linked)
    if linked:
        messages = [_answer(form, data, reference, values, document, reply_to, mail, linked)]
    elif any(unit.address for unit in units):
        messages = _to_units(form, data, reference, created, values, document, reply_to, mail, units)
    else:
        to = resolve(data, routing.to) or [mail.default_to]
        cc = _without(resolve(data, routing.cc), to)
        subject = fill(routing.subject or text("report_subject").strip(), values)
        body = fill(routing.body or text("report_body"), values)
        messages = [_message(mail, reference, "report", subject, body, to, cc, [document], reply_to)]
    uploaded = [_file_part(upload) for upload in files.attachments(form.root, data)]
    for message in messages:  # the files go with the report; the sender has them, so the receipt does not
        for part in uploaded:
            message.attach(part)
    receipt_to = resolve(data, routing.receipt_to, linked)
    if receipt_to:
        # The receipt lists where the report went, so the sender notices an address typed wrong.
        own = {**values, "recipients": _sent_to(messages, units)}
        written = routing.receipt_body or text("receipt_body")
        subject = fill(routing.receipt_subject or text("receipt_subject").strip(), own)
        body = fill(written, own) + ("" if "{recipients}" in written else fill(text("receipt_recipients"), own))
        own_document = _attachment(name, receipt, DOCX) if receipt is not None else document
        messages.append(_message(mail, reference, "receipt", subject, body, receipt_to, [], [own_document], []))
    return messages


def _sent_to(messages: list[Message], units: Sequence[UnitLink]) -> str:
    """Return one line per message sent: the receiving unit's name and address, or the copy's addresses."""
    names = {unit.address.lower(): unit.name for unit in units if unit.address and unit.name}
    lines = []
    for message in messages:
        addresses = recipients(message)
        name = names.get(addresses[0].lower()) if len(addresses) == 1 else None
        if name:
            lines.append(f"- {name}: {addresses[0]}")
        elif ".copy@" in str(message["Message-ID"]):
            lines.append(f"- För kännedom: {', '.join(addresses)}")
        else:
            lines.append(f"- {', '.join(addresses)}")
    return "\n".join(lines)


def _to_units(form, data, reference, created, values, document, reply_to, mail, units) -> list[Message]:
    """One message per receiving unit with its own link and calendar, then one copy "för kännedom" to the rest."""
    routing = form.settings.mail
    messages = []
    for unit in units:
        if not unit.address:
            continue
        own = {**values, "unit": unit.name, "reply_link": unit.link}
        body = fill(routing.body or text("report_body"), own)
        if unit.link and unit.link not in body:  # the editor's text forgot {reply_link}: it must still reach them
            body += fill(text("report_link"), own)
        attachments = [document]
        if unit.link:
            reminder = calendar(form, reference, created, unit.link, mail.domain, unit)
            attachments.append(_attachment(f"{reference}-svara-senast.ics", reminder, "text/calendar"))
        subject = fill(routing.subject or text("report_subject").strip(), own)
        kind = f"report.{unit.index}"
        messages.append(_message(mail, reference, kind, subject, body, [unit.address], [], attachments, reply_to))
    to_units = [unit.address for unit in units if unit.address]
    copies = _without(resolve(data, [*routing.to, *routing.cc]), to_units)
    if copies:
        listed = "\n".join(f"- {unit.name or 'Verksamhet ' + str(unit.index + 1)}: {unit.address}" for unit in units)
        shared = {**values, "units": ", ".join(unit.name for unit in units if unit.name), "unit_list": listed}
        subject, body = fill(text("copy_subject").strip(), shared), fill(text("copy_body"), shared)
        messages.append(_message(mail, reference, "copy", subject, body, copies, [], [document], reply_to))
    return messages


def _answer(form, data, reference, values, document, reply_to, mail, linked: LinkedReport) -> Message:
    """The answer to the reporting unit's manager, copied as the form says; a supplement says it is one."""
    routing = form.settings.mail
    to = resolve(data, routing.to, linked)
    cc = _without(resolve(data, routing.cc, linked), to)
    if not to:  # the register erased the report, and the manager's address with it: the copies still get it
        to, cc = cc or [mail.default_to], []
    subject = fill(routing.subject or text("answer_subject").strip(), values)
    if linked.supplement and "komplettering" not in subject.lower():  # never a second answer that looks like one
        subject = f"Komplettering: {subject}"
    body = fill(routing.body or text("answer_body"), values)
    if linked.supplement and "komplettering" not in body.lower():
        body = fill(text("supplement_note"), values) + body
    if not linked.answer_to:
        body += fill(text("answer_erased"), values)
    message = _message(mail, reference, "answer", subject, body, to, cc, [document], reply_to)
    # Threaded with the report in every recipient's mail program: the unit got its own, the others the copy.
    own, copy = f"<{linked.reference}.report.{linked.unit}@{mail.domain}>", f"<{linked.reference}.copy@{mail.domain}>"
    message["In-Reply-To"] = own
    message["References"] = f"{copy} {own}"
    return message


def reminder(
    form: Form, due: Due, link: str, *, mail: MailSettings, attachment: bytes | None = None, reply_to=()
) -> Message:
    """Return the reminder to a unit that has not answered: its own link, the deadline, the report again."""
    values = {
        **placeholders(form, due.reference, due.arrived_at),
        "deadline": due.deadline.isoformat(),
        "unit": due.unit_name,
        "reply_link": link,
    }
    attachments = [_attachment(f"{due.reference}.docx", attachment, DOCX)] if attachment else []
    subject, body = fill(text("reminder_subject").strip(), values), fill(text("reminder_body"), values)
    kind = f"reminder.{due.unit_index}"
    message = _message(mail, due.reference, kind, subject, body, [due.address], [], attachments, list(reply_to))
    message["In-Reply-To"] = message["References"] = f"<{due.reference}.report.{due.unit_index}@{mail.domain}>"
    return message


def overdue_notice(form: Form, record: ReportRecord, *, mail: MailSettings) -> Message:
    """Return the notice to the report's fixed addresses (the secretariat) that its deadline passed unanswered."""

    def listed(units) -> str:
        lines = []
        for unit in units:
            state = f"besvarad {_day(unit.answered_at)}" if unit.answered_at else ""
            state = state or (f"påmind {_day(unit.reminded_at)}" if unit.reminded_at else "")
            lines.append(f"- {unit.name}" + (f" ({state})" if state else ""))
        return "\n".join(lines) or "- ingen"

    values = {
        **placeholders(form, record.reference, record.arrived_at),
        "deadline": record.deadline.isoformat() if record.deadline else "",
        "open_units": listed([unit for unit in record.units if unit.answered_at is None]),
        "answered_units": listed([unit for unit in record.units if unit.answered_at is not None]),
    }
    to = secretariat(form) or [mail.default_to]
    subject, body = fill(text("overdue_subject").strip(), values), fill(text("overdue_body"), values)
    return _message(mail, record.reference, "overdue", subject, body, to, [], [], [])


def secretariat(form: Form) -> list[str]:
    """Return who follows a form's reports up: its digest's addresses, else the fixed addresses its reports go to."""
    if form.settings.digest is not None and form.settings.digest.to:
        return resolve(None, form.settings.digest.to)
    routing = form.settings.mail
    fixed = [entry for entry in (*routing.to, *routing.cc) if not entry.startswith("/") and entry != TOKEN]
    return resolve(None, fixed)


def answer_name(linked: LinkedReport) -> str:
    """Return the file name of an answer's DOCX: the report, what it is and the answering unit."""
    kind = "komplettering" if linked.supplement else "svar"
    ascii_name = unicodedata.normalize("NFKD", linked.unit_name).encode("ascii", "ignore").decode()
    unit = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or f"verksamhet-{linked.unit + 1}"
    return f"{linked.reference}-{kind}-{unit}.docx"


def report_messages(messages: list[Message]) -> int:
    """Return how many of compose's messages are the submission's own: all but the receipt (`<ref>.receipt@`)."""
    return sum(".receipt@" not in message["Message-ID"] for message in messages)


@cache
def text(name: str) -> str:
    """Return a default text from templates/mail/ (`report_subject`, `receipt_body`, ...), placeholders unfilled."""
    return (TEXTS / f"{name}.txt").read_text(encoding="utf-8")


def resolve(data, entries, linked: LinkedReport | None = None) -> list[str]:
    """Return the addresses named by fixed, `/path/*/to/field` and "token" entries, without repeats."""
    found: list[str] = []
    for entry in [entries] if isinstance(entries, str) else entries or []:
        if entry == TOKEN:
            values = [linked.answer_to] if linked else []
        elif entry.startswith("/"):
            values = reply.values_at(data, entry)
        else:
            values = [entry]
        for value in values:
            if isinstance(value, str) and value and value.lower() not in (f.lower() for f in found):
                found.append(value)
    return found


def fill(template: str, values: dict) -> str:
    """Replace `{name}` placeholders by known values; unknown ones stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


def placeholders(form: Form, reference: str, created: datetime.datetime, linked: LinkedReport | None = None) -> dict:
    """Return the values an editor may use in subjects and bodies."""
    values = {
        "reference": reference,
        "form": form.title,
        "date": created.strftime("%Y-%m-%d"),
        "deadline": reply.deadline(form, created).isoformat(),
        "reply_link": "",
    }
    if linked:
        values.update(
            report_reference=linked.reference,
            report_date=linked.date,
            answer_to=linked.answer_to,
            unit=linked.unit_name,
            deadline=linked.deadline,
            answered=linked.answered,
            answer_kind=SUPPLEMENT if linked.supplement else ANSWER,
            answer_what="en komplettering av svaret" if linked.supplement else "svaret",
        )
    return values


def calendar(
    form: Form, reference: str, created: datetime.datetime, link: str, domain: str, unit: UnitLink | None = None
) -> bytes:
    """Return an iCalendar file with the answer deadline as an all-day event and a reminder a week before.

    Written as text (RFC 5545, as the icalendar package writes it): building it with the package's
    objects took a fifth of composing a report's messages.
    """
    due = reply.deadline(form, created)
    summary = _ics_text(f"Svara senast: {form.title} {reference}" + (f" ({unit.name})" if unit and unit.name else ""))
    description = f"Sista dag att svara på {form.title} {reference}, rapporterad {created:%Y-%m-%d}.\nSvara här: {link}"
    lines = (
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Formulärtjänsten//formkit//SV",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"SUMMARY:{summary}",
        f"DTSTART;VALUE=DATE:{due:%Y%m%d}",
        f"DTEND;VALUE=DATE:{due + datetime.timedelta(days=1):%Y%m%d}",
        f"DTSTAMP:{created.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}",
        "UID:" + _ics_text(f"{reference}.deadline{f'.{unit.index}' if unit else ''}@{domain}"),
        f"DESCRIPTION:{_ics_text(description)}",
        "TRANSP:TRANSPARENT",
        f"URL:{link}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{summary}",
        f"TRIGGER:{TRIGGER}",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    )
    return "".join(_ics_fold(line) + "\r\n" for line in lines).encode("utf-8")


def _ics_text(value: str) -> str:
    """Escape an iCalendar TEXT value (RFC 5545 3.3.11)."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n")


def _ics_fold(line: str, limit: int = 75) -> str:
    """Fold a content line into lines of fewer than `limit` octets, never inside a character or an escape."""
    if len(line.encode("utf-8")) < limit:
        return line
    if line.isascii():  # a character is an octet: cut every limit - 1 characters
        folded, start = [], 0
        while len(line) - start >= limit:
            end = start + limit - 1
            if line[end - 1] in "\\^":  # keep a backslash with what it escapes
                end -= 1
            folded.append(line[start:end])
            start = end
        folded.append(line[start:])
        return "\r\n ".join(folded)
    data = line.encode("utf-8")  # cut between octets, never inside a character: no per-character counting
    parts, start = [], 0
    while len(data) - start >= limit:
        end = start + limit - 1
        while data[end] & 0xC0 == 0x80:  # a continuation octet: the character began before
            end -= 1
        if end - start > 1 and data[end - 1] in b"\\^":  # keep a backslash with what it escapes
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return "\r\n ".join(part.decode("utf-8") for part in parts)


def _message(mail: MailSettings, reference, kind, subject, body, to, cc, attachments: list[Message], reply_to):
    plain = _text_part(body)
    if attachments:
        # A boundary of our own: no line of quoted-printable, base64 or the body can start with it,
        # and the email package's own choice compiles a new regular expression for every message.
        message = _Multipart(boundary=f"=_formkit.{uuid.uuid4().hex}", policy=POLICY)
        for part in (plain, *attachments):
            message.attach(part)
    else:
        message = plain
    if mail.redirect:  # staging: everything goes to one mailbox, the real recipients are named in a header
        message["X-Formkit-Original-Recipients"] = _addresses(to + cc)
        to, cc = [mail.redirect], []
    message["Subject"] = _text_header(_one_line(subject))
    message["From"] = _addresses([mail.sender])
    message["To"] = _addresses(to)
    if cc:
        message["Cc"] = _addresses(cc)
    if reply_to:
        message["Reply-To"] = _addresses(reply_to)
    message["Message-ID"] = f"<{reference}.{kind}@{mail.domain}>"
    message["Date"] = format_datetime(datetime.datetime.now(datetime.UTC))
    message["X-Formkit-Reference"] = reference
    return message


def _text_part(text: str, subtype: str = "plain", params: tuple[tuple[str, str], ...] = ()) -> MIMEText:
    """Return what `MIMEText(text, subtype, UTF8, policy=POLICY)` returns, with `params` set on its Content-Type
    in order: the same headers, charset and quoted-printable body. MIMEText reads its Content-Type back and
    writes it again to set the charset, a fifth of composing a report's messages; here the headers are
    the ones it wrote for an empty text, kept, and only the body is encoded."""
    part = MIMEText.__new__(MIMEText)
    Message.__init__(part, policy=POLICY)
    part._headers = list(_text_headers(subtype, params))
    part._charset = UTF8
    part._payload = UTF8.body_encode(text) if text else ""
    return part


@cache
def _text_headers(subtype: str, params: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    template = MIMEText("", subtype, UTF8, policy=POLICY)
    for name, value in params:
        template.set_param(name, value)
    return tuple(template._headers)


def _without(addresses: list[str], taken: list[str]) -> list[str]:
    """Return the addresses not in `taken`, whatever their case."""
    seen = {address.lower() for address in taken}
    return [address for address in addresses if address.lower() not in seen]


def _day(moment: datetime.datetime) -> str:
    return moment.astimezone(TIMEZONE).date().isoformat()


def _attachment(name: str, content: bytes, mimetype: str) -> Message:
    maintype, subtype = mimetype.split("/")
    if maintype == "text":
        part = _text_part(content.decode("utf-8"), subtype, (("method", "PUBLISH"),) if subtype == "calendar" else ())
    else:
        part = MIMEBase(maintype, subtype, policy=POLICY)
        part.set_payload(content)
        encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=name if name.isascii() else ("utf-8", "", name))
    return part


def _file_part(upload: files.Upload) -> Message:
    """Return a file of the answers as an attachment, byte for byte (base64, text files too)."""
    maintype, subtype = upload.type.split("/")
    part = MIMEBase(maintype, subtype, policy=POLICY)
    part.set_payload(upload.data)
    encoders.encode_base64(part)
    name = upload.name
    part.add_header("Content-Disposition", "attachment", filename=name if name.isascii() else ("utf-8", "", name))
    return part


def _text_header(text: str) -> str:
    return text if text.isascii() else _encoded_words(text)


class _Folded(str):
    """A header value already encoded and folded (`_encoded_words`): written as it is."""


_Q_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!*+/")
_WORD = 75 - len("=?utf-8?q??=")  # RFC 2047: an encoded word is at most 75 characters


def _encoded_words(text: str, name: str = "Subject") -> _Folded:
    """Return text as RFC 2047 Q-encoded UTF-8 words, one per line of at most 78 characters.

    What email.header.Header makes of it, in a tenth of the time: Header measures every split
    again, which made the subjects most of the cost of writing a report's messages. Lines break
    between words where they can, so a reference stays whole in the message's source.
    """
    lines, current = [], ""
    room = 78 - len(name) - 2 - len("=?utf-8?q??=")  # the first line shares its room with the name
    for index, word in enumerate(text.split(" ")):
        pieces = ["_"] * bool(index) + [_q(char) for char in word]
        if current and len(current) + sum(map(len, pieces)) > room:
            lines.append(current)
            current, room = "", _WORD
        for piece in pieces:  # a word longer than a line is cut between characters, never inside one
            if current and len(current) + len(piece) > room:
                lines.append(current)
                current, room = "", _WORD
            current += piece
    lines.append(current)
    return _Folded("\n ".join(f"=?utf-8?q?{line}?=" for line in lines))


@cache
def _q(char: str) -> str:
    """Return one character Q-encoded (RFC 2047 4.2): itself, or its UTF-8 octets as =XX."""
    octets = char.encode("utf-8")
    return char if len(octets) == 1 and octets[0] in _Q_SAFE else "".join(f"={o:02X}" for o in octets)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _addresses(values: list[str]) -> str:
    """Join addresses for a header; names with å, ä, ö are encoded, and no value can break the line."""
    if all(_PLAIN_ADDRESS.fullmatch(value) for value in values):  # nothing to parse or encode: as they are
        return ", ".join(values)
    return _named_addresses(tuple(values))


@lru_cache(maxsize=64)  # mostly the sender, the same in every message
def _named_addresses(values: tuple[str, ...]) -> str:
    return ", ".join(formataddr(pair, "utf-8") for pair in getaddresses([_one_line(v) for v in values]) if pair[1])


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text).strip()
