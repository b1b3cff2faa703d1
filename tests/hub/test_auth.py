"""Where the Hub is and who speaks to it (hub/auth.py): the endpoint and the token, checked before anything is sent."""

import re

import pytest

from ldmnist_hf.errors import LDMNISTError, first_line, redact
from ldmnist_hf.hub.auth import check_endpoint, public_url, resolve_token


@pytest.mark.parametrize(
    "endpoint, token, ok",
    [
        ("https://huggingface.co", True, True),
        ("http://127.0.0.1:8080", True, True),
        ("http://127.5.0.1", True, True),
        ("http://localhost:5564/", True, True),
        ("http://[::1]:8080", True, True),
        ("http://example.com", False, True),  # a dry run sends no token
        ("http://example.com", True, False),
        ("http://localhost.example.com", True, False),
        ("http://10.0.0.1", True, False),
    ],
)
def test_token_goes_over_plain_http_only_to_loopback(endpoint, token, ok):
    if ok:
        assert check_endpoint(endpoint, sends_token=token) == endpoint.rstrip("/")
    else:
        with pytest.raises(LDMNISTError, match="Refusing to send your Hub token over plain http"):
            check_endpoint(endpoint, sends_token=token)


def test_tokens_are_stripped_and_redacted():
    token = "hf_" + "Ab1" * 10
    assert resolve_token(f"  {token}\r\n") == token  # a token read from a CRLF file
    with pytest.raises(LDMNISTError) as e:
        resolve_token(f"{token[:10]}\r{token[10:]}")
    assert token[:10] not in str(e.value) and "not shown here" in str(e.value)
    message = f"Illegal header value b'Bearer {token}\\r'"
    assert token not in redact(message) and "Bearer hf_***" in redact(message)
    assert token not in first_line(ValueError(message))


# (token, exception, fragment): a token that cannot be sent is refused before any request, never quoted.
BAD_TOKENS = [
    ("hf_abcdé12345", LDMNISTError, "not ASCII (not shown here)"),
    ("hf_ab\u200bcd1234", LDMNISTError, "not ASCII (not shown here)"),
    ("hf_ab cd1234", LDMNISTError, "spaces or control characters"),
    ("hf_ab\tcd1234", LDMNISTError, "spaces or control characters"),
]


@pytest.mark.parametrize("token, error, fragment", BAD_TOKENS, ids=["accent", "zero-width", "space", "tab"])
def test_a_token_that_cannot_be_sent_is_refused_unquoted(token, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)) as raised:
        resolve_token(token)
    assert token not in str(raised.value) and token[3:6] not in str(raised.value)


@pytest.mark.parametrize(
    "endpoint, shown",
    [
        ("https://me:s3cret@hub.example", "https://hub.example"),
        ("http://user@127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://a:b@[::1]:9/", "https://[::1]:9"),
    ],
)
def test_an_endpoints_credentials_are_never_shown_or_published(endpoint, shown):
    assert public_url(endpoint) == shown
    assert "s3cret" not in redact(f"Could not reach {endpoint}") and "***@" in redact(
        f"Could not reach {endpoint}"
    )
