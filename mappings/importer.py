"""Download a mapping source and replace its table in one transaction.

Readers keep seeing the previous import until the new one commits; a download, validation or
database error rolls everything back and is recorded on the source's `SourceStatus` row, and so
does a file that would remove most of the rows in use (the shrink guard below).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

import httpx
import zstandard
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from mappings import parsers
from mappings.models import AniBridgeRange, FribbEntry, OtakuEntry, SourceStatus
from mappings.parsers import SourceError

logger = logging.getLogger("mappings.sources")

Progress = Callable[[int, int, str], None]
CHUNK = 5000
MiB = 1024 * 1024
# The largest download (decompressed) a source may send: several times its real file (Otaku's
# SQLite 3.9 MB in 2024, Fribb's full JSON about 12 MB; AniBridge's release is not known here, so
# it keeps the earlier 200 MiB). Stops an endless answer, a zip bomb, or a huge stand-in file.
MAX_BYTES = {"otaku": 32 * MiB, "fribb": 64 * MiB, "anibridge": 200 * MiB}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZSTD_STEP = 512
# The shrink guard: a new file with fewer than half the rows in use is refused unless forced,
# once the import in use holds at least SHRINK_MIN_ROWS (real sources hold tens of thousands; a
# broken upstream commit or a stub served in place of the file is what shrinks this much).
SHRINK_RATIO = 0.5
SHRINK_MIN_ROWS = 10
# Its two siblings: a file with more than GROWTH_RATIO times the rows in use (real sources grow a
# few percent a month), or whose rows name less than half as many AniList ids as the rows in use
# (150,000 rows for one id replaced a good file once), is refused the same way.
GROWTH_RATIO = 3
INT_RANGE = (-(2**31), 2**31 - 1)  # PostgreSQL `integer`


@dataclass(frozen=True)
class SourceSpec:
    name: str
    model: type
    setting: str
    label: str


SOURCES = {
    "otaku": SourceSpec("otaku", OtakuEntry, "OTAKU_MAPPINGS_URL", "Otaku-Mappings SQLite"),
    "fribb": SourceSpec("fribb", FribbEntry, "FRIBB_MAPPINGS_URL", "Fribb anime-lists JSON"),
    "anibridge": SourceSpec("anibridge", AniBridgeRange, "ANIBRIDGE_MAPPINGS_URL", "AniBridge v3 JSON"),
}


def source_url(name: str) -> str:
    return getattr(settings, SOURCES[name].setting)


def _network_words(exc: httpx.HTTPError) -> str:
    """What went wrong, as a person says it (the dashboard shows it), not an exception name."""
    try:
        host = exc.request.url.host
    except RuntimeError:  # an error raised before a request existed
        host = "the server"
    if isinstance(exc, httpx.TimeoutException):
        return f"{host} did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return f"could not reach {host}"
    return f"the connection to {host} broke off"


@dataclass(frozen=True)
class Fetched:
    """A download: where from, what the server said of the file (its validators) and the
    SHA-256 of the bytes it sent; `unchanged` when it answered 304 to the validators asked with."""

    url: str
    size: int = 0
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    unchanged: bool = False


def download(url: str, dest: Path, *, client: httpx.Client | None = None, max_bytes: int = 200 * MiB,
             etag: str = "", last_modified: str = "") -> Fetched:
    """Stream `url` into `dest`; a zstd file (AniBridge's `mappings.json.zst`) is decompressed
    into `dest`. Raises SourceError with the reason; more than `max_bytes`, downloaded or
    decompressed, is refused as it comes in. With `etag`/`last_modified` (those of the file in
    use) it asks only for a changed file: a 304 writes nothing and comes back `unchanged`."""
    own = client is None
    client = client or httpx.Client(timeout=settings.HTTP_TIMEOUT_SECONDS, follow_redirects=True)
    raw = dest.with_name(dest.name + ".download")
    asked = {key: value for key, value in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if value}
    digest = hashlib.sha256()
    try:
        with client.stream("GET", url, headers=asked) as response:
            if response.status_code == 304 and asked:
                return Fetched(url, etag=etag, last_modified=last_modified, unchanged=True)
            if response.status_code != 200:
                raise SourceError(f"download failed: HTTP {response.status_code} from {url}")
            with open(raw, "wb") as fh:
                _write_capped(response.iter_bytes(), fh, url, max_bytes, digest)
            said = {"etag": response.headers.get("etag", ""),
                    "last_modified": response.headers.get("last-modified", "")}
    except httpx.HTTPError as exc:
        raise SourceError(f"download failed: {_network_words(exc)} ({url}); the next refresh tries again") from exc
    finally:
        if own:
            client.close()
    with open(raw, "rb") as fh:
        compressed = fh.read(len(ZSTD_MAGIC)) == ZSTD_MAGIC
    if not compressed:
        raw.replace(dest)
        return Fetched(url, dest.stat().st_size, sha256=digest.hexdigest(), **said)
    try:
        with open(raw, "rb") as src, open(dest, "wb") as out:
            size = _write_capped(_inflate(src, url), out, url, max_bytes)
        return Fetched(url, size, sha256=digest.hexdigest(), **said)
    except zstandard.ZstdError as exc:
        raise SourceError(f"download failed: damaged zstd data from {url}: {exc}") from exc
    finally:
        raw.unlink(missing_ok=True)


def _inflate(src, url: str) -> Iterator[bytes]:
    """Decompress a zstd file in small input steps: one step can inflate to at most ~16 MiB
    (zstd's densest blocks), so memory stays flat whatever the file claims; a frame that does
    not end (a download cut short) is refused."""
    inflater = zstandard.ZstdDecompressor().decompressobj()
    while piece := src.read(ZSTD_STEP):
        yield inflater.decompress(piece)
    if not inflater.eof:
        raise SourceError(f"download failed: the zstd file from {url} is cut short (truncated download?)")


def _write_capped(chunks: Iterable[bytes], fh, url: str, max_bytes: int, digest=None) -> int:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(f"download failed: more than {max_bytes // MiB} MiB from {url}, far more than "
                              "a real file; the previous rows stay in use")
        fh.write(chunk)
        if digest is not None:
            digest.update(chunk)
    return size


@dataclass
class Parsed:
    """A parsed file: its rows (a list, or an iterator read once inside the transaction) and
    the upstream last-updated time, read after the rows (AniBridge's sits inside the file)."""

    rows: Iterable[dict]
    upstream: Callable[[], datetime | None]


def parse_file(name: str, path: Path) -> Parsed:
    if name == "otaku":
        rows, upstream = parsers.otaku_rows(path)
        return Parsed(rows, lambda: upstream)
    if name == "fribb":
        return Parsed(parsers.fribb_rows(Path(path).read_bytes()), lambda: None)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"AniBridge: not UTF-8 text (truncated download?): {exc}") from exc
    reader = parsers.AniBridgeFile(text)
    return Parsed(reader, lambda: getattr(reader, "generated_on", None))


class ShrinkRefused(SourceError):
    def __init__(self, message: str, rows: int):
        super().__init__(message)
        self.rows = rows


FORCE_HINT = ("Refresh with force to accept it (refresh_mappings --force, the dashboard's "
              "\u201caccept a much smaller file\u201d box, or allowShrink=1 on the API).")


def shrink_refusal(*, label: str, old: int, new: int) -> str | None:
    """Why a file with `new` rows may not replace `old` rows (None: it may)."""
    if old < SHRINK_MIN_ROWS or new >= old * SHRINK_RATIO:
        return None
    return (f"refused: the new {label} file has {new:,} rows, less than half of the {old:,} in use "
            f"(a broken or partial upstream file?); the previous rows stay in use. {FORCE_HINT}")


ID_KINDS = {"anilist_id": "AniList", "mal_id": "MAL", "anidb_id": "AniDB"}


def guard_refusal(*, label: str, old: tuple[int, dict], new: tuple[int, dict]) -> str | None:
    """Why a file of `new` (rows, {id column: distinct ids}) may not replace `old` ones (None:
    it may): far fewer rows (`shrink_refusal`), far more rows, or rows collapsed onto few ids of
    a kind the rows in use name (Fribb's reduced file keys by AniDB id only)."""
    (old_rows, old_ids), (new_rows, new_ids) = old, new
    if old_rows < SHRINK_MIN_ROWS:
        return None  # a first import (or a tiny one): nothing to judge the file by
    if refusal := shrink_refusal(label=label, old=old_rows, new=new_rows):
        return refusal
    if new_rows > old_rows * GROWTH_RATIO:
        return (f"refused: the new {label} file has {new_rows:,} rows, more than three times the "
                f"{old_rows:,} in use (a broken upstream file?); the previous rows stay in use. {FORCE_HINT}")
    for column, kind in ID_KINDS.items():
        before, after = old_ids.get(column, 0), new_ids.get(column, 0)
        if before >= SHRINK_MIN_ROWS and after < before * SHRINK_RATIO:
            return (f"refused: the new {label} file names {after:,} {kind} ids in {new_rows:,} rows, less than "
                    f"half of the {before:,} in use (rows collapsed onto few ids: a broken upstream file?); "
                    f"the previous rows stay in use. {FORCE_HINT}")
    return None


def rows_and_ids(model) -> tuple[int, dict]:
    """The table's rows and distinct ids of each kind it holds, what `guard_refusal` compares."""
    columns = [f.column for f in model._meta.concrete_fields if f.column in ID_KINDS]
    counts = model.objects.aggregate(rows=models.Count("pk"),
                                     **{c: models.Count(c, distinct=True) for c in columns})
    return counts.pop("rows"), counts


def storable(values: tuple, ints: list[int], texts: list[int]) -> tuple | None:
    """The row as the database takes it: NUL removed from text (PostgreSQL rejects it); None
    when a number does not fit its column (`ints`: their positions), so that one row is
    skipped, never the import. `texts`: positions of the text columns."""
    low, high = INT_RANGE
    for i in ints:
        value = values[i]
        if value is not None and not low <= value <= high:
            return None
    if any(values[i] and "\x00" in values[i] for i in texts):
        values = tuple(v.replace("\x00", "") if i in texts and v else v for i, v in enumerate(values))
    return values


@dataclass(frozen=True)
class Replaced:
    rows: int
    skipped: int


def replace_rows(model, rows: Iterable[dict], *, progress: Progress | None = None, label: str = "") -> Replaced:
    """Delete the table's rows and insert `rows` in batches: call inside a transaction.

    PostgreSQL gets COPY (70,000 rows in about a second); other databases get executemany in
    chunks. DELETE rather than TRUNCATE: readers keep using the old rows until the commit
    instead of waiting on TRUNCATE's exclusive lock. `rows` may be an iterator: only one chunk
    is held at a time.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    defaults = {f.column: f.get_default() for f in fields}
    ints = [i for i, f in enumerate(fields) if isinstance(f, models.IntegerField)]
    texts = [i for i, f in enumerate(fields) if isinstance(f, models.TextField | models.CharField)]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    total = len(rows) if isinstance(rows, list) else 0  # 0: unknown until the end
    written = skipped = 0
    source = iter(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - names from the model
        while batch := list(islice(source, CHUNK)):
            chunk = [storable(tuple([row.get(c, defaults[c]) for c in columns]), ints, texts) for row in batch]
            good = [values for values in chunk if values is not None]
            skipped += len(chunk) - len(good)
            if connection.vendor == "postgresql":
                # The raw psycopg cursor: wrap its errors into Django's like any other query.
                with connection.wrap_database_errors, cursor.cursor.copy(
                    f"COPY {table} ({quoted}) FROM STDIN"
                ) as copy:
                    for values in good:
                        copy.write_row(values)
            elif good:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", good)  # noqa: S608
            written += len(good)
            if progress:
                progress(written + skipped, max(total, written + skipped), label)
    if skipped:
        logger.warning("%s: skipped %d rows whose numbers do not fit the database", label, skipped)
    return Replaced(rows=written, skipped=skipped)


def import_file(name: str, path: Path, *, progress: Progress | None = None, force: bool = False,
                fetched: Fetched | None = None) -> SourceStatus:
    """Parse `path` and swap it in for the source's rows. Unless `force`, a file that would
    leave fewer than half the rows in use is refused (`guard_refusal`: far fewer or more rows, or rows collapsed onto few ids)."""
    spec = SOURCES[name]
    started = time.monotonic()
    attempt = timezone.now()
    try:
        parsed = parse_file(name, path)
        with transaction.atomic():
            old = rows_and_ids(spec.model)
            result = replace_rows(spec.model, parsed.rows, progress=progress, label=spec.label)
            refusal = None if force else guard_refusal(label=spec.label, old=old, new=rows_and_ids(spec.model))
            if refusal:
                raise ShrinkRefused(refusal, result.rows)  # rolls the new rows back
            status, _ = SourceStatus.objects.update_or_create(
                source=name,
                defaults={
                    "row_count": result.rows,
                    "skipped_rows": result.skipped,
                    "refused_rows": None,
                    "refreshed_at": timezone.now(),
                    "upstream_updated_at": parsed.upstream(),
                    "last_attempt_at": attempt,
                    "last_error": "",
                    "duration_seconds": round(time.monotonic() - started, 3),
                    # What the next refresh asks with; a file imported by hand has none.
                    "fetched_url": fetched.url if fetched else "",
                    "etag": fetched.etag if fetched else "",
                    "last_modified": fetched.last_modified if fetched else "",
                    "content_sha256": fetched.sha256 if fetched else "",
                },
            )
    except ShrinkRefused as exc:
        return record_failure(name, f"{exc}", attempt=attempt, refused_rows=exc.rows)
    except (SourceError, DatabaseError) as exc:
        return record_failure(name, f"{exc}", attempt=attempt)
    logger.info("Imported %s: %d rows in %.1f s", spec.label, result.rows, status.duration_seconds)
    return status


def record_failure(name: str, message: str, *, attempt=None, refused_rows: int | None = None) -> SourceStatus:
    status, _ = SourceStatus.objects.get_or_create(source=name)
    status.last_error = message[:2000]
    status.last_attempt_at = attempt or timezone.now()
    status.refused_rows = refused_rows
    status.save(update_fields=["last_error", "last_attempt_at", "refused_rows"])
    logger.error(
        "Refresh of %s failed, the previous import (%d rows) stays in use: %s",
        SOURCES[name].label, status.row_count, message,
    )
    return status


def refresh(name: str, *, progress: Progress | None = None, client: httpx.Client | None = None,
            force: bool = False) -> SourceStatus:
    url = source_url(name)
    if not url:
        return record_failure(name, f"{SOURCES[name].setting} is not set")
    with tempfile.TemporaryDirectory(prefix=f"mappings-{name}-") as tmp:
        path = Path(tmp) / "download"
        if progress:
            progress(0, 0, f"Downloading {SOURCES[name].label}")
        # The validators of the file in use, unless forced or it came from elsewhere.
        known = SourceStatus.objects.filter(source=name, row_count__gt=0, fetched_url=url).first()
        known = None if force else known
        try:
            fetched = download(url, path, client=client, max_bytes=MAX_BYTES[name],
                               etag=known.etag if known else "", last_modified=known.last_modified if known else "")
        except SourceError as exc:
            return record_failure(name, str(exc))
        if known and (fetched.unchanged or (known.content_sha256 and fetched.sha256 == known.content_sha256)):
            return record_unchanged(name, known)
        return import_file(name, path, progress=progress, force=force, fetched=fetched)


def record_unchanged(name: str, status: SourceStatus) -> SourceStatus:
    """The file in use is still the one upstream serves: its rows stay as they are (rewriting
    them would leave as many dead rows on PostgreSQL), and an earlier failure is over."""
    # A successful refresh: the rows in use are known to be current as of now.
    status.refreshed_at = status.last_attempt_at = timezone.now()
    status.last_error, status.refused_rows = "", None
    status.save(update_fields=["refreshed_at", "last_attempt_at", "last_error", "refused_rows"])
    logger.info("%s has not changed upstream: the %d rows in use stay, nothing rewritten",
                SOURCES[name].label, status.row_count)
    return status
