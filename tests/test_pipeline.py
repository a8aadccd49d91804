"""The pipeline without Flask: a body in, an outcome out, the messages handed over."""

import itertools
import sqlite3
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from sqlalchemy import text

from handler import delivery, pipeline
from handler.check import check_project
from handler.errors import BadSubmission, DeliveryUnavailable, Invalid, UnsupportedMediaType
from handler.outbox import Outbox
from handler.reference import now
from handler.register import Register, new_report
from handler.settings import load
from support import cost_ratio, free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
FORM_BODY = "application/x-www-form-urlencoded"


@pytest.fixture
def context(config):
    settings = load({**config, "RATELIMIT": ""})
    forms = check_project(settings.schema_dir).ok()
    return pipeline.Context(forms=forms, settings=settings, outbox=Outbox(settings.outbox.dir))


def test_a_valid_report_is_accepted_and_its_messages_delivered_without_any_request(context, smtp_server):
    form = context.forms["bus-avvikelse"]

    outcome = pipeline.submit(form, FORM_BODY, urlencode(valid_answers()).encode(), context)

    assert isinstance(outcome, pipeline.Accepted)
    assert outcome.reference.startswith("BUS-") and outcome.delivery == "sent"
    *reports, copy, receipt = smtp_server.inbox.wait_for(4)  # one per receiving unit, the copy, the receipt
    assert all(outcome.reference in message["Subject"] for message in [*reports, copy, receipt])


@pytest.mark.parametrize(
    ("mimetype", "raw", "error"),
    [
        ("text/plain", b"x", UnsupportedMediaType),
        ("application/json", b'{"a":', BadSubmission),
        (FORM_BODY, b"handelsetyp=", Invalid),
    ],
)
def test_every_refusal_is_an_outcome_with_its_error(context, smtp_server, mimetype, raw, error):
    outcome = pipeline.submit(context.forms["bus-avvikelse"], mimetype, raw, context)

    assert isinstance(outcome, pipeline.Refused) and isinstance(outcome.error, error)
    assert smtp_server.inbox.messages == []


def test_a_refused_form_body_keeps_what_was_typed_for_the_page(context):
    answers = valid_answers() | {"beskrivning.chef.epost": "fel"}

    outcome = pipeline.submit(context.forms["bus-avvikelse"], FORM_BODY, urlencode(answers).encode(), context)

    assert outcome.body.answers["beskrivning"]["chef"]["epost"] == "fel"
    assert [e.name for e in outcome.error.errors] == ["beskrivning.chef.epost"]


def test_a_combining_mark_bomb_is_refused_on_its_field_without_normalising_it(context):
    import json

    def sent(marks: int):
        raw = json.dumps({"handelsetyp": "a" + "\u0301\u0316" * marks}).encode()
        return pipeline.submit(context.forms["bus-avvikelse"], "application/json", raw, context)

    outcome = sent(65000)

    assert cost_ratio(sent, 650, 65000, tries=3) < 1000  # a hundred times the size: linear, not quadratic
    assert [e.path for e in outcome.error.errors] == [("handelsetyp",)]


# ---- record + queue: one step, all or nothing ----

KEY = "a-secret-key-of-forty-characters-or-so!!"
databases = (f"pipeline_{n}" for n in itertools.count())


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """An empty database of each kind: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'formkit.db'}"
    return request.getfixturevalue("postgres").database(next(databases))


@pytest.fixture
def register(database):
    register = Register(database, secret_key=KEY, busy_timeout=0.5)
    register.upgrade()
    yield register
    register.close()


def queued(context) -> list[str]:
    """Return every file in the outbox's folders: what a refused submission must not leave."""
    root = context.outbox.root
    return sorted(str(p.relative_to(root)) for folder in ("tmp", "new", "cur") for p in (root / folder).glob("*"))


def recorded(register) -> list[str]:
    today = now().date()
    return [report.reference for report in register.reports_between(today, today)]


def post(context, answers=None):
    body = urlencode(answers or valid_answers()).encode()
    return pipeline.submit(context.forms["bus-avvikelse"], FORM_BODY, body, context)


