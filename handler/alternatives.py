"""Choices between alternatives (oneOf/anyOf of objects): which one a submission chose, and only its answers kept.

A page without JavaScript shows every alternative's fields and posts them all, with the choice under the kit's
own name `<group>._alternativ` ("1", "2", …); with JavaScript only the chosen alternative's fields are sent.
`settle` takes the choice out of the answers and drops the other alternatives' answers, before validation, so
JSON Schema sees the data as the schema describes it. A JSON client sends no choice: the alternative whose
fields it answered applies. Every alternative's fields have names of their own (fields.py makes sure), so
the answers tell which alternative they belong to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import BadSubmission
from .fields import CHOICE, Field, Kind

CHOSEN = "Valt alternativ"  # the label of the choice in the document and on the check page


@dataclass
class Settled:
    """Answers with every choice taken out: the chosen alternative per group (concrete path), and the groups
    whose answers belong to more than one alternative (without a choice to tell which one counts)."""

    data: dict
    chosen: dict[tuple, Field] = field(default_factory=dict)
    mixed: list[tuple] = field(default_factory=list)


def settle(root: Field, data: dict) -> Settled:
    """Return the answers without the kit's choices and without the answers to alternatives not chosen."""
    settled = Settled(data)
    settled.data = _settle(root, data, (), settled)
    return settled


def _settle(node: Field, value, path: tuple, settled: Settled):
    if node.kind in (Kind.LIST, Kind.TUPLE) and isinstance(value, list):
        entries = [(node.entry(index), row) for index, row in enumerate(value)]
        return [row if e is None else _settle(e, row, path + (i,), settled) for i, (e, row) in enumerate(entries)]
    if node.kind != Kind.GROUP or not isinstance(value, dict):
        return value
    value = dict(value)
    for choice in node.children:
        if choice.kind != Kind.ALTERNATIVES:
            continue
        posted = value.pop(CHOICE, None)
        alternative = _posted(choice, posted)
        if alternative is None:
            answered = [a for a in choice.alternatives if any(member.name in value for member in a.children)]
            if len(answered) > 1:
                settled.mixed.append(path + (CHOICE,))
            alternative = answered[0] if len(answered) == 1 else None
        else:
            others = {m.name for a in choice.alternatives if a is not alternative for m in a.children}
            value = {key: item for key, item in value.items() if key not in others}
        if alternative is not None:
            settled.chosen[path + (CHOICE,)] = alternative
    members = {member.name: member for member in node.members()}
    return {
        key: _settle(members[key], item, path + (key,), settled) if key in members else item
        for key, item in value.items()
    }


def _posted(choice: Field, posted) -> Field | None:
    """Return the alternative a posted choice names ("1", "2", …); none posted is None, anything else refused."""
    if posted is None or posted == "":
        return None
    for (number, _), alternative in zip(choice.choices, choice.alternatives, strict=True):
        if isinstance(posted, str | int) and str(posted).strip() == number:
            return alternative
    shown = json.dumps(posted, ensure_ascii=False)[:80]
    raise BadSubmission(f"Valet {shown} finns inte bland alternativen. Välj ett av alternativen med dess nummer.")


def applying(choice: Field, values) -> Field | None:
    """Return the alternative valid answers `values` (the group's object) belong to: the one whose fields they
    answer; None when none of its fields is answered."""
    if not isinstance(values, dict):
        return None
    return next((a for a in choice.alternatives if any(m.name in values for m in a.children)), None)
