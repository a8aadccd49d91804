"""Abuse limits: honeypot, rate limit per client, allowed origins with CORS, recipient domains, clean logs."""

import json
import logging
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import handler.limits
from handler.app import create_app
from handler.errors import TooManyRequests
from handler.limits import RateLimits
from support import free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
URL = "/api/forms/bus-avvikelse"
JSON = {"Accept": "application/json"}


def outbox_files(config) -> list:
    return [p for folder in ("new", "cur") for p in (Path(config["OUTBOX_DIR"]) / folder).glob("*.eml")]


# Honeypot


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_a_filled_honeypot_gets_the_normal_receipt_but_nothing_is_sent(client, config, smtp_server, caplog, as_json):
    answers = valid_answers() | {"_hemsida": "http://spam.example"}
    with caplog.at_level(logging.INFO, logger="formkit"):
        if as_json:
            response = client.post(URL, data=answers, headers=JSON)
        else:
            response = client.post(URL, data=answers)

    if as_json:
        assert response.status_code == 201 and response.json["reference"].startswith("BUS-")
    else:
        assert response.status_code == 303 and "/kvitto/BUS-" in response.headers["Location"]
    time.sleep(0.3)
    assert smtp_server.inbox.messages == []
    assert outbox_files(config) == []
    assert "outcome=honeypot" in caplog.text


def nested(answers: dict) -> dict:
    """Turn dotted form names into the JSON object a JavaScript client would send."""
    root: dict = {}
    for name, value in answers.items():
        node, parts = root, name.split(".")
        for part, following in zip(parts, parts[1:]):
            key = int(part) if part.isdigit() else part
            if isinstance(node, list):
                while len(node) <= key:
                    node.append({})
                node = node[key]
            else:
                node = node.setdefault(key, [] if following.isdigit() else {})
        node[parts[-1]] = value
    return root


def test_a_json_body_filling_the_honeypot_is_not_sent_either(client, config, smtp_server):
    body = nested(valid_answers()) | {"_hemsida": "http://spam.example"}

    response = client.post(URL, json=body)
    sent = client.post(URL, json=nested(valid_answers()))

    assert response.status_code == 201 and sent.status_code == 201
    [report, *_, receipt] = smtp_server.inbox.wait_for(4)  # one per receiving unit, the copy and the receipt
    time.sleep(0.3)
    assert len(smtp_server.inbox.messages) == 4
    assert sent.json["reference"] in report["Subject"]


# Rate limit


@pytest.fixture
def limited(config):
    return create_app({**config, "RATELIMIT": "3 per minute"})


