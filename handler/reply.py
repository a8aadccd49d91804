"""Answer links: which report an answer belongs to, and where the answer goes.

The report e-mail carries a link with a token holding the report's reference, its date and the one
address the answer goes to, so the handler routes an answer without a database. The token keeps
itsdangerous' `payload.timestamp.signature` shape (signed with FORMKIT_SECRET_KEY, salted with the
reply form's id, so keys can be rotated through FORMKIT_SECRET_KEY_FALLBACKS), and its payload is
encrypted (Fernet) so the manager's address is not readable in the link or in an access log.
Which form answers which is data in x-formkit: the report form's `reply_form` and `reply_link`, and
the reply form's mail entry "token".
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import re
import urllib.parse
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .errors import BadLink, ExpiredLink, MissingLink
from .forms import DEADLINE_MONTHS, Form
from .reference import add_months

if TYPE_CHECKING:
    from .settings import LinkSettings

log = logging.getLogger("formkit")
FIELD = "_token"  # the hidden form field that carries the token with the answer
ROUTE = "svara"  # the answer page: /api/forms/<reply-form>/svara?token=...
MAX_TOKEN = 1000
REFERENCE = re.compile(r"[A-Z0-9]{1,20}-[0-9]{8}-[2-9A-Z]{4,12}\Z")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# One bare address, ASCII as the forms require: no display name, no list, no line break, no comment.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")


@dataclass(frozen=True)
class LinkedReport:
    """The report an answer belongs to, as its link's token says."""

    reference: str
    date: str  # the day the report was sent, YYYY-MM-DD
    answer_to: str  # the reporting unit's manager, who receives the answer


def deadline(form: Form, created: datetime.datetime) -> datetime.date:
    """Return the day an answer to a report sent at `created` is due (`reply_link.deadline_months`, default 2)."""
    link = form.settings.reply_link
    return add_months(created.date(), link.deadline_months if link else DEADLINE_MONTHS)


def answer_link(form: Form, data: dict, reference: str, created: datetime.datetime, links: LinkSettings) -> str:
    """Return the link for answering this report, or "" when the form has no reply loop or no address to answer."""
    link = form.settings.reply_link
    found = values_at(data, link.answer_to) if link else []
    answer_to = next((value for value in found if isinstance(value, str) and value), "")
    if not answer_to:
        return ""
    if not allowed(answer_to, form):  # validation lets no such address through: say so, without the address
        log.warning("form=%s reference=%s no answer link: the address to answer is not allowed", form.id, reference)
        return ""
    reply_form, linked = form.settings.reply_form, LinkedReport(reference, created.date().isoformat(), answer_to)
    return url(links, reply_form, issue(links, reply_form, linked))


def issue(links: LinkSettings, reply_form: Form | str, linked: LinkedReport, issued_at: float | None = None) -> str:
    """Return a token for answering `linked` with `reply_form`; `issued_at` backdates it (tests)."""
    form_id = _id(reply_form)
    if not (REFERENCE.match(linked.reference) and DATE.match(linked.date) and ADDRESS.match(linked.answer_to)):
        raise ValueError("an answer link names one report, its date and one bare address")
    payload = {"r": linked.reference, "d": linked.date, "a": linked.answer_to}
    return _serializer(links, form_id, issued_at).dumps(payload).decode("ascii")  # a binary payload gives bytes


