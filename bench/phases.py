"""Where a report's CPU goes: each step of the pipeline on its own, in this process, for one BUS report.

    .venv/bin/python bench/phases.py [--rounds 7] [--repeat 30] [--profile]

Times (process CPU, the best of --rounds rounds of --repeat calls, in ms) reading the body, normalising
and validating, the DOCX, the answer links, composing and serialising the report's four messages,
recording it in a SQLite register (with its commit), and queueing the messages in a folder outbox (with
its fsyncs). What the request does besides (Flask, the log line) and what happens after the answer
(delivery over SMTP) are not here: `bench/load.py` and `bench/compare.py` measure the whole. With
--profile, prints cProfile's top functions of a whole in-process submission through the Flask app.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    from handler import reply
    from handler.body import read_body
    from handler.document import render_report
    from handler.forms import load_forms
    from handler.mail import compose
    from handler.normalise import clean
    from handler.outbox import Outbox
    from handler.reference import now
    from handler.register import Register, new_report
    from handler.settings import load
    from handler.validation import validate
    from support import valid_answers

    work = Path(tempfile.mkdtemp(prefix="formkit-phases-"))
    settings = load(
        {"SECRET_KEY": "k" * 48, "SCHEMA_DIR": str(ROOT / "schema"), "DATABASE_URL": f"sqlite:///{work / 'f.db'}"}
    )
    register = Register.from_settings(settings)
    register.upgrade()
    outbox = Outbox(work / "outbox")
    forms = load_forms(ROOT / "schema")
    form, reply_form = forms["bus-avvikelse"], forms["bus-avvikelse-svar"]
    raw = urllib.parse.urlencode(valid_answers()).encode()
    created, reference = now(), "BUS-20261122-ABCDEF"
    body = read_body(form, "application/x-www-form-urlencoded", raw)
    data = validate(form, clean(body.answers))
    document = render_report(form, data, reference, created, reply_form)
    units = reply.unit_links(form, data, reference, settings.links)
    messages = compose(form, data, reference, created, document, mail=settings.mail, units=units)
    count, mail = iter(range(10**9)), settings.mail

    def record():
        entry = new_report(form, data, f"BUS-20261122-{next(count):06d}", created)
        with register.transaction() as tx:
            tx.record(entry)

    def queue():
        for name in outbox.put_all(messages, claim=True):
            outbox.discard(name)

    steps = [
        ("read the body", lambda: read_body(form, "application/x-www-form-urlencoded", raw)),
        ("normalise and validate", lambda: validate(form, clean(body.answers))),
        ("the DOCX", lambda: render_report(form, data, reference, created, reply_form)),
        ("the answer links", lambda: reply.unit_links(form, data, reference, settings.links)),
        ("compose the 4 messages", lambda: compose(form, data, reference, created, document, mail=mail, units=units)),
        ("serialise them", lambda: [message.as_bytes() for message in messages]),
        ("record (SQLite, commit)", record),
        ("queue (folder, fsyncs)", queue),
    ]  # fmt: skip
    total = 0.0
    for label, step in steps:
        for _ in range(3):
            step()
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            for _ in range(args.repeat):
                step()
            best = min(best, (time.process_time() - started) / args.repeat * 1000)
        total += best
        print(f"{label:28} {best:6.2f} ms")
    print(f"{'together':28} {total:6.2f} ms")
    if args.profile:
        _profile(settings, work)
    return 0


def _profile(settings, work: Path) -> None:
    """Profile whole submissions through the Flask app (test client), without SMTP (mail as .eml files)."""
    import cProfile
    import pstats

    from handler.app import create_app
    from support import valid_answers

    config = {
        "SCHEMA_DIR": str(ROOT / "schema"),
        "OUTBOX_DIR": str(work / "outbox-app"),
        "MAIL_DIR": str(work / "mail"),
        "RATELIMIT": "",
        "RECIPIENT_RATELIMIT": "",
        "SECRET_KEY": "k" * 48,
        "DATABASE_URL": f"sqlite:///{work / 'f.db'}",
    }
    client = create_app(config).test_client()
    answers = valid_answers()
    for _ in range(10):
        client.post("/api/forms/bus-avvikelse", data=answers, headers={"Accept": "application/json"})
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(100):
        client.post("/api/forms/bus-avvikelse", data=answers, headers={"Accept": "application/json"})
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())
