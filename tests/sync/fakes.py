"""The shared AniList fake answers the sync engine's "entries updated since" query too
(`Page { mediaList(sort: UPDATED_TIME_DESC) }`); this name stays for the sync tests and bench."""

from tests.fakes.anilist import FakeAniList as SyncFakeAniList

__all__ = ["SyncFakeAniList"]
