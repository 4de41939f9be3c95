"""A loopback fake of TMDB v3 external ids."""

from __future__ import annotations

from tests.fakes.server import FakeServer, Request, Response

API_KEY = "fake-tmdb-api-key-0001"


class FakeTmdb(FakeServer):
    def __init__(self, *, api_key: str = API_KEY):
        super().__init__()
        self.api_key = api_key
        self.tv: dict[int, dict] = {}
        self.movies: dict[int, dict] = {}
        self.route("GET", r"/(tv|movie)/(\d+)/external_ids", self._external_ids)
        self.route("GET", r"/tv/(\d+)", self._tv)

    def add_tv(self, tmdb_id: int, *, imdb_id: str | None = None, tvdb_id: int | str | None = None,
               season_ids: dict[int, int] | None = None) -> None:
        """`season_ids`: season number -> TMDB season id (what `GET /tv/{id}` lists)."""
        self.tv[tmdb_id] = {"id": tmdb_id, "imdb_id": imdb_id, "tvdb_id": tvdb_id,
                            "seasons": [{"id": i, "season_number": n} for n, i in sorted((season_ids or {}).items())]}

    def add_movie(self, tmdb_id: int, *, imdb_id: str | None = None) -> None:
        self.movies[tmdb_id] = {"id": tmdb_id, "imdb_id": imdb_id}

    def before(self, request: Request) -> Response | None:
        bearer = request.headers.get("authorization", "")
        if request.query.get("api_key") != self.api_key and bearer != f"Bearer {self.api_key}":
            return Response(401, {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.",
                                  "success": False})
        return None

    def _external_ids(self, request: Request, kind: str, tmdb_id: str) -> Response:
        item = (self.tv if kind == "tv" else self.movies).get(int(tmdb_id))
        if item is None:
            return Response(404, {"status_code": 34, "status_message": "The resource you requested could not be found.",
                                  "success": False})
        return Response(200, {k: v for k, v in item.items() if k != "seasons"})

    def _tv(self, request: Request, tmdb_id: str) -> Response:
        item = self.tv.get(int(tmdb_id))
        if item is None:
            return Response(404, {"status_code": 34, "status_message": "The resource you requested could not be found.",
                                  "success": False})
        return Response(200, {"id": item["id"], "seasons": item.get("seasons") or []})
