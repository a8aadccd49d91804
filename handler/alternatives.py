"""Choices between alternatives (oneOf/anyOf of objects): which one a submission chose, and only its answers kept.

A page without JavaScript shows every alternative's fields and posts them all, with the choice under the kit's
own name `<group>._alternativ` ("1", "2", …); with JavaScript only the chosen alternative's fields are sent. A
field that two alternatives share posts under its alternative's key (`<group>._alternativ2.<name>`, paths.py).
`settle` takes the choice out of the answers, moves the chosen alternative's answers to their plain places and
drops the other alternatives' answers, before validation, so JSON Schema sees the data as the schema describes
it. The group's answers come back as `Chosen`, a dict that knows the alternative chosen: validation checks the
answers against that alternative (not "exactly one of" them, as "oneOf" would), and the document, the e-mail
and the check page name it.

A JSON client may send the choice (`"_alternativ": "2"`) too. Without it, the alternative is the one whose
discriminator (`discriminator.propertyName`) has the answer's value, else the first alternative whose fields
hold every answer and that the answers fit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import BadSubmission
from .fields import CHOICE, Field, Kind, same
from .normalise import decided

CHOSEN = "Valt alternativ"  # the label of the choice in the document and on the check page


class Chosen(dict):
    """A group's answers, with the choice between alternatives in it and the alternative chosen (None: none)."""

    def __init__(self, values: dict, choice: Field, alternative: Field | None):
        super().__init__(values)
        self.choice = choice
        self.alternative = alternative

    def __copy__(self) -> Chosen:
        return Chosen(self, self.choice, self.alternative)

    def __deepcopy__(self, memo) -> Chosen:
        import copy

        return Chosen({k: copy.deepcopy(v, memo) for k, v in self.items()}, self.choice, self.alternative)

    def __reduce__(self):
        return dict, (dict(self),)  # pickled or sent on, it is the plain answers


@dataclass
class Settled:
    """Answers with every choice taken out: the chosen alternative per group (concrete path), and the groups
    whose answers belong to more than one alternative (without a choice to tell which one counts)."""

    data: dict
    chosen: dict[tuple, Field] = field(default_factory=dict)
    mixed: list[tuple] = field(default_factory=list)


Fits = Callable[[Field, int, dict], bool]  # whether a group's answers fit one alternative (by its index)


def settle(root: Field, data: dict, fits: Fits | None = None) -> Settled:
    """Return the answers without the kit's choices and without the answers to alternatives not chosen."""
    settled = Settled(data)
    settled.data = _settle(root, data, (), settled, fits)
    return settled


def _settle(node: Field, value, path: tuple, settled: Settled, fits: Fits | None):
    if node.kind in (Kind.LIST, Kind.TUPLE) and isinstance(value, list):
        entries = [(node.entry(index), row) for index, row in enumerate(value)]
        return [row if e is None else _settle(e, row, path + (i,), settled, fits) for i, (e, row) in enumerate(entries)]
    if node.kind != Kind.GROUP or not isinstance(value, dict):
        return value
    choice = next((child for child in node.children if child.kind == Kind.ALTERNATIVES), None)
    alternative = None
    if isinstance(value, Chosen) and value.choice is choice:  # settled before: the choice is known
        alternative, value = value.alternative, dict(value)
    elif choice is not None:
        value = dict(value)
        posted = _posted(choice, value.pop(CHOICE, None))
        carried = {a: value.pop(a.name) for a in choice.alternatives if a.name in value}
        alternative = posted or _applying(choice, value, carried, path, settled, fits)
        kept = {m.name for m in alternative.children} if alternative is not None else set()
        others = {m.name for a in choice.alternatives if a is not alternative for m in a.children} - kept
        value = {key: item for key, item in value.items() if key not in others}
        for carrier, answers in carried.items():  # the chosen one's shared fields to their plain places
            answers = answers if isinstance(answers, dict) else {"": answers}
            own = {m.name for m in carrier.children if m.path[:-1] == carrier.path}
            if carrier is alternative:
                value.update((key, item) for key, item in answers.items() if key in own)
            stray = {key: item for key, item in answers.items() if key not in own or alternative is None}
            if stray:  # no field of the form, or answers no choice tells: refused, never dropped unseen
                value[carrier.name] = stray
        if alternative is not None:  # its const, read-only and nullable fields as the form decides them
            value = decided(alternative, value)
    if alternative is not None:
        settled.chosen[path + (CHOICE,)] = alternative
    members = members_of(node, value if choice is None else Chosen({}, choice, alternative))
    value = {
        key: _settle(members[key], item, path + (key,), settled, fits) if key in members else item
        for key, item in value.items()
    }
    return value if choice is None else Chosen(value, choice, alternative)


