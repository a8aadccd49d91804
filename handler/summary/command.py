"""The secretariat's two commands: `formkit sammanstallning` (the summary of a period) and `formkit digest`.

Each bad argument is one plain Swedish line and exit code 2, as a bad setting is; a register that
cannot be read is one line and exit code 1. The forms come from FORMKIT_SCHEMA_DIR, the register
from FORMKIT_DATABASE_URL; neither command needs the secret key (no answers are decrypted).
"""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

from ..check import check_project
from ..reference import now
from ..settings import load as load_settings

DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class ArgumentProblem(ValueError):
    """A command line argument is missing or wrong; the message is the one Swedish line to show."""


def period(start: str | None, end: str | None) -> tuple[datetime.date, datetime.date]:
    """Return the period --fran and --till name (days in Stockholm, both included), or raise ArgumentProblem."""
    days = []
    for option, value, example in (("--fran", start, "2026-01-01"), ("--till", end, "2026-12-31")):
        if not value:
            what = "första" if option == "--fran" else "sista"
            raise ArgumentProblem(f"Ange periodens {what} dag med {option}, till exempel {option} {example}.")
        try:
            if not DATE.match(value):
                raise ValueError
            days.append(datetime.date.fromisoformat(value))
        except ValueError:
            raise ArgumentProblem(
                f'{option} ska vara ett datum som ÅÅÅÅ-MM-DD, till exempel {example}, men är "{value}".'
            ) from None
    if days[1] < days[0]:
        raise ArgumentProblem(
            f"--till ({days[1]}) är före --fran ({days[0]}). "
            "Ange periodens sista dag med --till: samma dag eller senare."
        )
    return days[0], days[1]


def chosen_form(forms: dict, form_id: str | None):
    """Return the form --formular names, or the only form with statistics; raise ArgumentProblem otherwise."""
    counted = sorted(form.id for form in forms.values() if form.settings.statistics)
    if form_id:
        if form_id not in forms:
            listed = ", ".join(counted or sorted(forms)) or "inga"
            raise ArgumentProblem(f'Formuläret "{form_id}" finns inte. Formulär med statistik: {listed}.')
        return forms[form_id]
    if len(counted) == 1:
        return forms[counted[0]]
    listed = ", ".join(counted) or "inga"
    raise ArgumentProblem(f"Ange formuläret med --formular, till exempel --formular {counted[0] if counted else 'id'}. "
                          f"Formulär med statistik: {listed}.")  # fmt: skip


def folder(value: str | None) -> Path:
    """Return the folder --ut names (it may not exist yet), or raise ArgumentProblem."""
    if not value:
        raise ArgumentProblem(
            "Ange mappen som sammanställningen ska skrivas till med --ut, till exempel --ut redovisning."
        )
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ArgumentProblem(f"--ut {value} är en fil. Ange en mapp, ny eller befintlig.")
    return path


def summary(args) -> int:
    """Write the summary of a period: DOCX, XLSX and one CSV per table; print what was written."""
    try:
        start, end = period(args.fran, args.till)
        target = folder(args.ut)
    except ArgumentProblem as problem:
        print(problem, file=sys.stderr)
        return 2
    settings = load_settings(development=True)  # reads statistics and states only: no key needed
    forms = check_project(settings.schema_dir, settings.docs_dir or None).ok()
    try:
        form = chosen_form(forms, args.formular)
    except ArgumentProblem as problem:
        print(problem, file=sys.stderr)
        return 2
    from ..register import Register, RegisterUnavailable  # loaded once the arguments are known to be good
    from . import build, write

    register = Register.from_settings(settings)
    try:
        if stale := register.stale():
            print(stale, file=sys.stderr)
            return 1
        made = build(register, form, start, end)
    except RegisterUnavailable as error:
        print(f"Registret kunde inte läsas: {error}", file=sys.stderr)
        return 1
    finally:
        register.close()
    try:
        paths = write(made, target)
    except OSError as error:
        print(f"Sammanställningen kunde inte skrivas till {target}: {error.strerror or error}.", file=sys.stderr)
        return 1
    reports = f"{made.reports} {'rapport' if made.reports == 1 else 'rapporter'}"
    print(f"{made.title}: {reports}, skriven till {target}/")
    for path in paths:
        print(f"  {path.name}")
    return 0


def digest(args) -> int:
    """Send this week's digest of each form with one (or the form --formular names), unless it has gone."""
    settings = load_settings(development=True)
    forms = check_project(settings.schema_dir, settings.docs_dir or None).ok()
    with_digest = {form_id: form for form_id, form in forms.items() if form.settings.digest is not None}
    if args.formular and args.formular not in with_digest:
        listed = ", ".join(sorted(with_digest)) or "inga"
        what = "finns inte" if args.formular not in forms else 'har ingen "digest" i x-formkit'
        print(f'Formuläret "{args.formular}" {what}. Formulär med veckosammanfattning: {listed}.', file=sys.stderr)
        return 2
    if not with_digest:
        print('Inget formulär har "digest" i x-formkit: det finns ingen veckosammanfattning att skicka.')
        return 0
    from sqlalchemy.exc import SQLAlchemyError

    from ..errors import DeliveryUnavailable
    from ..outbox import describe, outbox_for
    from ..register import Register, RegisterUnavailable
    from .digest import log, send_week, week_of

    register = Register.from_settings(settings)
    outbox = outbox_for(settings.outbox, register)
    failed = 0
    try:
        if stale := register.stale():
            print(stale, file=sys.stderr)
            return 1
        for form_id, form in sorted(with_digest.items()):
            if args.formular and form_id != args.formular:
                continue
            try:
                sent = send_week(register, form, outbox=outbox, smtp=settings.smtp, mail=settings.mail)
            except (DeliveryUnavailable, RegisterUnavailable, SQLAlchemyError) as error:
                log.error("form=%s digest failed error=%s", form_id, describe(error))
                print(
                    f"Veckosammanfattningen för {form_id} kunde inte skickas just nu (se loggen ovan). Veckan är inte "
                    "markerad som skickad: kör formkit digest igen om en stund.",
                    file=sys.stderr,
                )
                failed += 1
                continue
            if sent is None:
                print(f"Veckosammanfattningen för {form_id} vecka {week_of(now())} "
                      "har redan skickats.")  # fmt: skip
            else:
                to = ", ".join(form.settings.digest.to)
                print(
                    f"Veckosammanfattningen för {form_id} vecka {sent.week} är skickad till {to}: "
                    f"{len(sent.new)} nya, {len(sent.answered)} besvarade, {len(sent.overdue)} försenade."
                )
    finally:
        register.close()
    return 1 if failed else 0
