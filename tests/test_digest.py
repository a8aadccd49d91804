"""The weekly digest to the secretariat: what it tells (references only), when it is due, and that it goes
once a week across restarts and several workers, against a real SQLite register and real processes."""

from __future__ import annotations

import datetime
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from handler import cli
from handler.body import read_body
from handler.check import check_project
from handler.errors import DeliveryUnavailable
from handler.normalise import clean
from handler.reference import TIMEZONE
from handler.register import Register, new_report
from handler.register.models import Digest
from handler.settings import load
from handler.summary.digest import compose, gather, is_due, send_week, week_of
from handler.validation import validate
from support import free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "a-secret-key-of-forty-characters-or-so!!"
BUS = check_project(ROOT / "schema").ok()["bus-avvikelse"]
MONDAY = datetime.datetime(2026, 3, 16, 7, 0, tzinfo=TIMEZONE)  # week 12
# What a report holds that a digest must never show: unit names, addresses, people, the text typed.
PRIVATE = [
    "Björkskolan",
    "BUP Solna",
    "rektor@solna.se",
    "chef.bup@regionstockholm.se",
    "carl.chef@solna.se",
    "eva.ek@solna.se",
    "Anna Andersson",
    "Eva Ek",
    "Carl Chef",
    "Remiss",
    "Gemensamt möte",
    "08-123",
]


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=TIMEZONE)


def entry(reference: str, arrived: datetime.datetime):
    """A valid BUS report (two receiving units, from support.valid_answers) as the register records it."""
    body = read_body(BUS, "application/x-www-form-urlencoded", urlencode(valid_answers()).encode())
    return new_report(BUS, validate(BUS, clean(body.answers)), reference, arrived)


@pytest.fixture
def register(tmp_path):
    register = Register(f"sqlite:///{tmp_path / 'formkit.db'}", secret_key=KEY)
    register.upgrade()
    yield register
    register.close()


def settings_for(tmp_path, **overrides):
    """Settings as a worker has them, with the mail written to a folder unless an SMTP host is given."""
    base = {
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "SMTP_HOST": "",
        "MAIL_FROM": "Formulärtjänsten <no-reply@example.se>",
        "MAIL_DOMAIN": "example.se",
        "TESTING": True,
    }
    return load({**base, **overrides}, environ={})


def outbox_of(settings):
    from handler.outbox import outbox_for

    return outbox_for(settings.outbox)


def delivered(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]


def the_week(register) -> Register:
    """Record what a week shows: one report overdue and answered by one unit, one new, others outside it."""
    register.record(entry("BUS-20260105-AAAAAA", at(2026, 1, 5, 9)))  # deadline 2026-03-05
    register.mark_answered("BUS-20260105-AAAAAA", 0, at(2026, 3, 9, 10))
    register.record(entry("BUS-20260110-BBBBBB", at(2026, 1, 10, 9)))  # answered by both, before the week
    for unit in (0, 1):
        register.mark_answered("BUS-20260110-BBBBBB", unit, at(2026, 2, 1, 9))
    register.record(entry("BUS-20260310-CCCCCC", at(2026, 3, 10, 9)))  # new this week
    register.record(entry("BUS-20260316-DDDDDD", at(2026, 3, 16, 7, 30)))  # after the digest went
    return register


# ---- what it tells ----


