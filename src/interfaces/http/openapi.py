"""OpenAPI helpers: the error responses every operation documents, with the envelope as their schema."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from interfaces.http.envelope import ErrorBody

_DESCRIPTIONS = {
    400: ("Invalid input; `details` lists every bad field", "validation_error"),
    401: ("Missing, invalid or expired credentials", "unauthorized"),
    403: ("Authenticated, but not allowed", "forbidden"),
    404: ("No such resource (or not yours)", "not_found"),
    409: ("Conflicts with what exists", "email_taken"),
    413: ("Body larger than the limit", "payload_too_large"),
    415: ("Body is not JSON", "unsupported_media_type"),
    429: ("Too many attempts; see Retry-After", "too_many_requests"),
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=_DESCRIPTIONS[status][0],
            examples=None,
        )
        for status in statuses
    }
