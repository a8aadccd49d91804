"""Hostile requests against the real handler (issue 10): servers in their own processes and the catalogue of bad bodies.

The handler runs exactly as operators run it, under gunicorn (`create_app()` in production mode) or under
`formkit serve`, with its stderr in a file so a test can look for tracebacks, and a real SMTP server
(aiosmtpd) on loopback that keeps what it receives. Requests go over real sockets with timeouts: http.client
where the request is well formed, a raw socket where it is not (bad chunking, CR LF in a header).

Used by tests/test_hostile.py, tests/test_fuzz.py and bench/slowest.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller

from support import free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FORM_ID = "bus-avvikelse"
ENDPOINT = f"/api/forms/{FORM_ID}"
BODY_LIMIT = 256 * 1024  # FORMKIT_MAX_CONTENT_LENGTH's default
TARGET = 0.2  # seconds: issue 10's target for any request up to the body limit
SECRET_KEY = "hostile-tests-only-0123456789abcdefghijklmnopqrs"  # 48 characters, not JSON-looking
REFERENCE = re.compile(rb"\bBUS-\d{8}-[2-9A-Z]{4,12}\b")
JSON = "application/json"
QUIET = 0.25  # seconds without a new message after which the mailbox counts as settled
FORM = "application/x-www-form-urlencoded"
# What must never appear in a server's log: a traceback, or gunicorn killing a worker that took too long.
LOG_ALARMS = ("Traceback", "WORKER TIMEOUT", "Worker exiting", "Exception in worker")
assert len(SECRET_KEY) == 48


# --- answers -------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What came back: status (0 when the server closed without answering, None on timeout)."""

    status: int | None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0

    @property
    def timed_out(self) -> bool:
        return self.status is None

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    @property
    def reference(self) -> str:
        """The reference of an accepted submission (from Location, which both 201 and 303 carry)."""
        match = REFERENCE.search(self.header("Location").encode())
        return match.group().decode() if match else ""

    def __str__(self) -> str:
        status = "no answer (timeout)" if self.timed_out else self.status or "connection closed"
        return f"{status} after {self.seconds:.2f} s, {len(self.body)} bytes: {self.body[:300]!r}"


def _read_answer(response: http.client.HTTPResponse, started: float) -> Answer:
    body = response.read()
    return Answer(response.status, dict(response.getheaders()), body, time.monotonic() - started)


# --- the SMTP server -----------------------------------------------------------------------------------


class RawInbox:
    """An aiosmtpd handler that keeps each message's bytes unparsed (parsing thousands would slow the fuzz)."""

    def __init__(self):
        self.raw: list[bytes] = []
        self.arrived = threading.Condition()
        self.last = 0.0  # time.monotonic() of the latest message

    async def handle_DATA(self, server, session, envelope):
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        if b".digest." in head:  # the weekly digest: the worker sends it whatever the requests are
            return "250 OK"
        with self.arrived:
            self.last = time.monotonic()
            self.raw.append(envelope.content)
            self.arrived.notify_all()
        return "250 OK"


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps and counts what it receives."""

    def __init__(self):
        self.inbox = RawInbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def count(self) -> int:
        """Return how many arrived, once none has for QUIET seconds: an accepted report's messages go out after
        its answer, so a count taken right after one would otherwise still grow."""
        while (wait := self.inbox.last + QUIET - time.monotonic()) > 0:
            time.sleep(wait)
        with self.inbox.arrived:
            return len(self.inbox.raw)

    def wait_for(self, count: int, timeout: float = 10) -> int:
        """Wait until at least `count` messages arrived in all (or the timeout); return how many did."""
        with self.inbox.arrived:
            self.inbox.arrived.wait_for(lambda: len(self.inbox.raw) >= count, timeout)
            return len(self.inbox.raw)

    def references(self, since: int = 0) -> list[str]:
        """Return, per message from index `since` on, the first report reference it names ("" if none)."""
        with self.inbox.arrived:
            raw = list(self.inbox.raw[since:])
        return [(m.group().decode() if (m := REFERENCE.search(r)) else "") for r in raw]


# --- the handler as a process --------------------------------------------------------------------------


def handler_env(workdir: Path, smtp_port: int, **settings: str) -> dict[str, str]:
    """The environment of a handler process: no FORMKIT_* from outside, temporary folders, loopback SMTP."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMKIT_")}
    env.update(
        NO_MKDOCS_2_WARNING="1",
        PYTHONUNBUFFERED="1",
        FORMKIT_SECRET_KEY=SECRET_KEY,
        FORMKIT_SCHEMA_DIR=str(ROOT / "schema"),
        FORMKIT_OUTBOX_DIR=str(workdir / "outbox"),
        FORMKIT_MAIL_DIR=str(workdir / "mail"),
        FORMKIT_SMTP_HOST="127.0.0.1",
        FORMKIT_SMTP_PORT=str(smtp_port),
        FORMKIT_RATELIMIT="",  # the fuzz must not be rate limited; test_limits covers the limits
        FORMKIT_RECIPIENT_RATELIMIT="",  # likewise for the per-recipient limit (empty turns it off)
    )
    env.update({f"FORMKIT_{k}": str(v) for k, v in settings.items()})
    return env


