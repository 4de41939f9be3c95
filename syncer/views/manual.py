"""Manual mapping `/manual/`: AniList entry -> Trakt show (start season/episode) or movie,
typed as ids or pasted as URLs, checked and saved by `mappings.manual` (the admin's and the
API's rule too)."""

import logging

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mappings.manual import ManualMappingRefused, manual_target_check, manual_target_save
from mappings.models import Mapping
from mappings.selectors import mapping_get
from syncer.connections import anilist_client
from syncer.forms import ManualMappingForm, parse_anilist_id
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
            # The form keeps what was saved (the start fields as saved, a pasted URL's season
            # included), so the next entry of the same show is one edit away.
            form = ManualMappingForm(initial={
                "anilist": saved.anilist_id, "trakt": request.POST.get("trakt", ""), "kind": saved.type,
                "start_season": saved.start_season if saved.start_season is not None else 1,
                "start_episode": saved.start_episode or 1})
    else:
        form = ManualMappingForm(initial={"anilist": request.GET.get("anilist", "")})
    anilist_id = saved.anilist_id if saved else parse_anilist_id(str(form["anilist"].value() or ""))
    current = mapping_get(anilist_id=anilist_id) if anilist_id else None
    template = "syncer/_manual_form.html" if request.htmx else "syncer/manual.html"
    return render(request, template, {"form": form, "saved": saved, "current": current})


def _save(form: ManualMappingForm) -> Mapping | None:
    data = form.cleaned_data
    try:
        target = manual_target_check(ref=data["trakt"].ident, kind=data["kind"],
                                     start_season=data["start_season"], start_episode=data["start_episode"])
        title = _anilist_title(data["anilist"])
    except ManualMappingRefused as exc:
        form.add_error(None, exc.message)
        return None
    return manual_target_save(anilist_id=data["anilist"], target=target, title=title)


def _anilist_title(anilist_id: int) -> str:
    """The entry's title for the mapping row; also confirms the AniList id exists."""
    known = mapping_get(anilist_id=anilist_id)
    if known is not None and known.title:
        return known.title
    try:
        return anilist_client().media(media_id=anilist_id).title
    except NotFound:
        raise ManualMappingRefused(f"AniList has no anime with id {anilist_id}.") from None
    except ApiError as exc:
        # The mapping is still right without a title; say so in the log, not as an error.
        logger.warning("Manual mapping: AniList title of %s unavailable: %s", anilist_id, exc)
        return ""
