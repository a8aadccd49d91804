"""The secretariat's follow-up: the yearly summary of a form's reports, and the weekly digest.

The summary (`formkit sammanstallning`) counts what the register keeps once the answers are gone: the
statistics choices and the units' states. It is one DOCX in the documents' house style, with a bar
chart under each table, the same tables as CSV files and as one XLSX workbook. Layers, imports going
down only: this module (read and write) → `word` (DOCX) · `sheets` (CSV, XLSX) → `charts`
(matplotlib) → `shapes` (Summary, Table, Chart, the choices' labels, Swedish numbers); `tables` (the
counting, from the form definition and the register's records) → `shapes`.

    summary = summarise(form, register.reports_between(start, end, form.id), start, end, made)
    paths = write(summary, folder)        # .docx, .xlsx and one .csv per table; returns the paths

The weekly digest (`digest.py`) tells the secretariat's addresses which reports are new, answered
and overdue, by reference only; the worker sends it once a week, or `formkit digest` does.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from ..forms import Form
from ..reference import now
from .shapes import Summary, Table
from .tables import summarise

__all__ = ["Summary", "Table", "build", "file_stem", "summarise", "write"]


def build(register, form: Form, start: datetime.date, end: datetime.date, made: datetime.datetime | None = None):
    """Return the summary of the form's reports that arrived from `start` to `end`, both days included."""
    return summarise(form, register.reports_between(start, end, form.id), start, end, made or now())


def file_stem(summary: Summary) -> str:
    """Return the files' common name: redovisning-bus-avvikelse-2026-01-01-2026-12-31."""
    return f"redovisning-{summary.form.id}-{summary.start.isoformat()}-{summary.end.isoformat()}"


def write(summary: Summary, folder: str | Path) -> list[Path]:
    """Write the DOCX, the XLSX and one CSV per table into `folder` (made if missing); return their paths."""
    from . import sheets, word  # matplotlib and openpyxl load only when a summary is written

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(summary)
    written = [folder / f"{stem}.docx", folder / f"{stem}.xlsx"]
    written[0].write_bytes(word.render(summary))
    written[1].write_bytes(sheets.workbook(summary))
    for number, table in enumerate(summary.tables, 1):
        path = folder / f"{stem}-{number:02d}-{sheets.slug(table.name)}.csv"
        path.write_bytes(sheets.csv_bytes(table))
        written.append(path)
    return written
