"""The one table from errors to HTTP: status, machine code, and what the client is told."""

from __future__ import annotations

import enum
import inspect
import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import ClientException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from application.errors import (
    AuthenticationFailed,
    InvalidCredentials,
    InvalidCursor,
    InvalidResetToken,
    NotFound,
    PermissionDenied,
    ProviderFailure,
    ProviderKeyRejected,
    QuotaExceeded,
    RateLimited,
    ServiceBusy,
    TooManyAttempts,
    TranscriptSourceUnreachable,
)
from application.processing.runner import AllProvidersFailed
from domain.api_tokens import ApiTokenNotFound
from domain.dictionary import UnknownDictionary
from domain.errors import InvalidInput, ScribeError
from domain.history import HistoryEntryNotFound
from domain.sessions import SessionInvalid
from domain.transcripts import (
    CaptionsUnavailable,
    EmptyTranscript,
    InvalidVideoUrl,
    TranscriptUnusable,
    VideoUnavailable,
)
from domain.users import AccountDisabled, EmailTaken
from infrastructure.outages import outages, unavailable_dependency
from interfaces.http.envelope import ErrorBody, FieldErrorView
from interfaces.http.identity import LIMIT_STATUS
from interfaces.http.rate_limits import limit_headers, rate_limit_headers
from interfaces.http.validation import field_errors

log = structlog.get_logger("scribe.http")

# error class → (status, code). The first matching class in the MRO wins.
ERROR_TABLE: dict[type[Exception], tuple[int, str]] = {
    InvalidInput: (400, "validation_error"),
    InvalidCursor: (400, "invalid_cursor"),
    UnknownDictionary: (400, "unknown_dictionary"),
    InvalidResetToken: (400, "invalid_reset_token"),
    AuthenticationFailed: (401, "unauthorized"),
    InvalidCredentials: (401, "invalid_credentials"),
    SessionInvalid: (401, "invalid_refresh_token"),
    AccountDisabled: (403, "account_disabled"),
    PermissionDenied: (403, "forbidden"),
    NotFound: (404, "not_found"),
    ApiTokenNotFound: (404, "not_found"),
    HistoryEntryNotFound: (404, "not_found"),
    EmailTaken: (409, "email_taken"),
    ProviderKeyRejected: (422, "provider_key_rejected"),
    InvalidVideoUrl: (400, "invalid_url"),
    EmptyTranscript: (400, "empty_transcript"),
    TranscriptUnusable: (422, "transcript_unusable"),
    VideoUnavailable: (404, "video_unavailable"),
    CaptionsUnavailable: (422, "captions_unavailable"),
    TranscriptSourceUnreachable: (502, "youtube_unreachable"),
    ProviderFailure: (502, "provider_unavailable"),
    AllProvidersFailed: (502, "ai_providers_failed"),
    TooManyAttempts: (429, "too_many_requests"),
    RateLimited: (429, "rate_limited"),
    QuotaExceeded: (429, "quota_exceeded"),
    ServiceBusy: (503, "service_unavailable"),
}

# Other answers the handler below gives some errors: providers that are all cooling down or rate-limited say
# "try again shortly" rather than "they failed".
ALL_PROVIDERS_UNAVAILABLE = (503, "ai_providers_unavailable")
_VARIANTS: dict[type[Exception], list[tuple[int, str]]] = {AllProvidersFailed: [ALL_PROVIDERS_UNAVAILABLE]}


def responses_of(error: type[Exception]) -> list[tuple[int, str]]:
    """Every (status, code) the client may get for this error, for the OpenAPI document."""
    row = next((ERROR_TABLE[cls] for cls in error.__mro__ if cls in ERROR_TABLE), (400, "bad_request"))
    return [row, *_VARIANTS.get(error, [])]


# On the prototype's routes its frontend recognises these texts in `error` (it tests `message.includes(...)`),
# so they lead our message there; status, `code` and `details` stay as on every other route.
PROTOTYPE_LEADS = {
    "validation_error": "Błąd walidacji",
    "invalid_json": "Błąd walidacji",
    "empty_transcript": "Błąd walidacji",
    "invalid_url": "Invalid YouTube URL",
    "youtube_unreachable": "Failed to fetch YouTube page",
}
PROTOTYPE_ROUTE = "prototype"  # the `opt` key that marks the unversioned routes

_MISSING_PARAMETER = re.compile(r"Missing required (?P<kind>\w+) parameter '(?P<name>[^']+)'")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


class UnsupportedMediaType(ClientException):
    status_code = 415


def _respond(request: Request[Any, Any, Any], status: int, body: ErrorBody, **headers: str) -> Response[Any]:
    body.request_id = request.scope.get("request_id")  # type: ignore[assignment]
    handler = request.scope.get("route_handler")
    lead = PROTOTYPE_LEADS.get(body.code)
    if lead and handler is not None and handler.opt.get(PROTOTYPE_ROUTE):
        body.error = f"{lead}: {body.error}"
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json", headers=headers)


