"""The DOCX writer, read back with python-docx: the paper form's order, tables, section 4, properties."""

import datetime
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from handler import normalise
from handler.document import REMINDER, render_answer, render_report
from handler.forms import load_forms
from handler.reference import TIMEZONE
from handler.reply import LinkedReport
from support import docx_text, valid_answers

ROOT = Path(__file__).resolve().parent.parent
CREATED = datetime.datetime(2026, 11, 22, 14, 3, tzinfo=TIMEZONE)
REFERENCE = "BUS-20261122-7KQ2MX"
ANSWER = {
    "handelse": "- Remissen kom fram\n- Den blev liggande",
    "forbattringsatgarder": "Veckovis genomgång & <uppföljning>",
    "mottagande": {"datum": "2026-11-25", "namn": "Berit Bup", "enhet": "BUP Solna", "epost": "berit@rs.se"},
}


@pytest.fixture(scope="module")
def forms():
    return load_forms(ROOT / "schema")


@pytest.fixture(scope="module")
def report(forms) -> docx.document.Document:
    form = forms["bus-avvikelse"]
    data = normalise.clean(normalise.from_pairs(form, list(valid_answers().items())))
    return docx.Document(io.BytesIO(render_report(form, data, REFERENCE, CREATED, forms["bus-avvikelse-svar"])))


@pytest.fixture(scope="module")
def answer(forms) -> docx.document.Document:
    linked = LinkedReport(REFERENCE, "2026-11-22", "carl.chef@solna.se")
    data = render_answer(
        forms["bus-avvikelse-svar"], ANSWER, "SVAR-20261125-ABCDEF", CREATED, linked, forms["bus-avvikelse"]
    )
    return docx.Document(io.BytesIO(data))


def headings(document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs if p.style.name in ("Title", "Heading 1", "Heading 2")]


def table_after(document, heading: str):
    """Return the first table that follows the paragraph with this text."""
    found = False
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:p") and "".join(t.text or "" for t in block.iter(qn("w:t"))) == heading:
            found = True
        elif found and block.tag == qn("w:tbl"):
            return docx.table.Table(block, document)
    raise AssertionError(f"no table after {heading!r}")


