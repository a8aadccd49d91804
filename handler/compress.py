"""The built site, precompressed: `.br` and `.gz` files beside the text files, and which one a request gets.

`precompress` runs at the end of every build: each HTML, CSS, JavaScript, JSON, SVG, XML or text file of
a kilobyte or more gets a Brotli (quality 11) and a gzip (level 9) copy when that is smaller, so a web
server sends them without compressing anything per request (nginx's `gzip_static` and `brotli_static`,
Caddy's `precompressed`, and `formkit serve` through `encoded`). Quality 11 takes about a second per
100 kB, so results are kept by content in the user's cache folder (`~/.cache/formkit/compressed`,
or `$XDG_CACHE_HOME`): the theme's files, the same in every build, are compressed once per machine.

`cache_control` says how long a browser may keep a file: a name with a content hash in it (Material's
`main.57a0d79d.min.css`) never changes its content, so a year and `immutable`; anything else (pages,
formkit.css and formkit.js, whose names pages and tests rely on) is revalidated each time (`no-cache`,
answered with 304 while its ETag matches).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
from pathlib import Path

import brotli

TEXT = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".webmanifest"}
SMALLEST = 1024  # below a kilobyte the headers weigh more than compression saves
ENCODINGS = {"br": ".br", "gzip": ".gz"}  # in the order they are preferred
HASHED = re.compile(r"\.[0-9a-f]{8,}\.(?:min\.)?(?:css|js)$")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def precompress(site: Path) -> int:
    """Write `.br` and `.gz` beside each compressible file of `site`; return how many files were written."""
    cache = _cache_folder()
    written = 0
    for path in sorted(site.rglob("*")):
        if path.suffix not in TEXT or not path.is_file():
            continue
        content = path.read_bytes()
        if len(content) < SMALLEST:
            continue
        key = hashlib.sha256(content).hexdigest()
        for suffix, compress in ((".br", _brotli), (".gz", _gzip)):
            packed = _cached(cache, f"{key}{suffix}", compress, content)
            if len(packed) < len(content):
                path.with_name(path.name + suffix).write_bytes(packed)
                written += 1
    return written


def encoded(path: Path, accept_encoding: str) -> tuple[Path, str | None]:
    """Return the file to send for `path` and its Content-Encoding: a precompressed copy the client accepts,
    else `path` itself and None."""
    accepted = _accepted(accept_encoding)
    for encoding, suffix in ENCODINGS.items():
        if encoding in accepted:
            candidate = path.with_name(path.name + suffix)
            if candidate.is_file():
                return candidate, encoding
    return path, None


def cache_control(name: str) -> str:
    """Return the Cache-Control of a file of the built site, by its name."""
    return IMMUTABLE if HASHED.search(name) else REVALIDATE


def _accepted(header: str) -> set[str]:
    """Return the codings an Accept-Encoding header accepts (`q=0` refuses one, `*` accepts any)."""
    accepted = set()
    for item in header.lower().split(","):
        coding, _, parameters = item.partition(";")
        parameters = parameters.strip()
        try:
            quality = float(parameters[2:]) if parameters.startswith("q=") else 1.0
        except ValueError:
            quality = 1.0
        if quality > 0:
            accepted.add(coding.strip())
    return set(ENCODINGS) if "*" in accepted else accepted


def _brotli(content: bytes) -> bytes:
    return brotli.compress(content, quality=11)


def _gzip(content: bytes) -> bytes:
    return gzip.compress(content, 9, mtime=0)  # mtime 0: the same bytes for the same content


def _cache_folder() -> Path | None:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "formkit" / "compressed"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # no cache (a read-only home): compress each time
    return folder


def _cached(folder: Path | None, name: str, compress, content: bytes) -> bytes:
    """Return the cached bytes called `name`, or compress `content`, keep and return them."""
    if folder is None:
        return compress(content)
    path = folder / name
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = compress(content)
    try:  # another build may write the same name at once: whole files only, by rename
        handle, temporary = tempfile.mkstemp(dir=folder)
    except OSError:
        return data
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
    return data
