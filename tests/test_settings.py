"""Settings: every FORMKIT_* variable declared once, parsed at start, one plain line and exit code 2 per bad value."""

import os
import re
import stat
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from dotenv import dotenv_values

from handler import settings
from handler.outbox import Outbox
from handler.settings import VARIABLES, SettingsError, load
from handler.transport import send
from support import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MAKE_KEY = 'Make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
LONG_KEY = "k" * 32
TESTING = {"TESTING": True}


def problems(environ: dict, **options) -> list[str]:
    """Return the lines a load with these FORMKIT_* variables refuses with ([] when it loads)."""
    try:
        load(environ=environ, **options)
    except SettingsError as error:
        return error.problems
    return []


def message(number: int = 1) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "no-reply@formkit.localhost"
    mail["To"] = "rektor@solna.se"
    mail["Subject"] = f"BUS-avvikelse BUS-20261120-SET{number:03d}"
    mail["Message-ID"] = f"<BUS-20261120-SET{number:03d}.report@formkit.localhost>"
    mail.set_content("Rapporten finns bifogad.")
    return mail


def formkit(*arguments: str, cwd: Path, env: dict, command: str = "formkit") -> subprocess.CompletedProcess:
    """Run a command as an operator would: only the FORMKIT_* variables given, in folder `cwd`."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("FORMKIT_")}
    return subprocess.run(
        [str(BIN / command), *arguments], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


# ---- booleans ----


@pytest.mark.parametrize("written", ["false", "False", "FALSE", "no", "No", "0", " false "])
def test_false_no_and_0_in_any_case_turn_starttls_off(written):
    assert load(TESTING, {"FORMKIT_SMTP_STARTTLS": written}).smtp.starttls is False


@pytest.mark.parametrize("written", ["true", "True", "YES", "yes", "1"])
def test_true_yes_and_1_in_any_case_turn_starttls_on(written):
    assert load(TESTING, {"FORMKIT_SMTP_STARTTLS": written}).smtp.starttls is True


@pytest.mark.parametrize("written", ["maybe", "", "on", "off", "2", "falsch"])
def test_anything_else_is_no_boolean(written):
    assert problems({"FORMKIT_SMTP_STARTTLS": written}, overrides=TESTING) == [
        f'FORMKIT_SMTP_STARTTLS="{written}" is not true or false (write true/false, yes/no or 1/0).'
    ]


# ---- one line per bad value ----

SECONDS = "is not a number of seconds (0 or more, such as 30 or 0.5)."
RATE = 'is not a rate limit. Write it like "10 per minute" or "5/minute; 50/hour".'
BAD = [
    ("SMTP_PORT", "abc", "is not a port number (1–65535)."),
    ("SMTP_PORT", "70000", "is not a port number (1–65535)."),
    ("SMTP_TIMEOUT", "0", "is not a number of seconds above 0 (such as 10 or 0.5)."),
    ("OUTBOX_RETRY_BASE", "soon", SECONDS),
    ("OUTBOX_MAX_AGE", "-1", SECONDS),
    ("OUTBOX_RETRY_MAX", "nan", SECONDS),
    ("RATELIMIT", "ten a minute", RATE),
    ("RECIPIENT_RATELIMIT", "20 an hour", RATE),
    (
        "RATELIMIT_STORAGE_URI",
        "localhost:6379",
        "is not a storage address for the rate limit (such as memory:// or redis://host:6379).",
    ),
    ("TRUSTED_PROXIES", "one", "is not a whole number (0 or more)."),
    ("MAX_CONTENT_LENGTH", "256k", "is not a number of bytes (a whole number above 0, such as 262144)."),
    ("REPLY_TOKEN_DAYS", "forever", "is not a number of days above 0 (such as 180)."),
    ("BASE_URL", "bus.example.se", "is not a web address (such as https://bus.example.se)."),
    (
        "ALLOWED_ORIGINS",
        "https://a.example.se, intranat",
        'is not a list of web sites (such as "https://intranat.example.se, https://www.example.se").',
    ),
    ("MAIL_FROM", "Formulärtjänsten", 'is not an e-mail address (such as "Formulärtjänsten <no-reply@example.se>").'),
    ("MAIL_DOMAIN", "formkit localhost", "is not a domain name (such as bus.example.se)."),
]
PORT_LINE = 'FORMKIT_SMTP_PORT="abc" is not a port number (1–65535).'
RATE_LINE = f'FORMKIT_RATELIMIT="ten a minute" {RATE}'


@pytest.mark.parametrize(("name", "written", "expected"), BAD, ids=[f"{name}={value}" for name, value, _ in BAD])
def test_a_bad_value_is_one_line_naming_the_variable_the_value_and_what_is_expected(name, written, expected):
    assert problems({f"FORMKIT_{name}": written}, overrides=TESTING) == [f'FORMKIT_{name}="{written}" {expected}']


def test_former_keys_that_are_no_list_are_named_without_showing_them():
    found = problems({"FORMKIT_SECRET_KEY_FALLBACKS": '["hunter2-hunter2-hunter2-hunter2-x", 7]'}, overrides=TESTING)

    assert found == [
        'FORMKIT_SECRET_KEY_FALLBACKS is not a list of former keys (a JSON list such as ["old-key"], '
        "or keys separated by commas)."
    ]


def test_every_bad_value_is_named_at_once():
    found = problems({"FORMKIT_SMTP_PORT": "abc", "FORMKIT_OUTBOX_RETRY_BASE": "soon"}, overrides=TESTING)

    assert [line.split("=", 1)[0] for line in found] == ["FORMKIT_SMTP_PORT", "FORMKIT_OUTBOX_RETRY_BASE"]


def test_the_existing_create_app_check_of_the_rate_limit_is_a_settings_error(config):
    from handler.app import create_app

    with pytest.raises(SettingsError) as caught:
        create_app({**config, "RATELIMIT": "ten a minute"})

    assert caught.value.problems == [RATE_LINE]


# ---- what is read, from where ----


def test_with_nothing_set_every_setting_is_its_declared_default():
    loaded = load(TESTING, {})

    for variable in VARIABLES:
        section, _, name = variable.where.rpartition(".")
        value = getattr(getattr(loaded, section) if section else loaded, name)
        if variable.name != "SECRET_KEY":  # a development key instead, see below
            assert value == variable.read(variable.default), variable.name


def test_typed_overrides_read_as_their_text_does():
    typed = load({**TESTING, "SMTP_PORT": 2525, "SMTP_STARTTLS": False, "TRUSTED_PROXIES": 1, "OUTBOX_RETRY_BASE": 0.5})
    written = load({**TESTING, "SMTP_PORT": "2525", "SMTP_STARTTLS": "no", "TRUSTED_PROXIES": "1"}, {})

    assert (typed.smtp.port, typed.smtp.starttls, typed.limits.trusted_proxies) == (2525, False, 1)
    assert (written.smtp.port, written.smtp.starttls, written.limits.trusted_proxies) == (2525, False, 1)
    assert typed.outbox.retry_base == 0.5


def test_overrides_win_over_the_environment():
    loaded = load({**TESTING, "SMTP_HOST": "mail.example.se"}, {"FORMKIT_SMTP_HOST": "other.example.se"})

    assert loaded.smtp.host == "mail.example.se"


def test_unknown_override_keys_are_ignored_and_testing_is_kept():
    loaded = load({**TESTING, "PROPAGATE_EXCEPTIONS": True, "SERVER_NAME": "x"}, {})

    assert loaded.testing and not loaded.development
    assert set(loaded.as_config()) == {v.name for v in VARIABLES} | {"TESTING"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty folder as the current one, with no FORMKIT_* variable in the environment."""
    for name in list(os.environ):
        if name.startswith("FORMKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dotenv_in_the_current_folder_is_read_and_the_real_environment_wins(project, monkeypatch):
    (project / ".env").write_text(
        "# the mail server\n"
        "FORMKIT_SMTP_HOST=smtp.example.se  # the relay\n"
        "FORMKIT_SMTP_PORT='587'\n"
        'export FORMKIT_MAIL_FROM="Formulärtjänsten <no-reply@example.se>"\n'
        "FORMKIT_SMTP_STARTTLS=yes\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FORMKIT_SMTP_PORT", "2525")

    loaded = load(development=True)

    assert (loaded.smtp.host, loaded.smtp.port, loaded.smtp.starttls) == ("smtp.example.se", 2525, True)
    assert loaded.mail.sender == "Formulärtjänsten <no-reply@example.se>"


def test_a_bad_value_in_dotenv_is_named_like_one_in_the_environment(project):
    (project / ".env").write_text("FORMKIT_SMTP_PORT=abc\n", encoding="utf-8")

    with pytest.raises(SettingsError) as caught:
        load(development=True)

    assert caught.value.problems == [PORT_LINE]


def test_a_copy_of_env_example_changes_nothing():
    example = dotenv_values(ROOT / ".env.example")

    assert load(TESTING, example) == load(TESTING, {})


# ---- the secret key ----


def test_production_refuses_to_start_without_a_key(project):
    assert problems({}) == [
        "FORMKIT_SECRET_KEY is not set: outside development the handler needs a key of at least 32 characters "
        f"to sign answer links. {MAKE_KEY}"
    ]


@pytest.mark.parametrize("development", [False, True])
def test_a_short_key_is_refused_in_production_and_in_development(project, development):
    assert problems({"FORMKIT_SECRET_KEY": "k" * 31}, development=development) == [
        f"FORMKIT_SECRET_KEY has 31 characters; answer links need a key of at least 32. {MAKE_KEY}"
    ]


def test_a_short_former_key_is_refused_too():
    found = problems({"FORMKIT_SECRET_KEY": LONG_KEY, "FORMKIT_SECRET_KEY_FALLBACKS": "old"})

    assert found == [
        "FORMKIT_SECRET_KEY_FALLBACKS holds a key shorter than 32 characters, which would let anyone forge answer "
        "links. Remove it, or replace it with a long one."
    ]


@pytest.mark.parametrize("written", ["1" * 40, "true" * 8, '{"key": "' + "x" * 30 + '"}', "[" + "1," * 20 + "1]"])
def test_the_key_is_always_a_string(written):
    loaded = load(environ={"FORMKIT_SECRET_KEY": written})

    assert loaded.links.secret_key == written and loaded.as_config()["SECRET_KEY"] == written


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("", ()),
        ("[]", ()),
        (f'["{"a" * 32}", "{"b" * 32}"]', ("a" * 32, "b" * 32)),
        (f"{'a' * 32}, {'b' * 32}", ("a" * 32, "b" * 32)),
    ],
)
def test_former_keys_are_a_json_list_or_separated_by_commas(written, read):
    loaded = load(environ={"FORMKIT_SECRET_KEY": LONG_KEY, "FORMKIT_SECRET_KEY_FALLBACKS": written})

    assert loaded.links.fallbacks == read


