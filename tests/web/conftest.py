from tests.web.fixtures import mapping_files, q_sync  # noqa: F401 - fixtures
