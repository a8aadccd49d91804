"""WordprocessingML builders: paragraphs, runs, tables, header, footer, section properties.

Built with lxml directly, with no python-docx proxies or style lookups: that is what keeps a render
at a few milliseconds. The pieces every table repeats (a table's properties, a cell, a run with its
properties) are built once and copied: lxml copies a subtree in C in a fifth of the time that making its
elements and their attributes one by one from Python takes. This layer knows nothing about forms; it
receives labels and texts.
"""

from __future__ import annotations

import copy
import re
from functools import cache

from docx.oxml.ns import qn
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NSMAP = {"w": W, "r": R}
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

# Page: A4 with 2.2 cm side margins. Lengths in twentieths of a point (twips); 1 cm = 567 twips.
PAGE_WIDTH, PAGE_HEIGHT, SIDE, TOP = 11906, 16838, 1247, 1134
TEXT_WIDTH = PAGE_WIDTH - 2 * SIDE
LABEL_WIDTH = 3119  # 5.5 cm
SHADE = "E6ECF2"
STYLE_IDS = {"Title": "Title", 1: "Heading1", 2: "Heading2", 3: "Heading3"}
BULLET = re.compile(r"^\s*[-•*–]\s+(.*)")


class Body:
    """The document's body (`root` is w:document): blocks are appended in reading order."""

    def __init__(self):
        self.root = etree.Element(qn("w:document"), nsmap=NSMAP)
        self.element = etree.SubElement(self.root, qn("w:body"))

    def paragraph(self, text: str = "", style: str | None = None, italic: bool = False):
        """Append a paragraph of one run; return it."""
        p = sub(self.element, "w:p")
        if style:
            sub(sub(p, "w:pPr"), "w:pStyle", val=style)
        if text:
            run(p, text, italic=italic)
        return p

    def heading(self, text: str, level: int | str, page_break: bool = False):
        """Append a heading (`level` 1-3 or "Title"); `page_break` starts it on a new page."""
        p = self.paragraph(text, STYLE_IDS[level])
        if page_break:
            sub(p.find(qn("w:pPr")), "w:pageBreakBefore")
        return p

    def meta(self, rows: list[tuple[str, str]]) -> None:
        """The reference and dates under the title: a borderless two-column table."""
        table = self._table([LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH], borders=False)
        for label, value in rows:
            row = sub(table, "w:tr")
            run(self._cell(row, LABEL_WIDTH), label, bold=True)
            run(self._cell(row, TEXT_WIDTH - LABEL_WIDTH), value)
        keep_together(table)
        self.paragraph()

    def answers(self, rows: list[tuple[str, str]], blank: bool) -> None:
        """Short answers as a label/value table: the label shaded and bold, as on the paper form."""
        table = self._table([LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH])
        for label, value in rows:
            row = sub(table, "w:tr")
            if blank:  # room to write in the value cell
                sub(sub(row, "w:trPr"), "w:trHeight", val="454", hRule="atLeast")
            lines(self._cell(row, LABEL_WIDTH, shade=True), label, bold=True)
            lines(self._cell(row, TEXT_WIDTH - LABEL_WIDTH), value)
        keep_together(table)
        self.paragraph()

    def rows(self, headings: list[str], rows: list[list[str]]) -> None:
        """Repeated rows as a table: one column per heading, headings repeated on every page."""
        width = TEXT_WIDTH // max(len(headings), 1)
        table = self._table([width] * len(headings))
        header = sub(table, "w:tr")
        sub(sub(header, "w:trPr"), "w:tblHeader")
        for heading in headings:
            lines(self._cell(header, width, shade=True), heading, bold=True)
        for values in rows:
            row = sub(table, "w:tr")
            for value in values:
                lines(self._cell(row, width), value)
        self.paragraph()

    def text(self, text: str) -> None:
        """A long answer: one paragraph per line, lines typed as bullet points become a bulleted list."""
        for line in text.split("\n"):
            bullet = BULLET.match(line)
            if bullet:
                self.paragraph(bullet.group(1), "ListBullet")
            else:
                self.paragraph(line)

    def box(self) -> None:
        """A framed empty space to write a long answer in, for a unit that answers in Word."""
        table = self._table([TEXT_WIDTH])
        row = sub(table, "w:tr")
        sub(sub(row, "w:trPr"), "w:trHeight", val="2268", hRule="atLeast")  # 4 cm, grows with the text
        self._cell(row, TEXT_WIDTH)
        self.paragraph()

    def _table(self, widths: list[int], borders: bool = True):
        table = sub(self.element, "w:tbl")
        table.append(copy.copy(_table_properties(sum(widths), borders)))
        table.append(copy.copy(_grid(tuple(widths))))
        return table

    def _cell(self, row, width: int, shade: bool = False):
        cell = copy.copy(_empty_cell(width, shade))
        row.append(cell)
        return cell[-1]


