"""The OPC package around the body: parts, relationships, content types, properties and styles.

python-docx's `Document()` parses ~800 kB of styles and its proxies look styles up by name for every
paragraph, which made a render cost ~45 ms. So the look is built once with python-docx (`template`:
styles, language, hyphenation, bullets, footer), and each document adds only its body, header and
properties to a copy of those parts: a few milliseconds. The shared parts are compressed once too
(`Member`): compressing them again for every document was a quarter of a render, so the ZIP file is
written here from members compressed ahead (`zip_file`), not by `zipfile`, which compresses all it writes.
"""

from __future__ import annotations

import copy
import datetime
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from lxml import etree

from . import wml

REMINDER = "Barnets namn eller personnummer får inte anges i dokumentet."
LANGUAGE = "sv-SE"
AUTHOR = "Formulärtjänsten"
COLOUR = "002B50"
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
ORDER = ("[Content_Types].xml", "_rels/.rels", *PARTS, "word/_rels/document.xml.rels")

CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def package(body: wml.Body, *, title: str, reference: str, subject: str, created: datetime.datetime) -> bytes:
    """Return the finished DOCX: the shared parts plus this document's body, header and properties."""
    shared = template()
    body.element.append(copy.deepcopy(shared.section))
    made = {
        "word/document.xml": wml.xml(body.root),
        "word/header1.xml": wml.xml(wml.header(title, reference)),
        "docProps/core.xml": _core(f"{title} {reference}", subject, reference, created),
    }
    return zip_file([Member.of(name, made[name]) if name in made else shared.members[name] for name in ORDER])


@dataclass(frozen=True)
class Template:
    """The parts that are the same in every document (compressed once), and the section properties."""

    parts: dict[str, bytes]
    section: etree._Element
    members: dict[str, Member]


@dataclass(frozen=True)
class Member:
    """One file of a ZIP archive, compressed (raw deflate): its name, CRC-32, sizes and bytes."""

    name: bytes
    crc: int
    size: int
    data: bytes

    @classmethod
    def of(cls, name: str, content: bytes) -> Member:
        """Return the member `name` holding `content`, compressed at zlib's default level."""
        packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        data = packer.compress(content) + packer.flush()
        return cls(name.encode(), zlib.crc32(content), len(content), data)


# ZIP's fixed fields (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16): version 2.0, flag bit 11 (UTF-8 names),
# deflate, and 1980-01-01 00:00 as every member's time (the core properties hold the real one).
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_VERSION, _UTF8, _DEFLATE, _TIME, _DATE = 20, 0x800, 8, 0, (0 << 9) | (1 << 5) | 1


def zip_file(members: list[Member]) -> bytes:
    """Return a ZIP archive of already compressed members, in their order."""
    chunks, directory, offset = [], [], 0
    for m in members:
        local = _LOCAL.pack(b"PK\x03\x04", _VERSION, _UTF8, _DEFLATE, _TIME, _DATE, m.crc, len(m.data), m.size,
                            len(m.name), 0)  # fmt: skip
        chunks += (local, m.name, m.data)
        central = _CENTRAL.pack(b"PK\x01\x02", _VERSION, _VERSION, _UTF8, _DEFLATE, _TIME, _DATE, m.crc,
                                len(m.data), m.size, len(m.name), 0, 0, 0, 0, 0, offset)  # fmt: skip
        directory += (central, m.name)
        offset += len(local) + len(m.name) + len(m.data)
    size = sum(map(len, directory))
    end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), size, offset, 0)
    return b"".join((*chunks, *directory, end))


@lru_cache(maxsize=1)
def template() -> Template:
    """Build the document's look once with python-docx: styles, language, hyphenation, bullets, footer."""
    document = Document()
    _styles(document)
    parts = {str(part.partname).lstrip("/"): part.blob for part in document.part.package.iter_parts()}
    kept = {name: parts[name] for name in PARTS if name in parts} | _package_files()
    kept["word/footer1.xml"] = wml.xml(wml.footer(REMINDER, "Sida ", " av "))  # the same in every document
    section = wml.section_properties(_relationship_id("word/header1.xml"), _relationship_id("word/footer1.xml"))
    return Template(kept, section, {name: Member.of(name, content) for name, content in kept.items()})


def _core(title: str, subject: str, reference: str, created: datetime.datetime) -> bytes:
    """Return docProps/core.xml: title, subject, author, identifier, language, created."""
    root = etree.Element(f"{{{CP}}}coreProperties", nsmap={"cp": CP, "dc": DC, "dcterms": DCTERMS, "xsi": XSI})
    stamp = created.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for namespace, name, text in (
        (DC, "title", title),
        (DC, "subject", subject),
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
    return wml.xml(root)


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
    files = {"[Content_Types].xml": wml.xml(types)}
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
        files[path] = wml.xml(rels)
    return files


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
