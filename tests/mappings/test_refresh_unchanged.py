"""A weekly refresh asks with the validators of the file in use (If-None-Match,
If-Modified-Since) and leaves the rows alone when the file has not changed: no download, no
rewrite (on PostgreSQL every rewrite leaves the old rows dead until a vacuum)."""

import hashlib

import httpx
import pytest
from django.test import override_settings

from mappings import importer
from mappings.models import FribbEntry, SourceStatus
from mappings.services import sources_refresh
from tests.mappings.support import FRIBB_CURRENT, FRIBB_OLD

pytestmark = pytest.mark.django_db
URL = "https://example.test/anime-list-full.json"
ETAG = '"5f2b-fribb"'
MODIFIED = "Sat, 05 Dec 2026 04:00:00 GMT"


class Upstream:
    """A file server that honours validators when `conditional`, recording what was asked."""

    def __init__(self, body: bytes, *, conditional: bool = True):
        self.body, self.conditional, self.asked = body, conditional, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.headers)
        etag = f'"{hashlib.sha256(self.body).hexdigest()[:12]}"'
        if self.conditional and request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(200, content=self.body, headers={"etag": etag, "last-modified": MODIFIED})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def row_ids() -> set[int]:
    return set(FribbEntry.objects.values_list("pk", flat=True))


@override_settings(FRIBB_MAPPINGS_URL=URL)
def test_an_unchanged_file_is_asked_for_with_its_validators_and_nothing_is_rewritten():
    upstream = Upstream(FRIBB_CURRENT.read_bytes())
    assert sources_refresh(source="fribb", client=upstream.client()).ok
    before, imported_at = row_ids(), SourceStatus.objects.get(source="fribb").refreshed_at
    status = sources_refresh(source="fribb", client=upstream.client())
    assert status.refreshed_at > imported_at  # the dashboard's "last refresh": the rows are current
    assert upstream.asked[-1].get("if-none-match", "").startswith('"')
    assert upstream.asked[-1].get("if-modified-since") == MODIFIED
    assert status.ok and status.row_count == 195 and row_ids() == before  # the same rows, not rewritten


@override_settings(FRIBB_MAPPINGS_URL=URL)
def test_the_same_file_from_a_server_that_ignores_validators_is_not_rewritten_either():
    upstream = Upstream(FRIBB_CURRENT.read_bytes(), conditional=False)
    sources_refresh(source="fribb", client=upstream.client())
    before = row_ids()
    assert sources_refresh(source="fribb", client=upstream.client()).ok
    assert row_ids() == before


@override_settings(FRIBB_MAPPINGS_URL=URL)
def test_a_changed_file_is_imported():
    upstream = Upstream(FRIBB_CURRENT.read_bytes())
    sources_refresh(source="fribb", client=upstream.client())
    upstream.body = FRIBB_OLD.read_bytes()
    status = sources_refresh(source="fribb", client=upstream.client())
    assert status.ok and status.row_count == FribbEntry.objects.count() == 206


@override_settings(FRIBB_MAPPINGS_URL=URL)
def test_a_forced_refresh_downloads_and_imports_the_whole_file_again():
    upstream = Upstream(FRIBB_CURRENT.read_bytes())
    sources_refresh(source="fribb", client=upstream.client())
    before = row_ids()
    assert sources_refresh(source="fribb", client=upstream.client(), force=True).ok
    assert "if-none-match" not in upstream.asked[-1] and row_ids().isdisjoint(before)


def test_validators_of_another_address_or_of_a_local_file_are_never_sent(settings):
    upstream = Upstream(FRIBB_CURRENT.read_bytes())
    settings.FRIBB_MAPPINGS_URL = URL
    sources_refresh(source="fribb", client=upstream.client())
    settings.FRIBB_MAPPINGS_URL = "https://mirror.example.test/anime-list-full.json"
    sources_refresh(source="fribb", client=upstream.client())
    assert "if-none-match" not in upstream.asked[-1] and "if-modified-since" not in upstream.asked[-1]
    assert importer.import_file("fribb", FRIBB_OLD).ok  # a file imported by hand replaces the rows
    upstream.body = FRIBB_OLD.read_bytes()
    sources_refresh(source="fribb", client=upstream.client())
    assert "if-none-match" not in upstream.asked[-1]
    assert FribbEntry.objects.count() == 206 and SourceStatus.objects.get(source="fribb").ok
