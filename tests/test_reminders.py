"""Reminders and overdue notices: due at the right day, sent exactly once across rounds, restarts and workers."""

from __future__ import annotations

import datetime
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from urllib.parse import urlencode

import pytest

from handler import cli, reply
from handler.app import create_app
from handler.body import read_body
from handler.check import check_project
from handler.normalise import clean
from handler.outbox import Outbox
from handler.reference import TIMEZONE, new_reference, now
from handler.register import Register, new_report
from handler.reminders import Round, send_due
from handler.reply import Link
from handler.settings import load
from handler.validation import validate
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "a-secret-key-of-forty-characters-or-so!!"
FORMS = check_project(ROOT / "schema").ok()
BUS = FORMS["bus-avvikelse"]
ARRIVED = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=TIMEZONE)  # deadline 2026-05-10
TWO_WEEKS_BEFORE = datetime.datetime(2026, 4, 26, 8, 0, tzinfo=TIMEZONE)
SECRETARIAT = ["BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"]
UNITS = ["rektor@solna.se", "chef.bup@regionstockholm.se"]
names = (f"reminders_{n}" for n in itertools.count())


def answers() -> dict:
    body = read_body(BUS, "application/x-www-form-urlencoded", urlencode(valid_answers()).encode())
    return validate(BUS, clean(body.answers))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """An empty database of each kind: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'register.db'}"
    return request.getfixturevalue("postgres").database(next(names))


@pytest.fixture
def register(url):
    register = Register(url, secret_key=KEY)
    register.upgrade()
    yield register
    register.close()


@pytest.fixture
def settings(config):
    return load({**config, "SECRET_KEY": KEY})


@pytest.fixture
def outbox(tmp_path) -> Outbox:
    return Outbox(tmp_path / "outbox")


def record(register, arrived=ARRIVED, form=BUS) -> str:
    """Record a BUS report that arrived at `arrived`; return its reference."""
    reference = new_reference("BUS", arrived)
    register.record(new_report(form, answers(), reference, arrived))
    return reference


def ids(messages) -> list[str]:
    return sorted(message["Message-ID"] for message in messages)


def addresses(message, header: str = "To") -> list[str]:
    return [a.addr_spec for a in message[header].addresses]


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return next(line.strip() for line in body.splitlines() if "/svara?token=" in line)


# ---- a round ----


def test_a_unit_that_has_not_answered_gets_one_reminder_two_weeks_before_the_deadline(
    register, settings, outbox, smtp_server
):
    reference = record(register)

    early = send_due(FORMS, settings, register, outbox, TWO_WEEKS_BEFORE - datetime.timedelta(days=1))
    due = send_due(FORMS, settings, register, outbox, TWO_WEEKS_BEFORE)
    again = send_due(FORMS, settings, register, outbox, TWO_WEEKS_BEFORE + datetime.timedelta(days=1))

    assert (early, due, again) == (Round(), Round(reminded=2), Round())
    messages = smtp_server.inbox.wait_for(2)
    assert ids(messages) == [f"<{reference}.reminder.{unit}@formkit.localhost>" for unit in (0, 1)]
    for unit, message in enumerate(sorted(messages, key=lambda m: m["Message-ID"])):
        assert addresses(message) == [UNITS[unit]] and message["Cc"] is None
        assert message["Subject"] == f"Påminnelse: BUS-avvikelse {reference} – Svara senast 2026-05-10"
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(link_in(message)).query)["token"][0]
        assert reply.verify(settings.links, "bus-avvikelse-svar", token) == Link(reference, unit)
        assert [p.get_filename() for p in message.iter_attachments()] == [f"{reference}.docx"]
        assert addresses(message, "Reply-To") == ["carl.chef@solna.se"]
    assert all(unit.reminded_at == TWO_WEEKS_BEFORE for unit in register.units(reference))


def test_a_unit_that_answered_gets_no_reminder(register, settings, outbox, smtp_server):
    reference = record(register)
    register.mark_answered(reference, 1)

    assert send_due(FORMS, settings, register, outbox, TWO_WEEKS_BEFORE) == Round(reminded=1)
    assert addresses(smtp_server.inbox.wait_for(1)[0]) == ["rektor@solna.se"]
    assert register.units(reference)[1].reminded_at is None


def test_after_a_restart_nothing_is_sent_twice(register, url, settings, outbox, smtp_server):
    record(register)
    send_due(FORMS, settings, register, outbox, TWO_WEEKS_BEFORE)
    restarted = Register(url, secret_key=KEY)

    assert send_due(FORMS, settings, restarted, Outbox(outbox.root), TWO_WEEKS_BEFORE) == Round()
    time.sleep(0.3)
    assert len(smtp_server.inbox.messages) == 2
    restarted.close()


def test_the_days_before_come_from_the_forms_reply_link(register, settings, outbox, smtp_server, tmp_path):
    schema = json.loads((ROOT / "schema" / "bus-avvikelse.json").read_text(encoding="utf-8"))
    schema["x-formkit"]["reply_link"]["remind_days_before"] = 3
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "bus-avvikelse.json").write_text(json.dumps(schema), encoding="utf-8")
    shutil.copy(ROOT / "schema" / "bus-avvikelse-svar.json", folder)
    forms = check_project(folder).ok()
    record(register, form=forms["bus-avvikelse"])

    assert send_due(forms, settings, register, outbox, TWO_WEEKS_BEFORE) == Round()
    assert send_due(forms, settings, register, outbox, datetime.datetime(2026, 5, 7, tzinfo=TIMEZONE)) == Round(2)


def test_the_secretariat_gets_one_notice_per_report_whose_deadline_passed_with_a_unit_unanswered(
    register, settings, outbox, smtp_server
):
    open_one, done = record(register), record(register)
    register.mark_answered(open_one, 0)
    for unit in (0, 1):
        register.mark_answered(done, unit)
    after = datetime.datetime(2026, 5, 11, 7, 0, tzinfo=TIMEZONE)

    on_the_day = send_due(FORMS, settings, register, outbox, after - datetime.timedelta(days=1))
    passed = send_due(FORMS, settings, register, outbox, after)
    again = send_due(FORMS, settings, register, outbox, after + datetime.timedelta(days=7))

    assert (on_the_day.notified, passed, again) == (0, Round(notified=1), Round())
    notices = [m for m in smtp_server.inbox.wait_for(1) if ".overdue@" in m["Message-ID"]]
    [notice] = notices
    assert notice["Message-ID"] == f"<{open_one}.overdue@formkit.localhost>"
    assert addresses(notice) == SECRETARIAT
    body = notice.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "De här verksamheterna har inte svarat:\n- BUP Solna" in body and "- Björkskolan (besvarad" in body
    assert "Remiss" not in body and "carl.chef" not in body  # references and unit names only
    assert register.report(open_one).overdue_notified_at == after


def test_a_reminder_that_cannot_be_queued_is_not_claimed_and_goes_out_next_round(
    register, settings, tmp_path, smtp_server
):
    reference = record(register)
    (tmp_path / "not-a-folder").write_text("the outbox should be a folder")

    failed = send_due(FORMS, settings, register, Outbox(tmp_path / "not-a-folder"), TWO_WEEKS_BEFORE)
    unclaimed = [unit.reminded_at for unit in register.units(reference)]
    later = send_due(FORMS, settings, register, Outbox(tmp_path / "outbox"), TWO_WEEKS_BEFORE)

    assert failed == Round(failed=2) and unclaimed == [None, None]
    assert later == Round(reminded=2) and len(smtp_server.inbox.wait_for(2)) == 2


def test_the_reminders_link_opens_the_answer_page_for_its_unit(config, smtp_server):
    app = create_app(config)
    forms, settings, register, outbox = (app.extensions[f"formkit.{n}"] for n in ("forms", "settings", "register",
                                                                                  "outbox"))  # fmt: skip
    reference = record(register)
    send_due(forms, settings, register, outbox, TWO_WEEKS_BEFORE)
    [reminder] = [
        m for m in smtp_server.inbox.wait_for(2) if m["Message-ID"].endswith(".reminder.1@formkit.localhost>")
    ]

    page = app.test_client().get(link_in(reminder).removeprefix(settings.links.base_url))

    assert page.status_code == 200
    assert reference in page.text and "Ditt svar för BUP Solna" in page.text


def test_the_worker_sends_the_reminders_by_itself(register, settings, outbox, smtp_server):
    due_now(register)  # today's, since the worker purges first: an old report's addresses would be gone
    stop = threading.Event()

    def remind():
        return send_due(FORMS, settings, register, outbox)

    thread = cli.start_register_worker(register, every=0.05, stop=stop, remind=remind)
    try:
        messages = smtp_server.inbox.wait_for(2)
        stop.wait(0.3)  # several more rounds
    finally:
        stop.set()
        thread.join(5)

    assert len(messages) == 2 and len(smtp_server.inbox.messages) == 2 and not thread.is_alive()


# ---- the commands, as cron and operators run them ----


def operator_env(**variables: str) -> dict:
    """The environment an operator's command gets: only the FORMKIT_* variables given."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("FORMKIT_")}
    return {**kept, **{f"FORMKIT_{name}": str(value) for name, value in variables.items()}}


