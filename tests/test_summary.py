"""The secretariat's summary of a period: tables counted from the register, read back cell by cell from the
CSV files, the XLSX workbook and the DOCX, and the command's arguments."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import docx
import openpyxl
import pytest

from handler import cli, summary
from handler.body import read_body
from handler.check import check_project
from handler.normalise import clean
from handler.reference import TIMEZONE
from handler.register import Register, new_report
from handler.summary import sheets, word
from handler.validation import validate
from support import valid_answers

ROOT = Path(__file__).resolve().parent.parent
KEY = "a-secret-key-of-forty-characters-or-so!!"
BUS = check_project(ROOT / "schema").ok()["bus-avvikelse"]
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
MADE = datetime.datetime(2027, 1, 15, 10, 0, tzinfo=TIMEZONE)
STEM = "redovisning-bus-avvikelse-2026-01-01-2026-12-31"
TITLE = "Redovisning av BUS-avvikelser inkomna under perioden 2026-01-01 till 2026-12-31"


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=TIMEZONE)


def answers(omrade: str, reporting: tuple[str, str], units: list[tuple[str, str]]) -> dict:
    """Return a valid BUS report's clean answers: its area, the reporting unit's type and huvudman, its units."""
    posted = {k: v for k, v in valid_answers().items() if not k.startswith("verksamheter.")}
    posted |= {"omrade": omrade, "beskrivning.rapporterande.verksamhetstyp": reporting[0],
               "beskrivning.rapporterande.huvudman": reporting[1]}  # fmt: skip
    for index, (kind, owner) in enumerate(units):
        posted |= {
            f"verksamheter.{index}.enhet": f"Enhet {index}",
            f"verksamheter.{index}.verksamhetstyp": kind,
            f"verksamheter.{index}.huvudman": owner,
            f"verksamheter.{index}.chef_epost": f"chef{index}@solna.se",
        }
    body = read_body(BUS, "application/x-www-form-urlencoded", urlencode(posted).encode())
    return validate(BUS, clean(body.answers))


# Four reports in 2026 and two just outside it, read in Stockholm time; (unit, answered at) per answer.
REPORTS = [
    ("BUS-20260115-AAAAAA", at(2026, 1, 15, 10), "samverkan", ("grundskola", "solna"),
     [("bup", "region-stockholm")], [(0, at(2026, 2, 1, 9))]),
    ("BUS-20260203-BBBBBB", at(2026, 2, 3, 8), "placering", ("bup", "region-stockholm"),
     [("grundskola", "solna"), ("socialtjanst", "solna")], [(0, at(2026, 4, 20, 14))]),
    # Deadline 2026-05-10: answered 00:30 on the 11th in Stockholm is late, though it is still the 10th in UTC.
    ("BUS-20260310-CCCCCC", at(2026, 3, 10, 12), "sip", ("grundskola", "nacka"),
     [("bup", "region-stockholm"), ("grundskola", "nacka")], [(0, at(2026, 3, 20, 9)), (1, at(2026, 5, 11, 0, 30))]),
    # 23:30 on New Year's Eve in Stockholm (22:30 UTC): in 2026. Deadline 2027-02-28, not passed on 2027-01-15.
    ("BUS-20261231-DDDDDD", at(2026, 12, 31, 23, 30), "sip", ("forskola", "stockholm"),
     [("bum", "region-stockholm")], []),
    # 00:30 on New Year's Day in Stockholm is still 2026 in UTC: not in the period; nor is 2025's last minute.
    ("BUS-20270101-EEEEEE", at(2027, 1, 1, 0, 30), "annat", ("habilitering", "taby"), [("bup", "taby")], []),
    ("BUS-20251231-FFFFFF", at(2025, 12, 31, 23, 59), "annat", ("habilitering", "taby"), [("bup", "taby")], []),
]  # fmt: skip


def record(register: Register, reports=REPORTS) -> None:
    for reference, arrived, omrade, reporting, units, answered in reports:
        register.record(new_report(BUS, answers(omrade, reporting, units), reference, arrived))
        for unit, when in answered:
            register.mark_answered(reference, unit, when)


@pytest.fixture
def register(tmp_path):
    register = Register(f"sqlite:///{tmp_path / 'register.db'}", secret_key=KEY)
    register.upgrade()
    yield register
    register.close()


@pytest.fixture
def written(register, tmp_path) -> dict[str, bytes]:
    """The summary of 2026 as files: name → bytes."""
    record(register)
    made = summary.build(register, BUS, START, END, MADE)
    return {path.name: path.read_bytes() for path in summary.write(made, tmp_path / "ut")}


VERKSAMHETSTYPER = ["Förskola", "Grundskola", "Gymnasieskola", "Socialtjänst", "Barn- och ungdomspsykiatri",
                    "Barn- och ungdomsmedicin", "Habilitering", "Annan verksamhet"]  # fmt: skip
HUVUDMAN = {title: value for value, title in BUS.field_at("/verksamheter/*/huvudman").choices}
REPORTING = {"Solna stad": 1, "Region Stockholm": 1, "Nacka kommun": 1, "Stockholms stad": 1}
RECEIVING = {"Region Stockholm": 3, "Solna stad": 2, "Nacka kommun": 1}
MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december"]  # fmt: skip

# Every table as the CSV has it: headings, rows, the total; shares and days with a decimal comma.
EXPECTED = {
    "01-per-manad": [
        ["Månad", "Antal rapporter"],
        *[[f"{month} 2026", str(n)] for month, n in zip(MONTHS, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
        ["Totalt", "4"],
    ],
    "02-vilket-omrade-galler-avvikelsen": [
        ["Svar", "Antal rapporter", "Andel (%)"],
        ["Samverkan enligt BUS-överenskommelsen i stort", "1", "25,0"],
        ["Den lokala BUS-gruppens arbete", "0", "0,0"],
        ["Placering: inför, under och efter", "1", "25,0"],
        ["Samordnad individuell plan (SIP)", "2", "50,0"],
        ["Utredning av förskolebarn inför särskoleplacering", "0", "0,0"],
        ["Skolskjuts", "0", "0,0"],
        ["Läkarintyg för särskild kost i skolan", "0", "0,0"],
        ["Annat", "0", "0,0"],
        ["Totalt", "4", "100,0"],
    ],
    "03-verksamhetstyp": [
        ["Verksamhetstyp", "Rapporterande (rapporter)", "Mottagande (verksamheter)"],
        *[[t, str(r), str(m)] for t, r, m in zip(VERKSAMHETSTYPER, [1, 2, 0, 0, 1, 0, 0, 0], [0, 2, 0, 1, 2, 1, 0, 0])],
        ["Totalt", "4", "6"],
    ],
    "04-verksamhetstyp-par": [
        ["Rapporterande", "Mottagande", "Antal"],
        ["Grundskola", "Barn- och ungdomspsykiatri", "2"],
        ["Förskola", "Barn- och ungdomsmedicin", "1"],
        ["Grundskola", "Grundskola", "1"],
        ["Barn- och ungdomspsykiatri", "Grundskola", "1"],
        ["Barn- och ungdomspsykiatri", "Socialtjänst", "1"],
        ["Totalt", "", "6"],
    ],
    "05-huvudman": [
        ["Huvudman", "Rapporterande (rapporter)", "Mottagande (verksamheter)"],
        *[[title, str(REPORTING.get(title, 0)), str(RECEIVING.get(title, 0))] for title in HUVUDMAN],
        ["Totalt", "4", "6"],
    ],
    "06-huvudman-par": [
        ["Rapporterande", "Mottagande", "Antal"],
        ["Region Stockholm", "Solna stad", "2"],
        ["Nacka kommun", "Nacka kommun", "1"],
        ["Nacka kommun", "Region Stockholm", "1"],
        ["Solna stad", "Region Stockholm", "1"],
        ["Stockholms stad", "Region Stockholm", "1"],
        ["Totalt", "", "6"],
    ],
    "07-svar-inom-svarstiden": [
        ["Mottagande verksamheter", "Antal", "Andel (%)", "Median dagar till svar"],
        ["Besvarade inom svarstiden", "2", "33,3", "13,5"],  # 17 and 10 days
        ["Besvarade efter svarstiden", "2", "33,3", "69,0"],  # 76 and 62 days
        ["Obesvarade, svarstiden har gått ut", "1", "16,7", ""],
        ["Obesvarade, svarstiden har inte gått ut", "1", "16,7", ""],
        ["Totalt", "6", "100,0", "39,5"],
    ],
    "08-obesvarade": [
        ["Verksamhetstyp", "Obesvarade verksamheter", "varav efter svarstiden"],
        *[[t, str(o), str(d)] for t, o, d in zip(VERKSAMHETSTYPER, [0, 0, 0, 1, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0])],
        ["Totalt", "2", "1"],
    ],
}  # fmt: skip
TITLES = [
    "Inkomna rapporter per månad",
    "Vilket område gäller avvikelsen?",
    "Per verksamhetstyp: rapporterande och mottagande",
    "Verksamhetstyp: från rapporterande till mottagande",
    "Per huvudman: rapporterande och mottagande",
    "Huvudman: från rapporterande till mottagande",
    "Svar inom svarstiden",
    "Obesvarade verksamheter per verksamhetstyp",
]


def number(text: str):
    """Return a CSV cell as the XLSX keeps it: a number where it is one, None for an empty cell."""
    if text == "":
        return None
    if text.isdigit():
        return int(text)
    if text.replace(",", "", 1).isdigit():
        return float(text.replace(",", "."))
    return text


# ---- the tables, in every format ----


def test_each_table_is_one_csv_file_for_swedish_excel_read_back_cell_by_cell(written):
    tables = {name.removeprefix(f"{STEM}-").removesuffix(".csv"): data for name, data in written.items()
              if name.endswith(".csv")}  # fmt: skip

    assert list(tables) == list(EXPECTED)
    for name, data in tables.items():
        assert data.startswith(b"\xef\xbb\xbf"), f"{name}: no byte order mark, Excel would not read UTF-8"
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
        cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
        assert cells == EXPECTED[name], name


def test_the_xlsx_has_a_sheet_per_table_with_the_same_cells_numbers_as_numbers(written):
    book = openpyxl.load_workbook(io.BytesIO(written[f"{STEM}.xlsx"]))

    assert book.sheetnames == [
        "Om sammanställningen", "Per månad", "Vilket område gäller avvikelsen", "Verksamhetstyp",
        "Verksamhetstyp, par", "Huvudman", "Huvudman, par", "Svar inom svarstiden", "Obesvarade",
    ]  # fmt: skip
    about = [[c.value for c in row] for row in book["Om sammanställningen"].iter_rows()]
    assert about == [["Titel", TITLE], ["Formulär", "BUS-avvikelse"], ["Period", "2026-01-01 – 2026-12-31"],
                     ["Antal rapporter", 4], ["Sammanställd", "2027-01-15 10:00"]]  # fmt: skip
    for sheet, expected in zip(book.sheetnames[1:], EXPECTED.values()):
        cells = [[c.value for c in row] for row in book[sheet].iter_rows()]
        assert cells == [expected[0], *[[number(text) for text in row] for row in expected[1:]]], sheet
        assert all(cell.font.bold for cell in book[sheet][1]) and book[sheet].freeze_panes == "A2"


def test_the_docx_has_the_title_every_table_with_its_cells_and_a_chart_with_alternative_text(written):
    document = docx.Document(io.BytesIO(written[f"{STEM}.docx"]))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    shapes = document.inline_shapes

    assert document.paragraphs[0].style.name == "Title" and document.paragraphs[0].text == TITLE
    assert [[c.text for c in row.cells] for row in document.tables[0].rows] == [
        ["Formulär", "BUS-avvikelse"], ["Period", "2026-01-01 – 2026-12-31"], ["Antal rapporter", "4"],
        ["Sammanställd", "2027-01-15 10:00"],
    ]  # fmt: skip
    assert headings == TITLES
    for table, (name, expected) in zip(document.tables[1:], EXPECTED.items()):
        cells = [[c.text for c in row.cells] for row in table.rows]
        if name == "07-svar-inom-svarstiden":  # no median where nobody answered: a dash in the document
            expected = [[text or "–" for text in row] for row in expected]
        assert cells == expected, name
    assert len(shapes) == len(TITLES)
    described = [(s._inline.docPr.get("title"), s._inline.docPr.get("descr")) for s in shapes]
    assert [title for title, _ in described] == TITLES
    assert described[1][1] == (
        "Stapeldiagram, vilket område gäller avvikelsen?. Samverkan enligt BUS-överenskommelsen i stort: 1; "
        "Den lokala BUS-gruppens arbete: 0; Placering: inför, under och efter: 1; "
        "Samordnad individuell plan (SIP): 2; Utredning av förskolebarn inför särskoleplacering: 0; Skolskjuts: 0; "
        "Läkarintyg för särskild kost i skolan: 0; Annat: 0."
    )
    assert "Grundskola: rapporterande 2, mottagande 2" in described[2][1]
    assert "Diagrammet visar bara raderna med något att räkna" in described[4][1]  # 28 huvudmän, 6 counted
    assert "Solna stad: rapporterande 1, mottagande 2" in described[4][1] and "Botkyrka" not in described[4][1]


def test_the_docx_keeps_the_house_style_of_the_kits_documents(written):
    data = written[f"{STEM}.docx"]
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    package = zipfile.ZipFile(io.BytesIO(data))

    assert section.header.paragraphs[0].text == "Redovisning av BUS-avvikelser\t2026-01-01 – 2026-12-31"
    assert "Barnets namn eller personnummer får inte anges i dokumentet." in section.footer.paragraphs[0].text
    assert document.styles["Normal"].font.name == "Calibri" and document.core_properties.language == "sv-SE"
    assert round(section.page_width.cm, 1) == 21.0 and round(section.left_margin.cm, 1) == 2.2
    assert sorted(n for n in package.namelist() if n.startswith("word/media/")) == sorted(
        f"word/media/chart{n}.png" for n in range(1, 9)
    )
    for name in package.namelist():
        if name.endswith(".png"):
            assert package.read(name).startswith(b"\x89PNG")


def test_labels_are_the_choices_titles_never_the_raw_values(written):
    values = {value for node in BUS.root.walk() for value, _ in node.choices}
    cells = set()
    for name, data in written.items():
        if name.endswith(".csv"):
            cells |= {c for row in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";") for c in row}

    assert cells & values == set()
    assert "Samordnad individuell plan (SIP)" in cells and "region-stockholm" not in cells


def test_the_period_is_counted_in_stockholm_time(register):
    record(register)
    made = summary.build(register, BUS, START, END, MADE)

    assert made.reports == 4  # 2026-12-31 23:30 in; 2027-01-01 00:30 (still 2026 in UTC) and 2025 out
    outcomes = {row[0]: row[1] for row in made.tables[6].rows}
    assert outcomes["Besvarade efter svarstiden"] == 2  # the answer at 00:30 on the day after the deadline is late


def test_a_value_the_form_no_longer_offers_is_counted_under_one_row_that_says_so(register):
    entry = new_report(BUS, answers("sip", ("grundskola", "solna"), [("bup", "solna")]), "BUS-20260601-GGGGGG",
                       at(2026, 6, 1, 9))  # fmt: skip
    register.record(dataclasses.replace(entry, statistics={**entry.statistics, "/omrade": ["gammalt-omrade"]}))

    area = summary.build(register, BUS, START, END, MADE).tables[1]

    assert area.rows[-1] == ("Val som inte längre finns i formuläret", 1, 100.0)
    assert "gammalt-omrade" not in repr(area)


def test_an_empty_period_gives_a_document_that_says_so(register, tmp_path):
    record(register)
    made = summary.build(register, BUS, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), MADE)
    paths = summary.write(made, tmp_path / "tom")
    document = docx.Document(str(paths[0]))

    assert [p.text for p in document.paragraphs if p.text][:2] == [
        "Redovisning av BUS-avvikelser inkomna under perioden 2024-01-01 till 2024-12-31",
        "Inga rapporter kom in under perioden 2024-01-01 till 2024-12-31.",
    ]
    assert len(document.tables) == 1 and len(document.inline_shapes) == 0  # the facts, no tables, no charts
    assert document.tables[0].rows[2].cells[1].text == "0"
    area = next(p for p in paths if p.name.endswith("-02-vilket-omrade-galler-avvikelsen.csv"))
    assert area.read_bytes().decode("utf-8-sig").splitlines()[-1] == "Totalt;0;"  # a share of nothing is empty
    assert openpyxl.load_workbook(paths[1])["Per månad"].max_row == 14


def test_a_period_of_more_than_two_years_is_counted_per_year(register):
    record(register)

    table = summary.build(register, BUS, datetime.date(2025, 1, 1), datetime.date(2027, 6, 30), MADE).tables[0]

    assert (table.name, table.rows, table.total) == ("Per år", (("2025", 1), ("2026", 4), ("2027", 1)), ("Totalt", 6))


def test_cells_read_as_swedish_writes_numbers():
    assert [word.cell(v) for v in (12345, 33.3, None, "Totalt")] == ["12\u00a0345", "33,3", "–", "Totalt"]
    assert sheets.slug("Vilket område gäller avvikelsen") == "vilket-omrade-galler-avvikelsen"


# ---- the command ----


@pytest.fixture
def operator(tmp_path, monkeypatch):
    """The environment of `formkit sammanstallning`: the real forms and a register of its own, no .env."""
    monkeypatch.chdir(tmp_path)
    for name in ("SCHEMA_DIR", "DATABASE_URL", "DOCS_DIR"):
        monkeypatch.delenv(f"FORMKIT_{name}", raising=False)
    monkeypatch.setenv("FORMKIT_SCHEMA_DIR", str(ROOT / "schema"))
    monkeypatch.setenv("FORMKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'formkit.db'}")
    register = Register(f"sqlite:///{tmp_path / 'formkit.db'}", secret_key=KEY)
    register.upgrade()
    yield register
    register.close()


def test_formkit_sammanstallning_writes_the_docx_the_xlsx_and_the_csv_files(operator, tmp_path, capsys):
    record(operator)

    code = cli.main(["sammanstallning", "--fran", "2026-01-01", "--till", "2026-12-31", "--ut", "redovisning"])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == f"{TITLE}: 4 rapporter, skriven till redovisning/"
    assert out[1:3] == [f"  {STEM}.docx", f"  {STEM}.xlsx"] and len(out) == 3 + len(EXPECTED)
    assert sorted(p.name for p in (tmp_path / "redovisning").iterdir()) == sorted(line.strip() for line in out[1:])
    month = (tmp_path / "redovisning" / f"{STEM}-01-per-manad.csv").read_bytes().decode("utf-8-sig")
    assert month.splitlines()[-1] == "Totalt;4"


def test_formkit_sammanstallning_names_the_form_it_summarises(operator, tmp_path, capsys):
    code = cli.main(["sammanstallning", "--fran", "2026-01-01", "--till", "2026-01-31", "--formular", "bus-avvikelse",
                     "--ut", str(tmp_path / "januari")])  # fmt: skip

    assert code == 0
    assert capsys.readouterr().out.startswith(
        "Redovisning av BUS-avvikelser inkomna under perioden 2026-01-01 till 2026-01-31: 0 rapporter"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--till", "2026-12-31", "--ut", "ut"],
         "Ange periodens första dag med --fran, till exempel --fran 2026-01-01."),
        (["--fran", "2026-01-01", "--ut", "ut"],
         "Ange periodens sista dag med --till, till exempel --till 2026-12-31."),
        (["--fran", "2026-13-01", "--till", "2026-12-31", "--ut", "ut"],
         '--fran ska vara ett datum som ÅÅÅÅ-MM-DD, till exempel 2026-01-01, men är "2026-13-01".'),
        (["--fran", "2026-01-01", "--till", "31/12/2026", "--ut", "ut"],
         '--till ska vara ett datum som ÅÅÅÅ-MM-DD, till exempel 2026-12-31, men är "31/12/2026".'),
        (["--fran", "2026-12-31", "--till", "2026-01-01", "--ut", "ut"],
         "--till (2026-01-01) är före --fran (2026-12-31). "
         "Ange periodens sista dag med --till: samma dag eller senare."),
        (["--fran", "2026-01-01", "--till", "2026-12-31"],
         "Ange mappen som sammanställningen ska skrivas till med --ut, till exempel --ut redovisning."),
        (["--fran", "2026-01-01", "--till", "2026-12-31", "--ut", "fil.txt"],
         "--ut fil.txt är en fil. Ange en mapp, ny eller befintlig."),
        (["--fran", "2026-01-01", "--till", "2026-12-31", "--ut", "ut", "--formular", "bus-avvikelser"],
         'Formuläret "bus-avvikelser" finns inte. Formulär med statistik: bus-avvikelse.'),
    ],
)  # fmt: skip
def test_a_bad_argument_is_one_plain_swedish_line_and_exit_code_2(operator, tmp_path, capsys, arguments, message):
    (tmp_path / "fil.txt").write_text("inte en mapp")

    code = cli.main(["sammanstallning", *arguments])

    captured = capsys.readouterr()
    assert (code, captured.err, captured.out) == (2, message + "\n", "")
    assert not (tmp_path / "ut").exists()


def test_a_register_not_upgraded_is_named_with_the_command_to_run(operator, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FORMKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")

    code = cli.main(["sammanstallning", "--fran", "2026-01-01", "--till", "2026-12-31", "--ut", "ut"])

    assert code == 1
    assert capsys.readouterr().err.endswith("has no register tables yet. Run: formkit db upgrade\n")
