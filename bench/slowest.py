"""The slowest answer (issue 10): each worst body found, and the largest valid report, sent to gunicorn.

    .venv/bin/python bench/slowest.py [--repeat 7] [--workers 1] [--timeout 40]

Starts an aiosmtpd sink in this process and `gunicorn -w 1 'handler.app:create_app()'` exactly as
tests/hostile.py does (a 48-character key, temporary outbox and mail folders, no rate limit), then sends
every case of hostile.catalogue() --repeat times, one at a time on a new connection each. Prints per case
the body size, the status(es), the median and the maximum answer time and the answer's size, then the
slowest answer overall against the 0.2 s target. A case whose first answer takes longer than 2 s is not
repeated (the figure is plain enough), and a case with no answer within --timeout restarts the server.
Status "closed": the connection closed without an answer (gunicorn killed the worker after 30 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import hostile  # noqa: E402  (the same servers and bodies the tests use)

NOT_REPEATED_AFTER = 2.0  # seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="answers per case (default 7)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--timeout", type=float, default=40, help="seconds before a request counts as unanswered")
    args = parser.parse_args()

    cases = hostile.catalogue()
    rows = []
    with tempfile.TemporaryDirectory() as folder, hostile.Mailbox() as mailbox:
        with hostile.gunicorn_server(Path(folder), mailbox, workers=args.workers) as server:
            warm = server.post(hostile.valid_json(), accept=hostile.JSON, timeout=args.timeout)
            print(f"gunicorn -w {args.workers}, warm-up report: {warm.status} in {warm.seconds * 1000:.1f} ms")
            print(f"{'case':32} {'bytes':>7} {'status':>9} {'n':>2} {'median s':>9} {'max s':>8} {'answer B':>10}")
            for name, case in cases.items():
                server.ensure_fresh()
                server.request("GET", hostile.ENDPOINT, timeout=args.timeout)  # waits out a worker gunicorn restarted
                answers = []
                for _ in range(args.repeat):
                    answer = server.send_case(case, timeout=args.timeout)
                    answers.append(answer)
                    if answer.timed_out or answer.seconds > NOT_REPEATED_AFTER:
                        break
                times = [a.seconds for a in answers]
                statuses = "/".join(sorted({"none" if a.timed_out else str(a.status or "closed") for a in answers}))
                rows.append((name, max(times), answers[-1].timed_out))
                print(
                    f"{name:32} {case.size:>7} {statuses:>9} {len(answers):>2} {statistics.median(times):>9.3f} "
                    f"{max(times):>8.3f}{'+' if answers[-1].timed_out else ' '} {len(answers[-1].body):>10}"
                )
            time.sleep(0.5)
            alarms = len(server.alarms())
            print(f"mail: {mailbox.count()} messages; tracebacks or worker timeouts in the log: {alarms}")
    name, slowest, timed_out = max(rows, key=lambda row: row[1])
    verdict = "within" if slowest <= hostile.TARGET else "over"
    print(f"slowest: {name} {slowest:.3f} s{' (no answer)' if timed_out else ''}; target {hostile.TARGET} s: {verdict}")
    over = [row for row in rows if row[1] > hostile.TARGET]
    names = f" ({', '.join(row[0] for row in over)})" if over else ""
    print(f"cases over the target: {len(over)} of {len(rows)}{names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