def test_the_digest_names_new_answered_and_overdue_reports_by_reference_only(register, tmp_path):
    the_week(register)
    contents = gather(register, BUS, MONDAY - datetime.timedelta(days=7), MONDAY)
    message = compose(contents, settings_for(tmp_path).mail)
    text = message.as_string()
    body = message.get_payload(decode=True).decode()

    assert str(email.header.make_header(email.header.decode_header(message["Subject"]))) == (
        "Veckosammanfattning BUS-avvikelse vecka 12: 1 nya, 1 besvarade, 1 försenade"
    )
    assert message["To"] == "BUS-avvikelser@storsthlm.se, BUS-avvikelser.hsf@sll.se"
    assert message["Message-ID"] == "<bus-avvikelse.digest.2026-W12@example.se>"
    assert body == (
        "Hej!\n\n"
        "Här är veckans sammanfattning av BUS-avvikelse för vecka 12, från 2026-03-09 07:00 till 2026-03-16 07:00. "
        "Den innehåller bara referenser: rapporterna och svaren finns i e-posten som sekretariatet har fått för "
        "kännedom.\n\n"
        "Nya rapporter (1):\n"
        "- BUS-20260310-CCCCCC, svara senast 2026-05-10\n\n"
        "Besvarade under perioden (1):\n"
        "- BUS-20260105-AAAAAA: 1 av 2 verksamheter har svarat\n\n"
        "Försenade, svarstiden har gått ut (1):\n"
        "- BUS-20260105-AAAAAA: sista svarsdag 2026-03-05, 1 av 2 verksamheter har inte svarat\n\n"
        "Sammanfattningen skickas varje måndag från klockan 07.00.\n"
    )
    for private in PRIVATE:
        assert private not in body and private not in text, private


def test_an_empty_week_says_none_in_each_list(register, tmp_path):
    body = compose(gather(register, BUS, MONDAY - datetime.timedelta(days=7), MONDAY), settings_for(tmp_path).mail)
    lines = body.get_payload(decode=True).decode().splitlines()

    assert [lines[i] for i in (4, 5, 7, 8, 10, 11)] == [
        "Nya rapporter (0):", "- Inga.", "Besvarade under perioden (0):", "- Inga.",
        "Försenade, svarstiden har gått ut (0):", "- Inga.",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("when", "due"),
    [
        (at(2026, 3, 16, 6, 59), False),  # Monday before seven in Stockholm
        (at(2026, 3, 16, 7, 0), True),
        (datetime.datetime(2026, 3, 16, 5, 30, tzinfo=datetime.UTC), False),  # 06:30 in Stockholm (winter time)
        (datetime.datetime(2026, 3, 16, 6, 0, tzinfo=datetime.UTC), True),  # 07:00 in Stockholm
        (datetime.datetime(2026, 6, 15, 5, 0, tzinfo=datetime.UTC), True),  # 07:00 in Stockholm (summer time)
        (at(2026, 3, 19, 12, 0), True),  # later in the week: a worker that was down sends it then
        (at(2026, 3, 22, 23, 59), True),  # Sunday night, still the same ISO week
    ],
)
def test_the_digest_is_due_from_its_day_and_hour_in_stockholm_to_the_end_of_the_week(when, due):
    assert is_due(BUS, when) is due
    assert week_of(when) == ("2026-W25" if when.month == 6 else "2026-W12")


# ---- once a week ----


def test_a_week_has_one_digest_and_the_next_covers_everything_since(register, tmp_path):
    settings = settings_for(tmp_path)
    send = {"outbox": outbox_of(settings), "smtp": settings.smtp, "mail": settings.mail}
    the_week(register)

    first = send_week(register, BUS, **send, when=MONDAY.replace(minute=5))
    again = send_week(register, BUS, **send, when=at(2026, 3, 18, 12))
    later = send_week(register, BUS, **send, when=at(2026, 3, 23, 7, 10))

    assert first.week == "2026-W12" and again is None and later.week == "2026-W13"
    assert first.since == at(2026, 3, 9, 7, 5) and later.since == first.until == at(2026, 3, 16, 7, 5)
    assert [r.reference for r in later.new] == ["BUS-20260316-DDDDDD"]  # arrived 07:30, after the first
    assert [m["Message-ID"] for m in delivered(tmp_path / "mail")] == [
        "<bus-avvikelse.digest.2026-W12@example.se>",
        "<bus-avvikelse.digest.2026-W13@example.se>",
    ]


def test_a_digest_that_cannot_be_sent_is_not_claimed_and_goes_on_the_next_round(register, tmp_path):
    down = settings_for(tmp_path, OUTBOX_DIR="", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens
    up = settings_for(tmp_path, OUTBOX_DIR="")

    with pytest.raises(DeliveryUnavailable):
        send_week(register, BUS, outbox=None, smtp=down.smtp, mail=down.mail, when=MONDAY)
    with register.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Digest)) == 0
    sent = send_week(register, BUS, outbox=None, smtp=up.smtp, mail=up.mail, when=MONDAY.replace(minute=5))

    assert sent.week == "2026-W12" and len(delivered(tmp_path / "mail")) == 1


