"""The caller's processing history: list with filters and a signed cursor, read one, delete one or all."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from application.auth.authenticate import Principal
from application.errors import InvalidCursor, PermissionDenied
from application.pagination import Page, PageRequest
from application.ports import UnitOfWork
from domain.api_tokens import Scope
from domain.errors import InvalidField, InvalidInput, Problem, check_all
from domain.history import HistoryEntry, HistoryEntryNotFound


@dataclass(frozen=True, slots=True)
class HistoryFilters:
    """What the rows must match; `since` inclusive, `before` exclusive (a `to` date covers that whole day)."""

    purpose: str | None = None
    language: str | None = None
    provider: str | None = None
    model: str | None = None
    video_id: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    cached: bool | None = None

    @property
    def fingerprint(self) -> str:
        """The filters as text, so a cursor minted for one query is refused by another."""
        values = asdict(self)
        return "|".join(f"{k}={'' if v is None else v}" for k, v in sorted(values.items()))


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """The filters as the caller typed them: dates still text, checked together."""

    purpose: str | None = None
    language: str | None = None
    provider: str | None = None
    model: str | None = None
    video_id: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    cached: bool | None = None
    limit: int | None = None
    cursor: str | None = None


class HistoryStore(Protocol):
    async def list_for_user(
        self, user_id: uuid.UUID, filters: HistoryFilters, page: PageRequest
    ) -> Page[HistoryEntry]: ...

    async def get_for_user(self, entry_id: uuid.UUID, user_id: uuid.UUID) -> HistoryEntry | None: ...

    async def delete_for_user(self, entry_id: uuid.UUID, user_id: uuid.UUID) -> bool: ...

    async def delete_all_for_user(self, user_id: uuid.UUID) -> int: ...


class CursorSeal(Protocol):
    """Signs a cursor to the query it belongs to; `open` refuses one that was altered or minted for another."""

    def seal(self, cursor: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str:
        """The cursor inside; raises InvalidCursor."""
        ...


class ListHistory:
    raises = (PermissionDenied, InvalidInput, InvalidCursor)

    def __init__(self, history: HistoryStore, seal: CursorSeal) -> None:
        self._history = history
        self._seal = seal

    async def __call__(self, principal: Principal, query: HistoryQuery) -> Page[HistoryEntry]:
        principal.require(Scope.READ)
        filters = _filters(query)
        context = f"{principal.user.id}\n{filters.fingerprint}"
        page = PageRequest.of(query.limit, self._seal.open(query.cursor, context) if query.cursor else None)
        found = await self._history.list_for_user(principal.user.id, filters, page)
        sealed = self._seal.seal(found.next_cursor, context) if found.next_cursor else None
        return Page(found.items, sealed)


class GetHistoryEntry:
    raises = (PermissionDenied, HistoryEntryNotFound)

    def __init__(self, history: HistoryStore) -> None:
        self._history = history

    async def __call__(self, principal: Principal, entry_id: uuid.UUID) -> HistoryEntry:
        principal.require(Scope.READ)
        entry = await self._history.get_for_user(entry_id, principal.user.id)
        if entry is None:
            raise HistoryEntryNotFound
        return entry


class DeleteHistoryEntry:
    raises = (PermissionDenied, HistoryEntryNotFound)

    def __init__(self, history: HistoryStore, uow: UnitOfWork) -> None:
        self._history = history
        self._uow = uow

    async def __call__(self, principal: Principal, entry_id: uuid.UUID) -> None:
        principal.require(Scope.WRITE)
        if not await self._history.delete_for_user(entry_id, principal.user.id):
            raise HistoryEntryNotFound
        await self._uow.commit()


class ClearHistory:
    raises = (PermissionDenied, InvalidInput)

    def __init__(self, history: HistoryStore, uow: UnitOfWork) -> None:
        self._history = history
        self._uow = uow

    async def __call__(self, principal: Principal, confirm: bool) -> int:
        """Deletes every entry of the caller's; returns how many."""
        principal.require(Scope.WRITE)
        if not confirm:
            raise InvalidInput([Problem("confirm", "must be true to delete your whole history")])
        deleted = await self._history.delete_all_for_user(principal.user.id)
        await self._uow.commit()
        return deleted


def _filters(query: HistoryQuery) -> HistoryFilters:
    parsed = check_all(
        {
            "from": lambda: _moment(query.date_from, end_of_day=False),
            "to": lambda: _moment(query.date_to, end_of_day=True),
        }
    )
    since, before = parsed["from"], parsed["to"]
    if since is not None and before is not None and since >= before:
        raise InvalidInput([Problem("from", "must not be after `to`")])
    return HistoryFilters(
        purpose=query.purpose,
        language=query.language,
        provider=query.provider,
        model=query.model,
        video_id=query.video_id,
        since=since,
        before=before,
        cached=query.cached,
    )


def _moment(text: str | None, *, end_of_day: bool) -> datetime | None:
    """An ISO date (the whole day, UTC) or datetime (UTC when no offset is given)."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidField("must be an ISO date (2026-12-01) or datetime (2026-12-01T10:00:00Z)") from error
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    # A datetime `to` is inclusive: the first moment after it is the exclusive bound.
    return moment.astimezone(UTC) + (timedelta(microseconds=1) if end_of_day else timedelta())