def due_now(register, reports: int = 1, overdue: int = 0) -> list[str]:
    """Record reports whose reminders are due today, and reports overdue today; return their references."""
    today = now()
    return [record(register, today - datetime.timedelta(days=55)) for _ in range(reports)] + [
        record(register, today - datetime.timedelta(days=100)) for _ in range(overdue)
    ]


def test_formkit_remind_sends_what_is_due_once_and_says_how_many(tmp_path, smtp_server):
    database = f"sqlite:///{tmp_path / 'formkit.db'}"
    register = Register(database, secret_key=KEY)
    register.upgrade()
    due_now(register, reports=1, overdue=1)
    env = operator_env(
        DATABASE_URL=database, SECRET_KEY=KEY, SCHEMA_DIR=ROOT / "schema", OUTBOX_DIR=tmp_path / "outbox",
        SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
    )  # fmt: skip

    first = subprocess.run([str(BIN / "formkit"), "remind"], cwd=tmp_path, env=env, capture_output=True, text=True)
    second = subprocess.run([str(BIN / "formkit"), "remind"], cwd=tmp_path, env=env, capture_output=True, text=True)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "2 påminnelser och 1 meddelande om passerad svarsdag skickade."
    assert second.stdout.strip() == "0 påminnelser och 0 meddelanden om passerad svarsdag skickade."
    assert len(smtp_server.inbox.wait_for(3)) == 3
    register.close()


