"""Print the kit's basic figures: site build time, DOCX render time, POST-to-201 time (medians).

Run: .venv/bin/python bench/endtoend.py [--posts N]
The POST goes through the Flask app in-process with the durable outbox and a real SMTP server on
loopback (aiosmtpd), so it includes validation, the DOCX, two fsyncs per message and SMTP delivery.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def median_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   n={len(ordered)}"


def bench_build(runs: int) -> list[float]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    times = []
    with tempfile.TemporaryDirectory() as target:
        os.chdir(ROOT)
        for _ in range(runs):
            started = time.perf_counter()
            build(load_config(str(ROOT / "mkdocs.yml"), site_dir=target))
            times.append(time.perf_counter() - started)
    return times


def bench_docx(runs: int) -> list[float]:
    from handler.document import render_report
    from handler.forms import load_forms
    from handler.normalise import clean, from_pairs
    from handler.reference import now
    from support import valid_answers

    forms = load_forms(ROOT / "schema")
    form = forms["bus-avvikelse"]
    data = clean(from_pairs(form, list(valid_answers().items())))
    reply = forms.get(form.settings.reply_form)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render_report(form, data, "BUS-20261122-ABCDEF", now(), reply)
        times.append(time.perf_counter() - started)
    return times


def bench_post(runs: int) -> list[float]:
    from aiosmtpd.controller import Controller

    from handler.app import create_app
    from handler.register import Register
    from handler.settings import load
    from support import Inbox, free_port, valid_answers

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    work = Path(tempfile.mkdtemp())
    try:
        config = {
            "SCHEMA_DIR": str(ROOT / "schema"),
            "OUTBOX_DIR": str(work / "outbox"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port,
            "RATELIMIT": "",  # one client posting hundreds of reports is the point here
            "RECIPIENT_RATELIMIT": "",  # to the same managers
            "SECRET_KEY": secrets.token_urlsafe(48),  # create_app() without TESTING is production
            "DATABASE_URL": f"sqlite:///{work / 'formkit.db'}",
        }
        Register.from_settings(load(config)).upgrade()  # what `formkit db upgrade` does
        app = create_app(config)
        client = app.test_client()
        answers = valid_answers()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.post("/api/forms/bus-avvikelse", data=answers, headers={"Accept": "application/json"})
            times.append(time.perf_counter() - started)
            assert response.status_code == 201, response.json
        inbox.wait_for(2 * runs)
        return times
    finally:
        smtp.stop()
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--builds", type=int, default=5)
    args = parser.parse_args()
    print(f"site build        {median_ms(bench_build(args.builds))}")
    print(f"DOCX render       {median_ms(bench_docx(200))}")
    print(f"POST to 201       {median_ms(bench_post(args.posts))}  (2 messages each, delivered over SMTP)")


if __name__ == "__main__":
    main()
