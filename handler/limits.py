"""Abuse limits on the endpoint: a rate limit per client address, and which web sites may post to it.

- Rate limit: Flask-Limiter, counting the reports each client address gets accepted (the posts that send
  mail) at `/api/forms/<form-id>` (FORMKIT_RATELIMIT, default "30 per minute; 300 per hour"; empty
  turns it off). Refused posts do not count, so a person correcting errors is never locked out. The
  count lives in memory by default; FORMKIT_RATELIMIT_STORAGE_URI (e.g. redis://host:6379) shares it
  between processes.
- Origins: a browser posting from another web site is refused (403) unless its origin is listed in
  FORMKIT_ALLOWED_ORIGINS; the same site may always post. Allowed origins get CORS answers, so
  formkit.js on their pages can submit with fetch (preflight included).
- Behind a reverse proxy, FORMKIT_TRUSTED_PROXIES says how many proxies' X-Forwarded-* headers to
  believe, so the client address and the site's own host are the real ones.
"""

from __future__ import annotations

import logging
import time
import urllib.parse

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import ForeignOrigin

log = logging.getLogger("formkit.limits")
ENDPOINT = "submit"
CORS_MAX_AGE = 3600


def init_app(app: Flask) -> Limiter:
    """Register the rate limit, the origin check and the CORS answers on the submission endpoint."""
    rate = app.config.get("RATELIMIT")
    try:
        parse_many(rate or "1 per second")
    except ValueError:
        raise ValueError(
            f'FORMKIT_RATELIMIT="{rate}" is not a rate limit. Write it like "10 per minute" or "5/minute; 50/hour".'
        ) from None
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.before_request(check_origin)  # registered first: a refused site does not count against anyone
    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=[lambda: current_app.config.get("RATELIMIT") or "1 per second"],
        default_limits_exempt_when=_not_limited,
        default_limits_deduct_when=lambda response: response.status_code in (201, 303),
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
        swallow_errors=True,  # a shared store that is down must not turn submissions into 500s
    )
    app.after_request(add_cors_headers)
    app.extensions["formkit.limiter"] = limiter
    return limiter


def retry_after() -> int:
    """Return the seconds until the client's rate limit lets it post again (for the 429 answer)."""
    limiter: Limiter | None = current_app.extensions.get("formkit.limiter")
    current = limiter.current_limit if limiter else None
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def allowed_origins() -> set[str]:
    """Return the origins in FORMKIT_ALLOWED_ORIGINS (separated by commas or spaces), normalised."""
    configured = current_app.config.get("ALLOWED_ORIGINS") or ""
    if isinstance(configured, str):
        configured = configured.replace(",", " ").split()
    return {origin for origin in map(_origin, configured) if origin}


def check_origin() -> None:
    """Refuse a submission that a browser sends from a web site that may not post here."""
    if request.endpoint != ENDPOINT:
        return
    origin = _request_origin()
    if origin is None or _same_site(origin) or origin in allowed_origins():
        return
    log.warning("form=%s outcome=forbidden origin=%s", (request.view_args or {}).get("form_id", ""), origin[:200])
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


def _not_limited() -> bool:
    return request.endpoint != ENDPOINT or request.method != "POST" or not current_app.config.get("RATELIMIT")


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
