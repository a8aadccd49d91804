"""Test helpers for a temporary copy of the project: copy it, build it, and run `formkit serve` in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from support import free_port

ROOT = Path(__file__).resolve().parent.parent
FORMKIT = Path(sys.executable).with_name("formkit")


def copy_project(target: Path) -> Path:
    """Copy what an editor works on (docs/, schema/, site/, mkdocs.yml) into `target`; return it."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in ("docs", "schema", "site"):
        shutil.copytree(ROOT / folder, target / folder)
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    return target


def project_with(target: Path, files: dict[str, Path | str]) -> Path:
    """Copy the project into `target`, add `files` (a path in the project: a file to copy, or its text), build it."""
    root = copy_project(target)
    for place, content in files.items():
        if isinstance(content, Path):
            shutil.copy(content, root / place)
        else:
            (root / place).write_text(content, encoding="utf-8")
    build(root)
    return root


def build(root: Path) -> Path:
    """Build the site of a project copy into its public/, as `formkit build` does there; return public/."""
    from handler.cli import build_site

    build_site(str(root / "mkdocs.yml"))
    return root / "public"


def fetch(url: str, timeout: float = 5) -> tuple[int, str]:
    """Return the status and text of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


class Served:
    """`formkit serve` running in a project copy, as an editor starts it; stdout and stderr go to files."""

    def __init__(self, root: Path, *arguments: str):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMKIT_")}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(FORMKIT), "serve", "--host", "127.0.0.1", "--port", str(self.port), *arguments],
                cwd=root,
                env={**env, "FORMKIT_OUTBOX_DIR": "", "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                fetch(self.url + "/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"formkit serve did not start:\n{self.output()}")

    def output(self) -> str:
        """Return what the command printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def state(self) -> dict:
        """Return the watch state: {"build": n, "problems": [...]}."""
        return json.loads(fetch(self.url + "/__formkit/version")[1])

    def wait_for(self, condition, timeout: float = 15) -> dict:
        """Wait until `condition(state)` holds; return the state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if condition(state):
                return state
            time.sleep(0.05)
        raise AssertionError(f"timed out; state {self.state()}\n{self.output()}")

    def stop(self) -> None:
        """Stop the command (the process this helper started, by its id)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
