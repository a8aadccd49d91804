"""Every document the kit makes, opened in a real word processor: LibreOffice converts it to PDF and
pdftotext reads it back. Every label and answer must be there, in order, inside the page; long
answers must wrap and flow onto new pages without loss. The first page of each document is saved
as a PNG under test-artifacts/ so a person can look at it.
"""

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from handler import normalise
from handler.document import REMINDER, display, render_answer, render_report
from handler.forms import load_forms
from handler.reference import TIMEZONE
from handler.reply import LinkedReport
from handler.validation import validate
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CREATED = datetime.datetime(2026, 11, 22, 14, 3, tzinfo=TIMEZONE)
REFERENCE = "BUS-20261122-7KQ2MX"
LINKED = LinkedReport(REFERENCE, "2026-11-22", "carl.chef@solna.se")
# A4 in points, and the text area between the 2.2 cm side margins and under the header, above the footer.
LEFT, RIGHT, TOP, BOTTOM = 62.4, 532.9, 48, 788
PIECES = [
    "Mötet om samordnad individuell plan flyttades tre gånger utan att vårdnadshavarna fick besked",
    "Skolan skickade en ny begäran till BUP den 12 mars och fick svar först i juni, efter skolavslutningen",
    "Elevhälsoteamet bedömde att eleven behövde stöd av både skola och BUP samtidigt",
    "https://www.vardgivarguiden.se/avtaluppdrag/samverkan/barn-och-unga-i-behov-av-sarskilt-stod-bus/rutin.pdf",
    "Samverkansöverenskommelsensuppföljningsmötesprotokollsanteckningarnaskopior saknades helt",
]
MARKERS = ["- ", "• ", "* ", "", "– ", "", "-  "]


def long_text(seed: int, limit: int = 5000) -> str:
    """Text as people type it: bullet points of every kind, plain lines, blank lines, long words; ~limit chars."""
    lines, index = [], seed
    while True:  # each line unique across texts, so a lost line cannot be found in another answer
        line = f"{MARKERS[index % len(MARKERS)]}Text {seed} rad {index - seed + 1}: {PIECES[index % len(PIECES)]}"
        if index % 9 == 4:
            line = ""
        if len("\n".join([*lines, line])) > limit:
            return "\n".join(lines)
        lines.append(line)
        index += 1


def documents() -> dict[str, tuple]:
    """Return name → (form, data, bytes) for every kind of document, typical and long."""
    forms = load_forms(ROOT / "schema")
    report, answer = forms["bus-avvikelse"], forms["bus-avvikelse-svar"]
    typical = normalise.clean(normalise.from_pairs(report, list(valid_answers().items())))
    long_report = {
        **typical,
        "handelsetyp": long_text(1, 2000),
        "verksamheter": [
            {
                "enhet": f"Enhet nummer {i} i Stockholms län",
                "verksamhetstyp": "bup",
                "huvudman": "sodertalje",
                "chef_epost": f"forstalinjens.chef.nummer{i}@regionstockholm.se",
            }  # fmt: skip
            for i in range(1, 11)
        ],
        "beskrivning": {**typical["beskrivning"], "handelsen": long_text(2), "forslag_atgard": long_text(3)},
    }
    contact = {"datum": "2026-11-25", "namn": "Berit Bup", "enhet": "BUP Solna", "epost": "berit@regionstockholm.se"}
    typical_answer = {"handelse": "- Remissen kom fram\n- Den blev liggande", "forbattringsatgarder": "Ny rutin.",
                      "mottagande": contact}  # fmt: skip
    long_answer = {"handelse": long_text(4), "forbattringsatgarder": long_text(5), "mottagande": contact}
    made = {}
    for name, form, data in (
        ("rapport", report, typical),
        ("rapport-lang", report, long_report),
        ("svar", answer, typical_answer),
        ("svar-lang", answer, long_answer),
    ):
        validate(form, data)  # the long texts are answers the handler would accept
        if form is report:
            made[name] = (form, data, render_report(form, data, REFERENCE, CREATED, answer))
        else:
            made[name] = (form, data, render_answer(form, data, "SVAR-20261125-ABCDEF", CREATED, LINKED, report))
    return made


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Convert every document to PDF in one LibreOffice run; save DOCX, PDF and first-page PNG as artefacts."""
    made = documents()
    folder = tmp_path_factory.mktemp("libreoffice")
    for name, (_, _, data) in made.items():
        (folder / f"{name}.docx").write_bytes(data)
    soffice = shutil.which("soffice") or "soffice"
    command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore"]
    files = [str(folder / f"{name}.docx") for name in made]
    subprocess.run([*command, "--convert-to", "pdf", "--outdir", str(folder), *files], check=True, timeout=120,
                   capture_output=True)  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    for name in made:
        pdf = folder / f"{name}.pdf"
        assert pdf.is_file(), f"LibreOffice did not convert {name}.docx"
        shutil.copy(folder / f"{name}.docx", ARTIFACTS / f"{name}.docx")
        shutil.copy(pdf, ARTIFACTS / f"{name}.pdf")
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(ARTIFACTS / name)], check=True, timeout=60)  # fmt: skip
    return {name: (form, data, folder / f"{name}.pdf") for name, (form, data, _) in made.items()}


def pdftotext(pdf: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def body_text(pdf: Path) -> str:
    """Return the text of the pages' text area only, so headers and footers do not cut through answers."""
    area = ["-x", "0", "-y", str(TOP), "-W", "600", "-H", str(BOTTOM - TOP)]
    return pdftotext(pdf, *area)


