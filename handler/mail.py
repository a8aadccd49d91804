"""Compose the e-mails of a submission from the form's `x-formkit.mail` block, and send one.

Routing is data: each entry of `to`, `cc`, `receipt_to` is a fixed address, a path into the
submission (`/verksamheter/*/chef_epost`) or "token" (the address in an answer link's token). A
form with a `reply_link` gets the link, "Svara senast" and a calendar reminder in its report e-mail.
The transport is SMTP when a host is configured, else `.eml` files in the mail folder, so a fresh
checkout works with nothing else running.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import smtplib
import ssl
import uuid
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from icalendar import Alarm, Calendar, Event

from . import reply
from .forms import TOKEN, Form
from .reply import LinkedReport

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A reminder a week before the deadline, at 09:00: an all-day event starts at midnight.
REMINDER = datetime.timedelta(days=-7, hours=9)


def resolve(data, entries, linked: LinkedReport | None = None) -> list[str]:
    """Return the addresses named by fixed, `/path/*/to/field` and "token" entries, without repeats."""
    found: list[str] = []
    for entry in [entries] if isinstance(entries, str) else entries or []:
        if entry == TOKEN:
            values = [linked.answer_to] if linked else []
        elif entry.startswith("/"):
            values = _at(data, entry.strip("/").split("/"))
        else:
            values = [entry]
        for value in values:
            if isinstance(value, str) and value and value.lower() not in (f.lower() for f in found):
                found.append(value)
    return found


def _at(data, parts: list[str]) -> list:
    if not parts:
        return [data]
    head, rest = parts[0], parts[1:]
    if head == "*" and isinstance(data, list):
        return [v for item in data for v in _at(item, rest)]
    if isinstance(data, dict) and head in data:
        return _at(data[head], rest)
    return []


def fill(template: str, values: dict) -> str:
    """Replace `{name}` placeholders by known values; unknown ones stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


def placeholders(
    form: Form, reference: str, created: datetime.datetime, linked: LinkedReport | None = None, link: str = ""
) -> dict:
    """Return the values an editor may use in subjects and bodies."""
    values = {
        "reference": reference,
        "form": form.title,
        "date": created.strftime("%Y-%m-%d"),
        "deadline": reply.deadline(form, created).isoformat(),
        "reply_link": link,
    }
    if linked:
        values.update(report_reference=linked.reference, report_date=linked.date, answer_to=linked.answer_to)
    return values


def answer_link(form: Form, data: dict, reference: str, created: datetime.datetime, config) -> str:
    """Return the signed link for answering this report, or "" when the form has no reply loop."""
    settings = form.settings.get("reply_link")
    answer_to = resolve(data, settings["answer_to"]) if settings else []
    if not answer_to:
        return ""
    linked = LinkedReport(reference, created.date().isoformat(), answer_to[0])
    return reply.url(config, form.settings["reply_form"], reply.issue(config, form.settings["reply_form"], linked))


def compose(
    form: Form,
    data: dict,
    reference: str,
    created: datetime.datetime,
    attachment: bytes,
    config,
    linked: LinkedReport | None = None,
) -> list[EmailMessage]:
    """Return the message to the recipients and, when the form names one, the receipt.

    A report with a reply loop carries the answer link and a calendar reminder of the deadline; an
    answer (`linked`) goes where its link's token says and names the report it answers.
    """
    mail = form.settings["mail"]
    link = answer_link(form, data, reference, created, config)
    values = placeholders(form, reference, created, linked, link)
    to = resolve(data, mail.get("to"), linked) or [config["DEFAULT_TO"]]
    cc = [a for a in resolve(data, mail.get("cc"), linked) if a.lower() not in map(str.lower, to)]
    body = fill(
        mail.get("body") or "Ett nytt ärende från formuläret {form} har kommit in med referens {reference}.\n", values
    )
    if link and link not in body:  # the editor's text forgot {reply_link}: the link must still reach them
        body += f"\nSvara här senast {values['deadline']}:\n{link}\n"
    name = f"{linked.reference}-svar.docx" if linked else f"{reference}.docx"
    document = _attachment(name, attachment, DOCX)  # built once, attached to the report and the receipt
    attachments = [document]
    if link:
        reminder = calendar(form, reference, created, link, config)
        attachments.append(_attachment(f"{reference}-svara-senast.ics", reminder, "text/calendar"))
    report = _message(
        config,
        reference,
        "report",
        fill(mail.get("subject") or "{form} {reference}", values),
        body,
        to,
        cc,
        attachments,
        resolve(data, mail.get("reply_to"), linked),
    )
    if linked:  # thread the answer with the report in the recipients' mail programs
        report["In-Reply-To"] = report["References"] = f"<{linked.reference}.report@{config['MAIL_DOMAIN']}>"
    messages = [report]
    receipt_to = resolve(data, mail.get("receipt_to"), linked)
    if receipt_to:
        default = "Tack! Vi har tagit emot ditt ärende med referens {reference}. En kopia finns bifogad.\n"
        messages.append(
            _message(
                config,
                reference,
                "receipt",
                fill(mail.get("receipt_subject") or "Kvitto: {form} {reference}", values),
                fill(mail.get("receipt_body") or default, values),
                receipt_to,
                [],
                [document],
                [],
            )
        )
    return messages


