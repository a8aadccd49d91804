"""The Lambda adapter, invoked with events shaped like AWS's documented ones, over the real app and SMTP server.

tests/fixtures/aws/ holds one event of each kind the function can get: API Gateway HTTP API (payload
format 2.0: cookies apart, duplicate headers joined by commas, sourceIp in requestContext.http), an
ALB target group, and an ALB target group with multi-value headers on. Each test fills in the body and
the headers a browser or formkit.js sends, then calls `handler.serverless.handler` as Lambda would;
the first call of a test is that instance's cold start, which builds the app from FORMKIT_* variables.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from handler import serverless
from handler.register import Register
from handler.register.models import OutboxMessage
from handler.settings import load
from support import attachment, docx_text, eventually, free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
AWS = Path(__file__).resolve().parent / "fixtures" / "aws"
URL = "/api/forms/bus-avvikelse"
RECEIPT = re.compile(r"^/api/forms/bus-avvikelse/kvitto/BUS-\d{8}-[2-9A-Z]{6}$")
FORM = "application/x-www-form-urlencoded"
CONTEXT = SimpleNamespace(function_name="formkit", aws_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678")


# ---- events as AWS sends them, and what the function answers ----


def fixture(name: str) -> dict:
    return json.loads((AWS / f"{name}.json").read_text())


def _with_body(event: dict, body: bytes, encoded: bool) -> dict:
    event["isBase64Encoded"] = encoded
    event["body"] = base64.b64encode(body).decode() if encoded else body.decode()
    return event


def http_api(body: bytes = b"", *, encoded=False, headers=None, source_ip=None, path=URL, method="POST") -> dict:
    """An API Gateway HTTP API event (payload format 2.0); header names in lower case, as AWS sends them."""
    event = _with_body(fixture("http-api-v2"), body, encoded)
    event["headers"].update(headers or {})
    event["headers"]["content-length"] = str(len(body))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    if source_ip:
        event["requestContext"]["http"]["sourceIp"] = source_ip
    return event


def alb(body: bytes = b"", *, encoded=False, headers=None, multi_value=False, path=URL, method="POST") -> dict:
    """An ALB event; with `multi_value`, as a target group with multi-value headers on sends it."""
    event = _with_body(fixture("alb-multi-value" if multi_value else "alb"), body, encoded)
    if multi_value:
        event["multiValueHeaders"].update({k: v if isinstance(v, list) else [v] for k, v in (headers or {}).items()})
    else:
        event["headers"].update(headers or {})
    event["path"], event["httpMethod"] = path, method
    return event


def header(response: dict, name: str) -> str | None:
    """Return a response header from `headers` or `multiValueHeaders`, whatever the case of its name."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            assert len(values) == 1, values
            return values[0]
    return None


def body_of(response: dict) -> str:
    raw = response.get("body", "")
    return base64.b64decode(raw).decode() if response.get("isBase64Encoded") else raw


def form_body(answers: dict | None = None) -> bytes:
    return urllib.parse.urlencode(answers or valid_answers()).encode()


def nested(answers: dict) -> dict:
    """Turn dotted form names into the JSON object formkit.js sends."""
    root: dict = {}
    for name, value in answers.items():
        node, parts = root, [int(part) if part.isdigit() else part for part in name.split(".")]
        for part, following in zip(parts, parts[1:]):
            if isinstance(node, list):
                node.extend({} for _ in range(part + 1 - len(node)))
                node = node[part]
            else:
                node = node.setdefault(part, [] if isinstance(following, int) else {})
        node[parts[-1]] = value
    return root


def json_body(answers: dict | None = None) -> bytes:
    return json.dumps(nested(answers or valid_answers()), ensure_ascii=False).encode()


def invoke(event: dict) -> dict:
    return serverless.handler(event, CONTEXT)


@pytest.fixture
def environment(monkeypatch, tmp_path, smtp_server):
    """The function's environment variables (a temporary outbox, the loopback SMTP server); a cold start to come."""
    monkeypatch.chdir(tmp_path)  # no developer's .env is read; nothing is written beside the code
    monkeypatch.setattr(serverless, "_lambda", None)
    variables = {
        "SECRET_KEY": secrets.token_urlsafe(36),
        "SCHEMA_DIR": str(ROOT / "schema"),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "BASE_URL": "https://bus.example.se",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'formkit.db'}",  # on Lambda: PostgreSQL (a file dies with the instance)
    }
    for name, value in variables.items():
        monkeypatch.setenv(f"FORMKIT_{name}", value)
    migrate_register()

    def set_(**more):
        for name, value in more.items():
            monkeypatch.setenv(f"FORMKIT_{name}", value)

    return SimpleNamespace(set=set_, outbox=tmp_path / "outbox")


