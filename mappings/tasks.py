"""django-q entry points: one-line wrappers around services."""

from mappings.services import sources_refresh_all, sources_refresh_new


def refresh_all_sources():
    return [status.source for status in sources_refresh_all() if status.ok]


def refresh_new_sources():
    return [status.source for status in sources_refresh_new() if status.ok]
