"""Time the mapping import on production-size files in the real formats.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_mapping_import.py

Generates a 40,000-entry Fribb JSON (current format), a 30,000-row Otaku SQLite DB (the real
schema) and an AniBridge v3 `mappings.json.zst` (30,000 `anilist:` descriptors with scoped,
open, ratio, multi-part and null ranges, plus the reverse `mal:`/`anidb:` descriptors the
release also holds), imports all three through the same code as a refresh (AniBridge through
`download`, decompressing the zstd file from an in-process transport) into a throwaway test
database on the server DATABASE_URL names (its own data is never touched), and prints seconds
and peak memory (tracemalloc peak, process max RSS).
Goal: under 10 s and 200 MB together.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ENV_FILE", "/dev/null")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.db import connection  # noqa: E402

from mappings import importer  # noqa: E402


def main() -> int:
    # A throwaway database (`test_<name>` or TEST_DATABASE_NAME), dropped at the end.
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return run_benchmark()
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)


def run_benchmark() -> int:
    traced = "--tracemalloc" in sys.argv  # exact Python peak, but it slows allocation ~2x
    with tempfile.TemporaryDirectory() as tmp:
        fribb, otaku = Path(tmp) / "anime-list-full.json", Path(tmp) / "anime_mappings.db"
        zst, anibridge = Path(tmp) / "mappings.json.zst", Path(tmp) / "mappings.json"
        # Generated in a child process so its memory does not count in this one's max RSS.
        code = (f"from bench.gen_mapping_sources import write_anibridge, write_fribb, write_otaku; "
                f"from pathlib import Path; write_fribb(Path({str(fribb)!r})); write_otaku(Path({str(otaku)!r})); "
                f"write_anibridge(Path({str(zst)!r}))")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        print(f"files: fribb {fribb.stat().st_size / 1e6:.1f} MB, otaku {otaku.stat().st_size / 1e6:.1f} MB, "
              f"anibridge {zst.stat().st_size / 1e6:.1f} MB zstd")
        body = zst.read_bytes()
        serve = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))
        if traced:
            tracemalloc.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        results = []
        for name, path in (("fribb", fribb), ("otaku", otaku), ("anibridge", anibridge)):
            t0 = time.perf_counter()
            if name == "anibridge":
                size = importer.download("https://example.test/mappings.json.zst", path, client=serve).size
                print(f"anibridge: {size / 1e6:.1f} MB of JSON after zstd")
            status = importer.import_file(name, path)
            results.append((name, status, time.perf_counter() - t0))
        total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        peak = tracemalloc.get_traced_memory()[1] if traced else None
        tracemalloc.stop()
    for name, status, seconds in results:
        state = "ok" if status.ok else f"FAILED: {status.last_error}"
        print(f"{name}: {status.row_count} rows in {seconds:.2f} s ({state})")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    traced_text = f"peak traced Python memory {peak / 1e6:.1f} MB; " if peak is not None else ""
    # The CPU time of this process (PostgreSQL's share of COPY not included) tells a slow
    # import from a machine busy with other work.
    print(f"total: {total:.2f} s (this process's CPU {cpu:.2f} s); {traced_text}max RSS {rss_mb:.1f} MB")
    # With --tracemalloc the RSS includes tracemalloc's own bookkeeping: judge the traced peak.
    memory_mb = peak / 1e6 if peak is not None else rss_mb
    ok = all(s.ok for _, s, _ in results) and total < 10 and memory_mb < 200
    print("within the goal (10 s, 200 MB)" if ok else "OUTSIDE the goal (10 s, 200 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
