"""Mappings resolved inside the pipeline: on a new install (or for entries new to it) a show is
planned and posted as soon as its entries are resolved and its season list is known, while the
next entries are still being resolved.

The rule that keeps it safe. A show is planned once, with every entry of the run mapped to it,
because two entries of one show decide each other's plays (a Trakt episode both land on posts
once, one both claim is held for both). So before anything is resolved, the entries are put in
`pipeline.resolution_groups` by what is known without asking Trakt: the ids the mapping
datasets give (and, for a saved mapping, the ids of its show). Entries that may land on one
show share such an id and so one group; the reading thread resolves the groups in the order of
their first event and the run's thread plans a show only once the group of each of its entries
is resolved. What the datasets cannot promise is checked, not assumed: when a group is taken
over, an entry resolved onto a show (or movie) the run has already planned is not planned on it
(`pipeline.LATE`, the run's log says so): it posts nothing in this run, keeps its progress, holds
the incremental cursor before its plays, and the next run plans it with the show's other
entries from the saved mappings. So a play is never posted without the checks against every
other entry of its show, never twice, and never dropped. An entry no dataset knows may be placed
by air dates on the show of a prequel, sequel or parent: it joins their group (AniList's
relations come with the air dates; a relative synced before brings its show's ids) and is
resolved after the group's other entries, so that show is known by then. One placed by a title
search alone can land anywhere: the check above is what keeps it safe.

The reading thread touches no database. It gets what it needs up front (the entries' dataset
rows, their saved mappings, the cached season lists of the shows they may land on) and asks the
run's thread for the rest (`pipeline.Resolving.ask`: the air dates, fetched once for every entry
as `mappings.services` does, and the mapped relatives of an entry). It hands over each group's
`Resolution`s and the season lists it read; the run's thread stores the lists and saves the
mappings through `mapping_resolve_many`, the same service as before, whose resolver then returns
what the thread found (`Replayed`): the rows are saved exactly as when resolved in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import Q

from mappings.models import Mapping
from mappings.resolver import DATED_FORMATS, Pinned, Resolution, Resolver, entry_kind, lookups
from mappings.seasons import fresh_show_seasons
from mappings.selectors import SHOW_RELATIONS, related_shows, source_facts_many
from mappings.services import adopted_pin, airing_cached
from syncer.http import NotFound
from syncer.sync import pipeline


def resolved_in_pipeline(row: Mapping | None) -> bool:
    """Whether resolving the entry likely asks Trakt (no usable saved mapping): such entries are
    resolved by the reading thread. A guess: `mapping_resolve_many` decides, and an entry guessed
    wrong is only resolved later (in the run's thread) or not at all."""
    return row is None or adopted_pin(row) is not None or (
        not row.is_manual and (row.trakt_id is None or bool(row.unmapped_reason)))


def saved_tokens(row: Mapping) -> set[tuple]:
    """The ids a saved mapping's show (or movie) is known by."""
    ids = (("trakt", row.trakt_id), ("tmdb", row.tmdb_id), ("tvdb", row.tvdb_id), ("imdb", row.imdb_id))
    return {(row.type, id_type, str(value)) for id_type, value in ids if value}


def dataset_tokens(media, facts, pin: Pinned | None) -> set[tuple]:
    """The ids the datasets (and a pinned id) know the entry's Trakt object by: what the
    resolver will look up, so two entries that may land on one show share one of them."""
    kind = (pin.kind if pin is not None and pin.kind else None) or entry_kind(media.format, facts)
    tokens = {(kind, lk.id_type, str(lk.value)) for lk in lookups(kind, facts)}
    return tokens | ({(kind, "trakt", str(pin.trakt_id))} if pin is not None else set())


@dataclass
class Outcome:
    """One resolution group as the reading thread found it."""
    resolutions: dict[int, tuple[Pinned | None, Resolution | Exception]] = field(default_factory=dict)
    seasons: dict[int, object] = field(default_factory=dict)  # lists read (or the NotFound a read raised)


@dataclass
class Prepared:
    """What the reading thread needs, read by the run's thread before it starts."""
    todo: dict[int, tuple]  # AniList id -> (media, facts, pinned) to resolve
    tokens: dict[int, set[tuple]]
    cached: dict[int, list]  # fresh cached season lists of the shows the entries may land on
    kinds: set[str]  # the kinds ("episode", "movie") of first-time plays they may bring
    unknown: set[int]  # entries no dataset knows: resolved last in their group


def prepare(medias: list, saved: dict[int, Mapping]) -> Prepared:
    """Facts, pins and tokens of the entries to resolve (`medias`), the cached season lists of
    the shows they may land on, and the kinds of plays they may bring."""
    facts = source_facts_many(medias=medias)
    todo = {m.id: (m, facts[m.id], adopted_pin(saved.get(m.id))) for m in medias}
    tokens = {aid: dataset_tokens(*entry) for aid, entry in todo.items()}
    unknown = {aid for aid, t in tokens.items() if not t}
    tokens.update(relatives_tokens([todo[aid][0] for aid in unknown]))
    for aid in tokens:
        tokens[aid].add(("anime", "anilist", str(aid)))
    ids = {(id_type, int(v)) for t in tokens.values() for kind, id_type, v in t
           if kind == "show" and id_type in ("trakt", "tmdb", "tvdb") and v.isdigit()}
    shows = {v for id_type, v in ids if id_type == "trakt"}
    tmdb, tvdb = ({v for id_type, v in ids if id_type == wanted} for wanted in ("tmdb", "tvdb"))
    if tmdb or tvdb:
        # A new sequel of a show synced before: its list is cached under the saved show, and
        # the entry joins the group of that show's entries (saved ones may lack its TMDB id).
        known = Mapping.objects.filter(Q(tmdb_id__in=tmdb) | Q(tvdb_id__in=tvdb), type=Mapping.Type.SHOW,
                                       trakt_id__isnull=False).values_list("trakt_id", "tmdb_id", "tvdb_id")
        saved_shows = {}
        for trakt_id, tmdb_id, tvdb_id in known:
            saved_shows.update({("show", "tmdb", str(tmdb_id)): trakt_id, ("show", "tvdb", str(tvdb_id)): trakt_id})
        for entry_tokens in tokens.values():
            entry_tokens |= {("show", "trakt", str(saved_shows[t])) for t in entry_tokens if t in saved_shows}
        shows |= set(saved_shows.values())
    kinds = {"movie" if (pin.kind if pin and pin.kind else entry_kind(m.format, f)) == "movie" else "episode"
             for m, f, pin in todo.values()}
    return Prepared(todo, tokens, fresh_show_seasons(trakt_ids=shows) if shows else {}, kinds, unknown)


def relatives_tokens(medias: list) -> dict[int, set[tuple]]:
    """Entries no dataset knows may be placed on the show of a prequel, sequel or parent (by
    air dates): they join that relative's group, and are resolved after it (`ThreadSide`). Their
    relations come with the air dates (cached, or one AniList request per 25 entries)."""
    dated = [m.id for m in medias if (m.format or "").upper() in DATED_FORMATS]
    if not dated or not settings.AIRDATES_ENABLED:
        return {}
    airing = airing_cached(anilist_ids=dated)
    relatives = {aid: [other for other, kind in airing[aid].related if kind in SHOW_RELATIONS]
                 for aid in dated if aid in airing}
    saved = Mapping.objects.in_bulk([other for others in relatives.values() for other in others])
    # A relative synced before (not in this run) brings its show's ids: the entry may land there.
    return {aid: {("anime", "anilist", str(other)) for other in others}
            | {token for other in others if other in saved for token in saved_tokens(saved[other])}
            for aid, others in relatives.items()}


def add_kept(prepared: Prepared, kept: dict[int, Mapping]) -> None:
    """The entries whose saved mappings are kept join the groups of the shows they are on, so a
    show is planned only once the entries that may join it are resolved."""
    prepared.tokens.update({aid: saved_tokens(row) | {("anime", "anilist", str(aid))} for aid, row in kept.items()})
    shows = {row.trakt_id for row in kept.values() if row.type == Mapping.Type.SHOW} - set(prepared.cached)
    prepared.cached.update(fresh_show_seasons(trakt_ids=shows) if shows else {})


class ThreadSide:
    """The reading thread's resolver: Trakt and TMDB over the network, season lists from what
    was cached up front or read here (handed over with the group), the air dates and relatives
    asked of the run's thread."""

    def __init__(self, prepared: Prepared, groups: list[list[int]], *, kept_shows: dict[int, int], trakt, tmdb):
        self.prepared, self.groups, self.kept_shows, self.trakt = prepared, groups, kept_shows, trakt
        self.known: dict[int, object] = dict(prepared.cached)
        self.read: dict[int, object] = {}
        self.airing: dict | None = None
        self.current: dict = {}  # the resolutions of the group being resolved
        self.ask = None  # `pipeline.Resolving.ask`, set once the thread exists
        dated = settings.AIRDATES_ENABLED
        self.resolver = Resolver(trakt=trakt, tmdb=tmdb, seasons=self.seasons, not_found=(NotFound,),
                                 airdates=self.airdates if dated else None,
                                 related_shows=self.related_shows if dated else None)

    def resolve(self, index: int, *, before_send) -> Outcome:
        """Group `index`: its entries resolved, then the season list of each of its shows."""
        self.read = {}
        outcome, shows = Outcome(), set()
        self.current = outcome.resolutions
        for anilist_id in sorted(self.groups[index], key=lambda aid: aid in self.prepared.unknown):
            if anilist_id not in self.prepared.todo:
                shows |= {self.kept_shows[anilist_id]} if anilist_id in self.kept_shows else set()
                continue
            before_send()
            media, facts, pin = self.prepared.todo[anilist_id]
            try:
                res = self.resolver.resolve(media, facts, pinned=pin)
            except pipeline.Stopped:
                raise
            except Exception as exc:  # noqa: BLE001 - raised again where the entry is saved (`Replayed`)
                res = exc
            outcome.resolutions[anilist_id] = (pin, res)
            if isinstance(res, Resolution) and res.is_mapped and res.kind == "show":
                shows.add(res.trakt_id)
        for show in sorted(shows):
            before_send()
            self.seasons(show)
        outcome.seasons = self.read
        return outcome

    def seasons(self, trakt_id: int):
        if trakt_id not in self.known:
            try:
                got = self.trakt.show_seasons(trakt_id)
            except NotFound as exc:
                got = exc
            self.known[trakt_id] = self.read[trakt_id] = got
        got = self.known[trakt_id]
        return None if isinstance(got, NotFound) else got

    def airdates(self, anilist_id: int) -> dict:
        airing = self._airing().get(anilist_id)
        return airing.aired if airing is not None else {}

    def related_shows(self, anilist_id: int) -> list:
        airing = self._airing().get(anilist_id)
        found = self.ask(lambda: related_shows(related=airing.related)) if airing is not None else []
        # A relative resolved just before, in this group, is saved with the group: known here.
        mine = {aid: res for aid, (_pin, res) in self.current.items()
                if isinstance(res, Resolution) and res.is_mapped and res.kind == "show"}
        return [replace(r, trakt_id=mine[r.anilist_id].trakt_id, trakt_title=mine[r.anilist_id].trakt_title,
                        trakt_slug=mine[r.anilist_id].trakt_slug) if r.anilist_id in mine else r for r in found]

    def _airing(self) -> dict:
        if self.airing is None:
            # Once, for every entry to resolve, as `mappings.services` fetches them.
            ids = [aid for aid, (m, _f, _p) in self.prepared.todo.items() if (m.format or "").upper() != "MOVIE"]
            self.airing = self.ask(lambda: airing_cached(anilist_ids=ids))
        return self.airing


class Replayed(Resolver):
    """The run's thread's resolver for `mapping_resolve_many`: an entry the reading thread
    resolved with the same pinned id gets that result (or raises what its resolution raised);
    any other is resolved here, as without the pipeline."""

    def __init__(self, base: Resolver):
        super().__init__(trakt=base.trakt, tmdb=base.tmdb, seasons=base.seasons, not_found=base.not_found)
        self.outcomes: dict[int, tuple[Pinned | None, Resolution | Exception]] = {}

    def resolve(self, media, facts, *, pinned: Pinned | None = None) -> Resolution:
        recorded = self.outcomes.pop(media.id, None)
        if recorded is None or recorded[0] != pinned:
            return super().resolve(media, facts, pinned=pinned)
        if isinstance(recorded[1], Exception):
            raise recorded[1]
        return recorded[1]
