"""The floor under the handler's CPU: what any handler must spend on a BUS report before it has done anything else.

    .venv/bin/python bench/floor.py [--rounds 5] [--reports 300] [--sink smtp-sink|aiosmtpd]

Issue 15 asks for at most 5 ms of handler CPU a report (bench/load.py). This measures, with none of the
kit's own work (no validation, no DOCX, no composing), the steps the kit's guarantees cannot do without,
each the cheapest way Python's standard library and gunicorn do it:

- HTTP: gunicorn (one sync worker) answering the report's POST body with a fixed 201 JSON from a bare WSGI
  function, a new connection each time as bench/load.py's clients make; gunicorn's CPU from /proc;
- record: one row of about a register row's size committed to SQLite (WAL, synchronous=FULL, as the register);
- queue: the report's four messages (one per receiving unit, the copy, the receipt: the kit's own bytes)
  written durably as the folder outbox does (`write_private_all`: each file fsynced, renamed, the folder fsynced),
  then removed as delivery does;
- deliver: the four messages over one SMTP connection (smtplib: connect, EHLO, four transactions, QUIT) to an
  SMTP sink in another process (bench/load.py's: Postfix's smtp-sink, or aiosmtpd with --sink aiosmtpd), so that
  only the sender's CPU is counted here.

Prints each step's CPU a report (median of --rounds rounds of --reports reports) and their sum against the
target. The SMTP sink's own CPU (another process, sharing the cores in bench/load.py) is printed too.
"""

from __future__ import annotations

import argparse
import http.client
import os
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from load import add_sink_argument, cpu_seconds, free_port, make_sink, wait_for_port  # noqa: E402  (bench/load.py's)

BIN = Path(sys.executable).parent
TARGET_MS = 5.0
WSGI = """
def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b'{"reference": "BUS-20261202-ABCDEF", "receipt": "Tack", "title": "Tack"}'
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
"""


def report_messages() -> tuple[bytes, list[tuple[str, list[str], bytes]]]:
    """Return a BUS report's POST body and its four messages (sender, recipients, CRLF bytes), as the kit makes them."""
    from handler import reply
    from handler.body import read_body
    from handler.document import render_report
    from handler.forms import load_forms
    from handler.mail import compose
    from handler.normalise import clean
    from handler.reference import now
    from handler.settings import load
    from handler.transport import Head, recipients
    from handler.validation import validate
    from support import valid_answers

    settings = load({"SECRET_KEY": "k" * 48, "SCHEMA_DIR": str(ROOT / "schema"), "TESTING": True})
    forms = load_forms(ROOT / "schema")
    form, reply_form = forms["bus-avvikelse"], forms["bus-avvikelse-svar"]
    raw = urllib.parse.urlencode(valid_answers()).encode()
    data = validate(form, clean(read_body(form, "application/x-www-form-urlencoded", raw).answers))
    created, reference = now(), "BUS-20261202-ABCDEF"
    document = render_report(form, data, reference, created, reply_form)
    units = reply.unit_links(form, data, reference, settings.links)
    messages = compose(form, data, reference, created, document, mail=settings.mail, units=units)
    out = []
    for message in messages:
        content = message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        out.append((Head(content)["From"], recipients(message), content))
    return raw, out


def http_step(raw: bytes, reports: int, work: Path) -> float:
    """CPU ms a report of gunicorn (one sync worker) answering a bare WSGI function."""
    (work / "bare.py").write_text(WSGI)
    port, log = free_port(), work / "bare.log"
    with log.open("wb") as output:
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--chdir", str(work), "bare:app"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, gunicorn, log)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}

        def post() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/api/forms/bus-avvikelse", raw, headers)
            assert connection.getresponse().read()
            connection.close()

        for _ in range(20):
            post()
        before = cpu_seconds([gunicorn.pid])
        for _ in range(reports):
            post()
        return (cpu_seconds([gunicorn.pid]) - before) / reports * 1000
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


