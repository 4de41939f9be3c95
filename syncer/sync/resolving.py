"""The resolution stage every entry of a run passes, before its show's season list and its
plan: an entry with a usable saved mapping resolves at once (`mapping_resolve_many` in the run's
thread, no request); the others (a new install, entries new to it) are resolved by the reading
thread while the run posts the shows already planned.

The rule that keeps it safe. A show is planned once, with every entry of the run mapped to it,
because two entries of one show decide each other's plays (a Trakt episode both land on posts
once, one both claim is held for both). So before anything is resolved, the entries are put in
`pipeline.resolution_groups` by what is known without asking Trakt: the ids the mapping
datasets give (and, for a saved mapping, the ids of its show). Entries that may land on one
show share such an id and so one group; the reading thread takes the groups in the order of
their first event (resolving their entries, then reading their shows' season lists) and the
run's thread plans a show only once the group of each of its entries is taken over
(`RunMappings`). What the datasets cannot promise is checked, not assumed: an entry resolved
onto a show (or movie) the run has already planned is not planned on it (`pipeline.LATE`, the
run's log says so): it posts nothing in this run, keeps its progress, holds the incremental
cursor before its plays, and the next run plans it with the show's other entries from the saved
mappings. So a play is never posted without the checks against every other entry of its show,
never twice, and never dropped. An entry no dataset knows may be placed by air dates on the show
of a prequel, sequel or parent: it joins their group (AniList's relations come with the air
dates; a relative synced before brings its show's ids) and is resolved after the group's other
entries, so that show is known by then. One placed by a title search alone can land anywhere:
the check above is what keeps it safe.

The reading thread touches no database. It gets what it needs up front (the entries' dataset
rows, their saved mappings, the cached season lists of the shows they may land on) and asks the
run's thread for the rest (`pipeline.Resolving.ask`: the air dates, fetched once for every entry
as `mappings.services` does, and the mapped relatives of an entry). It hands over each group's
`Resolution`s and the season lists it read; the run's thread stores the lists (placing the saved
entries of each show again from its new air dates: `show_seasons_refresh`) and saves the
mappings through `mapping_resolve_many`, the same service, whose resolver then returns what the
thread found (`Replayed`): the rows are saved exactly as when resolved in one go.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import Q

from mappings.models import Mapping
from mappings.resolver import DATED_FORMATS, Pinned, Resolution, Resolver, entry_kind, lookups
from mappings.seasons import fresh_show_seasons, trakt_show_seasons
from mappings.selectors import SHOW_RELATIONS, related_shows, source_facts_many
from mappings.services import (
    adopted_pin,
    airing_cached,
    default_resolver,
    mapping_resolve_many,
    show_seasons_refresh,
)
from syncer.connections import tmdb_client, trakt_client
from syncer.http import NotFound
from syncer.sync import pipeline
from syncer.sync.inputs import collisions_held, mapping_codes, mapping_specs

logger = logging.getLogger("syncer.sync")


def resolved_in_pipeline(row: Mapping | None) -> bool:
    """Whether resolving the entry likely asks Trakt (no usable saved mapping): such entries are
    resolved by the reading thread. A guess: `mapping_resolve_many` decides, and an entry guessed
    wrong is only resolved later (in the run's thread) or not at all."""
    return row is None or adopted_pin(row) is not None or (
        not row.is_manual and (row.trakt_id is None or bool(row.unmapped_reason)))


class Deferral:
    """`plan_inputs`' `defer`: keeps the entries the reading thread resolves (no usable saved
    mapping, `resolved_in_pipeline`) and prepares what it needs; the others resolve at once."""

    def __init__(self):
        self.prepared = Prepared()

    def __call__(self, medias: list) -> tuple[list, set[str]]:
        saved = Mapping.objects.in_bulk([m.id for m in medias])
        self.prepared = prepare([m for m in medias if resolved_in_pipeline(saved.get(m.id))], saved)
        return [m for m in medias if m.id not in self.prepared.todo], self.prepared.kinds


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
    todo: dict[int, tuple] = field(default_factory=dict)  # AniList id -> (media, facts, pinned) to resolve
    tokens: dict[int, set[tuple]] = field(default_factory=dict)
    shows: set[int] = field(default_factory=set)  # the Trakt shows they may land on (cached lists are read)
    kinds: set[str] = field(default_factory=set)  # the kinds ("episode", "movie") of first-time plays they may bring
    unknown: set[int] = field(default_factory=set)  # entries no dataset knows: resolved last in their group


def prepare(medias: list, saved: dict[int, Mapping]) -> Prepared:
    """Facts, pins and tokens of the entries to resolve (`medias`), the shows they may land on,
    and the kinds of plays they may bring."""
    if not medias:
        return Prepared()
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
    return Prepared(todo, tokens, shows, kinds, unknown)


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


class ThreadSide:
    """The reading thread's resolver: Trakt and TMDB over the network, season lists from what
    was cached up front or read here (handed over with the group), the air dates and relatives
    asked of the run's thread."""

    def __init__(self, prepared: Prepared, groups: list[list[int]], *, cached: dict[int, list],
                 kept_shows: dict[int, int], trakt, tmdb):
        self.prepared, self.groups, self.kept_shows, self.trakt = prepared, groups, kept_shows, trakt
        self.known: dict[int, object] = dict(cached)
        self.read: dict[int, object] = {}
        self.before_send = None  # the group's: a stopped run sends no further read or retry
        self.airing: dict | None = None
        self.current: dict = {}  # the resolutions of the group being resolved
        self.ask = None  # `pipeline.Resolving.ask`, set once the thread exists
        dated = settings.AIRDATES_ENABLED
        self.resolver = Resolver(trakt=trakt, tmdb=tmdb, seasons=self.seasons, not_found=(NotFound,),
                                 airdates=self.airdates if dated else None,
                                 related_shows=self.related_shows if dated else None)

    def resolve(self, index: int, *, before_send) -> Outcome:
        """Group `index`: its entries to resolve resolved, then the season list of each of its
        shows (those of its saved mappings too) not cached or read before."""
        self.read, self.before_send = {}, before_send
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
            self.seasons(show)
        outcome.seasons = self.read
        return outcome

    def seasons(self, trakt_id: int):
        if trakt_id not in self.known:
            try:
                got = self.trakt.show_seasons(trakt_id, before_send=self.before_send)
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


class RunMappings:
    """The run's mappings as its entries pass the resolution stage, all in the run's thread:
    the plan's `inputs` (specs, reasons and codes, updated in place as groups are taken over),
    the season lists known so far, and which shows and entries are planned. Every entry with
    something to post is in a resolution group; the others (nothing to post, or unmapped at
    once) are planned on their own."""

    def __init__(self, events: list, medias: dict, inputs: dict, prepared: Prepared, *, stale: set[int]):
        rows = inputs.pop("rows")  # the plan needs the specs only
        self.inputs, self.medias, self.prepared = inputs, medias, prepared
        self.mappings, self.unmapped, self.codes = inputs["mappings"], inputs["unmapped"], inputs["unmapped_codes"]
        self.events_of: dict[int, list] = {}  # in the order of each entry's first event
        for n, event in enumerate(events):
            self.events_of.setdefault(event.anilist_id, []).append((n, event))
        kept = {aid: row for aid, row in rows.items() if aid in self.mappings}
        tokens = {**prepared.tokens, **{aid: saved_tokens(row) | {("anime", "anilist", str(aid))}
                                        for aid, row in kept.items()}}
        self.groups = pipeline.resolution_groups([a for a in self.events_of if a in prepared.todo or a in kept],
                                                 tokens)
        self.group_of = {aid: n for n, group in enumerate(self.groups) for aid in group}
        self.kept_shows = {aid: row.trakt_id for aid, row in kept.items() if row.type == Mapping.Type.SHOW}
        self.kept_on: dict[int, list[int]] = {}
        for aid, show in self.kept_shows.items():
            self.kept_on.setdefault(show, []).append(aid)
        # A show whose list a passing reason found stale (`stale`) is read again, not cached.
        shows = (prepared.shows | set(self.kept_on)) - stale
        self.seasons: dict[int, object] = fresh_show_seasons(trakt_ids=shows) if shows else {}
        self.by_key: dict[tuple, list[int]] = {}  # the entries taken over, by the show they are on
        self.planned: set[tuple] = set()
        self.planned_entries: set[int] = set()
        self.replay: Replayed | None = None  # built with the first group to save

    @property
    def entries(self) -> list[int]:
        return list(self.events_of)

    def reader(self) -> pipeline.Resolving:
        """The reading thread over the groups, taken over by `absorb` (not started yet)."""
        side = ThreadSide(self.prepared, self.groups, cached=self.seasons, kept_shows=self.kept_shows,
                          trakt=trakt_client(authenticated=False), tmdb=tmdb_client() if self.prepared.todo else None)
        reader = pipeline.Resolving(len(self.groups), resolve=side.resolve, absorb=self.absorb)
        side.ask = reader.ask  # before the thread starts: its first entry may need it
        return reader

    def absorb(self, index: int, outcome: Outcome) -> None:
        """Group `index` taken over: the season lists read stored, and the saved entries of each
        show placed again from its new air dates before any of them is planned; then the
        group's mappings saved, and its entries filed under the shows they are on."""
        for show, got in outcome.seasons.items():
            self.seasons[show] = got
            if not isinstance(got, NotFound):
                self._take(show_seasons_refresh(trakt_id=show, seasons=got, medias=[
                    self.medias[a] for a in self.kept_on.get(show, ()) if self.key_of(a) == ("show", show)]))
        todo = [self.medias[aid] for aid in self.groups[index] if aid in self.prepared.todo]
        if todo:
            self.replay = self.replay or Replayed(default_resolver())
            self.replay.outcomes.update(outcome.resolutions)
            resolved = mapping_resolve_many(medias=todo, resolver=self.replay)
            self._take({**resolved, **collisions_held(resolved, set(self.mappings) - set(resolved))})
        for aid in self.groups[index]:
            self.by_key.setdefault(self.key_of(aid), []).append(aid)

    def show_group(self, anilist_id: int) -> pipeline.ShowGroup | None:
        """What to plan when the run reaches `anilist_id` (its group taken over): its show (or
        movie), with the events of every entry taken over onto it, in their order; None when
        the entry was planned with its show already. An entry whose show was planned before its
        group was taken over is left to the next run (`pipeline.LATE`): planned alone, unmapped."""
        if anilist_id in self.planned_entries:
            return None
        key = self.key_of(anilist_id)
        if key in self.planned:
            self._late(anilist_id)
            key = self.key_of(anilist_id)
        self.planned.add(key)
        members = {anilist_id, *(a for a in self.by_key.get(key, ()) if self.key_of(a) == key)} - self.planned_entries
        self.planned_entries |= members
        events = sorted((item for member in members for item in self.events_of[member]), key=lambda item: item[0])
        return pipeline.ShowGroup(key, key[1] if key[0] == "show" else None, [event for _, event in events])

    def seasons_of(self, show: int | None):
        """The season list of `show` (or the `NotFound` its read raised); read here for a show
        only the run's thread resolved an entry onto (`Replayed`), which the thread did not read."""
        if show is not None and show not in self.seasons:
            try:
                self.seasons[show] = trakt_show_seasons(trakt_id=show)
            except NotFound as exc:
                self.seasons[show] = exc
        return self.seasons.get(show)

    def key_of(self, anilist_id: int) -> tuple:
        spec = self.mappings.get(anilist_id)
        return ("entry", anilist_id) if spec is None else (spec.kind, spec.trakt_id)

    def _take(self, rows: dict[int, Mapping]) -> None:
        """These entries' mappings as saved now."""
        found, reasons = mapping_specs(rows)
        for anilist_id in rows:
            self.mappings.pop(anilist_id, None)
            self.unmapped.pop(anilist_id, None)
            self.codes.pop(anilist_id, None)
        self.mappings.update(found)
        self.unmapped.update(reasons)
        self.codes.update(mapping_codes(rows))

    def _late(self, anilist_id: int) -> None:
        spec = self.mappings.pop(anilist_id)
        self.unmapped[anilist_id] = pipeline.LATE.format(kind=spec.kind, trakt_id=spec.trakt_id)
        self.codes[anilist_id] = ("resolved_late", {"kind": spec.kind, "trakt_id": spec.trakt_id})
        logger.warning("AniList %s: %s", anilist_id, self.unmapped[anilist_id])
