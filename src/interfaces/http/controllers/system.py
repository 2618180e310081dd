"""The prototype's health and dictionary routes, and their `/api/v1` forms."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody, Parameter

from domain.dictionary import UnknownDictionary, dictionary
from interfaces.http.envelope import Envelope, ok
from interfaces.http.openapi import JSON_BODY, PARAMETERS, errors

_VERSION = version("scribe")


class HealthView(msgspec.Struct):
    status: str
    version: str
    time: datetime
    # The prototype's fields, which its clients read.
    success: bool
    timestamp: datetime
    message: str


class EchoView(msgspec.Struct):
    status: str
    message: Any


class DictionaryEntryView(msgspec.Struct):
    code: str
    label: str


@get(
    "/health",
    summary="Is the API up",
    tags=["system"],
    responses={
        200: ResponseSpec(
            data_container=Envelope[HealthView],
            description="The API answers",
            examples=[
                Example(
                    summary="up",
                    value={
                        "success": True,
                        "data": {
                            "status": "ok",
                            "version": "0.1.0",
                            "time": "2026-01-01T12:00:00Z",
                            "success": True,
                            "timestamp": "2026-01-01T12:00:00Z",
                            "message": "get health check",
                        },
                    },
                )
            ],
        )
    },
)
async def health() -> Envelope[HealthView]:
    now = datetime.now(UTC)
    return ok(HealthView("ok", _VERSION, now, success=True, timestamp=now, message="get health check"))


@post(
    "/health",
    status_code=200,
    summary="Echo a JSON body (the prototype's connectivity check)",
    tags=["system"],
    responses=errors(JSON_BODY),
)
async def health_echo(data: JSONBody[Any] = None) -> Envelope[EchoView]:  # no body: echoes null, as prototype
    return ok(EchoView("ok", data))


def _entries(code: str) -> list[DictionaryEntryView]:
    return [DictionaryEntryView(e.code, e.label) for e in dictionary(code)]


@get(
    "/dictionary",
    summary="A dictionary of codes and labels (prototype form)",
    description="`code=purpose` or `code=language`.",
    tags=["system"],
    responses=errors(PARAMETERS, UnknownDictionary),
)
async def dictionary_by_query(
    code: Annotated[str, Parameter(description="purpose | language", examples=[Example(value="purpose")])],
) -> Envelope[list[DictionaryEntryView]]:
    return ok(_entries(code))


@get(
    "/dictionary/{code:str}",
    summary="A dictionary of codes and labels",
    tags=["system"],
    responses=errors(PARAMETERS, UnknownDictionary),
)
async def dictionary_by_path(code: FromPath[str]) -> Envelope[list[DictionaryEntryView]]:
    return ok(_entries(code))
