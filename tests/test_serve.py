"""`formkit serve` (what `make serve` runs): one process serves the built site and the endpoint."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import free_port, project_copy, valid_answers

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
    mails = list((project / "var" / "mail").glob("*.eml"))
    assert len(mails) == 2
    assert all(reference in m.read_text() for m in mails)
