"""Test helpers: a free port, an SMTP inbox, DOCX text, a valid report and a live server."""

from __future__ import annotations

import email
import email.policy
import io
import shutil
import socket
import threading
import time
from pathlib import Path

import docx
from werkzeug.serving import WSGIRequestHandler, make_server


def free_port() -> int:
    """Return a loopback port nobody listens on (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw: list[bytes] = []  # as they came over the wire
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list:
        """Wait until `count` messages arrived; return them."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert len(self.messages) >= count, f"expected {count} messages, got {len(self.messages)}"
        return self.messages


def eventually(found, timeout: float = 10):
    """Return `found()` once it is truthy (delivery goes on after the answer); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := found()):
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.02)
    return result


def docx_text(data: bytes) -> str:
    """Return all paragraph and table text of a DOCX, in document order, one line per paragraph."""
    document = docx.Document(io.BytesIO(data))
    lines = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in block.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for cell in block.iter():
                if cell.tag.endswith("}tc"):
                    lines.append(
                        "\n".join(
                            "".join(t.text or "" for t in p.iter() if t.tag.endswith("}t"))
                            for p in cell.iter()
                            if p.tag.endswith("}p")
                        )
                    )
    return "\n".join(lines)


def attachment(message) -> tuple[str, bytes]:
    """Return the (filename, bytes) of a message's one DOCX attachment."""
    parts = [p for p in message.iter_attachments() if p.get_filename().endswith(".docx")]
    assert len(parts) == 1
    return parts[0].get_filename(), parts[0].get_content()


def valid_answers() -> dict:
    """A complete, valid BUS-avvikelse as form-encoded fields."""
    return {
        "handelsetyp": "Remiss till BUP besvarades inte",
        "omrade": "samverkan",
        "verksamheter.0.enhet": "Björkskolan",
        "verksamheter.0.verksamhetstyp": "grundskola",
        "verksamheter.0.huvudman": "solna",
        "verksamheter.0.chef_epost": "rektor@solna.se",
        "verksamheter.1.enhet": "BUP Solna",
        "verksamheter.1.verksamhetstyp": "bup",
        "verksamheter.1.huvudman": "region-stockholm",
        "verksamheter.1.chef_epost": "chef.bup@regionstockholm.se",
        "beskrivning.handelsen": "- Remissen skickades i mars\n- Inget svar kom",
        "beskrivning.forslag_atgard": "Gemensamt möte",
        "beskrivning.uppgiftslamnare.namn": "Anna Andersson",
        "beskrivning.uppgiftslamnare.telefon": "08-123 456 78",
        "beskrivning.rapporterande.datum": "2026-11-20",
        "beskrivning.rapporterande.enhet": "Elevhälsan Solna",
        "beskrivning.rapporterande.verksamhetstyp": "grundskola",
        "beskrivning.rapporterande.huvudman": "solna",
        "beskrivning.rapporterande.kontaktperson": "Eva Ek",
        "beskrivning.rapporterande.epost": "eva.ek@solna.se",
        "beskrivning.rapporterande.telefon": "08-746 10 00",
        "beskrivning.chef.namn": "Carl Chef",
        "beskrivning.chef.enhet": "Elevhälsan",
        "beskrivning.chef.epost": "carl.chef@solna.se",
        "beskrivning.chef.telefon": "08-746 10 01",
    }


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class LiveServer:
    """The app with the built site, served over HTTP on loopback in a thread."""

    def __init__(self, app, port: int = 0):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


ROOT = Path(__file__).resolve().parent.parent


def project_copy(tmp_path: Path) -> Path:
    """Copy what a build reads (docs, schema, site, mkdocs.yml) into a temporary project."""
    for name in ("docs", "schema", "site"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    return tmp_path


def assert_shown_in_order(message, shown: list[str]) -> None:
    """Assert that the report's DOCX attached to `message` shows each value on a line of its own, in this order."""
    text = docx_text(attachment(message)[1])
    positions = [text.index(f"\n{value}\n") for value in shown]
    assert positions == sorted(positions), text


def checked_form(schema: Path):
    """Return the form a schema file makes, once `formkit check` has found nothing wrong with it."""
    from handler.forms import read_form

    form, problems, _ = read_form(schema)
    assert problems == []
    return form


def client_of(tmp_path: Path, config: dict, schema: Path):
    """Return a test client of an app whose one form is this schema file (copied into a folder of its own)."""
    import shutil

    from handler.app import create_app

    folder = tmp_path / "forms" / "schema"
    folder.mkdir(parents=True)
    shutil.copy(schema, folder / schema.name)
    return create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()


def generated(max_examples: int):
    """Hypothesis settings of a round trip: no deadline or example database; slow, filtered forms are fine."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )


def cost_ratio(run, small, large, tries: int = 5) -> float:
    """Return how many times longer `run(large)` takes than `run(small)`, each the best of `tries`.

    How cost grows with size, not a wall-clock limit. The cost is this process's CPU time, which other
    processes on a busy machine do not stretch, and the sizes take turns, so a slow spell meets both alike.
    """
    import time

    def once(argument) -> float:
        started = time.process_time()
        run(argument)
        return time.process_time() - started

    run(small)  # warm up
    smalls, larges = [], []
    for _ in range(tries):
        smalls.append(once(small))
        larges.append(once(large))
    return max(min(larges), 1e-6) / max(min(smalls), 1e-6)
