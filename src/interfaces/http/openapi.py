"""OpenAPI helpers: the error responses every operation documents, with the envelope as their schema.

A route's errors are not listed by hand: each use case declares what it raises (`raises = (EmailTaken, ...)`), the
route names its use cases and its shape (`JSON_BODY`, `PARAMETERS`, `SIGNED_IN`), and the one error table
(`interfaces.http.errors.ERROR_TABLE`) turns every error into the status and code the client gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from application.auth.authenticate import Authenticate
from domain.errors import InvalidInput
from interfaces.http.envelope import ErrorBody
from interfaces.http.errors import HTTP_CODES, responses_of


class Refusal(NamedTuple):
    """An answer the HTTP layer gives before any use case runs (the error handlers in `errors.py`)."""

    status: int
    code: str


# What a route's shape can be refused with before any use case runs.
JSON_BODY: tuple[Any, ...] = (
    InvalidInput,
    Refusal(400, "invalid_json"),
    Refusal(413, HTTP_CODES[413]),
    Refusal(415, HTTP_CODES[415]),
)
PARAMETERS: tuple[Any, ...] = (InvalidInput,)
SIGNED_IN = Authenticate

_TITLES = {
    400: "Invalid input; `details` lists every bad field",
    401: "Missing, invalid or expired credentials",
    403: "Authenticated, but not allowed",
    404: "No such resource (or not yours)",
    409: "Conflicts with what exists",
    413: "Body larger than the limit",
    415: "Body is not JSON",
    422: "Understood but refused",
    429: "Too many attempts; see Retry-After",
    502: "An upstream service failed",
    503: "Busy or temporarily unavailable; see Retry-After",
}


def errors(*raisers: Any) -> dict[int, ResponseSpec]:
    """The error responses of a route that calls these use cases (their `raises`) and has this shape (error classes
    and refusals): one response per status, its description naming every code the route may give."""
    codes: dict[int, list[str]] = {}
    for error in _errors_of(raisers):
        for status, code in [error] if isinstance(error, Refusal) else responses_of(error):
            if code not in codes.setdefault(status, []):
                codes[status].append(code)
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=f"{_TITLES[status]}. `code`: " + ", ".join(f"`{code}`" for code in codes[status]),
            examples=[_example(status, code) for code in codes[status]],
        )
        for status in sorted(codes)
    }


def _errors_of(raisers: tuple[Any, ...]) -> list[Any]:
    errors: list[Any] = []
    for raiser in raisers:
        if isinstance(raiser, tuple) and not isinstance(raiser, Refusal):
            errors.extend(raiser)
        elif isinstance(raiser, type) and not issubclass(raiser, Exception):
            use_case: Any = raiser
            errors.extend(use_case.raises)
        else:
            errors.append(raiser)
    return errors


def _example(status: int, code: str) -> Example:
    value: dict[str, object] = {"success": False, "error": _TITLES[status], "code": code}
    if code == "validation_error":
        value["details"] = [{"field": "email", "message": "is not a valid e-mail address"}]
    value["request_id"] = "3f2c9a0e5b7d4c1e8a6f0b2d4c6e8a0b"
    return Example(summary=code, value=value)


def download(description: str, media_types: list[str], json: Schema | Reference) -> type[Operation]:
    """The operation of a route that answers with a file whose type a parameter picks: its 200 lists each type,
    `json` the schema of the JSON one, the others as text or bytes."""
    content = {
        media_type: OpenAPIMediaType(
            schema=json if media_type == "application/json" else Schema(type=OpenAPIType.STRING)
        )
        for media_type in media_types
    }

    @dataclass
    class Download(Operation):
        def __post_init__(self) -> None:
            self.responses = {
                **(self.responses or {}),
                "200": OpenAPIResponse(description=description, content=content),
            }

    return Download
