"""Compose the e-mails of a submission from the form's `x-formkit.mail` block, and send one.

Routing is data: each entry of `to`, `cc`, `receipt_to` is a fixed address or a path into the
submission (`/verksamheter/*/chef_epost`). The transport is SMTP when a host is configured, else
`.eml` files in the mail folder, so a fresh checkout works with nothing else running.
"""

from __future__ import annotations

import datetime
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, parseaddr
from pathlib import Path

from .forms import Form
from .reference import add_months

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def resolve(data, entries) -> list[str]:
    """Return the addresses named by fixed entries and `/path/*/to/field` entries, without repeats."""
    found: list[str] = []
    for entry in [entries] if isinstance(entries, str) else entries or []:
        values = _at(data, entry.strip("/").split("/")) if entry.startswith("/") else [entry]
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


def placeholders(form: Form, reference: str, created: datetime.datetime) -> dict:
    """Return the values an editor may use in subjects and bodies."""
    return {
        "reference": reference,
        "form": form.title,
        "date": created.strftime("%Y-%m-%d"),
        "deadline": add_months(created.date(), 2).isoformat(),
    }


def compose(
    form: Form, data: dict, reference: str, created: datetime.datetime, attachment: bytes, config
) -> list[EmailMessage]:
    """Return the report message to the recipients and, when the form names one, the receipt."""
    mail = form.settings["mail"]
    values = placeholders(form, reference, created)
    to = resolve(data, mail.get("to")) or [config["DEFAULT_TO"]]
    cc = [a for a in resolve(data, mail.get("cc")) if a.lower() not in map(str.lower, to)]
    body = mail.get("body") or "Ett nytt ärende från formuläret {form} har kommit in med referens {reference}.\n"
    messages = [
        _message(
            config,
            reference,
            "report",
            fill(mail.get("subject") or "{form} {reference}", values),
            fill(body, values),
            to,
            cc,
            attachment,
            resolve(data, mail.get("reply_to")),
        )
    ]
    receipt_to = resolve(data, mail.get("receipt_to"))
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
                attachment,
                [],
            )
        )
    return messages


def _message(config, reference, kind, subject, body, to, cc, attachment, reply_to) -> EmailMessage:
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
    message.add_attachment(attachment, maintype="application", subtype=DOCX.split("/")[1], filename=f"{reference}.docx")
    return message


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text).strip()


def recipients(message: EmailMessage) -> list[str]:
    """Return the envelope recipients of a message: To, Cc and Bcc."""
    fields = [v for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    return [address for _, address in getaddresses(fields) if address]


def send(message: EmailMessage, config) -> None:
    """Hand one message to the SMTP server, or write it to the mail folder when none is configured."""
    if not config.get("SMTP_HOST"):
        _write_eml(message, Path(config["MAIL_DIR"]))
        return
    sender = parseaddr(message["From"])[1]
    timeout = float(config.get("SMTP_TIMEOUT") or 10)
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=timeout) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message, from_addr=sender, to_addrs=recipients(message))


def _write_eml(message: EmailMessage, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9.-]", "", message["Message-ID"] or "message") + ".eml"
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    temporary.write_bytes(message.as_bytes())
    os.replace(temporary, directory / name)


def sender_address(name: str, address: str) -> str:
    """Return a From header value."""
    return formataddr((name, address))
