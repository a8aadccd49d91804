"""The whole-project check: every form in schema/, and the pages in docs/ that place them.

One function, `check_project`, serves `formkit check`, the site build (the Markdown extension) and the
handler's start (`create_app`), so all three accept and refuse the same things. What it finds are
`Problem` values (errors and warnings), sorted and without repeats; they become text when printed.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .conventions import Problem, did_you_mean, in_order
from .errors import FormDefinitionError
from .forms import Form, read_forms

DIRECTIVE = re.compile(r"^\[\[form\s+([^\]\s]+)\s*\]\]\s*$")
log = logging.getLogger("formkit.check")


@dataclass
class Checked:
    """What a check found: the good forms, every problem (error) and warning, and where each form is placed."""

    forms: dict[str, Form]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    pages: dict[str, list[tuple[Path, int]]] = field(default_factory=dict)

    def ok(self) -> dict[str, Form]:
        """Return the forms, or raise FormDefinitionError listing every problem, one line each."""
        if self.problems:
            raise FormDefinitionError([str(problem) for problem in self.problems])
        return self.forms


def docs_dir_for(schema_dir: str | Path, docs_dir: str | Path | None = None) -> Path:
    """Return the pages folder: the one given, else `docs` beside the schema folder."""
    return Path(docs_dir) if docs_dir else Path(schema_dir).parent / "docs"


def check_project(schema_dir: str | Path, docs_dir: str | Path | None = None) -> Checked:
    """Check every form and the pages that place them; `docs_dir` defaults to `docs` beside `schema_dir`.

    Without a pages folder (a handler deployed with schema/ only) the placement check is left out,
    unless the folder was named explicitly.
    """
    forms, problems, warnings = read_forms(schema_dir)
    checked = Checked(forms, problems, warnings)
    docs = docs_dir_for(schema_dir, docs_dir)
    if docs.is_dir():
        checked.pages = placements(docs)
        checked.problems.extend(_placement_problems(Path(schema_dir), docs, forms, checked.pages))
    elif docs_dir:
        message = "mappen med sidor finns inte. Ange rätt mapp, till exempel docs."
        checked.problems.append(Problem(str(docs), message=message))
    checked.problems = in_order(checked.problems)
    return checked


def placements(docs_dir: Path) -> dict[str, list[tuple[Path, int]]]:
    """Return, for each form id named by a `[[form id]]` line, the pages and lines that name it."""
    found: dict[str, list[tuple[Path, int]]] = {}
    for page in sorted(docs_dir.rglob("*.md")):
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            match = DIRECTIVE.match(line)
            if match:
                found.setdefault(match.group(1), []).append((page, number))
    return found


def _placement_problems(schema_dir: Path, docs: Path, forms: dict[str, Form], pages) -> list[Problem]:
    """Each form on exactly one page; each placed form exists. A linked reply form may be on none."""
    problems = []
    known = sorted(path.stem for path in schema_dir.glob("*.json"))
    for form_id, places in pages.items():
        if form_id not in known:
            for page, line in places:
                message = (
                    f'sidan placerar formuläret "{form_id}", som inte finns i {schema_dir}/.'
                    f"{did_you_mean(form_id, known)} Rätta namnet eller lägg till {schema_dir}/{form_id}.json."
                )
                problems.append(Problem(str(page), line, message=message))
        for page, line in places[1:]:
            first_page, first_line = places[0]
            message = (
                f'formuläret "{form_id}" står redan på {first_page}:{first_line}. '
                f"Ett formulär får bara finnas på en sida; ta bort raden [[form {form_id}]] från den ena sidan."
            )
            problems.append(Problem(str(page), line, message=message))
    replies = {_reply_form(path) for path in schema_dir.glob("*.json")}
    # A file that is no JSON may be the report that links to a form; that form is not to blame then.
    for form_id, form in forms.items() if UNREADABLE not in replies else ():
        if form_id not in pages and form_id not in replies:
            problems.append(
                form.source.say(
                    (),
                    f'"{form_id}" står inte på någon sida i {docs}/. Lägg raden [[form {form_id}]] på den sida '
                    "där formuläret ska finnas, eller ta bort filen.",
                )
            )
    return problems


UNREADABLE = object()


def _reply_form(path: Path):
    """Return the reply form a schema file names, read leniently (the file may have other problems).

    None when it names none; UNREADABLE when the file is no JSON, so what it names is not known.
    """
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return UNREADABLE
    settings = schema.get("x-formkit") if isinstance(schema, dict) else None
    return settings.get("reply_form") if isinstance(settings, dict) else None


_cache: dict = {}


def cached_check(schema_dir: str | Path, docs_dir: str | Path | None = None, *, fresh: bool = False) -> Checked:
    """Return `check_project`, run again only when a schema or page changed, or when asked for `fresh`.

    The site build checks `fresh` before MkDocs starts; the Markdown extension, which asks once per
    page, then reuses that check instead of running its own.
    """
    schemas, docs = Path(schema_dir).resolve(), docs_dir_for(schema_dir, docs_dir).resolve()
    stamp = _stamp(schemas, docs)  # taken before the check: a file changed meanwhile is checked again
    key = (str(schemas), str(docs), bool(docs_dir))
    cached = _cache.get(key)
    if fresh or cached is None or cached[0] != stamp:
        checked = check_project(schema_dir, docs_dir)
        for warning in checked.warnings:
            log.warning("varning: %s", warning)
        _cache[key] = cached = (stamp, checked)
    return cached[1]


def _stamp(schemas: Path, docs: Path) -> tuple:
    """Return what changes when a form file or page is written, added or removed."""
    files = [*sorted(schemas.glob("*.json")), *(sorted(docs.rglob("*.md")) if docs.is_dir() else [])]
    stamp = []
    for path in files:
        try:
            status = path.stat()
        except OSError:  # removed while we looked
            continue
        stamp.append((str(path), status.st_mtime_ns, status.st_size))
    return tuple(stamp)
