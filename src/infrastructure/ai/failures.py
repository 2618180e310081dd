"""SDK exceptions → ProviderFailure. The anthropic and openai SDKs share one error design (both are generated
by Stainless), so one mapping serves both; messages keep the status and never the request (it holds the key)."""

from __future__ import annotations

import email.utils
import math
import sys
import time
from datetime import UTC
from typing import TYPE_CHECKING, TypeGuard

from application.errors import ProviderFailure, ProviderKeyRejected

if TYPE_CHECKING:  # imported by the adapters on first use; a failure of an SDK never loaded cannot happen
    import anthropic
    import openai

MAX_RETRY_AFTER = 3600.0  # a provider asking for more is believed for an hour, then tried again
_SDKS = ("anthropic", "openai")


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` is seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return min(max(0.0, seconds), MAX_RETRY_AFTER) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max(0.0, moment.timestamp() - time.time()), MAX_RETRY_AFTER)


def as_failure(provider: str, error: Exception) -> ProviderFailure:
    if isinstance(error, TimeoutError):  # our own deadline on the whole call
        return ProviderFailure(provider, "timeout", "no complete answer in time")
    if isinstance(error, _sdk_errors("APITimeoutError")):  # a subclass of the connection error: test it first
        return ProviderFailure(provider, "timeout")
    if isinstance(error, _sdk_errors("APIConnectionError")):
        return ProviderFailure(provider, "connection")
    if _is_status_error(error):
        status = error.status_code
        if status == 429:
            headers = error.response.headers
            retry_after = retry_after_seconds(headers.get("retry-after"))
            if retry_after is None and headers.get("retry-after-ms"):
                retry_after = retry_after_seconds(headers["retry-after-ms"])
                retry_after = retry_after / 1000 if retry_after is not None else None
            return ProviderFailure(provider, "rate_limited", "HTTP 429", retry_after)
        if status in (401, 403) or (status == 400 and _names_the_key(error)):
            return ProviderFailure(provider, "rejected_key", f"HTTP {status}")
        if status >= 500:
            return ProviderFailure(provider, "unavailable", f"HTTP {status}")
        return ProviderFailure(provider, "bad_request", f"HTTP {status}")
    # Anything else (a body the SDK cannot parse, a header it cannot encode): the type only, never the text,
    # which may quote the request and its key.
    return ProviderFailure(provider, "unavailable", type(error).__name__)


def _sdk_errors(name: str) -> tuple[type[Exception], ...]:
    """The SDKs' error class `name`, from those SDKs loaded: one that is not loaded raised nothing."""
    return tuple(getattr(sys.modules[sdk], name) for sdk in _SDKS if sdk in sys.modules)


def _is_status_error(error: Exception) -> TypeGuard[anthropic.APIStatusError | openai.APIStatusError]:
    return isinstance(error, _sdk_errors("APIStatusError"))


def _names_the_key(error: anthropic.APIStatusError | openai.APIStatusError) -> bool:
    """Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID rather than 401."""
    text = str(error.body).lower() if error.body is not None else ""
    return "api_key_invalid" in text or "api key not valid" in text


def key_check_failure(provider: str, error: Exception) -> Exception:
    failure = as_failure(provider, error)
    return ProviderKeyRejected(provider) if failure.kind == "rejected_key" else failure
