"""TMDB v3 client: external ids of a tv show or a movie, a show's season ids. Optional: without a
key it is off."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.conf import settings

from syncer.http import HttpService, MiB, pacer

# An external-ids answer is well under a kilobyte.
MAX_ANSWER_BYTES = 1 * MiB


@dataclass(frozen=True)
class ExternalIds:
    imdb_id: str | None = None
    tvdb_id: int | None = None


def _blank_to_none(value):
    # TMDB says "none" with null or with an empty string.
    return value if value not in ("", 0) else None


class TmdbClient:
    def __init__(self, *, api_key: str | None = None, client: httpx.Client | None = None,
                 base_url: str | None = None):
        self.api_key = settings.TMDB_API_KEY if api_key is None else api_key
        headers = {}
        self.params = {}
        # A v4 "read access token" is a JWT and goes in the header; a v3 key is a query param.
        if self.api_key.startswith("eyJ"):
            headers["Authorization"] = f"Bearer {self.api_key}"
        elif self.api_key:
            self.params["api_key"] = self.api_key
        self.service = HttpService("TMDB", base_url=base_url or settings.TMDB_API_URL, client=client,
                                   headers=headers, read_pacer=pacer("tmdb"), max_bytes=MAX_ANSWER_BYTES)

    @property
    def enabled(self) -> bool:
        return bool(self.api_key)

    def external_ids(self, *, kind: str, tmdb_id: int) -> ExternalIds:
        """IMDb and TVDB ids; raises `NotFound` for an unknown id. Disabled: empty ids, no call."""
        if kind not in ("tv", "movie"):
            raise ValueError(f"kind must be 'tv' or 'movie', not {kind!r}")
        if not self.enabled:
            return ExternalIds()
        body = self.service.request_json("GET", f"/{kind}/{tmdb_id}/external_ids", params=self.params)
        tvdb = _blank_to_none(body.get("tvdb_id"))
        return ExternalIds(imdb_id=_blank_to_none(body.get("imdb_id")),
                           tvdb_id=int(tvdb) if tvdb is not None else None)

    def season_ids(self, *, tmdb_id: int) -> frozenset[int]:
        """The TMDB ids of a tv show's seasons (`GET /tv/{id}`); raises `NotFound` for an unknown
        show. Disabled: none, no call."""
        if not self.enabled:
            return frozenset()
        body = self.service.request_json("GET", f"/tv/{tmdb_id}", params=self.params)
        seasons = body.get("seasons") if isinstance(body, dict) else None
        return frozenset(s["id"] for s in seasons or () if isinstance(s, dict) and isinstance(s.get("id"), int))
