"""The one timestamp format the original app, Trakt and the `/api/` answers share: JavaScript's
`toISOString()`, UTC with milliseconds (`2014-09-01T09:10:11.000Z`)."""

from datetime import UTC, datetime


def js_iso(value: datetime) -> str:
    """`value` in that format. A naive datetime is refused: its zone would be a guess, and a
    guessed date on a play is a wrong play."""
    if value.tzinfo is None:
        raise ValueError("a timestamp must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
