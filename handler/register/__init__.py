"""The register: every report followed to its answers, in SQLite (the default) or PostgreSQL.

One record per report, written in the same all-or-nothing step as the outbox (`delivery.hand_over`):
reference, form id and version, arrival, deadline, `statistics` (the choices the form names in
`x-formkit.statistics`, never free text), and per receiving unit (one per row of
`x-formkit.reply_link.units`) its name, its manager's address and its state: sent_at, reminded_at,
answered_at, supplemented_at (None = not yet). The full answers are kept encrypted (Fernet, `crypto.py`)
while some unit has not answered, and at most FORMKIT_REGISTER_RETENTION_DAYS days after the deadline;
`purge` then erases them and the managers' addresses, and statistics and states remain.

Layers, imports going down only: `store` (the API) → `records` (the values it returns) · `entry` (what a
form's answers give) · `crypto` (encryption) · `migrate` (engine, Alembic loaded only to migrate) →
`models` (tables). Schema changes are Alembic revisions in
`migrations/versions/`, applied by `formkit db upgrade` and by `formkit serve` at start.

The API (times are aware datetimes; read back in Europe/Stockholm; `when` defaults to now):

    register = Register.from_settings(settings)       # or Register(url, secret_key=..., retention_days=30)
    register.upgrade() -> (before, after)             # migrate; register.stale() -> "" or one line to show
    entry = new_report(form, data, reference, created)  # NewReport: units and statistics from the form

    with register.transaction() as tx:                # one transaction: commit at the end, rollback on raise;
        tx.record(entry)                              # a database failure raises RegisterUnavailable
        tx.mark_answered(reference, unit_index, when) -> bool   # True: its first answer; False: answered before
        tx.mark_supplemented(reference, unit_index, when)
        tx.mark_reminded(reference, unit_index, when) -> bool   # True for exactly one caller, across workers
        tx.mark_overdue_notified(reference, when) -> bool       # the same, for the secretariat's overdue notice
    register.record(entry) / .mark_answered(...) / ...  # the same, each in a transaction of its own
      (the mark_* raise NotRecorded for an unknown reference or unit)

    register.report(reference) -> ReportRecord | None   # with .answers decrypted, None once erased
    register.units(reference) -> list[UnitRecord]       # [] when not recorded
    register.due_reminders(now, days_before, form_id=None) -> list[Due]  # not answered, not reminded, due soon
    register.overdue(now, form_id=None) -> list[ReportRecord]           # deadline passed, some unit open
    register.reports_between(start_date, end_date, form_id=None) -> list[ReportRecord]  # days included
    register.purge(now) -> int                          # answers erased now

`ReportRecord`: reference, form_id, form_version, arrived_at, deadline, statistics ({"/omrade": ("placering",),
"/verksamheter/0/verksamhetstyp": ("grundskola",), ...}), units, answers, erased_at, overdue_notified_at,
.is_open, .values("/verksamheter/*/verksamhetstyp"). `UnitRecord`: index, name, address, sent_at,
reminded_at, answered_at, supplemented_at, statistics (the row's own: {"verksamhetstyp": ("bup",)}).
"""

from .entry import NewReport, NewUnit, new_report
from .migrate import engine_for, head
from .store import Due, NotRecorded, Register, RegisterUnavailable, ReportRecord, Transaction, UnitRecord

__all__ = [
    "Due",
    "NewReport",
    "NewUnit",
    "NotRecorded",
    "Register",
    "RegisterUnavailable",
    "ReportRecord",
    "Transaction",
    "UnitRecord",
    "engine_for",
    "head",
    "new_report",
]
