"""Forms of the web pages, and reading ids out of pasted AniList and Trakt URLs."""

import re
from dataclasses import dataclass

from django import forms

from syncer.models import SyncRun
from syncer.sync import sources as sync_sources

_TRAKT_URL = re.compile(
    r"^(?:https?://)?(?:www\.|app\.)?trakt\.tv/(shows|movies)/([\w-]+)"
    r"(?:/seasons/(\d+)(?:/episodes/(\d+))?)?(?:[/?#].*)?$",
    re.I,
)
MAX_ID = 2_147_483_647


def parse_anilist_id(text: str) -> int | None:
    """`16498` or `https://anilist.co/anime/16498/Shingeki-no-Kyojin/` -> 16498; else None
    (also for ids no database column can hold)."""
    try:
        value = sync_sources.parse_anilist_id(text)
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


@dataclass(frozen=True)
class TraktRef:
    """What a pasted Trakt id or URL says: the show or movie (id or slug) and maybe a season
    and episode (`/shows/x/seasons/3/episodes/13`)."""

    kind: str  # "show", "movie" or "" when only a number was given
    ident: str  # a Trakt id (digits) or a slug
    season: int | None = None
    episode: int | None = None

    @property
    def is_id(self) -> bool:
        return self.ident.isdigit()


def parse_trakt_ref(text: str) -> TraktRef | None:
    text = text.strip()
    if text.isdigit():
        return TraktRef(kind="", ident=text) if 0 < int(text) <= MAX_ID else None
    match = _TRAKT_URL.match(text)
    if not match:
        return None
    kind = "show" if match.group(1).lower() == "shows" else "movie"
    season = int(match.group(3)) if match.group(3) else None
    episode = int(match.group(4)) if match.group(4) else None
    return TraktRef(kind=kind, ident=match.group(2).lower(), season=season, episode=episode)


class AniListIdField(forms.CharField):
    """An AniList id, typed as a number or pasted as an anime URL."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        parsed = parse_anilist_id(value)
        if parsed is None:
            raise forms.ValidationError(
                "Enter an AniList anime id (e.g. 16498) or its URL (https://anilist.co/anime/16498/...)."
            )
        return parsed


class SyncStartForm(forms.Form):
    # An undo is started from the run it takes back, not here.
    mode = forms.ChoiceField(choices=[c for c in SyncRun.Mode.choices if c[0] != SyncRun.Mode.UNDO])
    dry_run = forms.BooleanField(required=False)
    anilist = AniListIdField(required=False, label="AniList id or URL")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == SyncRun.Mode.SHOW and not cleaned.get("anilist"):
            self.add_error("anilist", "Single show needs an AniList id or URL.")
        return cleaned


class TraktRefField(forms.CharField):
    """A Trakt id, or a pasted show/movie URL (its slug, season and episode are kept)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        parsed = parse_trakt_ref(value)
        if parsed is None:
            raise forms.ValidationError(
                "Enter a Trakt id (e.g. 1420) or a Trakt URL (https://trakt.tv/shows/attack-on-titan)."
            )
        return parsed


@dataclass(frozen=True)
class TraktTarget:
    """What Trakt confirmed for a manual mapping."""

    kind: str
    trakt_id: int
    title: str
    slug: str
    start_season: int
    start_episode: int


class ManualMappingForm(forms.Form):
    """AniList entry -> Trakt show (start season and episode) or movie, ids or pasted URLs.

    A season or episode in a pasted Trakt URL fills the start fields left at their defaults.
    Whether the show, season and episode exist is checked against Trakt by `check_on_trakt`.
    """

    anilist = AniListIdField(label="AniList id or URL", help_text="e.g. https://anilist.co/anime/16498/")
    trakt = TraktRefField(label="Trakt id or URL", help_text="e.g. https://trakt.tv/shows/attack-on-titan/seasons/3")
    kind = forms.ChoiceField(
        label="Type", choices=[("show", "Show"), ("movie", "Movie")], widget=forms.RadioSelect, initial="show"
    )
    start_season = forms.IntegerField(label="Start season", min_value=0, initial=1, required=False)
    start_episode = forms.IntegerField(label="Start episode", min_value=1, initial=1, required=False)

    def clean(self):
        cleaned = super().clean()
        ref: TraktRef | None = cleaned.get("trakt")
        if ref is None:
            return cleaned
        if ref.kind and cleaned.get("kind") and ref.kind != cleaned["kind"]:
            self.add_error("kind", f"The Trakt URL is a {ref.kind}, but {cleaned['kind']} is chosen.")
        cleaned["start_season"] = _prefer_url(cleaned.get("start_season"), ref.season)
        cleaned["start_episode"] = _prefer_url(cleaned.get("start_episode"), ref.episode)
        return cleaned


def _prefer_url(typed: int | None, from_url: int | None) -> int:
    """A number typed by hand wins; one left at its default (1 or empty) yields to the URL's."""
    if typed not in (None, 1):
        return typed
    return from_url if from_url is not None else 1
