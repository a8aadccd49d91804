"""Log lines nobody can forge or read a secret from: client values escaped, answer tokens redacted.

A value a client chose (a header, a path) goes into a line through `safe`, between double quotes,
so it can never end the line or add a key=value pair of its own. The answer link's token is a
secret for as long as it is valid, and it reaches the access logs of werkzeug and gunicorn in the
query string; `RedactTokens` replaces it in the final line, whoever wrote it.
"""

from __future__ import annotations

import logging
import re

# Written out, since a log line is read by people and parsers that handle these in their own ways.
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}
_TOKEN = re.compile(r"(?<=[?&;])(_?token)=[^&#\s\"']*", re.IGNORECASE)
REDACTED = "[dold]"


def safe(value: str, limit: int = 200) -> str:
    """Return `value` cut to `limit` characters, with line breaks, controls, quotes and non-printables escaped."""
    value = str(value)
    cut = value[:limit]
    if cut.isprintable() and "\\" not in cut and '"' not in cut:
        escaped = cut  # the usual case: nothing to do
    else:
        escaped = "".join(_escape(char) for char in cut)
    return escaped + "…" if len(value) > limit else escaped


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)  # controls, separators such as U+2028, invisible and direction-changing characters
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def redact(message: str) -> str:
    """Return `message` with the value of every token= and _token= query parameter replaced by [dold]."""
    return _TOKEN.sub(rf"\1={REDACTED}", message) if "token=" in message.lower() else message


class RedactTokens(logging.Filter):
    """A filter that removes answer tokens from a record's final message (access log lines included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            # The finished line replaces the format and its arguments, so no handler can format it again.
            record.msg, record.args = cleaned, None
        return True


def install(logger_names: tuple[str, ...] = ("werkzeug", "gunicorn.access", "formkit")) -> None:
    """Attach RedactTokens to each named logger and to every logger below it that exists already."""
    below = tuple(f"{name}." for name in logger_names)
    # A logger's filter sees only the records logged on that very logger, not those of its children.
    names = [*logger_names, *(name for name in list(logging.root.manager.loggerDict) if name.startswith(below))]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())