class Server:
    """One handler process on a loopback port; stderr and stdout go to `log_path`.

    A request that times out leaves the process busy, so the server is marked `dirty`; `ensure_fresh()`
    then kills it and starts it again, so one slow case does not slow down the next.
    """

    def __init__(self, name: str, command: list[str], env: dict, cwd: Path, port: int, log_path: Path):
        self.name, self.command, self.env, self.cwd, self.port = name, command, env, cwd, port
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.dirty = False
        self.starts = 0

    # life cycle

    def start(self, timeout: float = 60) -> None:
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts}: {' '.join(self.command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: gunicorn's workers stop with it
            )
        self.dirty = False
        deadline = time.monotonic() + timeout
        answered = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_text()[-4000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                # The port is open once gunicorn's arbiter binds; an HTTP answer means a worker is up.
                if self._probe():
                    answered += 1
                    if answered >= 4:  # a few answers: with two workers both have most likely booted
                        return
                    continue
            except OSError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log_text()[-4000:]}")

    def _probe(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", ENDPOINT)
            connection.getresponse().read()
            return True
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def stop(self, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid  # start_new_session: the group id is the process id
        try:
            os.killpg(group, signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        try:  # workers left behind by a killed arbiter
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def restart(self) -> None:
        self.stop(kill=True)
        self.start()

    def ensure_fresh(self) -> None:
        """Restart the server when an earlier request left it busy or it died."""
        if self.dirty or self.process is None or self.process.poll() is not None:
            self.restart()

    # the log

    def log_mark(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, since: int = 0) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", "replace")

    def alarms(self, since: int = 0) -> list[str]:
        """Return the log lines from `since` on that show a traceback or a killed worker."""
        return [line for line in self.log_text(since).splitlines() if any(a in line for a in LOG_ALARMS)]

    # requests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str = ENDPOINT,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float = 10,
    ) -> Answer:
        """Send one request on a new connection; a timeout gives Answer(status=None) and marks the server dirty."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            return _read_answer(connection.getresponse(), started)
        except TimeoutError:
            self.dirty = True
            return Answer(None, seconds=time.monotonic() - started)
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
            return Answer(0, seconds=time.monotonic() - started)
        finally:
            connection.close()

    def post(
        self, body: bytes, content_type: str | None = JSON, accept: str | None = None, timeout: float = 10, **headers
    ) -> Answer:
        sent = dict(headers)
        if content_type is not None:
            sent["Content-Type"] = content_type
        if accept is not None:
            sent["Accept"] = accept
        return self.request("POST", ENDPOINT, body, sent, timeout)

    def raw(self, data: bytes, timeout: float = 10, method: str = "POST", half_close: bool = False) -> Answer:
        """Send bytes as they are (a whole request, framing included); read one answer."""
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
                sock.sendall(data)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
                response = http.client.HTTPResponse(sock, method=method)
                response.begin()
                return _read_answer(response, started)
        except TimeoutError:
            self.dirty = True
            return Answer(None, seconds=time.monotonic() - started)
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, http.client.IncompleteRead):
            return Answer(0, seconds=time.monotonic() - started)

    def send_case(self, case: Case, timeout: float = 10) -> Answer:
        if case.raw is not None:
            return self.raw(case.raw, timeout=timeout, method=case.method)
        return self.request(case.method, case.path, case.body, case.headers, timeout)


def raw_request(
    method: str,
    path: str,
    headers: list[tuple[str, str]] | list[tuple[bytes, bytes]],
    body: bytes = b"",
    content_length: bool = True,
) -> bytes:
    """Compose a request's bytes by hand (nothing checked: header values may hold CR LF)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for name, value in headers:
        name = name.encode("latin-1") if isinstance(name, str) else name
        value = value.encode("latin-1") if isinstance(value, str) else value
        lines.append(name + b": " + value)
    if content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@contextmanager
def gunicorn_server(workdir: Path, mailbox: Mailbox, workers: int = 2, **settings: str) -> Iterator[Server]:
    """The handler as production runs it: `gunicorn -w N 'handler.app:create_app()'`."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "handler.app:create_app()"]
    env = handler_env(workdir, mailbox.port, **settings)
    # Production does not migrate by itself: the operator runs `formkit db upgrade` first, as here.
    subprocess.run([str(BIN / "formkit"), "db", "upgrade"], cwd=workdir, env=env, check=True, capture_output=True)
    server = Server("gunicorn", command, env, workdir, port, workdir / "gunicorn.log")  # var/ lands in workdir
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve_server(workdir: Path, mailbox: Mailbox, public: Path, **settings: str) -> Iterator[Server]:
    """The handler as `make serve` runs it: `formkit serve --no-build --no-watch` on a site built once."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(BIN / "formkit"), "serve", "--no-build", "--no-watch", "--host", "127.0.0.1", "--port", str(port)]
    env = handler_env(workdir, mailbox.port, PUBLIC_DIR=str(public), **settings)
    server = Server("serve", command, env, workdir, port, workdir / "serve.log")  # var/ lands in workdir
    server.start()
    try:
        yield server
    finally:
        server.stop()


def build_public(target: Path) -> Path:
    """Build the real site once into `target` (what `formkit serve --no-build` serves)."""
    from handler.cli import build_site

    build_site(str(ROOT / "mkdocs.yml"), site_dir=str(target))
    return target


@contextmanager
def running(kind: str, workdir: Path, mailbox: Mailbox, public: Path | None = None, **settings) -> Iterator[Server]:
    if kind == "gunicorn":
        with gunicorn_server(workdir, mailbox, **settings) as server:
            yield server
    else:
        assert public is not None, "formkit serve needs a built site"
        with serve_server(workdir, mailbox, public, **settings) as server:
            yield server


# --- bodies --------------------------------------------------------------------------------------------


def nest(answers: dict) -> dict:
    """Turn form-encoded names (`verksamheter.0.enhet`) into the JSON object formkit.js would send."""
    data: dict = {}
    for name, value in answers.items():
        *parents, last = name.split(".")
        node = data
        for part, following in zip(parents, parents[1:] + [last]):
            node = _slot(node, part, [] if following.isdigit() else {})
        _slot(node, last, value, replace=True)
    return data


def _slot(node, part: str, default, replace: bool = False):
    """Return node[part] (a list index when node is a list), set to `default` when missing or `replace`."""
    if isinstance(node, list):
        index = int(part)
        node.extend([None] * (index + 1 - len(node)))
        if replace or node[index] is None:
            node[index] = default
        return node[index]
    if replace or part not in node:
        node[part] = default
    return node[part]


def json_body(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def form_body(answers: dict) -> bytes:
    return urllib.parse.urlencode(answers).encode()


def valid_json() -> bytes:
    return json_body(nest(valid_answers()))


def valid_form() -> bytes:
    return form_body(valid_answers())


FILLER = "Åsa och Örjan väntade länge på svar från mottagningen, och ärendet blev liggande i flera veckor. "


def filler(length: int) -> str:
    text = (FILLER * (length // len(FILLER) + 1))[:length]
    return text[:-1] + "." if text.endswith(" ") else text


def largest_valid_answers() -> dict:
    """A valid report as large as the form allows: every text at its maxLength, the most rows (10)."""
    from handler.forms import load_forms

    form = load_forms(ROOT / "schema")[FORM_ID]
    answers = valid_answers()
    rows = {k: v for k, v in answers.items() if k.startswith("verksamheter.0.")}
    most = next(n for n in form.root.walk() if n.path == ("verksamheter",)).schema.get("maxItems", 10)
    for index in range(most):
        for name, value in rows.items():
            answers[name.replace(".0.", f".{index}.")] = value
        answers[f"verksamheter.{index}.chef_epost"] = f"chef{chr(97 + index)}@solna.se"
    for node in form.root.walk():
        limit = node.schema.get("maxLength")
        if node.kind in ("text", "textarea") and limit and "pattern" not in node.schema:
            for name in [n for n in answers if _matches(n, node.path)]:
                answers[name] = filler(limit)
    return answers


def _matches(name: str, pattern: tuple[str, ...]) -> bool:
    parts = name.split(".")
    return len(parts) == len(pattern) and all(p == q or (q == "*" and p.isdigit()) for p, q in zip(parts, pattern))


def nfc_bomb() -> str:
    """Alternating combining marks: quadratic for Unicode NFC (about 253 KiB in UTF-8)."""
    return "a" + "\u0301\u0316" * 65000


def nested(depth: int, shape: str = "array"):
    """A JSON text nested `depth` levels deep, as a string (json.dumps itself would recurse too deep)."""
    if shape == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def duplicate_key_body(keys: int = 20_000) -> bytes:
    """An object of `keys` keys whose last key comes twice: quadratic if each key is counted in a list."""
    members = ",".join(f'"k{i}":0' for i in range(keys))
    return ("{" + members + f',"k{keys - 1}":1}}').encode()


def long_array_body(items: int = 131_000) -> bytes:
    """A list field with `items` items (about 256 KiB): every item wrong, far beyond maxItems."""
    return ('{"verksamheter":[' + ",".join(["1"] * items) + "]}").encode()


def chunked_request(chunks: bytes, content_type: str = JSON) -> bytes:
    """A POST with Transfer-Encoding: chunked and the chunked body exactly as given."""
    return raw_request(
        "POST",
        ENDPOINT,
        [("Content-Type", content_type), ("Transfer-Encoding", "chunked")],
        chunks,
        content_length=False,
    )


# --- the catalogue -------------------------------------------------------------------------------------


@dataclass
class Case:
    """One hostile (or valid) request, with what it must get."""

    name: str
    body: bytes = b""
    content_type: str | None = JSON
    accept: str | None = None
    method: str = "POST"
    path: str = ENDPOINT
    raw: bytes | None = None  # when set, sent as is over a socket
    accepted: bool = False  # a valid report: 201/303; otherwise a refusal: 4xx and no mail
    extra_headers: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        headers = dict(self.extra_headers)
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        if self.accept is not None:
            headers["Accept"] = self.accept
        return headers

    @property
    def size(self) -> int:
        return len(self.raw if self.raw is not None else self.body)


def catalogue() -> dict[str, Case]:
    """Every single request of issue 10's "What was found", plus the largest valid report, by name."""
    bomb = nfc_bomb()
    bomb_form = b"handelsetyp=" + bomb.encode()  # raw UTF-8 in the value: parse_qsl keeps it, 260 KB
    cases = [
        Case("nfc-bomb-json", json_body({"handelsetyp": bomb})),
        Case("nfc-bomb-form", bomb_form, FORM, JSON),
        Case("nfc-bomb-form-html", bomb_form, FORM, "text/html"),
        Case("row-index-superscript-two", b"verksamheter.%C2%B2.enhet=x", FORM, JSON),
        Case("row-index-superscript-two-html", b"verksamheter.%C2%B2.enhet=x", FORM, "text/html"),
        Case("row-index-5000-digits", b"verksamheter." + b"7" * 5000 + b".enhet=x", FORM, JSON),
        Case("row-index-5000-digits-html", b"verksamheter." + b"7" * 5000 + b".enhet=x", FORM, "text/html"),
        Case("row-index-star", b"verksamheter.%2A.enhet=x", FORM, JSON),  # found by the fuzz: "*" is no row
        Case("row-index-star-html", b"verksamheter.*.enhet=x", FORM, "text/html"),
        Case("lone-surrogate-key", b'{"\\ud800": 1}'),
        Case("lone-surrogate-value", b'{"handelsetyp": "\\ud800"}'),
        *(
            Case(f"nested-{shape}-{depth}", ('{"handelsetyp":' + nested(depth, shape) + "}").encode())
            for depth in (600, 900, 5000)
            for shape in ("array", "object")
        ),
        Case("nested-top-level-900", ('{"a":' * 900 + "1" + "}" * 900).encode()),
        Case("chunked-bad-size", raw=chunked_request(b"zz\r\n{}\r\n0\r\n\r\n")),
        Case("chunked-missing-terminator", raw=chunked_request(b"2\r\n{}0\r\n\r\n")),  # found by the fuzz
        Case("duplicate-key-after-20000", duplicate_key_body()),
        Case("array-131000-items", long_array_body()),
        Case("largest-valid-json", json_body(nest(largest_valid_answers())), accepted=True),
        Case("largest-valid-form", form_body(largest_valid_answers()), FORM, JSON, accepted=True),
    ]
    for case in cases:
        assert case.size <= BODY_LIMIT or case.raw is not None, (case.name, case.size)
    return {case.name: case for case in cases}


def problem_errors(answer: Answer) -> list[dict]:
    """The `errors` of a problem+json answer ([] when there are none or it is not JSON)."""
    try:
        body = answer.json()
    except ValueError:
        return []
    return body.get("errors", []) if isinstance(body, dict) else []
