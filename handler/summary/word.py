"""The summary as a Word document in the kit's house style, with each table's bar chart as an image.

The look is the documents' own (`document.package`: styles, fonts, header, footer, page), and the
body is built with the documents' WordprocessingML builders (`document.wml`). What the summary adds
is what a submission's document never has: tables of numbers (labels left, numbers right, the total
in bold) and pictures, each an inline drawing whose `descr` and `title` are its alternative text,
placed in the package as word/media/chartN.png.
"""

from __future__ import annotations

import io
import zipfile

from docx.oxml.ns import qn
from lxml import etree

from ..document import wml
from ..document.package import package
from .charts import Picture, describe, draw
from .shapes import Summary, Table, decimal, plural

WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
EMU = 914400  # per inch
NUMBER_WIDTH = 1814  # 3.2 cm for a column of numbers
KEEP_WITH_CHART = 16  # rows of a table kept on one page with its chart (a year by month, with headings and total)
EMPTY = "–"
INTRO = (
    "Sammanställningen bygger på registrets statistik: de val i formuläret som räknas, aldrig fritext eller "
    "personuppgifter, och när varje mottagande verksamhet svarade. Datum är svensk tid. Samma tabeller finns "
    "som CSV-filer och i en Excel-fil."
)


class Body(wml.Body):
    """A document body that may hold drawings: its root declares the DrawingML namespaces once."""

    def __init__(self):
        self.root = etree.Element(qn("w:document"), nsmap={**wml.NSMAP, "wp": WP, "a": A, "pic": PIC})
        self.element = etree.SubElement(self.root, qn("w:body"))


def render(summary: Summary) -> bytes:
    """Return the summary's DOCX: title, what it covers, then each table with its chart."""
    body = Body()
    body.heading(summary.title, "Title")
    body.meta(
        [
            ("Formulär", summary.form.title),
            ("Period", summary.period),
            ("Antal rapporter", cell(summary.reports)),
            ("Sammanställd", summary.made.strftime("%Y-%m-%d %H:%M")),
        ]
    )
    pictures: list[bytes] = []
    if not summary.reports:
        body.paragraph(f"Inga rapporter kom in under perioden {summary.start} till {summary.end}.")
    else:
        body.paragraph(INTRO)
        for table in summary.tables:
            body.heading(table.title, 1)
            if table.note:
                keep_with_next(body.paragraph(table.note))
            chart = table.chart if table.chart is not None and table.chart.labels else None
            numbers(body, table, chart_follows=chart is not None)
            if chart is not None:
                number = len(pictures) + 1
                pictures.append(image(body, draw(chart), number, describe(chart, table.title), table.title))
                if chart.note:
                    body.paragraph(chart.note, italic=True)
            body.paragraph()
    header = f"Redovisning av {plural(summary.form.title)}"
    made = package(body, title=header, reference=summary.period, subject=summary.form.title, created=summary.made)
    return with_pictures(made, pictures)


