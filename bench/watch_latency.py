"""How long from saving a file to a new build that open browsers reload to (`formkit serve --watch`).

Copies the project to a temporary folder, starts the watcher there, edits a page, the theme's CSS and
a schema in turn, and prints the median and the slowest time until the new build number is served.
Browsers poll every 0.4 s, so add up to that for the reload itself.

    .venv/bin/python bench/watch_latency.py [rounds]
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(rounds: int = 9) -> None:
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from handler.app import create_app
    from handler.cli import build_site
    from handler.register import Register
    from handler.settings import load
    from handler.watch import Watcher

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in ("docs", "schema", "site"):
            shutil.copytree(ROOT / name, root / name)
        shutil.copy(ROOT / "mkdocs.yml", root)
        os.chdir(root)
        build_site()
        key = secrets.token_urlsafe(48)  # create_app() without TESTING is production: it needs a key
        config = {"PUBLIC_DIR": str(root / "public"), "OUTBOX_DIR": "", "SECRET_KEY": key}
        Register.from_settings(load(config)).upgrade()  # what `formkit db upgrade` does (var/ in the copy)
        app = create_app(config)
        watcher = Watcher(app)
        watcher.start()
        edits = [
            (root / "docs" / "rapportera.md", "Fyll i formuläret", "Fyll i formuläret"),
            (root / "site" / "assets" / "formkit.css", ".formkit", ".formkit"),
            (root / "schema" / "bus-avvikelse.json", '"title": "Enhet"', '"title": "Enhet"'),
        ]
        seconds = []
        for index in range(rounds):
            path, old, new = edits[index % len(edits)]
            before = watcher.builds.number
            text = path.read_text(encoding="utf-8")
            started = time.perf_counter()
            path.write_text(text.replace(old, new + ("" if index % 2 else " "), 1), encoding="utf-8")
            while watcher.builds.number == before:
                time.sleep(0.005)
            seconds.append(time.perf_counter() - started)
            time.sleep(0.3)
        watcher.stop()
    print(f"save to new build, {rounds} edits (page, CSS, schema):")
    print(f"  median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s")
    print(f"  with the browser's 0.4 s poll: at most {max(seconds) + 0.4:.2f} s to reload")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
