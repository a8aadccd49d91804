"""Issue 10, one named test per hostile request found: a clear 4xx within 2 s, never a 5xx, no traceback
in the log and no mail, under gunicorn (production) and under `formkit serve` alike.

The handler runs as a real process (tests/hostile.py); 2 s is the bound here, the 0.2 s target is measured
by bench/slowest.py. A request that gets no answer within TIMEOUT leaves its server busy: it is then
restarted before the next test, so one slow case does not slow down the others.
"""

from __future__ import annotations

import shlex
import threading
import time

import hostile
import pytest
from hostile import ENDPOINT, FORM, FORM_ID, JSON, Answer, Mailbox, Server, raw_request, running

LIMIT = 2.0  # seconds: the most any single request may take here
TIMEOUT = 10.0  # seconds: after this the request counts as unanswered
MAIL_GRACE = 0.3  # seconds to wait for mail that must not come
CASES = hostile.catalogue()
SERVERS = ["gunicorn", "serve"]


@pytest.fixture(scope="module")
def mailbox():
    with Mailbox() as mailbox:
        yield mailbox


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    return hostile.build_public(tmp_path_factory.mktemp("public"))


@pytest.fixture(scope="module", params=SERVERS)
def server_process(request, tmp_path_factory, mailbox):
    public = request.getfixturevalue("public") if request.param == "serve" else None
    with running(request.param, tmp_path_factory.mktemp(request.param), mailbox, public) as server:
        yield server


@pytest.fixture
def server(server_process: Server) -> Server:
    server_process.ensure_fresh()
    return server_process


def problems_of_refusal(server: Server, mailbox: Mailbox, answer: Answer, mark: int, mails: int) -> list[str]:
    """Return what is wrong with how a hostile request was answered (empty when it was refused properly)."""
    problems = []
    if answer.timed_out:
        problems.append(f"no answer within {TIMEOUT:.0f} s")
    elif not 400 <= (answer.status or 0) < 500:
        problems.append(f"status {answer.status or 'none (connection closed)'}, not a 4xx")
    if not answer.timed_out and answer.seconds > LIMIT:
        problems.append(f"answered in {answer.seconds:.2f} s, more than {LIMIT} s")
    time.sleep(MAIL_GRACE)
    if alarms := server.alarms(mark):
        problems.append(f"{len(alarms)} traceback/worker-timeout line(s) in the {server.name} log")
    if mailbox.count() != mails:
        problems.append(f"{mailbox.count() - mails} message(s) mailed for a refused request")
    return problems


def assert_refused(server: Server, mailbox: Mailbox, send) -> Answer:
    """Send (a callable returning an Answer) and assert the request was refused cleanly, quickly, without mail."""
    mark, mails = server.log_mark(), mailbox.count()
    answer = send()
    problems = problems_of_refusal(server, mailbox, answer, mark, mails)
    assert not problems, f"{server.name}: " + "; ".join(problems) + f" (answer: {answer})"
    return answer


def refuse_case(server: Server, mailbox: Mailbox, name: str) -> Answer:
    return assert_refused(server, mailbox, lambda: server.send_case(CASES[name], timeout=TIMEOUT))


# --- one request, seconds of CPU ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nfc-bomb-json", "nfc-bomb-form", "nfc-bomb-form-html"])
def test_alternating_combining_marks_are_refused_before_normalisation(server, mailbox, name):
    """{"handelsetyp": "a" + "\\u0301\\u0316" * 65000}: NFC is quadratic on it; maxLength 2000 must refuse it first."""
    answer = refuse_case(server, mailbox, name)
    if name.endswith("html"):
        assert answer.header("Content-Type").startswith("text/html")