def cell(value) -> str:
    """Return a cell as the document shows it: 1 234 with a no-break space, 75,0, "–" for nothing."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0")
    if isinstance(value, float):
        return decimal(value)
    return str(value)


def keep_with_next(paragraph) -> None:
    """Keep a paragraph on the page of the one that follows it (a note with its table)."""
    properties = paragraph.find(qn("w:pPr"))
    if properties is None:
        properties = etree.Element(qn("w:pPr"))
        paragraph.insert(0, properties)
    wml.sub(properties, "w:keepNext")


def numbers(body: Body, table: Table, chart_follows: bool = False) -> None:
    """Append a table of counts: label columns left, number columns right, headings repeated, the total bold.

    A short table stays on one page, and with `chart_follows` on the page of its chart too.
    """
    every = [*table.rows, *([table.total] if table.total else [])]
    labels = 1  # the leading columns of text: the first always, the next ones when every cell is text
    while labels < len(table.headings) and every and all(isinstance(r[labels], str) for r in every):
        labels += 1
    label_width = (wml.TEXT_WIDTH - NUMBER_WIDTH * (len(table.headings) - labels)) // labels
    widths = [label_width] * labels + [NUMBER_WIDTH] * (len(table.headings) - labels)
    element = wml.sub(body.element, "w:tbl")
    properties = wml.sub(element, "w:tblPr")
    wml.sub(properties, "w:tblStyle", val="TableGrid")
    wml.sub(properties, "w:tblW", w=str(sum(widths)), type="dxa")
    wml.sub(properties, "w:tblLayout", type="fixed")
    margins = wml.sub(properties, "w:tblCellMar")
    for edge in ("top", "bottom"):
        wml.sub(margins, f"w:{edge}", w="45", type="dxa")
    wml.sub(properties, "w:tblLook", val="04A0", firstRow="1", lastRow="1" if table.total else "0", firstColumn="1",
            lastColumn="0", noHBand="0", noVBand="1")  # fmt: skip
    grid = wml.sub(element, "w:tblGrid")
    for width in widths:
        wml.sub(grid, "w:gridCol", w=str(width))
    header = wml.sub(element, "w:tr")
    wml.sub(wml.sub(header, "w:trPr"), "w:tblHeader")
    for index, heading in enumerate(table.headings):
        _cell(header, widths[index], heading, bold=True, shade=True, right=index >= labels)
    for values in table.rows:
        row = wml.sub(element, "w:tr")
        wml.sub(wml.sub(row, "w:trPr"), "w:cantSplit")
        for index, value in enumerate(values):
            _cell(row, widths[index], cell(value), right=index >= labels)
    if table.total:
        row = wml.sub(element, "w:tr")
        for index, value in enumerate(table.total):
            _cell(row, widths[index], cell(value) if value != "" else "", bold=True, right=index >= labels)
    wml.keep_together(element)
    rows = element.findall(qn("w:tr"))
    if chart_follows and len(rows) <= KEEP_WITH_CHART:  # a longer table may break, and its chart follows its end
        for row in rows[len(rows) - 1 if len(rows) <= 12 else 0 :]:  # keep_together did the others up to 12
            for paragraph in row.iter(qn("w:p")):
                keep_with_next(paragraph)


def _cell(row, width: int, text: str, *, bold: bool = False, shade: bool = False, right: bool = False) -> None:
    cell_element = wml.sub(row, "w:tc")
    properties = wml.sub(cell_element, "w:tcPr")
    wml.sub(properties, "w:tcW", w=str(width), type="dxa")
    if shade:
        wml.sub(properties, "w:shd", val="clear", color="auto", fill=wml.SHADE)
    paragraph = wml.sub(cell_element, "w:p")
    paragraph_properties = wml.sub(paragraph, "w:pPr")
    wml.sub(paragraph_properties, "w:spacing", after="0")
    if right:
        wml.sub(paragraph_properties, "w:jc", val="right")
    wml.lines(paragraph, text, bold=bold)


def image(body: Body, picture: Picture, number: int, description: str, title: str) -> bytes:
    """Append a centred paragraph with the picture as an inline drawing; return its PNG for the package."""
    paragraph = body.paragraph()
    properties = wml.sub(paragraph, "w:pPr")
    wml.sub(properties, "w:spacing", before="120")
    wml.sub(properties, "w:jc", val="center")
    drawing = wml.sub(wml.sub(paragraph, "w:r"), "w:drawing")
    cx, cy = str(round(picture.width * EMU)), str(round(picture.height * EMU))
    inline = etree.SubElement(drawing, f"{{{WP}}}inline", distT="0", distB="0", distL="0", distR="0")
    etree.SubElement(inline, f"{{{WP}}}extent", cx=cx, cy=cy)
    etree.SubElement(inline, f"{{{WP}}}effectExtent", l="0", t="0", r="0", b="0")
    name = f"Diagram {number}"
    etree.SubElement(inline, f"{{{WP}}}docPr", id=str(number), name=name, descr=description, title=title)
    frame = etree.SubElement(inline, f"{{{WP}}}cNvGraphicFramePr")
    etree.SubElement(frame, f"{{{A}}}graphicFrameLocks", noChangeAspect="1")
    data = etree.SubElement(etree.SubElement(inline, f"{{{A}}}graphic"), f"{{{A}}}graphicData", uri=PIC)
    pic = etree.SubElement(data, f"{{{PIC}}}pic")
    names = etree.SubElement(pic, f"{{{PIC}}}nvPicPr")
    etree.SubElement(names, f"{{{PIC}}}cNvPr", id=str(number), name=f"chart{number}.png", descr=description)
    etree.SubElement(names, f"{{{PIC}}}cNvPicPr")
    fill = etree.SubElement(pic, f"{{{PIC}}}blipFill")
    etree.SubElement(fill, f"{{{A}}}blip").set(qn("r:embed"), relationship(number))
    etree.SubElement(etree.SubElement(fill, f"{{{A}}}stretch"), f"{{{A}}}fillRect")
    shape = etree.SubElement(pic, f"{{{PIC}}}spPr")
    transform = etree.SubElement(shape, f"{{{A}}}xfrm")
    etree.SubElement(transform, f"{{{A}}}off", x="0", y="0")
    etree.SubElement(transform, f"{{{A}}}ext", cx=cx, cy=cy)
    etree.SubElement(etree.SubElement(shape, f"{{{A}}}prstGeom", prst="rect"), f"{{{A}}}avLst")
    return picture.png


def relationship(number: int) -> str:
    """Return the relationship id of chart `number`: apart from the package's own rId1, rId2, …"""
    return f"rIdChart{number}"


def with_pictures(docx: bytes, pictures: list[bytes]) -> bytes:
    """Return the package with the charts added: word/media/chartN.png, their relationships and content type."""
    if not pictures:
        return docx
    source = zipfile.ZipFile(io.BytesIO(docx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                types = etree.fromstring(content)
                default = etree.Element(f"{{{CONTENT_TYPES}}}Default", Extension="png", ContentType="image/png")
                types.insert(0, default)  # the Default elements come first
                content = wml.xml(types)
            elif item.filename == "word/_rels/document.xml.rels":
                rels = etree.fromstring(content)
                for number in range(1, len(pictures) + 1):
                    etree.SubElement(rels, f"{{{RELATIONSHIPS}}}Relationship", Id=relationship(number), Type=IMAGE,
                                     Target=f"media/chart{number}.png")  # fmt: skip
                content = wml.xml(rels)
            archive.writestr(item.filename, content)
        for number, png in enumerate(pictures, 1):
            archive.writestr(f"word/media/chart{number}.png", png, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()