def test_development_keeps_a_random_key_in_var_that_only_its_owner_reads(project):
    first = load(development=True).links.secret_key
    second = load(development=True).links.secret_key

    kept = project / "var" / "secret-key"
    assert first == second == kept.read_text().strip() and len(first) >= 32
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert first not in (ROOT / "handler" / "settings.py").read_text()


def test_another_checkout_gets_another_development_key(tmp_path, monkeypatch):
    keys = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        keys.append(load(TESTING, {}).links.secret_key)

    assert keys[0] != keys[1]


def test_tests_may_sign_with_a_short_key_of_their_own():
    assert load({**TESTING, "SECRET_KEY": "test-key"}, {}).links.secret_key == "test-key"


def test_recipient_limit_defaults_to_20_per_hour_and_empty_turns_it_off():
    assert load(TESTING, {}).limits.recipient_ratelimit == "20 per hour"
    assert load(TESTING, {"FORMKIT_RECIPIENT_RATELIMIT": ""}).limits.recipient_ratelimit == ""


def test_the_app_keeps_its_settings(app, smtp_server):
    kept = app.extensions["formkit.settings"]

    assert isinstance(kept, settings.Settings)
    assert kept.smtp.port == app.config["SMTP_PORT"] == smtp_server.port and kept.testing


