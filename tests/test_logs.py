"""Log lines: client values cannot forge a line or a key, and answer tokens never reach an access log."""

import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from handler import logs
from handler.app import create_app
from handler.logs import RedactTokens, redact, safe
from support import free_port, valid_answers

ROOT = Path(__file__).resolve().parent.parent
FORGED = "http://a\r\noutcome=accepted reference=X"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://bus.storsthlm.se", "https://bus.storsthlm.se"),
        ("Åsa Öberg i Täby", "Åsa Öberg i Täby"),
        ("a\r\nb", "a\\r\\nb"),
        ("a\nform=x outcome=accepted", "a\\nform=x outcome=accepted"),
        ("tab\there", "tab\\there"),
        ("nul\x00 esc\x1b del\x7f c1\x85", "nul\\x00 esc\\x1b del\\x7f c1\\x85"),
        ("line\u2028separator", "line\\u2028separator"),
        ("right\u202eto left", "right\\u202eto left"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ('a "quoted" value', 'a \\"quoted\\" value'),
        ("back\\slash", "back\\\\slash"),
        ("\U000e0001 tag", "\\U000e0001 tag"),
    ],
)
def test_safe_escapes_what_could_end_a_line_or_hide_text_and_keeps_the_rest(value, expected):
    assert safe(value) == expected


def test_safe_cuts_a_long_value_and_says_so():
    assert safe("x" * 1000) == "x" * 200 + "…"
    assert safe("\n" * 1000, limit=3) == "\\n\\n\\n…"
    assert safe("kort", limit=4) == "kort"


def test_a_forged_origin_gives_one_log_line_with_its_value_quoted(config, caplog):
    app = create_app({**config, "ALLOWED_ORIGINS": "https://bus.storsthlm.se"})

    with caplog.at_level(logging.WARNING, logger="formkit"):
        response = app.test_client().post(
            "/api/forms/bus-avvikelse",
            data=valid_answers(),
            headers={"Accept": "application/json"},
            environ_base={"HTTP_ORIGIN": FORGED},  # past the test client's own header check, as a raw request
        )

    assert response.status_code == 403
    [record] = [r for r in caplog.records if "outcome=forbidden" in r.getMessage()]
    line = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
    assert "\n" not in line and "\r" not in line
    assert line.endswith('outcome=forbidden origin="http://a\\r\\noutcome=accepted reference=X"')


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"GET /svar?token=abc.def-ghi HTTP/1.1" 200', '"GET /svar?token=[dold] HTTP/1.1" 200'),
        ("GET /svar?form=x&token=abc&x=1", "GET /svar?form=x&token=[dold]&x=1"),
        ("POST /api/forms/svar?_token=abc", "POST /api/forms/svar?_token=[dold]"),
        ("GET /svar?TOKEN=abc#top", "GET /svar?TOKEN=[dold]#top"),
        ("GET /svar?token=", "GET /svar?token=[dold]"),
        ("GET /svar?mytoken=abc", "GET /svar?mytoken=abc"),  # another parameter
        ("reference=BUS-20261120-ABCDEF outcome=accepted", "reference=BUS-20261120-ABCDEF outcome=accepted"),
    ],
)
def test_the_value_of_a_token_parameter_is_redacted_and_nothing_else(line, expected):
    assert redact(line) == expected


@pytest.fixture
def redacting():
    """Install the token filter on the usual loggers, and take it off again afterwards."""
    logs.install()
    yield
    for logger in [logging.getLogger(name) for name in logging.root.manager.loggerDict] + [logging.root]:
        for existing in [f for f in getattr(logger, "filters", []) if isinstance(f, RedactTokens)]:
            logger.removeFilter(existing)


def test_werkzeugs_access_log_line_never_shows_a_token(redacting, caplog):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = make_server("127.0.0.1", free_port(), app)  # werkzeug's own request handler, which logs
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            url = f"http://127.0.0.1:{server.port}/api/forms/bus-avvikelse-svar?token=abc.SECRET-123&x=1"
            assert urllib.request.urlopen(url, timeout=5).read() == b"ok"
            time.sleep(0.1)  # the line is written after the answer
    finally:
        server.shutdown()
        thread.join()

    [line] = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "GET" in r.getMessage()]
    assert "SECRET" not in line
    assert "/api/forms/bus-avvikelse-svar?token=[dold]&x=1" in line


def test_a_formkit_log_line_never_shows_a_token(redacting, caplog):
    with caplog.at_level(logging.INFO, logger="formkit"):
        logging.getLogger("formkit.outbox").info("link=%s", "https://bus.example/svar?token=SECRET")

    assert caplog.records[-1].getMessage() == "link=https://bus.example/svar?token=[dold]"


APP = """
from handler import logs
logs.install()

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_gunicorns_access_log_line_never_shows_a_token(tmp_path):
    (tmp_path / "tiny.py").write_text(APP)
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "-b", f"127.0.0.1:{port}", "--access-logfile", "-"]
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    server = subprocess.Popen([*command, "tiny:app"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/api/forms/bus-avvikelse-svar?token=abc.SECRET-123"
        deadline = time.monotonic() + 60  # gunicorn starts in a second; on a loaded machine it may take many
        while True:
            try:
                assert urllib.request.urlopen(url, timeout=10).read() == b"ok"
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start within 60 s")
                time.sleep(0.1)  # not listening yet
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]

    [line] = [line for line in output.splitlines() if "GET /api/forms" in line]
    assert "SECRET" not in line
    assert "/api/forms/bus-avvikelse-svar?token=[dold]" in line
