"""The callers the API tests play: a machine with the API token (`api`), and the secrets it
and the cron caller use. Registered for the whole suite in tests/conftest.py."""

import pytest

API_TOKEN = "api-token-for-tests-0123456789"
CRON_SECRET = "cron-secret-for-tests-0123456789"


@pytest.fixture
def api_secrets(settings):
    settings.API_TOKEN = API_TOKEN
    settings.CRON_SECRET = CRON_SECRET


@pytest.fixture
def api(client, api_secrets):
    """A machine caller: `api.get(path)` / `api.post(path, data)` with the API token."""

    class Caller:
        headers = {"Authorization": f"Bearer {API_TOKEN}"}

        def get(self, path, **kwargs):
            return client.get(path, headers=self.headers, **kwargs)

        def post(self, path, data="", **kwargs):
            # Dicts are sent as JSON; no data is an empty body, as `curl -X POST` sends.
            kwargs.setdefault("content_type", "application/json")
            return client.post(path, data=data, headers=self.headers, **kwargs)

    return Caller()
