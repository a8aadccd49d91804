"""Render a validated submission as a Word document, walking the form definition.

The layout follows the paper form: a header with title and reference, numbered sections, answers as
label/value tables, repeated rows as a table with column headings, long answers as paragraphs (bullet
points kept), and the linked reply form's section left blank with its labels; a footer with page
numbers and the reminder that the child must not be identified.

Speed: python-docx's `Document()` parses ~800 kB of styles and its proxies look styles up by name
for every paragraph, which made a render cost ~45 ms. So the look is built once with python-docx
(`_template`: styles, language, hyphenation, page), and each render writes only the body, header,
footer and properties as WordprocessingML into a copy of that package: a few milliseconds.
"""

from __future__ import annotations

import copy
import datetime
import io
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from lxml import etree

from .forms import Field, Form
from .reply import LinkedReport, deadline

EMPTY = "–"
REMINDER = "Barnets namn eller personnummer får inte anges i dokumentet."
LANGUAGE = "sv-SE"
AUTHOR = "Formulärtjänsten"
BULLET = re.compile(r"^\s*[-•*–]\s+(.*)")

# Page: A4 with 2.2 cm side margins. Lengths in twentieths of a point (twips); 1 cm = 567 twips.
PAGE_WIDTH, PAGE_HEIGHT, SIDE, TOP = 11906, 16838, 1247, 1134
TEXT_WIDTH = PAGE_WIDTH - 2 * SIDE
LABEL_WIDTH = 3119  # 5.5 cm
COLOUR = "002B50"
SHADE = "E6ECF2"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NSMAP = {"w": W, "r": R}
STYLE_IDS = {"Title": "Title", 1: "Heading1", 2: "Heading2", 3: "Heading3"}
KEPT_STYLES = {
    "Normal",
    "DefaultParagraphFont",
    "TableNormal",
    "NoList",
    "Title",
    "TitleChar",
    "Heading1",
    "Heading1Char",
    "Heading2",
    "Heading2Char",
    "Heading3",
    "Heading3Char",
    "Header",
    "HeaderChar",
    "Footer",
    "FooterChar",
    "TableGrid",
    "ListBullet",
}


def render_docx(
    form: Form,
    data: dict,
    reference: str,
    created: datetime.datetime,
    reply: Form | None = None,
    linked: LinkedReport | None = None,
    report: Form | None = None,
) -> bytes:
    """Return the DOCX bytes of one submission.

    `reply`: the reply form, whose section is added blank with its labels. `linked` (and the
    `report` form): this submission answers that report, so the document names the report.
    """
    body = _Body()
    if linked:
        title = f"Svar på {report.title if report else form.title}"
        shown_reference = linked.reference
        body.paragraph(title, "Title")
        body.meta(
            [
                ("Referens", linked.reference),
                ("Rapporten inskickad", linked.date),
                ("Svaret inskickat", created.strftime("%Y-%m-%d %H:%M")),
                ("Svarets referens", reference),
            ]
        )
        body.heading(form.title, 1)
    else:
        title, shown_reference = form.title, reference
        body.paragraph(title, "Title")
        rows = [("Referens", reference), ("Inskickad", created.strftime("%Y-%m-%d %H:%M"))]
        if form.settings.get("reply_link"):
            rows.append(("Svara senast", deadline(form, created).isoformat()))
        body.meta(rows)
    _section(body, form.root, data, level=2 if linked else 1)  # an answer is one section: section 4
    if reply is not None:  # on its own page, as on the paper form, for a unit that answers in Word
        _sub(body.heading(reply.title, 1).find(qn("w:pPr")), "w:pageBreakBefore")
        if reply.root.description:
            body.paragraph(reply.root.description, italic=True)
        _section(body, reply.root, None, level=2, blank=True)
    return _template().package(body, title, shown_reference, form, created)


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


