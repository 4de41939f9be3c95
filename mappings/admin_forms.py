"""The mapping edit form: ids or URLs in, checked against Trakt (`mappings.manual`, the rule of
every door) before anything is saved."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from mappings.manual import ManualMappingRefused, manual_target_check
from mappings.models import Mapping
from mappings.seasons import trakt_show_seasons
from syncer.connections import trakt_client
from syncer.http import ApiError
from syncer.refs import AsciiIntegerField, ascii_id

ANILIST_URL = re.compile(r"anilist\.co/anime/([0-9]+)", re.I)
TRAKT_URL = re.compile(r"trakt\.tv/(shows|movies)/([\w-]+)", re.I)
# The form's field for each input a `ManualMappingRefused` names.
FIELDS = {"trakt": "trakt_ref", "start_season": "start_season", "start_episode": "start_episode"}


def trakt_factory():
    """The Trakt client the form checks with (tests replace this)."""
    return trakt_client(authenticated=False)


def parse_anilist(value: str) -> int | None:
    value = (value or "").strip()
    match = ANILIST_URL.search(value)
    if match:
        return ascii_id(match.group(1))
    return ascii_id(value)


def parse_trakt(value: str) -> tuple[str | None, str | None]:
    """(kind or None, id or slug) from `1420`, `attack-on-titan` or a trakt.tv URL."""
    value = (value or "").strip()
    match = TRAKT_URL.search(value)
    if match:
        return ("show" if match.group(1).lower() == "shows" else "movie"), match.group(2)
    return None, value or None


class MappingForm(forms.ModelForm):
    anilist_ref = forms.CharField(label="AniList id or URL", required=False,
                                  help_text="e.g. 16498 or https://anilist.co/anime/16498")
    trakt_ref = forms.CharField(label="Trakt id, slug or URL", required=False,
                                help_text="e.g. 1420, attack-on-titan or https://trakt.tv/shows/attack-on-titan")

    class Meta:
        model = Mapping
        fields = ["title", "type", "start_season", "start_episode", "is_manual", "source", "unmapped_reason"]
        field_classes = {"start_season": AsciiIntegerField, "start_episode": AsciiIntegerField}
        # One-line values: text inputs, not the admin's default large text areas.
        widgets = {
            "title": forms.TextInput(attrs={"class": "vTextField"}),
            "source": forms.TextInput(attrs={"class": "vTextField"}),
            "unmapped_reason": forms.TextInput(attrs={"class": "vLargeTextField", "size": 80}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.fields["anilist_ref"].initial = self.instance.anilist_id
            self.fields["anilist_ref"].disabled = True
        if self.instance and self.instance.trakt_id:
            self.fields["trakt_ref"].initial = self.instance.trakt_id

    def clean_anilist_ref(self):
        if self.instance and self.instance.pk:
            return self.instance.anilist_id
        anilist_id = parse_anilist(self.cleaned_data.get("anilist_ref"))
        if anilist_id is None:
            raise forms.ValidationError("Type an AniList id (a number) or an anilist.co/anime/… URL.")
        if Mapping.objects.filter(pk=anilist_id).exists():
            raise forms.ValidationError(f"AniList {anilist_id} already has a mapping: edit that one.")
        return anilist_id

    def clean(self):
        data = super().clean()
        kind_from_url, ref = parse_trakt(data.get("trakt_ref"))
        kind = kind_from_url or data.get("type") or Mapping.Type.SHOW
        data["type"] = kind
        data["target"] = None
        if not ref:
            data["trakt_id"] = None
            return data
        try:
            target = manual_target_check(ref=ref, kind=kind, start_season=data.get("start_season"),
                                         start_episode=data.get("start_episode"), client=trakt_factory())
        except ManualMappingRefused as exc:
            raise forms.ValidationError({FIELDS.get(exc.field, NON_FIELD_ERRORS): exc.message}) from None
        data["target"], data["trakt_id"] = target, target.trakt_id
        data["trakt_title"], data["trakt_slug"] = target.title, target.slug
        data["start_season"], data["start_episode"] = target.start_season, target.start_episode
        return data


class EpisodeOverrideFormSet(forms.BaseInlineFormSet):
    """Each override must name a season and an episode the Trakt show has, read through the
    season cache like the start season and episode (`mappings.manual`)."""

    def clean(self):
        super().clean()
        trakt_id, kind = _target_of(self.instance)
        rows = [form for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
                and form.cleaned_data.get("season") is not None and form.cleaned_data.get("episode") is not None]
        if not rows or not trakt_id or kind == Mapping.Type.MOVIE:
            return

        try:
            seasons = {s.number: s.episodes for s in trakt_show_seasons(trakt_id=trakt_id, client=trakt_factory())}
        except ApiError as exc:
            raise forms.ValidationError(f"Could not check the overrides on Trakt ({exc.message}); try again.") from exc
        have = ", ".join(map(str, sorted(seasons))) or "none"
        for form in rows:
            season, episode = form.cleaned_data["season"], form.cleaned_data["episode"]
            if season not in seasons:
                form.add_error("season", f"Trakt show {trakt_id} has no season {season} (it has {have}).")
            elif episode not in seasons[season]:
                episodes = seasons[season]
                span = f"{min(episodes)}–{max(episodes)}" if episodes else "none"
                form.add_error("episode", f"Season {season} of Trakt show {trakt_id} has no episode {episode} "
                                          f"(its episodes: {span}).")


def _target_of(mapping: Mapping) -> tuple[int | None, str]:
    """The Trakt show the overrides point into: the one chosen in this very form when it
    changed (`MappingAdmin.save_form` notes it), else the saved one."""
    return getattr(mapping, "checked_target", (mapping.trakt_id, mapping.type))
