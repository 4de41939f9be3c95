import os

import pytest
from django.db import connection

pytest_plugins = ["tests.fakes.fixtures", "tests.callers"]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="correct horse battery", is_staff=True
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def postgres_only():
    """For tests of PostgreSQL behaviour. CI sets REQUIRE_POSTGRES=1, which turns a missing
    PostgreSQL into a failure instead of a skip."""
    if connection.vendor != "postgresql":
        if _flag("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES is set but the test database is not PostgreSQL")
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _api_waits_briefly_for_a_worker(settings):
    """A sync route waits for its run at most SYNC_API_WAIT_SECONDS (90 s): a test whose tasks
    reach no worker fails in seconds instead."""
    settings.SYNC_API_WAIT_SECONDS = 3
