"""The register, against SQLite and a real PostgreSQL server: records, states, claims, retention, migrations."""

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
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from handler import cli
from handler.app import create_app
from handler.body import read_body
from handler.check import check_project
from handler.forms import read_forms
from handler.normalise import clean
from handler.reference import TIMEZONE
from handler.register import NotRecorded, Register, new_report
from handler.settings import SettingsError, load
from handler.validation import validate
from support import free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
KEY = "a-secret-key-of-forty-characters-or-so!!"
FORMS = check_project(ROOT / "schema").ok()
BUS = FORMS["bus-avvikelse"]
ARRIVED = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=TIMEZONE)  # deadline: 2026-05-10
names = (f"register_{n}" for n in itertools.count())


def answers(**changes) -> dict:
    """Return a valid BUS report's clean answers (two receiving units), with `changes` to the posted fields."""
    body = read_body(BUS, "application/x-www-form-urlencoded", urlencode(valid_answers() | changes).encode())
    return validate(BUS, clean(body.answers))


def entry(reference: str = "BUS-20260310-AAAAAA", arrived: datetime.datetime = ARRIVED, **changes):
    return new_report(BUS, answers(**changes), reference, arrived)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """An empty database of each kind: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'register.db'}"
    return request.getfixturevalue("postgres").database(next(names))


@pytest.fixture
def register(url):
    register = Register(url, secret_key=KEY, retention_days=30)
    register.upgrade()
    yield register
    register.close()


# ---- what a report leaves in the register ----


def test_a_report_is_recorded_with_its_units_their_managers_and_its_deadline(register):
    register.record(entry())

    found = register.report("BUS-20260310-AAAAAA")
    assert (found.form_id, found.form_version, found.arrived_at) == ("bus-avvikelse", BUS.version, ARRIVED)
    assert found.deadline == datetime.date(2026, 5, 10)
    assert [(u.index, u.name, u.address) for u in found.units] == [
        (0, "Björkskolan", "rektor@solna.se"),
        (1, "BUP Solna", "chef.bup@regionstockholm.se"),
    ]
    assert all(u.sent_at == ARRIVED and u.answered_at is None and u.reminded_at is None for u in found.units)
    assert found.is_open and found.erased_at is None


def test_the_statistics_hold_the_named_choices_only_never_free_text(register):
    register.record(entry(omrade="skolskjuts"))

    found = register.report("BUS-20260310-AAAAAA")
    assert dict(found.statistics) == {
        "/omrade": ("skolskjuts",),
        "/beskrivning/rapporterande/verksamhetstyp": ("grundskola",),
        "/beskrivning/rapporterande/huvudman": ("solna",),
        "/verksamheter/0/verksamhetstyp": ("grundskola",),
        "/verksamheter/1/verksamhetstyp": ("bup",),
        "/verksamheter/0/huvudman": ("solna",),
        "/verksamheter/1/huvudman": ("region-stockholm",),
    }
    assert found.values("/verksamheter/*/verksamhetstyp") == ["grundskola", "bup"]
    assert dict(found.units[1].statistics) == {"verksamhetstyp": ("bup",), "huvudman": ("region-stockholm",)}


def test_the_answers_are_kept_encrypted_and_read_back_whole(register):
    register.record(entry())

    with register.engine.connect() as connection:
        stored = connection.execute(text("SELECT answers, statistics FROM reports")).one()
    assert b"Anna Andersson" not in bytes(stored.answers) and "Andersson" not in json.dumps(stored.statistics)
    assert register.report("BUS-20260310-AAAAAA").answers == answers()


def test_a_register_key_encrypts_instead_and_answers_sealed_before_stay_readable(url):
    before = Register(url, secret_key=KEY)
    before.upgrade()
    before.record(entry("BUS-20260310-AAAAAA"))
    after = Register(url, register_key="r" * 40, secret_key=KEY)
    after.record(entry("BUS-20260310-BBBBBB"))
    stranger = Register(url, secret_key="another-key-of-forty-characters-or-more!")

    assert after.report("BUS-20260310-AAAAAA").answers == answers()
    assert after.report("BUS-20260310-BBBBBB").answers == answers()
    assert stranger.report("BUS-20260310-BBBBBB").answers is None  # no key of its own opens it: logged, not a 500
    for register in (before, after, stranger):
        register.close()


def test_a_report_without_receiving_units_keeps_no_answers(register, tmp_path):
    schema = json.loads((ROOT / "schema" / "bus-avvikelse.json").read_text(encoding="utf-8"))
    for key in ("units", "unit_name", "unit_address"):
        del schema["x-formkit"]["reply_link"][key]
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "bus-avvikelse.json").write_text(json.dumps(schema), encoding="utf-8")
    shutil.copy(ROOT / "schema" / "bus-avvikelse-svar.json", folder)
    form = check_project(folder).ok()["bus-avvikelse"]

    register.record(new_report(form, answers(), "BUS-20260310-AAAAAA", ARRIVED))

    found = register.report("BUS-20260310-AAAAAA")
    assert found.units == () and found.answers is None and found.erased_at == ARRIVED
    assert found.statistics["/omrade"] == ("samverkan",)


def test_an_unknown_reference_is_none_and_has_no_units(register):
    assert register.report("BUS-20260310-NOSUCH") is None
    assert register.units("BUS-20260310-NOSUCH") == []


# ---- the units' states ----


def test_a_units_first_answer_counts_once_and_a_supplement_is_marked_apart(register):
    register.record(entry())
    first, later = ARRIVED + datetime.timedelta(days=3), ARRIVED + datetime.timedelta(days=9)

    assert register.mark_answered("BUS-20260310-AAAAAA", 1, first) is True
    assert register.mark_answered("BUS-20260310-AAAAAA", 1, later) is False
    register.mark_supplemented("BUS-20260310-AAAAAA", 1, later)

    björkskolan, bup = register.units("BUS-20260310-AAAAAA")
    assert (bup.answered_at, bup.supplemented_at) == (first, later)
    assert björkskolan.answered_at is None and register.report("BUS-20260310-AAAAAA").is_open


@pytest.mark.parametrize("mark", ["mark_answered", "mark_supplemented", "mark_reminded"])
def test_marking_a_unit_that_is_not_recorded_says_so(register, mark):
    register.record(entry())

    with pytest.raises(NotRecorded):
        getattr(register, mark)("BUS-20260310-AAAAAA", 2)
    with pytest.raises(NotRecorded):
        getattr(register, mark)("BUS-20260310-NOSUCH", 0)


def test_a_reminder_is_claimed_by_exactly_one_of_eight_workers_at_once(register, url):
    register.record(entry())
    workers = [Register(url, secret_key=KEY) for _ in range(8)]
    start, won = threading.Barrier(len(workers)), []

    def claim(worker):
        start.wait()
        won.append(worker.mark_reminded("BUS-20260310-AAAAAA", 0))

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(won) == [False] * 7 + [True]
    assert register.mark_reminded("BUS-20260310-AAAAAA", 0) is False  # later, or after a restart: still no
    for worker in workers:
        worker.close()


def test_due_reminders_are_the_units_neither_answered_nor_reminded_close_to_their_deadline(register):
    register.record(entry("BUS-20260310-AAAAAA"))  # deadline 2026-05-10
    register.record(entry("BUS-20260320-BBBBBB", ARRIVED + datetime.timedelta(days=10)))  # deadline 2026-05-20
    register.mark_answered("BUS-20260310-AAAAAA", 0)
    register.mark_reminded("BUS-20260310-AAAAAA", 1)
    day = datetime.datetime(2026, 4, 27, 8, 0, tzinfo=TIMEZONE)

    assert register.due_reminders(day, 14) == []  # 13 days to the first deadline, whose units are done
    due = register.due_reminders(day + datetime.timedelta(days=10), 14)
    assert [(d.reference, d.unit_index, d.unit_name, d.address, d.deadline) for d in due] == [
        ("BUS-20260320-BBBBBB", 0, "Björkskolan", "rektor@solna.se", datetime.date(2026, 5, 20)),
        ("BUS-20260320-BBBBBB", 1, "BUP Solna", "chef.bup@regionstockholm.se", datetime.date(2026, 5, 20)),
    ]
    assert register.due_reminders(day + datetime.timedelta(days=10), 14, form_id="annat-formular") == []
    assert register.due_reminders(datetime.datetime(2026, 5, 21, tzinfo=TIMEZONE), 14) == []  # too late to remind


def test_overdue_reports_have_a_passed_deadline_and_a_unit_open_and_are_noticed_once(register):
    register.record(entry("BUS-20260310-AAAAAA"))
    register.record(entry("BUS-20260310-BBBBBB"))
    for unit in (0, 1):
        register.mark_answered("BUS-20260310-BBBBBB", unit)

    assert register.overdue(datetime.datetime(2026, 5, 10, 23, 0, tzinfo=TIMEZONE)) == []  # the deadline day itself
    overdue = register.overdue(datetime.datetime(2026, 5, 11, 0, 30, tzinfo=TIMEZONE))
    assert [report.reference for report in overdue] == ["BUS-20260310-AAAAAA"]
    assert register.mark_overdue_notified("BUS-20260310-AAAAAA") is True
    assert register.mark_overdue_notified("BUS-20260310-AAAAAA") is False


# ---- retention ----


def test_purge_erases_the_answers_and_addresses_once_every_unit_has_answered(register):
    register.record(entry())
    register.mark_answered("BUS-20260310-AAAAAA", 0)
    when = ARRIVED + datetime.timedelta(days=5)

    assert register.purge(when) == 0  # BUP Solna has not answered
    register.mark_answered("BUS-20260310-AAAAAA", 1)
    assert register.purge(when) == 1
    assert register.purge(when) == 0

    found = register.report("BUS-20260310-AAAAAA")
    assert (found.answers, found.erased_at) == (None, when)
    assert [(u.name, u.address) for u in found.units] == [("Björkskolan", None), ("BUP Solna", None)]
    assert all(u.answered_at for u in found.units) and found.statistics["/omrade"] == ("samverkan",)


def test_purge_erases_an_open_report_retention_days_after_its_deadline_not_a_day_before(register):
    register.record(entry())  # deadline 2026-05-10; 30 days after: 2026-06-09

    assert register.purge(datetime.datetime(2026, 6, 9, 23, 59, tzinfo=TIMEZONE)) == 0
    assert register.report("BUS-20260310-AAAAAA").answers == answers()
    assert register.purge(datetime.datetime(2026, 6, 10, 0, 1, tzinfo=TIMEZONE)) == 1
    found = register.report("BUS-20260310-AAAAAA")
    assert found.answers is None and found.is_open and found.units[0].sent_at == ARRIVED


# ---- the summary's reads ----


def test_reports_between_takes_both_days_whole_in_stockholm_time(register):
    late = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=TIMEZONE)  # 22:30 UTC
    register.record(entry("BUS-20251231-AAAAAA", datetime.datetime(2025, 12, 31, 23, 59, tzinfo=TIMEZONE)))
    register.record(entry("BUS-20260101-BBBBBB", datetime.datetime(2026, 1, 1, 0, 0, tzinfo=TIMEZONE)))
    register.record(entry("BUS-20261231-CCCCCC", late))
    register.record(entry("BUS-20270101-DDDDDD", datetime.datetime(2027, 1, 1, 0, 1, tzinfo=TIMEZONE)))

    found = register.reports_between(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))

    assert [report.reference for report in found] == ["BUS-20260101-BBBBBB", "BUS-20261231-CCCCCC"]
    assert all(report.answers is None and report.erased_at is None for report in found)  # not even decrypted
    assert register.reports_between(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31), "annat") == []


# ---- the schema ----


def test_a_new_database_is_stale_until_upgraded_and_a_second_upgrade_changes_nothing(url):
    register = Register(url, secret_key=KEY)

    assert register.stale().endswith("has no register tables yet. Run: formkit db upgrade")
    assert register.upgrade() == ("", "0003")
    assert register.stale() == ""
    assert register.upgrade() == ("0003", "0003")
    register.close()


def test_four_processes_starting_at_once_migrate_the_database_once(url):
    registers = [Register(url, secret_key=KEY, busy_timeout=30) for _ in range(4)]
    start, results = threading.Barrier(len(registers)), []

    def upgrade(register):
        start.wait()
        results.append(register.upgrade()[1])

    threads = [threading.Thread(target=upgrade, args=(register,)) for register in registers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["0003"] * 4 and registers[0].stale() == ""
    for register in registers:
        register.close()


def test_the_models_and_the_migrations_describe_the_same_tables(register):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from handler.register.models import Base

    with register.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


# ---- start-up and commands ----


def production(tmp_path, database: str) -> dict:
    return {
        "SCHEMA_DIR": str(ROOT / "schema"),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "DATABASE_URL": database,
        "SECRET_KEY": KEY,
    }


def test_production_refuses_to_start_on_a_database_not_upgraded_naming_the_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database = f"sqlite:///{tmp_path / 'formkit.db'}"

    with pytest.raises(SystemExit) as stopped:
        create_app(production(tmp_path, database))

    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        f"The register's database {database} has no register tables yet. Run: formkit db upgrade\n"
    )


def test_formkit_db_upgrade_makes_the_database_production_starts_on(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORMKIT_DATABASE_URL", "sqlite:///var/formkit.db")  # the default's folder does not exist

    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["db", "upgrade"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Registret i sqlite:///var/formkit.db har uppdaterats till version 0003 (var tomt).",
        "Registret i sqlite:///var/formkit.db är aktuellt (version 0003).",
        "Registret i sqlite:///var/formkit.db är aktuellt (version 0003).",
    ]
    assert (tmp_path / "var" / "formkit.db").stat().st_mode & 0o777 == 0o600
    assert create_app(production(tmp_path, "sqlite:///var/formkit.db")).extensions["formkit.register"].stale() == ""


def test_formkit_db_upgrade_says_in_one_line_when_the_database_cannot_be_opened(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORMKIT_DATABASE_URL", "postgresql://formkit:hemligt@127.0.0.1:1/formkit")

    assert cli.main(["db", "upgrade"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("Registrets databas postgresql+psycopg://formkit:***@127.0.0.1:1/formkit kunde inte öppnas:")
    assert err.count("\n") == 1 and "hemligt" not in err and "Traceback" not in err


def test_formkit_register_purge_erases_what_is_done_and_says_how_many(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database = f"sqlite:///{tmp_path / 'formkit.db'}"
    monkeypatch.setenv("FORMKIT_DATABASE_URL", database)
    monkeypatch.setenv("FORMKIT_SECRET_KEY", KEY)
    register = Register(database, secret_key=KEY)
    register.upgrade()
    register.record(entry("BUS-20260310-AAAAAA"))
    register.record(entry("BUS-20260310-BBBBBB", datetime.datetime.now(TIMEZONE)))
    for unit in (0, 1):
        register.mark_answered("BUS-20260310-AAAAAA", unit)

    assert cli.main(["register", "purge"]) == 0

    assert capsys.readouterr().out.startswith("1 rapport rensade: svaren är raderade när alla verksamheter har svarat")
    assert register.report("BUS-20260310-AAAAAA").answers is None
    assert register.report("BUS-20260310-BBBBBB").answers == answers()


def test_the_worker_purges_by_itself(register):
    register.record(entry())
    for unit in (0, 1):
        register.mark_answered("BUS-20260310-AAAAAA", unit)
    stop = threading.Event()

    thread = cli.start_register_worker(register, every=0.05, stop=stop)
    try:
        for _ in range(200):
            if register.report("BUS-20260310-AAAAAA").erased_at:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(5)

    assert register.report("BUS-20260310-AAAAAA").answers is None and not thread.is_alive()


def test_a_report_posted_to_the_app_is_in_the_register_when_the_answer_comes(client, app):
    response = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "application/json"})

    assert response.status_code == 201
    found = app.extensions["formkit.register"].report(response.json["reference"])
    assert [unit.name for unit in found.units] == ["Björkskolan", "BUP Solna"]
    assert found.answers["beskrivning"]["uppgiftslamnare"]["namn"] == "Anna Andersson"


def test_a_register_locked_by_another_process_gets_a_503_page_with_everything_typed(client, config, tmp_path):
    import sqlite3

    locker = sqlite3.connect(config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post("/api/forms/bus-avvikelse", data=valid_answers(), headers={"Accept": "text/html"})
    finally:
        locker.rollback()
        locker.close()

    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "Björkskolan" in response.text and "chef.bup@regionstockholm.se" in response.text
    assert list((tmp_path / "outbox" / "new").iterdir()) == [] and list((tmp_path / "outbox" / "cur").iterdir()) == []


# ---- the settings and the form definition ----


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "DATABASE_URL",
            "mysql://formkit:hemligt@db/formkit",
            "FORMKIT_DATABASE_URL is not a database address (such as sqlite:///var/formkit.db or "
            "postgresql+psycopg://user@host/formkit).",
        ),
        ("DATABASE_URL", "sqlite://", "FORMKIT_DATABASE_URL is not a database address"),  # no file: in memory
        ("REGISTER_KEY", "hemligt", "FORMKIT_REGISTER_KEY has 7 characters; the register's key needs 32 or more."),
        ("REGISTER_RETENTION_DAYS", "-1", 'FORMKIT_REGISTER_RETENTION_DAYS="-1" is not a whole number (0 or more).'),
    ],
)
def test_a_bad_register_setting_is_one_line_that_never_echoes_a_secret(name, value, line):
    with pytest.raises(SettingsError) as caught:
        load({"TESTING": True, name: value})

    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith(line)
    assert "hemligt" not in caught.value.problems[0]


def test_the_register_settings_have_their_defaults():
    settings = load({"TESTING": True})

    assert (settings.register.database_url, settings.register.key, settings.register.retention_days) == (
        "sqlite:///var/formkit.db",
        "",
        30,
    )


def bus_with(tmp_path, change) -> list[str]:
    """Return the problems of the BUS form after `change(schema)`, as printed lines."""
    schema = json.loads((ROOT / "schema" / "bus-avvikelse.json").read_text(encoding="utf-8"))
    change(schema)
    folder = tmp_path / "schema"
    folder.mkdir(exist_ok=True)
    (folder / "bus-avvikelse.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")
    shutil.copy(ROOT / "schema" / "bus-avvikelse-svar.json", folder)
    return [str(problem) for problem in read_forms(folder)[1]]


def test_a_statistics_field_that_is_free_text_is_refused_naming_file_line_and_field(tmp_path):
    problems = bus_with(tmp_path, lambda s: s["x-formkit"]["statistics"].append("/beskrivning/uppgiftslamnare/namn"))

    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path}/schema/bus-avvikelse.json:")
    line = int(problems[0].split(":")[1])
    file_line = (tmp_path / "schema" / "bus-avvikelse.json").read_text(encoding="utf-8").splitlines()[line - 1]
    assert '"/beskrivning/uppgiftslamnare/namn"' in file_line
    assert 'fältet "beskrivning.uppgiftslamnare.namn" (Namn) är inte ett val' in problems[0]
    assert "aldrig fritext eller personuppgifter" in problems[0]


def test_a_statistics_pointer_to_no_field_suggests_the_choice_meant(tmp_path):
    problems = bus_with(tmp_path, lambda s: s["x-formkit"]["statistics"].append("/verksamheter/*/huvudmann"))

    assert len(problems) == 1 and 'pekar inte på något fält. Menar du "/verksamheter/*/huvudman"?' in problems[0]


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("units", "/beskrivning", '"units" ska peka på en upprepad grupp'),
        ("unit_name", "finns_inte", '"unit_name" ska vara namnet på ett textfält i raderna i "/verksamheter"'),
        (
            "unit_address",
            "enhet",
            '"unit_address" ska vara namnet på ett e-postfält i raderna i "/verksamheter", till exempel "chef_epost"',
        ),
    ],
)
def test_reply_link_units_must_name_a_repeated_group_and_its_name_and_address_fields(tmp_path, key, value, says):
    problems = bus_with(tmp_path, lambda s: s["x-formkit"]["reply_link"].update({key: value}))

    assert len(problems) == 1 and says in problems[0], problems


def test_reply_link_units_needs_its_name_and_address_fields(tmp_path):
    problems = bus_with(tmp_path, lambda s: s["x-formkit"]["reply_link"].pop("unit_address"))

    assert len(problems) == 1 and "inställningen" in problems[0] and "reply_link" in problems[0]


# ---- the commands as operators run them ----

BIN = Path(sys.executable).parent


def operator_env(**variables: str) -> dict:
    """The environment an operator's command gets: only the FORMKIT_* variables given."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("FORMKIT_")}
    return {**clean, **{f"FORMKIT_{name}": value for name, value in variables.items()}}


