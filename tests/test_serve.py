"""`formkit serve` (what `make serve` runs): one process serves the built site and the endpoint."""

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import ROOT, eventually, free_port, project_copy, valid_answers

BIN = os.path.dirname(sys.executable)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def served(tmp_path):
    """Run `formkit serve` on a free port in a copy of the project, with embedded defaults."""
    project = project_copy(tmp_path / "project")
    port = free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    for name in list(env):
        if name.startswith("FORMKIT_"):
            del env[name]
    process = subprocess.Popen(
        [f"{BIN}/formkit", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("formkit serve did not start: " + process.stdout.read().decode())
    yield url, project
    process.terminate()
    process.wait(timeout=10)


def test_serve_shows_the_guidance_and_the_form_and_writes_mail_as_eml_files(served):
    url, project = served

    start = urllib.request.urlopen(url + "/").read().decode()
    form = urllib.request.urlopen(url + "/rapportera/").read().decode()
    body = urllib.parse.urlencode(valid_answers()).encode()
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(urllib.request.Request(url + "/api/forms/bus-avvikelse", data=body))

    assert "Rapportera en BUS-avvikelse" in start
    assert 'action="/api/forms/bus-avvikelse"' in form
    assert answer.value.code == 303
    reference = answer.value.headers["Location"].rsplit("/", 1)[1]
    folder = project / "var" / "mail"  # written after the answer, by the courier: wait for it
    eventually(lambda: sum(m.name.startswith(f"{reference}.") for m in folder.glob("*.eml")) >= 4)
    files = list(folder.glob("*.eml"))  # named by Message-ID
    mails = [m for m in files if m.name.startswith(f"{reference}.")]
    assert len(mails) == 4  # one per receiving unit, the copy and the receipt
    assert all(reference in m.read_text() for m in mails)
    # Anything else is the worker's weekly digest (bus-avvikelse.digest.<week>@…), never another report's mail.
    assert all(m.name.startswith("bus-avvikelse.digest.") for m in files if m not in mails)


def test_serve_is_development_it_keeps_a_random_key_in_var_instead_of_refusing_to_start(tmp_path):
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FORMKIT_")}
    env["FORMKIT_SCHEMA_DIR"] = str(ROOT / "schema")
    process = subprocess.Popen(
        [f"{BIN}/formkit", "serve", "--no-build", "--no-watch", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        assert process.poll() is None, process.stderr.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=10)

    key = tmp_path / "var" / "secret-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) >= 32
