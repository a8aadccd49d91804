"""Fault tests: the handler as a real process (`formkit serve`), a real SMTP server on loopback that
misbehaves, SIGKILL, and an outbox that cannot be written. Nothing acknowledged may be lost."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from support import Inbox, free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
FORMKIT = Path(sys.executable).parent / "formkit"
QUICK_TIMEOUT = 0.5


class Handler:
    """`formkit serve --no-build` in its own process, with short retry settings; stderr goes to a file."""

    def __init__(self, tmp_path: Path, smtp_port: int, outbox: Path | str, **settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"handler-{self.port}.log"
        env = {
            **os.environ,
            "FORMKIT_SCHEMA_DIR": str(ROOT / "schema"),
            "FORMKIT_PUBLIC_DIR": str(tmp_path / "no-site"),
            "FORMKIT_OUTBOX_DIR": str(outbox),
            "FORMKIT_SMTP_HOST": "127.0.0.1",
            "FORMKIT_SMTP_PORT": str(smtp_port),
            "FORMKIT_SMTP_TIMEOUT": "1",
            "FORMKIT_SMTP_QUICK_TIMEOUT": str(QUICK_TIMEOUT),
            "FORMKIT_OUTBOX_RETRY_BASE": "0.2",
            "FORMKIT_OUTBOX_RETRY_MAX": "0.5",
            "FORMKIT_OUTBOX_INTERVAL": "0.5",
            "FORMKIT_RATELIMIT": "",
            **{f"FORMKIT_{key}": str(value) for key, value in settings.pop("env", {}).items()},
        }
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(FORMKIT), "serve", "--no-build", "--port", str(self.port)],
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                **settings,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.logs()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"handler did not start:\n{self.logs()}")

    def submit(self, answers: dict | None = None) -> tuple[int, dict, dict]:
        """Post a report as formkit.js does; return status, headers and the JSON answer."""
        body = urllib.parse.urlencode(answers or valid_answers()).encode()
        request = urllib.request.Request(
            f"{self.url}/api/forms/bus-avvikelse",
            data=body,
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, dict(response.headers), json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.load(error)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def handlers():
    """Start handlers with `handlers.start(...)`; all are stopped at the end."""
    started: list[Handler] = []

    class Starter:
        def start(self, *args, **kwargs) -> Handler:
            started.append(Handler(*args, **kwargs))
            return started[-1]

    yield Starter()
    for handler in started:
        handler.stop()


class MidDataDropper(SMTP):
    """The SMTP protocol, except that it hangs up in the middle of the message data while the
    handler's `drops_left` lasts."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        if getattr(handler, "drops_left", 0) > 0 and self.envelope and self.envelope.rcpt_tos and not arg:
            handler.drops_left -= 1
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n\r\n")  # the headers have arrived, the body has not
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class DroppingController(Controller):
    def factory(self):
        return MidDataDropper(self.handler, **self.SMTP_kwargs)


class Smtp:
    """A real SMTP server on loopback (aiosmtpd) whose handler decides each answer."""

    def __init__(self, handler, port: int | None = None):
        self.handler = handler
        self.controller = DroppingController(handler, hostname="127.0.0.1", port=port or free_port())
        self.port = self.controller.port

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class Misbehaving(Inbox):
    """Answers each message according to a script: per Message-ID, the n-th attempt gets behaviour[n]."""

    def __init__(self, behaviour: list[str]):
        super().__init__()
        self.behaviour = behaviour
        self.attempts: Counter = Counter()
        self.blocking = threading.Event()
        self.release = threading.Event()
        self.drops_left = behaviour.count("mid-data")  # see MidDataDropper

    async def handle_DATA(self, server, session, envelope):
        message_id = _message_id(envelope.content)
        if is_digest(message_id):  # the worker's weekly digest, queued at start: the script is for the reports
            return await super().handle_DATA(server, session, envelope)
        attempt = self.attempts[message_id]
        self.attempts[message_id] += 1
        actions = [action for action in self.behaviour if action != "mid-data"]
        action = actions[attempt] if attempt < len(actions) else "accept"
        if action == "4xx":
            return "451 4.3.0 Temporary failure, try again later"
        if action == "5xx":
            return "554 5.3.0 Transaction failed"
        if action == "slow":  # answer long after the sender's timeout
            await asyncio.sleep(QUICK_TIMEOUT * 4)
        if action == "block":  # hold the delivery until the test releases it; the sender is gone by then
            self.blocking.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Sender went away"
        return await super().handle_DATA(server, session, envelope)

    def delivered_ids(self) -> Counter:
        """The delivered submissions' Message-IDs, counted; the weekly digest (see is_digest) left out."""
        return Counter(message["Message-ID"] for message in self.messages if not is_digest(message["Message-ID"]))