@cache
def _table_properties(width: int, borders: bool):
    """Return a table's w:tblPr (its style, width, borders, layout, margins), to be copied."""
    properties = sub(_prototypes(), "w:tblPr")
    sub(properties, "w:tblStyle", val="TableGrid")
    sub(properties, "w:tblW", w=str(width), type="dxa")
    if not borders:
        edges = sub(properties, "w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            sub(edges, f"w:{edge}", val="nil")
    sub(properties, "w:tblLayout", type="fixed")
    margins = sub(properties, "w:tblCellMar")
    for edge in ("top", "bottom"):
        sub(margins, f"w:{edge}", w="45", type="dxa")
    sub(properties, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="1", lastColumn="0",
        noHBand="0", noVBand="1")  # fmt: skip
    return properties


@cache
def _grid(widths: tuple[int, ...]):
    """Return a table's w:tblGrid, to be copied."""
    grid = sub(_prototypes(), "w:tblGrid")
    for width in widths:
        sub(grid, "w:gridCol", w=str(width))
    return grid


@cache
def _empty_cell(width: int, shade: bool):
    """Return a w:tc of this width (shaded or not) holding one empty paragraph, to be copied."""
    cell = sub(_prototypes(), "w:tc")
    properties = sub(cell, "w:tcPr")
    sub(properties, "w:tcW", w=str(width), type="dxa")
    if shade:
        sub(properties, "w:shd", val="clear", color="auto", fill=SHADE)
    sub(cell, "w:p")
    return cell


@cache
def _run(bold: bool, italic: bool):
    """Return a w:r (bold, italic or neither) with an empty w:t, to be copied."""
    r = _styled_run(_prototypes(), bold, italic)
    sub(r, "w:t")
    return r


def _styled_run(parent, bold: bool, italic: bool):
    """Append an empty w:r, bold, italic or neither; return it."""
    r = sub(parent, "w:r")
    if bold or italic:
        properties = sub(r, "w:rPr")
        if bold:
            sub(properties, "w:b")
        if italic:
            sub(properties, "w:i")
    return r


@cache
def _prototypes():
    """Return the element that holds the pieces to be copied: it declares the namespaces they use."""
    return etree.Element(qn("w:document"), nsmap=NSMAP)


def keep_together(table) -> None:
    """Keep a short table on one page: each row's paragraphs keep with the next (Word's way to do it)."""
    rows = table.findall(_clark("w:tr"))
    if len(rows) > 12:
        return
    p, properties_tag, keep_next = _clark("w:p"), _clark("w:pPr"), _clark("w:keepNext")
    for row in rows[:-1]:
        for paragraph in row.iter(p):
            properties = paragraph.find(properties_tag)
            if properties is None:
                properties = etree.Element(properties_tag)
                paragraph.insert(0, properties)
            etree.SubElement(properties, keep_next)


def sub(parent, tag: str, **attributes):
    """Append a w: element with w: attributes (`val=...` becomes `w:val`); return it."""
    if attributes:
        return etree.SubElement(parent, _clark(tag), {_attribute(name): value for name, value in attributes.items()})
    return etree.SubElement(parent, _clark(tag))


@cache
def _clark(tag: str) -> str:
    """Return `w:p` as lxml names it; cached, since a document asks for a few names hundreds of times."""
    return qn(tag)


@cache
def _attribute(name: str) -> str:
    return qn(f"w:{name}")


def run(paragraph, text: str, bold: bool = False, italic: bool = False) -> None:
    """Append a run of text ("\\t" becomes a tab); spaces at either end are kept."""
    if text == "\t":
        sub(_styled_run(paragraph, bold, italic), "w:tab")
        return
    r = copy.copy(_run(bold, italic))
    paragraph.append(r)
    element = r[-1]
    element.text = text
    if text != text.strip():
        element.set(XML_SPACE, "preserve")


def lines(paragraph, text: str, bold: bool = False) -> None:
    """Fill a cell's paragraph with text; further lines become further paragraphs of the cell."""
    for index, line in enumerate(text.split("\n") if text else []):
        if index:
            paragraph = sub(paragraph.getparent(), "w:p")
        if line:
            run(paragraph, line, bold=bold)


def field(paragraph, code: str) -> None:
    """Append a Word field (PAGE, NUMPAGES) that the word processor fills in."""
    sub(sub(paragraph, "w:r"), "w:fldChar", fldCharType="begin")
    instruction = sub(sub(paragraph, "w:r"), "w:instrText")
    instruction.text = f" {code} "
    instruction.set(XML_SPACE, "preserve")
    sub(sub(paragraph, "w:r"), "w:fldChar", fldCharType="separate")
    sub(sub(paragraph, "w:r"), "w:t").text = "1"  # shown until the word processor updates the field
    sub(sub(paragraph, "w:r"), "w:fldChar", fldCharType="end")


def header(title: str, reference: str):
    """Return w:hdr: the title in bold on the left, the reference at the right margin."""
    element = etree.Element(qn("w:hdr"), nsmap=NSMAP)
    p = sub(element, "w:p")
    properties = sub(p, "w:pPr")
    sub(properties, "w:pStyle", val="Header")
    tabs = sub(properties, "w:tabs")
    sub(tabs, "w:tab", val="clear", pos="4680")
    sub(tabs, "w:tab", val="clear", pos="9360")
    sub(tabs, "w:tab", val="right", pos=str(TEXT_WIDTH))
    run(p, title, bold=True)
    run(p, "\t")
    run(p, reference)
    return element


def footer(reminder: str, page: str, of: str):
    """Return w:ftr: the reminder in italics, then `page` N `of` M ("Sida 1 av 2"), both centred."""
    element = etree.Element(qn("w:ftr"), nsmap=NSMAP)
    for index in range(2):
        p = sub(element, "w:p")
        properties = sub(p, "w:pPr")
        sub(properties, "w:pStyle", val="Footer")
        sub(properties, "w:jc", val="center")
        if index == 0:
            run(p, reminder, italic=True)
        else:
            run(p, page)
            field(p, "PAGE")
            run(p, of)
            field(p, "NUMPAGES")
    return element


def section_properties(header_id: str, footer_id: str):
    """Return w:sectPr: the A4 page, its margins, and the header and footer by relationship id."""
    section = etree.Element(qn("w:sectPr"), nsmap=NSMAP)
    sub(section, "w:headerReference", type="default").set(qn("r:id"), header_id)
    sub(section, "w:footerReference", type="default").set(qn("r:id"), footer_id)
    sub(section, "w:pgSz", w=str(PAGE_WIDTH), h=str(PAGE_HEIGHT))
    sub(section, "w:pgMar", top=str(TOP), right=str(SIDE), bottom=str(TOP), left=str(SIDE), header="567",
        footer="567", gutter="0")  # fmt: skip
    sub(section, "w:cols", space="720")
    sub(section, "w:docGrid", linePitch="360")
    return section


def xml(element) -> bytes:
    """Return an element as a standalone UTF-8 XML part."""
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)