def rows_of(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_the_report_has_the_paper_forms_numbered_sections_in_order(report):
    assert [text for style, text in headings(report) if style in ("Title", "Heading 1")] == [
        "BUS-avvikelse",
        "1. Vilken typ av händelse avser BUS-avvikelsen?",
        "2. Mellan vilka verksamheter har avvikelsen uppstått?",
        "3. Beskrivning av händelsen från rapporterande verksamhet",
        "4. Beskrivning av händelsen från mottagande verksamhet",
    ]
    assert [text for style, text in headings(report) if style == "Heading 2"][:2] == [
        "Händelsen",
        "Förslag till åtgärd",
    ]


def test_the_reference_date_and_deadline_stand_under_the_title(report):
    assert rows_of(report.tables[0]) == [
        ["Referens", REFERENCE],
        ["Inskickad", "2026-11-22 14:03"],
        ["Svara senast", "2027-01-22"],
    ]


def test_short_answers_are_label_value_tables_with_choices_shown_by_their_labels(report):
    assert rows_of(table_after(report, "Kontaktuppgifter till rapporterande verksamhet")) == [
        ["Datum för rapportering", "2026-11-20"],
        ["Rapporterande enhet", "Elevhälsan Solna"],
        ["Verksamhetstyp", "Grundskola"],
        ["Huvudman", "Solna stad"],
        ["Kontaktperson", "Eva Ek"],
        ["E-post", "eva.ek@solna.se"],
        ["Telefonnummer", "08-746 10 00"],
    ]
    labels = table_after(report, "Ansvarig chef vid rapporterande verksamhet").columns[0].cells
    assert all(cell.paragraphs[0].runs[0].bold for cell in labels)


def test_repeated_rows_are_a_table_with_column_headings_repeated_on_every_page(report):
    table = table_after(report, "2. Mellan vilka verksamheter har avvikelsen uppstått?")

    assert rows_of(table) == [
        ["Enhet", "Verksamhetstyp", "Huvudman", "Chefens e-post"],
        ["Björkskolan", "Grundskola", "Solna stad", "rektor@solna.se"],
        ["BUP Solna", "Barn- och ungdomspsykiatri", "Region Stockholm", "chef.bup@regionstockholm.se"],
    ]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert table.rows[1]._tr.trPr is None


def test_long_answers_are_paragraphs_and_typed_bullet_points_become_a_list(report):
    texts = [(p.style.name, p.text) for p in report.paragraphs]
    start = texts.index(("Heading 2", "Händelsen"))

    assert texts[start + 1 : start + 3] == [
        ("List Bullet", "Remissen skickades i mars"),
        ("List Bullet", "Inget svar kom"),
    ]


def test_section_4_is_blank_with_its_labels_on_a_page_of_its_own(report):
    paragraphs = report.paragraphs
    index = [p.text for p in paragraphs].index("4. Beskrivning av händelsen från mottagande verksamhet")
    assert paragraphs[index].paragraph_format.page_break_before
    after = [p.text for p in paragraphs[index:]]
    assert "Händelse" in after and "Förbättringsåtgärder" in after
    contact = table_after(report, "Kontaktuppgifter till ansvarig chef för mottagande verksamhet")
    assert rows_of(contact) == [
        ["Datum för mottagande", ""],
        ["Namn enhetschef", ""],
        ["Enhet", ""],
        ["E-post", ""],
        ["Telefonnummer", ""],
    ]
    box = table_after(report, "Förbättringsåtgärder")
    assert rows_of(box) == [[""]] and box.rows[0].height.cm == pytest.approx(4, abs=0.01)
    assert "Berit" not in docx_text_of(report)


def docx_text_of(document) -> str:
    buffer = io.BytesIO()
    document.save(buffer)
    return docx_text(buffer.getvalue())


def test_the_header_names_the_form_and_reference_and_the_footer_numbers_pages_and_warns(report):
    section = report.sections[0]
    header = section.header.paragraphs[0].text
    footer = section.footer._element

    assert header == f"BUS-avvikelse\t{REFERENCE}"
    assert REMINDER == "Barnets namn eller personnummer får inte anges i dokumentet."
    assert REMINDER in "".join(t.text for t in footer.iter(qn("w:t")))
    assert [i.text.strip() for i in footer.iter(qn("w:instrText"))] == ["PAGE", "NUMPAGES"]
    assert "Sida" in "".join(t.text for t in footer.iter(qn("w:t")))


def test_the_page_is_a4_with_margins(report):
    section = report.sections[0]

    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert round(section.left_margin.cm, 1) == round(section.right_margin.cm, 1) == 2.2


def test_the_document_properties_say_what_it_is_and_when_it_was_made(report):
    core = report.core_properties

    assert core.title == f"BUS-avvikelse {REFERENCE}"
    assert core.subject == "BUS-avvikelse"
    assert core.identifier == REFERENCE
    assert core.language == "sv-SE"
    assert core.author == "Formulärtjänsten"
    assert core.created == datetime.datetime(2026, 11, 22, 13, 3, tzinfo=datetime.UTC)


def test_the_document_is_swedish_and_hyphenated(report):
    language = report.styles.element.find(qn("w:docDefaults")).find(f".//{qn('w:lang')}")
    hyphenation = report.settings.element.find(qn("w:autoHyphenation"))

    assert language.get(qn("w:val")) == "sv-SE"
    assert hyphenation is not None and hyphenation.get(qn("w:val")) == "true"
    # Word validates element order: autoHyphenation belongs right after defaultTabStop.
    assert hyphenation.getprevious().tag == qn("w:defaultTabStop")


def test_the_package_holds_only_what_it_declares(forms):
    data = render_report(forms["bus-avvikelse-svar"], ANSWER, "SVAR-20261125-ABCDEF", CREATED)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        types = archive.read("[Content_Types].xml").decode()

    assert names[0] == "[Content_Types].xml"
    for name in names:
        if not name.endswith(".rels") and name != "[Content_Types].xml":
            assert f'PartName="/{name}"' in types


def test_an_answer_document_names_the_report_it_answers(answer):
    assert headings(answer)[:2] == [
        ("Title", "Svar på BUS-avvikelse"),
        ("Heading 1", "4. Beskrivning av händelsen från mottagande verksamhet"),
    ]
    assert rows_of(answer.tables[0]) == [
        ["Referens", REFERENCE],
        ["Rapporten inskickad", "2026-11-22"],
        ["Svaret inskickat", "2026-11-22 14:03"],
        ["Svarets referens", "SVAR-20261125-ABCDEF"],
    ]
    assert answer.sections[0].header.paragraphs[0].text == f"Svar på BUS-avvikelse\t{REFERENCE}"
    assert answer.core_properties.title == f"Svar på BUS-avvikelse {REFERENCE}"
    assert "Veckovis genomgång & <uppföljning>" in [p.text for p in answer.paragraphs]


def test_text_keeps_its_spaces_and_markup_characters(forms):
    form = forms["bus-avvikelse-svar"]
    data = {**ANSWER, "forbattringsatgarder": '  indraget "citat" & <b>inte fet</b>\n\nefter tom rad'}

    document = docx.Document(io.BytesIO(render_report(form, data, "SVAR-20261125-ABCDEF", CREATED)))
    texts = [p.text for p in document.paragraphs]

    start = texts.index('  indraget "citat" & <b>inte fet</b>')
    assert texts[start + 1 : start + 3] == ["", "efter tom rad"]
