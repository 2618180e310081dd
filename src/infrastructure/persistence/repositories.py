"""SQL adapters of the repository ports. Rows are mapped to domain objects at this boundary."""

from __future__ import annotations

import dataclasses
import functools
import operator
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from advanced_alchemy.exceptions import DuplicateKeyError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    delete,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.history import HistoryFilters, HistoryPage, HistoryPageRequest, HistoryPosition
from application.pagination import Cursor, Page, PageRequest
from application.ports import EmailMessage, PasswordResetRecord, PendingRevocation, QueuedEmail
from domain.api_tokens import ApiToken, Scope
from domain.history import HistoryEntry
from domain.search import searchable_text
from domain.sessions import AuthSession, RefreshToken
from domain.usage import Attribution, Payer, Spend, UsageEvent, UsageSummary
from domain.users import EmailTaken, Role, Tier, User
from infrastructure.persistence.models import (
    FTS_TABLE,
    SEARCH_VECTOR,
    ApiTokenRow,
    AuthSessionRow,
    EmailOutboxRow,
    PasswordResetTokenRow,
    ProcessingHistoryRow,
    RefreshTokenRow,
    RevocationOutboxRow,
    UsageEventRow,
    UserRow,
)

E = TypeVar("E")


def _values(entity: Any) -> dict[str, Any]:
    """A domain dataclass as column values: the tables use the entities' field names."""
    return {field.name: getattr(entity, field.name) for field in dataclasses.fields(entity)}


def _entity(kind: type[E], row: Any, **converted: Any) -> E:
    """The domain object for a row; `converted` holds the fields whose stored form differs."""
    names = (field.name for field in dataclasses.fields(kind))  # type: ignore[arg-type]
    return kind(**{name: getattr(row, name) for name in names if name not in converted}, **converted)


def _user(row: UserRow) -> User:
    return _entity(User, row, tier=Tier(row.tier), role=Role(row.role))