def _section(body: _Body, node: Field, data, level: int, blank: bool = False) -> None:
    """Walk a group's children: consecutive short inputs share one label/value table; groups, lists and
    long texts get a heading of their level."""
    pending: list[Field] = []

    def flush():
        if pending:
            rows = [(n, None if blank or not isinstance(data, dict) else data.get(n.name)) for n in pending]
            body.answers(rows, blank)
            pending.clear()

    for child in node.children:
        value = None if blank or not isinstance(data, dict) else data.get(child.name)
        if child.kind not in ("group", "list", "textarea"):
            pending.append(child)
            continue
        flush()
        body.heading(child.title, min(level, 3))
        if child.description and blank:
            body.paragraph(child.description, italic=True)
        if child.kind == "group":
            _section(body, child, value, level + 1, blank)
        elif child.kind == "list":
            body.rows(child, value, blank)
        elif blank:
            body.box()
        else:
            body.text(value)
    flush()


class _Body:
    """The document's body as WordprocessingML, built with lxml: no style lookups, no proxies."""

    def __init__(self):
        self.root = etree.Element(qn("w:document"), nsmap=NSMAP)
        self.element = etree.SubElement(self.root, qn("w:body"))

    def paragraph(self, text: str = "", style: str | None = None, italic: bool = False, parent=None):
        p = _sub(self.element if parent is None else parent, "w:p")
        if style:
            _sub(_sub(p, "w:pPr"), "w:pStyle", val=style)
        if text:
            _run(p, text, italic=italic)
        return p

    def heading(self, text: str, level: int):
        return self.paragraph(text, STYLE_IDS[level])

    def meta(self, rows: list[tuple[str, str]]) -> None:
        """The reference and dates under the title: a borderless two-column table."""
        table = self._table([LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH], borders=False)
        for label, value in rows:
            row = _sub(table, "w:tr")
            _run(self._cell(row, LABEL_WIDTH), label, bold=True)
            _run(self._cell(row, TEXT_WIDTH - LABEL_WIDTH), value)
        _keep_together(table)
        self.paragraph()

    def answers(self, rows: list[tuple[Field, object]], blank: bool) -> None:
        """Short answers as a label/value table: the label shaded and bold, as on the paper form."""
        table = self._table([LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH])
        for node, value in rows:
            row = _sub(table, "w:tr")
            if blank:  # room to write in the value cell
                _sub(_sub(row, "w:trPr"), "w:trHeight", val="454", hRule="atLeast")
            _lines(self._cell(row, LABEL_WIDTH, shade=True), node.title, bold=True)
            _lines(self._cell(row, TEXT_WIDTH - LABEL_WIDTH), "" if blank else display(node, value))
        _keep_together(table)
        self.paragraph()

    def rows(self, node: Field, values, blank: bool) -> None:
        """Repeated rows as a table: one column per field, headings repeated on every page."""
        columns = node.item.children if node.item else []
        width = TEXT_WIDTH // max(len(columns), 1)
        table = self._table([width] * len(columns))
        header = _sub(table, "w:tr")
        _sub(_sub(header, "w:trPr"), "w:tblHeader")
        for column in columns:
            _lines(self._cell(header, width, shade=True), column.title, bold=True)
        for item in values if isinstance(values, list) and not blank else [{}]:
            row = _sub(table, "w:tr")
            for column in columns:
                value = "" if blank else display(column, item.get(column.name) if isinstance(item, dict) else None)
                _lines(self._cell(row, width), value)
        self.paragraph()

    def text(self, value) -> None:
        """A long answer: one paragraph per line, lines typed as bullet points become a bulleted list."""
        for line in (str(value) if value else EMPTY).split("\n"):
            bullet = BULLET.match(line)
            if bullet:
                self.paragraph(bullet.group(1), "ListBullet")
            else:
                self.paragraph(line)

    def box(self) -> None:
        """A framed empty space to write a long answer in, for a unit that answers in Word."""
        table = self._table([TEXT_WIDTH])
        row = _sub(table, "w:tr")
        _sub(_sub(row, "w:trPr"), "w:trHeight", val="2268", hRule="atLeast")  # 4 cm, grows with the text
        self._cell(row, TEXT_WIDTH)
        self.paragraph()

    def _table(self, widths: list[int], borders: bool = True):
        table = _sub(self.element, "w:tbl")
        properties = _sub(table, "w:tblPr")
        _sub(properties, "w:tblStyle", val="TableGrid")
        _sub(properties, "w:tblW", w=str(sum(widths)), type="dxa")
        if not borders:
            edges = _sub(properties, "w:tblBorders")
            for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
                _sub(edges, f"w:{edge}", val="nil")
        _sub(properties, "w:tblLayout", type="fixed")
        margins = _sub(properties, "w:tblCellMar")
        for edge in ("top", "bottom"):
            _sub(margins, f"w:{edge}", w="45", type="dxa")
        _sub(properties, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="1", lastColumn="0",
             noHBand="0", noVBand="1")  # fmt: skip
        grid = _sub(table, "w:tblGrid")
        for width in widths:
            _sub(grid, "w:gridCol", w=str(width))
        return table

    def _cell(self, row, width: int, shade: bool = False):
        cell = _sub(row, "w:tc")
        properties = _sub(cell, "w:tcPr")
        _sub(properties, "w:tcW", w=str(width), type="dxa")
        if shade:
            _sub(properties, "w:shd", val="clear", color="auto", fill=SHADE)
        return _sub(cell, "w:p")


