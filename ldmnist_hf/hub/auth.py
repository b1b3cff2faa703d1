"""Where the Hub is and who speaks to it: the endpoint and the token, checked before anything is sent.

A token never goes over plain http except to this machine, is stripped of surrounding whitespace, is refused
(without being shown) when it holds other whitespace, control or non-ASCII characters, and is never printed;
an endpoint's credentials (`https://user:password@host`) are redacted wherever it is shown (`errors.redact`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from urllib.parse import urlparse

from huggingface_hub import constants, get_token

from ..errors import LDMNISTError


def check_endpoint(endpoint: str | None, sends_token: bool) -> str:
    """The endpoint URL (`None`: `$HF_ENDPOINT`, else huggingface_hub's), refused when a token would go over
    plain http to another host than loopback."""
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT
    url = urlparse(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise LDMNISTError(
            f"`endpoint` {endpoint!r} is not an http(s) URL (for example https://huggingface.co)."
        )
    if url.scheme == "http" and sends_token:
        host = url.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise LDMNISTError(
                f"Refusing to send your Hub token over plain http to {host}: use an https endpoint "
                f"(plain http is allowed only to this machine: 127.0.0.1, localhost, ::1)."
            )
    return endpoint.rstrip("/")


def public_url(endpoint: str) -> str:
    """The endpoint as it may be published or shown: without the credentials a URL can carry.

    >>> public_url("https://me:s3cret@hub.example:8443/")
    'https://hub.example:8443'
    """
    url = urlparse(endpoint)
    host = url.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host + (f":{url.port}" if url.port else "")
    return url._replace(netloc=netloc).geturl().rstrip("/")


def resolve_token(token: str | None) -> str | None:
    """The token to send: `token`, else `$HF_TOKEN` or the one `hf auth login` saved; whitespace stripped.

    A token with other characters inside (a line break, a space) is refused without quoting it.
    """
    token = token if token is not None else get_token()
    if token is None:
        return None
    token = str(token).strip()
    if not token:
        return None
    if not token.isascii():  # HTTP headers are Latin-1: the request would fail deep in the client
        raise LDMNISTError(
            "The Hub token holds characters that are not ASCII (not shown here); Hub tokens are ASCII letters "
            "and digits: copy it again from https://huggingface.co/settings/tokens."
        )
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise LDMNISTError(
            "The Hub token holds spaces or control characters inside it (not shown here); copy it again "
            "from https://huggingface.co/settings/tokens."
        )
    return token


@contextlib.contextmanager
def commits_to(endpoint: str):
    """Where commits go, for huggingface_hub's own parsing: before 1.0 it reads the URLs of a commit's answer
    against `constants.ENDPOINT` (the import-time `HF_ENDPOINT`), not the endpoint `HfApi` was given, and fails
    after the commit was made. Around our commits, that constant names the endpoint they go to."""
    before = constants.ENDPOINT
    constants.ENDPOINT = endpoint
    try:
        yield
    finally:
        constants.ENDPOINT = before
