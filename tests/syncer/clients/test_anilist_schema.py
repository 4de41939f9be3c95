"""Every query the AniList client sends validates against AniList's published schema, so a
renamed or removed field fails here instead of in someone's sync.

The schema is `tests/fixtures/anilist/schema.graphql` (its header says where it comes from)."""

import ast
import inspect
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from syncer.clients import anilist

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "anilist" / "schema.graphql"
QUERY_NAMES = sorted(name for name, value in vars(anilist).items()
                     if name.endswith("_QUERY") and isinstance(value, str))


@pytest.fixture(scope="module")
def schema():
    return build_schema(SCHEMA_FILE.read_text())


def errors_of(schema, query: str) -> list[str]:
    return [error.message for error in validate(schema, parse(query))]


def test_the_client_sends_only_the_queries_checked_here():
    # Each `.query(...)` call names one of the module's *_QUERY constants: a query written
    # inline would escape this check.
    tree = ast.parse(inspect.getsource(anilist))
    sent = [call.args[0] for call in ast.walk(tree) if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute) and call.func.attr == "query" and call.args]
    assert sent and all(isinstance(arg, ast.Name) for arg in sent), "a query is not a *_QUERY constant"
    assert {arg.id for arg in sent} <= set(QUERY_NAMES)
    assert {"VIEWER_QUERY", "LIST_QUERY", "ACTIVITY_QUERY", "MEDIA_QUERY", "SCHEDULE_QUERY",
            "ENTRY_QUERY", "UPDATED_QUERY"} <= set(QUERY_NAMES)


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_each_query_validates_against_anilists_schema(schema, name):
    assert errors_of(schema, getattr(anilist, name)) == []


@pytest.mark.parametrize(("old", "new"), [
    ("seasonYear", "seasonYr"),  # a renamed field
    ("status_in:", "statuses_in:"),  # a renamed argument
    ("$statuses: [MediaListStatus]", "$statuses: [String]"),  # a variable of the wrong type
])
def test_a_renamed_field_argument_or_type_is_caught(schema, old, new):
    broken = [name for name in QUERY_NAMES if old in getattr(anilist, name)]
    assert broken, f"no query holds {old!r}: the example no longer tests anything"
    for name in broken:
        assert errors_of(schema, getattr(anilist, name).replace(old, new)), name
