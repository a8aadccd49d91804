"""Files in answers: how a file is written in an answer, what it is by its content, and what of it is kept.

A file field's answer is a string, as its schema says: a data-url (`data:application/pdf;name=intyg.pdf;base64,…`,
for `format: data-url`, as react-jsonschema-form writes it) or plain base64 (`contentEncoding: base64`). A
multipart upload is turned into that string as it is read (body.py), so JSON and form posts are validated
alike. The content is only ever held in memory: it goes to the e-mail's attachments and the outbox, while the
register, the logs and the check page's text get its name, size and type (`described`).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import urllib.parse
import zipfile
from dataclasses import dataclass

from .fields import Field, Kind

DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[^;,]*)*)(;base64)?,", re.ASCII)
NAMES = {
    "application/pdf": ("PDF", ".pdf"),
    "image/png": ("PNG-bild", ".png"),
    "image/jpeg": ("JPEG-bild", ".jpg"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("Word-dokument (DOCX)", ".docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Excel-fil (XLSX)", ".xlsx"),
    "text/plain": ("textfil", ".txt"),
}
_SAFE_NAME = re.compile(r"[^\w .,()+-]", re.UNICODE)


class FileProblem(ValueError):
    """A file that cannot be taken: `rule` is "fileEncoding", "fileType" or "fileSize"."""

    def __init__(self, rule: str, name: str):
        super().__init__(rule)
        self.rule, self.name = rule, name


@dataclass(frozen=True)
class Upload:
    """One file of an answer: its name, media type (by its content) and bytes."""

    name: str
    type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def is_data_url(node: Field) -> bool:
    """Return whether the field's files are written as data-urls (else as plain base64)."""
    return node.format == "data-url"


def encoded_limit(node: Field) -> int:
    """Return the longest answer string a file of `max_bytes` can be: base64 plus a data-url's header."""
    return (node.max_bytes + 2) // 3 * 4 + 1024


def written(node: Field, name: str, data: bytes) -> str:
    """Return an uploaded file as the field's schema writes it: a data-url with its name, or plain base64."""
    encoded = base64.b64encode(data).decode("ascii")
    if not is_data_url(node):
        return encoded
    kind = sniff(data) or "application/octet-stream"
    return f"data:{kind};name={urllib.parse.quote(safe_name(name), safe='')};base64,{encoded}"


def read(node: Field, value: str) -> Upload:
    """Return the file an answer string holds, checked against the field; raise FileProblem saying why not."""
    name, declared, text = "", "", value
    if is_data_url(node):
        match = DATA_URL.match(value)
        if not match or not match.group(3):
            raise FileProblem("fileEncoding", "")
        declared, name = (match.group(1) or "").lower(), _name_in(match.group(2))
        text = value[match.end() :]
    if len(text) > encoded_limit(node):
        raise FileProblem("fileSize", name)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FileProblem("fileEncoding", name) from None
    if len(data) > node.max_bytes:
        raise FileProblem("fileSize", name)
    kind = sniff(data)
    claimed = declared not in ("", kind, "application/octet-stream")  # a PNG sent as "application/pdf"
    if kind is None or kind not in node.accept or claimed:
        raise FileProblem("fileType", name)
    extension = NAMES[kind][1]
    if not name:
        name = safe_name(node.title) or node.name
    if not name.lower().endswith(extension) and not (kind == "image/jpeg" and name.lower().endswith(".jpeg")):
        name += extension
    return Upload(name, kind, data)


def name_of(node: Field, value: str) -> str:
    """Return the file name a data-url names ("" for none, or plain base64), reading only its header."""
    match = DATA_URL.match(value[:2048]) if is_data_url(node) else None
    return _name_in(match.group(2)) if match else ""


def _name_in(parameters: str) -> str:
    for parameter in parameters.split(";")[1:]:
        key, _, raw = parameter.partition("=")
        if key == "name":
            return safe_name(urllib.parse.unquote(raw))
    return ""


def sniff(data: bytes) -> str | None:
    """Return a file's media type by its content (magic bytes; the parts inside a DOCX or XLSX), or None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return None
    if data and _is_text(data):
        return "text/plain"
    return None


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def safe_name(name: str) -> str:
    """Return a file name without a folder, control characters or characters a mail program could misread."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" .")
    return cleaned[:100]


def size_text(size: int) -> str:
    """Return a size as Swedish writes it: "840 byte", "12 kB", "1,4 MB"."""
    if size < 1000:
        return f"{size} byte"
    if size < 1_000_000:
        return f"{round(size / 1000)} kB"
    return f"{size / 1_000_000:.1f} MB".replace(".", ",").replace(",0 MB", " MB")


def types_text(node: Field) -> str:
    """Return the field's file types in words: "PDF eller PNG-bild"."""
    words = [NAMES[t][0] for t in node.accept if t in NAMES]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " eller " + words[-1]


def uploads(node: Field, value) -> list[Upload]:
    """Return the files of one file field's answer (one, or a list); those that cannot be read are left out."""
    found = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item:
            try:
                found.append(read(node, item))
            except FileProblem:
                continue
    return found


def attachments(root: Field, data) -> list[Upload]:
    """Return every file of a submission, in the form's order."""
    found: list[Upload] = []
    stack = [(root, data)]
    while stack:
        node, value = stack.pop(0)
        if node.kind == Kind.FILE:
            found.extend(uploads(node, value))
        elif node.kind == Kind.GROUP and isinstance(value, dict):
            stack[:0] = [(child, value[child.name]) for child in node.members() if child.name in value]
        elif node.kind == Kind.LIST and node.item is not None and isinstance(value, list):
            stack[:0] = [(node.item, item) for item in value]
    return found


def described(root: Field, data):
    """Return the answers with each file replaced by its name, size and type: what may be kept of it."""
    if root.kind == Kind.FILE:
        listed = [{"name": u.name, "size": u.size, "type": u.type} for u in uploads(root, data)]
        return listed if root.multiple else (listed[0] if listed else None)
    if root.kind == Kind.GROUP and isinstance(data, dict):
        by_name = {child.name: child for child in root.members()}
        return {k: (described(by_name[k], v) if k in by_name else v) for k, v in data.items()}
    if root.kind == Kind.LIST and root.item is not None and isinstance(data, list):
        return [described(root.item, item) for item in data]
    return data


def shown(node: Field, value) -> str:
    """Return a file answer as people read it: "intyg.pdf (1,4 MB)", several joined by commas."""
    items = value if isinstance(value, list) else [value]
    texts = []
    for item in items:
        if isinstance(item, dict) and "name" in item:
            texts.append(f"{item['name']} ({size_text(int(item.get('size') or 0))})")
        elif isinstance(item, str) and item:
            texts.extend(f"{u.name} ({size_text(u.size)})" for u in uploads(node, item))
    return ", ".join(texts)
