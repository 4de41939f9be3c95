"""Keeps secrets out of every log line, whichever handler writes it.

Two nets: the values of known secrets (settings, and tokens the app learns at run time via
`register_secret`) are replaced wherever they appear, and anything shaped like a credential
(a bearer header, `access_token=...`, `"refresh_token": "..."`, `api_key=...`) is masked even
when the value was never registered. Only the secret is masked: the words around it stay.

Expected failures (see `expected_failure`) are logged without their traceback, unless the
logger is at DEBUG.
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

# The second net must mask values, not words: "the token: check ANILIST_ACCESS_TOKEN" is a
# sentence, `token = "401"` a status, and neither may lose a word. Three shapes of credential:
# - an Authorization header: whatever follows the scheme is the credential;
# - a credential-only key (`refresh_token=`, `"client_secret": "..."`, `password=`) assigned
#   without a space or quoted: any value;
# - a generic key (`token`, `code`, `secret`, or any key in prose, "token: abc"): only a value
#   shaped like a secret (see `_secret_shaped`).
_VALUE = r"[A-Za-z0-9._~+/=-]+"
_AUTH_HEADER = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)\s+)(" + _VALUE + ")")
_BEARER = re.compile(r"(?i)(\bbearer\s+)(" + _VALUE + ")")
_CREDENTIAL_KEYS = r"access_token|refresh_token|client_secret|api_key|apikey|device_code|password|passwd"
_ASSIGNED = re.compile(
    r"(?i)(\b(?:" + _CREDENTIAL_KEYS + r")(?:=|[\"']\s*:\s*[\"']|\s*=\s*[\"']))([^\"'&\s,}]+)"
)
_KEY_VALUE = re.compile(
    r"(?i)([\"']?\b(?:" + _CREDENTIAL_KEYS + r"|token|code|secret|key)[\"']?\s*[:=]\s*[\"']?)(" + _VALUE + ")"
)
# Words, constant names and identifiers ("check", "ANILIST_ACCESS_TOKEN", "invalid_grant").
_WORDLIKE = re.compile(r"[A-Za-z]+(?:[_-][A-Za-z]+)*")


def _secret_shaped(value: str) -> bool:
    """A token, key or code: long, and not a word. Real ones (JWTs, Trakt's 64 hex characters,
    device codes) mix digits in; a long run of letters alone is also taken for one."""
    value = value.rstrip(".")
    if len(value) < MIN_SECRET_LENGTH:
        return False
    if _WORDLIKE.fullmatch(value):
        return len(value) >= 24 and not ("_" in value or "-" in value)
    if value.isdigit():
        return len(value) >= 16  # ids and timestamps are shorter
    return True


def _mask(match: re.Match, *, always: bool = False) -> str:
    value = match.group(2)
    if always or _secret_shaped(value):
        # A sentence's full stop is not part of the secret.
        end = "." if value.endswith(".") and not always else ""
        return match.group(1) + MASK + end
    return match.group(0)


def _mask_bearer(match: re.Match) -> str:
    # "Bearer abc" in a header-like spot is a credential however short; "bearer token" is prose.
    value = match.group(2)
    if _WORDLIKE.fullmatch(value) and len(value) < 24:
        return match.group(0)
    return match.group(1) + MASK


_lock = threading.Lock()
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret learned at run time (a refreshed token, a device code)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def _known_secrets() -> list[str]:
    from django.conf import settings  # here: the settings' logging config loads this module

    values = {getattr(settings, name, "") or "" for name in SECRET_SETTINGS}
    with _lock:
        values |= _registered
    # Longest first, so a secret that contains another is masked whole.
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    text = _AUTH_HEADER.sub(lambda m: _mask(m, always=True), text)
    text = _BEARER.sub(_mask_bearer, text)
    text = _ASSIGNED.sub(lambda m: _mask(m, always=True), text)
    return _KEY_VALUE.sub(_mask, text)


class RedactSecretsFilter(logging.Filter):
    """Renders the record's message once, redacted, so no handler sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and expected_failure(record.exc_info[1]) and not _debugging(record):
            # A service said no or was down: the message says so, a traceback would only bury it.
            record.exc_info = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def expected_failure(exc: BaseException | None) -> bool:
    """Failures of the outside world (a refused token, a service down, a bad answer) mark
    themselves with `expected = True`; anything else is a bug and keeps its traceback."""
    seen = 0
    while exc is not None and seen < 5:
        if getattr(exc, "expected", False):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False


def _debugging(record: logging.LogRecord) -> bool:
    # LOG_LEVEL=DEBUG (or `manage.py sync --verbosity 2`) asks for every detail.
    return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
