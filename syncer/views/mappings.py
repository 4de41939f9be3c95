"""Mappings `/mappings/`: manual and automatic mappings in one filterable, searchable table."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.views.decorators.http import require_GET

from syncer import selectors
from syncer.forms import parse_anilist_id
from syncer.refs import page_number


@require_GET
def mapping_list(request):
    filters = selectors.MappingFilters(
        q=_search_text(request.GET.get("q", "")),
        origin=request.GET.get("origin", ""),
        kind=request.GET.get("kind", ""),
        source=request.GET.get("source", ""),
        status=request.GET.get("status", ""),
    )
    page = selectors.mappings_page(filters=filters, page=page_number(request.GET.get("page", 1)))
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    context = {"page": page, "filters": filters, "query": query, "sources": selectors.mapping_sources_used()}
    template = "syncer/_mapping_rows.html" if request.htmx else "syncer/mappings.html"
    return render(request, template, context)


def _search_text(text: str) -> str:
    """A pasted AniList URL searches by its id."""
    anilist_id = parse_anilist_id(text) if "anilist.co" in text else None
    return str(anilist_id) if anilist_id else text.strip()
