"""The prototype's envelope, kept for its clients: `{"success": true, "data": ...}` or an error body."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T]):
    data: T
    success: bool = True


class FieldErrorView(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct, omit_defaults=True, kw_only=True):
    success: bool  # always false; required so omit_defaults cannot drop it
    error: str
    code: str
    details: list[FieldErrorView] | None = None
    request_id: str | None = None


class ListPage(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


def ok(data: T) -> Envelope[T]:
    return Envelope(data=data)
