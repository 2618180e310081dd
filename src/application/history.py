"""The caller's processing history: list with filters and a signed cursor, read one, delete one or all."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from application.auth.authenticate import Principal
from application.errors import InvalidCursor, PermissionDenied
from application.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from application.ports import UnitOfWork
from domain.api_tokens import Scope
from domain.errors import InvalidField, InvalidInput, Problem, check_all
from domain.history import HistoryEntry, HistoryEntryNotFound
from domain.search import MAX_QUERY_CHARS, Snippet, search_terms, snippet

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    terms: tuple[str, ...] = ()  # full text, folded: with terms, the most relevant come first

    @property
    def fingerprint(self) -> str:
        """The filters as text, so a cursor minted for one query is refused by another."""
        return json.dumps(asdict(self), default=str, sort_keys=True)


@dataclass(frozen=True, slots=True)
class HistorySelection:
    """The filters as the caller typed them: dates still text, checked together (`parse_filters`)."""

    purpose: str | None = None
    language: str | None = None
    provider: str | None = None
    model: str | None = None
    video_id: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    cached: bool | None = None
    q: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryQuery(HistorySelection):
    """The filters and one page of what they select."""

    limit: int | None = None
    cursor: str | None = None


# With a full-text query, the matches among the newest this many entries (that pass the other filters) come first,
# best match first; older matches follow, newest first. Ranking reads each candidate entry, so ranking every match
# of a common word in a 100,000-entry history takes seconds; this bounds the work whatever the words, and a history
# with fewer entries is ranked whole.
RANKED_ENTRIES = 1000


@dataclass(frozen=True, slots=True)
class HistoryPosition:
    """Where a page ended: newest first, then by id; with a full-text query, the ranked matches first by relevance
    (`relevance` set), then the older ones (`relevance` None). `ranked_since` is the oldest ranked entry, fixed
    when the first page was read (None: every match is ranked), so the two parts keep their rows while others
    arrive."""

    created_at: datetime
    id: uuid.UUID
    relevance: float | None = None
    ranked_since: tuple[datetime, uuid.UUID] | None = None

    def encode(self) -> str:
        since = [self.ranked_since[0].isoformat(), str(self.ranked_since[1])] if self.ranked_since else []
        raw = json.dumps([self.created_at.isoformat(), str(self.id), self.relevance, *since], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> HistoryPosition:
        try:
            created_at, ident, relevance, *since = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if not isinstance(relevance, int | float | None) or len(since) not in (0, 2):
                raise InvalidCursor
            ranked_since = (_aware(since[0]), uuid.UUID(since[1])) if since else None
            relevance = None if relevance is None else float(relevance)
            return cls(_aware(created_at), uuid.UUID(ident), relevance, ranked_since)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as error:
            raise InvalidCursor from error


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise InvalidCursor
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class HistoryPageRequest:
    limit: int = DEFAULT_PAGE_SIZE
    after: HistoryPosition | None = None
    ranked_entries: int = RANKED_ENTRIES


@dataclass(frozen=True, slots=True)
class HistoryHit:
    entry: HistoryEntry
    snippet: Snippet | None  # with a full-text query: where it matched


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next: HistoryPosition | None


class HistoryStore(Protocol):
    async def list_for_user(
        self, user_id: uuid.UUID, filters: HistoryFilters, page: HistoryPageRequest
    ) -> HistoryPage: ...

    async def count_for_user(self, user_id: uuid.UUID, filters: HistoryFilters) -> int: ...

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

    async def __call__(self, principal: Principal, query: HistoryQuery) -> Page[HistoryHit]:
        principal.require(Scope.READ)
        filters, limit = parse_filters(query), _limit(query.limit)
        context = f"{principal.user.id}\n{filters.fingerprint}"
        after = HistoryPosition.decode(self._seal.open(query.cursor, context)) if query.cursor else None
        found = await self._history.list_for_user(principal.user.id, filters, HistoryPageRequest(limit, after))
        hits = [HistoryHit(e, _snippet(e, filters.terms)) for e in found.entries]
        return Page(hits, self._seal.seal(found.next.encode(), context) if found.next else None)


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


def parse_filters(query: HistorySelection) -> HistoryFilters:
    """The filters checked together; raises InvalidInput naming every bad one."""
    texts = {
        "purpose": query.purpose,
        "language": query.language,
        "provider": query.provider,
        "model": query.model,
        "video_id": query.video_id,
    }
    parsed = check_all(
        {
            **{name: functools.partial(_plain, value) for name, value in texts.items()},
            "from": lambda: _moment(query.date_from, end_of_day=False),
            "to": lambda: _moment(query.date_to, end_of_day=True),
            "q": lambda: _terms(query.q),
        }
    )
    since, before = parsed["from"], parsed["to"]
    if since is not None and before is not None and since >= before:
        raise InvalidInput([Problem("from", "must not be after `to`")])
    return HistoryFilters(**texts, since=since, before=before, cached=query.cached, terms=parsed["q"])


def _plain(text: str | None) -> str | None:
    if text is not None and _CONTROL.search(text):
        raise InvalidField("must not contain control characters")  # no stored value has one; PostgreSQL refuses NUL
    return text


def _limit(limit: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if limit is None else limit
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput([Problem("limit", f"must be between 1 and {MAX_PAGE_SIZE}")])
    return size


def _terms(q: str | None) -> tuple[str, ...]:
    if q is None:
        return ()
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidField(f"must be at most {MAX_QUERY_CHARS} characters")
    terms = search_terms(q)
    if not terms:
        raise InvalidField("must contain a word to search for")
    return terms


def _snippet(entry: HistoryEntry, terms: tuple[str, ...]) -> Snippet | None:
    return snippet(entry.searchable_fields(), terms) if terms else None


def _moment(text: str | None, *, end_of_day: bool) -> datetime | None:
    """An ISO date (the whole day, UTC) or datetime (UTC when no offset is given)."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), UTC)
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        # A datetime `to` is inclusive: the first moment after it is the exclusive bound.
        return moment.astimezone(UTC) + (timedelta(microseconds=1) if end_of_day else timedelta())
    except OverflowError as error:
        raise InvalidField("is out of range") from error
    except ValueError as error:
        raise InvalidField("must be an ISO date (2026-12-01) or datetime (2026-12-01T10:00:00Z)") from error