def squash(text: str) -> str:
    """Letters and digits only: line breaks, bullets, hyphenation and table borders do not matter."""
    return re.sub(r"[\W_]+", "", text)


def expected(form, data, blank=None) -> list[str]:
    """Every label and answer of a submission in the paper form's order, then the blank reply's labels."""
    found: list[str] = []

    def walk(node, value):
        for child in node.children:
            answer = value.get(child.name) if isinstance(value, dict) else None
            found.append(child.title)
            if child.kind == "group":
                walk(child, answer)
            elif child.kind == "list":
                columns = child.item.children
                found.extend(column.title for column in columns)
                for row in answer or []:
                    found.extend(display(column, row.get(column.name)) for column in columns)
            elif child.kind == "textarea":
                found.extend(line for line in (answer or "").split("\n") if squash(line))
            elif answer is not None:
                found.append(display(child, answer))

    walk(form.root, data)
    if blank is not None:
        found.append(blank.title)
        found.extend(node.title for node in blank.root.walk() if node.path)
    return found


def assert_in_order(items: list[str], text: str) -> None:
    haystack, position = squash(text), 0
    for item in items:
        found = haystack.find(squash(item), position)
        assert found >= 0, f"missing or out of order: {item!r}"
        position = found + len(squash(item))


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def pages(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Return each page's words with their boxes (xMin, yMin, xMax, yMax, text), in points."""
    found = []
    for page in pdftotext(pdf, "-bbox").split("<page ")[1:]:
        found.append([(float(a), float(b), float(c), float(d), text) for a, b, c, d, text in WORD.findall(page)])
    return found


def region(words, top: float, bottom: float) -> str:
    return " ".join(text for _, y_min, _, y_max, text in words if y_min >= top and y_max <= bottom)


@pytest.mark.parametrize("name", ["rapport", "rapport-lang", "svar", "svar-lang"])
def test_every_label_and_answer_is_in_the_document_in_order(converted, name):
    form, data, pdf = converted[name]
    forms = load_forms(ROOT / "schema")
    blank = forms["bus-avvikelse-svar"] if form.id == "bus-avvikelse" else None
    heading = [form.title, REFERENCE] if blank else ["Svar på BUS-avvikelse", REFERENCE, "2026-11-22", form.title]

    assert_in_order(heading + expected(form, data, blank), body_text(pdf))


@pytest.mark.parametrize("name", ["rapport", "rapport-lang", "svar", "svar-lang"])
def test_every_page_has_the_header_the_page_number_and_the_reminder(converted, name):
    form, _, pdf = converted[name]
    every = pages(pdf)

    for number, words in enumerate(every, 1):
        header, footer = region(words, 0, TOP), region(words, BOTTOM, 842)
        assert header.startswith(form.title if form.id == "bus-avvikelse" else "Svar på BUS-avvikelse")
        assert header.endswith(REFERENCE)
        assert REMINDER in footer
        assert footer.endswith(f"Sida {number} av {len(every)}")


@pytest.mark.parametrize(("name", "at_least"), [("rapport-lang", 5), ("svar-lang", 3)])
def test_long_answers_wrap_inside_the_margins_and_flow_onto_new_pages(converted, name, at_least):
    _, _, pdf = converted[name]
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', pdftotext(pdf, "-bbox")
    )

    assert len(pages(pdf)) >= at_least
    outside = [w for w in words if float(w[0]) < LEFT - 1 or float(w[2]) > RIGHT + 1]
    assert not outside, f"{len(outside)} words outside the margins, first at {outside[0]}"
    assert all(0 < float(w[1]) and float(w[3]) < 842 for w in words)


def test_the_report_is_the_paper_form_on_paper(converted):
    _, _, pdf = converted["rapport"]
    last = region(pages(pdf)[-1], TOP, BOTTOM)

    assert last.startswith("4. Beskrivning av händelsen från mottagande verksamhet")
    assert "Ansvarig chef vid rapporterande verksamhet" not in last
    for page in ARTIFACTS.glob("*.png"):
        assert page.stat().st_size > 10_000
    assert {p.stem for p in ARTIFACTS.glob("*.png")} >= {"rapport", "rapport-lang", "svar", "svar-lang"}