def test_a_valid_report_right_after_an_nfc_bomb_is_not_kept_waiting(server, mailbox):
    """The issue saw a valid report wait 12.8 s behind one bomb; both must be answered quickly."""
    case = CASES["nfc-bomb-json"]
    mails = mailbox.count()
    bomb: list[Answer] = []
    sender = threading.Thread(target=lambda: bomb.append(server.send_case(case, timeout=TIMEOUT)))
    sender.start()
    time.sleep(0.05)
    valid = server.post(hostile.valid_json(), accept=JSON, timeout=TIMEOUT)
    sender.join()
    assert valid.status == 201 and valid.seconds <= LIMIT, f"{server.name}: valid report behind a bomb: {valid}"
    assert bomb[0].status is not None and 400 <= bomb[0].status < 500, f"{server.name}: bomb: {bomb[0]}"
    assert mailbox.wait_for(mails + 1) > mails


# --- 500s ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["row-index-superscript-two", "row-index-superscript-two-html"])
def test_row_index_that_is_a_unicode_digit_is_refused(server, mailbox, name):
    """verksamheter.%C2%B2.enhet=x: "²" passes str.isdigit() but int() refuses it."""
    refuse_case(server, mailbox, name)


@pytest.mark.parametrize("name", ["row-index-5000-digits", "row-index-5000-digits-html"])
def test_row_index_of_5000_digits_is_refused(server, mailbox, name):
    """int() of more than 4300 digits raises ValueError: the index must be refused by its length first."""
    refuse_case(server, mailbox, name)


@pytest.mark.parametrize("name", ["row-index-star", "row-index-star-html"])
def test_row_index_that_is_a_star_is_refused(server, mailbox, name):
    """verksamheter.*.enhet=x: "*" stands for a row in the form's patterns, but is no row number (found by the fuzz)."""
    refuse_case(server, mailbox, name)


@pytest.mark.parametrize("name", ["lone-surrogate-key", "lone-surrogate-value"])
def test_lone_surrogate_in_json_is_refused(server, mailbox, name):
    """{"\\ud800": 1} as JSON text: a key that cannot be encoded must not be echoed into the answer."""
    answer = refuse_case(server, mailbox, name)
    answer.body.decode("utf-8")  # whatever it says, the answer itself is valid UTF-8