def _message_id(content: bytes) -> str:
    for line in content.splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


# Each receiving unit's report (valid_answers names two units), the copy for information and the receipt.
KINDS = ("report.0", "report.1", "copy", "receipt")


def expected_ids(references: list[str]) -> set[str]:
    return {f"<{reference}.{kind}@formkit.localhost>" for reference in references for kind in KINDS}


def is_digest(message_id: str) -> bool:
    """The weekly digest `formkit serve`'s worker sends the secretariat once a week, a fresh register at once."""
    return message_id.startswith("<bus-avvikelse.digest.")


def queued_for(outbox: Path, references: list[str]) -> list[Path]:
    """The .eml files waiting in outbox/new, each named after its Message-ID; only the digest may be there besides."""
    files = list((outbox / "new").glob("*.eml"))
    ours = [path for path in files if any(f".{reference}." in path.name for reference in references)]
    assert all(".bus-avvikelse.digest." in path.name for path in files if path not in ours), files
    return ours


def wait_until(condition, timeout: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def outbox_is_empty(outbox: Path) -> bool:
    return not any(any((outbox / folder).iterdir()) for folder in ("new", "cur", "failed", "tmp"))


def test_reports_acknowledged_while_the_mail_server_is_down_are_delivered_once_it_is_up(tmp_path, handlers):
    smtp_port = free_port()  # nobody listens here yet
    outbox = tmp_path / "outbox"
    handler = handlers.start(tmp_path, smtp_port, outbox)
    distinctive = "Zebrafink-Qx7 i korridoren"

    answers = [handler.submit(valid_answers() | {"beskrivning.handelsen": distinctive}) for _ in range(3)]

    assert [status for status, _, _ in answers] == [201, 201, 201]
    references = [body["reference"] for _, _, body in answers]
    wait_until(lambda: len(queued_for(outbox, references)) >= 12, what="the first attempts, after the answers")
    assert len(queued_for(outbox, references)) == 12  # four messages each
    time.sleep(1)  # the worker keeps trying, with back-off, while the server is down
    inbox = Misbehaving([])
    with Smtp(inbox, port=smtp_port):
        inbox.wait_for(12)
        wait_until(lambda: outbox_is_empty(outbox), what="the outbox to empty")
    assert set(inbox.delivered_ids()) == expected_ids(references)
    logs = handler.logs()
    assert "delivery failed" in logs and "ConnectionRefusedError" in logs
    assert distinctive not in logs


@pytest.mark.parametrize(
    "behaviour",
    [["4xx", "5xx"], ["mid-data", "mid-data"], ["slow"]],
    ids=["answers-4xx-then-5xx-then-accepts", "closes-the-connection-mid-data", "slower-than-the-timeout"],
)
def test_a_misbehaving_mail_server_gets_every_acknowledged_report_in_the_end(tmp_path, handlers, behaviour):
    inbox = Misbehaving(behaviour)
    outbox = tmp_path / "outbox"
    with Smtp(inbox) as smtp:
        handler = handlers.start(tmp_path, smtp.port, outbox)
        started = time.monotonic()
        answers = [handler.submit() for _ in range(2)]
        answered_in = time.monotonic() - started

        assert [status for status, _, _ in answers] == [201, 201]
        references = [body["reference"] for _, _, body in answers]
        inbox.wait_for(8, timeout=20)
        wait_until(lambda: outbox_is_empty(outbox), what="the outbox to empty")

    delivered = inbox.delivered_ids()
    assert set(delivered) == expected_ids(references)  # all of them, recognisable by Message-ID
    # Each report waited for at most one quick attempt before its answer.
    assert answered_in < 2 * (QUICK_TIMEOUT + 1.5)
    if behaviour == ["4xx", "5xx"]:
        assert all(inbox.attempts[message_id] == 3 for message_id in delivered)
        assert "451" in handler.logs() and "554" in handler.logs()
    if "mid-data" in behaviour:
        assert inbox.drops_left == 0 and "SMTPServerDisconnected" in handler.logs()


def test_a_handler_killed_during_delivery_loses_nothing_after_a_restart(tmp_path, handlers):
    # First attempt: 451 (so the reports are acknowledged and left to the worker); the worker's
    # second attempt hangs until the handler has been killed; after that the server accepts.
    inbox = Misbehaving(["4xx", "block"])
    outbox = tmp_path / "outbox"
    with Smtp(inbox) as smtp:
        handler = handlers.start(tmp_path, smtp.port, outbox)
        answers = [handler.submit() for _ in range(2)]
        assert [status for status, _, _ in answers] == [201, 201]
        references = [body["reference"] for _, _, body in answers]

        assert inbox.blocking.wait(10), handler.logs()
        handler.kill()
        assert list((outbox / "cur").iterdir()), "the handler died holding a claim"
        inbox.release.set()
        handlers.start(tmp_path, smtp.port, outbox)

        inbox.wait_for(8, timeout=20)
        wait_until(lambda: outbox_is_empty(outbox), what="the outbox to empty")

    assert set(inbox.delivered_ids()) == expected_ids(references)


def test_a_handler_killed_while_its_first_attempt_hangs_still_delivers_what_it_had_queued(tmp_path, handlers):
    inbox = Misbehaving(["block"])  # the first attempt, in the background after the answer, hangs
    outbox = tmp_path / "outbox"
    with Smtp(inbox) as smtp:
        slow = {"SMTP_TIMEOUT": 10, "SMTP_QUICK_TIMEOUT": 10}  # so the kill surely comes first
        handler = handlers.start(tmp_path, smtp.port, outbox, env=slow)
        answer = []
        sender = threading.Thread(target=lambda: answer.append(_submit_or_error(handler)))
        sender.start()
        assert inbox.blocking.wait(10), handler.logs()
        handler.kill()
        sender.join(10)
        inbox.release.set()
        handlers.start(tmp_path, smtp.port, outbox)

        inbox.wait_for(4, timeout=20)
        wait_until(lambda: outbox_is_empty(outbox), what="the outbox to empty")

    assert answer == ["201"]  # the answer never waits for the mail server, and nothing acknowledged is lost
    [reference] = {message["X-Formkit-Reference"] for message in inbox.messages if not is_digest(message["Message-ID"])}
    assert set(inbox.delivered_ids()) == expected_ids([reference])


def _submit_or_error(handler: Handler) -> str:
    try:
        return str(handler.submit()[0])
    except (OSError, http.client.HTTPException):
        return "no answer"


@pytest.mark.parametrize(
    ("kind", "why"),
    [("not-a-directory", "Not a directory"), ("disk-full", "File too large")],
)
def test_an_outbox_that_cannot_be_written_gives_503_not_201_and_the_log_says_why(tmp_path, handlers, kind, why):
    inbox = Misbehaving([])
    outbox = tmp_path / "outbox"
    settings = {}
    if kind == "not-a-directory":
        (tmp_path / "a-file").write_text("")
        outbox = tmp_path / "a-file" / "outbox"  # mkdir fails whoever you are, root included
    with Smtp(inbox) as smtp:
        handler = handlers.start(tmp_path, smtp.port, outbox, **settings)
        if kind == "disk-full":  # a full disk for this process only, once it has started (its register is open)
            resource.prlimit(handler.process.pid, resource.RLIMIT_FSIZE, (4096, 4096))

        status, headers, body = handler.submit()
        time.sleep(0.3)

    assert status == 503
    assert int(headers["Retry-After"]) > 0
    assert body["status"] == 503 and body["detail"]
    assert "outcome=unavailable outbox not writable" in handler.logs()
    assert why in handler.logs()
    # a report the user was told failed is not sent either (the weekly digest queued at start may be)
    assert [m for m in inbox.messages if ".digest." not in m["Message-ID"]] == []
    if kind == "disk-full":
        assert [list((outbox / folder).iterdir()) for folder in ("tmp", "new")] == [[], []]


@pytest.fixture
def refusing_smtp():
    """A real SMTP server that answers every message with 451 until `.inbox.behaviour` is cleared."""
    inbox = Misbehaving(["4xx"] * 1000)
    with Smtp(inbox) as smtp:
        smtp.inbox = inbox
        yield smtp


@pytest.fixture
def serverless(config, refusing_smtp):
    """The app in serverless mode (FORMKIT_OUTBOX_DIR empty) in front of the refusing server."""
    from handler.app import create_app

    return create_app({**config, "OUTBOX_DIR": "", "SMTP_PORT": refusing_smtp.port})


def test_serverless_answers_503_with_retry_after_when_the_mail_server_refuses(serverless, refusing_smtp, caplog):
    response = serverless.test_client().post(
        "/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"}
    )

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert "Försök igen" in response.json["detail"]
    assert refusing_smtp.inbox.messages == []
    assert "outcome=unavailable error=SMTPDataError: 451" in caplog.text