def test_the_fourth_post_in_a_minute_from_one_address_gets_429_with_retry_after(limited, smtp_server):
    client = limited.test_client()
    answers = [client.post(URL, data=valid_answers(), headers=JSON) for _ in range(4)]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.mimetype == "application/problem+json"
    assert refused.json["status"] == 429 and "Vänta en stund" in refused.json["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_refused_posts_do_not_use_up_the_limit_so_correcting_errors_never_locks_anyone_out(limited, smtp_server):
    client = limited.test_client()
    refused = [client.post(URL, data={"handelsetyp": ""}, headers=JSON).status_code for _ in range(6)]
    accepted = [client.post(URL, data=valid_answers(), headers=JSON).status_code for _ in range(4)]

    assert refused == [422] * 6
    assert accepted == [201, 201, 201, 429]


def test_a_browser_without_javascript_gets_a_readable_429_page(limited, smtp_server):
    client = limited.test_client()
    for _ in range(3):
        client.post(URL, data=valid_answers())

    response = client.post(URL, data=valid_answers())

    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "För många försök" in response.text
    assert int(response.headers["Retry-After"]) > 0


def test_the_limit_is_per_client_address(limited, smtp_server):
    client = limited.test_client()
    for _ in range(3):
        client.post(URL, data=valid_answers(), headers=JSON)

    other = client.post(URL, data=valid_answers(), headers=JSON, environ_base={"REMOTE_ADDR": "10.0.0.2"})

    assert client.post(URL, data=valid_answers(), headers=JSON).status_code == 429
    assert other.status_code == 201


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(config, smtp_server):
    app = create_app({**config, "RATELIMIT": "1 per minute", "TRUSTED_PROXIES": 1})
    client = app.test_client()

    def post(address):
        return client.post(URL, data=valid_answers(), headers=JSON | {"X-Forwarded-For": address}).status_code

    assert [post("192.0.2.1"), post("192.0.2.2"), post("192.0.2.1")] == [201, 201, 429]


def test_pages_and_receipts_are_not_rate_limited(limited, smtp_server):
    client = limited.test_client()
    reference = client.post(URL, data=valid_answers(), headers=JSON).json["reference"]  # a receipt that exists
    for _ in range(5):
        response = client.get(f"{URL}/kvitto/{reference}")

    assert response.status_code == 200


def test_the_limit_and_its_store_come_from_the_environment(config, monkeypatch, smtp_server):
    monkeypatch.setenv("FORMKIT_RATELIMIT", "1 per hour")
    monkeypatch.setenv("FORMKIT_RATELIMIT_STORAGE_URI", "memory://")
    app = create_app({key: value for key, value in config.items() if key != "RATELIMIT"})
    client = app.test_client()

    first, second = (client.post(URL, data=valid_answers(), headers=JSON) for _ in range(2))

    assert (first.status_code, second.status_code) == (201, 429)
    assert 3500 < int(second.headers["Retry-After"]) <= 3600


def test_an_empty_limit_turns_rate_limiting_off(config):
    client = create_app({**config, "RATELIMIT": ""}).test_client()

    statuses = {client.post(URL, data={"handelsetyp": ""}, headers=JSON).status_code for _ in range(15)}

    assert statuses == {422}


# Origins and CORS

SITE = "https://bus.storsthlm.se"


@pytest.fixture
def guarded(config):
    return create_app({**config, "ALLOWED_ORIGINS": f"{SITE}, https://intranat.regionstockholm.se"})


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page.html"},
        {"Origin": "https://bus.storsthlm.se.evil.example"},
        {"Origin": "http://bus.storsthlm.se"},  # not the same origin: another scheme
    ],
)
def test_a_post_from_a_site_that_is_not_allowed_gets_403_and_nothing_is_sent(guarded, smtp_server, headers):
    response = guarded.test_client().post(URL, data=valid_answers(), headers=JSON | headers)

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "webbplats" in response.json["detail"]
    assert "Access-Control-Allow-Origin" not in response.headers
    time.sleep(0.2)
    assert smtp_server.inbox.messages == []


def test_a_browser_without_javascript_gets_a_readable_403_page(guarded):
    response = guarded.test_client().post(URL, data=valid_answers(), headers={"Origin": "https://evil.example"})

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Otillåten webbplats" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},  # the handler's own site (Flask's test host)
        {"Referer": "http://localhost/rapportera/"},
        {"Origin": SITE},
        {"Origin": "https://INTRANAT.regionstockholm.se:443"},
        {},  # not a browser: curl, a server
    ],
)
def test_the_same_site_and_allowed_origins_may_post(guarded, smtp_server, headers):
    response = guarded.test_client().post(URL, data=valid_answers(), headers=JSON | headers)

    assert response.status_code == 201
    assert smtp_server.inbox.wait_for(2)


def test_an_allowed_origin_may_read_the_answer(guarded, smtp_server):
    response = guarded.test_client().post(URL, data=valid_answers(), headers=JSON | {"Origin": SITE})

    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]
    assert "Location" in response.headers["Access-Control-Expose-Headers"]


