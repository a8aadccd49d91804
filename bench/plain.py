"""The baseline for bench/compare.py: the handler a newcomer would write with Flask, jsonschema, python-docx, smtplib.

    PLAIN_SMTP_PORT=2525 gunicorn --chdir bench plain:app

One file, one view, everything inside the request: read the form, turn its dotted names into the
JSON the schema describes, validate it with jsonschema against schema/bus-avvikelse.json, build a Word
document with python-docx, and send the report (to the managers, copied to the secretariat and the
reporting unit's manager) and a receipt (to the reporter) with smtplib over one connection. It does
the same work the kit does for a valid report, without the kit's guarantees: no outbox (an SMTP
server that is down loses the report), no normalising, no personnummer check, no limits.
"""

import io
import json
import os
import smtplib
import uuid
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import jsonschema
from docx import Document
from flask import Flask, jsonify, request

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schema" / "bus-avvikelse.json").read_text())
# Built once, as jsonschema's docs advise for many instances of one schema: jsonschema.validate() would
# check the schema itself on every request (about 45 ms for this one), and the baseline is no straw man.
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SMTP_HOST = os.environ.get("PLAIN_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("PLAIN_SMTP_PORT", "25"))
SECRETARIAT = ["BUS-avvikelser@storsthlm.se", "BUS-avvikelser.hsf@sll.se"]

app = Flask(__name__)


def nest(form) -> dict:
    """Turn names like verksamheter.0.enhet into {"verksamheter": [{"enhet": ...}]}."""
    data: dict = {}
    for name, value in form.items():
        if value:
            *parents, last = name.split(".")
            node = data
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
    return lists(data)


def lists(node):
    """Turn the {"0": ..., "1": ...} that rows became into lists."""
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [lists(node[key]) for key in sorted(node, key=int)]
    return {key: lists(value) for key, value in node.items()}


def document(data: dict, reference: str) -> bytes:
    """Return a Word document with every answer, one table row per field."""
    doc = Document()
    doc.add_heading(f"BUS-avvikelse {reference}", 0)
    doc.add_paragraph(f"Rapporterad {date.today().isoformat()}")
    table = doc.add_table(rows=0, cols=2)

    def rows(value, label):
        if isinstance(value, dict):
            for key, inner in value.items():
                rows(inner, f"{label} {key}".strip())
        elif isinstance(value, list):
            for index, inner in enumerate(value, 1):
                rows(inner, f"{label} {index}")
        else:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, str(value)

    rows(data, "")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def message(to: list[str], cc: list[str], subject: str, text: str, docx: bytes, reference: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Formulärtjänsten <no-reply@formkit.localhost>"
    mail["To"] = ", ".join(to)
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Subject"] = subject
    mail.set_content(text)
    mail.add_attachment(
        docx,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename=f"{reference}.docx",
    )
    return mail


@app.post("/api/forms/bus-avvikelse")
def submit():
    """Validate the report, build its document and send it with a receipt; answer 201 with the reference."""
    data = nest(request.form)
    try:
        VALIDATOR.validate(data)
    except jsonschema.ValidationError as error:
        return jsonify(error=error.message, path=list(error.path)), 422
    reference = f"BUS-{date.today():%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    docx = document(data, reference)
    managers = [unit["chef_epost"] for unit in data["verksamheter"]]
    report = message(
        managers,
        SECRETARIAT + [data["beskrivning"]["chef"]["epost"]],
        f"BUS-avvikelse {reference}",
        "Din verksamhet har fått en BUS-avvikelse. Rapporten finns bifogad.",
        docx,
        reference,
    )
    receipt = message(
        [data["beskrivning"]["rapporterande"]["epost"]],
        [],
        f"Kvitto: BUS-avvikelse {reference}",
        "Tack för din rapport.",
        docx,
        reference,
    )
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(report)
        smtp.send_message(receipt)
    return jsonify(reference=reference), 201
