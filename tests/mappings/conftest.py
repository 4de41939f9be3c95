import pytest

from mappings import importer
from tests.mappings.support import (
    ANIBRIDGE,
    FRIBB_CURRENT,
    OTAKU_DB,
    TraktDouble,
    resolver_for,
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
    return resolver_for(trakt_double)
