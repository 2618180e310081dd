"""OpenAPI helpers: the error responses every operation documents, with the envelope as their schema."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from interfaces.http.envelope import ErrorBody

_DESCRIPTIONS = {
    400: ("Invalid input; `details` lists every bad field", "validation_error"),
    401: ("Missing, invalid or expired credentials", "unauthorized"),
    403: ("Authenticated, but not allowed", "forbidden"),
    404: ("No such resource (or not yours)", "not_found"),
    409: ("Conflicts with what exists", "email_taken"),
    413: ("Body larger than the limit", "payload_too_large"),
    415: ("Body is not JSON", "unsupported_media_type"),
    422: (
        "Understood but refused: the provider rejected the key, or the video has no captions (`captions_unavailable`)",
        "provider_key_rejected",
    ),
    429: ("Too many attempts; see Retry-After", "too_many_requests"),
    502: (
        "An upstream failed: every AI provider (`ai_providers_failed`, `details` names each), YouTube "
        "(`youtube_unreachable`), or the provider checking a key (`provider_unavailable`)",
        "ai_providers_failed",
    ),
    503: (
        "Busy (password hashing queue full), or every AI provider is cooling down or rate-limited "
        "(`ai_providers_unavailable`); see Retry-After",
        "service_unavailable",
    ),
}


def _example(status: int) -> Example:
    description, code = _DESCRIPTIONS[status]
    value: dict[str, object] = {"success": False, "error": description, "code": code}
    if status == 400:
        value["details"] = [{"field": "email", "message": "is not a valid e-mail address"}]
    value["request_id"] = "3f2c9a0e5b7d4c1e8a6f0b2d4c6e8a0b"
    return Example(summary=code, value=value)


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=_DESCRIPTIONS[status][0], examples=[_example(status)]
        )
        for status in statuses
    }