def test_an_accepted_report_is_in_the_register_with_its_units_before_the_answer(context, register, smtp_server):
    outcome = post(replace(context, register=register))

    assert isinstance(outcome, pipeline.Accepted) and outcome.delivery == "sent"
    found = register.report(outcome.reference)
    assert [(u.name, u.address) for u in found.units] == [
        ("Björkskolan", "rektor@solna.se"),
        ("BUP Solna", "chef.bup@regionstockholm.se"),
    ]
    assert found.answers["handelsetyp"] == "Remiss till BUP besvarades inte" and queued(context) == []
    assert len(smtp_server.inbox.wait_for(4)) == 4


def test_a_register_that_cannot_be_opened_refuses_with_503_and_queues_nothing(context, tmp_path, smtp_server):
    missing = Register(f"sqlite:///{tmp_path / 'no-such-folder' / 'formkit.db'}", secret_key=KEY)

    outcome = post(replace(context, register=missing))

    assert isinstance(outcome.error, DeliveryUnavailable) and outcome.error.status == 503
    assert outcome.body.answers["verksamheter"][0]["enhet"] == "Björkskolan"  # the page shows it all again
    assert queued(context) == [] and smtp_server.inbox.messages == []


def test_a_register_held_by_another_transaction_refuses_with_503_and_queues_nothing(
    context, register, database, smtp_server
):
    with holding_the_register(database):
        outcome = post(replace(context, register=register))

    assert isinstance(outcome.error, DeliveryUnavailable)
    assert queued(context) == [] and recorded(register) == [] and smtp_server.inbox.messages == []


@contextmanager
def holding_the_register(database: str):
    """Hold the register's tables in another connection's exclusive transaction, as a stuck process would."""
    if database.startswith("sqlite"):
        connection = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
    else:
        connection = psycopg.connect(database.replace("postgresql+psycopg", "postgresql"))
        connection.execute("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def test_an_outbox_that_cannot_be_written_leaves_nothing_in_the_register(context, register, tmp_path, smtp_server):
    (tmp_path / "not-a-folder").write_text("the outbox should be a folder")
    broken = Outbox(tmp_path / "not-a-folder")

    outcome = post(replace(context, outbox=broken, register=register))

    assert isinstance(outcome.error, DeliveryUnavailable) and outcome.error.status == 503
    assert recorded(register) == [] and smtp_server.inbox.messages == []


def test_serverless_a_report_the_mail_server_does_not_take_is_not_recorded(context, register):
    settings = replace(context.settings, smtp=replace(context.settings.smtp, port=free_port(), timeout=1))

    outcome = post(replace(context, outbox=None, settings=settings, register=register))

    assert isinstance(outcome.error, DeliveryUnavailable) and recorded(register) == []


def test_after_a_refusal_the_same_report_sent_again_is_recorded_once(context, register, smtp_server):
    with holding_the_register(register.url):
        refused = post(replace(context, register=register))
    accepted = post(replace(context, register=register))

    assert isinstance(refused, pipeline.Refused) and isinstance(accepted, pipeline.Accepted)
    assert recorded(register) == [accepted.reference] and len(smtp_server.inbox.wait_for(4)) == 4


def test_a_database_lost_before_the_commit_takes_the_queued_messages_back(context, postgres, smtp_server):
    register = Register(postgres.database(next(databases)), secret_key=KEY)
    register.upgrade()
    form = context.forms["bus-avvikelse"]
    entry = new_report(form, {"handelsetyp": "x"}, "BUS-20261201-LOSTDB", now())
    message = EmailMessage()
    message["Message-ID"], message["To"], message["Subject"] = "<lost@formkit.localhost>", "a@solna.se", "Rapport"

    def record_then_lose_the_connection(tx):
        tx.record(entry)
        pid = tx.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(register.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    with pytest.raises(DeliveryUnavailable):
        delivery.hand_over(
            [message],
            outbox=context.outbox,
            smtp=context.settings.smtp,
            label="test",
            register=register,
            record=record_then_lose_the_connection,
        )

    assert queued(context) == [] and register.report("BUS-20261201-LOSTDB") is None
    assert smtp_server.inbox.messages == []
    register.close()
