"""Find Swedish personnummer and samordningsnummer in free text, so no child can be identified.

People write them in many ways: 811218-9876, 811218 - 9876, 811218 98 76, 19811218–9876 with an en
dash, with a no-break or zero-width space, in full-width digits. So the text is first brought to one
spelling: every decimal digit of any script becomes 0-9, every space (SPACES) a space, every dash or
minus sign (DASHES) a "-", every plus sign (PLUSES) a "+", and invisible characters (INVISIBLE) are
dropped. In that text a candidate is a whole group of digits:

- a date of 6 or 8 digits, a gap of spaces, dashes and pluses, then 4 digits or two groups of 2; or
- 10 or 12 digits written together (but not 07xxxxxxxx, which is a Swedish mobile number).

It is an identity number when the date is real (with 60 added to the day for a samordningsnummer;
six digits may be of the 1900s or 2000s, eight digits start with 18, 19 or 20) and the Luhn check
digit is right. Phone numbers, dates and longer order numbers have no such group and pass.

Every step is linear in the length of the text (translation, one regex without nested repetition).
hasIdentityNumber in site/assets/formkit.js follows exactly these rules and sets, and
tests/fixtures/identity-numbers.json holds the cases both must agree on.
"""

from __future__ import annotations

import calendar
import re
import unicodedata


def _span(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


# The sets are written out (not Unicode categories looked up at run time) so that the browser,
# whose Unicode tables may be newer, uses exactly the same characters.
SPACES = "\t \u00a0\u1680" + _span(0x2000, 0x200A) + "\u202f\u205f\u3000"  # tab and every space (Zs)
DASHES = (  # every dash (Pd) and the minus signs
    "-\u058a\u05be\u1400\u1806" + _span(0x2010, 0x2015) + "\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030"
    "\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead\u2212\u207b\u208b"
)
PLUSES = "+\u207a\u208a\ufe62\uff0b"
# Soft hyphen, Arabic letter mark, zero-width space, joiners, direction marks, word joiner, BOM.
INVISIBLE = "\u00ad\u061c\u180e" + _span(0x200B, 0x200F) + _span(0x202A, 0x202E) + _span(0x2060, 0x206F) + "\ufeff"

_TABLE = {ord(c): s for chars, s in ((SPACES, " "), (DASHES, "-"), (PLUSES, "+"), (INVISIBLE, None)) for c in chars}
# Whole groups of digits only: no digit right before or after. No repetition is nested, and a gap is
# taken whole (possessive: it cannot end in a digit anyway, so formkit.js's plain "+" gives the same
# verdict), so the search is linear.
_DATE, _GAP = "([0-9]{6}|[0-9]{8})", "[ +-]++"
CANDIDATE = re.compile(
    rf"(?<![0-9])(?:{_DATE}{_GAP}([0-9]{{4}}|[0-9]{{2}}{_GAP}[0-9]{{2}})|([0-9]{{10}}|[0-9]{{12}}))(?![0-9])"
)


def find_identity_number(text: str) -> str | None:
    """Return the first valid personnummer or samordningsnummer in `text` (in one spelling), or None."""
    for match in CANDIDATE.finditer(one_spelling(text)):
        date, number, together = match.groups()
        if together:
            if len(together) == 10 and together.startswith("07"):
                continue  # a mobile number
            date, number = together[:-4], together[-4:]
        elif len(number) > 4:
            number = number[:2] + number[-2:]  # two groups of two digits
        if is_identity_number(date, number):
            return match.group(0)
    return None


def one_spelling(text: str) -> str:
    """Return `text` with digits as 0-9, spaces as " ", dashes as "-", pluses as "+", invisibles dropped."""
    if text.isascii():
        return text.replace("\t", " ")
    # One table, with the few distinct digits of other scripts that occur: one pass at C speed.
    digits = {ord(c): str(unicodedata.decimal(c)) for c in set(text) if c.isdecimal() and not c.isascii()}
    return text.translate(_TABLE | digits)


def is_identity_number(date: str, number: str) -> bool:
    """Return True when a date of 6 or 8 digits and 4 more digits make a personnummer or samordningsnummer."""
    if len(date) == 8 and date[:2] not in ("18", "19", "20"):
        return False
    if date[-4:] not in _MONTH_DAYS:
        return False
    if date[-4:] in ("0229", "0289"):  # only in leap years; six digits may be of the 1900s or the 2000s
        years = [int(date[:4])] if len(date) == 8 else [1900 + int(date[:2]), 2000 + int(date[:2])]
        if not any(calendar.isleap(year) for year in years):
            return False
    d = date[-6:] + number
    return (_LUHN[d[:2]] + _LUHN[d[2:4]] + _LUHN[d[4:6]] + _LUHN[d[6:8]] + _LUHN[d[8:]]) % 10 == 0


# Every month and day a date can have (day + 60 in a samordningsnummer), as MMDD.
_MONTH_DAYS = {
    f"{month:02d}{day + extra:02d}"
    for month in range(1, 13)
    for day in range(1, calendar.monthrange(2000, month)[1] + 1)
    for extra in (0, 60)
}
# Luhn's sum for a pair of digits of a ten-digit number: the first is doubled (its digits summed), the second not.
# python-stdnum's luhn gives the same verdict (tests/test_privacy.py), at a quarter of the speed: one body
# can hold 24,000 candidates.
_LUHN = {f"{a}{b}": (2 * a if a < 5 else 2 * a - 9) + b for a in range(10) for b in range(10)}
