"""The folder outbox: e-mail messages kept durably in one directory, shared safely by several processes (maildir style).

`put` writes a message to tmp/, fsyncs it and renames it into new/, so an acknowledged report
survives a crash; `put_all` does so for all the messages of a report, all or none, fsyncing the folder
once for them all. A sender claims a message by renaming it into cur/ under its own name (only one
rename can win), delivers it and removes it; on failure the message goes back to new/ and its retry
state (state/<name>.json) says when to try again, with a delay that doubles each time. A message that
keeps failing for longer than `max_age` seconds is moved to failed/ and logged as an error; nothing
is deleted before it was delivered. A claim whose process died (same host, process gone) is released
at once; any other claim older than `claim_timeout` seconds is released too, so a crash never
strands a message. Delivery is at-least-once: a message may be sent twice after a crash, and its
stable Message-ID makes the duplicate recognisable.

A worker (`formkit outbox run`) that listens on the folder's wake socket (`listen`, a datagram socket
wake.sock, 0600) delivers what processes queue at once: they leave a report's messages in new/ and send it
their names (`notify`), so the sending runs in the worker's process, on another core, not in the process
that answers the next request. A process that finds no worker listening, or one that is behind (its socket's
queue full), delivers its own report as before (claim, courier).

Reports are personal data: every file is written 0600 and every folder made 0700, whatever the umask
(`write_private`, `private_folder`; the mail folder uses them too). A writer killed between write and
rename leaves a file in tmp/, removed once it is older than `claim_timeout`. When the retry state
cannot be saved (a full disk), the back-off goes on in this process's memory, no temporary file is
left behind, and the problem is logged when it starts and when it ends, not every round.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import select
import socket
import threading
import time
import uuid
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING

from . import PRIVATE_FILE, Entry, _owner_is_gone, describe, owner, private_folder, write_private, write_private_all
from .courier import KEEP_OPEN  # how long a sender keeps its SMTP connection for more

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("formkit.outbox")
FOLDERS = ("tmp", "new", "cur", "failed", "state")
WAKE = "wake.sock"  # where the listening worker hears the names of messages queued for it to deliver at once
NAME = re.compile(r"\d+\.[A-Za-z0-9.-]*\.eml")  # a message's name in the outbox, as put_all makes it


class Outbox:
    """Messages waiting for delivery in one directory (see `handler.outbox.Queue` for the interface)."""

    at_once = True  # what a process queues goes at once: by the listening worker, or by its courier (courier.py)

    def __init__(
        self,
        directory: str | Path,
        retry_base: float = 30,
        retry_max: float = 3600,
        max_age: float = 3 * 86400,
        claim_timeout: float = 300,
    ):
        self.root = Path(directory)
        self.retry_base, self.retry_max, self.max_age = retry_base, retry_max, max_age
        self.claim_timeout = claim_timeout
        # Retry states this process could not save (a full disk): the back-off goes on from here.
        self._unsaved: dict[str, dict] = {}
        self._trouble: dict[str, str] = {}  # what keeps failing ("disk", "round"), so it is logged once
        self._wakeup = threading.Event()
        # The bytes of messages this process queued to deliver at once: its courier sends them without reading
        # back and parsing what it has just written. Only ever a copy: the file is what counts.
        self._held: dict[str, bytes] = {}
        self.courier = None  # this process's background sender, started by the first hand-off (courier.py)
        self._wake = self.root / WAKE
        self._listener: socket.socket | None = None  # the worker's wake socket, once it listens
        self._notifier: socket.socket | None = None  # what a queuing process tells the worker with
        try:
            private_folder(self.root)
            for folder in FOLDERS:
                private_folder(self.root / folder)
        except OSError as error:  # the handler still starts, and answers 503 until this is fixed
            log.error("outbox not usable directory=%s error=%s", self.root, error)

    def __str__(self) -> str:
        return str(self.root)

    def put(self, message: Message, claim: bool = False, tx=None) -> str:
        """Write `message` durably (temp file, fsync, atomic rename) and return its name in the outbox.

        With `claim`, it lands in cur/ held by this process, which means to deliver it at once:
        no other sender can take it meanwhile, and if this process dies the claim is released.
        `tx` (the register's transaction) is not needed here: delivery.hand_over discards the file if it rolls back.
        """
        return self.put_all([message], claim, tx)[0]

    def put_all(self, messages: list[Message], claim: bool = False, tx=None) -> list[str]:
        """Write a submission's messages durably, all or none, as `put` does, with one fsync of the folder for
        them all (not one each); return their names."""
        names, files = [], []
        for message in messages:
            stem = "".join(c for c in message["Message-ID"] if c.isalnum() or c in ".-") or "message"
            name = f"{time.time_ns()}.{stem}.eml"
            final = self._own_claim(name) if claim else self.root / "new" / name
            names.append(name)
            files.append((self.root / "tmp" / name, final, message.as_bytes()))
        write_private_all(files)
        if claim:
            self._held.update((name, content) for name, (_, _, content) in zip(names, files, strict=True))
        return names

    def release(self, name: str) -> None:
        """Give back a message this process holds but will not deliver now: the worker takes it."""
        self._held.pop(name, None)
        with contextlib.suppress(FileNotFoundError):
            os.rename(self._own_claim(name), self.root / "new" / name)

    def worker_listens(self) -> bool:
        """Return True when a worker may be listening on the wake socket (`notify` tells for sure)."""
        return self._listener is None and self._wake.exists()

    def notify(self, names: list[str]) -> bool:
        """Tell the listening worker that `names` wait in new/ to be delivered at once; return False when no worker
        listens (it stopped or died) or it is behind (its socket's queue is full): then the caller delivers them."""
        try:
            if self._notifier is None:
                self._notifier = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._notifier.setblocking(False)
            self._notifier.sendto("\n".join(names).encode(), str(self._wake))
        except OSError:  # no socket, nobody on it (ECONNREFUSED), its queue full (EAGAIN), a path too long
            return False
        return True

    def claim_all(self, names: list[str]) -> list[str]:
        """Claim messages waiting in new/ for this process to deliver at once; return those it got."""
        return [name for name in names if self._claim(name) is not None]

    def listen(self) -> bool:
        """Take the folder's wake socket, as `formkit outbox run` does: from now on `run_forever` delivers at once
        what queuing processes `notify` it of. Return False (said in the log) when another worker listens already or
        the socket cannot be made; this worker then delivers at its interval, and the queuing processes themselves."""
        if self._listener is not None:
            return True
        if self.worker_listens() and self.notify([]):
            log.info("another worker listens on socket=%s", self._wake)
            return False
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                self._wake.unlink()  # a worker's that died: nobody reads it
            listener.bind(str(self._wake))
            os.chmod(self._wake, PRIVATE_FILE)
        except OSError as error:  # a path longer than a socket's (108 bytes), a read-only folder
            listener.close()
            log.warning("worker cannot listen for queued reports socket=%s error=%s", self._wake, describe(error))
            return False
        listener.setblocking(False)
        self._listener = listener
        return True

    def discard(self, name: str) -> None:
        """Remove a message that was queued but never acknowledged to anyone (its request failed)."""
        self._held.pop(name, None)
        for path in (self._own_claim(name), self.root / "new" / name):
            with contextlib.suppress(OSError):
                path.unlink()

    def deliver(self, name: str, send, held: bool = False) -> bool:
        """Claim one message and hand its bytes to `send`; return True when it was delivered.

        `held` says the caller queued it with `put(claim=True)` and holds the claim already.
        """
        content = self._held.pop(name, None) if held else None
        claimed = self._own_claim(name) if held else self._claim(name)
        if claimed is None or not claimed.exists():
            return False  # another process has it, or it is already delivered
        state = self._state(name)
        started = time.monotonic()
        try:
            # The bytes as queued: parsing and serialising the whole message again would only cost time.
            send(claimed.read_bytes() if content is None else content)
        except Exception as error:  # any failure of the transport means: try again later
            try:
                self._failed_attempt(name, claimed, state, error)
            except OSError as trouble:  # a full disk must not turn a queued report into an error page
                self._disk_fails(trouble)
                with contextlib.suppress(OSError):
                    os.rename(claimed, self.root / "new" / name)
            return False
        claimed.unlink(missing_ok=True)
        self._unsaved.pop(name, None)
        with contextlib.suppress(OSError):
            self._state_path(name).unlink(missing_ok=True)
        log.info(
            "delivered message=%s attempts=%d age_s=%.1f ms=%.1f",
            name,
            state["attempts"] + 1,
            time.time() - state["created"],
            (time.monotonic() - started) * 1000,
        )
        return True

    def run_once(self, send, now: float | None = None) -> int:
        """Deliver every message that is due; return how many were delivered."""
        now = time.time() if now is None else now
        self.release_stale_claims(now)
        delivered = 0
        waiting = sorted((self.root / "new").glob("*.eml"))
        for path in waiting:
            if self._state(path.name)["next_attempt"] <= now:
                delivered += self.deliver(path.name, send)
        self._forget_gone({path.name for path in waiting})
        return delivered

    def next_due(self) -> float | None:
        """Return when the next waiting message is due (a Unix time), or None when nothing waits."""
        due = [self._state(path.name)["next_attempt"] for path in (self.root / "new").glob("*.eml")]
        return min(due, default=None)

    def wake(self) -> None:
        """Make this process's `run_forever` look at once (another process's looks within its interval)."""
        self._wakeup.set()
        if self._listener is not None:  # it waits on its socket
            self.notify([])

    def run_forever(
        self,
        send: Callable,
        interval: float = 5.0,
        stop: threading.Event | None = None,
        *,
        after_round: Callable[[], object] | None = None,
    ) -> None:
        """Deliver what is due, then sleep until the next message is due (at most `interval` seconds) or
        `wake()`; each round ends with `after_round()` (see Queue).

        A worker that `listen`s also delivers at once what it is notified of, between its rounds, over a connection
        it keeps while notices keep coming (at most KEEP_OPEN seconds apart); `after_round` closes it.
        """
        stop = stop or threading.Event()
        wait, last_round = 0.0, -interval
        while not stop.is_set():
            woken = self._wait(wait) if wait else []
            if stop.is_set():
                return
            if woken:
                self._deliver_woken(woken, send)
            if not woken or time.monotonic() - last_round >= interval:
                due = self._round(send, after_round)
                last_round = time.monotonic()
                wait = interval if due is None else min(interval, max(0.05, due - time.time()))
            else:  # more may come: the connection stays open a while, and the next round comes in time
                wait = min(KEEP_OPEN, max(0.05, last_round + interval - time.monotonic()))

    def _round(self, send: Callable, after_round: Callable[[], object] | None) -> float | None:
        """Deliver everything due; return when the next message is due (or None). Never raises."""
        try:
            self.run_once(send)
            due = self.next_due()
        except Exception as error:  # keep the worker alive whatever one round meets (a full disk, a bad file)
            if self._trouble.get("round") != describe(error):  # the same failure again is no news
                self._trouble["round"] = describe(error)
                log.exception("outbox round failed")
            due = None
        else:
            if self._trouble.pop("round", None):
                log.warning("outbox rounds work again")
        finally:
            if after_round is not None:
                after_round()
        return due

    def _wait(self, seconds: float) -> list[str]:
        """Wait until `wake()`, a notice of queued messages on the wake socket, or `seconds`; return the names."""
        if self._listener is None:
            if self._wakeup.wait(seconds):
                self._wakeup.clear()
            return []
        select.select([self._listener], [], [], seconds)
        names: list[str] = []
        while True:
            try:
                notice = self._listener.recv(65536)
            except BlockingIOError:  # read them all (the call itself retries when interrupted, PEP 475)
                return names
            except OSError as error:
                log.warning("wake socket failed error=%s", describe(error))
                return names
            # Only names as put_all makes them: a notice cannot point outside new/.
            names += [name for name in notice.decode("ascii", "replace").split("\n") if NAME.fullmatch(name)]

    def _deliver_woken(self, names: list[str], send: Callable) -> None:
        for name in names:
            try:
                self.deliver(name, send)  # claims it first: taken already by another sender, it is skipped
            except Exception as error:  # the next round retries it
                log.error("could not deliver message=%s error=%s", name, describe(error))

    def entries(self) -> list[Entry]:
        """Return what waits, is being sent or failed, oldest first."""
        now = time.time()
        found = []
        for folder in ("new", "cur", "failed"):
            for path in (self.root / folder).glob("*.eml*"):
                name = path.name.split("~", 1)[0]
                if not name.endswith(".eml"):
                    continue
                state = self._state(name)
                found.append(
                    Entry(
                        name,
                        folder,
                        now - state["created"],
                        state["attempts"],
                        state["last_error"],
                        state["next_attempt"],
                    )
                )
        return sorted(found, key=lambda entry: -entry.age)

    def retry_now(self) -> int:
        """Make every waiting message due at once and put failed ones back in the queue; return the count."""
        count = 0
        for folder in ("new", "failed"):
            for path in (self.root / folder).glob("*.eml"):
                state = self._state(path.name)
                state["next_attempt"] = 0
                if folder == "failed":  # a fresh start: it may fail for max_age again before giving up
                    state["created"] = time.time()
                self._save_state(path.name, state)
                if folder == "failed":
                    os.replace(path, self.root / "new" / path.name)
                count += 1
        return count

    def release_stale_claims(self, now: float | None = None) -> int:
        """Put back into new/ the claims of processes that died or took too long; return the count."""
        now = time.time() if now is None else now
        self._remove_leftovers(now)
        released = 0
        for path in (self.root / "cur").glob("*.eml~*"):
            name, _, owner = path.name.partition("~")
            try:
                if _owner_is_gone(owner) or now - path.stat().st_mtime > self.claim_timeout:
                    os.rename(path, self.root / "new" / name)
                    log.warning("released claim message=%s owner=%s", name, owner)
                    released += 1
            except FileNotFoundError:  # delivered or released by someone else meanwhile
                continue
        return released

    def _remove_leftovers(self, now: float) -> None:
        """Remove what writers killed between write and rename left behind, once older than claim_timeout."""
        # Earlier versions kept the retry state's temporary files in state/.
        for path in [*(self.root / "tmp").glob("*"), *(self.root / "state").glob(".*.tmp")]:
            try:
                age = now - path.stat().st_mtime
                if age > self.claim_timeout:
                    path.unlink()
                    log.warning("removed leftover file=%s age_s=%.0f", path.relative_to(self.root), age)
            except FileNotFoundError:  # renamed into place or removed by someone else meanwhile
                continue

    def _claim(self, name: str) -> Path | None:
        claimed = self._own_claim(name)
        try:
            os.rename(self.root / "new" / name, claimed)
        except FileNotFoundError:
            return None
        os.utime(claimed)  # the claim's time, so a claim that hangs is released after claim_timeout
        return claimed

    def _own_claim(self, name: str) -> Path:
        return self.root / "cur" / f"{name}~{owner()}"

    def _failed_attempt(self, name: str, claimed: Path, state: dict, error: Exception) -> None:
        state["attempts"] += 1
        state["last_error"] = describe(error)
        delay = min(self.retry_max, self.retry_base * 2 ** (state["attempts"] - 1))
        state["next_attempt"] = time.time() + delay
        self._save_state(name, state)
        if time.time() - state["created"] > self.max_age:
            os.replace(claimed, self.root / "failed" / name)
            log.error(
                "gave up message=%s attempts=%d moved_to=failed/ error=%s", name, state["attempts"], state["last_error"]
            )
        else:
            os.replace(claimed, self.root / "new" / name)
            log.warning(
                "delivery failed message=%s attempts=%d retry_in_s=%.1f error=%s",
                name,
                state["attempts"],
                delay,
                state["last_error"],
            )

    def _state_path(self, name: str) -> Path:
        return self.root / "state" / f"{name}.json"

    def _state(self, name: str) -> dict:
        try:
            state = json.loads(self._state_path(name).read_text())
        except (OSError, ValueError):  # none yet (or unreadable): a message never tried
            stamp = name.split(".", 1)[0]
            created = int(stamp) / 1e9 if stamp.isdigit() else time.time()
            state = {"attempts": 0, "last_error": "", "next_attempt": 0, "created": created}
        unsaved = self._unsaved.get(name)
        if unsaved and unsaved["attempts"] >= state["attempts"]:  # newer than what the disk holds
            return dict(unsaved)
        return state

    def _save_state(self, name: str, state: dict) -> None:
        """Save a message's retry state; when the disk refuses, keep it in memory and carry on."""
        temporary = self.root / "tmp" / f".state.{name}.{uuid.uuid4().hex}"
        try:
            write_private(temporary, self._state_path(name), json.dumps(state).encode())
        except OSError as error:
            self._unsaved[name] = dict(state)
            self._disk_fails(error)
            return
        self._unsaved.pop(name, None)
        if self._trouble.pop("disk", None):
            log.warning("outbox records retry state again; the back-off kept in memory is saved")

    def _disk_fails(self, error: OSError) -> None:
        problem = describe(error)
        if self._trouble.get("disk") != problem:  # logged when it starts or changes, not every round
            self._trouble["disk"] = problem
            log.error("could not record a failed attempt; the back-off goes on in memory error=%s", problem)

    def _forget_gone(self, waiting: set[str]) -> None:
        """Drop the unsaved states of messages that are no longer waiting, being sent or failed."""
        for name in [name for name in self._unsaved if name not in waiting]:
            if not (self.root / "failed" / name).exists() and not any((self.root / "cur").glob(f"{name}~*")):
                self._unsaved.pop(name, None)
