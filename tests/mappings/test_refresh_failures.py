"""A refresh that downloads something unusable changes nothing and says why."""

import httpx
import pytest
from django.test import override_settings

from mappings import importer
from mappings.models import AniBridgeRange, FribbEntry, OtakuEntry
from mappings.services import sources_refresh
from tests.mappings.support import ANIBRIDGE, FRIBB_CURRENT, OTAKU_DB

URLS = {"OTAKU_MAPPINGS_URL": "https://example.test/otaku.db", "FRIBB_MAPPINGS_URL": "https://example.test/f.json",
        "ANIBRIDGE_MAPPINGS_URL": "https://example.test/a.json"}
HTML = b"\xef\xbb\xbf\n  <!doctype html><html><body>Rate limited</body></html>"


def serving(body: bytes):
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))


def imported():
    for name, path in (("otaku", OTAKU_DB), ("fribb", FRIBB_CURRENT), ("anibridge", ANIBRIDGE)):
        assert importer.import_file(name, path).ok
    return OtakuEntry.objects.count(), FribbEntry.objects.count(), AniBridgeRange.objects.count()


DATA = OTAKU_DB.read_bytes()
CUTS = sorted({*range(4096, len(DATA), 4096), len(DATA) - 1, len(DATA) - 4000, 100, 5000})


@pytest.mark.django_db
@override_settings(**URLS)
def test_an_otaku_file_cut_anywhere_is_refused_and_the_old_rows_stay():
    before = imported()
    for cut in CUTS:
        status = sources_refresh(source="otaku", client=serving(DATA[:cut]))
        assert "truncated download" in status.last_error, cut
    assert (OtakuEntry.objects.count(), status.row_count) == (before[0], before[0])
    assert sources_refresh(source="otaku", client=serving(DATA)).ok  # the whole file still imports


@pytest.mark.django_db
@override_settings(**URLS)
@pytest.mark.parametrize("source", ["otaku", "fribb", "anibridge"])
@pytest.mark.parametrize("body", [HTML, b"<html>502 Bad Gateway</html>"])
def test_an_html_page_instead_of_the_data_is_refused_and_the_old_rows_stay(source, body):
    before = imported()
    status = sources_refresh(source=source, client=serving(body))
    assert status.last_error and status.row_count > 0
    assert "HTML" in status.last_error or "not an SQLite database" in status.last_error or "JSON" in status.last_error
    assert (OtakuEntry.objects.count(), FribbEntry.objects.count(), AniBridgeRange.objects.count()) == before


@pytest.mark.django_db
@override_settings(**URLS)
@pytest.mark.parametrize(("source", "body", "message"), [
    ("fribb", FRIBB_CURRENT.read_bytes()[:-200], "not valid JSON"),
    ("fribb", b'{"message": "API rate limit exceeded"}', "expected a JSON list"),
    ("anibridge", b'{"$meta": {"version": 3}}', "no `anilist:` entries"),
    ("anibridge", ANIBRIDGE.read_bytes()[: len(ANIBRIDGE.read_bytes()) // 2], "not valid JSON"),
])
def test_json_that_is_cut_short_or_an_error_object_is_refused(source, body, message):
    before = imported()
    status = sources_refresh(source=source, client=serving(body))
    assert message in status.last_error
    assert (OtakuEntry.objects.count(), FribbEntry.objects.count(), AniBridgeRange.objects.count()) == before


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.django_db
@override_settings(**URLS)
@pytest.mark.parametrize(("source", "body"), [
    ("fribb", DEEP),
    ("fribb", b'[{"anilist_id": 1, "x": ' + DEEP + b"}]"),
    ("anibridge", b'{"anilist:5": ' + DEEP + b"}"),
    ("anibridge", b'{"anilist:5": {"tmdb_show:1:s1": {"1": "1"}}, "anilist:6": ' + DEEP + b"}"),
])
def test_a_file_nested_too_deep_to_decode_is_refused_like_a_truncated_one(source, body):
    before = imported()
    status = sources_refresh(source=source, client=serving(body))
    assert "not valid JSON" in status.last_error and "nested too deep" in status.last_error
    assert (OtakuEntry.objects.count(), FribbEntry.objects.count(), AniBridgeRange.objects.count()) == before


@pytest.mark.django_db
def test_the_command_refuses_a_file_nested_too_deep_without_a_traceback(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    deep = tmp_path / "deep.json"
    deep.write_bytes(DEEP)
    with pytest.raises(CommandError):
        call_command("refresh_mappings", source="fribb", file=deep)
    assert "fribb: Fribb: not valid JSON" in capsys.readouterr().err
