"""Print the register's cost per submission, median ms, on SQLite and on PostgreSQL side by side.

Run: .venv/bin/python bench/register.py [--posts N]
Three figures per database, each the median of N submissions of the BUS report (two receiving units):
- record: the register's own step alone (encrypt the answers, insert the report and its units, commit);
- submit: the whole pipeline (validation, DOCX, messages, record + queue in one step, delivery to a real
  SMTP server on loopback), with the register;
- submit without it: the same pipeline with no register, for the baseline; the difference is its cost.
SQLite is a file with the kit's settings (WAL, synchronous FULL); PostgreSQL is a throw-away cluster
started like the tests' (tests/pg.py), with fsync on, on loopback.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

KEY = "bench-key-of-forty-characters-or-more!!!"
FORM_BODY = "application/x-www-form-urlencoded"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(url: str, posts: int, folder: Path) -> dict[str, float]:
    """Return the medians (ms) of the record step, and of submit with and without the register."""
    from aiosmtpd.controller import Controller

    from handler import pipeline
    from handler.body import read_body
    from handler.check import check_project
    from handler.normalise import clean
    from handler.outbox import Outbox
    from handler.reference import new_reference, now
    from handler.register import Register, new_report
    from handler.settings import load
    from handler.validation import validate
    from support import Inbox, free_port, valid_answers

    smtp = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        settings = load(
            {
                "TESTING": True,
                "SCHEMA_DIR": str(ROOT / "schema"),
                "OUTBOX_DIR": str(folder / "outbox"),
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": smtp.port,
                "RATELIMIT": "",
                "RECIPIENT_RATELIMIT": "",
                "SECRET_KEY": KEY,
            }
        )
        forms = check_project(settings.schema_dir).ok()
        form = forms["bus-avvikelse"]
        register = Register(url, secret_key=KEY)
        register.upgrade()
        raw = urlencode(valid_answers()).encode()
        without = pipeline.Context(forms=forms, settings=settings, outbox=Outbox(settings.outbox.dir))
        with_register = dataclasses.replace(without, register=register)
        data = validate(form, clean(read_body(form, FORM_BODY, raw).answers))

        def record() -> None:
            created = now()
            register.record(new_report(form, data, new_reference("BUS", created), created))

        def submit(context) -> None:
            outcome = pipeline.submit(form, FORM_BODY, raw, context)
            assert isinstance(outcome, pipeline.Accepted), outcome

        for _ in range(10):  # warm up: connections, caches, the first DOCX
            record()
            submit(with_register)
            submit(without)
        samples: dict[str, list[float]] = {"record": [], "submit": [], "without": []}
        for _ in range(posts):  # interleaved, so a slow moment of the machine hits all three alike
            for name, run in (("record", record), ("submit", lambda: submit(with_register))):
                started = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            submit(without)
            samples["without"].append(time.perf_counter() - started)
        register.close()
        return {name: median_ms(values) for name, values in samples.items()}
    finally:
        smtp.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    from pg import Cluster

    with tempfile.TemporaryDirectory() as sqlite_folder, tempfile.TemporaryDirectory() as pg_folder:
        sqlite = measure(f"sqlite:///{sqlite_folder}/formkit.db", args.posts, Path(sqlite_folder))
        with Cluster(durable=True) as cluster:
            postgres = measure(cluster.database("bench"), args.posts, Path(pg_folder))
    print(f"The register's cost per submission: median of {args.posts} BUS reports (ms)")
    print(f"{'':34}{'SQLite':>10}{'PostgreSQL':>12}")
    rows = (
        ("record (encrypt, insert, commit)", sqlite["record"], postgres["record"]),
        ("submit with the register", sqlite["submit"], postgres["submit"]),
        ("submit without a register", sqlite["without"], postgres["without"]),
        (
            "the register's share of submit",
            sqlite["submit"] - sqlite["without"],
            postgres["submit"] - postgres["without"],
        ),
    )
    for label, on_sqlite, on_postgres in rows:
        print(f"{label:34}{on_sqlite:10.2f}{on_postgres:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
