"""Writes the API makes: a thin layer over the engines' services for what the API adds."""

from django.db import transaction

from mappings.models import Mapping
from mappings.services import mapping_set_manual

EXTERNAL_IDS = ("tmdb_id", "imdb_id", "tvdb_id")


@transaction.atomic
def manual_mapping_save(
    *,
    anilist_id: int,
    trakt_id: int,
    kind: str | None,
    start_season: int | None = None,
    start_episode: int | None = None,
    **external_ids: int | str | None,
) -> Mapping:
    """Upsert a manual mapping through `mapping_set_manual`, plus the external ids the original's
    body carried. Ids not given keep their value (the original's upsert dropped absent keys);
    an explicit None clears one.

    Without an explicit kind, an AniList movie stays a movie: guessing "show" for a movie id
    would place plays on whatever show shares that Trakt number.
    """
    unknown = set(external_ids) - set(EXTERNAL_IDS)
    if unknown:
        raise TypeError(f"unexpected ids: {sorted(unknown)}")
    previous = Mapping.objects.select_for_update().filter(anilist_id=anilist_id).first()
    if kind is None:
        was_movie = previous is not None and (previous.type == Mapping.Type.MOVIE or previous.anilist_format == "MOVIE")
        kind = Mapping.Type.MOVIE if was_movie else Mapping.Type.SHOW
    row = mapping_set_manual(
        anilist_id=anilist_id,
        trakt_id=trakt_id,
        kind=kind,
        start_season=1 if start_season is None else start_season,
        start_episode=start_episode or 1,
    )
    changed = list(external_ids)
    for name, value in external_ids.items():
        setattr(row, name, value)
    if previous is not None and previous.trakt_id != trakt_id:
        # The stored Trakt title and slug described the old id.
        row.trakt_title = row.trakt_slug = ""
        changed += ["trakt_title", "trakt_slug"]
    if changed:
        row.save(update_fields=changed)
    return row
