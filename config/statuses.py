"""The AniList statuses this app can sync, and the parser of `SYNC_STATUSES`. In `config`
because the settings validate `SYNC_STATUSES` at start-up (before any app is loaded) and the
engine applies the same rule when it runs."""

# Statuses whose progress is real watching (PLANNING has none; an entry paused or dropped at
# episode 7 was still watched up to 7).
RECONCILED_STATUSES = ("CURRENT", "REPEATING", "COMPLETED", "PAUSED", "DROPPED")


def parse_statuses(value) -> tuple[str, ...]:
    """SYNC_STATUSES as a tuple in a fixed order: "CURRENT, dropped" or a sequence. Raises
    ValueError naming any value that is not a watched AniList status."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    chosen = {str(p).strip().upper() for p in parts if str(p).strip()}
    unknown = sorted(chosen - set(RECONCILED_STATUSES))
    if unknown:
        raise ValueError(f"SYNC_STATUSES: unknown status(es) {', '.join(unknown)}; "
                         f"use a comma-separated subset of {','.join(RECONCILED_STATUSES)}")
    return tuple(s for s in RECONCILED_STATUSES if s in chosen)
