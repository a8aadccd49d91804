"""Print the verdict on each schema of the public corpus (tests/fixtures/corpus/) and the totals.

Run: PYTHONPATH=. .venv/bin/python bench/corpus.py [name ...]
Each schema is checked (`formkit check`), rendered, posted with valid answers on the JSON and the
form-encoded path, and read back from the mailed DOCX (tests/corpus.py says how). One line per schema:
works / refused (the problem) / broken (what went wrong) / loses data (what is missing), then the totals.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


def main(argv: list[str]) -> int:
    from corpus import BROKEN, LOSES, REFUSED, WORKS, try_all

    logging.disable(logging.WARNING)  # the kit's warnings about other tools' schemas are not the point here
    verdicts = try_all(argv or None)
    for verdict in verdicts:
        print(verdict.line())
    totals = Counter(verdict.verdict for verdict in verdicts)
    print()
    print(
        f"{len(verdicts)} schemas: {totals[WORKS]} works, {totals[REFUSED]} refused, "
        f"{totals[BROKEN]} broken, {totals[LOSES]} loses data"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
