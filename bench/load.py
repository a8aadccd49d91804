"""Load benchmark: the handler under gunicorn, a real SMTP sink on loopback, many clients at once.

    .venv/bin/python bench/load.py [--submissions 600] [--clients 4] [--concurrency 4] [--runs 3] [--sink ...]

Starts an SMTP sink (a process of its own: Postfix's smtp-sink when installed, else aiosmtpd; `--sink`),
gunicorn with `handler.app:create_app()` and a `formkit outbox run` worker (as in production), all sharing a
temporary outbox. Each run sends
submissions one at a time (the latency of one submission), then N valid submissions from several
client processes at once, and waits until every acknowledged report and receipt has arrived at
the sink. Prints, per run and as the median of the runs: submissions per second, p50/p95/p99
latency to 201, and delivered = acknowledged, plus the handler's own timings from its log.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support import valid_answers  # noqa: E402  (the same valid report the tests send)

BIN = Path(sys.executable).parent
PATH = "/api/forms/bus-avvikelse"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.I | re.M)
# A report's messages (Message-IDs): one per receiving unit (the test answers name two), the copy, the receipt.
KINDS = ("report.0", "report.1", "copy", "receipt")
TIMINGS = re.compile(r"outcome=accepted delivery=(\w+) ms=([\d.]+) render_ms=([\d.]+) deliver_ms=([\d.]+)")


class _Heads:
    def received(self) -> list[bytes]:
        raise NotImplementedError

    def message_ids(self) -> set[str]:
        """Return the Message-IDs of the messages accepted so far."""
        return {found.group(1).decode() for head in self.received() if (found := MESSAGE_ID.search(head))}


class Sink(_Heads):
    """An aiosmtpd server on loopback in a process of its own, as a mail server is, that hands the header block of
    each message it accepts back to this process (`received()`).

    In this process it would share the interpreter with the client that times each answer one at a time: the
    messages a handler delivers after answering would then be timed as part of its next report.
    """

    def __init__(self):
        self.port = free_port()
        self._heads: list[bytes] = []
        self._received: multiprocessing.Queue = multiprocessing.Queue()
        self._stop = multiprocessing.Event()
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=_serve_sink, args=(self.port, self._received, ready, self._stop), daemon=True
        )
        self.process.start()
        if not ready.wait(30):
            sys.exit("the SMTP sink did not start")

    def received(self) -> list[bytes]:
        """Return the header blocks of the messages accepted so far, in the order they came."""
        while True:
            try:
                self._heads.append(self._received.get_nowait())
            except queue.Empty:
                return self._heads

    def stop(self) -> None:
        self._stop.set()
        deadline = time.monotonic() + 30
        while self.process.is_alive() and time.monotonic() < deadline:  # it ends once what it queued is read
            self.received()
            self.process.join(0.1)


class PostfixSink(_Heads):
    """Postfix's smtp-sink (Debian's postfix package), the test server Postfix ships to measure SMTP clients, with the
    interface of `Sink`: a C program of one process on loopback that appends every message it accepts to one dump file,
    read back here for the header blocks.

    aiosmtpd reads a message line by line in Python and spends about 2.5 ms of CPU on each of the kit's messages, on
    the same two cores as the handler it measures, so the faster handler pays for the sink's work on more messages
    (a mail server runs elsewhere). smtp-sink spends about a tenth of that.
    """

    START = b"=====formkit-sink=====\n"  # what smtp-sink writes before each message in the dump (its -S)

    def __init__(self):
        self.port = free_port()
        self._folder = Path(tempfile.mkdtemp(prefix="formkit-sink-"))
        self._dump = self._folder / "dump"
        self._heads: list[bytes] = []
        self._offset, self._pending = 0, b""  # how far the dump was read; what is not parsed yet
        command = [smtp_sink(), "-4", "-S", self.START.decode().replace("\n", "\\n"), "-D", str(self._dump)]
        if os.geteuid() == 0:  # it refuses to run as root: it drops to nobody, who must write the dump
            shutil.chown(self._folder, "nobody")
            command += ["-u", "nobody"]
        self.process = subprocess.Popen([*command, f"127.0.0.1:{self.port}", "256"])
        wait_for_port(self.port, self.process, name="smtp-sink")

    def received(self) -> list[bytes]:
        """Return the header blocks of the messages accepted so far, in the order they came."""
        try:
            with self._dump.open("rb") as dump:
                dump.seek(self._offset)
                more = dump.read()
        except FileNotFoundError:  # no message yet
            return self._heads
        self._offset += len(more)
        self._pending += more
        while True:
            if not self._pending.startswith(self.START):  # in a body whose head was read: on to the next message
                start = self._pending.find(self.START)
                if start < 0:
                    self._pending = self._pending[-len(self.START) :]  # a marker may be split between two reads
                    return self._heads
                self._pending = self._pending[start:]
            head, blank, rest = self._pending[len(self.START) :].partition(b"\n\n")
            if not blank:
                return self._heads  # its head is still being written
            self._heads.append(head)
            self._pending = rest

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        shutil.rmtree(self._folder, ignore_errors=True)


SINKS = ("smtp-sink", "aiosmtpd")


def smtp_sink() -> str:
    """Return the path of Postfix's smtp-sink, or "" when it is not installed."""
    return shutil.which("smtp-sink", path=f"/usr/sbin:/usr/bin:{os.environ.get('PATH', '')}") or ""


