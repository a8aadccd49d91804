"""Rate limits in a real Redis shared by several handlers: counted across them, and failing open when Redis goes.

A session's redis-server (Debian's) runs on a free loopback port, emptied before each test; the tests
that stop Redis start one of their own. Two create_app() calls stand for two processes (each has its
own RateLimits and connection pool); the slow test runs two gunicorn processes on two ports.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from redis_server import RedisServer

import handler.limits
from handler.app import create_app
from handler.limits import RECIPIENT_DETAIL
from handler.register import Register
from handler.settings import load
from support import free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
URL = "/api/forms/bus-avvikelse"
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis(redis_session):
    """The session's Redis, emptied: no test sees another's counts."""
    assert redis_session.command("FLUSHALL") == b"+OK"
    return redis_session


def instances(config, redis, **limits) -> list:
    """Two apps (two processes' worth of state) counting in the same Redis; test clients for both."""
    settings = {**config, "RATELIMIT_STORAGE_URI": redis.url, "TRUSTED_PROXIES": 1, **limits}
    return [create_app(settings).test_client() for _ in range(2)]


def post(client, address: str, answers: dict | None = None):
    """Post a valid report as the browser at `address` (behind one trusted proxy)."""
    return client.post(URL, data=answers or valid_answers(), headers=JSON | {"X-Forwarded-For": address})


def test_the_client_limit_counts_the_reports_both_instances_accepted(config, redis, smtp_server):
    first, second = instances(config, redis, RATELIMIT="3 per minute", RECIPIENT_RATELIMIT="")

    statuses = [post(client, "192.0.2.1").status_code for client in (first, second, first, second)]
    other = post(first, "192.0.2.2")

    assert statuses == [201, 201, 201, 429]
    assert other.status_code == 201  # another client has its own count
    assert len(smtp_server.inbox.wait_for(16)) == 16  # four reports: each unit's report, the copy and the receipt


def test_the_recipient_limit_counts_the_reports_both_instances_sent_to_one_address(config, redis, smtp_server):
    first, second = instances(config, redis, RATELIMIT="", RECIPIENT_RATELIMIT="2 per hour")

    accepted = [post(first, "192.0.2.1"), post(second, "192.0.2.2")]
    refused = post(first, "192.0.2.3")

    assert [response.status_code for response in accepted] == [201, 201]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["detail"] == RECIPIENT_DETAIL


def test_a_refused_report_uses_up_nothing_in_the_shared_store(config, redis, smtp_server):
    first, second = instances(config, redis, RATELIMIT="2 per minute", RECIPIENT_RATELIMIT="")
    answers = valid_answers()
    del answers["beskrivning.handelsen"]

    invalid = [post(client, "192.0.2.1", answers).status_code for client in (first, second) * 3]
    valid = [post(client, "192.0.2.1").status_code for client in (first, second, first)]

    assert invalid == [422] * 6
    assert valid == [201, 201, 429]


def test_when_redis_stops_reports_are_still_accepted_logged_once_and_counted_again_when_it_is_back(
    config, tmp_path, smtp_server, caplog, monkeypatch
):
    # After a failure the store is asked again only after STORE_RETRY seconds (a hanging Redis would
    # cost its timeout on every report otherwise); a short wait keeps this test quick.
    monkeypatch.setattr(handler.limits, "STORE_RETRY", 0.5)
    server = RedisServer(tmp_path / "redis").start()
    app = create_app({**config, "RATELIMIT_STORAGE_URI": server.url, "RATELIMIT": "2 per minute"})
    client = app.test_client()
    try:
        with caplog.at_level(logging.WARNING, logger="formkit.limits"):
            before = client.post(URL, data=valid_answers(), headers=JSON).status_code
            server.stop()
            started = time.monotonic()
            during = [client.post(URL, data=valid_answers(), headers=JSON).status_code for _ in range(4)]
            elapsed = time.monotonic() - started
            server.start()  # an empty Redis on the same port: counting starts over
            time.sleep(0.6)  # past STORE_RETRY: the store is asked again
            after = [client.post(URL, data=valid_answers(), headers=JSON).status_code for _ in range(3)]
    finally:
        server.stop()

    assert before == 201
    assert during == [201] * 4  # over the limit of 2, but nothing counts them: fail open, never a 500
    assert elapsed < 10
    assert after == [201, 201, 429]
    warnings = [r.getMessage() for r in caplog.records if r.name == "formkit.limits"]
    assert len(warnings) == 2, warnings
    assert "rate limits off: the store cannot be reached" in warnings[0]
    assert "rate limits on again" in warnings[1]
    assert len(smtp_server.inbox.wait_for(28)) == 28  # all seven accepted reports: two units' reports, copy, receipt


# ---- two gunicorn processes on two ports ----


def gunicorn(port: int, environment: dict, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}"]
        + ["--graceful-timeout", "2", "handler.app:create_app()"],
        env=environment,
        cwd=environment["FORMKIT_OUTBOX_DIR"].rsplit("/", 1)[0],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", URL)
            connection.getresponse().read()
            return process
        except OSError:
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
            time.sleep(0.1)


def post_http(port: int, address: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = urllib.parse.urlencode(valid_answers())
        headers = JSON | {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": address}
        connection.request("POST", URL, body, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.slow
def test_two_gunicorn_processes_count_in_one_redis_and_both_keep_accepting_when_it_stops(tmp_path, smtp_server):
    server = RedisServer(tmp_path / "redis").start()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("FORMKIT_")},
        "FORMKIT_SECRET_KEY": secrets.token_urlsafe(36),
        "FORMKIT_SCHEMA_DIR": str(ROOT / "schema"),
        "FORMKIT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "FORMKIT_MAIL_DIR": str(tmp_path / "mail"),
        "FORMKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'formkit.db'}",  # one register for both, as PostgreSQL would be
        "FORMKIT_SMTP_HOST": "127.0.0.1",
        "FORMKIT_SMTP_PORT": str(smtp_server.port),
        "FORMKIT_RATELIMIT": "2 per minute",
        "FORMKIT_RECIPIENT_RATELIMIT": "3 per hour",
        "FORMKIT_RATELIMIT_STORAGE_URI": server.url,
        "FORMKIT_TRUSTED_PROXIES": "1",
    }
    register = Register.from_settings(load(environ=environment))  # `formkit db upgrade`, once for both
    register.upgrade()
    register.close()
    ports, logs = [free_port(), free_port()], [tmp_path / "a.log", tmp_path / "b.log"]
    processes = []
    try:
        processes = [gunicorn(port, environment, log) for port, log in zip(ports, logs)]
        a, b = ports
        client = [post_http(a, "192.0.2.1"), post_http(b, "192.0.2.1"), post_http(a, "192.0.2.1")]
        recipient = [post_http(b, "192.0.2.2"), post_http(a, "192.0.2.3")]
        server.stop()
        outage = [post_http(port, "192.0.2.9")[0] for port in (a, b, a, b, a, b)]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        server.stop()

    assert [status for status, _ in client] == [201, 201, 429]  # the client's third, on the first instance
    assert [status for status, _ in recipient] == [201, 429]  # the managers' fourth report
    assert recipient[1][1]["detail"] == RECIPIENT_DETAIL
    assert outage == [201] * 6  # over both limits, yet accepted: fail open, never a 500
    for log in logs:
        assert log.read_text().count("rate limits off: the store cannot be reached") == 1
    assert len(smtp_server.inbox.wait_for(36)) == 36  # nine reports: two units' reports, the copy and the receipt each
