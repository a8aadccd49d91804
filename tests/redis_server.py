"""A real redis-server (Debian's) on loopback for the tests: started on a free port, nothing saved, stopped after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from support import free_port

INSTALL = "apt-get install -y --no-install-recommends redis-server (make test installs it)"


class RedisServer:
    """`redis-server --port P --save '' --daemonize no` on 127.0.0.1; `.url` is its redis:// address."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        """Start the server (again, on the same port) and wait until it answers PING."""
        command = shutil.which("redis-server")
        assert command, f"redis-server is not installed: {INSTALL}"
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 -- the server writes it until it stops
        self.process = subprocess.Popen(
            [command, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no", "--dir", str(self.folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10
        while not self._answers():
            assert self.process.poll() is None, f"redis-server stopped:\n{(self.folder / 'redis.log').read_text()}"
            assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the server and wait until its port is closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def command(self, *words: str) -> bytes:
        """Send one command (such as FLUSHALL) and return the server's first line of answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as connection:
            request = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
            connection.sendall(request.encode())
            return connection.makefile("rb").readline().rstrip(b"\r\n")

    def _answers(self) -> bool:
        try:
            return self.command("PING") == b"+PONG"
        except OSError:
            return False
