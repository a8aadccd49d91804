"""Word documents of submissions: `render_report` for a report, `render_answer` for an answer to one.

Layers, each importing only the ones below it: `layout` walks the form definition, `wml` builds
WordprocessingML, `package` wraps it in the OPC parts with the document's styles.
"""

from __future__ import annotations

import datetime

from ..forms import Form
from ..reply import LinkedReport
from . import layout
from .layout import EMPTY, display, positions
from .package import REMINDER, package

__all__ = ["EMPTY", "REMINDER", "display", "positions", "render_answer", "render_report"]


def render_report(
    form: Form, data: dict, reference: str, created: datetime.datetime, reply_form: Form | None = None
) -> bytes:
    """Return the DOCX of a report; `reply_form`'s section follows blank, with its labels, on its own page."""
    return _finish(layout.report(form, data, reference, created, reply_form), form, created)


def render_answer(
    form: Form, data: dict, reference: str, created: datetime.datetime, linked: LinkedReport, report: Form | None
) -> bytes:
    """Return the DOCX of an answer to the report `linked` names (`report`: that report's form, for its title)."""
    return _finish(layout.answer(form, data, reference, created, linked, report), form, created)


def _finish(draft: layout.Draft, form: Form, created: datetime.datetime) -> bytes:
    return package(draft.body, title=draft.title, reference=draft.reference, subject=form.title, created=created)