# ---- STARTTLS=False really sends without STARTTLS (the server here offers none) ----


@pytest.mark.parametrize("written", ["False", "no"])
def test_starttls_false_sends_to_a_real_server_without_starttls(smtp_server, written):
    environ = {"FORMKIT_SMTP_HOST": "127.0.0.1", "FORMKIT_SMTP_PORT": str(smtp_server.port)}
    loaded = load(TESTING, {**environ, "FORMKIT_SMTP_STARTTLS": written})

    send(message(), loaded.smtp)

    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-SET001.report@formkit.localhost>"


# ---- the commands: one line, exit code 2, no traceback; the outbox needs no valid forms ----

COMMAND_CASES = [
    ("SMTP_PORT", "abc", PORT_LINE),
    ("OUTBOX_RETRY_BASE", "soon", f'FORMKIT_OUTBOX_RETRY_BASE="soon" {SECONDS}'),
    ("RATELIMIT", "ten a minute", RATE_LINE),
    ("SMTP_STARTTLS", "maybe", 'FORMKIT_SMTP_STARTTLS="maybe" is not true or false (write true/false, yes/no or 1/0).'),
    ("SECRET_KEY", "short", f"FORMKIT_SECRET_KEY has 5 characters; answer links need a key of at least 32. {MAKE_KEY}"),
]


