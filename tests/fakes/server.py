"""The loopback HTTP server every fake builds on: routing, a request log and fault injection.

A fake runs on 127.0.0.1 on a free port in a daemon thread; `with FakeX() as fake:` starts and
stops it (the pytest fixtures do this for you).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLOUDFLARE_HTML = (
    "<!DOCTYPE html><html><head><title>{status}: Web server is returning an unknown error</title>"
    "</head><body><h1>Error {status}</h1><p>Cloudflare Ray ID: 0000000000</p></body></html>"
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode()
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
        elif self.body is None:
            data = b""
        else:
            data = json.dumps(self.body).encode()
            headers.setdefault("Content-Type", "application/json")
        return data, headers


@dataclass
class Fault:
    """Replaces the answer to matching requests, `times` times (None: until cleared).

    `apply=True` lets the request change the fake's state first (a POST applied but answered
    502). `delay` sleeps before answering (for client timeouts)."""

    method: str | None
    path: str  # a regular expression matched against the path (no query)
    response: Response
    times: int | None = 1
    apply: bool = False
    delay: float = 0.0

    def matches(self, request: Request) -> bool:
        return (self.method in (None, request.method)) and re.fullmatch(self.path, request.path) is not None


class FakeServer:
    """Subclasses register routes with `self.route(method, regex, handler)`; a handler takes
    (request, *groups) and returns a `Response`."""

    def __init__(self):
        self._routes: list[tuple[str, re.Pattern, Any]] = []
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle

    @property
    def url(self) -> str:
        assert self._httpd, "the fake is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{type(self).__name__}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- faults

    def fail(self, path: str, *, status: int = 500, body: Any = None, headers: dict | None = None,
             method: str | None = None, times: int | None = 1, apply: bool = False,
             delay: float = 0.0) -> Fault:
        fault = Fault(method, path, Response(status, body if body is not None else {"error": "fault"},
                                             dict(headers or {})), times, apply, delay)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fail_html(self, path: str, *, status: int = 520, **kwargs) -> Fault:
        """A Cloudflare-style HTML error page."""
        return self.fail(path, status=status, body=CLOUDFLARE_HTML.format(status=status), **kwargs)

    def rate_limit(self, path: str, *, retry_after: float = 0.01, times: int | None = 1,
                   method: str | None = None, headers: dict | None = None) -> Fault:
        return self.fail(path, status=429, body={"error": "rate limited"}, method=method, times=times,
                         headers={"Retry-After": f"{retry_after:g}", **(headers or {})})

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(request):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    # --- routing

    def route(self, method: str, pattern: str, handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def requests_to(self, path_regex: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests
                    if re.fullmatch(path_regex, r.path) and method in (None, r.method)]

    def handle(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, *match.groups())
        return Response(404, {"error": "not found"})

    def before(self, request: Request) -> Response | None:
        """A hook for auth/rate checks common to every route; None lets the request through."""
        return None

    def after(self, request: Request, response: Response) -> Response:
        return response

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        request = Request(
            method=h.command, path=split.path.rstrip("/") or "/",
            query={k: v[-1] for k, v in parse_qs(split.query).items()},
            headers={k.lower(): v for k, v in h.headers.items()},
            body=h.rfile.read(length) if length else b"",
        )
        with self.lock:
            self.requests.append(request)
        fault = self._take_fault(request)
        if fault and fault.delay:
            time.sleep(fault.delay)
        try:
            if fault and not fault.apply:
                response = fault.response
            else:
                response = self.before(request) or self.handle(request)
                response = self.after(request, response)
                if fault:
                    response = fault.response
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hang
            response = Response(500, {"error": f"fake crashed: {exc!r}"})
        data, headers = response.encode()
        try:
            h.send_response(response.status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