def test_an_allowed_origin_gets_an_answer_to_its_preflight(guarded):
    response = guarded.test_client().options(
        URL,
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_a_preflight_from_another_site_is_refused(guarded):
    response = guarded.test_client().options(
        URL, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_without_allowed_origins_only_the_same_site_may_post(client):
    response = client.post(URL, data=valid_answers(), headers=JSON | {"Origin": SITE})

    assert response.status_code == 403


# Recipient domains


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("verksamheter.0.chef_epost", "rektor@gmail.com"),
        ("verksamheter.1.chef_epost", "chef@solna.se.evil.example"),
        ("beskrivning.chef.epost", "chef@hotmail.co.uk"),
        ("beskrivning.rapporterande.epost", "eva@se.example.net.org"),
    ],
)
def test_an_address_outside_the_forms_domains_is_refused_on_its_field(client, smtp_server, name, address):
    response = client.post(URL, data=valid_answers() | {name: address}, headers=JSON)

    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["name"] == name
    assert "svensk verksamhet, som slutar på .se" in error["message"]
    time.sleep(0.2)
    assert smtp_server.inbox.messages == []


@pytest.mark.parametrize(
    "address", ["rektor@stockholm.se", "rektor@edu.stockholm.se", "chef@SLL.se", "a@taby.se", "rektor@friskolan.se"]
)
def test_addresses_of_the_municipalities_and_the_region_are_accepted(client, smtp_server, address):
    response = client.post(URL, data=valid_answers() | {"verksamheter.0.chef_epost": address}, headers=JSON)

    assert response.status_code == 201


def test_the_secretariat_and_every_municipality_can_receive_a_report(app):
    form = app.extensions["formkit.forms"]["bus-avvikelse"]
    domains = form.settings.allowed_domains
    municipal = ["botkyrka.se", "stockholm.se", "regionstockholm.se", "sll.se", "storsthlm.se", "osteraker.se"]
    fixed = [a.rsplit("@", 1)[1].lower() for a in form.settings.mail.cc if not a.startswith("/")]

    for domain in municipal + fixed:
        assert any(domain == d or domain.endswith("." + d) for d in domains), domain


def test_a_form_without_its_own_message_names_the_allowed_domains(tmp_path, config, smtp_server):
    schema = json.loads((ROOT / "schema" / "bus-avvikelse.json").read_text())
    schema["x-formkit"]["allowed_domains"] = ["solna.se", "regionstockholm.se"]
    del schema["x-formkit"]["digest"]  # its secretariat addresses are outside these domains: check refuses them
    field = schema["properties"]["verksamheter"]["items"]["properties"]["chef_epost"]
    del field["x-messages"]["allowed_domains"]
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "bus-avvikelse.json").write_text(json.dumps(schema, ensure_ascii=False))
    shutil.copy(ROOT / "schema" / "bus-avvikelse-svar.json", tmp_path / "schema")
    client = create_app({**config, "SCHEMA_DIR": str(tmp_path / "schema")}).test_client()

    refused = client.post(URL, data=valid_answers() | {"verksamheter.0.chef_epost": "rektor@nacka.se"}, headers=JSON)
    accepted = client.post(URL, data=valid_answers(), headers=JSON)

    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["message"] == "Ange en adress i en av domänerna solna.se, regionstockholm.se"
    assert accepted.status_code == 201


# Logs


SECRETS = {
    "handelsetyp": "Remissen om Zebrafinken Qwx7 besvarades aldrig",
    "beskrivning.handelsen": "Xylofonlärare Plummonen väntade i sju veckor",
    "beskrivning.uppgiftslamnare.namn": "Ulrika Östermalmsson-Kvarg",
    "beskrivning.uppgiftslamnare.telefon": "070-987 65 43",
    "beskrivning.rapporterande.epost": "ulrika.kvarg@solna.se",
    "verksamheter.0.chef_epost": "zebrarektor@solna.se",
}