def add_sink_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sink",
        choices=SINKS,
        default="smtp-sink" if smtp_sink() else "aiosmtpd",
        help="the SMTP sink: Postfix's smtp-sink (apt-get install postfix), the default when installed, or aiosmtpd",
    )


def make_sink(kind: str) -> Sink | PostfixSink:
    if kind == "smtp-sink" and not smtp_sink():
        sys.exit("smtp-sink is not installed: apt-get install --no-install-recommends postfix, or --sink aiosmtpd")
    return PostfixSink() if kind == "smtp-sink" else Sink()


class _Accept:
    def __init__(self, received):
        self.received = received

    async def handle_DATA(self, server, session, envelope):
        self.received.put(envelope.content.split(b"\r\n\r\n", 1)[0])
        return "250 OK"


def _serve_sink(port: int, received, ready, stop) -> None:
    controller = Controller(_Accept(received), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def submit(port: int, body: bytes) -> tuple[float, int, str]:
    """Send one submission as formkit.js does; return (seconds, status, reference)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            PATH,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    reference = json.loads(data).get("reference", "") if response.status == 201 else ""
    return elapsed, response.status, reference


def client_process(port: int, count: int, concurrency: int, start_at: float, results) -> None:
    """One client process: `concurrency` threads sending `count` submissions between them."""
    body = urllib.parse.urlencode(valid_answers()).encode()
    mine: list[tuple[float, int, str]] = []
    lock = threading.Lock()
    remaining = [count]

    def worker():
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            try:
                outcome = submit(port, body)
            except OSError as error:
                outcome = (0.0, 0, type(error).__name__)
            with lock:
                mine.append(outcome)

    time.sleep(max(0.0, start_at - time.time()))  # all client processes start together
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((mine, time.time()))  # and when this client finished


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def wait_for_port(port: int, process: subprocess.Popen, log: Path | None = None, name: str = "gunicorn") -> None:
    """Wait until `process` (`name`, logging to `log`) takes connections on `port`; end the bench if it cannot."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} stopped:\n{log.read_text() if log else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{name} did not start")


