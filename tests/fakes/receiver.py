"""A loopback webhook receiver: what Apprise's `json://127.0.0.1:<port>/<path>` posts lands in
`messages` (the decoded JSON bodies)."""

from __future__ import annotations

from tests.fakes.server import FakeServer, Request, Response


class FakeReceiver(FakeServer):
    def __init__(self):
        super().__init__()
        self.messages: list[dict] = []
        self.route("POST", r"/hook", self._receive)

    def apprise_url(self) -> str:
        return self.url.replace("http://", "json://") + "/hook"

    def _receive(self, request: Request) -> Response:
        with self.lock:
            self.messages.append(request.json())
        return Response(200, {})
