"""Forms of the web pages, and reading ids out of pasted AniList and Trakt URLs."""

from django import forms

from syncer import refs
from syncer.models import SyncRun
from syncer.refs import AsciiIntegerField, TraktRef, parse_trakt_ref


def parse_anilist_id(text: str) -> int | None:
    """`16498` or `https://anilist.co/anime/16498/Shingeki-no-Kyojin/` -> 16498; else None
    (also for ids no database column can hold)."""
    try:
        return refs.parse_anilist_id(text)
    except ValueError:
        return None


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


class ManualMappingForm(forms.Form):
    """AniList entry -> Trakt show (start season and episode) or movie, ids or pasted URLs.

    A season or episode in a pasted Trakt URL fills the start fields left at their defaults.
    Whether the show, season and episode exist is checked against Trakt by `mappings.manual`.
    """

    anilist = AniListIdField(label="AniList id or URL", help_text="e.g. https://anilist.co/anime/16498/")
    trakt = TraktRefField(label="Trakt id or URL", help_text="e.g. https://trakt.tv/shows/attack-on-titan/seasons/3")
    kind = forms.ChoiceField(
        label="Type", choices=[("show", "Show"), ("movie", "Movie")], widget=forms.RadioSelect, initial="show"
    )
    start_season = AsciiIntegerField(label="Start season", min_value=0, initial=1, required=False)
    start_episode = AsciiIntegerField(label="Start episode", min_value=1, initial=1, required=False)

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
