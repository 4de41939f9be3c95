"""Which mapping source placed an entry, read from the `source` text its mapping keeps.

The resolver writes how it found the Trakt show and where the entry starts, e.g.
`fribb tmdb 1429; start anibridge`, `original app trakt_id; start otaku (TVDB season)` or, for a
movie (found, never placed), `anibridge tmdb 18491`. The source that *placed* the entry is the
one named after `start` (for a movie: the one that found it); a person's mapping is `manual`.
"""

from __future__ import annotations

PLACERS = ("anibridge", "fribb", "otaku")  # the imported sources, best placement first
MANUAL = "manual"


def placed_by(source: str, *, is_manual: bool = False) -> str:
    """`anibridge`, `fribb`, `otaku`, `manual`, or "" when no source can be named."""
    if is_manual or source == MANUAL:
        return MANUAL
    text = (source or "").lower()
    _, has_start, start = text.rpartition("; start ")
    # What follows the start's own words ("; one date differs: ...") names no source.
    words = (start.partition("; ")[0] if has_start else text).split()
    first = words[0] if words else ""
    return first if first in PLACERS else ""
