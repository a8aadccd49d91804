"""References that people can read aloud: PREFIX-YYYYMMDD-XXXXXX."""

from __future__ import annotations

import datetime
import secrets
from zoneinfo import ZoneInfo

# Digits and capitals without the look-alikes 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
TIMEZONE = ZoneInfo("Europe/Stockholm")


def now() -> datetime.datetime:
    """Return the current time in Stockholm, the kit's time zone for dates people see."""
    return datetime.datetime.now(TIMEZONE)


def new_reference(prefix: str, when: datetime.datetime | None = None) -> str:
    """Return a new reference: the prefix, the date and six random characters."""
    day = (when or now()).strftime("%Y%m%d")
    return f"{prefix}-{day}-{''.join(secrets.choice(ALPHABET) for _ in range(LENGTH))}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
