"""Shared fixtures: the app, a real SMTP server on loopback, the built site and a live server."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings

from handler.app import create_app
from support import Inbox, LiveServer, free_port

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
# The property tests draw the same examples on every run, so a red CI names a change, not a roll of the dice;
# `--hypothesis-seed` or HYPOTHESIS_PROFILE=explore still explore anew while working.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Modules that take long: generated requests, fault injection with real processes, LibreOffice.
# `pytest -m "not browser and not slow"` leaves them and tests/browser/ out (the README's fast part).
SLOW_MODULES = {
    "test_fuzz",
    "test_faults",
    "test_libreoffice",
    "test_properties",
    "test_cluster",
    "test_check_fuzz",
    "test_round_trip",
    "test_conditions_round_trip",
    "test_alternatives_round_trip",
    # Real servers and processes each test: PostgreSQL and gunicorn, the watch loop, the workers' threads.
    "test_digest",
    "test_watch",
    "test_outbox",
    "test_pg_outbox",
    "test_reminders",
    "test_register",
    "test_hostile",
    "test_summary",
    "test_serve",
    "test_settings",
    "test_corpus",
    "test_test_suite",
}


def pytest_collection_modifyitems(config, items):
    """Mark tests/browser/ as `browser` and the long-running modules as `slow`."""
    for item in items:
        path = item.path
        if path.parent.name == "browser":
            item.add_marker(pytest.mark.browser)
        if path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# The accessibility summary (tests/browser/a11y.py): `make test` runs the suite in xdist workers, each with
# its own record of what axe checked; they hand it over at the end and this process prints the one summary.
def _axe_record():
    """The record of what axe checked in this process, if a browser test imported it."""
    a11y = sys.modules.get("browser.a11y")
    return a11y.RECORD if a11y else None


def pytest_sessionfinish(session):
    record = _axe_record()
    if record is not None and hasattr(session.config, "workeroutput"):  # an xdist worker
        session.config.workeroutput["axe"] = record.as_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # xdist: a worker has finished
    if data := getattr(node, "workeroutput", {}).get("axe"):
        from browser.a11y import RECORD

        RECORD.add(data)


def pytest_terminal_summary(terminalreporter):
    record = _axe_record()
    if record is not None:
        record.report(terminalreporter)


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; `.inbox` holds what it received."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


@pytest.fixture
def config(tmp_path, smtp_server):
    """App configuration with temporary folders and the loopback SMTP server."""
    return {
        "TESTING": True,
        "SCHEMA_DIR": str(ROOT / "schema"),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'formkit.db'}",  # the register; create_app migrates it in tests
    }


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def mailer():
    """A real SMTP server on loopback for the round trips' mail (corpus.Mailer), one per module."""
    from corpus import Mailer

    with Mailer() as running:
        yield running


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server (tests/pg.py) for the whole session; `.database(name)` gives a URL."""
    from pg import Cluster

    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Build the real site once into a temporary folder; return the folder."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    target = tmp_path_factory.mktemp("public")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(target)))
    finally:
        os.chdir(cwd)
    return target


@pytest.fixture
def live_server(config, built_site, tmp_path):
    """A running handler serving the built site; `.url` is its base address."""
    public = tmp_path / "public"
    shutil.copytree(built_site, public)
    port = free_port()  # known before the app starts, so the answer links in its e-mails lead back to it
    server = LiveServer(create_app({**config, "PUBLIC_DIR": str(public), "BASE_URL": f"http://127.0.0.1:{port}"}), port)
    yield server
    server.stop()