async def _use_once(session: AsyncSession, model: Any, row_id: uuid.UUID, now: datetime) -> bool:
    """Sets `used_at` if nobody has: of concurrent callers, exactly one gets True."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _keyset(created_at: Any, ident: Any, page: PageRequest) -> ColumnElement[bool] | None:
    """Rows strictly after the cursor in (created_at DESC, id DESC) order."""
    if page.after is None:
        return None
    c = page.after
    return or_(created_at < c.created_at, and_(created_at == c.created_at, ident < c.id))


Row = TypeVar("Row")


def _page(rows: Sequence[Row], page: PageRequest, key: Any) -> tuple[Sequence[Row], str | None]:
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return rows, Cursor(*key(rows[-1])).encode() if more and rows else None


# usage_count is incremented in SQL by the usage repository; writing back a copy read earlier could lose counts.
# (users.encrypted_api_key is owned by the provider-key repository and is not a field of User at all.)
_COUNTED_ELSEWHERE = frozenset({"usage_count"})


class _UserRows(SQLAlchemyAsyncRepository[UserRow]):
    model_type = UserRow


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = _UserRows(session=session, auto_expunge=False)

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = await self._session.get(UserRow, user_id)
        return _user(row) if row else None

    async def lock(self, user_id: uuid.UUID) -> User | None:
        # FOR NO KEY UPDATE on PostgreSQL (SQLite serialises writers anyway): other writers of the user wait,
        # rows that merely reference it (sessions, reset tokens) do not. populate_existing refreshes a row
        # this session may already hold, so the caller sees what is stored now.
        row = await self._session.scalar(
            select(UserRow)
            .where(UserRow.id == user_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return _user(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        row = await self._rows.get_one_or_none(UserRow.email == email)
        return _user(row) if row else None

    async def add(self, user: User) -> None:
        try:
            await self._rows.add(UserRow(**_values(user)))
        except DuplicateKeyError:
            raise EmailTaken from None

    async def update(self, user: User) -> None:
        row = await self._session.get(UserRow, user.id)
        if row is None:
            return
        for name, value in _values(user).items():
            if name not in _COUNTED_ELSEWHERE:
                setattr(row, name, value)
        await self._session.flush()

    async def delete(self, user_id: uuid.UUID) -> None:
        # The foreign keys cascade (on SQLite too: the engine turns them on), so one statement takes it all.
        await self._session.execute(delete(UserRow).where(UserRow.id == user_id))

    async def list(self, page: PageRequest) -> Page[User]:
        query = select(UserRow).order_by(UserRow.created_at.desc(), UserRow.id.desc()).limit(page.limit + 1)
        after = _keyset(UserRow.created_at, UserRow.id, page)
        if after is not None:
            query = query.where(after)
        rows, cursor = _page((await self._session.scalars(query)).all(), page, lambda r: (r.created_at, r.id))
        return Page([_user(r) for r in rows], cursor)


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, session: AuthSession) -> None:
        self._session.add(AuthSessionRow(**_values(session)))
        await self._session.flush()

    async def get(self, session_id: uuid.UUID) -> AuthSession | None:
        row = await self._session.get(AuthSessionRow, session_id)
        return _entity(AuthSession, row) if row else None

    async def revoke(self, session_id: uuid.UUID, now: datetime) -> None:
        await self._session.execute(
            update(AuthSessionRow)
            .where(AuthSessionRow.id == session_id, AuthSessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._session.execute(
            update(AuthSessionRow)
            .where(AuthSessionRow.user_id == user_id, AuthSessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self._session.add(RefreshTokenRow(**_values(token)))
        await self._session.flush()

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = await self._session.scalar(select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash))
        return _entity(RefreshToken, row) if row else None

    async def mark_refresh_token_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        return await _use_once(self._session, RefreshTokenRow, token_id, now)


class SqlPasswordResetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: PasswordResetRecord) -> None:
        self._session.add(PasswordResetTokenRow(**_values(record)))
        await self._session.flush()

    async def find(self, token_hash: str) -> PasswordResetRecord | None:
        row = await self._session.scalar(
            select(PasswordResetTokenRow).where(PasswordResetTokenRow.token_hash == token_hash)
        )
        if row is None:
            return None
        return PasswordResetRecord(row.id, row.user_id, row.token_hash, row.created_at, row.expires_at, row.used_at)

    async def mark_used(self, record_id: uuid.UUID, now: datetime) -> bool:
        return await _use_once(self._session, PasswordResetTokenRow, record_id, now)

    async def expire_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._session.execute(
            update(PasswordResetTokenRow)
            .where(
                PasswordResetTokenRow.user_id == user_id,
                PasswordResetTokenRow.used_at.is_(None),
                PasswordResetTokenRow.expires_at > now,
            )
            .values(expires_at=now)
        )


def _api_token(row: ApiTokenRow) -> ApiToken:
    return _entity(ApiToken, row, scopes=tuple(Scope(s) for s in row.scopes.split()))


class SqlApiTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: ApiToken) -> None:
        self._session.add(ApiTokenRow(**{**_values(token), "scopes": " ".join(token.scopes)}))
        await self._session.flush()

    async def find(self, token_hash: str) -> ApiToken | None:
        row = await self._session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        return _api_token(row) if row else None

    async def get_for_user(self, token_id: uuid.UUID, user_id: uuid.UUID) -> ApiToken | None:
        row = await self._session.scalar(
            select(ApiTokenRow).where(ApiTokenRow.id == token_id, ApiTokenRow.user_id == user_id)
        )
        return _api_token(row) if row else None

    async def list_for_user(self, user_id: uuid.UUID, page: PageRequest) -> Page[ApiToken]:
        query = (
            select(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id)
            .order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
            .limit(page.limit + 1)
        )
        after = _keyset(ApiTokenRow.created_at, ApiTokenRow.id, page)
        if after is not None:
            query = query.where(after)
        rows, cursor = _page((await self._session.scalars(query)).all(), page, lambda r: (r.created_at, r.id))
        return Page([_api_token(r) for r in rows], cursor)

    async def update(self, token: ApiToken) -> None:
        await self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token.id)
            .values(last_used_at=token.last_used_at, revoked_at=token.revoked_at, name=token.name)
        )

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlHistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: HistoryEntry) -> None:
        values = _values(entry)
        del values["spend"]
        values["attribution"] = msgspec.to_builtins(entry.attribution) if entry.attribution else None
        values["search_text"] = searchable_text(*entry.searchable_fields().values())
        self._session.add(ProcessingHistoryRow(**values, **_spend_columns(entry.spend)))

    async def list_for_user(self, user_id: uuid.UUID, filters: HistoryFilters, page: HistoryPageRequest) -> HistoryPage:
        row = ProcessingHistoryRow
        conditions = [row.user_id == user_id, *_history_conditions(filters)]
        after, since = page.after, page.after.ranked_since if page.after else None
        found: list[tuple[ProcessingHistoryRow, float | None]] = []
        match = self._matches(filters.terms) if filters.terms else None
        if filters.terms:
            if self._dialect() == "postgresql":
                # How many rows a full-text match selects depends on its words and on the user, which a cached
                # generic plan cannot know: after five runs of a statement PostgreSQL may switch to one that reads
                # every match of a common word in the table (seconds). Planning for the actual values costs less.
                await self._session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            if after is None or after.relevance is not None:
                found, since = await self._best_matches(conditions, filters.terms, page)
                after = None
        if len(found) <= page.limit and (since is not None or not filters.terms):
            # Newest first: without a full-text query, or the matches older than the ranked ones.
            older = [*conditions, *([_before(since)] if since else [])]
            if after is not None:
                older.append(_before((after.created_at, after.id)))
            rows = await self._newest(older, match, page.limit + 1 - len(found), page.ranked_entries)
            found += [(r, None) for r in rows]
        more = len(found) > page.limit
        found = found[: page.limit]
        last = found[-1] if more and found else None
        position = HistoryPosition(last[0].created_at, last[0].id, last[1], since) if last else None
        return HistoryPage([_history_entry(r) for r, _ in found], position)

    async def count_for_user(self, user_id: uuid.UUID, filters: HistoryFilters) -> int:
        query = select(func.count()).select_from(ProcessingHistoryRow).where(*self._selected(user_id, filters))
        return int(await self._session.scalar(query) or 0)

    def _selected(self, user_id: uuid.UUID, filters: HistoryFilters) -> list[ColumnElement[bool]]:
        conditions = [ProcessingHistoryRow.user_id == user_id, *_history_conditions(filters)]
        return [*conditions, self._matches(filters.terms)] if filters.terms else conditions

    async def _newest(
        self, conditions: list[ColumnElement[bool]], match: ColumnElement[bool] | None, count: int, window: int
    ) -> Sequence[ProcessingHistoryRow]:
        """The newest `count` rows that meet the conditions and match. PostgreSQL takes words for independent of
        each other, so for two words that come together (common in the table and in this history) it expects
        few matches and collects every match in the table through the GIN index, then sorts them (0.5 s for a
        100,000-entry history). So the next `window` entries are looked through first: a bounded cost, and enough
        matches there are the answer; for rarer words the planner's own way follows."""
        row = ProcessingHistoryRow
        newest = (row.created_at.desc(), row.id.desc())
        if match is not None:
            entries = select(row.id).where(*conditions).order_by(*newest).limit(window)
            near = select(row).where(row.id.in_(entries), match).order_by(*newest).limit(count)
            rows = (await self._session.scalars(near)).all()
            if len(rows) == count:
                return rows
            conditions = [*conditions, match]
        return (await self._session.scalars(select(row).where(*conditions).order_by(*newest).limit(count))).all()

    async def _best_matches(
        self, conditions: list[ColumnElement[bool]], terms: tuple[str, ...], page: HistoryPageRequest
    ) -> tuple[list[tuple[ProcessingHistoryRow, float | None]], tuple[datetime, uuid.UUID] | None]:
        """The page's part of the ranked matches, best first, and where the ranked entries end. Those entries are
        a range of the (user_id, created_at, id) index, so reading them costs the same for a word in every entry
        as for a rare one; their matches are read as keys (time, id, relevance) and ordered here, then only the
        page's rows are read whole."""
        row = ProcessingHistoryRow
        since = page.after.ranked_since if page.after else None
        if page.after is None:
            newest = select(row.created_at, row.id).where(*conditions).order_by(row.created_at.desc(), row.id.desc())
            oldest_ranked = (await self._session.execute(newest.offset(page.ranked_entries - 1).limit(1))).first()
            since = (oldest_ranked[0], oldest_ranked[1]) if oldest_ranked else None
        query = select(row.created_at, row.id, self._relevance(terms)).where(*conditions, self._matches(terms))
        if since is not None:
            query = query.where(tuple_(row.created_at, row.id) >= since)
        keys = (await self._session.execute(query)).all()
        order = sorted(((float(relevance), at, ident) for at, ident, relevance in keys), reverse=True)
        if page.after is not None:
            after = page.after
            order = [key for key in order if key < (after.relevance, after.created_at, after.id)]
        chosen = order[: page.limit + 1]
        rows = {r.id: r for r in await self._session.scalars(select(row).where(row.id.in_([k[2] for k in chosen])))}
        return [(rows[ident], relevance) for relevance, _, ident in chosen if ident in rows], since

    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _matches(self, terms: tuple[str, ...]) -> ColumnElement[bool]:
        if self._dialect() == "postgresql":
            return _search_vector().bool_op("@@")(_tsquery(terms))
        # Every term starts a word (FTS5 prefix queries); terms are letters and digits only, so quoting is enough.
        fts = table(FTS_TABLE, column("entry_id"), column("search_text"))
        match = " ".join(f'"{term}"*' for term in terms)
        return ProcessingHistoryRow.id.in_(select(fts.c.entry_id).where(fts.c.search_text.op("MATCH")(match)))

    def _relevance(self, terms: tuple[str, ...]) -> ColumnElement[Any]:
        """How well an entry matches, from the entry alone (never from corpus statistics such as bm25's), so an
        entry's place in the order holds while others arrive and a cursor stays valid."""
        if self._dialect() == "postgresql":
            return func.ts_rank(_search_vector(), _tsquery(terms))
        text_column = ProcessingHistoryRow.search_text
        occurrences = [
            (func.length(text_column) - func.length(func.replace(text_column, term, ""))) / len(term) for term in terms
        ]
        return functools.reduce(operator.add, occurrences)

    async def get_for_user(self, entry_id: uuid.UUID, user_id: uuid.UUID) -> HistoryEntry | None:
        found = await self._session.scalar(
            select(ProcessingHistoryRow).where(
                ProcessingHistoryRow.id == entry_id, ProcessingHistoryRow.user_id == user_id
            )
        )
        return _history_entry(found) if found else None

    async def delete_for_user(self, entry_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        result = await self._session.execute(
            delete(ProcessingHistoryRow).where(
                ProcessingHistoryRow.id == entry_id, ProcessingHistoryRow.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_all_for_user(self, user_id: uuid.UUID) -> int:
        result = await self._session.execute(
            delete(ProcessingHistoryRow).where(ProcessingHistoryRow.user_id == user_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _search_vector() -> ColumnElement[Any]:
    return column(SEARCH_VECTOR, type_=TSVECTOR)


def _tsquery(terms: tuple[str, ...]) -> ColumnElement[Any]:
    # Each term as a prefix, all required; terms are letters and digits only, nothing tsquery reads as syntax.
    return func.to_tsquery(literal_column("'simple'"), " & ".join(f"{term}:*" for term in terms))


def _before(position: tuple[datetime, uuid.UUID]) -> ColumnElement[bool]:
    """Rows older than `position` in (created_at DESC, id DESC) order. A row comparison rather than its OR spelling:
    PostgreSQL reads it as a range of the (user_id, created_at, id) index, so a deep page starts where the last one
    ended instead of filtering out every newer row."""
    return tuple_(ProcessingHistoryRow.created_at, ProcessingHistoryRow.id) < position


def _history_conditions(filters: HistoryFilters) -> list[ColumnElement[bool]]:
    row = ProcessingHistoryRow
    equal_to = {
        row.purpose: filters.purpose,
        row.language: filters.language,
        row.provider: filters.provider,
        row.model: filters.model,
        row.video_id: filters.video_id,
        row.cached: filters.cached,
    }
    conditions = [column == value for column, value in equal_to.items() if value is not None]
    if filters.since is not None:
        conditions.append(row.created_at >= filters.since)
    if filters.before is not None:
        conditions.append(row.created_at < filters.before)
    return conditions


def _history_entry(row: ProcessingHistoryRow) -> HistoryEntry:
    assert row.user_id is not None  # rows are listed by their owner
    return HistoryEntry(
        id=row.id,
        user_id=row.user_id,
        transcript_hash=row.transcript_hash or "",
        purpose=row.purpose,
        outputs=row.outputs,
        summary=row.summary,
        topics=row.topics,
        key_topics=row.key_topics,
        mind_map=row.mind_map,
        social_post=row.social_post,
        custom_prompt=row.custom_prompt,
        custom_output=row.custom_output,
        video_id=row.video_id,
        video_url=row.video_url,
        title=row.title,
        language=row.language,
        provider=row.provider,
        model=row.model,
        spend=Spend(row.tokens_in, row.tokens_out, float(row.cost_usd)),
        attribution=msgspec.convert(row.attribution, Attribution) if row.attribution else None,
        duration_ms=row.duration_ms,
        cached=row.cached,
        created_at=row.created_at,
    )


class SqlUsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_job(self, user_id: uuid.UUID, events: Sequence[UsageEvent]) -> None:
        for event in events:
            values = _values(event)
            del values["spend"]
            self._session.add(UsageEventRow(**values, **_spend_columns(event.spend)))
        # The rows first, then the counter: the user's row stays locked only from this UPDATE to the commit, not
        # while the inserts go out (concurrent jobs of one user queue on that lock).
        await self._session.flush()
        await self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(usage_count=UserRow.usage_count + 1)
        )

    async def summary(self, user_id: uuid.UUID) -> UsageSummary:
        usage_count = await self._session.scalar(select(UserRow.usage_count).where(UserRow.id == user_id))
        rows = (
            await self._session.execute(
                select(
                    UsageEventRow.payer,
                    func.count(UsageEventRow.id),
                    func.coalesce(func.sum(UsageEventRow.tokens_in), 0),
                    func.coalesce(func.sum(UsageEventRow.tokens_out), 0),
                    func.coalesce(func.sum(UsageEventRow.cost_usd), 0),
                    func.min(UsageEventRow.created_at),
                )
                .where(UsageEventRow.user_id == user_id)
                .group_by(UsageEventRow.payer)
            )
        ).all()
        by_payer = {
            Payer(payer): Spend(int(tokens_in), int(tokens_out), float(cost))
            for payer, _, tokens_in, tokens_out, cost, _ in rows
            if payer is not None
        }
        total = Spend.total(Spend(int(r[2]), int(r[3]), float(r[4])) for r in rows).rounded
        since = min((r[5] for r in rows if r[5] is not None), default=None)
        return UsageSummary(usage_count or 0, sum(r[1] for r in rows), total, since, by_payer)


def _spend_columns(spend: Spend) -> dict[str, Any]:
    return {"tokens_in": spend.tokens_in, "tokens_out": spend.tokens_out, "cost_usd": Decimal(str(spend.cost_usd))}


class SqlEmailOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, message: EmailMessage, now: datetime) -> None:
        self._session.add(
            EmailOutboxRow(
                id=uuid.uuid4(),
                recipient=message.to,
                subject=message.subject,
                body=message.body,
                status="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
        await self._session.flush()

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> Sequence[QueuedEmail]:
        claimed = await _lease_due(self._session, EmailOutboxRow, EmailOutboxRow.status == "pending", limit, now, lease)
        if not claimed:
            return []
        rows = await self._session.scalars(select(EmailOutboxRow).where(EmailOutboxRow.id.in_(claimed)))
        return [QueuedEmail(r.id, EmailMessage(r.recipient, r.subject, r.body), r.attempts) for r in rows]

    async def mark_sent(self, email_id: uuid.UUID, now: datetime) -> None:
        await self._session.execute(
            update(EmailOutboxRow)
            .where(EmailOutboxRow.id == email_id)
            .values(status="sent", sent_at=now, body="", attempts=EmailOutboxRow.attempts + 1)
        )

    async def mark_failed(self, email_id: uuid.UUID, error: str, retry_at: datetime | None) -> None:
        row = await self._session.get(EmailOutboxRow, email_id)
        if row is None:
            return
        row.attempts += 1
        row.last_error = error[:255]
        if retry_at is None:
            row.status = "failed"
        else:
            row.next_attempt_at = retry_at
        await self._session.flush()


async def _lease_due(
    session: AsyncSession,
    row: type[EmailOutboxRow] | type[RevocationOutboxRow],
    pending: ColumnElement[bool],
    limit: int,
    now: datetime,
    lease: timedelta,
) -> list[uuid.UUID]:
    """Ids of up to `limit` due outbox rows that this process now holds for `lease`. Compare-and-set on the due
    time: of several processes claiming the same row, exactly one moves it and wins."""
    due = (
        await session.execute(
            select(row.id, row.next_attempt_at)
            .where(pending, row.next_attempt_at <= now)
            .order_by(row.next_attempt_at, row.id)
            .limit(limit)
        )
    ).all()
    claimed = []
    for row_id, seen in due:
        result = await session.execute(
            update(row)
            .where(row.id == row_id, row.next_attempt_at == seen)
            .values(next_attempt_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            claimed.append(row_id)
    return claimed


class SqlAccountReader:
    """Authentication reads, each in a short session of its own (not the request's unit of work)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def user(self, user_id: uuid.UUID) -> User | None:
        async with self._sessions() as session:
            return await SqlUserRepository(session).get(user_id)

    async def api_token(self, token_hash: str) -> ApiToken | None:
        async with self._sessions() as session:
            return await SqlApiTokenRepository(session).find(token_hash)

    async def record_api_token_use(self, token_id: uuid.UUID, now: datetime) -> None:
        async with self._sessions() as session:
            await session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))
            await session.commit()


class SqlRevocationOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, session_id: uuid.UUID, until: datetime, now: datetime) -> None:
        self._session.add(
            RevocationOutboxRow(id=uuid.uuid4(), session_id=session_id, revoked_until=until, next_attempt_at=now)
        )
        await self._session.flush()

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> Sequence[PendingRevocation]:
        claimed = await _lease_due(self._session, RevocationOutboxRow, true(), limit, now, lease)
        if not claimed:
            return []
        rows = await self._session.scalars(select(RevocationOutboxRow).where(RevocationOutboxRow.id.in_(claimed)))
        return [PendingRevocation(r.id, r.session_id, r.revoked_until, r.attempts) for r in rows]

    async def announced(self, revocation_id: uuid.UUID) -> None:
        await self._session.execute(delete(RevocationOutboxRow).where(RevocationOutboxRow.id == revocation_id))

    async def retry_later(self, revocation_id: uuid.UUID, retry_at: datetime) -> None:
        row = await self._session.get(RevocationOutboxRow, revocation_id)
        if row is None:
            return
        row.attempts += 1
        row.next_attempt_at = retry_at
        await self._session.flush()


class SqlRevocationSource:
    """What each process's mirror of revoked sessions is a copy of: `auth_sessions.revoked_at`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def revoked_since(self, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AuthSessionRow.id, AuthSessionRow.revoked_at).where(AuthSessionRow.revoked_at >= since)
            )
            return [(session_id, revoked_at) for session_id, revoked_at in rows.all()]

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        async with self._sessions() as session:
            revoked_at = await session.scalar(select(AuthSessionRow.revoked_at).where(AuthSessionRow.id == session_id))
            return revoked_at is not None