RACE = """
import datetime, json, sys, time
from handler.check import check_project
from handler.outbox import outbox_for
from handler.register import Register
from handler.settings import load
from handler.summary.digest import send_week

settings = load(development=True)
form = check_project(settings.schema_dir).ok()["bus-avvikelse"]
register = Register.from_settings(settings)
when = datetime.datetime.fromisoformat(sys.argv[2])
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # both processes go at the same instant
sent = send_week(register, form, outbox=outbox_for(settings.outbox), smtp=settings.smtp, mail=settings.mail, when=when)
print(json.dumps("gone" if sent is None else sent.week))
"""


def operator_env(**variables: str) -> dict:
    """The environment an operator's process gets: only the FORMKIT_* variables given."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("FORMKIT_")}
    return {**clean, **{f"FORMKIT_{name}": value for name, value in variables.items()}}


def test_two_processes_claiming_the_same_week_at_once_send_one_digest(register, tmp_path):
    the_week(register)
    env = operator_env(
        DATABASE_URL=str(register.url),
        SCHEMA_DIR=str(ROOT / "schema"),
        SMTP_HOST="",
        OUTBOX_DIR=str(tmp_path / "outbox"),
        MAIL_DIR=str(tmp_path / "mail"),
        SECRET_KEY=KEY,
    )
    start = str(time.time() + 4)  # after both have imported the handler
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, start, MONDAY.isoformat()],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))

    assert sorted(results) == ["2026-W12", "gone"]
    assert len(delivered(tmp_path / "mail")) == 1
    with register.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Digest)) == 1


def due_now_schema(tmp_path) -> Path:
    """The real forms, with the digest due from midnight today (Stockholm): a worker started now sends it."""
    folder = tmp_path / "schema"
    shutil.copytree(ROOT / "schema", folder)
    path = folder / "bus-avvikelse.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    weekday = datetime.datetime.now(TIMEZONE).weekday()
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    schema["x-formkit"]["digest"] |= {"weekday": days[weekday], "hour": 0}
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def test_two_workers_send_the_digest_once_and_a_restarted_worker_sends_none(register, tmp_path, smtp_server):
    register.record(entry("BUS-20260310-CCCCCC", datetime.datetime.now(TIMEZONE) - datetime.timedelta(days=1)))
    env = operator_env(
        DATABASE_URL=str(register.url),
        SCHEMA_DIR=str(due_now_schema(tmp_path)),
        SECRET_KEY=KEY,
        OUTBOX_DIR=str(tmp_path / "outbox"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
    )
    inbox = smtp_server.inbox

    def digests() -> list:
        return [m for m in inbox.messages if m["X-Formkit-Digest"]]

    def worker():
        command = [str(BIN / "formkit"), "outbox", "run"]
        return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    workers = [worker(), worker()]
    try:
        for _ in range(600):
            if digests():
                break
            time.sleep(0.05)
        time.sleep(3)  # time for the other worker's first round, which must find the week claimed
        assert len(digests()) == 1
    finally:
        for process in workers:
            process.terminate()
        outputs = [process.communicate(timeout=20)[0].decode() for process in workers]
    assert all("levereras" in output for output in outputs), outputs
    assert sum("digest=" in output and "outcome=queued" in output for output in outputs) == 1, outputs
    assert digests()[0]["X-Formkit-Digest"] == f"bus-avvikelse {week_of(datetime.datetime.now(TIMEZONE))}"
    assert "BUS-20260310-CCCCCC" in digests()[0].get_content()

    restarted = worker()
    try:
        time.sleep(4)  # started, looked, found the week's digest sent
    finally:
        restarted.terminate()
        output = restarted.communicate(timeout=20)[0].decode()
    assert "levereras" in output and "outcome=queued" not in output
    assert len(digests()) == 1


# ---- the command and the form's settings ----


@pytest.fixture
def operator(tmp_path, monkeypatch, register):
    """The environment of `formkit digest`: the real forms, the register, mail written to a folder."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("FORMKIT_")]:
        monkeypatch.delenv(name)
    variables = {"SCHEMA_DIR": str(ROOT / "schema"), "DATABASE_URL": str(register.url), "SMTP_HOST": "",
                 "OUTBOX_DIR": str(tmp_path / "outbox"), "MAIL_DIR": str(tmp_path / "mail")}  # fmt: skip
    for name, value in variables.items():
        monkeypatch.setenv(f"FORMKIT_{name}", value)
    return register