def _keep_together(table) -> None:
    """Keep a short table on one page: each row's paragraphs keep with the next (Word's way to do it)."""
    rows = table.findall(qn("w:tr"))
    if len(rows) > 12:
        return
    for row in rows[:-1]:
        for paragraph in row.iter(qn("w:p")):
            properties = paragraph.find(qn("w:pPr"))
            if properties is None:
                properties = etree.Element(qn("w:pPr"))
                paragraph.insert(0, properties)
            _sub(properties, "w:keepNext")


def _sub(parent, tag: str, **attributes):
    """Append a w: element with w: attributes (`val=...` becomes `w:val`)."""
    element = etree.SubElement(parent, qn(tag))
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _run(paragraph, text: str, bold: bool = False, italic: bool = False) -> None:
    run = _sub(paragraph, "w:r")
    if bold or italic:
        properties = _sub(run, "w:rPr")
        if bold:
            _sub(properties, "w:b")
        if italic:
            _sub(properties, "w:i")
    if text == "\t":
        _sub(run, "w:tab")
        return
    element = _sub(run, "w:t")
    element.text = text
    if text != text.strip():
        element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _lines(paragraph, text: str, bold: bool = False) -> None:
    """Fill a cell's paragraph with text; further lines become further paragraphs of the cell."""
    for index, line in enumerate(text.split("\n") if text else []):
        if index:
            paragraph = _sub(paragraph.getparent(), "w:p")
        if line:
            _run(paragraph, line, bold=bold)


def _field(paragraph, code: str) -> None:
    """Append a Word field (PAGE, NUMPAGES) that the word processor fills in."""
    _sub(_sub(paragraph, "w:r"), "w:fldChar", fldCharType="begin")
    instruction = _sub(_sub(paragraph, "w:r"), "w:instrText")
    instruction.text = f" {code} "
    instruction.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    _sub(_sub(paragraph, "w:r"), "w:fldChar", fldCharType="separate")
    _sub(_sub(paragraph, "w:r"), "w:t").text = "1"  # shown until the word processor updates the field
    _sub(_sub(paragraph, "w:r"), "w:fldChar", fldCharType="end")


@dataclass
class _Template:
    """The package parts that are the same in every document, and the section properties."""

    parts: dict[str, bytes]
    section: etree._Element

    def package(self, body: _Body, title: str, reference: str, form: Form, created: datetime.datetime) -> bytes:
        """Return the finished DOCX: the cached parts plus this document's body, header, footer and properties."""
        body.element.append(copy.deepcopy(self.section))
        made = {
            "word/document.xml": _xml(body.root),
            "word/header1.xml": _xml(_header(title, reference)),
            "word/footer1.xml": _xml(_footer()),
            "docProps/core.xml": _core(title, form, reference, created),
        }
        order = ("[Content_Types].xml", "_rels/.rels", *PARTS, "word/_rels/document.xml.rels")
        parts = {name: made.get(name) or self.parts[name] for name in order}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in parts.items():
                archive.writestr(name, content)
        return buffer.getvalue()


