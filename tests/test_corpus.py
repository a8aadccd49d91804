"""The public corpus (tests/fixtures/corpus/, 39 schemas written for react-jsonschema-form): none loses data.

Each schema is either refused by `formkit check` with a problem that names the file, the line and the
keyword, or accepted, and then every value posted on the JSON and the form-encoded path is in the DOCX
(tests/corpus.py says how each is tried). Schemas that lose data today are listed in KNOWN_LOSSES;
whoever makes one of them work (or refused) removes it, and the test fails until they do, so the list
only shrinks. `bench/corpus.py` prints the verdict on every schema.
"""

from __future__ import annotations

import re

import pytest
from corpus import BROKEN, LOSES, REFUSED, WORKS, names, try_all

# Accepted with 201, and a posted value is missing from the DOCX: (what is lost).
KNOWN_LOSSES: dict[str, str] = {}


@pytest.fixture(scope="module")
def verdicts():
    return {verdict.name: verdict for verdict in try_all()}


def test_the_corpus_has_the_39_samples_of_the_playground():
    assert len(names()) == 39


def test_no_schema_loses_data_but_the_known_ones(verdicts):
    losing = {name for name, verdict in verdicts.items() if verdict.verdict == LOSES}

    new = {name: verdicts[name].why for name in losing - set(KNOWN_LOSSES)}
    assert not new, f"these schemas now lose data: {new}"


def test_the_known_losses_still_lose_data_so_the_list_only_shrinks(verdicts):
    fixed = {name: verdicts[name].verdict for name in KNOWN_LOSSES if verdicts[name].verdict != LOSES}

    assert not fixed, f"remove these from KNOWN_LOSSES, they no longer lose data: {fixed}"


def test_every_refused_schema_is_refused_naming_the_file_the_line_and_a_keyword(verdicts):
    refused = {name: verdict for name, verdict in verdicts.items() if verdict.verdict == REFUSED}

    for name, verdict in refused.items():
        assert re.match(r"^corpus-[a-z-]+\.json:\d+: ", verdict.why), (name, verdict.why)
        assert re.search(r'"[$A-Za-z-]+"', verdict.why), (name, verdict.why)  # a keyword, quoted


def test_no_schema_makes_the_kit_crash(verdicts):
    crashes = {name: v.why for name, v in verdicts.items() if v.verdict == BROKEN and v.why.startswith("crash")}

    assert not crashes


def test_every_verdict_is_one_of_the_four(verdicts):
    assert {verdict.verdict for verdict in verdicts.values()} <= {WORKS, REFUSED, BROKEN, LOSES}


@pytest.mark.parametrize("name", ["widgets", "date", "fallback", "blank"])
def test_these_samples_work(name):
    """Samples made to work on purpose stay working (widgets: readOnly keeps its default; date: names with "-")."""
    (verdict,) = try_all([name])

    assert verdict.verdict == WORKS, verdict.why
