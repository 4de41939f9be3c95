"""`refresh_mappings` as a cron job reads it: exit 0 while every source in use has usable rows
(refreshed or kept), with a warning line for the one that failed; non-zero only when nothing
usable is left."""

import pytest
import respx
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from mappings import importer
from mappings.models import AniBridgeRange, FribbEntry, OtakuEntry
from tests.mappings.support import ANIBRIDGE, FRIBB_CURRENT, OTAKU_DB

pytestmark = pytest.mark.django_db
URLS = {"OTAKU_MAPPINGS_URL": "https://example.test/otaku.db", "FRIBB_MAPPINGS_URL": "https://example.test/f.json",
        "ANIBRIDGE_MAPPINGS_URL": "https://example.test/a.json"}


@pytest.fixture
def upstream():
    with override_settings(**URLS), respx.mock(assert_all_called=False) as mock:
        mock.get(URLS["OTAKU_MAPPINGS_URL"]).respond(200, content=OTAKU_DB.read_bytes())
        mock.get(URLS["FRIBB_MAPPINGS_URL"]).respond(200, content=FRIBB_CURRENT.read_bytes())
        mock.get(URLS["ANIBRIDGE_MAPPINGS_URL"]).respond(200, content=ANIBRIDGE.read_bytes())
        yield mock


def test_one_optional_source_failing_while_the_others_import_exits_0_with_a_warning(upstream, capsys):
    upstream.get(URLS["ANIBRIDGE_MAPPINGS_URL"]).respond(503)
    call_command("refresh_mappings")  # no CommandError: exit status 0
    out, err = capsys.readouterr()
    assert "otaku: 208 rows" in out and "fribb: 195 rows" in out
    assert "anibridge: download failed: HTTP 503" in err
    assert "Warning: 1 of 3 sources could not be refreshed" in err
    assert OtakuEntry.objects.count() and FribbEntry.objects.count() and not AniBridgeRange.objects.exists()


def test_a_failed_source_whose_previous_rows_stay_in_use_exits_0_with_a_warning(upstream, capsys):
    assert importer.import_file("anibridge", ANIBRIDGE).ok
    kept = AniBridgeRange.objects.count()
    upstream.get(URLS["ANIBRIDGE_MAPPINGS_URL"]).respond(200, content=b"<html>502 Bad Gateway</html>")
    call_command("refresh_mappings", source="anibridge")
    err = capsys.readouterr().err
    assert f"kept the previous {kept} rows" in err and "Warning: 1 of 1 sources could not be refreshed" in err
    assert AniBridgeRange.objects.count() == kept


def test_nothing_usable_left_exits_non_zero(upstream, capsys):
    for url in URLS.values():
        upstream.get(url).respond(404)
    with pytest.raises(CommandError, match="no mapping source has usable rows"):
        call_command("refresh_mappings")
    assert capsys.readouterr().err.count("download failed: HTTP 404") == 3
