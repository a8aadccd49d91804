"""Browser fixtures: Playwright drives Debian's Chromium (Playwright's own download cannot run here)."""

import shutil

import pytest

from browser.a11y import same_origin
from handler.app import create_app
from support import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "sv-SE"}


@pytest.fixture
def server(project, config, tmp_path):
    """The handler serving a test module's `project` (a built copy with its own forms; mail to the loopback SMTP)."""
    public = tmp_path / "public"
    shutil.copytree(project / "public", public)
    live = LiveServer(create_app({**config, "SCHEMA_DIR": str(project / "schema"), "PUBLIC_DIR": str(public)}))
    yield live
    live.stop()


@pytest.fixture
def open_context(browser, browser_context_args, live_server):
    """Open browser contexts that block every request leaving the site's origin.

    `.foreign` lists the blocked requests and `.broken` the styles, scripts and images that failed to load;
    both must stay empty.
    """
    contexts, foreign, broken = [], [], []

    def leave(route):
        foreign.append(f"{route.request.method} {route.request.url}")
        route.abort()

    def check(response):
        if response.status >= 400 and response.request.resource_type in ("stylesheet", "script", "image", "font"):
            broken.append(f"{response.status} {response.url}")

    def open_(**kwargs):
        context = browser.new_context(**{**browser_context_args, **kwargs})
        context.route(lambda url: not same_origin(url, live_server.url), leave)
        context.on("response", check)
        contexts.append(context)
        return context

    open_.foreign, open_.broken = foreign, broken
    yield open_
    for context in contexts:
        context.close()
    assert foreign == [], "requests left the site's origin"
    assert broken == [], "parts of pages failed to load"