def test_logs_carry_form_reference_outcome_and_timings_but_never_the_content(config, smtp_server, caplog):
    client = create_app({**config, "RATELIMIT": "2 per minute"}).test_client()
    # nothing listens on port 1: a delivery failure is logged too, and without an outbox (serverless) a 503
    down = {**config, "SMTP_PORT": 1, "RATELIMIT": ""}
    with caplog.at_level(logging.DEBUG):
        accepted = client.post(URL, data=valid_answers() | SECRETS, headers=JSON)
        smtp_server.inbox.wait_for(2)
        invalid = client.post(URL, data=valid_answers() | SECRETS | {"beskrivning.chef.epost": "fel"}, headers=JSON)
        client.post(URL, data=valid_answers() | SECRETS, headers=JSON)  # rate limited
        queued = create_app(down).test_client().post(URL, data=valid_answers() | SECRETS, headers=JSON)
        serverless = create_app({**down, "OUTBOX_DIR": ""}).test_client()
        unavailable = serverless.post(URL, data=valid_answers() | SECRETS, headers=JSON)

    assert [r.status_code for r in (accepted, invalid, queued, unavailable)] == [201, 422, 201, 503]
    handler_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    reference = accepted.json["reference"]
    assert f"form=bus-avvikelse reference={reference} outcome=accepted delivery=sent ms=" in handler_logs
    assert "render_ms=" in handler_logs and "deliver_ms=" in handler_logs
    assert "form=bus-avvikelse outcome=invalid ms=" in handler_logs
    assert f"reference={queued.json['reference']} outcome=accepted delivery=queued" in handler_logs
    assert "outcome=unavailable" in handler_logs and "delivery failed" in handler_logs
    for secret in SECRETS.values():
        assert secret not in handler_logs
    for part in ("Zebrafinken", "Plummonen", "Östermalmsson", "987 65", "kvarg", "zebrarektor", "@"):
        assert part not in handler_logs


def test_a_rate_limit_that_cannot_be_read_stops_the_start_with_a_plain_message(config):
    with pytest.raises(ValueError, match='FORMKIT_RATELIMIT="ten a minute" is not a rate limit'):
        create_app({**config, "RATELIMIT": "ten a minute"})


# RateLimits: the pipeline's limits, without Flask


def admitted(limits: RateLimits, client: str = "192.0.2.1", recipients: tuple[str, ...] = ()) -> bool:
    """Return True when `limits` admits the submission, False when it answers TooManyRequests."""
    try:
        limits.admit(client, list(recipients))
    except TooManyRequests:
        return False
    return True


def test_twelve_concurrent_submissions_against_3_per_minute_admit_exactly_3():
    limits = RateLimits("3 per minute", "memory://", "")
    start = threading.Barrier(12)

    def submit(_):
        start.wait()  # all twelve at the same moment
        return admitted(limits)

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(submit, range(12)))

    assert results.count(True) == 3


def test_twelve_concurrent_submissions_to_one_recipient_admit_only_its_limit():
    limits = RateLimits("", "memory://", "3 per hour")
    start = threading.Barrier(12)

    def submit(number):
        start.wait()
        return admitted(limits, f"192.0.2.{number}", ("rektor@solna.se",))

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(submit, range(12)))

    assert results.count(True) == 3


def test_each_of_several_limits_holds_and_the_refusal_says_when_to_try_again():
    limits = RateLimits("2 per minute; 3 per hour", "memory://", "")

    assert [admitted(limits) for _ in range(3)] == [True, True, False]
    with pytest.raises(TooManyRequests) as refused:
        limits.admit("192.0.2.1", [])
    assert refused.value.status == 429 and "Vänta en stund" in refused.value.detail
    assert 0 < refused.value.retry_after <= 60


def test_a_recipient_gets_at_most_its_limit_whatever_the_spelling_of_its_address():
    limits = RateLimits("", "memory://", "2 per hour")

    first = admitted(limits, "192.0.2.1", ("Rektor@Solna.se",))
    second = admitted(limits, "192.0.2.2", (" rektor@solna.se",))
    with pytest.raises(TooManyRequests) as refused:
        limits.admit("192.0.2.3", ["REKTOR@SOLNA.SE", "chef@solna.se"])

    assert first and second
    assert "mottagarna" in refused.value.detail
    assert 3500 < refused.value.retry_after <= 3600
    assert "rektor@solna.se" not in refused.value.detail.lower()  # which address is not given away


def test_an_address_named_twice_in_one_submission_counts_once():
    limits = RateLimits("", "memory://", "1 per hour")

    assert admitted(limits, recipients=("rektor@solna.se", "Rektor@solna.se"))