def _xml(element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


def _header(title: str, reference: str):
    header = etree.Element(qn("w:hdr"), nsmap=NSMAP)
    p = _sub(header, "w:p")
    properties = _sub(p, "w:pPr")
    _sub(properties, "w:pStyle", val="Header")
    tabs = _sub(properties, "w:tabs")
    _sub(tabs, "w:tab", val="clear", pos="4680")
    _sub(tabs, "w:tab", val="clear", pos="9360")
    _sub(tabs, "w:tab", val="right", pos=str(TEXT_WIDTH))
    _run(p, title, bold=True)
    _run(p, "\t")
    _run(p, reference)
    return header


def _footer():
    footer = etree.Element(qn("w:ftr"), nsmap=NSMAP)
    for index in range(2):
        p = _sub(footer, "w:p")
        properties = _sub(p, "w:pPr")
        _sub(properties, "w:pStyle", val="Footer")
        _sub(properties, "w:jc", val="center")
        if index == 0:
            _run(p, REMINDER, italic=True)
        else:
            _run(p, "Sida ")
            _field(p, "PAGE")
            _run(p, " av ")
            _field(p, "NUMPAGES")
    return footer


CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _core(title: str, form: Form, reference: str, created: datetime.datetime) -> bytes:
    """Return docProps/core.xml: title, subject, author, identifier, language, created."""
    root = etree.Element(f"{{{CP}}}coreProperties", nsmap={"cp": CP, "dc": DC, "dcterms": DCTERMS, "xsi": XSI})
    stamp = created.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for namespace, name, text in (
        (DC, "title", f"{title} {reference}"),
        (DC, "subject", form.title),
        (DC, "creator", AUTHOR),
        (DC, "identifier", reference),
        (DC, "language", LANGUAGE),
        (CP, "lastModifiedBy", AUTHOR),
        (CP, "revision", "1"),
        (DCTERMS, "created", stamp),
        (DCTERMS, "modified", stamp),
    ):
        element = etree.SubElement(root, f"{{{namespace}}}{name}")
        element.text = text
        if namespace == DCTERMS:
            element.set(f"{{{XSI}}}type", "dcterms:W3CDTF")
    return _xml(root)


OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
# Every part of the package: its content type, its relationship type, and who refers to it
# ("" the package, "word" the main document). The order is the order in the ZIP file.
PARTS = {
    "docProps/core.xml": (
        "application/vnd.openxmlformats-package.core-properties+xml",
        "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
        "",
    ),
    "docProps/app.xml": (
        "application/vnd.openxmlformats-officedocument.extended-properties+xml",
        OFFICE + "extended-properties",
        "",
    ),
    "word/document.xml": (WML + "document.main+xml", OFFICE + "officeDocument", ""),
    "word/styles.xml": (WML + "styles+xml", OFFICE + "styles", "word"),
    "word/settings.xml": (WML + "settings+xml", OFFICE + "settings", "word"),
    "word/webSettings.xml": (WML + "webSettings+xml", OFFICE + "webSettings", "word"),
    "word/fontTable.xml": (WML + "fontTable+xml", OFFICE + "fontTable", "word"),
    "word/theme/theme1.xml": ("application/vnd.openxmlformats-officedocument.theme+xml", OFFICE + "theme", "word"),
    "word/numbering.xml": (WML + "numbering+xml", OFFICE + "numbering", "word"),
    "word/header1.xml": (WML + "header+xml", OFFICE + "header", "word"),
    "word/footer1.xml": (WML + "footer+xml", OFFICE + "footer", "word"),
}


def _relationship_id(name: str) -> str:
    owner = PARTS[name][2]
    return f"rId{[n for n, part in PARTS.items() if part[2] == owner].index(name) + 1}"


def _package_files() -> dict[str, bytes]:
    """Return [Content_Types].xml and the two relationship files, derived from PARTS."""
    types = etree.Element(
        "{http://schemas.openxmlformats.org/package/2006/content-types}Types",
        nsmap={None: "http://schemas.openxmlformats.org/package/2006/content-types"},
    )
    for extension, content_type in (
        ("xml", "application/xml"),
        ("rels", "application/vnd.openxmlformats-package.relationships+xml"),
    ):
        etree.SubElement(types, types.tag.replace("Types", "Default"), Extension=extension, ContentType=content_type)
    for name, (content_type, _, _) in PARTS.items():
        etree.SubElement(types, types.tag.replace("Types", "Override"), PartName=f"/{name}", ContentType=content_type)
    files = {"[Content_Types].xml": _xml(types)}
    rels_ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    for owner, path, prefix in (("", "_rels/.rels", ""), ("word", "word/_rels/document.xml.rels", "word/")):
        rels = etree.Element(f"{{{rels_ns}}}Relationships", nsmap={None: rels_ns})
        for name, (_, relationship, part_owner) in PARTS.items():
            if part_owner == owner:
                etree.SubElement(
                    rels,
                    f"{{{rels_ns}}}Relationship",
                    Id=_relationship_id(name),
                    Type=relationship,
                    Target=name.removeprefix(prefix),
                )
        files[path] = _xml(rels)
    return files


@lru_cache(maxsize=1)
def _template() -> _Template:
    """Build the document's look once with python-docx: styles, language, hyphenation, bullets, page."""
    document = Document()
    _styles(document)
    parts = {str(part.partname).lstrip("/"): part.blob for part in document.part.package.iter_parts()}
    section = etree.Element(qn("w:sectPr"), nsmap=NSMAP)
    _sub(section, "w:headerReference", type="default").set(qn("r:id"), _relationship_id("word/header1.xml"))
    _sub(section, "w:footerReference", type="default").set(qn("r:id"), _relationship_id("word/footer1.xml"))
    _sub(section, "w:pgSz", w=str(PAGE_WIDTH), h=str(PAGE_HEIGHT))
    _sub(section, "w:pgMar", top=str(TOP), right=str(SIDE), bottom=str(TOP), left=str(SIDE), header="567",
         footer="567", gutter="0")  # fmt: skip
    _sub(section, "w:cols", space="720")
    _sub(section, "w:docGrid", linePitch="360")
    kept = {name: parts[name] for name in PARTS if name in parts} | _package_files()
    return _Template(kept, section)


def _styles(document) -> None:
    """Set fonts, colours, spacing, language, hyphenation and bullets: the document's whole look, in one place."""
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    for name, size, before in (("Title", 20, 0), ("Heading 1", 14, 18), ("Heading 2", 12, 12), ("Heading 3", 11, 10)):
        style = styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor.from_string(COLOUR)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(6 if name != "Title" else 12)
    styles["Header"].font.size = styles["Footer"].font.size = Pt(9)
    root = styles.element
    for style in root.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in KEPT_STYLES:
            root.remove(style)
    latent = root.find(qn("w:latentStyles"))
    if latent is not None:
        root.remove(latent)
    run_defaults = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    language = run_defaults.find(qn("w:lang"))
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        language.set(qn(attribute), LANGUAGE)
    paragraph_defaults = root.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    paragraph_defaults.find(qn("w:spacing")).set(qn("w:after"), "120")
    settings = document.settings.element
    # Schema order matters to Word: autoHyphenation follows defaultTabStop.
    hyphenation = etree.Element(qn("w:autoHyphenation"))
    hyphenation.set(qn("w:val"), "true")
    settings.find(qn("w:defaultTabStop")).addnext(hyphenation)
    for name in ("w:savePreviewPicture", "w:rsids"):
        element = settings.find(qn(name))
        if element is not None:
            settings.remove(element)
    settings.find(qn("w:themeFontLang")).set(qn("w:val"), LANGUAGE)
    # List Bullet's bullets: a small hanging indent instead of the template's inch.
    numbering = document.part.numbering_part.element
    for level in numbering.iter(qn("w:lvl")):
        if level.find(qn("w:numFmt")).get(qn("w:val")) == "bullet" and level.get(qn("w:ilvl")) == "0":
            level.find(qn("w:pPr")).find(qn("w:ind")).set(qn("w:left"), "357")
            level.find(qn("w:pPr")).find(qn("w:ind")).set(qn("w:hanging"), "357")
            level.find(qn("w:pPr")).find(qn("w:tabs")).find(qn("w:tab")).set(qn("w:pos"), "357")
