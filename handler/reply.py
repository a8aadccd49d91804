"""Answer links: which report an answer belongs to, which receiving unit answers, and where the answer goes.

Each receiving unit's report e-mail carries its own link, whose token holds the report's reference and
the unit's index (its row in the report's units list) and nothing else: the answer's routing (the
reporting unit's manager), the report's arrival, deadline and answers come from the register's record
(`open_link`). The token keeps itsdangerous' `payload.timestamp.signature` shape (signed with
FORMKIT_SECRET_KEY, salted with the reply form's id, so keys can be rotated through
FORMKIT_SECRET_KEY_FALLBACKS), and its payload is encrypted (Fernet), so not even the reference is
readable in the link or in an access log. Which form answers which is data in x-formkit: the report
form's `reply_form` and `reply_link`, and the reply form's mail entry "token" (the reporting manager).
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .errors import BadLink, DeliveryUnavailable, ExpiredLink, MissingLink
from .forms import DEADLINE_MONTHS, Form
from .reference import TIMEZONE, add_months

if TYPE_CHECKING:
    from .register import Register, ReportRecord
    from .settings import LinkSettings

log = logging.getLogger("formkit")
FIELD = "_token"  # the hidden form field that carries the token with the answer
ROUTE = "svara"  # the answer page: /api/forms/<reply-form>/svara?token=...
MAX_TOKEN = 1000
MAX_UNITS = 10_000  # far above any form's rows: a unit index beyond it is no link of ours
REFERENCE = re.compile(r"[A-Z0-9]{1,20}-[0-9]{8}-[2-9A-Z]{4,12}\Z")
# One bare address, ASCII as the forms require: no display name, no list, no line break, no comment.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")
GONE = (
    "Rapporten som länken gäller finns inte längre i registret, så svaret kan inte skickas härifrån. "
    "Svara i stället direkt på e-postmeddelandet med rapporten, så går svaret till chefen för den "
    "rapporterande verksamheten."
)


class ReportGone(BadLink):
    """The link is genuine, but the register holds no record of its report (or of its unit)."""

    status = 410
    title = "Rapporten finns inte längre"

    def __init__(self, detail: str = GONE):
        super().__init__(detail)


class AlreadyAnswered(BadLink):
    """The unit's answer was recorded while this one was on its way: it must be sent as a supplement."""

    status = 409
    title = "Verksamheten har redan svarat"


@dataclass(frozen=True)
class Link:
    """What an answer link's token says: which report, and which of its receiving units answers."""

    reference: str
    unit: int = 0  # the unit's row in the report's units list (the register's UnitRecord.index)


@dataclass(frozen=True)
class LinkedReport:
    """The report an answer belongs to, as its link and the register's record say.

    `answer_to` is "" and `report` None once the register has erased the report's answers; `answered`
    is the day this unit answered first ("" until then): after it, every answer is a supplement.
    """

    reference: str
    date: str  # the day the report arrived, YYYY-MM-DD
    answer_to: str = field(default="", repr=False)  # the reporting unit's manager, who receives the answer
    unit: int = 0
    unit_name: str = ""
    deadline: str = ""  # YYYY-MM-DD, "" when the report has none
    answered: str = ""
    report: dict | None = field(default=None, repr=False, compare=False)

    @property
    def supplement(self) -> bool:
        """Return whether this unit has answered already, so what it sends now supplements its answer."""
        return bool(self.answered)

    @property
    def erased(self) -> bool:
        """Return whether the register no longer keeps the report's answers."""
        return self.report is None


@dataclass(frozen=True)
class UnitLink:
    """A receiving unit of a new report, with the link that answers for it ("" when the report gets none)."""

    index: int
    name: str
    address: str
    link: str


def deadline(form: Form, created: datetime.datetime) -> datetime.date:
    """Return the day an answer to a report sent at `created` is due (`reply_link.deadline_months`, default 2)."""
    link = form.settings.reply_link
    return add_months(created.date(), link.deadline_months if link else DEADLINE_MONTHS)


def answer_to(form: Form, data) -> str:
    """Return the address a report's answers go to (`reply_link.answer_to`), or "" when it names none."""
    link = form.settings.reply_link
    found = values_at(data, link.answer_to) if link and isinstance(data, dict) else []
    return next((value for value in found if isinstance(value, str) and value), "")