def migrate_register() -> None:
    """Create the register's tables, as `formkit db upgrade` does once per deployment (not in a cold start)."""
    register = Register.from_settings(load())
    try:
        register.upgrade()
    finally:
        register.close()


def waiting(outbox: Path) -> list[Path]:
    return [p for folder in ("new", "cur") for p in (outbox / folder).glob("*.eml")]


# ---- API Gateway HTTP API, payload format 2.0 ----


def test_a_browser_post_through_the_http_api_gets_303_to_its_receipt_and_the_mail_goes_out(environment, smtp_server):
    response = invoke(http_api(form_body()))

    assert response["statusCode"] == 303
    location = header(response, "Location")
    assert RECEIPT.match(location), location
    report, other_unit, copy, receipt = smtp_server.inbox.wait_for(4)  # each unit its own, one copy for the rest
    reference = location.rsplit("/", 1)[1]
    assert all(reference in message["Subject"] for message in (report, other_unit, copy, receipt))
    managers = {a.addr_spec for message in (report, other_unit) for a in message["To"].addresses}
    assert managers == {"rektor@solna.se", "chef.bup@regionstockholm.se"}
    assert waiting(environment.outbox) == []


def test_a_base64_encoded_form_body_is_read_as_the_form(environment, smtp_server):
    # HTTP APIs pass form posts base64-encoded.
    response = invoke(http_api(form_body(), encoded=True))

    assert response["statusCode"] == 303 and RECEIPT.match(header(response, "Location"))
    assert len(smtp_server.inbox.wait_for(4)) == 4  # one per receiving unit, the copy and the receipt


