"""The summary's DOCX opened in a real word processor, as tests/test_libreoffice.py does with the other
documents: LibreOffice converts it to PDF, pdftotext and pdfimages read it back. Every heading and cell
must be there in order, inside the margins, under the header and above the footer on every page, with
one picture per table. The first page is saved as test-artifacts/summary.png and as readme/summary.png,
the README's picture.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_libreoffice import BOTTOM, LEFT, RIGHT, TOP, assert_in_order, body_text, pages, pdftotext, region
from test_summary import BUS, END, EXPECTED, KEY, MADE, START, STEM, TITLE, TITLES, record

from handler import summary
from handler.document import REMINDER
from handler.register import Register

pytestmark = pytest.mark.slow  # LibreOffice, like tests/test_libreoffice.py
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """Write the summary of 2026, convert its DOCX to PDF; save DOCX, PDF and the first page as PNG."""
    folder = tmp_path_factory.mktemp("summary")
    register = Register(f"sqlite:///{folder / 'register.db'}", secret_key=KEY)
    register.upgrade()
    record(register)
    paths = summary.write(summary.build(register, BUS, START, END, MADE), folder / "ut")
    register.close()
    soffice = shutil.which("soffice") or "soffice"
    command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore"]
    subprocess.run([*command, "--convert-to", "pdf", "--outdir", str(folder), str(paths[0])], check=True, timeout=120,
                   capture_output=True)  # fmt: skip
    pdf = folder / f"{STEM}.pdf"
    assert pdf.is_file(), "LibreOffice did not convert the summary"
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(paths[0], ARTIFACTS / "summary.docx")
    shutil.copy(pdf, ARTIFACTS / "summary.pdf")
    first = ["-png", "-f", "1", "-l", "1", "-singlefile", str(pdf)]
    subprocess.run(["pdftoppm", "-r", "70", *first, str(ARTIFACTS / "summary")], check=True, timeout=60)
    subprocess.run(["pdftoppm", "-scale-to", "1100", *first, str(ROOT / "readme" / "summary")], check=True, timeout=60)
    return pdf


def test_every_heading_and_cell_of_the_summary_is_in_the_pdf_in_order(converted):
    items = [TITLE, "Formulär", "BUS-avvikelse", "Period", "Antal rapporter", "4"]
    for title, table in zip(TITLES, EXPECTED.values()):
        items += [title, *[cell for row in table for cell in row if cell]]

    assert_in_order(items, body_text(converted))


def test_every_page_has_the_header_the_page_number_and_the_reminder(converted):
    every = pages(converted)

    assert len(every) >= 4
    for number, words in enumerate(every, 1):
        header, footer = region(words, 0, TOP), region(words, BOTTOM, 842)
        assert header == "Redovisning av BUS-avvikelser 2026-01-01 – 2026-12-31"
        assert REMINDER in footer and footer.endswith(f"Sida {number} av {len(every)}")


def test_the_text_stays_inside_the_margins(converted):
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">',
                       pdftotext(converted, "-bbox"))  # fmt: skip

    outside = [w for w in words if float(w[0]) < LEFT - 1 or float(w[2]) > RIGHT + 1]
    assert not outside, f"{len(outside)} words outside the margins, first at {outside[0]}"


def test_each_table_has_its_chart_as_a_picture_inside_the_page(converted):
    listing = subprocess.run(["pdfimages", "-list", str(converted)], check=True, capture_output=True, text=True)
    images = [line.split() for line in listing.stdout.splitlines()[2:]]

    assert len([i for i in images if i[2] == "image"]) == len(TITLES)
    assert (ROOT / "readme" / "summary.png").stat().st_size > 20_000
    assert (ARTIFACTS / "summary.png").stat().st_size > 10_000
