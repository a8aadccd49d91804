"""The durable outbox: queueing, back-off, giving up into failed/, claims, several processes, the CLI."""

import asyncio
import contextlib
import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from handler.cli import main
from handler.outbox import Outbox, describe, owner, write_private
from handler.settings import SmtpSettings, load
from handler.transport import send
from support import Inbox, eventually, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def message(number: int = 1, to: str = "rektor@solna.se") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "no-reply@formkit.localhost"
    mail["To"] = to
    mail["Subject"] = f"BUS-avvikelse BUS-20261120-ABC{number:03d}"
    mail["Message-ID"] = f"<BUS-20261120-ABC{number:03d}.report@formkit.localhost>"
    mail.set_content("Rapporten finns bifogad.")
    return mail


def smtp(port: int) -> SmtpSettings:
    return load({"TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 2}, environ={}).smtp


def files(outbox: Outbox, folder: str) -> list[str]:
    return sorted(p.name for p in (outbox.root / folder).iterdir())


class Connections(Inbox):
    """Also remembers the connection (the client's address and port) each message came over."""

    def __init__(self):
        super().__init__()
        self.peers: list[tuple] = []
        self.goodbyes = 0  # QUITs: connections the client closed politely

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope):
        self.goodbyes += 1
        return "221 Bye"


def courier_test(tmp_path, **server):
    """A courier and an SMTP server that remembers connections (aiosmtpd settings `server`); stop the server after."""
    from handler.outbox.courier import courier_for

    inbox = Connections()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **server)
    controller.start()
    outbox = Outbox(tmp_path)
    return outbox, courier_for(outbox, smtp(controller.port)), inbox, controller


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
from handler.outbox import Outbox
from handler.settings import load
from handler.transport import send
outbox, port, go = Outbox(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
smtp = load({"TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}, environ={}).smtp
while not os.path.exists(go):
    time.sleep(0.005)
print(outbox.run_once(lambda m: send(m, smtp)))
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


def test_outbox_run_once_delivers_what_is_due_and_ends_with_zero(cli_env, tmp_path, capsys, smtp_server):
    cli_env.setenv("FORMKIT_SMTP_PORT", str(smtp_server.port))
    outbox = Outbox(tmp_path / "outbox", retry_base=3600)
    outbox.put(message(1))
    outbox.put(message(2))
    outbox.run_once(lambda m: send(m, smtp(free_port())))  # both failed once: due in an hour
    outbox.put(message(3))

    assert main(["outbox", "run", "--once"]) == 0

    assert "1 levererade" in capsys.readouterr().out  # only what is due
    [received] = smtp_server.inbox.wait_for(1)
    assert received["Message-ID"] == "<BUS-20261120-ABC003.report@formkit.localhost>"
    assert len(outbox.entries()) == 2


def test_a_workers_round_sends_what_is_due_over_one_connection(cli_env, tmp_path):
    inbox = Connections()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    cli_env.setenv("FORMKIT_SMTP_PORT", str(server.port))
    outbox = Outbox(tmp_path / "outbox")
    for number in (1, 2, 3):  # a backlog, as after the mail server was away
        outbox.put(message(number))
    try:
        assert main(["outbox", "run", "--once"]) == 0
        inbox.wait_for(3)
    finally:
        server.stop()

    assert len(set(inbox.peers)) == 1  # not a connection and a greeting for each message
    assert inbox.goodbyes == 1  # and closed when the round is over
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


# Private files, leftovers and a full disk (issue 10)


def modes(root) -> dict[str, int]:
    """Return the permission bits of the outbox folder and of everything in it, by path below it."""
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["022", "000"])
def test_every_file_is_0600_and_every_folder_0700_whatever_the_umask(tmp_path, umask):
    before = os.umask(umask)
    try:
        outbox = Outbox(tmp_path / "var" / "outbox", retry_base=600)
        outbox.put(message(1))
        outbox.put(message(2), claim=True)
        outbox.run_once(lambda m: send(m, smtp(free_port())))  # message 1 fails: a retry state is written
        giving_up = Outbox(outbox.root, retry_base=0, max_age=0)
        giving_up.put(message(3))
        time.sleep(0.01)
        giving_up.deliver(giving_up.entries()[0].name, lambda m: send(m, smtp(free_port())))  # into failed/
    finally:
        os.umask(before)

    found = modes(outbox.root)
    folders = {path: mode for path, mode in found.items() if (outbox.root / path).is_dir()}
    written = {path: mode for path, mode in found.items() if path not in folders}
    assert set(folders) == {".", "tmp", "new", "cur", "failed", "state"}
    assert set(folders.values()) == {0o700}
    assert {path.split("/")[0] for path in written} == {"new", "cur", "failed", "state"}
    assert set(written.values()) == {0o600}


def test_an_outbox_made_by_an_earlier_version_is_made_private(tmp_path):
    for folder in ("tmp", "new", "cur", "failed", "state"):
        (tmp_path / "outbox" / folder).mkdir(parents=True, mode=0o755)
        os.chmod(tmp_path / "outbox" / folder, 0o755)

    outbox = Outbox(tmp_path / "outbox")

    assert set(modes(outbox.root).values()) == {0o700}


def test_write_private_writes_0600_and_replaces_the_file_in_one_step(tmp_path):
    before = os.umask(0)
    try:
        write_private(tmp_path / "report.tmp", tmp_path / "report.eml", b"first")
        write_private(tmp_path / "report.tmp", tmp_path / "report.eml", b"second")
    finally:
        os.umask(before)

    assert (tmp_path / "report.eml").read_bytes() == b"second"
    assert stat.S_IMODE((tmp_path / "report.eml").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.eml"]


def test_write_private_never_writes_into_a_file_that_is_already_there(tmp_path):
    (tmp_path / "report.tmp").write_bytes(b"someone else's")

    with pytest.raises(FileExistsError):
        write_private(tmp_path / "report.tmp", tmp_path / "report.eml", b"mine")

    assert (tmp_path / "report.tmp").read_bytes() == b"someone else's"
    assert not (tmp_path / "report.eml").exists()


def test_write_private_that_cannot_rename_leaves_no_temporary_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_private(tmp_path / "report.tmp", tmp_path / "missing" / "report.eml", b"mine")

    assert list(tmp_path.iterdir()) == []


KILLED_WRITER = """
import os, signal, sys
from email.message import EmailMessage
from handler.outbox import Outbox
mail = EmailMessage()
mail["Message-ID"] = "<BUS-20261120-ABC009.report@formkit.localhost>"
mail.set_content("Rapporten finns bifogad.")
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # dies between write and rename
Outbox(sys.argv[1]).put(mail)
"""


def test_what_a_killed_writer_left_in_tmp_is_removed_once_older_than_the_claim_timeout(tmp_path):
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], cwd=ROOT, timeout=30)
    assert result.returncode == -9
    [leftover] = (tmp_path / "tmp").iterdir()
    outbox = Outbox(tmp_path, claim_timeout=60)

    outbox.run_once(lambda m: pytest.fail("nothing is waiting"))
    assert (tmp_path / "tmp" / leftover.name).exists()  # it might still be written: too young
    os.utime(leftover, (time.time() - 120, time.time() - 120))
    outbox.run_once(lambda m: pytest.fail("nothing is waiting"))

    assert files(outbox, "tmp") == [] and files(outbox, "new") == []


class SmallDisk:
    """A real 1 MiB file system (tmpfs); `fill()` writes it full, as a full disk is, and `free()` empties it."""

    def __init__(self, path):
        self.path, self.filler = path, path / "filler"

    def fill(self) -> None:
        with contextlib.suppress(OSError), open(self.filler, "wb", buffering=0) as handle:
            while True:  # until ENOSPC: full
                handle.write(b"\0" * 4096)

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    # CI and the developers run as root, so a real small file system can be had: a test that cannot
    # mount one fails rather than proving nothing.
    assert mounted.returncode == 0, f"cannot mount a small file system here: {mounted.stderr.decode().strip()}"
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_on_a_full_disk_back_off_goes_on_and_the_problem_is_logged_once_until_it_ends(small_disk, caplog):
    outbox = Outbox(small_disk.path / "outbox", retry_base=10, retry_max=1000)
    name = outbox.put(message())
    port, attempts = free_port(), []

    def closed(raw):
        attempts.append(time.time())
        send(raw, smtp(port))

    small_disk.fill()
    with caplog.at_level(logging.INFO, logger="formkit.outbox"):
        for _ in range(50):  # fifty rounds at once: only the first one finds the message due
            outbox.run_once(closed)
        delays = [round(outbox.next_due() - attempts[-1])]
        for _ in range(3):
            outbox.run_once(closed, now=outbox.next_due())  # as if the wait was over
            delays.append(round(outbox.next_due() - attempts[-1]))
        assert (small_disk.path / "outbox" / "state").exists() and files(outbox, "state") == []  # none saved
        assert files(outbox, "tmp") == []  # and no temporary file left behind
        small_disk.free()
        outbox.run_once(closed, now=outbox.next_due())
        for _ in range(10):
            outbox.run_once(closed)

    assert len(attempts) == 5
    assert delays == [10, 20, 40, 80]  # doubling, as if every state had been saved
    state = json.loads((outbox.root / "state" / f"{name}.json").read_text())
    assert state["attempts"] == 5  # what was kept in memory reached the disk
    disk = [r for r in caplog.records if "could not record" in r.getMessage() or "again" in r.getMessage()]
    assert [(r.levelname, "No space left on device" in r.getMessage()) for r in disk] == [
        ("ERROR", True),
        ("WARNING", False),
    ]
    assert files(outbox, "tmp") == [] and files(outbox, "new") == [name]


def test_a_worker_on_a_full_disk_neither_retries_nor_logs_every_round(small_disk, caplog):
    outbox = Outbox(small_disk.path / "outbox", retry_base=30)
    outbox.put(message(1))
    outbox.put(message(2))
    port, attempts = free_port(), []

    def closed(raw):
        attempts.append(time.time())
        send(raw, smtp(port))

    small_disk.fill()
    stop = threading.Event()
    worker = threading.Thread(target=outbox.run_forever, args=(closed, 0.01, stop))

    with caplog.at_level(logging.INFO, logger="formkit.outbox"):
        worker.start()
        time.sleep(1.0)  # about a hundred rounds
        stop.set()
        worker.join()

    assert len(attempts) == 2  # one each, then they wait their 30 s
    lines = [r.getMessage() for r in caplog.records if r.name == "formkit.outbox"]
    assert sum("could not record" in line for line in lines) == 1
    assert sum("delivery failed" in line for line in lines) == 2  # one attempt each, then they wait
    assert len(lines) == 3
    assert files(outbox, "tmp") == []


def test_a_report_that_cannot_be_queued_on_a_full_disk_leaves_nothing_behind(small_disk):
    outbox = Outbox(small_disk.path / "outbox")
    small_disk.fill()

    with pytest.raises(OSError, match="No space left"):
        outbox.put(message(1))

    assert [files(outbox, folder) for folder in ("tmp", "new", "cur")] == [[], [], []]
    small_disk.free()
    name = outbox.put(message(2))
    assert files(outbox, "new") == [name]


# Delivery out of the request (issue 15): the courier, and waking the worker


class SlowServer(Inbox):
    """Takes two seconds to accept each message, as a mail server under load does."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(2)
        return await super().handle_DATA(server, session, envelope)


def test_the_answer_does_not_wait_for_a_slow_mail_server_and_the_mail_still_goes(tmp_path):
    from handler.app import create_app
    from support import valid_answers

    inbox = SlowServer()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        config = {
            "TESTING": True,
            "SCHEMA_DIR": os.path.join(ROOT, "schema"),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": server.port,
            "SMTP_QUICK_TIMEOUT": 5,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'formkit.db'}",
        }
        client = create_app(config).test_client()
        started = time.monotonic()
        answer = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"})
        answered_in = time.monotonic() - started

        assert answer.status_code == 201
        assert answered_in < 1.5  # the first message alone takes the server two seconds
        received = inbox.wait_for(4, timeout=30)  # one connection, the four messages one after another
    finally:
        server.stop()
    assert all(answer.json["reference"] in m["Subject"] for m in received)


def test_a_worker_in_the_same_process_is_woken_at_once_not_after_its_interval(tmp_path, smtp_server):
    outbox = Outbox(tmp_path)
    stop = threading.Event()
    worker = threading.Thread(target=outbox.run_forever, args=(lambda m: send(m, smtp(smtp_server.port)), 30, stop))
    worker.start()
    try:
        time.sleep(0.3)  # it has looked once and waits up to 30 s
        started = time.monotonic()
        outbox.put(message())
        outbox.wake()
        smtp_server.inbox.wait_for(1, timeout=5)
        woken_in = time.monotonic() - started
    finally:
        stop.set()
        outbox.wake()
        worker.join(10)

    assert woken_in < 2


ENDING = """
import sys
from email.message import EmailMessage
from handler.outbox import Outbox
from handler.outbox.courier import courier_for
from handler.settings import load
mail = EmailMessage()
mail["Message-ID"], mail["To"], mail["Subject"] = "<ending@formkit.localhost>", "rektor@solna.se", "Rapport"
mail.set_content("Rapporten finns bifogad.")
outbox = Outbox(sys.argv[1])
smtp = load({"TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sys.argv[2]}, environ={}).smtp
courier_for(outbox, smtp).hand_off([outbox.put(mail, claim=True)])
"""  # and ends at once: the courier's thread is a daemon, yet the process waits for what it was handed


def test_a_process_that_ends_delivers_what_it_handed_to_its_courier_first_and_says_goodbye(tmp_path):
    inbox = Connections()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        run = subprocess.run([sys.executable, "-c", ENDING, str(tmp_path), str(server.port)], cwd=ROOT, timeout=60)
        delivered = inbox.wait_for(1)
    finally:
        server.stop()

    assert run.returncode == 0
    assert delivered[0]["Message-ID"] == "<ending@formkit.localhost>"
    assert [files(Outbox(tmp_path), folder) for folder in ("new", "cur")] == [[], []]
    assert inbox.goodbyes == 1  # the kept connection is closed with QUIT, not dropped at exit


def test_the_courier_keeps_its_connection_for_the_next_report(tmp_path):
    outbox, courier, inbox, controller = courier_test(tmp_path)
    try:
        courier.hand_off([outbox.put(message(1), claim=True), outbox.put(message(2), claim=True)])
        inbox.wait_for(2)
        time.sleep(0.5)  # the next report comes a moment later, as they do under load
        courier.hand_off([outbox.put(message(3), claim=True)])
        assert courier.flush(10)
        inbox.wait_for(3)
    finally:
        controller.stop()

    assert len(set(inbox.peers)) == 1  # one greeting for the three, not one a report
    assert [files(outbox, folder) for folder in ("new", "cur")] == [[], []]


def test_a_kept_connection_the_server_closed_is_opened_again_and_the_report_goes_at_once(tmp_path):
    outbox, courier, inbox, controller = courier_test(tmp_path, timeout=0.3)  # the server drops idle clients
    try:
        courier.hand_off([outbox.put(message(1), claim=True)])
        inbox.wait_for(1)
        time.sleep(1)  # the server has closed the courier's connection; the courier still keeps it (KEEP_OPEN 2 s)
        courier.hand_off([outbox.put(message(2), claim=True)])
        assert courier.flush(10)
        delivered = inbox.wait_for(2, timeout=2)  # at once, not given back to the worker's retry
    finally:
        controller.stop()

    assert [m["Message-ID"] for m in delivered] == [message(1)["Message-ID"], message(2)["Message-ID"]]
    assert len(set(inbox.peers)) == 2
    assert [files(outbox, folder) for folder in ("new", "cur")] == [[], []]


def big(number: int) -> EmailMessage:
    mail = message(number)
    mail.add_attachment(os.urandom(300_000), maintype="application", subtype="octet-stream", filename="bilaga.bin")
    return mail


def test_a_reports_messages_are_queued_together_or_not_at_all(small_disk):
    outbox = Outbox(small_disk.path / "outbox")  # 1 MB: the first two fit, the third does not

    with pytest.raises(OSError, match="No space left"):
        outbox.put_all([big(1), big(2), big(3)], claim=True)

    assert [files(outbox, folder) for folder in ("tmp", "new", "cur")] == [[], [], []]
    names = outbox.put_all([message(1), message(2)], claim=True)
    assert sorted(f"{name}~{owner()}" for name in names) == files(outbox, "cur")


def test_the_courier_sends_at_a_lower_priority_than_the_requests(tmp_path, smtp_server):
    from handler.outbox.courier import courier_for

    class Watched(Outbox):
        def deliver(self, name, send, held=False):
            self.nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            return super().deliver(name, send, held)

    outbox = Watched(tmp_path)
    courier = courier_for(outbox, smtp(smtp_server.port))
    courier.hand_off([outbox.put(message(), claim=True)])

    assert courier.flush(10)
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == message()["Message-ID"]
    assert outbox.nice >= os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + 5


# ---- a listening worker sends what the handler's processes queue, at once, in its own process ----


@pytest.fixture
def short_dir():
    """A folder whose path is short enough for a socket in it (108 bytes), unlike pytest's tmp_path may be."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="fk-")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def hand(outbox: Outbox, port: int, *numbers: int) -> tuple[str, list[str]]:
    """Queue a report's messages as a request does; return hand_over's answer and what the `done` callback heard."""
    from handler.delivery import hand_over

    heard: list[str] = []
    answer = hand_over([message(n) for n in numbers], outbox=outbox, smtp=smtp(port), label="test", done=heard.append)
    return answer, heard


def worker_process(outbox: Path, port: int) -> subprocess.Popen:
    """`formkit outbox run` on the folder, with a long interval: what it sends at once, it was told of."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FORMKIT_")}
    env |= {
        "FORMKIT_OUTBOX_DIR": str(outbox),
        "FORMKIT_SCHEMA_DIR": os.path.join(ROOT, "schema"),
        "FORMKIT_SMTP_HOST": "127.0.0.1",
        "FORMKIT_SMTP_PORT": str(port),
        "FORMKIT_OUTBOX_INTERVAL": "60",
        "FORMKIT_DATABASE_URL": f"sqlite:///{outbox.parent / 'formkit.db'}",  # no register: no reminders, no digest
    }
    formkit = str(Path(sys.executable).parent / "formkit")
    process = subprocess.Popen([formkit, "outbox", "run"], env=env, cwd=outbox.parent, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if (outbox / "wake.sock").exists():
            time.sleep(0.5)  # it has made its first round, and waits
            return process
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the worker did not listen")


def test_a_listening_worker_sends_what_a_process_queued_at_once_and_over_one_connection(short_dir):
    inbox = Connections()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    worker = worker_process(short_dir / "outbox", server.port)
    try:
        handler = Outbox(short_dir / "outbox")  # the handler's process: it sees the worker's socket
        started = time.monotonic()
        first = hand(handler, server.port, 1, 2)
        inbox.wait_for(2, timeout=10)
        sent_in = time.monotonic() - started
        time.sleep(0.3)  # the next report comes a moment later
        second = hand(handler, server.port, 3)
        delivered = inbox.wait_for(3, timeout=10)
        for _ in range(100):  # the server has it; the worker removes it from cur/ a moment later
            if not files(handler, "cur"):
                break
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(20)
        server.stop()

    assert first == second == ("worker", ["worker"])
    assert sent_in < 5  # at once, not at the worker's 60 s interval
    assert handler.courier is None  # the handler's process sent nothing itself
    assert sorted(m["Message-ID"] for m in delivered) == sorted(message(n)["Message-ID"] for n in (1, 2, 3))
    assert len(set(inbox.peers)) == 1  # the worker kept its connection for the next report
    assert [files(handler, folder) for folder in ("new", "cur")] == [[], []]


def test_with_the_socket_of_a_worker_that_died_the_process_sends_its_report_itself(short_dir, smtp_server):
    import socket

    outbox = Outbox(short_dir)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(short_dir / "wake.sock"))
    dead.close()  # its file stays, and nobody reads it

    answer, heard = hand(outbox, smtp_server.port, 1, 2)
    assert outbox.courier.flush(10)

    assert answer == "handed" and heard == ["sent"]
    assert len(smtp_server.inbox.wait_for(2)) == 2
    assert [files(outbox, folder) for folder in ("new", "cur")] == [[], []]


def test_a_worker_that_is_behind_leaves_the_report_to_the_process_that_queued_it(short_dir, smtp_server):
    import socket

    behind = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # a worker that listens but does not read
    behind.bind(str(short_dir / "wake.sock"))
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        for _ in range(10_000):  # its queue fills (net.unix.max_dgram_qlen)
            filler.sendto(b"", str(short_dir / "wake.sock"))
    outbox = Outbox(short_dir)
    try:
        answer, heard = hand(outbox, smtp_server.port, 1)
        assert outbox.courier.flush(10)
    finally:
        behind.close()
        filler.close()

    assert answer == "handed" and heard == ["sent"]
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == message(1)["Message-ID"]
    assert [files(outbox, folder) for folder in ("new", "cur")] == [[], []]


def test_only_one_worker_listens_and_a_notice_names_only_messages_in_new(short_dir, smtp_server):
    first, second = Outbox(short_dir), Outbox(short_dir)
    assert first.listen() and not second.listen()  # the second delivers at its interval
    stop = threading.Event()
    worker = threading.Thread(target=first.run_forever, args=(lambda m: send(m, smtp(smtp_server.port)), 60, stop))
    worker.start()
    outside = short_dir / "outside.eml"
    outside.write_bytes(bytes(message(9)))
    try:
        time.sleep(0.3)  # it has made its first round and waits up to 60 s
        assert second.notify(["../outside.eml", "1.x/../../outside.eml", "not a name"])
        name = second.put(message(1))
        assert second.notify([name])
        delivered = smtp_server.inbox.wait_for(1, timeout=5)
        time.sleep(0.3)
    finally:
        stop.set()
        first.wake()
        worker.join(10)

    assert [m["Message-ID"] for m in delivered] == [message(1)["Message-ID"]]
    assert outside.exists() and not worker.is_alive()


class Stalling(Inbox):
    """Holds the first message's DATA until `release` is set: its sender is caught mid-delivery."""

    def __init__(self):
        super().__init__()
        self.caught = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.caught.is_set():
            self.caught.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"  # the killed sender's message is not taken
        return await super().handle_DATA(server, session, envelope)


def test_a_worker_killed_while_it_sends_what_it_was_told_of_loses_nothing_after_a_restart(short_dir):
    inbox = Stalling()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    handler = Outbox(short_dir / "outbox")
    try:
        worker = worker_process(short_dir / "outbox", server.port)
        assert hand(handler, server.port, 1, 2)[0] == "worker"
        assert inbox.caught.wait(10)  # the worker is sending the first message
        worker.kill()
        worker.wait(10)
        inbox.release.set()
        assert files(handler, "cur") and (short_dir / "outbox" / "wake.sock").exists()  # its claim, its socket
        assert hand(handler, server.port, 3)[0] == "handed"  # nobody listens: this process sends it itself
        worker = worker_process(short_dir / "outbox", server.port)  # the new worker releases the dead one's claim
        wanted = {message(n)["Message-ID"] for n in (1, 2, 3)}
        eventually(lambda: wanted <= {m["Message-ID"] for m in inbox.messages}, timeout=20)
        eventually(lambda: not files(handler, "new") and not files(handler, "cur"))
    finally:
        worker.terminate()
        worker.wait(20)
        server.stop()
