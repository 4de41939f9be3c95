"""Download a mapping source and replace its table in one transaction.

Readers keep seeing the previous import until the new one commits; a download, validation or
database error rolls everything back and is recorded on the source's `SourceStatus` row.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from mappings import parsers
from mappings.models import AniBridgeRange, FribbEntry, OtakuEntry, SourceStatus
from mappings.parsers import SourceError

logger = logging.getLogger("mappings.sources")

Progress = Callable[[int, int, str], None]
CHUNK = 5000
MAX_BYTES = 200 * 1024 * 1024  # far above any real source; stops an endless response


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


def download(url: str, dest: Path, *, client: httpx.Client | None = None) -> int:
    """Stream `url` into `dest`; returns the size. Raises SourceError with the reason."""
    own = client is None
    client = client or httpx.Client(timeout=settings.HTTP_TIMEOUT_SECONDS, follow_redirects=True)
    size = 0
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SourceError(f"download failed: HTTP {response.status_code} from {url}")
            with open(dest, "wb") as fh:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise SourceError(f"download failed: more than {MAX_BYTES} bytes from {url}")
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise SourceError(f"download failed: {type(exc).__name__} for {url}") from exc
    finally:
        if own:
            client.close()
    return size


def parse_file(name: str, path: Path) -> tuple[list[dict], object]:
    """Rows for the source's table and the upstream last-updated time (or None)."""
    if name == "otaku":
        return parsers.otaku_rows(path)
    data = Path(path).read_bytes()
    if name == "fribb":
        return parsers.fribb_rows(data), None
    return parsers.anibridge_rows(data), None


def replace_rows(model, rows: list[dict], *, progress: Progress | None = None, label: str = "") -> int:
    """Delete the table's rows and insert `rows` in batches: call inside a transaction.

    PostgreSQL gets COPY (70,000 rows in about a second); other databases get executemany in
    chunks. DELETE rather than TRUNCATE: readers keep using the old rows until the commit
    instead of waiting on TRUNCATE's exclusive lock.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    total = len(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - names from the model
        for start in range(0, total, CHUNK):
            chunk = [tuple(row.get(c) for c in columns) for row in rows[start : start + CHUNK]]
            if connection.vendor == "postgresql":
                # The raw psycopg cursor: wrap its errors into Django's like any other query.
                with connection.wrap_database_errors, cursor.cursor.copy(
                    f"COPY {table} ({quoted}) FROM STDIN"
                ) as copy:
                    for values in chunk:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", chunk)  # noqa: S608
            if progress:
                progress(min(start + CHUNK, total), total, label)
    return total


def import_file(name: str, path: Path, *, progress: Progress | None = None) -> SourceStatus:
    spec = SOURCES[name]
    started = time.monotonic()
    attempt = timezone.now()
    try:
        rows, upstream = parse_file(name, path)
        with transaction.atomic():
            count = replace_rows(spec.model, rows, progress=progress, label=spec.label)
            status, _ = SourceStatus.objects.update_or_create(
                source=name,
                defaults={
                    "row_count": count,
                    "refreshed_at": timezone.now(),
                    "upstream_updated_at": upstream,
                    "last_attempt_at": attempt,
                    "last_error": "",
                    "duration_seconds": round(time.monotonic() - started, 3),
                },
            )
    except (SourceError, DatabaseError) as exc:
        return record_failure(name, f"{exc}", attempt=attempt)
    logger.info("Imported %s: %d rows in %.1f s", spec.label, count, status.duration_seconds)
    return status


def record_failure(name: str, message: str, *, attempt=None) -> SourceStatus:
    status, _ = SourceStatus.objects.get_or_create(source=name)
    status.last_error = message[:2000]
    status.last_attempt_at = attempt or timezone.now()
    status.save(update_fields=["last_error", "last_attempt_at"])
    logger.error(
        "Refresh of %s failed, the previous import (%d rows) stays in use: %s",
        SOURCES[name].label, status.row_count, message,
    )
    return status


def refresh(name: str, *, progress: Progress | None = None, client: httpx.Client | None = None) -> SourceStatus:
    url = source_url(name)
    if not url:
        return record_failure(name, f"{SOURCES[name].setting} is not set")
    with tempfile.TemporaryDirectory(prefix=f"mappings-{name}-") as tmp:
        path = Path(tmp) / "download"
        if progress:
            progress(0, 0, f"Downloading {SOURCES[name].label}")
        try:
            download(url, path, client=client)
        except SourceError as exc:
            return record_failure(name, str(exc))
        return import_file(name, path, progress=progress)
