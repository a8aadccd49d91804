"""Abuse limits on the endpoint: a rate limit per client address, and which web sites may post to it.

- Rate limit (`RateLimits`, called by the pipeline): the reports each client address gets accepted (the
  posts that send mail) at `/api/forms/<form-id>` (FORMKIT_RATELIMIT, default "30 per minute; 300 per
  hour"; empty turns it off), and the reports each recipient address gets (FORMKIT_RECIPIENT_RATELIMIT,
  default "20 per hour"). Refused posts do not count, so a person correcting errors is never locked
  out. The counts live in memory by default; FORMKIT_RATELIMIT_STORAGE_URI (e.g. redis://host:6379)
  shares them between processes.
- Origins: a browser posting from another web site is refused (403) unless its origin is listed in
  FORMKIT_ALLOWED_ORIGINS; the same site may always post. Allowed origins get CORS answers, so
  formkit.js on their pages can submit with fetch (preflight included).
- Behind a reverse proxy, FORMKIT_TRUSTED_PROXIES says how many proxies' X-Forwarded-* headers to
  believe, so the client address and the site's own host are the real ones.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.parse
from collections.abc import Sequence

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import ForeignOrigin, TooManyRequests
from .logs import safe
from .settings import LimitSettings

log = logging.getLogger("formkit.limits")
ENDPOINT = "forms.submit"
CORS_MAX_AGE = 3600
NAMESPACE = "formkit"  # the kit's keys in a shared store, apart from Flask-Limiter's and anyone else's
STORE_TIMEOUT = 0.5  # seconds: a store that does not answer must not hold a submission up
STORE_RETRY = 30  # seconds: after a failure the store is tried again only this long after, not on every report
CLIENT_DETAIL = "Du har skickat många formulär på kort tid. Vänta en stund och försök igen."
RECIPIENT_DETAIL = (
    "En av mottagarna har redan fått många rapporter på kort tid. Vänta en stund och försök igen, "
    "eller kontakta mottagaren på annat sätt."
)


class RateLimits:
    """Limits per client address and per recipient address, each checked and counted in one atomic step.

    Fixed windows, as Flask-Limiter counted: each limit is one atomic increment in the store, which
    answers whether the count is still within the limit, so concurrent submissions cannot all pass.
    A submission refused by any limit gives back what it took from the limits counted before it, so a
    refused submission uses up nothing (meanwhile a concurrent one may see a count one too high: it
    errs on refusing, never on admitting too many). A store that cannot be reached lets everything
    through (fail open) with one warning, since a report must not be lost to a broken counter.
    """

    def __init__(self, ratelimit: str, storage_uri: str, recipient_ratelimit: str = "20 per hour"):
        self.client_limits = _parse("FORMKIT_RATELIMIT", ratelimit)
        self.recipient_limits = _parse("FORMKIT_RECIPIENT_RATELIMIT", recipient_ratelimit)
        uri = storage_uri or "memory://"
        networked = urllib.parse.urlsplit(uri).scheme.startswith(("redis", "valkey"))
        options = {"socket_timeout": STORE_TIMEOUT, "socket_connect_timeout": STORE_TIMEOUT} if networked else {}
        self.storage = storage_from_string(uri, wrap_exceptions=True, **options)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self._store_down = False
        self._retry_at = 0.0  # time.monotonic() before which a store that failed is not asked again
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, limits) -> RateLimits:
        """Return the limits a LimitSettings (settings.load().limits) describes."""
        return cls(limits.ratelimit, limits.storage_uri, limits.recipient_ratelimit)

    def admit(self, client: str, recipients: Sequence[str]) -> None:
        """Count a submission about to be accepted, or raise TooManyRequests when a limit is used up."""
        if self._store_down and time.monotonic() < self._retry_at:
            return  # a store that hangs would cost STORE_TIMEOUT on every report: let them through meanwhile
        addresses = sorted({address.strip().lower() for address in recipients if address.strip()})
        counts = [(item, ("client", client)) for item in self.client_limits]
        counts += [(item, ("recipient", address)) for address in addresses for item in self.recipient_limits]
        try:
            refused = self._count(counts)
        except StorageError as error:
            self._store_fails(error)
            return
        self._store_works()
        if refused:
            names, reset = refused
            detail = CLIENT_DETAIL if names[0] == "client" else RECIPIENT_DETAIL
            raise TooManyRequests(math.ceil(reset - time.time()), detail)

    def _count(self, counts: list[tuple[RateLimitItem, tuple[str, ...]]]) -> tuple[tuple[str, ...], float] | None:
        """Hit each limit in turn; on the first one used up, give all back and return whose it is and its reset."""
        for index, (item, names) in enumerate(counts):
            if not self.limiter.hit(item, NAMESPACE, *names):
                for taken, taken_names in counts[: index + 1]:  # the refused hit was counted too
                    self.storage.incr(taken.key_for(NAMESPACE, *taken_names), taken.get_expiry(), amount=-1)
                return names, self.limiter.get_window_stats(item, NAMESPACE, *names).reset_time
        return None

    def _store_fails(self, error: StorageError) -> None:
        with self._lock:
            down, self._store_down = self._store_down, True
            self._retry_at = time.monotonic() + STORE_RETRY
        if not down:  # once per outage, not once per submission
            log.warning("rate limits off: the store cannot be reached error=%s", safe(str(error.storage_error)))

    def _store_works(self) -> None:
        if self._store_down:
            with self._lock:
                down, self._store_down = self._store_down, False
            if down:
                log.warning("rate limits on again: the store answers")


def _parse(variable: str, written: str) -> list[RateLimitItem]:
    """Return the limits written as "30 per minute; 300 per hour" (empty: none)."""
    try:
        return parse_many(written) if written and written.strip() else []
    except ValueError:
        raise ValueError(
            f'{variable}="{written}" is not a rate limit. Write it like "10 per minute" or "5/minute; 50/hour".'
        ) from None


def init_app(app: Flask, limits: LimitSettings) -> None:
    """Register the origin check and the CORS answers on the submission endpoint; trust the configured proxies."""
    if limits.trusted_proxies:
        proxies = limits.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.before_request(check_origin)
    app.after_request(add_cors_headers)


def allowed_origins() -> set[str]:
    """Return the origins in FORMKIT_ALLOWED_ORIGINS (separated by commas or spaces), normalised."""
    configured = current_app.extensions["formkit.settings"].limits.allowed_origins
    return {origin for origin in map(_origin, configured) if origin}


def check_origin() -> None:
    """Refuse a submission that a browser sends from a web site that may not post here."""
    if request.endpoint != ENDPOINT:
        return
    origin = _request_origin()
    if origin is None or _same_site(origin) or origin in allowed_origins():
        return
    # What the client sent, escaped and quoted: a header must never end the line or add a key of its own.
    sent = request.headers.get("Origin") or request.headers.get("Referer") or ""
    log.warning('form=%s outcome=forbidden origin="%s"', safe((request.view_args or {}).get("form_id", "")), safe(sent))
    raise ForeignOrigin(
        "Formuläret kan inte skickas från den här webbplatsen. Använd formuläret på webbplatsens egen sida."
    )


def add_cors_headers(response):
    """Let allowed origins read the answers (and make preflight requests) of the submission endpoint."""
    if request.endpoint != ENDPOINT:
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and _origin(origin) in allowed_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
            response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    return response


def _request_origin() -> str | None:
    """Return the origin a browser says the request comes from: Origin, else Referer; None if neither."""
    origin = request.headers.get("Origin")
    if origin:
        return _origin(origin) or "null"  # "null" (sandboxed frames, privacy modes) is nobody's site
    referer = request.headers.get("Referer")
    if referer:
        return _origin(referer) or "null"
    return None  # not a browser (curl, a server): nothing to check


def _same_site(origin: str) -> bool:
    # The host alone: a proxy that ends TLS makes the request look like http while the page is https.
    return urllib.parse.urlsplit(origin).netloc == request.host.lower()


def _origin(url: str) -> str | None:
    """Return scheme://host[:port] of a URL in lower case, or None when it has none."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    host = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme}://{host}"