def _applying(choice: Field, value: dict, carried: dict, path: tuple, settled: Settled, fits: Fits | None):
    """Return the alternative answers without a choice belong to: by the discriminator, else the first whose
    fields hold every answer and that the answers fit; None when nothing is answered or no alternative holds all."""
    names = {m.name for a in choice.alternatives for m in a.children}
    answered = {key for key in value if key in names}
    filled = [a for a, answers in carried.items() if answers not in ({}, None)]
    if not answered and not filled:
        return None
    holding = [
        a for a in choice.alternatives if answered <= {m.name for m in a.children} and (not filled or filled == [a])
    ]
    if not holding:
        settled.mixed.append(path + (CHOICE,))
        return None
    merged = {**value, **(carried[holding[0]] if holding[0] in carried else {})}
    if choice.discriminator in merged:
        told = [a for a in holding if _tells(a, choice.discriminator, merged[choice.discriminator])]
        if told:
            return told[0]
    if fits is not None and len(holding) > 1:
        index = choice.alternatives.index
        return next((a for a in holding if fits(choice, index(a), value)), holding[0])
    return holding[0]


def _tells(alternative: Field, name: str, answer) -> bool:
    """Return whether the alternative's discriminating field (its const or its one-value enum) has this answer."""
    member = next((m for m in alternative.children if m.name == name), None)
    if member is None:
        return False
    if member.fixed:
        return same(member.const, answer)
    return any(same(own, answer) for own in member.choice_values)


def _posted(choice: Field, posted) -> Field | None:
    """Return the alternative a posted choice names ("1", "2", …); none posted is None, anything else refused."""
    if posted is None or posted == "":
        return None
    for (number, _), alternative in zip(choice.choices, choice.alternatives, strict=True):
        if isinstance(posted, str | int) and not isinstance(posted, bool) and str(posted).strip() == number:
            return alternative
    shown = json.dumps(posted, ensure_ascii=False)[:80]
    raise BadSubmission(f"Valet {shown} finns inte bland alternativen. Välj ett av alternativen med dess nummer.")


def members_of(node: Field, values) -> dict[str, Field]:
    """Return a group's fields by name, as its answers `values` hold them: with the chosen alternative's fields
    when `values` knows the choice (two alternatives may share a name), else the first alternative's of a name."""
    found: dict[str, Field] = {}
    for child in node.children:
        if child.kind != Kind.ALTERNATIVES:
            found.setdefault(child.name, child)
            continue
        chosen = values.alternative if isinstance(values, Chosen) and values.choice is child else None
        for alternative in [chosen] if chosen is not None else child.alternatives:
            for member in alternative.children:
                found.setdefault(member.name, member)
        for alternative in child.alternatives:  # as posted: the fields two alternatives share, under its key
            found.setdefault(alternative.name, alternative)
    return found


def place(root: Field, data, path: tuple) -> tuple:
    """Return where the field of an answer's path stands in the form: the path, with the chosen alternative's
    key where its field posts under one (`("anstallning", "_alternativ2", "titel")`)."""
    node, values, placed = root, data, ()
    for part in path:
        if node is not None and node.kind == Kind.GROUP:
            node = members_of(node, values).get(part)
            if node is not None and len(node.path) > len(placed) + 1:
                placed += tuple(node.path[len(placed) : -1])  # the alternative's key
        elif node is not None and node.kind in (Kind.LIST, Kind.TUPLE) and isinstance(part, int):
            node = node.entry(part)
        else:
            node = None
        placed += (part,)
        if isinstance(values, dict):
            values = values.get(part)
        elif isinstance(values, list) and isinstance(part, int) and 0 <= part < len(values):
            values = values[part]
        else:
            values = None
    return placed


def applying(choice: Field, values) -> Field | None:
    """Return the alternative valid answers `values` (the group's object) belong to: the one chosen, else the
    first whose fields they answer; None when none of its fields is answered."""
    if isinstance(values, Chosen) and values.choice is choice:
        return values.alternative
    if not isinstance(values, dict):
        return None
    return next((a for a in choice.alternatives if any(m.name in values for m in a.children)), None)
