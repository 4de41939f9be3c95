"""What a huge upstream answer costs in memory: an AniList answer of 150 MiB (the probe's),
streamed from an in-process transport through the real client, with tracemalloc's peak.

    .venv/bin/python bench/bench_answer_cap.py               # 150 MiB
    .venv/bin/python bench/bench_answer_cap.py --mib 40

Goal: the peak stays near the client's cap (AniList 16 MiB), whatever the answer's size.
"""

import argparse
import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ENV_FILE", "/dev/null")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402

from syncer.clients.anilist import AniListClient  # noqa: E402
from syncer.http import ApiError  # noqa: E402

CHUNK = 64 * 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=150)
    mib = parser.parse_args().mib

    def body():
        for _ in range(mib * 1024 * 1024 // CHUNK):
            yield b" " * CHUNK

    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body())))
    service = AniListClient(token="t", client=client).service
    service.max_retries = 0
    tracemalloc.start()
    try:
        service.request("POST", "", json={"query": "{ Viewer { id } }"}, idempotent=True)
        outcome = "read in full"
    except ApiError as exc:
        outcome = f"refused: {exc}"
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    print(f"{mib} MiB answer: {outcome}")
    print(f"peak traced memory {peak:.1f} MiB (cap {service.max_bytes // 2**20} MiB)")
    return 0 if peak < 2 * service.max_bytes / 2**20 else 1


if __name__ == "__main__":
    sys.exit(main())
