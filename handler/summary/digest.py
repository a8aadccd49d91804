"""The weekly digest: which reports are new, answered and overdue, by reference only, to the secretariat.

A form with `x-formkit.digest` (`{"to": [...], "weekday": "monday", "hour": 7}`) gets one e-mail a
week, from that day and hour (Stockholm time) on, covering everything since the previous digest (the
first: the last seven days). It names references, dates and how many units have answered: never the
content of a report, the units' names or anyone's address.

Once a week across restarts and several workers: the week's row in the register's `digests` table
(form, ISO week) is the claim. It is inserted in the same transaction that queues the message in the
outbox (`delivery.hand_over`), so a digest is either claimed and queued, or neither and tried again
on the next round. The worker looks every EVERY seconds (`formkit serve`, `formkit outbox run`);
`formkit digest` sends this week's at once, unless it has gone already.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, getaddresses

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..delivery import hand_over
from ..forms import Form
from ..mail import POLICY, UTF8
from ..outbox import Outbox, describe
from ..reference import TIMEZONE, now
from ..register import Register, ReportRecord, Transaction
from ..register.models import Digest, Report, Unit

log = logging.getLogger("formkit.digest")
EVERY = 300.0  # seconds between the worker's looks: the digest goes out at most this late after its hour
WEEK = datetime.timedelta(days=7)
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
STAMP = "%Y-%m-%d %H:%M"


class AlreadySent(Exception):
    """Another worker (or an earlier run) has claimed this week's digest of the form."""


@dataclass(frozen=True)
class Answered:
    """A report some unit answered during the digest's period: how many of its units have answered by now."""

    reference: str
    answered: int
    units: int


@dataclass(frozen=True)
class Contents:
    """What one digest tells: the week, the period it covers, and the references in each list."""

    form: Form
    week: str  # "2026-W12"
    since: datetime.datetime
    until: datetime.datetime
    new: tuple[ReportRecord, ...]
    answered: tuple[Answered, ...]
    overdue: tuple[ReportRecord, ...]


def week_of(when: datetime.datetime) -> str:
    """Return the ISO week of a moment in Stockholm: "2026-W12"."""
    year, week, _ = when.astimezone(TIMEZONE).isocalendar()
    return f"{year}-W{week:02d}"


def is_due(form: Form, when: datetime.datetime) -> bool:
    """Return whether the form's digest for the week of `when` may go: its day and hour have come."""
    digest = form.settings.digest
    local = when.astimezone(TIMEZONE)
    return digest is not None and (local.weekday(), local.hour) >= (digest.weekday, digest.hour)


def gather(register: Register, form: Form, since: datetime.datetime, until: datetime.datetime) -> Contents:
    """Return the digest's lists: reports that arrived, reports answered (by some unit), reports overdue."""
    local = since.astimezone(TIMEZONE), until.astimezone(TIMEZONE)
    arrived = register.reports_between(local[0].date(), local[1].date(), form.id)
    new = tuple(r for r in arrived if since <= r.arrived_at < until)
    query = (
        select(Report.reference)
        .join(Unit, Unit.report_id == Report.id)
        .where(Report.form_id == form.id, Unit.answered_at >= since, Unit.answered_at < until)
        .group_by(Report.reference)
        .order_by(Report.reference)
    )
    with Session(register.engine) as session:
        references = list(session.scalars(query))
    answered = []
    for reference in references:
        units = register.units(reference)
        answered.append(Answered(reference, sum(u.answered_at is not None for u in units), len(units)))
    overdue = tuple(register.overdue(until, form.id))
    return Contents(form, week_of(until), since, until, new, tuple(answered), overdue)


def compose(contents: Contents, mail) -> Message:
    """Return the digest e-mail (plain text, UTF-8) to the form's digest addresses; `mail`: MailSettings."""
    form, digest = contents.form, contents.form.settings.digest
    number = contents.week.split("-W")[1].lstrip("0")
    subject = (
        f"Veckosammanfattning {form.title} vecka {number}: {len(contents.new)} nya, "
        f"{len(contents.answered)} besvarade, {len(contents.overdue)} försenade"
    )
    lines = [
        "Hej!",
        "",
        f"Här är veckans sammanfattning av {form.title} för vecka {number}, från {_stamp(contents.since)} till "
        f"{_stamp(contents.until)}. Den innehåller bara referenser: rapporterna och svaren finns i e-posten som "
        "sekretariatet har fått för kännedom.",
        "",
        f"Nya rapporter ({len(contents.new)}):",
        *_listed(f"{r.reference}, svara senast {r.deadline or '–'}" for r in contents.new),
        "",
        f"Besvarade under perioden ({len(contents.answered)}):",
        *_listed(f"{a.reference}: {a.answered} av {a.units} verksamheter har svarat" for a in contents.answered),
        "",
        f"Försenade, svarstiden har gått ut ({len(contents.overdue)}):",
        *_listed(
            f"{r.reference}: sista svarsdag {r.deadline}, {_open(r)} av {len(r.units)} verksamheter har inte svarat"
            for r in contents.overdue
        ),
        "",
        f"Sammanfattningen skickas varje {WEEKDAYS[digest.weekday]} från klockan {digest.hour:02d}.00.",
        "",
    ]
    message = MIMEText("\n".join(lines), "plain", UTF8, policy=POLICY)
    to = list(digest.to)
    if mail.redirect:  # staging: everything goes to one mailbox, the real recipients are named in a header
        message["X-Formkit-Original-Recipients"] = _addresses(to)
        to = [mail.redirect]
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    message["From"] = _addresses([mail.sender])
    message["To"] = _addresses(to)
    # Stable per form and week: a copy delivered twice after a crash is recognisable as the same message.
    message["Message-ID"] = f"<{form.id}.digest.{contents.week}@{mail.domain}>"
    message["Date"] = format_datetime(datetime.datetime.now(datetime.UTC))
    message["X-Formkit-Digest"] = f"{form.id} {contents.week}"
    return message


