"""Print the time to build the secretariat's summary of 10,000 reports from a register on SQLite.

Run: .venv/bin/python bench/summary.py [--reports N] [--runs R]
The register is a SQLite file filled through the register's own API (new_report, record, mark_answered)
with N BUS reports spread over 2026: a random area, reporting unit and 1-3 receiving units each, about
two thirds of the units answered after 3-90 days. Each run is what `formkit sammanstallning` does
after reading its arguments: read the year's reports (reports_between), count the tables, draw the
charts and write the DOCX, the XLSX and the CSV files. The first run (which also loads matplotlib and
openpyxl) is printed on its own; the figure is the median of the R runs after it, with its phases.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

KEY = "bench-key-of-forty-characters-or-more!!!"
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)


def fill(register, form, reports: int, made: datetime.datetime) -> None:
    """Record `reports` varied BUS reports over 2026, and answers for about two thirds of their units."""
    from handler.body import read_body
    from handler.normalise import clean
    from handler.reference import TIMEZONE
    from handler.register import new_report
    from handler.validation import validate
    from support import valid_answers

    template = validate(form, clean(read_body(form, "application/x-www-form-urlencoded",
                                              urlencode(valid_answers()).encode()).answers))  # fmt: skip
    areas = [value for value, _ in form.field_at("/omrade").choices]
    kinds = [value for value, _ in form.field_at("/verksamheter/*/verksamhetstyp").choices]
    owners = [value for value, _ in form.field_at("/verksamheter/*/huvudman").choices]
    chance = random.Random(2026)
    year = datetime.datetime(2026, 1, 1, tzinfo=TIMEZONE)
    for start in range(0, reports, 500):
        with register.transaction() as tx:
            for number in range(start, min(reports, start + 500)):
                data = copy.deepcopy(template)
                data["omrade"] = chance.choice(areas)
                data["beskrivning"]["rapporterande"] |= {"verksamhetstyp": chance.choice(kinds),
                                                         "huvudman": chance.choice(owners)}  # fmt: skip
                rows = chance.randint(1, 3)
                data["verksamheter"] = [
                    {
                        "enhet": f"Enhet {number}-{row}",
                        "verksamhetstyp": chance.choice(kinds),
                        "huvudman": chance.choice(owners),
                        "chef_epost": f"chef{row}@solna.se",
                    }  # fmt: skip
                    for row in range(rows)
                ]
                arrived = year + datetime.timedelta(seconds=chance.randrange(365 * 86400))
                reference = f"BUS-{arrived:%Y%m%d}-{number:06d}"
                tx.record(new_report(form, data, reference, arrived))
                for row in range(rows):
                    answered = arrived + datetime.timedelta(days=chance.randint(3, 90))
                    if chance.random() < 0.67 and answered < made:
                        tx.mark_answered(reference, row, answered)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from handler.check import check_project
    from handler.reference import TIMEZONE
    from handler.register import Register

    form = check_project(ROOT / "schema").ok()["bus-avvikelse"]
    made = datetime.datetime(2027, 1, 15, 10, 0, tzinfo=TIMEZONE)
    with tempfile.TemporaryDirectory() as folder:
        register = Register(f"sqlite:///{Path(folder) / 'register.db'}", secret_key=KEY)
        register.upgrade()
        began = time.perf_counter()
        fill(register, form, args.reports, made)
        print(f"{args.reports} reports recorded in {time.perf_counter() - began:.1f} s (SQLite, {folder})")
        phases = []
        for run in range(args.runs + 1):
            phases.append(once(register, form, made, Path(folder) / f"ut{run}"))
            if run == 0:
                print(f"first run (loads matplotlib and openpyxl): {sum(phases[0]):.2f} s")
        register.close()
    measured = phases[1:]
    medians = [statistics.median(phase[index] for phase in measured) for index in range(4)]
    total = statistics.median(sum(phase) for phase in measured)
    print(f"summary of {args.reports} reports, median of {args.runs} runs: {total:.2f} s")
    for name, value in zip(("read the register", "count the tables", "charts and DOCX", "XLSX and CSV"), medians):
        print(f"  {name:18} {value:.2f} s")
    return 0


def once(register, form, made, folder: Path) -> tuple[float, float, float, float]:
    """Return the seconds of one summary: reading, counting, the DOCX with its charts, the XLSX and CSV."""
    from handler.summary import sheets, summarise, word

    folder.mkdir()
    marks = [time.perf_counter()]
    records = register.reports_between(START, END, form.id)
    marks.append(time.perf_counter())
    made_summary = summarise(form, records, START, END, made)
    marks.append(time.perf_counter())
    (folder / "summary.docx").write_bytes(word.render(made_summary))
    marks.append(time.perf_counter())
    (folder / "summary.xlsx").write_bytes(sheets.workbook(made_summary))
    for number, table in enumerate(made_summary.tables, 1):
        (folder / f"{number:02d}.csv").write_bytes(sheets.csv_bytes(table))
    marks.append(time.perf_counter())
    assert made_summary.reports == len(records) > 0
    return tuple(b - a for a, b in zip(marks, marks[1:]))


if __name__ == "__main__":
    sys.exit(main())
