"""Time DOCX rendering (`render_report`): N renders of a typical report (and of one with the longest answers allowed).

Run: .venv/bin/python bench/render_docx.py [N]   (default N = 300). Prints median and p95 in milliseconds.
The target is a median under 15 ms for the typical report.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The bench folder must not shadow anything: the project root comes first.
sys.path[0] = str(ROOT)
sys.path.insert(1, str(ROOT / "tests"))

from handler import normalise  # noqa: E402
from handler.document import render_report  # noqa: E402
from handler.forms import load_forms  # noqa: E402
from handler.reference import now  # noqa: E402
from support import valid_answers  # noqa: E402


def measure(render, count: int) -> tuple[float, float]:
    """Return the median and 95th percentile of `count` calls, in milliseconds (after one warm-up call)."""
    render()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    forms = load_forms(ROOT / "schema")
    form, reply = forms["bus-avvikelse"], forms["bus-avvikelse-svar"]
    typical = normalise.clean(normalise.from_pairs(form, list(valid_answers().items())))
    lines = "\n".join(f"- Punkt {i}: samverkan kring barnet fungerade inte som avtalat" for i in range(80))
    longest = {
        **typical,
        "beskrivning": {**typical["beskrivning"], "handelsen": lines[:5000], "forslag_atgard": lines[:5000]},
    }
    created = now()
    for name, data in (("typical report", typical), ("report with 2 x 5,000-character answers", longest)):
        median, p95 = measure(lambda data=data: render_report(form, data, "BUS-20261122-7KQ2MX", created, reply), count)
        print(f"render_report, {name}: median {median:.2f} ms, p95 {p95:.2f} ms ({count} renders)")


if __name__ == "__main__":
    main()