def unit_links(
    form: Form, data: dict, reference: str, links: LinkSettings, units: list | None = None
) -> list[UnitLink]:
    """Return the report's receiving units (`reply_link.units`), each with the link that answers for it alone.

    No links when the form has no reply loop or the report names no allowed address to answer to.
    """
    from .register.entry import units_of  # the register's one reading of which rows are units

    found = units_of(form, data) if units is None else units
    address = answer_to(form, data)
    linked = bool(form.settings.reply_form and address)
    if address and not allowed(address, form):  # validation lets no such address through: said, not shown
        log.warning("form=%s reference=%s no answer link: the address to answer is not allowed", form.id, reference)
        linked = False
    reply_form = form.settings.reply_form
    return [
        UnitLink(index, unit.name, unit.address, unit_link(links, reply_form, reference, index) if linked else "")
        for index, unit in enumerate(found)
    ]


def unit_link(links: LinkSettings, reply_form: Form | str, reference: str, unit: int) -> str:
    """Return the address of the answer page that answers `reference` for its unit number `unit`."""
    return url(links, reply_form, issue(links, reply_form, Link(reference, unit)))


def issue(
    links: LinkSettings, reply_form: Form | str, linked: Link | LinkedReport, issued_at: float | None = None
) -> str:
    """Return a token for answering `linked` (its reference and unit) with `reply_form`; `issued_at` backdates it."""
    form_id = _id(reply_form)
    unit = linked.unit
    if not REFERENCE.match(linked.reference) or not _is_unit(unit):
        raise ValueError("an answer link names one report and one of its units")
    payload = {"r": linked.reference, "u": unit}
    return _serializer(links, form_id, issued_at).dumps(payload).decode("ascii")  # a binary payload gives bytes


def verify(links: LinkSettings, reply_form: Form | str, token: str | None) -> Link:
    """Return the report and unit a token links to, or raise MissingLink, ExpiredLink or BadLink in Swedish.

    A genuine token of the kit's first links (an address instead of a unit) raises ReportGone: the
    register never recorded those reports.
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
        if not isinstance(payload, dict) or not REFERENCE.match(str(payload["r"])):
            raise ValueError("unexpected payload")
        if "u" not in payload and "a" in payload:
            log.info("form=%s outcome=gone-link reason=first-version", form_id)
            raise ReportGone()
        if not _is_unit(payload["u"]):
            raise ValueError("unexpected payload")
        found = Link(str(payload["r"]), payload["u"])
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
    return found


def open_link(
    links: LinkSettings, reply_form: Form, token: str | None, report_form: Form | None, register: Register | None
) -> LinkedReport:
    """Return the report and unit a token links to, as the register keeps them; raise BadLink or ReportGone.

    A register that cannot be read raises DeliveryUnavailable (503): the link may well be good.
    """
    from .register import RegisterUnavailable

    link = verify(links, reply_form, token)
    try:
        record = register.report(link.reference) if register is not None else None
    except RegisterUnavailable as error:
        log.error("form=%s outcome=unavailable register not readable: %s", reply_form.id, error)
        raise DeliveryUnavailable("Rapporten kunde inte hämtas just nu. Försök igen om en stund.") from None
    return linked_report(link, record, report_form)


def linked_report(link: Link, record: ReportRecord | None, report_form: Form | None) -> LinkedReport:
    """Return what an answer through `link` needs of the register's `record`; raise ReportGone without one."""
    units = {unit.index: unit for unit in record.units} if record is not None else {}
    unit = units.get(link.unit)
    if record is None or unit is None:
        log.info("reference=%s outcome=gone-link", link.reference)
        raise ReportGone()
    address = answer_to(report_form, record.answers) if report_form is not None else ""
    if address and not allowed(address, report_form):  # kept answers were validated; never route outside anyway
        address = ""
    return LinkedReport(
        reference=record.reference,
        date=record.arrived_at.astimezone(TIMEZONE).date().isoformat(),
        answer_to=address,
        unit=unit.index,
        unit_name=unit.name,
        deadline=record.deadline.isoformat() if record.deadline else "",
        answered=unit.answered_at.astimezone(TIMEZONE).date().isoformat() if unit.answered_at else "",
        report=record.answers,
    )


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


def _is_unit(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_UNITS


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
