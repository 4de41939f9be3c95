"""A failed download of a mapping source is explained in words on the dashboard."""

import httpx
import pytest

from mappings.importer import SourceError, download


@pytest.mark.parametrize("failure, words", [
    (httpx.ConnectError("refused"), "could not reach example.invalid"),
    (httpx.ReadTimeout("slow"), "example.invalid did not answer in time"),
    (httpx.RemoteProtocolError("cut"), "the connection to example.invalid broke off"),
])
def test_a_failed_download_says_what_happened_in_words(tmp_path, failure, words):
    def handler(request):
        raise failure.__class__(str(failure), request=request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError) as caught:
        download("https://example.invalid/list.json", tmp_path / "list.json", client=client)
    assert str(caught.value) == (f"download failed: {words} (https://example.invalid/list.json); "
                                 "the next refresh tries again")
    assert "Error" not in str(caught.value)
