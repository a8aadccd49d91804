"""The durable outbox: queueing, back-off, giving up into failed/, claims, several processes, the CLI."""

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from email.message import EmailMessage
from email.parser import BytesHeaderParser

import pytest
from aiosmtpd.controller import Controller

from handler.cli import main
from handler.mail import send
from handler.outbox import Outbox, describe
from support import Inbox, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def message(number: int = 1, to: str = "rektor@solna.se") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "no-reply@formkit.localhost"
    mail["To"] = to
    mail["Subject"] = f"BUS-avvikelse BUS-20261120-ABC{number:03d}"
    mail["Message-ID"] = f"<BUS-20261120-ABC{number:03d}.report@formkit.localhost>"
    mail.set_content("Rapporten finns bifogad.")
    return mail


def smtp(port: int) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 2}


def files(outbox: Outbox, folder: str) -> list[str]:
    return sorted(p.name for p in (outbox.root / folder).iterdir())


def test_a_queued_message_is_on_disk_in_new_and_nothing_is_left_in_tmp(tmp_path):
    outbox = Outbox(tmp_path)

    name = outbox.put(message())

    assert files(outbox, "new") == [name]
    assert files(outbox, "tmp") == []
    assert b"BUS-20261120-ABC001" in (tmp_path / "new" / name).read_bytes()


