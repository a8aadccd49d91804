"""Signed answer links: which report an answer belongs to, and where the answer goes.

The report e-mail carries a link with a token (itsdangerous, keyed by FORMKIT_SECRET_KEY and salted
with the reply form's id) holding the report's reference, its date and the address the answer goes
to, so the handler routes an answer without a database. Which form answers which is data in
x-formkit: the report form's `reply_form` and `reply_link`, and the reply form's mail entry "token".
"""

from __future__ import annotations

import datetime
import logging
import re
import urllib.parse
from dataclasses import dataclass

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .errors import BadLink, ExpiredLink, MissingLink
from .reference import add_months

log = logging.getLogger("formkit")
INSECURE_KEY = "insecure-development-key-set-FORMKIT_SECRET_KEY"
FIELD = "_token"  # the hidden form field that carries the token with the answer
ROUTE = "svara"  # the answer page: /api/forms/<reply-form>/svara?token=...
MAX_TOKEN = 1000
_REFERENCE = re.compile(r"^[A-Z0-9]{1,20}-\d{8}-[2-9A-Z]{4,12}$")


@dataclass(frozen=True)
class LinkedReport:
    """The report an answer belongs to, as its link's token says."""

    reference: str
    date: str  # the day the report was sent, YYYY-MM-DD
    answer_to: str  # the reporting unit's manager, who receives the answer


def deadline(form, created: datetime.datetime) -> datetime.date:
    """Return the day an answer to a report sent at `created` is due (`reply_link.deadline_months`, default 2)."""
    months = int((form.settings.get("reply_link") or {}).get("deadline_months", 2))
    return add_months(created.date(), months)


def issue(config, reply_form: str, linked: LinkedReport, issued_at: float | None = None) -> str:
    """Return a signed token for answering `linked` with `reply_form`; `issued_at` backdates it (tests)."""
    payload = {"r": linked.reference, "d": linked.date, "a": linked.answer_to}
    return _serializer(config, reply_form, issued_at).dumps(payload)


def verify(config, reply_form: str, token: str | None) -> LinkedReport:
    """Return the report a token links to, or raise MissingLink, ExpiredLink or BadLink with a Swedish message."""
    if not token:
        raise MissingLink(
            "Svaret kan bara skickas via länken i e-postmeddelandet med rapporten. "
            "Öppna länken i meddelandet och fyll i svaret där."
        )
    max_age = float(config["REPLY_TOKEN_DAYS"]) * 86400
    try:
        if len(token) > MAX_TOKEN:
            raise BadData("token too long")
        payload = _serializer(config, reply_form).loads(token, max_age=max_age)
        linked = LinkedReport(str(payload["r"]), str(payload["d"]), str(payload["a"]))
        datetime.date.fromisoformat(linked.date)
        if not _REFERENCE.match(linked.reference) or "@" not in linked.answer_to:
            raise ValueError("unexpected payload")
    except SignatureExpired:
        log.info("form=%s outcome=expired-link", reply_form)
        raise ExpiredLink(
            "Länken har gått ut. Svara i stället direkt på e-postmeddelandet med rapporten, "
            "så går svaret till chefen för den rapporterande verksamheten."
        ) from None
    except (BadData, ValueError, TypeError, KeyError):
        log.warning("form=%s outcome=bad-link", reply_form)
        raise BadLink(
            "Länken är inte giltig. Den kan ha ändrats eller bara kopierats till en del. "
            "Öppna länken direkt från e-postmeddelandet med rapporten."
        ) from None
    return linked


def url(config, reply_form: str, token: str) -> str:
    """Return the answer page's address for a token, under FORMKIT_BASE_URL."""
    base = str(config["BASE_URL"]).rstrip("/")
    return f"{base}/api/forms/{reply_form}/{ROUTE}?{urllib.parse.urlencode({'token': token})}"


def _serializer(config, reply_form: str, issued_at: float | None = None) -> URLSafeTimedSerializer:
    # Oldest key first: itsdangerous signs with the last and accepts all, so keys can be rotated.
    fallbacks = config.get("SECRET_KEY_FALLBACKS") or []
    keys = [*([fallbacks] if isinstance(fallbacks, str) else fallbacks), config["SECRET_KEY"]]
    if issued_at is None:
        return URLSafeTimedSerializer(keys, salt=f"formkit.reply.{reply_form}")
    return URLSafeTimedSerializer(
        keys, salt=f"formkit.reply.{reply_form}", signer=_FixedTimeSigner, signer_kwargs={"issued_at": issued_at}
    )


class _FixedTimeSigner(TimestampSigner):
    """A signer whose clock is stopped at `issued_at`: signs a token as if issued then."""

    def __init__(self, *args, issued_at: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = int(issued_at)

    def get_timestamp(self) -> int:
        return self.issued_at
