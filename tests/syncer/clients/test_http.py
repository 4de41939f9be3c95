import logging
import re

import httpx
import pytest

from syncer.http import (
    AccountLimit,
    AuthError,
    BadResponse,
    HttpService,
    Locked,
    NotFound,
    Pacer,
    RateLimited,
    ServiceUnavailable,
    UncertainWrite,
    retry_after_seconds,
)

HTML_520 = "<!DOCTYPE html><html><head><title>520</title></head><body>Cloudflare</body></html>"


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def service(handler, clock=None, **kwargs):
    clock = clock or FakeClock()
    kwargs.setdefault("max_retries", 3)
    kwargs.setdefault("retry_budget", 60.0)
    kwargs.setdefault("backoff", 1.0)
    return HttpService("Test", base_url="http://svc.test", client=httpx.Client(transport=httpx.MockTransport(handler)),
                       sleep=clock.sleep, clock=clock, **kwargs), clock


def scripted(*responses):
    """A handler answering with `responses` in order and recording each request."""
    calls = []

    def handler(request):
        calls.append(request)
        item = responses[min(len(calls), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


# --- pacing


def test_a_pacer_spaces_calls_by_its_interval_without_real_sleeping():
    clock = FakeClock()
    pacer = Pacer("t", interval=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.wait()
    assert clock.sleeps == [1.0, 1.0]


def test_a_pacer_keeps_a_window_limit():
    clock = FakeClock()
    pacer = Pacer("t", max_calls=3, period=60.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        pacer.wait()
    assert clock.sleeps == [60.0]


def test_a_pacer_reads_its_interval_from_a_callable_each_time():
    clock = FakeClock()
    interval = {"v": 0.0}
    pacer = Pacer("t", interval=lambda: interval["v"], clock=clock, sleep=clock.sleep)
    pacer.wait()
    pacer.wait()
    interval["v"] = 2.0
    pacer.wait()
    assert clock.sleeps == [2.0]


def test_a_pacer_blocks_every_caller_after_a_rate_limit_and_logs_the_wait_at_debug(caplog):
    clock = FakeClock()
    pacer = Pacer("t", clock=clock, sleep=clock.sleep)
    pacer.block_for(5)
    with caplog.at_level(logging.DEBUG, logger="syncer.http"):
        pacer.wait()
    assert clock.sleeps == [5.0]
    assert "Pacing t: waiting 5.00s" in caplog.text


def test_a_service_shares_its_pacer_between_reads():
    clock = FakeClock()
    pacer = Pacer("t", interval=1.0, clock=clock, sleep=clock.sleep)
    handler, calls = scripted(httpx.Response(200, json={}))
    svc, _ = service(handler, clock=clock, read_pacer=pacer)
    svc.request("GET", "/a")
    svc.request("GET", "/b")
    assert clock.sleeps == [1.0] and len(calls) == 2


# --- retries


def test_it_waits_for_retry_after_on_429_then_succeeds():
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": 1}))
    svc, clock = service(handler)
    assert svc.request_json("GET", "/x") == {"ok": 1}
    assert clock.sleeps == [7.0] and len(calls) == 2


def test_it_reads_the_reset_header_when_retry_after_is_missing():
    response = httpx.Response(429, headers={"X-RateLimit-Reset": "1100"})
    assert retry_after_seconds(response, now=1000.0) == 100.0
    trakt = httpx.Response(429, headers={"X-Ratelimit": '{"until": "2024-01-01T00:00:10Z"}'})
    assert retry_after_seconds(trakt, now=1704067200.0) == 10.0


def test_it_raises_rate_limited_when_the_wait_exceeds_the_budget():
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "600"}))
    svc, clock = service(handler, retry_budget=60)
    with pytest.raises(RateLimited) as info:
        svc.request("GET", "/x")
    assert info.value.retry_after == 600 and clock.sleeps == [] and len(calls) == 1


def test_an_html_520_page_is_retried_and_never_parsed_as_json():
    handler, calls = scripted(httpx.Response(520, text=HTML_520, headers={"Content-Type": "text/html"}))
    svc, clock = service(handler, max_retries=2)
    with pytest.raises(ServiceUnavailable) as info:
        svc.request_json("GET", "/x")
    assert "HTML" in str(info.value) and len(calls) == 3


def test_5xx_retries_are_bounded_in_count_with_growing_backoff():
    handler, calls = scripted(httpx.Response(503, json={"error": "down"}))
    svc, clock = service(handler, max_retries=3, backoff=1.0)
    with pytest.raises(ServiceUnavailable):
        svc.request("GET", "/x")
    assert len(calls) == 4
    assert [int(s) for s in clock.sleeps] == [1, 2, 4]  # plus up to 1 s of jitter each


def test_5xx_retries_are_bounded_in_total_time():
    handler, calls = scripted(httpx.Response(502))
    svc, clock = service(handler, max_retries=10, backoff=1.0, retry_budget=5.0)
    with pytest.raises(ServiceUnavailable):
        svc.request("GET", "/x")
    assert sum(clock.sleeps) <= 5.0 and len(calls) < 5


def test_a_connection_error_is_retried_even_for_a_post_because_nothing_was_sent():
    handler, calls = scripted(httpx.ConnectError("refused"), httpx.Response(201, json={"added": {}}))
    svc, _ = service(handler)
    assert svc.request("POST", "/sync/history", json={}).status_code == 201
    assert len(calls) == 2


@pytest.mark.parametrize("failure", [httpx.Response(500), httpx.Response(502, text=HTML_520),
                                     httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")])
def test_a_post_that_may_have_been_applied_is_reported_uncertain_and_not_retried(failure):
    handler, calls = scripted(failure, httpx.Response(201, json={}))
    svc, clock = service(handler)
    with pytest.raises(UncertainWrite):
        svc.request("POST", "/sync/history", json={})
    assert len(calls) == 1 and clock.sleeps == []


def test_a_post_marked_idempotent_is_retried():
    handler, calls = scripted(httpx.Response(500), httpx.Response(200, json={}))
    svc, _ = service(handler)
    svc.request("POST", "/graphql", json={}, idempotent=True)
    assert len(calls) == 2


def test_a_timed_out_read_is_retried():
    handler, calls = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json=[]))
    svc, _ = service(handler)
    assert svc.request_json("GET", "/x") == []


@pytest.mark.parametrize("status,error", [(401, AuthError), (403, AuthError), (404, NotFound), (420, AccountLimit),
                                          (426, AccountLimit), (423, Locked), (400, BadResponse), (422, BadResponse)])
def test_it_maps_statuses_to_typed_errors_without_retrying(status, error):
    handler, calls = scripted(httpx.Response(status, json={"error": "nope"}))
    svc, _ = service(handler)
    with pytest.raises(error) as info:
        svc.request("GET", "/x")
    assert info.value.status == status and info.value.service == "Test" and len(calls) == 1


def test_a_cloudflare_403_html_page_is_not_mistaken_for_a_bad_token():
    handler, _ = scripted(httpx.Response(403, text=HTML_520, headers={"Content-Type": "text/html"}))
    svc, _ = service(handler)
    with pytest.raises(ServiceUnavailable, match="Cloudflare"):
        svc.request("GET", "/x")


def test_a_non_json_success_body_is_a_bad_response():
    handler, _ = scripted(httpx.Response(200, text="<html>ok</html>"))
    svc, _ = service(handler)
    with pytest.raises(BadResponse):
        svc.request_json("GET", "/x")


def test_statuses_the_caller_accepts_are_returned_not_raised():
    handler, _ = scripted(httpx.Response(400))
    svc, _ = service(handler)
    assert svc.request("POST", "/oauth/device/token", accept=(400,)).status_code == 400


def test_it_sends_a_descriptive_user_agent_and_the_base_url():
    handler, calls = scripted(httpx.Response(200, json={}))
    svc, _ = service(handler)
    svc.request("GET", "/shows/1", params={"extended": "full"})
    assert str(calls[0].url) == "http://svc.test/shows/1?extended=full"
    # `<App>/<version>`: Trakt's Cloudflare answers an odd or missing one with a 403 page.
    assert re.fullmatch(r"AniListTraktSync/\d+\.\d+\.\d+ \(self-hosted\)", calls[0].headers["user-agent"])


def test_error_messages_never_echo_the_body_or_the_token():
    secret = "sekrit-token-value-123456"
    handler, _ = scripted(httpx.Response(400, json={"error": "bad", "access_token": secret}))
    svc, _ = service(handler, headers={"Authorization": f"Bearer {secret}"})
    with pytest.raises(BadResponse) as info:
        svc.request("POST", "/oauth/token", json={"refresh_token": secret})
    assert secret not in str(info.value)


# --- a write the caller may no longer make


class WriteNoLongerAllowed(Exception):
    pass


def test_a_post_retried_after_429_asks_the_caller_before_every_attempt():
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(201, json={}))
    svc, _ = service(handler)
    asked = []
    svc.request("POST", "/sync/history", json={}, before_send=lambda: asked.append(len(calls)))
    assert asked == [0, 1] and len(calls) == 2


def test_a_post_is_not_sent_again_once_the_caller_says_it_may_not_be():
    handler, calls = scripted(httpx.ConnectError("refused"), httpx.Response(201, json={}))
    svc, _ = service(handler)
    allowed = iter([True, False])

    def before_send():
        if not next(allowed):
            raise WriteNoLongerAllowed()

    with pytest.raises(WriteNoLongerAllowed):
        svc.request("POST", "/sync/history", json={}, before_send=before_send)
    assert len(calls) == 1
