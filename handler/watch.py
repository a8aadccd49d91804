"""`formkit serve --watch`: rebuild when docs/, schema/ or site/ change, and reload the browser.

watchdog reports file events; after a short quiet spell (editors save in several steps) the site is
built (handler/build.py: the forms checked once, then MkDocs) into a fresh folder that replaces public/
only when the build succeeded, and the handler gets the forms of that same check. A broken schema
therefore leaves the last good site in place, with its problems in the terminal and on the page.
Pages served in watch mode carry a small script that keeps one connection open to /__formkit/events
(server-sent events; the browser reconnects by itself) and reloads when the build number changes. The
development server logs nothing for these requests, so its terminal keeps the lines that matter.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import brotli
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from werkzeug.wrappers import Response

from .build import build
from .check import docs_dir_for
from .errors import FormDefinitionError

QUIET = 0.15  # seconds without events before a rebuild starts
EVENTS = ("created", "modified", "deleted", "moved")
SCRATCH_ENDINGS = ("~", ".swp", ".swx", ".tmp", ".part")
VERSION_URL = "/__formkit/version"
EVENTS_URL = "/__formkit/events"
SCRIPT_URL = "/__formkit/reload.js"
HEARTBEAT = 15  # seconds between comments on an idle event stream: a closed connection is found and let go
RELOAD_JS = """(function () {
  "use strict";
  var build = Number(document.currentScript.getAttribute("data-build"));
  var box = null;
  function show(problems) {
    if (!problems.length) { if (box) { box.remove(); box = null; } return; }
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.setAttribute("data-formkit-watch", "");
      box.style.cssText = "position:fixed;left:1rem;right:1rem;bottom:1rem;z-index:10;max-height:50vh;" +
        "overflow:auto;padding:1rem;background:#fff;color:#1a1a1a;border:5px solid #b00020;" +
        "font:14px/1.5 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "Bygget misslyckades. Sidan visar den senaste fungerande versionen.\\n\\n" +
      problems.join("\\n");
  }
  /* One connection that stays open: the server sends the state at once and after every rebuild; after a
   * restart of the server the browser connects again by itself. */
  var events = new EventSource("/__formkit/events");
  events.onmessage = function (message) {
    var state = JSON.parse(message.data);
    if (state.build !== build) { events.close(); window.location.reload(); return; }
    show(state.problems || []);
  };
})();
"""


class Builds:
    """The build number and the problems of the last attempt, shared by the watcher and the browser."""

    def __init__(self):
        self.number = 1
        self.attempts = 0
        self.problems: list[str] = []
        self._changed = threading.Condition()

    def record(self, problems: list[str]) -> None:
        """Count one attempt; a good one gets a new build number, which makes the browsers reload."""
        with self._changed:
            self.attempts += 1
            self.problems = list(problems)
            if not problems:
                self.number += 1
            self._changed.notify_all()

    def wait(self, attempts: int, timeout: float = 10) -> bool:
        """Wait until at least `attempts` rebuilds were tried; return whether they were."""
        with self._changed:
            return self._changed.wait_for(lambda: self.attempts >= attempts, timeout)

    def state(self) -> dict:
        """Return what /__formkit/version answers."""
        return {"build": self.number, "problems": self.problems}

    def after(self, attempts: int, timeout: float) -> tuple[int, dict]:
        """Wait until there were more rebuild attempts than `attempts`, or `timeout`; return the count and state."""
        with self._changed:
            self._changed.wait_for(lambda: self.attempts > attempts, timeout)
            return self.attempts, self.state()


class Watcher:
    """Watch the editors' folders and rebuild the site and the handler's forms when a file changes."""

    def __init__(self, app, config_file: str = "mkdocs.yml", quiet: float = QUIET):
        self.app = app
        self.config_file = Path(config_file)
        self.quiet = quiet
        self.builds = Builds()
        self.schema_dir, self.docs_dir, self.public_dir = _folders(app)
        candidates = [docs_dir_for(self.schema_dir, self.docs_dir), self.schema_dir, self.config_file.parent / "site"]
        self.folders = list(dict.fromkeys(p for p in candidates if p.is_dir()))
        self._changed = threading.Event()
        self._observer = Observer()

    def start(self) -> None:
        """Start watching in background threads."""
        for folder in self.folders:
            self._observer.schedule(_Changes(self._changed.set), str(folder), recursive=True)
        config = self.config_file.resolve()
        self._observer.schedule(_Changes(self._changed.set, config.name), str(config.parent), recursive=False)
        self._observer.daemon = True
        self._observer.start()
        threading.Thread(target=self._loop, name="formkit-watch", daemon=True).start()

    def stop(self) -> None:
        """Stop watching."""
        self._observer.stop()

    def _loop(self) -> None:
        while True:
            self._changed.wait()
            while True:  # wait for a quiet spell: one save is often several events
                self._changed.clear()
                time.sleep(self.quiet)
                if not self._changed.is_set():
                    break
            try:
                self.rebuild()
            except Exception:  # keep watching whatever one build does
                logging.getLogger("formkit.watch").exception("rebuild failed")

    def rebuild(self) -> bool:
        """Check and build into a fresh folder; swap it in only when all is well. Return whether it was."""
        started = time.perf_counter()
        public = self.public_dir
        fresh = public.with_name(f".{public.name}-ny")
        shutil.rmtree(fresh, ignore_errors=True)
        problems: list[str] = []
        with _MkDocsWarnings() as warnings:
            try:
                built = build(self.config_file, fresh, schema_dir=self.schema_dir, docs_dir=self.docs_dir)
            except FormDefinitionError as error:
                problems = list(error.problems)
            except (Exception, SystemExit) as error:  # MkDocs refuses (strict mode: a broken link, a bad nav)
                problems = warnings.messages + [f"Webbplatsen kunde inte byggas: {error}"]
        if problems:
            shutil.rmtree(fresh, ignore_errors=True)
            self.builds.record(problems)
            print("Bygget misslyckades; den senaste fungerande webbplatsen visas fortfarande.", file=sys.stderr)
            for problem in problems:
                print(problem, file=sys.stderr)
            return False
        _swap(fresh, public)
        self.app.extensions["formkit.forms"] = built.forms
        self.builds.record([])
        print(f"Webbplatsen byggd om på {time.perf_counter() - started:.2f} s.", flush=True)
        return True


def _folders(app) -> tuple[Path, Path | None, Path]:
    """Return the app's schema, pages (None: beside the schema) and public folders."""
    settings = app.extensions.get("formkit.settings")  # typed settings, where the app has them
    if settings is not None:
        schema_dir, docs_dir, public_dir = settings.schema_dir, settings.docs_dir, settings.public_dir
    else:
        schema_dir, docs_dir, public_dir = (app.config.get(k) for k in ("SCHEMA_DIR", "DOCS_DIR", "PUBLIC_DIR"))
    return Path(schema_dir), Path(docs_dir) if docs_dir else None, Path(public_dir)