def test_a_submission_refused_for_a_recipient_uses_up_nothing_of_the_clients_or_other_recipients_limits():
    limits = RateLimits("3 per minute", "memory://", "1 per hour")
    assert admitted(limits, recipients=("rektor@solna.se",))

    refused = [admitted(limits, recipients=("chef@solna.se", "rektor@solna.se")) for _ in range(5)]

    assert refused == [False] * 5
    assert admitted(limits, recipients=("chef@solna.se",))  # chef's one report, and the client's second
    assert admitted(limits, recipients=("eva@solna.se",))  # the client's third
    assert not admitted(limits, recipients=("anna@solna.se",))  # the client's limit, not anna's


def test_empty_limits_turn_both_limits_off():
    limits = RateLimits("", "memory://", "")

    assert all(admitted(limits, recipients=("rektor@solna.se",)) for _ in range(50))


@pytest.mark.parametrize("variable", ["FORMKIT_RATELIMIT", "FORMKIT_RECIPIENT_RATELIMIT"])
def test_a_limit_that_cannot_be_read_is_refused_with_its_variable_named(variable):
    written = {"FORMKIT_RATELIMIT": "3 per minute", "FORMKIT_RECIPIENT_RATELIMIT": "20 per hour"}
    written[variable] = "ten a minute"

    with pytest.raises(ValueError, match=f'{variable}="ten a minute" is not a rate limit'):
        RateLimits(written["FORMKIT_RATELIMIT"], "memory://", written["FORMKIT_RECIPIENT_RATELIMIT"])


def test_an_unreachable_store_lets_submissions_through_and_says_so_once(caplog):
    limits = RateLimits("1 per minute", f"redis://127.0.0.1:{free_port()}", "1 per hour")

    with caplog.at_level(logging.WARNING, logger="formkit.limits"):
        results = [admitted(limits, recipients=("rektor@solna.se",)) for _ in range(5)]

    assert results == [True] * 5
    warnings = [r.getMessage() for r in caplog.records if r.name == "formkit.limits"]
    assert len(warnings) == 1 and "rate limits off" in warnings[0]


def test_the_forms_own_fixed_addresses_are_not_limited_so_the_secretariat_gets_every_report(config, smtp_server):
    client = create_app({**config, "RATELIMIT": "", "RECIPIENT_RATELIMIT": "20 per hour"}).test_client()
    answers = [
        valid_answers()
        | {
            "verksamheter.0.chef_epost": f"rektor{i}@solna.se",
            "verksamheter.1.chef_epost": f"bup{i}@regionstockholm.se",
            "beskrivning.chef.epost": f"chef{i}@solna.se",
            "beskrivning.rapporterande.epost": f"rapportor{i}@solna.se",
        }
        for i in range(21)
    ]

    statuses = [client.post(URL, data=report, headers=JSON).status_code for report in answers]

    assert statuses == [201] * 21  # the 21st still reaches BUS-avvikelser@storsthlm.se, which every report copies


def test_a_manager_the_sender_names_again_and_again_is_limited(config, smtp_server):
    client = create_app({**config, "RATELIMIT": "", "RECIPIENT_RATELIMIT": "2 per hour"}).test_client()

    statuses = [client.post(URL, data=valid_answers(), headers=JSON).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]


def test_a_store_that_hangs_is_not_asked_again_on_every_report_until_it_had_time_to_recover(monkeypatch):
    monkeypatch.setattr(handler.limits, "STORE_TIMEOUT", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as frozen:  # takes connections, never answers: a frozen Redis
        limits = RateLimits("1 per minute", f"redis://127.0.0.1:{frozen.getsockname()[1]}", "1 per hour")

        started = time.monotonic()
        results = [admitted(limits, recipients=("rektor@solna.se",)) for _ in range(20)]
        elapsed = time.monotonic() - started

    assert results == [True] * 20
    assert elapsed < 1.5  # one or two timed-out tries, not twenty of 0.2 s each