def test_formkit_digest_sends_this_weeks_digest_and_then_says_it_has_gone(operator, tmp_path, capsys):
    operator.record(entry("BUS-20260310-CCCCCC", datetime.datetime.now(TIMEZONE)))

    first = cli.main(["digest"])
    second = cli.main(["digest", "--formular", "bus-avvikelse"])

    week = week_of(datetime.datetime.now(TIMEZONE))
    assert (first, second) == (0, 0)
    assert capsys.readouterr().out.splitlines() == [
        f"Veckosammanfattningen för bus-avvikelse vecka {week} är skickad till BUS-avvikelser@storsthlm.se, "
        "BUS-avvikelser.hsf@sll.se: 1 nya, 0 besvarade, 0 försenade.",
        f"Veckosammanfattningen för bus-avvikelse vecka {week} har redan skickats.",
    ]
    assert [m["X-Formkit-Digest"] for m in delivered(tmp_path / "mail")] == [f"bus-avvikelse {week}"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ("bus-avvikelse-svar", 'Formuläret "bus-avvikelse-svar" har ingen "digest" i x-formkit.'),
        ("bus", 'Formuläret "bus" finns inte.'),
    ],
)
def test_formkit_digest_names_the_forms_that_have_a_digest(operator, capsys, form, message):
    assert cli.main(["digest", "--formular", form]) == 2
    assert capsys.readouterr().err == f"{message} Formulär med veckosammanfattning: bus-avvikelse.\n"


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        ({"to": ["sekretariat@gmail.com"]}, 'adressen "sekretariat@gmail.com" är inte i formulärets tillåtna domäner'),
        ({"to": ["BUS-avvikelser@storsthlm.se"], "weekday": "måndag"}, "Skriv veckodagen på engelska med små"),
        ({"to": []}, "Skriv en lista med minst en e-postadress"),
        ({"to": ["BUS-avvikelser"]}, "Skriv en e-postadress utan namn"),
        ({"to": ["BUS-avvikelser@storsthlm.se"], "hour": 24}, "Skriv ett klockslag 0–23 utan citattecken"),
    ],
)
def test_formkit_check_refuses_a_digest_it_cannot_send(tmp_path, digest, expected):
    folder = tmp_path / "schema"
    shutil.copytree(ROOT / "schema", folder)
    path = folder / "bus-avvikelse.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["x-formkit"]["allowed_domains"] = ["se"]
    schema["x-formkit"]["digest"] = digest
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")

    problems = [str(problem) for problem in check_project(folder).problems]

    assert any(expected in problem and "x-formkit.digest" in problem for problem in problems), problems


def test_formkit_digest_says_in_swedish_when_it_cannot_send_and_claims_nothing(operator, capsys, monkeypatch):
    monkeypatch.setenv("FORMKIT_OUTBOX_DIR", "")  # serverless: the digest must reach the SMTP server at once
    monkeypatch.setenv("FORMKIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FORMKIT_SMTP_PORT", str(free_port()))  # nobody listens

    assert cli.main(["digest"]) == 1
    assert capsys.readouterr().err == (
        "Veckosammanfattningen för bus-avvikelse kunde inte skickas just nu (se loggen ovan). Veckan är inte "
        "markerad som skickad: kör formkit digest igen om en stund.\n"
    )
    with operator.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Digest)) == 0
