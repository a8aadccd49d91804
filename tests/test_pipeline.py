"""The pipeline without Flask: a body in, an outcome out, the messages handed over."""

from pathlib import Path
from urllib.parse import urlencode

import pytest

from handler import pipeline
from handler.check import check_project
from handler.errors import BadSubmission, Invalid, UnsupportedMediaType
from handler.outbox import Outbox
from handler.settings import load
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
FORM_BODY = "application/x-www-form-urlencoded"


@pytest.fixture
def context(tmp_path, smtp_server):
    settings = load(
        {
            "TESTING": True,
            "SCHEMA_DIR": str(ROOT / "schema"),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "MAIL_DIR": str(tmp_path / "mail"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_server.port,
            "RATELIMIT": "",
        }
    )
    forms = check_project(settings.schema_dir).ok()
    return pipeline.Context(forms=forms, settings=settings, outbox=Outbox(settings.outbox.dir))


def test_a_valid_report_is_accepted_and_its_messages_delivered_without_any_request(context, smtp_server):
    form = context.forms["bus-avvikelse"]

    outcome = pipeline.submit(form, FORM_BODY, urlencode(valid_answers()).encode(), context)

    assert isinstance(outcome, pipeline.Accepted)
    assert outcome.reference.startswith("BUS-") and outcome.delivery == "sent"
    report, receipt = smtp_server.inbox.wait_for(2)
    assert outcome.reference in report["Subject"] and outcome.reference in receipt["Subject"]


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
    import time

    raw = json.dumps({"handelsetyp": "a" + "\u0301\u0316" * 65000}).encode()
    started = time.perf_counter()
    outcome = pipeline.submit(context.forms["bus-avvikelse"], "application/json", raw, context)

    assert time.perf_counter() - started < 0.2
    assert [e.path for e in outcome.error.errors] == [("handelsetyp",)]