def _listed(items) -> list[str]:
    found = [f"- {item}" for item in items]
    return found or ["- Inga."]


def _open(record: ReportRecord) -> int:
    return sum(unit.answered_at is None for unit in record.units)


def _stamp(when: datetime.datetime) -> str:
    return when.astimezone(TIMEZONE).strftime(STAMP)


def _addresses(values: list[str]) -> str:
    return ", ".join(formataddr(pair, "utf-8") for pair in getaddresses(values) if pair[1])


def send_week(
    register: Register, form: Form, *, outbox: Outbox | None, smtp, mail, when: datetime.datetime | None = None
) -> Contents | None:
    """Claim and send the form's digest for the week of `when`; return what it told, or None if it had gone.

    Raises DeliveryUnavailable when it can be neither queued nor sent (then nothing is claimed).
    """
    when = (when or now()).astimezone(TIMEZONE)
    week = week_of(when)
    if _sent(register, form.id, week):
        return None
    since = _previous_until(register, form.id) or when - WEEK
    contents = gather(register, form, since, when)

    def claim(tx: Transaction) -> None:
        if not _claim(tx.session, form.id, week, since, when):
            raise AlreadySent(week)  # leaves hand_over before anything is queued, and rolls back

    try:
        hand_over(
            [compose(contents, mail)],
            outbox=outbox,
            smtp=smtp,
            label=f"form={form.id} digest={week}",
            register=register,
            record=claim,
            wait=True,  # a worker's round: nobody waits for it
        )
    except AlreadySent:
        return None
    log.info(
        "form=%s digest=%s new=%d answered=%d overdue=%d outcome=queued",
        form.id, week, len(contents.new), len(contents.answered), len(contents.overdue),
    )  # fmt: skip
    return contents


def send_due(
    register: Register, forms: Mapping[str, Form], *, outbox: Outbox | None, smtp, mail, when=None
) -> list[Contents]:
    """Send the digest of every form whose day and hour have come this week and whose digest has not gone."""
    when = when or now()
    sent = []
    for form in forms.values():
        if is_due(form, when):
            found = send_week(register, form, outbox=outbox, smtp=smtp, mail=mail, when=when)
            if found is not None:
                sent.append(found)
    return sent


def _sent(register: Register, form_id: str, week: str) -> bool:
    with Session(register.engine) as session:
        return session.scalar(select(Digest.id).where(Digest.form_id == form_id, Digest.week == week)) is not None


def _previous_until(register: Register, form_id: str) -> datetime.datetime | None:
    query = select(Digest.until).where(Digest.form_id == form_id).order_by(Digest.until.desc()).limit(1)
    with Session(register.engine) as session:
        return session.scalar(query)


def _claim(session: Session, form_id: str, week: str, since: datetime.datetime, until: datetime.datetime) -> bool:
    """Insert the week's row unless it exists; True for the one caller whose row it is."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Digest)
        .values(form_id=form_id, week=week, since=since, until=until)
        .on_conflict_do_nothing(index_elements=["form_id", "week"])
    )
    return session.execute(statement).rowcount == 1


def start_worker(
    forms: Callable[[], Mapping[str, Form]],
    register: Register,
    *,
    outbox: Outbox | None,
    smtp,
    mail,
    every: float = EVERY,
    stop: threading.Event | None = None,
) -> threading.Thread:
    """Start a daemon thread that sends the due digests at once and then every `every` seconds.

    `forms` is called each round, so forms rebuilt by `formkit serve --watch` or edited since are used.
    """
    stop = stop or threading.Event()

    def run() -> None:
        failing = ""
        while True:
            try:
                send_due(register, forms(), outbox=outbox, smtp=smtp, mail=mail)
            except Exception as error:  # the database or the forms may be broken for a while: said once
                if describe(error) != failing:
                    failing = describe(error)
                    log.error("digest failed error=%s", failing)
            else:
                if failing:
                    failing = ""
                    log.warning("digest works again")
            if stop.wait(every):
                return

    thread = threading.Thread(target=run, name="formkit-digest", daemon=True)
    thread.start()
    return thread
