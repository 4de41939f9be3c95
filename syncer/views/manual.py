"""Manual mapping `/manual/`: AniList entry -> Trakt show (start season/episode) or movie,
typed as ids or pasted as URLs, checked against Trakt before it is saved."""

import logging

from django import forms
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mappings.models import Mapping
from mappings.seasons import trakt_show_seasons
from mappings.services import mapping_set_manual
from syncer.clients.trakt import TraktClient
from syncer.connections import anilist_client, trakt_client
from syncer.forms import ManualMappingForm, TraktRef, TraktTarget, parse_anilist_id
from syncer.http import ApiError, NotFound

logger = logging.getLogger("syncer.web")


@require_http_methods(["GET", "POST"])
def manual_mapping(request):
    saved = None
    if request.method == "POST":
        form = ManualMappingForm(request.POST)
        if form.is_valid():
            saved = _save(form)
        if saved is not None:
            form = ManualMappingForm(initial={"anilist": saved.anilist_id})
    else:
        form = ManualMappingForm(initial={"anilist": request.GET.get("anilist", "")})
    anilist_id = saved.anilist_id if saved else parse_anilist_id(str(form["anilist"].value() or ""))
    current = Mapping.objects.filter(anilist_id=anilist_id).first() if anilist_id else None
    template = "syncer/_manual_form.html" if request.htmx else "syncer/manual.html"
    return render(request, template, {"form": form, "saved": saved, "current": current})


def _save(form: ManualMappingForm) -> Mapping | None:
    data = form.cleaned_data
    try:
        target = check_on_trakt(ref=data["trakt"], kind=data["kind"], start_season=data["start_season"],
                                start_episode=data["start_episode"], client=trakt_client(authenticated=False))
        title = _anilist_title(data["anilist"])
    except forms.ValidationError as exc:
        form.add_error(None, exc)
        return None
    return mapping_set_manual(
        anilist_id=data["anilist"], trakt_id=target.trakt_id, kind=target.kind,
        start_season=target.start_season, start_episode=target.start_episode,
        title=title, trakt_title=target.title, trakt_slug=target.slug,
    )


def check_on_trakt(*, ref: TraktRef, kind: str, start_season: int, start_episode: int,
                   client: TraktClient) -> TraktTarget:
    """Confirm the show or movie exists, and for a show that the start season and episode do.
    Raises `ValidationError` saying what is wrong."""
    what = f"{kind} {ref.ident}"
    try:
        summary = client.show(ref.ident) if kind == "show" else client.movie(ref.ident)
    except NotFound:
        raise forms.ValidationError(f"Trakt has no {what}. Check the id or URL.") from None
    except ApiError as exc:
        raise forms.ValidationError(f"Trakt could not be asked about {what} ({exc}); try again.") from None
    title = summary.title or what
    target = TraktTarget(kind=kind, trakt_id=summary.trakt_id, title=title, slug=summary.slug or "",
                         start_season=start_season, start_episode=start_episode)
    if kind == "movie":
        return target
    try:
        seasons = {s.number: s.episodes for s in trakt_show_seasons(trakt_id=target.trakt_id, client=client)}
    except ApiError as exc:
        raise forms.ValidationError(f"Trakt could not list the seasons of {title} ({exc}); try again.") from None
    if start_season not in seasons:
        have = ", ".join(str(n) for n in sorted(seasons)) or "none"
        raise forms.ValidationError(f"{title} has no season {start_season} on Trakt (its seasons: {have}).")
    episodes = seasons[start_season]
    if start_episode not in episodes:
        span = f"{min(episodes)}–{max(episodes)}" if episodes else "none"
        raise forms.ValidationError(
            f"Season {start_season} of {title} has no episode {start_episode} on Trakt (its episodes: {span})."
        )
    return target


def _anilist_title(anilist_id: int) -> str:
    """The entry's title for the mapping row; also confirms the AniList id exists."""
    known = Mapping.objects.filter(anilist_id=anilist_id).values_list("title", flat=True).first()
    if known:
        return known
    try:
        return anilist_client().media(media_id=anilist_id).title
    except NotFound:
        raise forms.ValidationError(f"AniList has no anime with id {anilist_id}.") from None
    except ApiError as exc:
        # The mapping is still right without a title; say so in the log, not as an error.
        logger.warning("Manual mapping: AniList title of %s unavailable: %s", anilist_id, exc)
        return ""