@pytest.mark.parametrize("depth", [600, 900, 5000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_json_is_refused(server, mailbox, shape, depth):
    """JSON nested 600, 900 and 5000 levels in a field: 400 without a traceback (the depth check must not recurse)."""
    refuse_case(server, mailbox, f"nested-{shape}-{depth}")


def test_deeply_nested_json_at_the_top_level_is_refused(server, mailbox):
    refuse_case(server, mailbox, "nested-top-level-900")


def test_deep_nesting_does_not_fill_the_log(server, mailbox):
    """Each 1.2 KB nested request wrote about 122 KB of traceback; a refusal may log a line, not a page."""
    mark = server.log_mark()
    for _ in range(5):
        server.send_case(CASES["nested-array-900"], timeout=TIMEOUT)
    time.sleep(MAIL_GRACE)
    written = server.log_mark() - mark
    assert written < 5 * 1000, f"{server.name}: 5 nested requests wrote {written} bytes to the log"


def test_malformed_chunk_size_is_refused(server, mailbox):
    """Transfer-Encoding: chunked with the chunk size "zz": a 400, under gunicorn as under `formkit serve`."""
    refuse_case(server, mailbox, "chunked-bad-size")


def test_chunk_without_its_terminator_is_refused(server, mailbox):
    """A chunk of size 2 followed by "{}0" instead of "{}" CR LF: gunicorn raises ChunkMissingTerminator
    while the app reads the body (found by the fuzz)."""
    refuse_case(server, mailbox, "chunked-missing-terminator")


# --- slow by size ---------------------------------------------------------------------------------------


def test_duplicate_key_at_the_end_of_20000_keys_is_refused_fast(server, mailbox):
    answer = refuse_case(server, mailbox, "duplicate-key-after-20000")
    assert answer.seconds <= LIMIT


def test_array_of_131000_items_gets_a_small_answer(server, mailbox):
    """A list field of 131,000 items (256 KiB): refused by maxItems, with few errors, at most one per field."""
    from handler.forms import load_forms

    answer = refuse_case(server, mailbox, "array-131000-items")
    fields = sum(1 for _ in load_forms(hostile.ROOT / "schema")[FORM_ID].root.walk())
    errors = hostile.problem_errors(answer)
    paths = [error.get("path") for error in errors]
    assert len(answer.body) < 64 * 1024, f"answer of {len(answer.body)} bytes ({len(errors)} errors)"
    assert len(errors) <= fields, f"{len(errors)} errors for a form of {fields} fields"
    assert len(paths) == len(set(paths)), "more than one error for the same field"


# --- references, headers, methods -----------------------------------------------------------------------


def test_reference_ending_in_a_newline_is_no_receipt(server, mailbox):
    """The reference pattern must end with \\Z: "…\\n" passed `$`, and would cut headers and file names."""
    # The receipt page is read from the register: only a report really sent has one.
    mails = mailbox.count()
    sent = server.post(hostile.valid_json(), accept=JSON, timeout=TIMEOUT)
    reference = sent.reference
    assert sent.status == 201 and reference, f"{server.name}: a valid report: {sent}"
    # Its messages (one per receiving unit, the copy, the receipt) must be in before the refusal counts mail.
    mailbox.wait_for(mails + 4)
    assert mailbox.references(mails).count(reference) == 4
    good = server.request("GET", f"/api/forms/{FORM_ID}/kvitto/{reference}", timeout=TIMEOUT)
    assert good.status == 200, f"the receipt page itself does not answer: {good}"
    answer = assert_refused(
        server, mailbox, lambda: server.request("GET", f"/api/forms/{FORM_ID}/kvitto/{reference}%0A", timeout=TIMEOUT)
    )
    assert answer.status == 404
    assert reference.encode() not in answer.body


FORGED = "outcome=accepted reference=BUS-20260101-FRGDXY"


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example\r\n " + FORGED.encode(),  # obsolete line folding: CR LF, then a space
        b"http://evil.example\r\n\t" + FORGED.encode(),
        b"http://evil.example\r" + FORGED.encode(),  # a bare CR
    ],
    ids=["folded-space", "folded-tab", "bare-cr"],
)
def test_origin_with_cr_lf_is_not_a_second_log_line(server, mailbox, origin):
    """A header value with CR LF must not start a new line in the log (a forged entry)."""
    request = raw_request("POST", ENDPOINT, [(b"Content-Type", b"application/json"), (b"Origin", origin)], b"{}")
    mark = server.log_mark()
    assert_refused(server, mailbox, lambda: server.raw(request, timeout=TIMEOUT))
    for line in server.log_text(mark).lower().split("\n"):  # the handler may lower-case the origin
        assert "frgdxy" not in line or "origin" in line, f"{server.name}: a forged log line: {line!r}"
        assert not line.lstrip().startswith(FORGED.lower()), f"{server.name}: a forged log line: {line!r}"


def test_origin_cannot_forge_fields_of_the_log_line(server, mailbox):
    """`Origin: http://a outcome=accepted reference=…` must be escaped in the log, not read as its own fields."""
    request = raw_request(
        "POST", ENDPOINT, [("Content-Type", "application/json"), ("Origin", "http://a " + FORGED)], b"{}"
    )
    mark = server.log_mark()
    assert_refused(server, mailbox, lambda: server.raw(request, timeout=TIMEOUT))
    for line in server.log_text(mark).lower().splitlines():  # the handler may lower-case the origin
        if "frgdxy" not in line:
            continue
        try:
            fields = shlex.split(line)
        except ValueError:
            fields = line.split()
        assert "outcome=accepted" not in fields and "reference=bus-20260101-frgdxy" not in fields, (
            f"{server.name}: the Origin header forged fields of a log line: {line!r}"
        )


