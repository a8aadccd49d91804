"""The kit against the plain handler a newcomer would write (bench/plain.py), side by side, under gunicorn.

    .venv/bin/python bench/compare.py [--runs 3] [--single 100] [--burst 300] [--clients 8] [--sink smtp-sink|aiosmtpd]

Both handlers get the same schema (schema/bus-avvikelse.json), the same valid answers
(tests/support.py) and the same SMTP sink on loopback (a process of its own, as a mail server is: Postfix's
smtp-sink when installed, else aiosmtpd; see bench/load.py's PostfixSink), and each run measures both:

- one submission at a time: gunicorn with 1 worker, p50 and p95 of POST to 201 over HTTP;
- throughput: gunicorn with 2 sync workers, 8 clients at once (2 processes of 4 connections),
  accepted submissions per second, from the first request to the last answer;

then waits until the sink has every message of every acknowledged report (nothing lost: the kit's
four, one per receiving unit, the copy and the receipt; the plain handler's report and receipt). The
CPU time the handler's processes (gunicorn's and, for the kit, the outbox worker) used in the
throughput phase until those messages had arrived, per report, is printed too: on a shared machine it
varies less than the times, and it includes the kit's delivery after the answer. The kit runs
as in production: `handler.app:create_app()` with a durable outbox and `formkit outbox run` beside it;
FORMKIT_RATELIMIT and FORMKIT_RECIPIENT_RATELIMIT are off, since every report here comes from one
address and goes to the same managers. Prints each run, then the medians of the runs side by side
with the ratios and the issue's targets (p50 at most a quarter of the plain handler's, throughput at
least four times).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from load import Sink, add_sink_argument, client_process, cpu_seconds, free_port, make_sink, submit  # noqa: E402

from support import valid_answers  # noqa: E402  (the same valid report the tests send)

BIN = Path(sys.executable).parent
PATH = "/api/forms/bus-avvikelse"
REFERENCE = re.compile(rb"BUS-\d{8}-[0-9A-Z]{4,12}")
KIT_ID = re.compile(rb"^Message-ID:\s*<(BUS-\d{8}-[0-9A-Z]{4,12})\.", re.M | re.I)
HANDLERS = ("kit", "plain")
# The messages of one report: the kit's one per receiving unit (2 in the test answers), the copy and the
# receipt; the plain handler's report and receipt.
MESSAGES = {"kit": 4, "plain": 2}


class Reports:
    """Counts the messages the sink (bench/load.py's, a process of its own) accepted per report reference."""

    def __init__(self, sink: Sink):
        self.sink = sink
        self.arrived: Counter[str] = Counter()
        self._counted = 0

    def wait_for(self, references: list[str], timeout: float, messages: int = 2) -> int:
        """Wait until every reference has all its `messages` (report, copies, receipt); return how many have."""
        deadline = time.monotonic() + timeout
        while True:
            heads = self.sink.received()
            for head in heads[self._counted :]:
                found = KIT_ID.search(head) or REFERENCE.search(head)  # the kit's Message-ID, the plain one's Subject
                self.arrived[found.group(found.lastindex or 0).decode() if found else ""] += 1
            self._counted = len(heads)
            complete = sum(self.arrived[reference] >= messages for reference in references)
            if complete == len(references) or time.monotonic() > deadline:
                return complete
            time.sleep(0.1)


class Served:
    """One handler under gunicorn (and, for the kit, its outbox worker), started and stopped with `with`."""

    def __init__(self, handler: str, workers: int, smtp_port: int, work: Path):
        self.handler, self.workers, self.port = handler, workers, free_port()
        self.log = work / f"{handler}-{workers}.log"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("FORMKIT_", "PLAIN_"))}
        self.work = work
        if handler == "kit":
            self.env |= {
                "FORMKIT_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters; gunicorn's create_app() is production
                "FORMKIT_SCHEMA_DIR": str(ROOT / "schema"),
                "FORMKIT_OUTBOX_DIR": str(work / "outbox"),
                "FORMKIT_MAIL_DIR": str(work / "mail"),
                "FORMKIT_DATABASE_URL": f"sqlite:///{work / 'formkit.db'}",
                "FORMKIT_SMTP_HOST": "127.0.0.1",
                "FORMKIT_SMTP_PORT": str(smtp_port),
                "FORMKIT_RATELIMIT": "",
                "FORMKIT_RECIPIENT_RATELIMIT": "",
                "FORMKIT_OUTBOX_RETRY_BASE": "1",
                "FORMKIT_OUTBOX_INTERVAL": "1",
            }
            self.app = ["handler.app:create_app()"]
        else:
            self.env |= {"PLAIN_SMTP_HOST": "127.0.0.1", "PLAIN_SMTP_PORT": str(smtp_port)}
            self.app = ["--chdir", str(ROOT / "bench"), "plain:app"]
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> Served:
        if self.handler == "kit":  # `formkit db upgrade`, as before the first start of a deployment
            from handler.register import Register
            from handler.settings import load

            register = Register.from_settings(load(environ=self.env))
            register.upgrade()
            register.close()
        output = self.log.open("ab")
        command = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}"]
        command += ["--backlog", "2048", *self.app]
        self.processes.append(subprocess.Popen(command, cwd=self.work, env=self.env, stdout=output, stderr=output))
        if self.handler == "kit":
            worker = [str(BIN / "formkit"), "outbox", "run"]
            self.processes.append(subprocess.Popen(worker, cwd=self.work, env=self.env, stdout=output, stderr=output))
        output.close()
        deadline = time.monotonic() + 30
        while True:
            if self.processes[0].poll() is not None:
                sys.exit(f"{self.handler}: gunicorn stopped:\n{self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"{self.handler}: gunicorn did not start")
                time.sleep(0.1)
        body = urllib.parse.urlencode(valid_answers()).encode()
        for _ in range(10 * self.workers):  # warm every worker: imports, caches, the first document
            _, status, _ = submit(self.port, body)
            if status != 201:
                sys.exit(f"{self.handler}: a valid report got {status}, not 201:\n{self.log.read_text()[-3000:]}")
        return self

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            process.terminate()
            process.wait(timeout=30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def one_at_a_time(handler: str, sink: Reports, args, work: Path) -> dict:
    with Served(handler, 1, args.smtp_port, work) as served:
        body = urllib.parse.urlencode(valid_answers()).encode()
        outcomes = [submit(served.port, body) for _ in range(args.single)]
    accepted = [reference for _, status, reference in outcomes if status == 201]
    milliseconds = [seconds * 1000 for seconds, status, _ in outcomes if status == 201]
    return {
        "p50": percentile(milliseconds, 0.50),
        "p95": percentile(milliseconds, 0.95),
        "sent": len(outcomes),
        "accepted": accepted,
    }


def at_once(handler: str, sink: Reports, args, work: Path) -> dict:
    with Served(handler, 2, args.smtp_port, work) as served:
        processes = 2
        per_process = [args.burst // processes + (i < args.burst % processes) for i in range(processes)]
        results = multiprocessing.Queue()
        start_at = time.time() + 0.3
        clients = [
            multiprocessing.Process(
                target=client_process, args=(served.port, n, args.clients // processes, start_at, results)
            )
            for n in per_process
        ]
        pids = [process.pid for process in served.processes]
        cpu = cpu_seconds(pids)
        for client in clients:
            client.start()
        finished = [results.get() for _ in clients]
        for client in clients:
            client.join()
        outcomes = [outcome for batch, _ in finished for outcome in batch]
        seconds = max(ended for _, ended in finished) - start_at
        accepted = [reference for _, status, reference in outcomes if status == 201]
        complete = sink.wait_for(accepted, args.delivery_timeout, MESSAGES[handler])  # delivered in the background
        cpu = cpu_seconds(pids) - cpu  # after delivery: sending is part of each report's cost
    return {
        "per_second": len(accepted) / seconds,
        "cpu_ms": cpu / max(1, len(outcomes)) * 1000,
        "sent": len(outcomes),
        "accepted": accepted,
        "complete": complete,
    }


def run(number: int, sink: Reports, args, work: Path) -> dict:
    figures = {}
    for handler in HANDLERS:
        single = one_at_a_time(handler, sink, args, work)
        burst = at_once(handler, sink, args, work)
        acknowledged = single["accepted"] + burst["accepted"]
        complete = sink.wait_for(acknowledged, args.delivery_timeout, MESSAGES[handler])
        figures[handler] = {
            "p50": single["p50"],
            "p95": single["p95"],
            "per_second": burst["per_second"],
            "cpu_ms": burst["cpu_ms"],
            "acknowledged": len(acknowledged),
            "delivered": complete,
            "refused": single["sent"] + burst["sent"] - len(acknowledged),
        }
        f = figures[handler]
        print(
            f"run {number} {handler:5}: one at a time p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms | "
            f"{args.clients} clients, 2 workers: {f['per_second']:.1f}/s, handler CPU {f['cpu_ms']:.1f} ms a report | "
            f"acknowledged {f['acknowledged']}, "
            f"delivered with receipt {f['delivered']}, not accepted {f['refused']}",
            flush=True,
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", type=int, default=100, help="reports sent one at a time, per handler and run")
    parser.add_argument("--burst", type=int, default=300, help="reports sent by the clients at once, per run")
    parser.add_argument("--clients", type=int, default=8, help="connections at once (over 2 client processes)")
    parser.add_argument("--delivery-timeout", type=float, default=120)
    add_sink_argument(parser)
    args = parser.parse_args()

    smtp = make_sink(args.sink)
    sink = Reports(smtp)
    args.smtp_port = smtp.port
    work = Path(tempfile.mkdtemp(prefix="formkit-compare-"))
    print(
        f"{os.cpu_count()} CPUs; SMTP sink {args.sink}; {args.runs} runs; per handler and run {args.single} reports "
        f"one at a time (1 worker) and {args.burst} from {args.clients} clients at once (2 sync workers); "
        f"logs in {work}",
        flush=True,
    )
    try:
        runs = [run(number + 1, sink, args, work) for number in range(args.runs)]
    finally:
        smtp.stop()

    def median(handler: str, key: str) -> float:
        return statistics.median(figures[handler][key] for figures in runs)

    rows = [
        ("one at a time, p50 (ms), 1 worker", "p50", "at most 0.25x"),
        ("one at a time, p95 (ms), 1 worker", "p95", ""),
        (f"{args.clients} clients, 2 sync workers (reports/s)", "per_second", "at least 4x"),
        ("handler CPU a report (ms), all processes", "cpu_ms", ""),
    ]
    print(f"\nmedians of {args.runs} runs")
    print(f"{'':44} {'the kit':>10} {'plain':>10} {'kit/plain':>10}   target")
    for label, key, target in rows:
        kit, plain = median("kit", key), median("plain", key)
        print(f"{label:44} {kit:10.1f} {plain:10.1f} {kit / plain:9.2f}x   {target}")
    lost = {
        handler: sum(figures[handler]["acknowledged"] - figures[handler]["delivered"] for figures in runs)
        for handler in HANDLERS
    }
    for handler in HANDLERS:
        acknowledged = sum(figures[handler]["acknowledged"] for figures in runs)
        refused = sum(figures[handler]["refused"] for figures in runs)
        print(
            f"{handler:5}: {acknowledged} acknowledged, {acknowledged - lost[handler]} delivered with their receipt, "
            f"{refused} not accepted"
        )
    return 0 if not any(lost.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