def test_formkit_remind_refuses_a_database_not_upgraded(tmp_path):
    env = operator_env(DATABASE_URL=f"sqlite:///{tmp_path / 'formkit.db'}", SECRET_KEY=KEY, SCHEMA_DIR=ROOT / "schema")

    run = subprocess.run([str(BIN / "formkit"), "remind"], cwd=tmp_path, env=env, capture_output=True, text=True)

    assert run.returncode == 1 and "formkit db upgrade" in run.stderr


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_workers_at_once_send_each_reminder_and_notice_exactly_once(kind, tmp_path, smtp_server, request):
    if kind == "sqlite":
        database = f"sqlite:///{tmp_path / 'formkit.db'}"
    else:
        database = request.getfixturevalue("postgres").database(next(names))
    register = Register(database, secret_key=KEY)
    register.upgrade()
    references = due_now(register, reports=12, overdue=4)
    env = operator_env(
        DATABASE_URL=database, SECRET_KEY=KEY, SCHEMA_DIR=ROOT / "schema", OUTBOX_DIR=tmp_path / "outbox",
        SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
    )  # fmt: skip

    workers = [
        subprocess.Popen(
            [str(BIN / "formkit"), "remind"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    expected = [f"<{r}.reminder.{unit}@formkit.localhost>" for r in references[:12] for unit in (0, 1)]
    expected += [f"<{r}.overdue@formkit.localhost>" for r in references[12:]]
    received = smtp_server.inbox.wait_for(len(expected), timeout=30)
    time.sleep(0.5)  # anything sent twice would have arrived by now
    assert ids(smtp_server.inbox.messages) == sorted(expected)  # each once, by two workers at once
    said = [out.decode().split()[:4] for out, _ in outputs]
    assert sum(int(words[0]) for words in said) == 24 and sum(int(words[3]) for words in said) == 4
    assert len(received) == 28
    register.close()


def test_formkit_outbox_run_sends_the_reminders_by_itself(tmp_path, smtp_server):
    database = f"sqlite:///{tmp_path / 'formkit.db'}"
    register = Register(database, secret_key=KEY)
    register.upgrade()
    [reference] = due_now(register)
    env = operator_env(
        DATABASE_URL=database, SECRET_KEY=KEY, SCHEMA_DIR=ROOT / "schema", OUTBOX_DIR=tmp_path / "outbox",
        SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
    )  # fmt: skip
    process = subprocess.Popen([str(BIN / "formkit"), "outbox", "run"], cwd=tmp_path, env=env)
    try:
        for _ in range(600):  # the weekly digest may go out from the same worker: only the reminders count here
            reminders = [m for m in smtp_server.inbox.messages if ".reminder." in m["Message-ID"]]
            if len(reminders) >= 2:
                break
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(20)

    assert ids(reminders) == [f"<{reference}.reminder.{unit}@formkit.localhost>" for unit in (0, 1)]
    register.close()
