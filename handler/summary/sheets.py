"""The summary's tables as CSV files (one per table) and as one XLSX workbook (one sheet per table).

CSV as Excel opens it in Sweden by a double click: UTF-8 with a byte order mark (else Excel reads
å, ä, ö as Windows-1252), semicolons between fields (the list separator of a Swedish Windows, since
the comma is the decimal sign), decimal commas, CRLF line ends, and an empty field for "no value".
The XLSX keeps the same cells with numbers as numbers (the shares in percent, like the CSV), the
headings in bold with the first row frozen, and a first sheet that says what the workbook covers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .shapes import Summary, Table

ABOUT = "Om sammanställningen"


def csv_bytes(table: Table) -> bytes:
    """Return one table as CSV for Swedish Excel: UTF-8 with BOM, semicolons, decimal commas, CRLF."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headings)
    for row in rows_of(table):
        writer.writerow([_csv_cell(value) for value in row])
    return text.getvalue().encode("utf-8-sig")


def rows_of(table: Table) -> list[tuple]:
    """Return the table's rows with the total last, as every writer writes them."""
    return [*table.rows, *([table.total] if table.total else [])]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def workbook(summary: Summary) -> bytes:
    """Return the summary as one XLSX: a sheet about the summary, then one sheet per table."""
    book = Workbook()
    about = book.active
    about.title = ABOUT
    for line in (
        ("Titel", summary.title),
        ("Formulär", summary.form.title),
        ("Period", summary.period),
        ("Antal rapporter", summary.reports),
        ("Sammanställd", summary.made.strftime("%Y-%m-%d %H:%M")),
    ):
        about.append(line)
    for row in about.iter_rows(max_col=1):
        row[0].font = Font(bold=True)
    _widths(about)
    taken = {ABOUT}
    for table in summary.tables:
        sheet = book.create_sheet(_unique(table.name, taken))
        sheet.append(list(table.headings))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows_of(table):
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0"
        if table.total:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        _widths(sheet)
    book.properties.title = summary.title
    book.properties.creator = "Formulärtjänsten"
    book.properties.language = "sv-SE"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _unique(name: str, taken: set[str]) -> str:
    """Return a sheet name not used yet (Excel compares them without case)."""
    candidate, number = name, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({number})"
        candidate, number = name[: 31 - len(suffix)] + suffix, number + 1
    taken.add(candidate)
    return candidate


def _widths(sheet) -> None:
    for index, column in enumerate(sheet.iter_cols(), 1):
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, longest + 2))


def slug(text: str) -> str:
    """Return a file name part in ASCII: "Vilket område gäller" → "vilket-omrade-galler"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "tabell"
