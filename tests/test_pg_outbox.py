"""The database outbox on a real PostgreSQL: queued with the register, claimed with SKIP LOCKED, retried, released."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from handler import delivery
from handler.app import create_app
from handler.cli import main
from handler.errors import DeliveryUnavailable
from handler.outbox import DatabaseOutbox, outbox_for
from handler.reference import now
from handler.register import Register, new_report
from handler.register.models import OutboxMessage
from handler.settings import SmtpSettings, load
from handler.transport import send
from support import Inbox, eventually, free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "a-secret-key-of-forty-characters-or-so!!"
names = (f"pg_outbox_{n}" for n in itertools.count())


def message(number: int = 1) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "no-reply@formkit.localhost"
    mail["To"] = "rektor@solna.se"
    mail["Subject"] = f"BUS-avvikelse BUS-20261120-ABC{number:03d}"
    mail["Message-ID"] = f"<BUS-20261120-ABC{number:03d}.report@formkit.localhost>"
    mail.set_content("Rapporten finns bifogad.")
    return mail


def smtp(port: int) -> SmtpSettings:
    return load({"TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 2}, environ={}).smtp


@pytest.fixture
def url(postgres) -> str:
    return postgres.database(next(names))


@pytest.fixture
def register(url):
    register = Register(url, secret_key=KEY)
    register.upgrade()
    yield register
    register.close()


@pytest.fixture
def outbox(register) -> DatabaseOutbox:
    return DatabaseOutbox(register.engine)


def rows(register) -> int:
    with register.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(OutboxMessage))


def test_with_postgresql_the_outbox_is_the_registers_table(register, config):
    settings = load({**config, "DATABASE_URL": register.url})

    assert isinstance(outbox_for(settings.outbox, register), DatabaseOutbox)
    assert outbox_for(settings.outbox, Register(config["DATABASE_URL"], secret_key=KEY)).root.name == "outbox"


def test_a_queued_message_is_a_row_and_a_delivered_one_leaves_with_its_message_id(outbox, register, smtp_server):
    name = outbox.put(message())

    assert [(e.name, e.folder, e.attempts) for e in outbox.entries()] == [(name, "new", 0)]
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 1
    [received] = smtp_server.inbox.wait_for(1)
    assert received["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"
    assert outbox.entries() == [] and rows(register) == 0


def test_a_failed_attempt_keeps_the_message_and_waits_twice_as_long_each_time(register):
    outbox = DatabaseOutbox(register.engine, retry_base=10, retry_max=35)
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


def test_a_message_failing_longer_than_max_age_is_failed_until_retried_and_keeps_its_message_id(
    register, caplog, smtp_server
):
    outbox = DatabaseOutbox(register.engine, retry_base=0, max_age=0.05)
    name = outbox.put(message())
    time.sleep(0.1)

    outbox.run_once(lambda m: send(m, smtp(free_port())))

    assert [(e.name, e.folder) for e in outbox.entries()] == [(name, "failed")]
    assert f"gave up message={name}" in caplog.text
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 0  # kept, not retried by itself
    assert outbox.retry_now() == 1
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 1
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"
    assert outbox.entries() == []


def test_a_claimed_row_is_skipped_by_another_sender(outbox):
    name = outbox.put(message())
    sent = []

    def nested_send(raw):
        sent.append(BytesHeaderParser().parsebytes(raw)["Message-ID"])
        # While this sender holds it, neither a round nor a direct claim gets it.
        assert outbox.run_once(lambda again: sent.append("twice")) == 0
        assert outbox.deliver(name, lambda again: sent.append("twice")) is False

    assert outbox.deliver(name, nested_send) is True
    assert sent == ["<BUS-20261120-ABC001.report@formkit.localhost>"]


KILLED_SENDER = """
import os, signal, sys
from handler.outbox import DatabaseOutbox
from handler.register import Register
outbox = DatabaseOutbox(Register(sys.argv[1], secret_key="k" * 40).engine)
outbox.run_once(lambda m: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_the_claim_of_a_sender_that_was_killed_is_released_and_the_message_sent_again(outbox, register, smtp_server):
    outbox.put(message())

    result = subprocess.run([sys.executable, "-c", KILLED_SENDER, register.url], cwd=ROOT, timeout=60)

    assert result.returncode == -9
    assert [e.folder for e in outbox.entries()] == ["cur"]  # it died holding the claim
    assert outbox.run_once(lambda m: send(m, smtp(smtp_server.port))) == 1  # released at once, same host
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"


def test_a_live_claim_is_kept_until_the_claim_timeout(register):
    outbox = DatabaseOutbox(register.engine, claim_timeout=60)
    name = outbox.put(message(), claim=True)  # this very process holds it, as a courier in progress does

    assert outbox.release_stale_claims() == 0
    assert outbox.run_once(lambda m: pytest.fail("held by another sender")) == 0
    assert outbox.release_stale_claims(now=time.time() + 61) == 1
    assert [(e.name, e.folder) for e in outbox.entries()] == [(name, "new")]


class SlowInbox(Inbox):
    """Takes 10 ms per message, so senders that start together overlap."""

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


SENDER = """
import os, sys, time
from handler.outbox import DatabaseOutbox
from handler.register import Register
from handler.settings import load
from handler.transport import send
outbox = DatabaseOutbox(Register(sys.argv[1], secret_key="k" * 40).engine)
port, go = int(sys.argv[2]), sys.argv[3]
smtp = load({"TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}, environ={}).smtp
outbox.next_due()  # connected
open(f"{go}.{os.getpid()}", "w").close()  # ready
while not os.path.exists(go):
    time.sleep(0.005)
print(outbox.run_once(lambda m: send(m, smtp)))
"""


def test_several_processes_claiming_with_skip_locked_send_each_message_exactly_once(outbox, register, tmp_path):
    inbox = SlowInbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    for number in range(60):
        outbox.put(message(number))
    go = tmp_path / "go"
    args = [sys.executable, "-c", SENDER, register.url, str(server.port), str(go)]
    senders = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    eventually(lambda: len(list(tmp_path.glob("go.*"))) == 3, timeout=60)  # all three started up
    go.touch()  # and released at once
    try:
        counts = [int(sender.communicate(timeout=60)[0]) for sender in senders]
        ids = [m["Message-ID"] for m in inbox.wait_for(60)]
        time.sleep(0.1)  # a message sent twice would arrive now
    finally:
        server.stop()

    assert sum(counts) == 60
    assert all(count > 0 for count in counts), counts  # they really did compete
    assert len(inbox.messages) == len(set(ids)) == 60
    assert rows(register) == 0


def test_a_worker_is_woken_by_notify_not_by_its_interval(outbox, smtp_server):
    stop = threading.Event()
    worker = threading.Thread(target=outbox.run_forever, args=(lambda m: send(m, smtp(smtp_server.port)), 30, stop))
    worker.start()
    try:
        time.sleep(0.5)  # the worker has looked once and now waits up to 30 s
        started = time.monotonic()
        outbox.put(message())  # NOTIFY with the commit
        smtp_server.inbox.wait_for(1, timeout=5)
        woken_in = time.monotonic() - started
    finally:
        stop.set()
        outbox.wake()
        worker.join(10)

    assert woken_in < 2


# ---- one step with the register ----


def entry(form, reference: str):
    return new_report(form, {"handelsetyp": "x"}, reference, now())


@pytest.fixture
def form(config):
    from handler.check import check_project

    return check_project(load(config).schema_dir).ok()["bus-avvikelse"]


def test_a_report_and_its_messages_are_committed_together(outbox, register, form, smtp_server):
    settings = smtp(smtp_server.port)

    handed = delivery.hand_over(
        [message(1), message(2)],
        outbox=outbox,
        smtp=settings,
        label="test",
        register=register,
        record=lambda tx: tx.record(entry(form, "BUS-20261201-TOGETH")),
        wait=True,
    )

    assert handed == "sent" and register.report("BUS-20261201-TOGETH") is not None
    assert len(smtp_server.inbox.wait_for(2)) == 2 and rows(register) == 0


def test_if_the_register_insert_fails_nothing_is_queued(outbox, register, form, smtp_server):
    register.record(entry(form, "BUS-20261201-TWICE1"))

    with pytest.raises(DeliveryUnavailable):
        delivery.hand_over(
            [message(1)],
            outbox=outbox,
            smtp=smtp(smtp_server.port),
            label="test",
            register=register,
            record=lambda tx: tx.record(entry(form, "BUS-20261201-TWICE1")),  # the same reference again: refused
        )

    assert rows(register) == 0 and smtp_server.inbox.messages == []


def test_if_the_outbox_insert_fails_nothing_is_recorded(outbox, register, form, smtp_server):
    broken = message(1)
    broken.replace_header("Message-ID", "<" + "x" * 400 + "@formkit.localhost>")  # its row's name: too long

    with pytest.raises(DeliveryUnavailable):
        delivery.hand_over(
            [message(2), broken],
            outbox=outbox,
            smtp=smtp(smtp_server.port),
            label="test",
            register=register,
            record=lambda tx: tx.record(entry(form, "BUS-20261201-NOROOM")),
        )

    assert register.report("BUS-20261201-NOROOM") is None
    assert rows(register) == 0 and smtp_server.inbox.messages == []


# ---- the endpoint and the commands ----


def test_a_report_posted_to_the_handler_is_queued_in_postgresql_and_delivered_at_once(config, url, smtp_server):
    app = create_app({**config, "DATABASE_URL": url})
    client = app.test_client()

    response = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"})

    assert response.status_code == 201
    reference = response.json["reference"]
    received = smtp_server.inbox.wait_for(4)
    assert all(reference in m["Subject"] for m in received)
    register = app.extensions["formkit.register"]
    eventually(lambda: rows(register) == 0)
    assert not (Path(config["OUTBOX_DIR"]) / "new").exists()  # nothing in the folder outbox


@pytest.fixture
def cli_env(monkeypatch, url):
    monkeypatch.setenv("FORMKIT_DATABASE_URL", url)
    monkeypatch.setenv("FORMKIT_SCHEMA_DIR", os.path.join(ROOT, "schema"))
    monkeypatch.setenv("FORMKIT_SMTP_HOST", "127.0.0.1")
    return monkeypatch


def test_outbox_status_lists_the_rows_with_their_age_and_last_error(cli_env, register, capsys):
    cli_env.setenv("FORMKIT_SMTP_PORT", str(free_port()))
    outbox = DatabaseOutbox(register.engine, retry_base=600)
    outbox.put(message(1))
    outbox.run_once(lambda m: send(m, smtp(free_port())))
    outbox.put(message(2))

    assert main(["outbox", "status"]) == 0

    out = capsys.readouterr().out
    assert "2 meddelanden i utkorgen" in out
    first, second = [line for line in out.splitlines() if "BUS-20261120" in line]
    assert "ABC001" in first and "ConnectionRefusedError" in first and " 1 " in first
    assert "ABC002" in second and "väntar" in second


def test_outbox_retry_delivers_now_even_what_waits_for_later(cli_env, register, capsys, smtp_server):
    cli_env.setenv("FORMKIT_SMTP_PORT", str(smtp_server.port))
    outbox = DatabaseOutbox(register.engine, retry_base=3600)
    outbox.put(message(1))
    outbox.run_once(lambda m: send(m, smtp(free_port())))  # failed once: next attempt in an hour

    assert main(["outbox", "retry"]) == 0

    assert "1 levererade" in capsys.readouterr().out
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-ABC001.report@formkit.localhost>"
    assert outbox.entries() == []


def test_outbox_run_once_delivers_what_is_due_and_ends(url, register, smtp_server):
    outbox = DatabaseOutbox(register.engine)
    for number in range(3):
        outbox.put(message(number))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FORMKIT_")},
        "FORMKIT_DATABASE_URL": url,
        "FORMKIT_SMTP_HOST": "127.0.0.1",
        "FORMKIT_SMTP_PORT": str(smtp_server.port),
    }

    run = subprocess.run([str(BIN / "formkit"), "outbox", "run", "--once"], env=env, capture_output=True, text=True)

    assert run.returncode == 0, run.stderr
    assert "3 levererade" in run.stdout
    assert len(smtp_server.inbox.wait_for(3)) == 3 and rows(register) == 0
