"""Send messages: over SMTP, one connection for several messages, or as .eml files in the mail folder.

The sender knows messages and the SMTP settings, nothing about forms. With no SMTP host configured,
each message becomes a private file in `smtp.mail_dir`, so a fresh checkout works with nothing else
running.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import smtplib
import ssl
import uuid
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from .outbox import private_folder, write_private

if TYPE_CHECKING:
    from .settings import SmtpSettings


def send(message: Message | bytes, smtp: SmtpSettings) -> None:
    """Hand one message to the SMTP server, or write it to the mail folder when no host is configured."""
    with Transport(smtp) as transport:
        transport.send(message)


class Transport:
    """Where messages go: one SMTP connection for several messages, or the mail folder.

    The connection opens with the first message and closes with the `with` block; after a failure
    it is dropped, and the next message opens a new one. A connection kept from earlier messages that
    the server has closed meanwhile is opened again once. Bytes (as the outbox keeps them) go out
    exactly as they were queued.
    """

    def __init__(self, smtp: SmtpSettings):
        self.smtp = smtp
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, message: Message | bytes) -> None:
        """Send one message (or its bytes) over the open connection, opening it first if needed."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        headers = Head(raw)  # only the addresses and the id are needed
        if not self.smtp.host:
            write_eml(raw, headers["Message-ID"], Path(self.smtp.mail_dir))
            return
        # SMTP wants CRLF line ends; smtplib fixes them for text but sends bytes as they are.
        # (bytes.replace, as re.sub(rb"\r?\n", b"\r\n") does, in a tenth of its time: it was 1 ms a message)
        crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        sender, to = parseaddr(headers["From"])[1], recipients(headers)
        kept = self._connection is not None
        try:
            try:
                (self._connection or self._connect()).sendmail(sender, to, crlf)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                if not kept:
                    raise
                # A kept connection the server closed meanwhile (an idle timeout): once more, on a new one.
                # Had the server taken the message before it went, it now comes twice, with the same Message-ID.
                self._drop()
                self._connect().sendmail(sender, to, crlf)
        except BaseException:
            self._drop()
            raise

    @property
    def connected(self) -> bool:
        """Whether a connection is open (kept for the next message)."""
        return self._connection is not None

    def close(self) -> None:
        """Say goodbye to the server, if connected; a server that is already gone is no error."""
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._drop()

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        self._connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.starttls:  # only when asked: a server without STARTTLS then fails loudly instead of in clear
            self._connection.starttls(context=ssl.create_default_context())
        if smtp.user:
            self._connection.login(smtp.user, smtp.password)
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
            self._connection = None


def recipients(message: Message) -> list[str]:
    """Return the envelope recipients of a message: To, Cc and Bcc."""
    return list(_addresses(", ".join(str(v) for key in ("To", "Cc", "Bcc") for v in message.get_all(key, []))))


@functools.lru_cache(maxsize=1024)
def _addresses(fields: str) -> tuple[str, ...]:
    """The addresses of header fields joined with commas. The same units' and secretariat's addresses come back in
    report after report, and the email package parses each address character by character: about 0.05 ms."""
    return tuple(address for _, address in getaddresses([fields]) if address)


def write_eml(raw: bytes, message_id: str | None, directory: Path) -> Path:
    """Write a message to the mail folder as `<Message-ID>.eml`, readable by its owner only; return the path."""
    name = re.sub(r"[^A-Za-z0-9.@-]", "", message_id or "message") + ".eml"  # BUS-….report@domain.eml
    folder = private_folder(directory)
    # A temporary name of its own: the worker and a request may write the same message at once.
    write_private(folder / f".{name}.{os.getpid()}.{uuid.uuid4().hex}.tmp", folder / name, raw)
    return folder / name


_ENVELOPE = re.compile(rb"^(from|to|cc|bcc|message-id)[ \t]*:(.*(?:\n[ \t].*)*)", re.I | re.M)


class Head:
    """The envelope's header fields of a message's bytes (From, To, Cc, Bcc, Message-ID), unfolded, as the
    email package's header parser gives them (compat32 strings) in a tenth of its time."""

    def __init__(self, raw: bytes):
        self.fields: dict[str, list[str]] = {}
        for name, value in _ENVELOPE.findall(_head(raw)):
            text = value.replace(b"\r", b"").replace(b"\n", b"").strip().decode("ascii", "surrogateescape")
            self.fields.setdefault(name.decode().lower(), []).append(text)

    def __getitem__(self, name: str) -> str | None:
        return self.fields.get(name.lower(), [None])[0]

    def get_all(self, name: str, default=None) -> list[str] | None:
        """Return every value of the field `name`, as Message.get_all does."""
        return self.fields.get(name.lower(), default)


def _head(raw: bytes) -> bytes:
    """Return the header block with the blank line that ends it (parsing the body too cost as much as sending)."""
    ends = [at for at in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if at >= 0]
    return raw[: min(ends) + 4] if ends else raw