def record_step(reports: int, work: Path) -> float:
    """CPU ms a report of committing one register-sized row to SQLite (WAL, synchronous=FULL)."""
    database = sqlite3.connect(work / "floor.db", isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=FULL")
    database.execute("CREATE TABLE IF NOT EXISTS report (reference TEXT PRIMARY KEY, created TEXT, data TEXT)")
    row = "x" * 600  # the register keeps the report's statistics, not its answers: a few hundred bytes
    started = time.process_time()
    for number in range(reports):
        database.execute("BEGIN")
        database.execute("INSERT INTO report VALUES (?, ?, ?)", (f"R{time.time_ns()}{number}", "2026-12-02", row))
        database.execute("COMMIT")
    spent = time.process_time() - started
    database.close()
    return spent / reports * 1000


def queue_step(messages, reports: int, work: Path) -> float:
    """CPU ms a report of writing its messages durably as the folder outbox does, and removing them after."""
    from handler.outbox import private_folder, write_private_all

    tmp, held = private_folder(work / "outbox" / "tmp"), private_folder(work / "outbox" / "cur")
    started = time.process_time()
    for number in range(reports):
        files = [(tmp / f"{number}.{index}", held / f"{number}.{index}", m[2]) for index, m in enumerate(messages)]
        write_private_all(files)
        for _, final, _ in files:
            final.unlink()
    return (time.process_time() - started) / reports * 1000


def deliver_step(messages, reports: int, kind: str) -> tuple[float, float]:
    """CPU ms a report of sending its four messages over one SMTP connection; and the sink's, in its own process."""
    sink = make_sink(kind)
    try:

        def one_report() -> None:
            connection = smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
            for sender, to, content in messages:
                connection.sendmail(sender, to, content)
            connection.quit()

        for _ in range(10):
            one_report()
        started, sink_started = time.process_time(), cpu_seconds([sink.process.pid])
        for _ in range(reports):
            one_report()
        mine = (time.process_time() - started) / reports * 1000
        theirs = (cpu_seconds([sink.process.pid]) - sink_started) / reports * 1000
    finally:
        sink.stop()
    return mine, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reports", type=int, default=300, help="reports a step and round (/proc counts in 10 ms)")
    add_sink_argument(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="formkit-floor-"))
    raw, messages = report_messages()
    sizes = ", ".join(f"{len(m[2]) // 1000} kB" for m in messages)
    print(f"a BUS report: a {len(raw)} byte POST body and {len(messages)} messages ({sizes}); {os.cpu_count()} CPUs")
    rounds: dict[str, list[float]] = {"http": [], "record": [], "queue": [], "deliver": [], "sink": []}
    for _ in range(args.rounds):  # the steps take turns, so a busy spell of the machine meets each of them
        rounds["http"].append(http_step(raw, args.reports, work))
        rounds["record"].append(record_step(args.reports, work))
        rounds["queue"].append(queue_step(messages, args.reports, work))
        deliver, sink = deliver_step(messages, args.reports, args.sink)
        rounds["deliver"].append(deliver)
        rounds["sink"].append(sink)
    labels = {
        "http": "HTTP: gunicorn answering a bare WSGI app",
        "record": "record: one SQLite row, committed (FULL)",
        "queue": f"queue: {len(messages)} messages, durably, removed after",
        "deliver": f"deliver: {len(messages)} messages over one SMTP connection",
    }
    total = 0.0
    for key, label in labels.items():
        value = statistics.median(rounds[key])
        total += value
        print(f"{label:58} {value:6.2f} ms")
    print(f"{'the floor, before any work of the kit':58} {total:6.2f} ms   (target: {TARGET_MS:g} in all)")
    sink = statistics.median(rounds["sink"])
    print(f"{f'(the SMTP sink, {args.sink}, another process, for the same messages)':58} {sink:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