def test_serverless_without_javascript_shows_the_form_again_with_everything_typed(serverless):
    answers = valid_answers() | {"beskrivning.forslag_atgard": "Ett möte <i> augusti & sedan"}

    response = serverless.test_client().post("/api/forms/bus-avvikelse", data=answers)

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    page = response.text
    assert "formuläret är inte skickat" in page and "Det du har skrivit finns kvar" in page
    assert '<form class="formkit-form" method="post" action="/api/forms/bus-avvikelse"' in page
    for value in ("Anna Andersson", "rektor@solna.se", "chef.bup@regionstockholm.se", "08-746 10 01"):
        assert f'value="{value}"' in page
    assert "Ett möte &lt;i&gt; augusti &amp; sedan</textarea>" in page
    assert "Skicka BUS-avvikelsen" in page  # the way to try again


def test_serverless_delivers_before_answering_when_the_mail_server_accepts(serverless, refusing_smtp):
    refusing_smtp.inbox.behaviour = []

    response = serverless.test_client().post(
        "/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"}
    )

    assert response.status_code == 201
    assert len(refusing_smtp.inbox.messages) == 4  # each unit's report, the copy, the receipt: nothing waits


def test_serverless_acknowledges_a_report_that_went_out_even_if_its_receipt_did_not(serverless, refusing_smtp):
    refusing_smtp.inbox.behaviour = []
    original = refusing_smtp.inbox.handle_DATA

    async def refuse_receipts(server, session, envelope):
        if b".receipt@" in envelope.content:
            return "554 5.7.1 Receipts refused"
        return await original(server, session, envelope)

    refusing_smtp.inbox.handle_DATA = refuse_receipts

    response = serverless.test_client().post(
        "/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"}
    )

    # Answering 503 would make the user send the report to the managers a second time.
    assert response.status_code == 201
    report, other_unit, copy = refusing_smtp.inbox.messages  # all but the receipt
    assert ".report.0@" in report["Message-ID"] and ".report.1@" in other_unit["Message-ID"]
    assert ".copy@" in copy["Message-ID"]