def calendar(form: Form, reference: str, created: datetime.datetime, link: str, config) -> bytes:
    """Return an iCalendar file with the answer deadline as an all-day event and a reminder a week before."""
    due = reply.deadline(form, created)
    summary = f"Svara senast: {form.title} {reference}"
    event = Event()
    event.add("uid", f"{reference}.deadline@{config['MAIL_DOMAIN']}")
    event.add("dtstamp", created.astimezone(datetime.UTC))
    event.add("dtstart", due)
    event.add("dtend", due + datetime.timedelta(days=1))
    event.add("summary", summary)
    event.add(
        "description",
        f"Sista dag att svara på {form.title} {reference}, rapporterad {created:%Y-%m-%d}.\nSvara här: {link}",
    )
    event.add("url", link)
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", REMINDER)
    event.add_component(alarm)
    calendar = Calendar()
    calendar.add("prodid", "-//Formulärtjänsten//formkit//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()


def _message(config, reference, kind, subject, body, to, cc, attachments: list[MIMEPart], reply_to) -> EmailMessage:
    message = EmailMessage()
    redirect = config.get("MAIL_REDIRECT")
    if redirect:  # staging: everything goes to one mailbox, the real recipients are named in a header
        message["X-Formkit-Original-Recipients"] = ", ".join(to + cc)
        to, cc = [redirect], []
    message["Subject"] = _one_line(subject)
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = ", ".join(reply_to)
    message["Message-ID"] = f"<{reference}.{kind}@{config['MAIL_DOMAIN']}>"
    message["Date"] = datetime.datetime.now(datetime.UTC)
    message["X-Formkit-Reference"] = reference
    message.set_content(body)
    if attachments:
        message.make_mixed()
        for part in attachments:
            message.attach(part)
    if message.is_multipart():
        # A boundary of our own: no line of base64 or of the body can start with it, and the email
        # package's own choice compiles a new regular expression for every message.
        message.set_boundary(f"=_formkit.{uuid.uuid4().hex}")
    return message


def _attachment(name: str, content: bytes, mimetype: str) -> MIMEPart:
    part = MIMEPart(policy=policy.default)
    maintype, subtype = mimetype.split("/")
    if maintype == "text":
        params = {"method": "PUBLISH"} if subtype == "calendar" else {}
        part.set_content(
            content.decode("utf-8"), subtype=subtype, disposition="attachment", filename=name, params=params
        )
    else:
        part.set_content(content, maintype=maintype, subtype=subtype, disposition="attachment", filename=name)
    return part


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text).strip()


def recipients(message: EmailMessage) -> list[str]:
    """Return the envelope recipients of a message: To, Cc and Bcc."""
    fields = [v for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    return [address for _, address in getaddresses(fields) if address]


def send(message: EmailMessage | bytes, config) -> None:
    """Hand one message to the SMTP server, or write it to the mail folder when none is configured."""
    with Transport(config) as transport:
        transport.send(message)


class Transport:
    """Where messages go: one SMTP connection for several messages, or the mail folder.

    The connection opens with the first message and closes with the `with` block; after a failure
    it is dropped, and the next message opens a new one. Bytes (as the outbox keeps them) go out
    exactly as they were queued.
    """

    def __init__(self, config):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, message: EmailMessage | bytes) -> None:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        headers = BytesHeaderParser().parsebytes(raw)  # plain strings: only addresses and the id are needed
        if not self.config.get("SMTP_HOST"):
            _write_eml(raw, headers["Message-ID"], Path(self.config["MAIL_DIR"]))
            return
        try:
            smtp = self._smtp or self._connect()
            # SMTP wants CRLF line ends; smtplib fixes them for text but sends bytes as they are.
            smtp.sendmail(parseaddr(headers["From"])[1], recipients(headers), re.sub(rb"\r?\n", b"\r\n", raw))
        except BaseException:
            self._drop()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._drop()

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        timeout = float(config.get("SMTP_TIMEOUT") or 10)
        self._smtp = smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=timeout)
        if config.get("SMTP_STARTTLS"):
            self._smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            self._smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
            self._smtp = None


def _write_eml(raw: bytes, message_id: str | None, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9.-]", "", message_id or "message") + ".eml"
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    temporary.write_bytes(raw)
    os.replace(temporary, directory / name)