def verify(links: LinkSettings, reply_form: Form | str, token: str | None, report: Form | None = None) -> LinkedReport:
    """Return the report a token links to, or raise MissingLink, ExpiredLink or BadLink with a Swedish message.

    `report`: the report form, whose allowed domains the address in the token must be in.
    """
    form_id = _id(reply_form)
    if not token:
        raise MissingLink(
            "Svaret kan bara skickas via länken i e-postmeddelandet med rapporten. "
            "Öppna länken i meddelandet och fyll i svaret där."
        )
    try:
        if len(token) > MAX_TOKEN:
            raise BadData("token too long")
        payload = _serializer(links, form_id).loads(token, max_age=float(links.token_days) * 86400)
        linked = LinkedReport(str(payload["r"]), str(payload["d"]), str(payload["a"]))
        if not (REFERENCE.match(linked.reference) and DATE.match(linked.date)):
            raise ValueError("unexpected payload")
        datetime.date.fromisoformat(linked.date)
        if not ADDRESS.match(linked.answer_to) or (report is not None and not allowed(linked.answer_to, report)):
            raise ValueError("an address the report form does not allow")
    except SignatureExpired:
        log.info("form=%s outcome=expired-link", form_id)
        raise ExpiredLink(
            "Länken har gått ut. Svara i stället direkt på e-postmeddelandet med rapporten, "
            "så går svaret till chefen för den rapporterande verksamheten."
        ) from None
    except (BadData, ValueError, TypeError, KeyError):
        log.warning("form=%s outcome=bad-link", form_id)
        raise BadLink(
            "Länken är inte giltig. Den kan ha ändrats eller bara kopierats till en del. "
            "Öppna länken direkt från e-postmeddelandet med rapporten."
        ) from None
    return linked


def url(links: LinkSettings, reply_form: Form | str, token: str) -> str:
    """Return the answer page's address for a token, under FORMKIT_BASE_URL."""
    base = links.base_url.rstrip("/")
    return f"{base}/api/forms/{_id(reply_form)}/{ROUTE}?{urllib.parse.urlencode({'token': token})}"


def allowed(address: str, form: Form) -> bool:
    """Return whether `address` is one bare address in one of the form's allowed domains (none listed: any)."""
    if not ADDRESS.match(address):
        return False
    domains = [d.lower() for d in form.settings.allowed_domains]
    domain = address.rsplit("@", 1)[1].lower()
    return not domains or any(domain == d or domain.endswith("." + d) for d in domains)


def values_at(data, pointer: str) -> list:
    """Return the values at a routing pointer into a submission (`/verksamheter/*/chef_epost`), in order."""
    found = [data]
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        if part == "*":
            found = [item for value in found if isinstance(value, list) for item in value]
        else:
            found = [value[part] for value in found if isinstance(value, dict) and part in value]
    return found


def _id(form: Form | str) -> str:
    return form if isinstance(form, str) else form.id


def _serializer(links: LinkSettings, reply_form: str, issued_at: float | None = None) -> URLSafeTimedSerializer:
    # Oldest key first: itsdangerous signs with the last and accepts all, so keys can be rotated.
    keys = [*links.fallbacks, links.secret_key]
    sealed = _Sealed(MultiFernet([_fernet(key, reply_form) for key in reversed(keys)]))
    salt = f"formkit.reply.{reply_form}"
    if issued_at is None:
        return URLSafeTimedSerializer(keys, salt=salt, serializer=sealed)
    return URLSafeTimedSerializer(
        keys, salt=salt, serializer=sealed, signer=_FixedTimeSigner, signer_kwargs={"issued_at": issued_at}
    )


@lru_cache(maxsize=64)
def _fernet(secret_key: str, reply_form: str) -> Fernet:
    """Return the encryption key for one secret key and reply form: HKDF, so it is never the signing key."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"formkit.reply", info=reply_form.encode()).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class _Sealed:
    """itsdangerous' payload serializer: JSON, encrypted; the signer then signs the ciphertext."""

    def __init__(self, fernet: MultiFernet):
        self.fernet = fernet

    def dumps(self, payload) -> bytes:
        # Fernet's own base64 is undone: itsdangerous encodes the payload once more for the URL.
        return base64.urlsafe_b64decode(self.fernet.encrypt(json.dumps(payload, separators=(",", ":")).encode()))

    def loads(self, sealed: bytes):
        return json.loads(self.fernet.decrypt(base64.urlsafe_b64encode(sealed)))


class _FixedTimeSigner(TimestampSigner):
    """A signer whose clock is stopped at `issued_at`: signs a token as if issued then."""

    def __init__(self, *args, issued_at: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = int(issued_at)

    def get_timestamp(self) -> int:
        return self.issued_at
