"""The `formkit` command: build the site, serve it with the handler, check forms, run the outbox and the register."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from .errors import FormDefinitionError
from .settings import SettingsError
from .settings import load as load_settings
from .workers import (
    checked_forms,
    deliverer,
    reminder_round,
    start_digest_worker,
    start_outbox_worker,
    start_register_worker,
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(prog="formkit", description="Formulärkit: webbplats, formulär och mottagning.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="bygg webbplatsen och kör den med mottagningen")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-build", action="store_true", help="använd den befintliga public/")
    serve.add_argument(
        "--watch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="bygg om och ladda om webbläsaren när docs/, schema/ eller site/ ändras (förval; --no-watch stänger av)",
    )
    serve.add_argument("--config", default="mkdocs.yml")
    build = commands.add_parser("build", help="bygg webbplatsen till public/")
    build.add_argument("--config", default="mkdocs.yml")
    check = commands.add_parser("check", help="kontrollera alla formulär i schema/ och sidorna som visar dem")
    check.add_argument("--schema-dir", help="mappen med formulär (förval: FORMKIT_SCHEMA_DIR eller schema)")
    check.add_argument("--docs-dir", help="mappen med sidor (förval: FORMKIT_DOCS_DIR eller docs bredvid schema)")
    check.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text: en rad per problem (förval); json: en lista med file, line, column, field, message och "
        "severity, för redigerare och CI",
    )
    summary = commands.add_parser(
        "sammanstallning", help="skriv sekretariatets sammanställning av en period: Word, Excel och CSV"
    )
    summary.add_argument("--fran", help="periodens första dag, ÅÅÅÅ-MM-DD (svensk tid)")
    summary.add_argument("--till", help="periodens sista dag, ÅÅÅÅ-MM-DD (den räknas med)")
    summary.add_argument("--formular", help="formulärets id (förval: det enda formuläret med statistik)")
    summary.add_argument("--ut", help="mappen som filerna skrivs till (skapas om den saknas)")
    digest = commands.add_parser("digest", help="skicka veckans sammanfattning till sekretariatet nu, om den inte gått")
    digest.add_argument("--formular", help="bara det här formuläret (förval: alla med digest i x-formkit)")
    outbox = commands.add_parser("outbox", help="utkorgen: run, status, retry")
    outbox.add_argument("action", choices=["run", "status", "retry"])
    outbox.add_argument("--once", action="store_true", help="run: leverera det som väntar en gång och avsluta")
    database = commands.add_parser("db", help="registrets databas: upgrade skapar eller uppdaterar tabellerna")
    database.add_argument("action", choices=["upgrade"])
    register = commands.add_parser("register", help="registret: purge raderar svar som inte längre behövs")
    register.add_argument("action", choices=["purge"])
    commands.add_parser(
        "remind",
        help="skicka påminnelser till verksamheter som inte har svarat och meddelanden om passerad svarsdag (för cron)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        commands = {"serve": cmd_serve, "build": cmd_build, "check": cmd_check, "outbox": cmd_outbox}
        commands |= {"sammanstallning": cmd_summary, "digest": cmd_digest}
        return {**commands, "db": cmd_db, "register": cmd_register, "remind": cmd_remind}[args.command](args)
    except FormDefinitionError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 1
    except SettingsError as error:  # one line per bad FORMKIT_* value, no traceback
        print("\n".join(error.problems), file=sys.stderr)
        return 2


def build_site(config_file: str = "mkdocs.yml", site_dir: str | None = None) -> float:
    """Check the forms once and build the site (into `site_dir` if given); return the seconds it took.

    A broken form raises FormDefinitionError. The build itself is handler/build.py's.
    """
    from .build import build

    return build(config_file, site_dir).seconds


def cmd_build(args) -> int:
    """Build the site into public/ and say how long it took."""
    seconds = build_site(args.config)
    print(f"Webbplatsen byggd till public/ på {seconds:.2f} s.")
    return 0


def cmd_check(args) -> int:
    """Print every problem and warning, one line each or as JSON; exit code 0 only when there is no problem."""
    from .check import check_project

    schema_dir = args.schema_dir or os.environ.get("FORMKIT_SCHEMA_DIR") or "schema"
    docs_dir = args.docs_dir or os.environ.get("FORMKIT_DOCS_DIR") or None
    checked = check_project(schema_dir, docs_dir)
    if args.format == "json":
        import json

        found = [problem.as_json() for problem in [*checked.problems, *checked.warnings]]
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 1 if checked.problems else 0
    for problem in checked.problems:
        print(problem, file=sys.stderr)
    for warning in checked.warnings:
        print(f"varning: {warning}", file=sys.stderr)
    warnings = _count(len(checked.warnings), "varning", "varningar")
    if checked.problems:
        print(
            f"{len(checked.problems)} problem i {schema_dir}/"
            + (f" och {warnings}" if checked.warnings else "")
            + ". Rätta raderna ovan och kör formkit check igen.",
            file=sys.stderr,
        )
        return 1
    note = f" ({warnings})" if checked.warnings else ""
    print(f"{len(checked.forms)} formulär i {schema_dir}/ är i ordning{note}.")
    return 0


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def cmd_summary(args) -> int:
    """Write the secretariat's summary of a period: a DOCX, an XLSX and one CSV per table (summary/command.py)."""
    from .summary.command import summary

    return summary(args)