def one_run(port: int, sink: Sink, args, number: int) -> dict:
    body = urllib.parse.urlencode(valid_answers()).encode()
    single = [submit(port, body) for _ in range(args.single)]
    assert all(status == 201 for _, status, _ in single), single
    single_p50 = statistics.median(seconds for seconds, _, _ in single) * 1000

    results = multiprocessing.Queue()
    per_client = [args.submissions // args.clients + (i < args.submissions % args.clients) for i in range(args.clients)]
    start_at = time.time() + 0.5
    clients = [
        multiprocessing.Process(target=client_process, args=(port, n, args.concurrency, start_at, results))
        for n in per_client
    ]
    sink_pids = [sink.process.pid]
    handler_cpu, sink_cpu, clients_cpu = cpu_seconds(args.handler_pids), cpu_seconds(sink_pids), children_cpu()
    for client in clients:
        client.start()
    outcomes = [outcome for _ in clients for outcome in results.get()[0]]
    finished = time.time()
    for client in clients:
        client.join()
    seconds = finished - start_at

    acknowledged = [reference for _, status, reference in outcomes if status == 201] + [r for *_, r in single]
    latencies = [elapsed * 1000 for elapsed, status, _ in outcomes if status == 201]
    expected = {f"<{reference}.{kind}@formkit.localhost>" for reference in acknowledged for kind in KINDS}
    deadline = time.monotonic() + args.delivery_timeout
    while time.monotonic() < deadline and not expected <= sink.message_ids():
        time.sleep(0.1)
    # Read after delivery: the handler's background delivery (and the worker's) belongs to each report's cost.
    handler_cpu = cpu_seconds(args.handler_pids) - handler_cpu
    sink_cpu, clients_cpu = cpu_seconds(sink_pids) - sink_cpu, children_cpu() - clients_cpu
    arrived = sink.message_ids() & expected
    failures = [status for _, status, _ in outcomes if status != 201]
    figures = {
        "single_p50_ms": single_p50,
        "per_second": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "acknowledged": len(acknowledged),
        "delivered": len({i.split(".")[0] for i in arrived if i.endswith(".receipt@formkit.localhost>")}),
        "lost_messages": len(expected - arrived),
        "errors": len(failures),
        # CPU time per submission of the concurrent phase: who used the 2 cores
        "handler_cpu_ms": handler_cpu / len(outcomes) * 1000,
        "sink_cpu_ms": sink_cpu / len(outcomes) * 1000,
        "clients_cpu_ms": clients_cpu / len(outcomes) * 1000,
    }
    print(
        f"run {number}: one at a time p50 {figures['single_p50_ms']:.1f} ms | {len(outcomes)} at once "
        f"({args.clients} processes x {args.concurrency}): {figures['per_second']:.1f}/s, "
        f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms | "
        f"acknowledged {figures['acknowledged']}, delivered {figures['delivered']}, "
        f"lost messages {figures['lost_messages']}, errors {figures['errors']} {sorted(set(failures))[:5]} | "
        f"CPU per submission: handler {figures['handler_cpu_ms']:.1f} ms, SMTP sink {figures['sink_cpu_ms']:.1f} ms, "
        f"clients {figures['clients_cpu_ms']:.1f} ms",
        flush=True,
    )
    return figures


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes and their children still running (gunicorn's workers)."""
    family = set(pids)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) in pids:
                family.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    total = 0
    for pid in family:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU time of this process's finished children (the client processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def handler_timings(log: Path) -> dict[str, float]:
    found = TIMINGS.findall(log.read_text(errors="replace"))
    if not found:
        return {}
    return {
        "total_ms": statistics.median(float(f[1]) for f in found),
        "parse_validate_render_compose_ms": statistics.median(float(f[2]) for f in found),
        "record_and_queue_ms": statistics.median(float(f[3]) for f in found),
        "worker_share": sum(f[0] == "worker" for f in found) / len(found),
        "sent_share": sum(f[0] == "sent" for f in found) / len(found),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=600, help="submissions per run, sent at once")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per client process")
    parser.add_argument("--single", type=int, default=30, help="submissions sent one at a time per run")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delivery-timeout", type=float, default=120)
    add_sink_argument(parser)
    args = parser.parse_args()

    sink = make_sink(args.sink)
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="formkit-bench-"))
    env = {
        **os.environ,
        "FORMKIT_SCHEMA_DIR": str(ROOT / "schema"),
        "FORMKIT_OUTBOX_DIR": str(work / "outbox"),
        "FORMKIT_SMTP_HOST": "127.0.0.1",
        "FORMKIT_SMTP_PORT": str(sink.port),
        "FORMKIT_RATELIMIT": "",  # every client here is 127.0.0.1
        "FORMKIT_RECIPIENT_RATELIMIT": "",  # and every report goes to the same managers
        "FORMKIT_SECRET_KEY": secrets.token_urlsafe(48),  # gunicorn's create_app() is production
        "FORMKIT_OUTBOX_RETRY_BASE": "1",
        "FORMKIT_OUTBOX_INTERVAL": "1",
    }
    log = work / "handler.log"
    env["FORMKIT_DATABASE_URL"] = f"sqlite:///{work / 'formkit.db'}"
    subprocess.run([str(BIN / "formkit"), "db", "upgrade"], cwd=work, env=env, check=True)  # as an operator does
    with open(log, "wb") as output:
        gunicorn = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--backlog",
                "2048",
                "handler.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [str(BIN / "formkit"), "outbox", "run"], cwd=work, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, gunicorn, log)
        body = urllib.parse.urlencode(valid_answers()).encode()
        for _ in range(4 * args.workers):  # warm every worker: imports, caches, first DOCX
            submit(port, body)
        print(
            f"gunicorn {args.workers} workers, SMTP sink {args.sink} on loopback, {os.cpu_count()} CPUs; "
            f"{args.runs} runs of {args.single} single + {args.submissions} concurrent submissions",
            flush=True,
        )
        args.handler_pids = [gunicorn.pid, worker.pid]
        runs = [one_run(port, sink, args, number + 1) for number in range(args.runs)]
    finally:
        for process in (worker, gunicorn):
            process.terminate()
            process.wait(timeout=30)
        sink.stop()

    def median(key):
        return statistics.median(run[key] for run in runs)

    acknowledged, delivered = sum(r["acknowledged"] for r in runs), sum(r["delivered"] for r in runs)
    print(
        f"\nmedian of {args.runs} runs: one submission p50 {median('single_p50_ms'):.1f} ms; under load "
        f"{median('per_second'):.1f} submissions/s, p50 {median('p50_ms'):.1f} ms, p95 {median('p95_ms'):.1f} ms, "
        f"p99 {median('p99_ms'):.1f} ms"
    )
    lost = sum(r["lost_messages"] for r in runs)
    print(
        f"delivered = acknowledged: {delivered} = {acknowledged} ({'yes' if delivered == acknowledged else 'NO'}), "
        f"lost messages {lost}, errors {sum(r['errors'] for r in runs)}"
    )
    handler_ms, cpus = median("handler_cpu_ms"), os.cpu_count() or 1
    print(
        f"CPU per submission: handler {handler_ms:.1f} ms, SMTP sink {median('sink_cpu_ms'):.1f} ms, "
        f"clients {median('clients_cpu_ms'):.1f} ms: the load generator and the sink share the "
        f"{cpus} CPUs; with them to itself the handler's ceiling is {cpus * 1000 / handler_ms:.0f}/s"
    )
    timings = handler_timings(log)
    if timings:
        print(
            "handler's own timings (median, from its log): total {total_ms:.1f} ms = parse, validate, DOCX and "
            "compose {parse_validate_render_compose_ms:.1f} ms + record and queue durably "
            "{record_and_queue_ms:.1f} ms; handed to the listening worker: {worker_share:.0%}, sent by the "
            "handler's own courier at the first attempt: {sent_share:.0%}"
            "".format(**timings)
        )
    return 0 if delivered == acknowledged and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
