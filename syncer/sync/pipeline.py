"""The pipelined run: a show is planned, stored and posted as soon as its season list is known,
while the next shows' lists are still being read.

Trakt limits reads (1,000 GETs per 5 minutes) and writes (1 POST a second) separately, so a
run that read every list first and posted afterwards took the sum of both; reading in a
thread of its own while this one posts takes the slower of the two.

The plan is made per Trakt show (`show_groups`): every entry mapped to one show is planned
together, because two entries landing on the same Trakt episode post it once and the episodes
two entries both claim are held for both, and neither can be decided from one entry. The
groups come in the order of their first event and each keeps its events' order, so the plan
(and a preview, which goes through the same loop and posts nothing) is the same whichever
moment each list arrives at.

Mappings not saved yet are resolved in the pipeline too (`Resolving`, the rule in
`syncer.sync.resolving`): the entries are grouped by the ids the datasets give them
(`resolution_groups`), the thread resolves the groups in order, and a show is planned only once
the groups of its entries are taken over; an entry that Trakt's answer puts on a show already
planned is left to the next run (`LATE`), never planned on it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections

from logs.context import current_run_id, log_to_run
from mappings.placement import MappingSpec
from syncer.http import NotFound, unobserved
from syncer.sync.events import WatchEvent

READING = "Reading Trakt seasons"
RESOLVING = "Resolving mappings"
POSTING = "Posting to Trakt"
# The steps of a pipelined run. The page and the CLI name the step and count the plays from
# the run's rows, so no step carries a count of its own there.
STEPS = (READING, RESOLVING, POSTING)
# The reason of an entry resolved onto a show this run had already planned (see `resolution_groups`).
LATE = "resolved to Trakt {kind} {trakt_id} after this run had planned it: synced by the next run"


@dataclass
class ShowGroup:
    """The events of one Trakt show (or of one unmapped entry, or one movie)."""
    key: tuple
    trakt_show: int | None  # the show whose season list the plan needs; None for the others
    events: list[WatchEvent] = field(default_factory=list)

    @property
    def anilist_ids(self) -> list[int]:
        return list(dict.fromkeys(e.anilist_id for e in self.events))


def show_groups(events: Sequence[WatchEvent], mappings: dict[int, MappingSpec]) -> list[ShowGroup]:
    """Events grouped by the Trakt show (or movie) their entry maps to, in the order of each
    group's first event; an entry without a mapping is a group of its own."""
    groups: dict[tuple, ShowGroup] = {}
    for event in events:
        spec = mappings.get(event.anilist_id)
        if spec is None:
            key, show = ("entry", event.anilist_id), None
        else:
            key, show = (spec.kind, spec.trakt_id), spec.trakt_id if spec.kind == "show" else None
        groups.setdefault(key, ShowGroup(key, show)).events.append(event)
    return list(groups.values())


def shows_to_read(groups: Sequence[ShowGroup], cached: set[int]) -> list[int]:
    """The season lists a run reads, in the order the plan needs them: one per distinct show,
    none for a show whose list is cached and fresh."""
    return [g.trakt_show for g in groups if g.trakt_show is not None and g.trakt_show not in cached]


class Stopped(Exception):
    """The run no longer wants the reads (raised before a request or a retry goes out)."""


class SeasonReader:
    """Reads season lists in a thread of its own, in order, and hands each one over as it
    arrives (`get`). The thread leaves the database to the caller (which stores what it reads),
    so every write of the run stays in the run's own thread and transaction rules.

    A read's error is handed over like a result and raised by `get`, in the caller's thread.
    `stop()` (also on leaving the `with` block) makes the thread give up before its next read
    or retry, and leaving the block waits for it: a run that ends, fails or loses its lease
    leaves no thread behind still asking Trakt (and logging its retries)."""

    def __init__(self, trakt_ids: Sequence[int], *, read: Callable[[int], object]):
        self._todo = list(trakt_ids)
        self._read = read
        self._results: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="season-reader", daemon=True)
        self.done = 0  # lists read so far (the reading stream of the progress line)
        self._arrived: dict[int, object] = {}
        self._run_id = current_run_id.get()  # the thread's log lines belong to the run too

    def __enter__(self) -> SeasonReader:
        if self._todo:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._thread.is_alive():
            self._thread.join(settings.HTTP_TIMEOUT_SECONDS + 5)  # at most one request is in flight

    def stop(self) -> None:
        self._stop.set()

    @property
    def total(self) -> int:
        return len(self._todo)

    def _work(self) -> None:
        try:
            # This thread writes nothing: the outcome of its reads is not recorded as the
            # service's status (that row may be locked by the run's thread, which waits on us).
            with unobserved(), log_to_run(self._run_id):
                self._read_all()
        finally:
            # The HTTP layer's log lines (a retry, a 429) may reach the database log handler,
            # which opens a connection of this thread's own: it ends with the thread.
            connections.close_all()

    def _read_all(self) -> None:
        for trakt_id in self._todo:
            if self._stop.is_set():
                return
            try:
                result = self._read(trakt_id, before_send=self._go_on)
            except Stopped:
                return
            except NotFound as exc:
                result = exc
            except Exception as exc:  # noqa: BLE001 - raised again by `get`, where the run can record it
                self._results.put((trakt_id, exc))
                return
            self.done += 1  # only this thread writes it
            self._results.put((trakt_id, result))

    def _go_on(self) -> None:
        if self._stop.is_set():
            raise Stopped()

    def get(self, trakt_id: int, *, waiting: Callable[[], None], every: float = 1.0):
        """The season list of `trakt_id` (or the `NotFound` its read raised); `waiting()` is
        called every `every` seconds while it has not arrived, so the caller can post meanwhile."""
        while trakt_id not in self._arrived:
            try:
                got, result = self._results.get(timeout=every)
            except queue.Empty:
                waiting()
                continue
            if isinstance(result, Exception) and not isinstance(result, NotFound):
                raise result
            self._arrived[got] = result
        return self._arrived.pop(trakt_id)


