"""The package's error type, and the redaction of secrets in messages that quote another library's text.

Library functions raise `LDMNISTError` with a message that says what was wrong and what to do. Messages name
the parameters of the function that was called in backticks (`` `learning_rate` ``); the command line
rewrites each such name into its flag (`--learning-rate`), so a library user and a command-line user both
read the name they typed.
"""

from __future__ import annotations

import re

# Hugging Face user access tokens (`hf_` + letters and digits); `api_org_` tokens of organisations too.
_TOKEN = re.compile(r"\b(hf_|api_org_)[A-Za-z0-9]{4,}")
# The credentials of a URL (`https://user:password@host`), wherever a URL is quoted.
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s'\"]+@")


class LDMNISTError(ValueError):
    """An error a user can fix; the command line prints its message alone and exits with status 1."""


def redact(text: str) -> str:
    """`text` with every Hugging Face token in it replaced by `hf_***`, and the credentials of every URL by
    `***`: for messages that quote a library, an endpoint or a URL.

    >>> redact("Illegal header value b'Bearer hf_AbCdEf123456\\\\r'")
    "Illegal header value b'Bearer hf_***\\\\r'"
    >>> redact("Could not reach https://me:s3cret@hub.example/api")
    'Could not reach https://***@hub.example/api'
    """
    return _USERINFO.sub(r"\1***@", _TOKEN.sub(lambda m: m.group(1) + "***", str(text)))


def first_line(error: BaseException, limit: int = 200) -> str:
    """`Type: first line of the message` of another library's exception, redacted, for our own messages."""
    text = str(error).strip().splitlines()[0][:limit] if str(error).strip() else ""
    return redact(f"{type(error).__name__}: {text}" if text else type(error).__name__)