def handle_scribe_error(request: Request[Any, Any, Any], error: ScribeError) -> Response[Any]:
    status, code = responses_of(type(error))[0]
    body = ErrorBody(success=False, error=str(error), code=code)
    headers: dict[str, str] = {}
    if isinstance(error, InvalidInput):
        body.error = "Some fields are invalid"
        body.details = [FieldErrorView(p.field, p.message) for p in error.problems]
    if isinstance(error, EmptyTranscript):
        body.details = [FieldErrorView("transcript", "has no text")]
    if isinstance(error, TooManyAttempts | ServiceBusy):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, TooManyAttempts) and error.limit is not None:
        headers |= rate_limit_headers(error.limit, 0, error.resets_in)
    elif (counted := request.scope.get("state", {}).get(LIMIT_STATUS)) is not None:
        headers |= limit_headers(counted)  # refused after it was counted: the count still tells the client
    if isinstance(error, AllProvidersFailed):
        body.details = [FieldErrorView(f.provider, f.reason) for f in error.failures]
        if error.temporary:
            status, body.code = ALL_PROVIDERS_UNAVAILABLE
        if error.retry_after:
            headers["Retry-After"] = str(error.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="scribe"'
    return _respond(request, status, body, **headers)


def handle_validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    extra = error.extra if isinstance(error.extra, list) else []
    details = [
        _parameter_error(request, str(item.get("key") or item.get("source") or "request"), item.get("message", ""))
        for item in extra
        if isinstance(item, dict)
    ]
    if any(isinstance(i, dict) and i.get("source") == "body" for i in extra) or not extra:
        details = _body_errors(request) or details
    missing = _MISSING_PARAMETER.match(error.detail or "")
    if not details and missing:
        details = [FieldErrorView(missing["name"], f"is a required {missing['kind']} parameter")]
    if not details:
        return _respond(request, 400, ErrorBody(success=False, error=_plain(error.detail), code="bad_request"))
    if details[0].field == "body" and details[0].message.startswith("malformed"):
        return _respond(request, 400, ErrorBody(success=False, error="The body is not valid JSON", code="invalid_json"))
    return _respond(
        request,
        400,
        ErrorBody(success=False, error="Some fields are invalid", code="validation_error", details=details),
    )


_MALFORMED = object()


def _read_body(request: Request[Any, Any, Any]) -> Any:
    """The JSON body Litestar already read, decoded; `_MALFORMED` if it is not JSON, None if there is none."""
    body = ScopeState.from_scope(request.scope).body
    if body is Empty or not body:
        return None
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return _MALFORMED


def _parameter_error(request: Request[Any, Any, Any], key: str, message: str) -> FieldErrorView:
    """Litestar names a bad parameter by its Python name: the client knows it by its query name (`from`, not
    `date_from`); a bad choice lists the good ones."""
    handler = request.scope.get("route_handler")
    parameter = handler.parsed_fn_signature.parameters.get(key) if handler else None
    if parameter is None:
        return FieldErrorView(key, _lower(message))
    definition = parameter.kwarg_definition  # Parameter(query=...) or QueryParameter(name=...)
    name = getattr(definition, "query", None) or getattr(definition, "name", None) or key
    if inspect.isclass(parameter.annotation) and issubclass(parameter.annotation, enum.Enum):
        message = "must be one of " + ", ".join(str(choice.value) for choice in parameter.annotation)
    return FieldErrorView(name, _lower(message))


def _body_errors(request: Request[Any, Any, Any]) -> list[FieldErrorView]:
    handler = request.scope.get("route_handler")
    parameter = handler.parsed_fn_signature.parameters.get("data") if handler else None
    if parameter is None or not inspect.isclass(parameter.annotation):
        return []
    if not issubclass(parameter.annotation, msgspec.Struct):
        return []
    payload = _read_body(request)
    if payload is None:
        return []
    if payload is _MALFORMED:
        return [FieldErrorView("body", "malformed JSON")]
    return field_errors(parameter.annotation, payload)


def handle_http_exception(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    messages = {
        404: "No such resource" if request.scope.get("route_handler") else "No such route",
        405: f"Method {request.method} is not allowed here",
        413: "The request body is too large",
        415: "The request body must be JSON (Content-Type: application/json)",
    }
    message = messages.get(status) or _plain(error.detail)
    headers = dict(error.headers or {})
    if status == 400 and _read_body(request) is _MALFORMED:
        return _respond(request, 400, ErrorBody(success=False, error="The body is not valid JSON", code="invalid_json"))
    if status >= 500:
        message = "Internal server error"
    return _respond(
        request, status, ErrorBody(success=False, error=message, code=HTTP_CODES.get(status, "error")), **headers
    )


# Seconds a client is asked to wait when Redis or the database is down: restarts take about this long.
DEPENDENCY_RETRY_AFTER = 5


def handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    dependency = unavailable_dependency(error)
    if dependency is not None:
        outages.failed(dependency, error)  # once per outage, not a stack trace per request
        body = ErrorBody(
            success=False, error="The service is temporarily unavailable; try again shortly", code="service_unavailable"
        )
        return _respond(request, 503, body, **{"Retry-After": str(DEPENDENCY_RETRY_AFTER)})
    if isinstance(error, RecursionError) and _read_body(request) is _MALFORMED:
        # msgspec gives up on absurdly nested JSON with a RecursionError: the client's fault, not ours.
        return _respond(
            request, 400, ErrorBody(success=False, error="The body is nested too deeply", code="invalid_json")
        )
    log.exception("unhandled_error", path=request.url.path, method=request.method)
    return _respond(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        ErrorBody(success=False, error="Internal server error", code="internal_error"),
    )


def _plain(detail: str) -> str:
    return detail or "Bad request"


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ScribeError: handle_scribe_error,
    ValidationException: handle_validation_error,
    NotFoundException: handle_http_exception,
    MethodNotAllowedException: handle_http_exception,
    NotAuthorizedException: handle_http_exception,
    PermissionDeniedException: handle_http_exception,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
