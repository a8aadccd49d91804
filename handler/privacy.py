"""Find Swedish personnummer and samordningsnummer in free text, so no child can be identified."""

from __future__ import annotations

import datetime
import re

from stdnum import luhn
from stdnum.se import personnummer

# Six or eight digits of date, an optional separator (-, + or one space), four digits; digit
# boundaries on both sides so longer numbers (order numbers, phone numbers) are not sliced up.
CANDIDATE = re.compile(r"(?<![\d-])(\d{6}|\d{8})([-+ ]?)(\d{4})(?![\d])")


def find_identity_number(text: str) -> str | None:
    """Return the first valid personnummer or samordningsnummer in `text`, or None."""
    for match in CANDIDATE.finditer(text):
        date_part, separator, tail = match.groups()
        if not separator and len(date_part) == 6 and date_part.startswith("07"):
            continue  # 07xxxxxxxx without separator is a Swedish mobile number
        if _is_personnummer(match.group(0)) or _is_samordningsnummer(date_part, tail):
            return match.group(0)
    return None


def _is_personnummer(candidate: str) -> bool:
    try:
        return personnummer.is_valid(candidate)
    except Exception:  # stdnum raises on odd centuries in some versions; such a number is not valid
        return False


def _is_samordningsnummer(date_part: str, tail: str) -> bool:
    """A samordningsnummer is a personnummer whose day of month has 60 added."""
    day = int(date_part[-2:])
    if day <= 60:
        return False
    month = int(date_part[-4:-2])
    if len(date_part) == 8:
        years = [int(date_part[:4])]
    else:
        yy = int(date_part[:2])
        years = [1900 + yy, 2000 + yy]
    if not any(_real_date(year, month, day - 60) for year in years):
        return False
    return luhn.is_valid(date_part[-6:] + tail)


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True
