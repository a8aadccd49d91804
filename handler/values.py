"""How one FORMKIT_* value is read: each reader returns the typed value or raises ValueError saying why.

`settings.py` declares which variable uses which reader; the readers know nothing of the variables, so a
problem line (`FORMKIT_SMTP_PORT="x" is not a port number (1–65535).`) is the declaration's name plus
the reader's words.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable
from email.utils import parseaddr

KEY_LENGTH = 32  # characters of a key that signs answer links
MAKE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


def text(value) -> str:
    return str(value).strip()  # always a string, whatever it looks like: digits, `true`, JSON


def boolean(value) -> bool:
    word = str(value).strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise ValueError("is not true or false (write true/false, yes/no or 1/0)")


def whole(expected: str, least: int, most: int = 10**12) -> Callable[[object], int]:
    """Return a reader of whole numbers from `least` to `most` (plain digits only)."""

    def read(value) -> int:
        word = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,13}", word) or not least <= int(word) <= most:
            raise ValueError(expected)
        return int(word)

    return read


def number(expected: str, *, zero: bool) -> Callable[[object], float]:
    """Return a reader of finite numbers that are not negative (and, unless `zero`, not 0 either)."""

    def read(value) -> float:
        try:
            found = float(str(value).strip()) if not isinstance(value, bool) else -1.0
        except ValueError:
            found = -1.0
        if not math.isfinite(found) or found < 0 or (found == 0 and not zero):
            raise ValueError(expected)
        return found

    return read


port = whole("is not a port number (1–65535)", 1, 65535)
count = whole("is not a whole number (0 or more)", 0)
size = whole("is not a number of bytes (a whole number above 0, such as 262144)", 1)
seconds = number("is not a number of seconds (0 or more, such as 30 or 0.5)", zero=True)
timeout = number("is not a number of seconds above 0 (such as 10 or 0.5)", zero=False)
days = number("is not a number of days above 0 (such as 180)", zero=False)


def address(value) -> str:
    written = text(value)
    name, addr = parseaddr(written)
    if "@" not in addr or " " in addr or any(c in written for c in "\r\n"):
        raise ValueError('is not an e-mail address (such as "Formulärtjänsten <no-reply@example.se>")')
    return written


def address_or_empty(value) -> str:
    return address(value) if text(value) else ""


def domain(value) -> str:
    label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    if not re.fullmatch(rf"{label}(?:\.{label})*", written := text(value)):
        raise ValueError("is not a domain name (such as bus.example.se)")
    return written


def web_address(value) -> str:
    if not _is_web_address(written := text(value)):
        raise ValueError("is not a web address (such as https://bus.example.se)")
    return written


def origins(value) -> tuple[str, ...]:
    listed = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    found = tuple(text(origin) for origin in listed if text(origin))
    if not all(_is_web_address(origin) for origin in found):
        raise ValueError('is not a list of web sites (such as "https://intranat.example.se, https://www.example.se")')
    return found


def rate_limit(value) -> str:
    from limits import parse_many

    written = text(value)  # empty: no limit
    try:
        if written:
            parse_many(written)
    except ValueError:
        raise ValueError('is not a rate limit. Write it like "10 per minute" or "5/minute; 50/hour"') from None
    return written


def storage_uri(value) -> str:
    from limits.storage import SCHEMES

    written = text(value) or "memory://"
    if "://" not in written or urllib.parse.urlsplit(written).scheme not in SCHEMES:
        raise ValueError("is not a storage address for the rate limit (such as memory:// or redis://host:6379)")
    return written


def keys(value) -> tuple[str, ...]:
    expected = 'is not a list of former keys (a JSON list such as ["old-key"], or keys separated by commas)'
    listed = value if isinstance(value, list | tuple) else str(value).split(",")
    if not isinstance(value, list | tuple) and text(value).startswith("["):
        try:
            listed = json.loads(str(value))
        except ValueError:
            listed = None
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise ValueError(expected)
    return tuple(text(item) for item in listed if text(item))


DATABASES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")


def database_url(value) -> str:
    expected = "is not a database address (such as sqlite:///var/formkit.db or postgresql+psycopg://user@host/formkit)"
    from sqlalchemy.engine import make_url

    written = text(value)
    try:
        parsed = make_url(written)
    except Exception:  # sqlalchemy's ArgumentError, or a ValueError from a bad port
        raise ValueError(expected) from None
    if parsed.drivername not in DATABASES or (parsed.drivername.startswith("sqlite") and not parsed.database):
        raise ValueError(expected)
    return written


def register_key(value) -> str:
    written = text(value)
    if written and len(written) < KEY_LENGTH:
        raise ValueError(f"has {len(written)} characters; the register's key needs {KEY_LENGTH} or more. {MAKE_KEY}")
    return written


def _is_web_address(written: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(written)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in written)
