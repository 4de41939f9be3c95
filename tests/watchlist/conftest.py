from tests.api.conftest import api, api_secrets  # noqa: F401,E402 - the API caller
from tests.sync.conftest import anilist, trakt  # noqa: F401 - the sync fakes, shared
from tests.web.fixtures import q_sync  # noqa: F401,E402 - django-q tasks inline
