"""AniList and Trakt references typed or pasted by a person: ids, anime URLs, Trakt URLs.

One rule for every door (pages, admin, API, command line): a number is ASCII digits only and
fits the 32-bit id columns of the original schema. `str.isdigit()` is not that rule: it also
accepts "²" (which `int()` then refuses) and "١" (which `int()` reads as 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms

MAX_ID = 2_147_483_647
_DIGITS = re.compile(r"[0-9]{1,10}")
_ANILIST_URL = re.compile(r"anilist\.co/anime/([0-9]+)", re.IGNORECASE)
_TRAKT_URL = re.compile(
    r"^(?:https?://)?(?:www\.|app\.)?trakt\.tv/(shows|movies)/([\w-]+)"
    r"(?:/seasons/([0-9]+)(?:/episodes/([0-9]+))?)?(?:[/?#].*)?$",
    re.IGNORECASE,
)


def ascii_number(text: str) -> int | None:
    """`"42"` -> 42; None for anything but 1 to 10 ASCII digits (no sign, space or "²")."""
    return int(text) if isinstance(text, str) and _DIGITS.fullmatch(text) else None


def ascii_id(text: str) -> int | None:
    """An id as a person types it: ASCII digits, between 1 and MAX_ID; else None."""
    value = ascii_number(text)
    return value if value is not None and 0 < value <= MAX_ID else None


def parse_anilist_id(value: str | int) -> int:
    """`21`, `"21"` or an AniList URL (`https://anilist.co/anime/21/One-Piece/`).

    Raises ValueError for anything else, ids no id column can hold included.
    """
    text = str(value).strip()
    match = _ANILIST_URL.search(text)
    digits = match.group(1) if match else text
    anilist_id = ascii_id(digits)
    if anilist_id is None:
        raise ValueError(f"not an AniList id or anime URL: {text!r}")
    return anilist_id


@dataclass(frozen=True)
class TraktRef:
    """What a pasted Trakt id or URL says: the show or movie (id or slug) and maybe a season
    and episode (`/shows/x/seasons/3/episodes/13`)."""

    kind: str  # "show", "movie" or "" when only a number was given
    ident: str  # a Trakt id (ASCII digits) or a slug
    season: int | None = None
    episode: int | None = None

    @property
    def is_id(self) -> bool:
        return ascii_number(self.ident) is not None


def parse_trakt_ref(text: str) -> TraktRef | None:
    """`1420` or a trakt.tv show/movie URL; None for anything else."""
    text = text.strip()
    trakt_id = ascii_id(text)
    if trakt_id is not None:
        return TraktRef(kind="", ident=text)
    match = _TRAKT_URL.match(text)
    if not match:
        return None
    kind = "show" if match.group(1).lower() == "shows" else "movie"
    season = ascii_number(match.group(3)) if match.group(3) else None
    episode = ascii_number(match.group(4)) if match.group(4) else None
    if (match.group(3) and season is None) or (match.group(4) and episode is None):
        return None
    return TraktRef(kind=kind, ident=match.group(2).lower(), season=season, episode=episode)


def page_number(text) -> int:
    """A `?page=` value: ASCII digits, else the first page."""
    return ascii_number(str(text)) or 1


class AsciiIntegerField(forms.IntegerField):
    """Django's IntegerField, refusing what is not ASCII digits (it reads "١" as 1)."""

    _SIGNED = re.compile(r"-?[0-9]+")

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not self._SIGNED.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)
