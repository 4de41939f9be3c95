import pytest


@pytest.fixture(autouse=True)
def _every_api_test_has_the_secrets(api_secrets):
    """The API token and the cron secret are set for every test here."""


@pytest.fixture
def source_files(settings, tmp_path):
    """A loopback server for the mapping-source downloads; `files[name] = bytes` sets what it
    serves and the settings point at `/otaku.db` and `/fribb.json`."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.OTAKU_MAPPINGS_URL = f"{base}/otaku.db"
    settings.FRIBB_MAPPINGS_URL = f"{base}/fribb.json"
    settings.HTTP_TIMEOUT_SECONDS = 5.0
    try:
        yield files
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _queued_runs_run_inline(q_sync):
    """A sync route queues its run for the worker and waits for it; here the task runs inline,
    in the request, as a worker would run it (tests/syncer/sync/test_crash_recovery.py and
    test_bounded_wait.py run a real worker)."""
