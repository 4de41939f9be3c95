import pytest

from mappings import importer
from mappings.resolver import Resolver
from syncer.http import NotFound
from tests.mappings.support import (
    ANIBRIDGE,
    FRIBB_CURRENT,
    OTAKU_DB,
    TRAKT_SEASONS,
    TmdbDouble,
    TraktDouble,
)


@pytest.fixture
def real_sources(db):
    """The real fixture excerpts, imported through the same code as a refresh."""
    for name, path in (("otaku", OTAKU_DB), ("fribb", FRIBB_CURRENT), ("anibridge", ANIBRIDGE)):
        status = importer.import_file(name, path)
        assert status.ok, status.last_error
    return True


@pytest.fixture
def trakt_double():
    return TraktDouble()


@pytest.fixture
def resolver(trakt_double):
    return Resolver(trakt=trakt_double, tmdb=TmdbDouble(), seasons=TRAKT_SEASONS.get, not_found=(NotFound,))