def resolution_groups(entries: Sequence[int], tokens: dict[int, set]) -> list[list[int]]:
    """The entries whose Trakt show is resolved (or confirmed) together, in the order of each
    group's first entry: two entries sharing any token (a dataset's or a saved mapping's TMDB,
    TVDB, IMDb or Trakt id) are in one group, directly or through others. An entry without a
    token is a group of its own."""
    parent = {e: e for e in entries}
    position = {e: n for n, e in enumerate(entries)}

    def root(e):
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    owner: dict = {}
    for entry in entries:
        for token in tokens.get(entry, ()):
            other = owner.setdefault(token, entry)
            first, second = sorted((root(other), root(entry)), key=position.__getitem__)
            parent[second] = first
    groups: dict = {}
    for entry in entries:
        groups.setdefault(root(entry), []).append(entry)
    return list(groups.values())


class Resolving(SeasonReader):
    """Resolves the `resolution_groups` one after the other in a thread of its own (`resolve(n,
    before_send=...)` for group n) and hands each outcome over in order (`wait`), like the
    season reader. What the thread needs from the database (the air dates it fetches once, the
    mapped relatives of an entry) it asks of the run's thread (`ask`), which answers while it
    waits for a group; the thread itself touches no database."""

    def __init__(self, count: int, *, resolve: Callable, absorb: Callable[[int, object], None]):
        super().__init__(list(range(count)), read=resolve)
        self._thread.name = "mapping-resolver"
        self._absorb = absorb
        self.absorbed = 0  # groups handed over to the run's thread, in order
        self._asks: queue.Queue = queue.Queue()

    def ask(self, question: Callable[[], object]):
        """In the reading thread: `question()` answered by the run's thread."""
        answer: queue.Queue = queue.Queue(maxsize=1)
        self._asks.put((question, answer))
        while True:
            self._go_on()
            try:
                ok, value = answer.get(timeout=0.1)
            except queue.Empty:
                continue
            if ok:
                return value
            raise value

    def drain(self) -> None:
        """In the run's thread: take over every outcome that arrived, in order."""
        while True:
            try:
                index, result = self._results.get_nowait()
            except queue.Empty:
                return
            if isinstance(result, Exception):
                raise result
            self._absorb(index, result)
            self.absorbed = index + 1

    def answer(self) -> None:
        """In the run's thread: answer what the reading thread asked, after taking over every
        outcome before it (a relative resolved earlier in the run is saved by then)."""
        while True:
            try:
                question, answer = self._asks.get_nowait()
            except queue.Empty:
                return
            self.drain()
            try:
                answer.put((True, question()))
            except Exception as exc:  # noqa: BLE001 - raised again in the reading thread
                answer.put((False, exc))

    def wait(self, index: int, *, waiting: Callable[[], None], every: float = 1.0) -> None:
        """Until group `index` is taken over; `waiting()` every `every` seconds meanwhile."""
        ticks = 0
        while True:
            self.answer()
            self.drain()
            if self.absorbed > index:
                return
            time.sleep(0.05)
            ticks += 1
            if ticks * 0.05 >= every:
                ticks = 0
                waiting()


def step(*, read: int, to_read: int, reading: str = READING) -> str:
    """The step a pipelined run is in, in words: the reading stream's while it still reads (the
    posts go on meanwhile), then posting."""
    return reading if to_read and read < to_read else POSTING
