"""What every request passes before its handler, in this order: the media type, the caller's credentials
(for routes whose OpenAPI `security` asks for them), then a strict reading of the JSON body. OPTIONS is
answered here, before any of them.

One before-request hook rather than guards: Litestar copies the handler for every guard call (~70 µs), and a
layer's hook replaces the app's instead of adding to it. It runs before Litestar reads the body, so a caller
without valid credentials learns nothing about the shape a protected route expects."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from interfaces.http.errors import UnsupportedMediaType
from interfaces.http.identity import ADMIN_ROLE

_JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def before_handler(request: Request[Any, Any, Any]) -> Response[None] | None:
    if request.scope["method"] == "OPTIONS":
        return _options(request)
    handler: HTTPRouteHandler = request.route_handler
    reads_body = request.scope["method"] in _JSON_METHODS and "data" in handler.parsed_fn_signature.parameters
    if reads_body:
        _require_json(request)
    roles = _required_roles(handler.resolve_security())
    if roles is not None:
        # The handler's `FromDishka[Principal]` gets this same principal: the request scope caches it.
        principal = await request.state.dishka_container.get(Principal)
        if ADMIN_ROLE in roles and not principal.user.is_admin:
            raise PermissionDenied
    if reads_body:
        await _decode_strictly(request, handler.parsed_fn_signature.parameters["data"].annotation)
    return None


def allowed_methods(app: Litestar) -> dict[str, str]:
    """Each path's methods, for `Allow`. Litestar's own OPTIONS answer keeps the methods of the first handler
    registered for a path (GET of `GET|POST /api/health`), so OPTIONS is answered here from the final routes."""
    return {route.path_format: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}


def _options(request: Request[Any, Any, Any]) -> Response[None]:
    allow: str = request.app.state.allowed_methods[request.scope["path_template"]]
    return Response(None, status_code=204, headers={"Allow": allow})


def _require_json(request: Request[Any, Any, Any]) -> None:
    """415 when a route that reads a JSON body is sent something else (an empty body is left to validation)."""
    content_type = request.headers.get("content-type", "")
    if not content_type and request.headers.get("content-length", "0") == "0":
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType


def _required_roles(security: list[dict[str, list[str]]]) -> frozenset[str] | None:
    """None when the route needs no credentials; else the roles its bearer requirement names (maybe none)."""
    bearer = [requirement["BearerToken"] for requirement in security if "BearerToken" in requirement]
    return frozenset(role for roles in bearer for role in roles) if bearer else None


async def _decode_strictly(request: Request[Any, Any, Any], annotation: Any) -> None:
    """JSON has types: `"true"`, `"1"` and `1` are not booleans and `"5"` is not a number. Litestar converts
    the parsed body leniently (as it must for query strings), so the body is checked here first; the error
    handler then lists every bad field."""
    body = await request.body()  # cached: Litestar's own parsing reuses it
    if not body:
        return
    try:
        _strict_decoder(annotation).decode(body)
    except msgspec.ValidationError as error:
        # Details come from the error handler, which re-checks a Struct body field by field; this one is
        # for bodies that are not a single Struct (`LogoutBody | None`).
        message, _, where = str(error).partition(" - at `$")
        field = where.rstrip("`").lstrip(".") or "body"
        raise ValidationException(message, extra=[{"key": field, "source": "body", "message": message}]) from None
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's parsing answers that (`invalid_json`)


@cache
def _strict_decoder(annotation: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(annotation, strict=True)