def test_a_json_post_gets_201_with_its_reference_as_json_text(environment, smtp_server):
    event = http_api(json_body(), headers={"content-type": "application/json", "accept": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 201
    assert header(response, "Content-Type") == "application/json"
    assert response["isBase64Encoded"] is False
    reference = json.loads(response["body"])["reference"]
    assert header(response, "Location") == f"{URL}/kvitto/{reference}"
    assert reference in smtp_server.inbox.wait_for(2)[0]["Subject"]


def test_a_base64_encoded_json_body_with_swedish_text_keeps_every_character(environment, smtp_server):
    answers = valid_answers() | {"beskrivning.forslag_atgard": "Gemensamt möte på Åkerö – vår och höst"}
    event = http_api(
        json_body(answers), encoded=True, headers={"content-type": "application/json", "accept": "application/json"}
    )

    response = invoke(event)

    assert response["statusCode"] == 201
    _, document = attachment(smtp_server.inbox.wait_for(2)[0])
    assert "Gemensamt möte på Åkerö – vår och höst" in docx_text(document)


def test_invalid_answers_get_422_problem_json_naming_the_field_and_nothing_is_sent(environment, smtp_server):
    answers = valid_answers()
    del answers["beskrivning.handelsen"]
    event = http_api(json_body(answers), headers={"content-type": "application/json", "accept": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 422
    assert header(response, "Content-Type") == "application/problem+json"
    problem = json.loads(body_of(response))
    assert [error["path"] for error in problem["errors"]] == ["/beskrivning/handelsen"]
    assert smtp_server.inbox.messages == [] and waiting(environment.outbox) == []


def test_a_browser_with_invalid_answers_gets_the_form_again_as_html_text(environment):
    answers = valid_answers() | {"beskrivning.rapporterande.epost": "inte en adress"}

    response = invoke(http_api(form_body(answers)))

    assert response["statusCode"] == 422
    assert header(response, "Content-Type").startswith("text/html")
    assert response["isBase64Encoded"] is False
    assert "inte en adress" in response["body"]  # what was typed is kept


def test_the_sites_cookies_are_ignored_and_the_answer_sets_only_the_senders_receipt_key(environment, smtp_server):
    event = http_api(json_body(), headers={"content-type": "application/json", "accept": "application/json"})
    assert event["cookies"]

    response = invoke(event)

    assert response["statusCode"] == 201
    (cookie,) = response["cookies"]  # payload 2.0 returns cookies apart from the headers
    assert cookie.startswith("formkit_kvitto=") and f"Path={header(response, 'Location')}" in cookie
    assert not any(site.split("=")[0] in cookie for site in event["cookies"])


def test_an_unknown_form_gets_404_problem_json(environment):
    event = http_api(json_body(), path="/api/forms/finns-inte", headers={"content-type": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 404
    assert header(response, "Content-Type") == "application/problem+json"
    assert "finns-inte" in json.loads(response["body"])["detail"]


def test_a_body_over_the_limit_gets_413_problem_json(environment):
    event = http_api(b"x=" + b"a" * 300_000, headers={"accept": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 413
    assert header(response, "Content-Type") == "application/problem+json"


def test_a_post_from_another_site_gets_403(environment, smtp_server):
    response = invoke(
        http_api(json_body(), headers={"content-type": "application/json", "origin": "https://evil.example"})
    )

    assert response["statusCode"] == 403
    assert header(response, "Content-Type") == "application/problem+json"
    assert smtp_server.inbox.messages == []


def test_the_rate_limit_counts_sourceip_and_the_instance_keeps_its_counts_between_invocations(environment):
    environment.set(RATELIMIT="2 per minute")
    headers = {"content-type": "application/json", "accept": "application/json"}

    def post(source_ip, forwarded):
        return invoke(http_api(json_body(), headers=headers | {"x-forwarded-for": forwarded}, source_ip=source_ip))

    first, second = post("198.51.100.7", "10.0.0.1"), post("198.51.100.7", "10.0.0.2")
    third = post("198.51.100.7", "10.0.0.3")
    other = post("203.0.113.9", "10.0.0.1")

    assert [first["statusCode"], second["statusCode"], third["statusCode"]] == [201, 201, 429]
    assert int(header(third, "Retry-After")) > 0
    assert other["statusCode"] == 201  # another address, its own count


# ---- an Application Load Balancer ----


def test_a_browser_post_through_an_alb_gets_303_and_the_mail_goes_out(environment, smtp_server):
    response = invoke(alb(form_body()))

    assert response["statusCode"] == 303
    assert RECEIPT.match(header(response, "Location"))
    assert "multiValueHeaders" not in response
    assert len(smtp_server.inbox.wait_for(4)) == 4  # one per receiving unit, the copy and the receipt


def test_an_alb_with_multi_value_headers_gets_its_answer_in_multi_value_headers(environment, smtp_server):
    response = invoke(alb(json_body(), multi_value=True))

    assert response["statusCode"] == 201
    assert "headers" not in response
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    reference = json.loads(response["body"])["reference"]
    assert response["multiValueHeaders"]["Location"] == [f"{URL}/kvitto/{reference}"]
    assert reference in smtp_server.inbox.wait_for(2)[0]["Subject"]


def test_an_error_through_a_multi_value_alb_is_problem_json(environment):
    answers = valid_answers()
    del answers["handelsetyp"]

    response = invoke(alb(json_body(answers), multi_value=True))

    assert response["statusCode"] == 422
    assert response["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    assert [error["path"] for error in json.loads(body_of(response))["errors"]] == ["/handelsetyp"]


def test_a_base64_encoded_form_body_through_an_alb_is_read_in_its_charset(environment, smtp_server):
    answers = valid_answers() | {"beskrivning.forslag_atgard": "Möte på Åkerö"}
    headers = {"content-type": "application/x-www-form-urlencoded; charset=UTF-8"}

    response = invoke(alb(form_body(answers), encoded=True, headers=headers))

    assert response["statusCode"] == 303 and RECEIPT.match(header(response, "Location"))
    _, document = attachment(smtp_server.inbox.wait_for(2)[0])
    assert "Möte på Åkerö" in docx_text(document)


@pytest.mark.parametrize("multi_value", [False, True], ids=["headers", "multi-value-headers"])
def test_behind_an_alb_a_client_cannot_escape_the_limit_by_writing_its_own_x_forwarded_for(environment, multi_value):
    environment.set(RATELIMIT="2 per minute")

    def post(forged):
        # The ALB appends the address it saw (72.21.198.66) to what the client sent.
        forwarded = f"{forged}, 72.21.198.66" if forged else "72.21.198.66"
        value = [forwarded] if multi_value else forwarded
        return invoke(alb(json_body(), multi_value=multi_value, headers={"x-forwarded-for": value} | accept_json))

    accept_json = {"content-type": "application/json", "accept": "application/json"}
    statuses = [post(forged)["statusCode"] for forged in ("", "192.0.2.1", "192.0.2.2")]

    assert statuses == [201, 201, 429]


# ---- serverless mode: no outbox folder, the report reaches the SMTP server before the answer ----


def test_without_an_outbox_the_report_is_at_the_smtp_server_when_the_answer_comes(environment, smtp_server):
    environment.set(OUTBOX_DIR="")
    event = http_api(json_body(), headers={"content-type": "application/json", "accept": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 201
    reference = json.loads(response["body"])["reference"]
    assert smtp_server.inbox.messages and reference in smtp_server.inbox.messages[0]["Subject"]  # no waiting
    assert not environment.outbox.exists()


def test_without_an_outbox_an_smtp_server_that_is_down_gives_503_with_retry_after(environment):
    environment.set(OUTBOX_DIR="", SMTP_PORT=str(free_port()))
    event = http_api(json_body(), headers={"content-type": "application/json", "accept": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 503
    assert header(response, "Content-Type") == "application/problem+json"
    assert int(header(response, "Retry-After")) > 0


def test_without_an_outbox_a_browser_gets_the_form_again_when_smtp_is_down(environment):
    environment.set(OUTBOX_DIR="", SMTP_PORT=str(free_port()))

    response = invoke(alb(form_body()))

    assert response["statusCode"] == 503
    assert header(response, "Content-Type").startswith("text/html")
    assert "Björkskolan" in body_of(response)  # what was typed is kept


def test_with_an_outbox_folder_and_smtp_down_the_report_is_queued_and_acknowledged(environment):
    environment.set(SMTP_PORT=str(free_port()))

    response = invoke(http_api(form_body()))

    assert response["statusCode"] == 303
    eventually(lambda: len(waiting(environment.outbox)) >= 4)  # after the background attempt
    assert len(waiting(environment.outbox)) == 4  # each unit's report, the copy and the receipt, for the worker


def test_a_bad_setting_fails_the_cold_start_with_its_line(environment, capsys):
    environment.set(SMTP_PORT="tjugofem")

    with pytest.raises(SystemExit) as stopped:
        invoke(http_api(form_body()))

    assert stopped.value.code == 2
    assert 'FORMKIT_SMTP_PORT="tjugofem" is not a port number' in capsys.readouterr().err


# ---- with PostgreSQL: recorded and queued in the function, delivered by `formkit outbox run --once` ----


def test_with_postgresql_the_function_queues_and_a_scheduled_run_once_delivers(environment, postgres, smtp_server):
    url = postgres.database("serverless_outbox")
    environment.set(DATABASE_URL=url, OUTBOX_DIR="")
    migrate_register()  # `formkit db upgrade` in the deploy pipeline
    event = http_api(json_body(), headers={"content-type": "application/json", "accept": "application/json"})

    response = invoke(event)

    assert response["statusCode"] == 201
    reference = json.loads(response["body"])["reference"]
    register = Register.from_settings(load())
    with register.engine.connect() as connection:
        queued = connection.execute(select(OutboxMessage.message_id, OutboxMessage.claimed_by)).all()
    assert sorted(message_id for message_id, _ in queued) == sorted(
        f"<{reference}.{kind}@formkit.localhost>" for kind in ("copy", "receipt", "report.0", "report.1")
    )
    assert all(owner is None for _, owner in queued)  # nobody holds them: the function sends nothing itself
    assert register.report(reference) is not None  # recorded in the same transaction
    assert smtp_server.inbox.messages == []

    formkit = str(Path(sys.executable).parent / "formkit")
    run = subprocess.run(
        [str(formkit), "outbox", "run", "--once"], env=dict(os.environ), capture_output=True, text=True
    )

    assert run.returncode == 0, run.stderr
    assert "4 levererade" in run.stdout
    received = smtp_server.inbox.wait_for(4)
    assert sorted(m["Message-ID"] for m in received) == sorted(message_id for message_id, _ in queued)
    with register.engine.connect() as connection:
        assert connection.execute(select(OutboxMessage.id)).all() == []
    register.close()
