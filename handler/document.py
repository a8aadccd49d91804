"""Render a validated submission as a Word document, walking the form definition.

The layout follows the paper form: a header with title and reference, numbered sections, answers
as label/value tables, repeated rows as a table with column headings, and the linked reply form's
section left blank with its labels. All styling lives in `_styles`.
"""

from __future__ import annotations

import datetime
import io
import re

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from .forms import Field, Form

EMPTY = "–"
REMINDER = "Barnets namn eller personnummer får inte anges i dokumentet."
LANGUAGE = "sv-SE"


def render_docx(form: Form, data: dict, reference: str, created: datetime.datetime, reply: Form | None = None) -> bytes:
    """Return the DOCX bytes of one submission, with the reply form's section as blank labelled space."""
    document = Document()
    _styles(document)
    _properties(document, form, reference, created)
    _header_footer(document, form.title, reference)
    document.add_heading(form.title, level=0)
    meta = document.add_paragraph()
    meta.add_run("Referens: ").bold = True
    meta.add_run(reference)
    meta.add_run("    Inskickad: ").bold = True
    meta.add_run(created.strftime("%Y-%m-%d %H:%M"))
    _section(document, form.root, data, level=1)
    if reply is not None:
        document.add_heading(reply.title, level=1)
        if reply.root.description:
            document.add_paragraph(reply.root.description, style="Intense Quote")
        _section(document, reply.root, None, level=1, blank=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def display(node: Field, value) -> str:
    """Return an answer as people read it: choices by their labels, yes/no for checkboxes."""
    if value is None or value == "" or value == []:
        return EMPTY
    labels = dict(node.choices)
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def _section(document, node: Field, data, level: int, blank: bool = False) -> None:
    """Walk a group's children: consecutive inputs share one label/value table, groups get a heading."""
    pending: list[Field] = []

    def flush():
        if pending:
            _answers_table(document, pending, data, blank)
            pending.clear()

    for child in node.children:
        value = None if blank or not isinstance(data, dict) else data.get(child.name)
        if child.kind in ("group", "list") or (level == 1 and child.kind == "textarea"):
            flush()
            document.add_heading(child.title, level=min(level, 3))
            if child.description and blank:
                document.add_paragraph(child.description)
            if child.kind == "group":
                _section(document, child, value, level + 1, blank)
            elif child.kind == "list":
                _rows_table(document, child, value, blank)
            else:
                _text(document, value, blank)
        else:
            pending.append(child)
    flush()


def _answers_table(document, nodes: list[Field], data, blank: bool) -> None:
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for node in nodes:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Cm(5.5), Cm(11)
        _cell_text(cells[0], node.title, bold=True)
        value = None if blank or not isinstance(data, dict) else data.get(node.name)
        _cell_text(cells[1], "" if blank else display(node, value), tall=blank and node.kind == "textarea")
    document.add_paragraph()


def _rows_table(document, node: Field, rows, blank: bool) -> None:
    columns = node.item.children if node.item else []
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, columns):
        _cell_text(cell, column.title, bold=True)
    _repeat_header(table.rows[0])
    for row in rows if isinstance(rows, list) and not blank else [{}]:
        cells = table.add_row().cells
        for cell, column in zip(cells, columns):
            _cell_text(cell, "" if blank else display(column, row.get(column.name)))
    document.add_paragraph()


def _text(document, value, blank: bool) -> None:
    if blank:
        for _ in range(4):
            document.add_paragraph()
        return
    for line in (str(value) if value else EMPTY).split("\n"):
        bullet = re.match(r"^\s*[-•*–]\s+(.*)", line)
        if bullet:
            document.add_paragraph(bullet.group(1), style="List Bullet")
        else:
            document.add_paragraph(line)


def _cell_text(cell, text: str, bold: bool = False, tall: bool = False) -> None:
    lines = text.split("\n") if text else [""]
    paragraph = cell.paragraphs[0]
    for index, line in enumerate(lines):
        if index:
            paragraph = cell.add_paragraph()
        run = paragraph.add_run(line)
        run.bold = bold
    if tall:
        for _ in range(3):
            cell.add_paragraph()


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _field(paragraph, code: str) -> None:
    """Append a Word field (PAGE, NUMPAGES) that the word processor fills in."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == code:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {code} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


def _header_footer(document, title: str, reference: str) -> None:
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = f"{title}\t\t{reference}"
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(f"{REMINDER}  Sida ")
    _field(footer, "PAGE")
    footer.add_run(" av ")
    _field(footer, "NUMPAGES")


def _properties(document, form: Form, reference: str, created: datetime.datetime) -> None:
    core = document.core_properties
    core.title = f"{form.title} {reference}"
    core.subject = form.title
    core.identifier = reference
    core.language = LANGUAGE
    core.created = created.astimezone(datetime.UTC).replace(tzinfo=None)
    core.author = "Formulärtjänsten"


def _styles(document) -> None:
    """Set fonts, colours, margins, language and hyphenation: the document's whole look, in one place."""
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    for name, size in (("Title", 20), ("Heading 1", 14), ("Heading 2", 12), ("Heading 3", 11)):
        style = styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0x00, 0x2B, 0x50)
    defaults = styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    language = run_defaults.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        run_defaults.append(language)
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        language.set(qn(attribute), LANGUAGE)
    settings = document.settings.element
    if settings.find(qn("w:autoHyphenation")) is None:
        hyphenation = OxmlElement("w:autoHyphenation")
        hyphenation.set(qn("w:val"), "true")
        settings.insert(0, hyphenation)
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2)
