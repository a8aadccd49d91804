"""A durable outbox of e-mail messages, shared safely by several processes (maildir style).

`put` writes a message to tmp/, fsyncs it and renames it into new/, so an acknowledged report
survives a crash. A sender claims a message by renaming it into cur/ (only one rename can win),
delivers it, and removes it; on failure it goes back to new/ with its retry state, and after
`max_age` seconds of failures into failed/, where an operator finds it. Nothing is deleted
before it was delivered.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

log = logging.getLogger("formkit.outbox")
FOLDERS = ("tmp", "new", "cur", "failed")


@dataclass
class Entry:
    """One waiting message as `formkit outbox status` shows it."""

    name: str
    folder: str
    age: float
    attempts: int
    last_error: str
    next_attempt: float


class Outbox:
    """Messages waiting for delivery in one directory."""

    def __init__(
        self,
        directory: str | Path,
        retry_base: float = 30,
        retry_max: float = 3600,
        max_age: float = 3 * 86400,
        stale_claim: float = 300,
    ):
        self.root = Path(directory)
        self.retry_base, self.retry_max, self.max_age, self.stale_claim = retry_base, retry_max, max_age, stale_claim
        for folder in FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def put(self, message: EmailMessage) -> str:
        """Write `message` durably (temp file, fsync, atomic rename) and return its name in the outbox."""
        stem = "".join(c for c in message["Message-ID"] if c.isalnum() or c in ".-") or "message"
        name = f"{time.time_ns()}.{stem}.eml"
        _write_durably(self.root / "tmp" / name, self.root / "new" / name, message.as_bytes())
        return name

    def deliver(self, name: str, send) -> bool:
        """Claim one message and hand it to `send`; return True when it was delivered."""
        claimed = self._claim(name)
        if claimed is None:
            return False  # another process has it, or it is already delivered
        state = self._state(name)
        message = BytesParser(policy=policy.default).parsebytes(claimed.read_bytes())
        started = time.monotonic()
        try:
            send(message)
        except Exception as error:  # any failure of the transport means: try again later
            self._failed_attempt(name, claimed, state, error)
            return False
        claimed.unlink()
        self._state_path(name).unlink(missing_ok=True)
        log.info(
            "delivered message=%s attempts=%d ms=%.1f", name, state["attempts"] + 1, (time.monotonic() - started) * 1000
        )
        return True

    def run_once(self, send, now: float | None = None) -> int:
        """Deliver every message that is due; return how many were delivered."""
        now = time.time() if now is None else now
        self._release_stale_claims(now)
        delivered = 0
        for path in sorted((self.root / "new").glob("*.eml")):
            if self._state(path.name)["next_attempt"] <= now:
                delivered += self.deliver(path.name, send)
        return delivered

    def entries(self) -> list[Entry]:
        """Return what waits or failed, oldest first."""
        now = time.time()
        found = []
        for folder in ("new", "cur", "failed"):
            for path in sorted((self.root / folder).glob("*.eml")):
                state = self._state(path.name)
                found.append(
                    Entry(
                        path.name,
                        folder,
                        now - state["created"],
                        state["attempts"],
                        state["last_error"],
                        state["next_attempt"],
                    )
                )
        return found

    def retry_now(self) -> int:
        """Make every waiting message due at once, and put failed ones back in the queue; return the count."""
        count = 0
        for folder in ("new", "failed"):
            for path in (self.root / folder).glob("*.eml"):
                state = self._state(path.name)
                state["next_attempt"], state["created"] = 0, time.time() if folder == "failed" else state["created"]
                self._save_state(path.name, state)
                if folder == "failed":
                    os.replace(path, self.root / "new" / path.name)
                count += 1
        return count

    def _claim(self, name: str) -> Path | None:
        claimed = self.root / "cur" / name
        try:
            os.rename(self.root / "new" / name, claimed)
        except FileNotFoundError:
            return None
        os.utime(claimed)  # the claim's time, so a crashed claimer's message is released later
        return claimed

    def _failed_attempt(self, name: str, claimed: Path, state: dict, error: Exception) -> None:
        state["attempts"] += 1
        state["last_error"] = f"{type(error).__name__}: {error}"[:500]
        delay = min(self.retry_max, self.retry_base * 2 ** (state["attempts"] - 1))
        state["next_attempt"] = time.time() + delay
        self._save_state(name, state)
        if time.time() - state["created"] > self.max_age:
            os.replace(claimed, self.root / "failed" / name)
            log.error("gave up message=%s attempts=%d error=%s", name, state["attempts"], state["last_error"])
        else:
            os.replace(claimed, self.root / "new" / name)
            log.warning(
                "delivery failed message=%s attempts=%d retry_in=%.0fs error=%s",
                name,
                state["attempts"],
                delay,
                state["last_error"],
            )

    def _release_stale_claims(self, now: float) -> None:
        for path in (self.root / "cur").glob("*.eml"):
            try:
                if now - path.stat().st_mtime > self.stale_claim:
                    os.rename(path, self.root / "new" / path.name)
            except FileNotFoundError:
                continue

    def _state_path(self, name: str) -> Path:
        return self.root / "new" / f"{name}.state"

    def _state(self, name: str) -> dict:
        try:
            return json.loads(self._state_path(name).read_text())
        except (FileNotFoundError, ValueError):
            created = int(name.split(".", 1)[0]) / 1e9 if name.split(".", 1)[0].isdigit() else time.time()
            return {"attempts": 0, "last_error": "", "next_attempt": 0, "created": created}

    def _save_state(self, name: str, state: dict) -> None:
        path = self._state_path(name)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, path)


def _write_durably(temporary: Path, final: Path, content: bytes) -> None:
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
