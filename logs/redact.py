"""Keeps secrets out of every log line, whichever handler writes it.

Two nets: the values of known secrets (settings, and tokens the app learns at run time via
`register_secret`) are replaced wherever they appear, and anything shaped like a credential
(a bearer header, `access_token=...`, `"refresh_token": "..."`, `api_key=...`) is masked even
when the value was never registered.
"""

import logging
import re
import threading

MASK = "[redacted]"
SECRET_SETTINGS = (
    "SECRET_KEY",
    "ANILIST_ACCESS_TOKEN",
    "TRAKT_CLIENT_SECRET",
    "TRAKT_ACCESS_TOKEN",
    "TRAKT_REFRESH_TOKEN",
    "TMDB_API_KEY",
    "API_TOKEN",
    "CRON_SECRET",
    "TOKEN_ENCRYPTION_KEY",
    "ADMIN_PASSWORD",
)
# Short values (e.g. "1") would mask ordinary words; real secrets are long.
MIN_SECRET_LENGTH = 8

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|client_secret|api_key|device_code|code|token|"
        r"password|secret)[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,}]+)"
    ),
]

_lock = threading.Lock()
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret learned at run time (a refreshed token, a device code)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def _known_secrets() -> list[str]:
    from django.conf import settings

    values = {getattr(settings, name, "") or "" for name in SECRET_SETTINGS}
    with _lock:
        values |= _registered
    # Longest first, so a secret that contains another is masked whole.
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Renders the record's message once, redacted, so no handler sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
