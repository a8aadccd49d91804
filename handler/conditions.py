"""Conditional questions: when a field applies, as data, and the answers kept because they apply.

A `Condition` is read from a form's `if`/`then`/`else`, `dependentRequired`, `dependentSchemas` and draft-07
`dependencies` by `fields.py`; it names sibling fields of the same group (or row) and is plain data, so the
same test runs here, in formkit.js (`as_json`) and in words under the question ("Svara bara om …").
`prune` drops the answers to questions that do not apply, before validation, in the form's order: a
question that depends on a hidden one is hidden too, as the page shows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

IN, ANSWERED, NOT, ALL, ANY = "in", "answered", "not", "all", "any"


@dataclass(frozen=True)
class Condition:
    """A test on a group's answers: a field is one of `values` (in), is answered, or not/all/any of `terms`."""

    op: str
    field: str = ""  # the name of a sibling field (in, answered)
    values: tuple = ()  # JSON values (in)
    terms: tuple[Condition, ...] = ()  # (not: one term; all, any)

    @classmethod
    def is_in(cls, name: str, values) -> Condition:
        """Return the test "`name` is answered with one of `values`"."""
        return cls(IN, name, tuple(values))

    @classmethod
    def answered(cls, name: str) -> Condition:
        """Return the test "`name` is answered"."""
        return cls(ANSWERED, name)

    def negated(self) -> Condition:
        """Return the opposite test."""
        return self.terms[0] if self.op == NOT else Condition(NOT, terms=(self,))

    @staticmethod
    def all_of(terms) -> Condition | None:
        """Return a test that holds when every one of `terms` does (None for none, the term itself for one)."""
        return _joined(ALL, terms)

    @staticmethod
    def any_of(terms) -> Condition | None:
        """Return a test that holds when one of `terms` does (None for none, the term itself for one)."""
        return _joined(ANY, terms)

    def holds(self, answers) -> bool:
        """Return whether the test holds for a group's answers (a dict; blank answers are already dropped)."""
        answers = answers if isinstance(answers, dict) else {}
        if self.op == ANSWERED:
            return self.field in answers
        if self.op == IN:
            return self.field in answers and any(same(answers[self.field], value) for value in self.values)
        if self.op == NOT:
            return not self.terms[0].holds(answers)
        if self.op == ALL:
            return all(term.holds(answers) for term in self.terms)
        return any(term.holds(answers) for term in self.terms)

    def names(self) -> list[str]:
        """Return the fields the test reads, in the order it names them."""
        if self.field:
            return [self.field]
        return list(dict.fromkeys(name for term in self.terms for name in term.names()))

    def as_json(self, prefix: str = "") -> dict:
        """Return the test as formkit.js reads it: {"in": name, "values": [...]}, {"not": …}, {"all": [...]}.

        `prefix`: the group's dotted name pattern ("verksamheter.*."), so each field is named in full.
        """
        if self.op == IN:
            return {IN: prefix + self.field, "values": list(self.values)}
        if self.op == ANSWERED:
            return {ANSWERED: prefix + self.field}
        if self.op == NOT:
            return {NOT: self.terms[0].as_json(prefix)}
        return {self.op: [term.as_json(prefix) for term in self.terms]}

    def describe(self, label, shown) -> str:
        """Return the test in Swedish, for "Svara bara om …"; `label(name)` and `shown(name, value)` say the words."""
        if self.op == ANSWERED:
            return f"”{label(self.field)}” har ett svar"
        if self.op == IN:
            values = " eller ".join(f"”{shown(self.field, v)}”" for v in self.values)
            return f"”{label(self.field)}” är {values}"
        if self.op == NOT:
            inner = self.terms[0]
            if inner.op == ANSWERED:
                return f"”{label(inner.field)}” saknar svar"
            if inner.op == IN:
                values = " eller ".join(f"”{shown(inner.field, v)}”" for v in inner.values)
                return f"”{label(inner.field)}” inte är {values}"
            return f"det inte stämmer att {inner.describe(label, shown)}"
        glue = " och " if self.op == ALL else " eller "
        return glue.join(term.describe(label, shown) for term in self.terms)


def _joined(op: str, terms) -> Condition | None:
    unique = list(dict.fromkeys(term for term in terms if term is not None))
    if op == ANY:  # "x is a" or "x is b" is "x is a or b", and says so in fewer words
        merged: dict[str, Condition] = {}
        for term in unique:
            if term.op == IN and term.field in merged:
                known = merged[term.field]
                extra = [v for v in term.values if not any(same(v, k) for k in known.values)]
                merged[term.field] = Condition(IN, term.field, known.values + tuple(extra))
            elif term.op == IN:
                merged[term.field] = term
        unique = list(dict.fromkeys(merged.get(t.field, t) if t.op == IN else t for t in unique))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else Condition(op, terms=tuple(unique))


def same(answer, value) -> bool:
    """Return whether an answer equals a JSON value as JSON Schema's `const` compares: true is not 1."""
    if isinstance(answer, bool) or isinstance(value, bool):
        return isinstance(answer, bool) and isinstance(value, bool) and answer == value
    if isinstance(answer, int | float) and isinstance(value, int | float):
        return answer == value
    if isinstance(answer, dict | list) or isinstance(value, dict | list):
        return json.dumps(answer, sort_keys=True) == json.dumps(value, sort_keys=True)
    return type(answer) is type(value) and answer == value


def applies(node, answers) -> bool:
    """Return whether a field is asked, given its group's answers: it has no condition, or the condition holds."""
    return node.condition is None or node.condition.holds(answers)


def prune(root, data):
    """Return `data` without the answers to questions that do not apply, group by group and row by row."""
    return _prune(root, data)


def _prune(node, data):
    if node.kind == "group" and isinstance(data, dict):
        kept = dict(data)
        for child in node.members():  # in form order: a question after a dropped one sees it dropped
            if child.name not in kept:
                continue
            if not applies(child, kept):
                del kept[child.name]
            else:
                kept[child.name] = _prune(child, kept[child.name])
        return kept
    if node.kind in ("list", "tuple") and isinstance(data, list):
        entries = [(node.entry(index), row) for index, row in enumerate(data)]
        return [row if entry is None else _prune(entry, row) for entry, row in entries]
    return data


def hidden_paths(root, data, path: tuple = ()):
    """Yield the concrete paths of the questions that do not apply to `data`, for errors the page cannot show."""
    if root.kind == "group":
        answers = data if isinstance(data, dict) else {}
        for child in root.members():
            if not applies(child, answers):
                yield path + (child.name,)
            else:
                yield from hidden_paths(child, answers.get(child.name), path + (child.name,))
    elif root.kind in ("list", "tuple") and isinstance(data, list):
        for index, row in enumerate(data):
            if (entry := root.entry(index)) is not None:
                yield from hidden_paths(entry, row, path + (index,))
