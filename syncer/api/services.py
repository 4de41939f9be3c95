"""Writes the API makes: a thin layer over the apps' services for what the API adds."""

from mappings.manual import manual_mapping_save
from mappings.models import Mapping
from mappings.selectors import mapping_get


def manual_map_save(
    *,
    anilist_id: int,
    trakt_id: int,
    kind: str | None,
    start_season: int | None = None,
    start_episode: int | None = None,
    **external_ids: int | str | None,
) -> Mapping:
    """A manual mapping by `mappings.manual` (checked on Trakt, raises `ManualMappingRefused`),
    plus the external ids the original's body carried. Ids not given keep their value (the
    original's upsert dropped absent keys); an explicit None clears one.

    Without an explicit kind, an AniList movie stays a movie: guessing "show" for a movie id
    would place plays on whatever show shares that Trakt number.
    """
    if kind is None:
        previous = mapping_get(anilist_id=anilist_id)
        was_movie = previous is not None and (previous.type == Mapping.Type.MOVIE or previous.anilist_format == "MOVIE")
        kind = Mapping.Type.MOVIE if was_movie else Mapping.Type.SHOW
    return manual_mapping_save(anilist_id=anilist_id, ref=trakt_id, kind=kind, start_season=start_season,
                               start_episode=start_episode, external_ids=external_ids)