def cmd_digest(args) -> int:
    """Send this week's digest of each form that has one, unless it has gone already (summary/command.py)."""
    from .summary.command import digest

    return digest(args)


def cmd_serve(args) -> int:
    """Build the site, then serve it with the handler; with --watch (the default) rebuild on changes."""
    # Development: without FORMKIT_SECRET_KEY a random key is kept in var/. Checked before the slow imports.
    settings = load_settings(development=True)
    if not settings.public_dir:
        settings = replace(settings, public_dir=str(Path("public").resolve()))
    from werkzeug.serving import run_simple

    from .app import create_app

    if not upgrade_register(settings):
        return 1
    if not args.no_build:
        build_site(args.config)
    app = create_app(settings=settings)
    start_outbox_worker(app)
    extensions = app.extensions  # the forms looked up at each round: --watch replaces them
    start_digest_worker(
        settings, lambda: extensions["formkit.forms"], extensions["formkit.register"], extensions["formkit.outbox"]
    )
    start_register_worker(app.extensions["formkit.register"], remind=reminder_round(app))
    served = app
    if args.watch:
        from .watch import LiveReload, Watcher

        watcher = Watcher(app, args.config)
        watcher.start()
        served = LiveReload(app, watcher.builds)
        print(f"Bevakar {', '.join(str(f) for f in watcher.folders)}: ändringar byggs om och laddas om direkt.")
    print(f"Formulärkit kör på http://{args.host}:{args.port}/ (avsluta med Ctrl+C)")
    run_simple(args.host, args.port, served, threaded=True, use_reloader=False)
    return 0


def cmd_outbox(args) -> int:
    """Deliver, list or retry the outbox (folder or database). Only `run`, whose worker also sends the reminders,
    reads the forms; `run --once` delivers what is due and ends (a scheduled function's job)."""
    # Delivery signs no links, so it needs no key (development=True); a key that is set is still checked. The
    # reminders of `run` sign their links with it: production sets FORMKIT_SECRET_KEY for every process.
    settings = load_settings(development=True)
    from .outbox import outbox_for
    from .register import Register

    register = Register.from_settings(settings)
    outbox = outbox_for(settings.outbox, register)
    if outbox is None:
        print(
            "Ingen utkorg: FORMKIT_OUTBOX_DIR är tom och registret är inte PostgreSQL (serverlöst läge).",
            file=sys.stderr,
        )
        return 1
    if getattr(outbox, "engine", None) is not None and (stale := register.stale()):
        print(stale, file=sys.stderr)  # the database outbox's table comes with `formkit db upgrade`
        return 1
    transport = deliverer(settings)
    if args.action == "status":
        print_status(outbox.entries())
        return 0
    if args.action == "retry":
        print(f"{outbox.retry_now()} meddelanden försöks igen nu.")
        with transport:
            print(f"{outbox.run_once(transport.send)} levererade.")
        print_status(outbox.entries())
        return 0
    if args.once:
        with transport:
            print(f"{outbox.run_once(transport.send)} levererade.")
        return 0
    print(f"Utkorgen {outbox} levereras (avsluta med Ctrl+C).", flush=True)
    from .outbox.courier import lower_priority
    from .reminders import send_due

    lower_priority()  # this process and its threads give way to the handler's requests on a shared machine

    # The forms are read at each round: a broken form stops the reminders (said in the log), never the delivery.
    start_register_worker(register, remind=lambda: send_due(checked_forms(settings), settings, register, outbox))
    start_digest_worker(settings, lambda: checked_forms(settings), register, outbox)
    outbox.listen()  # the handler's processes tell it what they queue, and it sends at once, in this process
    try:
        outbox.run_forever(transport.send, settings.outbox.interval, after_round=transport.close)
    except KeyboardInterrupt:
        pass
    return 0


