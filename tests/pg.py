"""A throw-away PostgreSQL server for tests and benches: Debian's binaries, a cluster in a temporary folder.

PostgreSQL refuses to run as root, so under root the cluster belongs to the unprivileged `postgres`
user and every server command runs through `runuser`. The server listens on 127.0.0.1 and on a socket
in the same folder, trusts local connections, and is stopped and removed at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from support import free_port

USER = "formkit"


def binaries() -> Path:
    """Return the folder of the newest installed PostgreSQL's server programs (Debian's layout)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (make test does)")
    return Path(found[-1]).parent


class Cluster:
    """A running PostgreSQL server; `database(name)` makes an empty database and returns its URL."""

    def __init__(self, *, durable: bool = False):
        self.bin = binaries()
        # Not under pytest's own folder: that is root's (0700), and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="formkit-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not durable:  # tests: a crash loses nothing that matters; benches keep fsync on
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60", "start")

    def _run(self, program: str, *arguments) -> None:
        command = [*self.as_owner, str(self.bin / program), *map(str, arguments)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}{log}")

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL of a database of this server."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self, name: str) -> str:
        """Create an empty database `name` (dropping one of that name) and return its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