def test_formkit_serve_migrates_the_register_at_start_and_takes_reports(tmp_path, built_site):
    port = free_port()
    env = operator_env(SCHEMA_DIR=str(ROOT / "schema"), PUBLIC_DIR=str(built_site), SMTP_HOST="")
    command = [str(BIN / "formkit"), "serve", "--no-build", "--no-watch", "--port", str(port)]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/forms/bus-avvikelse",
            data=json.dumps(answers()).encode(),
            headers={"Content-Type": "application/json"},
        )
        status = reference = None
        for _ in range(600):
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, reference = response.status, json.load(response)["reference"]
                break
            except urllib.error.URLError:
                time.sleep(0.05)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert status == 201, output
    assert "Registret i sqlite:///var/formkit.db har uppdaterats till version 0003 (var tomt)." in output
    register = Register("sqlite:///" + str(tmp_path / "var" / "formkit.db"))
    assert register.units(reference)[1].name == "BUP Solna"
    register.close()


def test_formkit_outbox_run_purges_the_register_by_itself(tmp_path):
    database = f"sqlite:///{tmp_path / 'formkit.db'}"
    register = Register(database, secret_key=KEY)
    register.upgrade()
    register.record(entry())
    for unit in (0, 1):
        register.mark_answered("BUS-20260310-AAAAAA", unit)
    env = operator_env(DATABASE_URL=database, SECRET_KEY=KEY, OUTBOX_DIR=str(tmp_path / "outbox"), SMTP_HOST="")
    process = subprocess.Popen([str(BIN / "formkit"), "outbox", "run"], cwd=tmp_path, env=env)
    try:
        for _ in range(300):
            if register.report("BUS-20260310-AAAAAA").erased_at:
                break
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(20)

    assert register.report("BUS-20260310-AAAAAA").answers is None
    register.close()