@pytest.mark.parametrize("command", ["serve --no-build --no-watch --port {port}", "outbox run"])
@pytest.mark.parametrize(("name", "written", "line"), COMMAND_CASES, ids=[case[0] for case in COMMAND_CASES])
def test_a_bad_value_stops_the_command_with_its_line_and_exit_code_2(tmp_path, command, name, written, line):
    arguments = command.format(port=free_port()).split()

    result = formkit(*arguments, cwd=tmp_path, env={f"FORMKIT_{name}": written})

    assert (result.returncode, result.stderr, result.stdout) == (2, line + "\n", "")


def test_gunicorn_refuses_to_start_without_a_key_naming_every_bad_value(tmp_path):
    result = formkit(
        "--preload",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "handler.app:create_app()",
        cwd=tmp_path,
        env={"FORMKIT_SCHEMA_DIR": str(ROOT / "schema"), "FORMKIT_SMTP_PORT": "abc"},
        command="gunicorn",
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        PORT_LINE,
        "FORMKIT_SECRET_KEY is not set: outside development the handler needs a key of at least 32 characters "
        f"to sign answer links. {MAKE_KEY}",
    ]


def test_gunicorn_without_preload_stops_instead_of_starting_its_workers_again_and_again(tmp_path):
    result = formkit(  # one worker: with two, the second one's exit can race gunicorn's own halt
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "handler.app:create_app()",
        cwd=tmp_path,
        env={"FORMKIT_SCHEMA_DIR": str(ROOT / "schema"), "FORMKIT_SMTP_PORT": "abc"},
        command="gunicorn",
    )

    assert result.returncode == 4  # gunicorn's own "App failed to load."
    assert PORT_LINE in result.stderr.splitlines() and "Traceback" not in result.stderr
    assert "App failed to load" in result.stderr


def test_gunicorn_stops_on_a_broken_form_naming_file_and_field(tmp_path):
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "anmalan.json").write_text('{"title": "Anmälan", "properties": {"a": {"type": 5}}}')
    result = formkit(
        "--preload",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "handler.app:create_app()",
        cwd=tmp_path,
        env={"FORMKIT_SCHEMA_DIR": str(tmp_path / "schema"), "FORMKIT_SECRET_KEY": "k" * 40},
        command="gunicorn",
    )

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "anmalan.json:1:" in result.stderr


@pytest.fixture
def broken_project(tmp_path):
    """A folder whose schema/ holds a form that is not even JSON, and an outbox with one message waiting."""
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "trasig.json").write_text('{"title": ', encoding="utf-8")
    Outbox(tmp_path / "var" / "outbox").put(message())
    return tmp_path


def test_outbox_status_works_beside_a_broken_schema(broken_project):
    result = formkit("outbox", "status", cwd=broken_project, env={})

    assert result.returncode == 0, result.stderr
    assert "1 meddelanden i utkorgen" in result.stdout and "BUS-20261120-SET001" in result.stdout


@pytest.mark.parametrize("written", ["False", "no"])
def test_outbox_run_beside_a_broken_schema_delivers_without_starttls(broken_project, smtp_server, written):
    env = {"FORMKIT_SMTP_HOST": "127.0.0.1", "FORMKIT_SMTP_PORT": str(smtp_server.port)}
    env["FORMKIT_SMTP_STARTTLS"] = written

    result = formkit("outbox", "run", "--once", cwd=broken_project, env=env)

    assert (result.returncode, result.stdout) == (0, "1 levererade.\n"), result.stderr
    assert smtp_server.inbox.wait_for(1)[0]["Message-ID"] == "<BUS-20261120-SET001.report@formkit.localhost>"


# ---- the README table and .env.example list exactly the declared variables, with their defaults ----


def readme_table() -> list[tuple[str, str]]:
    """Return (variable, default) for each row of the README's configuration table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for name, default in re.findall(r"^\| `(FORMKIT_\w+)` \| (.*?) \|", section, flags=re.MULTILINE):
        code = re.match(r"`([^`]*)`", default)
        assert code or default.startswith("(empty"), f"{name}: write the default as `value` or (empty…)"
        rows.append((name, code.group(1) if code else ""))
    return rows


def test_the_readme_configuration_table_lists_every_declared_variable_with_its_default():
    assert readme_table() == [(variable.env, variable.default) for variable in VARIABLES]


def test_env_example_lists_every_declared_variable_with_its_default():
    example = dotenv_values(ROOT / ".env.example")

    assert list(example.items()) == [(variable.env, variable.default) for variable in VARIABLES]