def upgrade_register(settings) -> bool:
    """Create or migrate the register's database and say what was done; False (said why) when it cannot be."""
    from .register.migrate import engine_for, shown, upgrade

    url = settings.register.database_url
    engine = engine_for(url)
    try:
        before, after = upgrade(engine)
    except Exception as error:  # any driver's "cannot connect" or "not allowed": one line, never a traceback
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        print(
            f"Registrets databas {shown(url)} kunde inte öppnas: {reason}. Kontrollera FORMKIT_DATABASE_URL.",
            file=sys.stderr,
        )
        return False
    finally:
        engine.dispose()
    if before != after:
        print(f"Registret i {shown(url)} har uppdaterats till version {after} (var {before or 'tomt'}).")
    return True


def cmd_db(args) -> int:
    """Create the register's tables, or bring them to this version's schema (Alembic migrations)."""
    settings = load_settings(development=True)  # needs the database only, no key
    if not upgrade_register(settings):
        return 1
    from .register.migrate import head, shown

    print(f"Registret i {shown(settings.register.database_url)} är aktuellt (version {head()}).")
    return 0


def cmd_register(args) -> int:
    """Erase the answers the register no longer needs (`purge`); statistics and states remain."""
    from .register import Register

    register = Register.from_settings(load_settings(development=True))
    if stale := register.stale():
        print(stale, file=sys.stderr)
        return 1
    erased = register.purge()
    days = register.retention_days
    print(
        f"{erased} {'rapport' if erased == 1 else 'rapporter'} rensade: svaren är raderade när alla verksamheter "
        f"har svarat eller {days} dagar efter svarsdagen. Statistiken och svarslägena finns kvar."
    )
    return 0


def cmd_remind(args) -> int:
    """Send the reminders and overdue notices that are due and nobody has sent (one round, for cron)."""
    from .outbox import outbox_for
    from .register import Register
    from .reminders import send_due

    settings = load_settings(development=True)  # links need FORMKIT_SECRET_KEY as the handler has it
    forms = checked_forms(settings)
    register = Register.from_settings(settings)
    if stale := register.stale():
        print(stale, file=sys.stderr)
        return 1
    sent = send_due(forms, settings, register, outbox_for(settings.outbox, register))
    print(
        f"{sent.reminded} {'påminnelse' if sent.reminded == 1 else 'påminnelser'} och "
        f"{sent.notified} {'meddelande' if sent.notified == 1 else 'meddelanden'} om passerad svarsdag skickade."
    )
    if sent.failed:
        print(f"{sent.failed} kunde inte skickas nu och försöks igen nästa gång.", file=sys.stderr)
    register.close()
    return 1 if sent.failed else 0


FOLDER_NAMES = {"new": "väntar", "cur": "skickas", "failed": "misslyckad"}


def print_status(entries) -> None:
    """Print what waits in the outbox: state, age, attempts, next attempt and last error, oldest first."""
    if not entries:
        print("Utkorgen är tom.")
        return
    print(f"{len(entries)} meddelanden i utkorgen:")
    print(f"{'LÄGE':10} {'ÅLDER':>8} {'FÖRSÖK':>6} {'NÄSTA':>8}  MEDDELANDE  SENASTE FEL")
    now = time.time()
    for entry in entries:
        upcoming = "-" if entry.folder != "new" else _duration(max(0.0, entry.next_attempt - now))
        print(
            f"{FOLDER_NAMES[entry.folder]:10} {_duration(entry.age):>8} {entry.attempts:>6} {upcoming:>8}"
            f"  {entry.name}  {entry.last_error or '-'}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


if __name__ == "__main__":
    sys.exit(main())
