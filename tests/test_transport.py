"""Sending, against a real SMTP server on loopback (aiosmtpd), and into the mail folder when there is none."""

import os
import smtplib
import stat
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from handler.settings import load
from handler.transport import Transport, recipients, send
from support import Inbox, free_port

ROOT = Path(__file__).resolve().parent.parent


def smtp(port: int = 25, **overrides):
    """SMTP settings as the handler loads them, from FORMKIT_* names without the prefix."""
    return load({"TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 5, **overrides},
                environ={}).smtp  # fmt: skip


def message(number: int, to: str = "rektor@solna.se", cc: str = "BUS-avvikelser@storsthlm.se") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Formulärtjänsten <no-reply@formkit.localhost>"
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = f"Rapport {number}"
    mail["Message-ID"] = f"<BUS-20261122-{number:06d}.report@formkit.localhost>"
    mail.set_content("Rapporten finns bifogad.")
    return mail


class Sessions(Inbox):
    """Keeps, for every message, the client end of the connection it came over; refuses one address."""

    def __init__(self):
        super().__init__()
        self.peers: list[tuple] = []
        self.logins: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("okand@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def server():
    inbox = Sessions()

    def authenticate(server, session, envelope, mechanism, auth_data):
        inbox.logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == b"hemligt")

    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


def test_a_message_goes_to_its_recipients_from_its_sender(smtp_server):
    send(message(1), smtp(smtp_server.port))

    [(sender, rcpts)] = smtp_server.inbox.envelopes
    assert sender == "no-reply@formkit.localhost"
    assert rcpts == ["rektor@solna.se", "BUS-avvikelser@storsthlm.se"] == recipients(message(1))
    assert smtp_server.inbox.messages[0]["Subject"] == "Rapport 1"


def test_several_messages_share_one_connection(server):
    with Transport(smtp(server.port)) as transport:
        for number in range(3):
            transport.send(message(number))

    assert len(server.inbox.peers) == 3 and len(set(server.inbox.peers)) == 1


def test_after_a_refusal_the_next_message_goes_over_a_new_connection(server):
    with Transport(smtp(server.port)) as transport:
        transport.send(message(1))
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            transport.send(message(2, to="okand@solna.se", cc=""))
        transport.send(message(3))

    assert [m["Subject"] for m in server.inbox.messages] == ["Rapport 1", "Rapport 3"]
    assert server.inbox.peers[0] != server.inbox.peers[1]


def test_queued_bytes_go_out_as_they_were_written(smtp_server):
    raw = message(1).as_bytes().replace(b"\r\n", b"\n") + b"From the start of a line\n.leading dot\n"

    send(raw, smtp(smtp_server.port))

    assert smtp_server.inbox.raw[0].rstrip(b"\r\n") == raw.replace(b"\n", b"\r\n").rstrip(b"\r\n")


@pytest.mark.parametrize("written", ["false", "False", "no", "0"])
def test_starttls_off_sends_in_the_clear_to_a_server_without_it(smtp_server, written):
    settings = smtp(smtp_server.port, SMTP_STARTTLS=written)

    send(message(1), settings)

    assert settings.starttls is False
    assert len(smtp_server.inbox.messages) == 1


def test_starttls_on_is_really_asked_for(smtp_server):
    # The loopback server offers no STARTTLS: asking for it must fail instead of sending in the clear.
    with pytest.raises(smtplib.SMTPNotSupportedError):
        send(message(1), smtp(smtp_server.port, SMTP_STARTTLS="yes"))
    assert smtp_server.inbox.messages == []


def test_a_configured_user_logs_in_first(server):
    send(message(1), smtp(server.port, SMTP_USER="formkit", SMTP_PASSWORD="hemligt"))

    assert server.inbox.logins == [b"formkit"]
    assert len(server.inbox.messages) == 1


def test_no_user_means_no_login(server):
    send(message(1), smtp(server.port))

    assert server.inbox.logins == []


def test_a_server_that_is_down_is_an_error_for_the_caller():
    with pytest.raises(OSError):
        send(message(1), smtp(free_port()))


def test_without_a_host_each_message_is_a_private_eml_file_named_by_its_id(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # as an older run or another tool left it
    old = os.umask(0o022)
    try:
        send(message(1), smtp(SMTP_HOST="", MAIL_DIR=str(folder)))
        send(message(2).as_bytes(), smtp(SMTP_HOST="", MAIL_DIR=str(folder / "nested")))
    finally:
        os.umask(old)

    written = folder / "BUS-20261122-000001.report@formkit.localhost.eml"
    assert sorted(p.name for p in folder.iterdir()) == [written.name, "nested"]  # no temporary file left
    assert written.read_bytes() == message(1).as_bytes()
    for path, mode in ((folder, 0o700), (folder / "nested", 0o700), (written, 0o600)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert stat.S_IMODE(next((folder / "nested").iterdir()).stat().st_mode) == 0o600


def test_the_sender_imports_nothing_about_forms():
    code = "import sys, handler.transport; print(' '.join(m for m in sys.modules if m.startswith('handler')))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)

    assert set(loaded.stdout.split()) == {"handler", "handler.transport", "handler.outbox"}