def test_get_of_the_endpoint_is_not_a_server_error(server, mailbox):
    mark = server.log_mark()
    answer = server.request("GET", ENDPOINT, timeout=TIMEOUT)
    assert answer.status is not None and 300 <= answer.status < 500, f"{server.name}: {answer}"
    assert answer.seconds <= LIMIT
    time.sleep(MAIL_GRACE)
    assert not server.alarms(mark)


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_on_the_endpoint_are_not_server_errors(server, mailbox, method):
    mark, mails = server.log_mark(), mailbox.count()
    answer = server.request(method, ENDPOINT, b"{}" if method in ("PUT", "PATCH") else None, timeout=TIMEOUT)
    assert answer.status is not None and 200 <= answer.status < 500, f"{server.name} {method}: {answer}"
    assert answer.seconds <= LIMIT
    time.sleep(MAIL_GRACE)
    assert not server.alarms(mark) and mailbox.count() == mails


# --- what must still work --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type, accept, status",
    [
        (hostile.valid_form, FORM, None, 303),
        (hostile.valid_form, FORM, JSON, 201),
        (hostile.valid_json, JSON, None, 201),
    ],
    ids=["form-no-js", "form-js", "json"],
)
def test_a_valid_report_is_still_accepted_and_mailed(server, mailbox, body, content_type, accept, status):
    mark, mails = server.log_mark(), mailbox.count()
    answer = server.post(body(), content_type, accept, timeout=TIMEOUT)
    assert answer.status == status, f"{server.name}: {answer}"
    assert answer.seconds <= LIMIT, f"{server.name}: a valid report took {answer.seconds:.2f} s"
    reference = answer.reference
    assert reference, answer.headers
    mailbox.wait_for(mails + 2)
    assert mailbox.references(mails).count(reference) >= 2, "the report and its receipt carry the reference"
    assert not server.alarms(mark)


@pytest.mark.parametrize("name", ["largest-valid-json", "largest-valid-form"])
def test_the_largest_valid_report_is_accepted_quickly(server, mailbox, name):
    mails = mailbox.count()
    answer = server.send_case(CASES[name], timeout=TIMEOUT)
    assert answer.status == 201, f"{server.name}: {answer}"
    assert answer.seconds <= LIMIT
    assert mailbox.wait_for(mails + 1) > mails
    assert answer.reference in mailbox.references(mails)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        (ENDPOINT, {"Referer": "not a url"}, 403),  # refused by its origin before the body is read
        (ENDPOINT, {"Origin": "http://evil.example"}, 403),
        ("/api/forms/finns-inte", {}, 404),
    ],
    ids=["referer", "origin", "unknown-form"],
)
def test_a_big_body_refused_before_it_is_read_still_gets_its_answer(server, path, headers, status):
    """The fuzz found it: a 2 MB post refused unread (here by its Referer) reset the line instead of a 403.

    20 MB keeps the sender sending while the answer is written, so the reset is certain, not a race.
    """
    body = b'{"handelsetyp": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    sent = {"Content-Type": JSON, "Accept": JSON, **headers}

    answers = [server.request("POST", path, body, sent, 30) for _ in range(3)]

    assert [answer.status for answer in answers] == [status] * 3, answers


@pytest.mark.parametrize("megabytes", [3, 20])
def test_a_body_far_over_the_limit_gets_its_413_not_a_reset_connection(server, mailbox, megabytes):
    """A server that answers with the body unread resets the line, and its sender, still sending, reads nothing."""
    body = b'{"handelsetyp": "' + b"x" * (megabytes * 1024 * 1024) + b'"}'

    answers = [server.post(body, accept=JSON, timeout=30) for _ in range(3)]

    assert [answer.status for answer in answers] == [413] * 3
    assert answers[0].json()["title"] == "Innehållet är för stort"