def test_a_delivered_message_leaves_the_outbox_with_its_message_id(tmp_path, smtp_server):
    outbox = Outbox(tmp_path, retry_base=0.01)
    outbox.put(message())

    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 1

    [received] = smtp_server.inbox.wait_for(1)
    assert received["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"
    assert [files(outbox, folder) for folder in ("new", "cur", "failed", "state")] == [[], [], [], []]


def test_a_failed_attempt_keeps_the_message_and_waits_twice_as_long_each_time(tmp_path):
    outbox = Outbox(tmp_path, retry_base=10, retry_max=35)
    outbox.put(message())
    closed_port = smtp(free_port())
    delays = []
    for _ in range(4):
        outbox.retry_now()  # make it due at once
        before = time.time()
        assert outbox.run_once(lambda m: send(m, closed_port)) == 0
        delays.append(round(outbox.next_due() - before))

    assert delays == [10, 20, 35, 35]  # doubling, capped by retry_max
    [entry] = outbox.entries()
    assert (entry.folder, entry.attempts) == ("new", 4)
    assert entry.last_error.startswith("ConnectionRefusedError")
    assert outbox.run_once(lambda m: send(m, closed_port)) == 0  # not due yet: not even tried
    assert outbox.entries()[0].attempts == 4


def test_a_message_failing_longer_than_max_age_moves_to_failed_and_is_logged(tmp_path, caplog, smtp_server):
    outbox = Outbox(tmp_path, retry_base=0, max_age=0.05)
    name = outbox.put(message())
    time.sleep(0.1)

    with caplog.at_level(logging.ERROR, logger="formkit.outbox"):
        outbox.run_once(lambda m: send(m, smtp(free_port())))

    assert files(outbox, "failed") == [name]
    assert files(outbox, "new") == []
    assert f"gave up message={name}" in caplog.text
    # It is kept until someone retries it; then it is delivered.
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 0
    assert outbox.retry_now() == 1
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 1
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"
    assert files(outbox, "failed") == []


def test_a_claim_is_a_rename_so_only_one_sender_gets_a_message(tmp_path):
    outbox = Outbox(tmp_path)
    name = outbox.put(message())
    sent = []

    def nested_send(raw):
        sent.append(BytesHeaderParser().parsebytes(raw)["Message-ID"])
        # While this sender holds it, nobody else can claim it.
        assert outbox.deliver(name, lambda again: sent.append("twice")) is False

    assert outbox.deliver(name, nested_send) is True
    assert sent == ["<BUS-20261120-ABC001.report@formkit.localhost>"]


def test_the_claim_of_a_process_that_was_killed_is_released_at_once(tmp_path):
    outbox = Outbox(tmp_path)
    name = outbox.put(message())
    # A real process claims the message and dies with SIGKILL in the middle of sending it.
    script = (
        "import os, signal, sys; from handler.outbox import Outbox; "
        f"Outbox(sys.argv[1]).deliver({name!r}, lambda m: os.kill(os.getpid(), signal.SIGKILL))"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, timeout=30)

    assert result.returncode == -9
    assert len(files(outbox, "cur")) == 1 and files(outbox, "new") == []
    assert outbox.release_stale_claims() == 1
    assert files(outbox, "new") == [name]


def test_a_live_claim_is_kept_until_the_claim_timeout(tmp_path):
    outbox = Outbox(tmp_path, claim_timeout=60)
    name = outbox.put(message())
    claimed = outbox._claim(name)  # this very process holds it, as a sender in progress does

    assert outbox.release_stale_claims() == 0
    assert outbox.release_stale_claims(now=time.time() + 61) == 1
    assert files(outbox, "new") == [name] and not claimed.exists()


class SlowInbox(Inbox):
    """Takes 10 ms per message, so senders that start together overlap."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


SENDER = """
import os, sys, time
from handler.mail import send
from handler.outbox import Outbox
outbox, port, go = Outbox(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.005)
print(outbox.run_once(lambda m: send(m, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port})))
"""


def test_several_processes_sharing_one_outbox_send_each_message_exactly_once(tmp_path):
    inbox = SlowInbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    outbox = Outbox(tmp_path / "outbox")
    for number in range(60):
        outbox.put(message(number))
    go = tmp_path / "go"
    args = [sys.executable, "-c", SENDER, str(outbox.root), str(server.port), str(go)]
    senders = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    time.sleep(1.0)  # let all three start up, then release them at once
    go.touch()
    try:
        counts = [int(sender.communicate(timeout=60)[0]) for sender in senders]
        ids = [m["Message-ID"] for m in inbox.wait_for(60)]
        time.sleep(0.1)  # a message sent twice would arrive now
    finally:
        server.stop()

    assert sum(counts) == 60
    assert all(count > 0 for count in counts), counts  # they really did compete
    assert len(inbox.messages) == len(set(ids)) == 60
    assert files(outbox, "new") == files(outbox, "cur") == []


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("FORMKIT_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("FORMKIT_SCHEMA_DIR", os.path.join(ROOT, "schema"))
    monkeypatch.setenv("FORMKIT_SMTP_HOST", "127.0.0.1")
    return monkeypatch


def test_outbox_status_lists_what_waits_with_its_age_and_last_error(cli_env, tmp_path, capsys):
    cli_env.setenv("FORMKIT_SMTP_PORT", str(free_port()))
    outbox = Outbox(tmp_path / "outbox", retry_base=600)
    outbox.put(message(1))
    outbox.run_once(lambda m: send(m, smtp(free_port())))
    outbox.put(message(2))

    assert main(["outbox", "status"]) == 0

    out = capsys.readouterr().out
    assert "2 meddelanden i utkorgen" in out
    first, second = [line for line in out.splitlines() if "BUS-20261120" in line]
    assert "ABC001" in first and "ConnectionRefusedError" in first and " 1 " in first and " s " in first
    assert "ABC002" in second and "väntar" in second


def test_outbox_retry_delivers_now_even_what_waits_for_later(cli_env, tmp_path, capsys, smtp_server):
    cli_env.setenv("FORMKIT_SMTP_PORT", str(smtp_server.port))
    outbox = Outbox(tmp_path / "outbox", retry_base=3600)
    outbox.put(message(1))
    outbox.run_once(lambda m: send(m, smtp(free_port())))  # failed once: next attempt in an hour

    assert main(["outbox", "retry"]) == 0

    assert "1 levererade" in capsys.readouterr().out
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"
    assert outbox.entries() == []


def test_the_state_of_a_message_is_plain_json_an_operator_can_read(tmp_path):
    outbox = Outbox(tmp_path, retry_base=5)
    name = outbox.put(message())
    outbox.run_once(lambda m: send(m, smtp(free_port())))

    state = json.loads((tmp_path / "state" / f"{name}.json").read_text())
    assert state["attempts"] == 1 and "ConnectionRefusedError" in state["last_error"]


def test_an_error_description_never_carries_an_e_mail_address():
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"rektor@solna.se": (550, b"5.1.1 <rektor@solna.se> unknown")})
    temporary = smtplib.SMTPDataError(451, b"4.3.0 <chef@solna.se> try later")

    assert "@" not in describe(refused)
    assert describe(temporary) == "SMTPDataError: 451 4.3.0 <<address>> try later"


def test_a_message_queued_for_immediate_delivery_is_left_alone_by_the_worker(tmp_path, smtp_server):
    outbox = Outbox(tmp_path)
    held = outbox.put(message(1), claim=True)
    waiting = outbox.put(message(2), claim=True)

    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 0  # the worker does not see them
    assert outbox.deliver(held, lambda m: send(m, smtp(smtp_server.port)), held=True)
    outbox.release(waiting)  # not sent now: the worker takes it
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 1

    assert [m["Message-ID"] for m in smtp_server.inbox.wait_for(2)] == [
        "<BUS-20261120-ABC001.report@formkit.localhost>",
        "<BUS-20261120-ABC002.report@formkit.localhost>",
    ]
    assert outbox.entries() == []


def test_a_failed_attempt_that_cannot_be_recorded_still_leaves_the_message_waiting(tmp_path, caplog):
    outbox = Outbox(tmp_path)
    name = outbox.put(message(), claim=True)
    (tmp_path / "state").rmdir()
    (tmp_path / "state").write_text("")  # now no state can be written, as on a full disk

    assert outbox.deliver(name, lambda m: send(m, smtp(free_port())), held=True) is False

    assert files(outbox, "new") == [name]
    assert "could not record a failed attempt" in caplog.text