class _Changes(FileSystemEventHandler):
    """Pass on changes to real files; ignore reads and editors' scratch files."""

    def __init__(self, notify, only: str = ""):
        self.notify = notify
        self.only = only

    def on_any_event(self, event) -> None:
        if event.event_type not in EVENTS or (event.is_directory and event.event_type == "modified"):
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            name = os.path.basename(os.fsdecode(path or b""))
            if not name or name.startswith((".", "#")) or name.endswith(SCRATCH_ENDINGS) or name == "4913":
                continue
            if not self.only or name == self.only:
                self.notify()
                return


class _MkDocsWarnings(logging.Handler):
    """Collect MkDocs' warnings during one build, so the page can show why strict mode refused it."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self):
        logging.getLogger("mkdocs").addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger("mkdocs").removeHandler(self)


def _swap(fresh: Path, public: Path) -> None:
    """Put the fresh build in place of public/ with two renames, so no request sees a half-built site."""
    old = public.with_name(f".{public.name}-gammal")
    shutil.rmtree(old, ignore_errors=True)
    if public.exists():
        os.replace(public, old)
    os.replace(fresh, public)
    shutil.rmtree(old, ignore_errors=True)


class LiveReload:
    """WSGI middleware for watch mode: the build state as JSON and as an event stream, and the script in every page."""

    def __init__(self, app, builds: Builds, heartbeat: float = HEARTBEAT):
        self.app = app
        self.builds = builds
        self.heartbeat = heartbeat
        logging.getLogger("werkzeug").addFilter(_quiet)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == VERSION_URL:
            response = Response(json.dumps(self.builds.state(), ensure_ascii=False), mimetype="application/json")
        elif path == EVENTS_URL:
            response = Response(self._events(), mimetype="text/event-stream")
            response.headers["X-Accel-Buffering"] = "no"
        elif path == SCRIPT_URL:
            response = Response(RELOAD_JS, mimetype="text/javascript")
        elif environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        else:
            for header in ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE"):  # the page carries the build number
                environ.pop(header, None)
            response = Response.from_app(self.app, environ, buffered=True)
            if response.mimetype == "text/html":
                self._inject(response)
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def _events(self):
        """Yield the state now and after each rebuild, as server-sent events; a comment when nothing happened."""
        yield "retry: 1000\n\n"
        seen = -1
        while True:
            attempts, state = self.builds.after(seen, self.heartbeat)
            if attempts == seen:
                yield ": \n\n"  # a write to a closed connection ends this generator
                continue
            seen = attempts
            yield f"data: {json.dumps(state, ensure_ascii=False)}\n\n"

    def _inject(self, response: Response) -> None:
        encoding = response.headers.get("Content-Encoding")  # a precompressed page: opened, then packed again
        data = response.get_data()
        html = (brotli.decompress(data) if encoding == "br" else gzip.decompress(data) if encoding else data).decode()
        tag = f'<script src="{SCRIPT_URL}" data-build="{self.builds.number}"></script>'
        at = html.rfind("</body>")
        page = (html[:at] + tag + html[at:] if at >= 0 else html + tag).encode()
        if encoding == "br":
            page = brotli.compress(page, quality=5)  # a page a millisecond: fast enough for each request
        elif encoding:
            page = gzip.compress(page, 6)
        response.set_data(page)
        for header in ("ETag", "Last-Modified"):
            response.headers.pop(header, None)


def _quiet(record: logging.LogRecord) -> bool:
    """Drop the development server's access lines for live reload's own requests (werkzeug logs each request)."""
    return "/__formkit/" not in record.getMessage()
