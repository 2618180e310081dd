"""The SQL adapters on real PostgreSQL and SQLite: one contract, both databases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.history import HistoryFilters, HistoryPageRequest, HistoryPosition
from application.pagination import PageRequest
from application.ports import EmailMessage, PasswordResetRecord
from domain.api_tokens import ApiToken, Scope
from domain.history import HistoryEntry
from domain.sessions import AuthSession, RefreshToken
from domain.usage import Payer, Spend, UsageEvent
from domain.users import Email, EmailTaken, Tier, User
from infrastructure.persistence.database import make_engine, make_session_factory
from infrastructure.persistence.models import EmailOutboxRow, ProcessingHistoryRow, UserRow
from infrastructure.persistence.repositories import (
    SqlApiTokenRepository,
    SqlEmailOutbox,
    SqlHistoryRepository,
    SqlPasswordResetRepository,
    SqlRevocationOutbox,
    SqlRevocationSource,
    SqlSessionRepository,
    SqlUsageRepository,
    SqlUserRepository,
)

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


def _user(email: str | None = None, at: datetime = NOW) -> User:
    return User.register(Email(email or f"{uuid.uuid4().hex[:12]}@example.com"), "argon-hash", now=at)


async def test_users_round_trip_with_timezone_aware_timestamps(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        await s.commit()
    async with sessions() as s:
        loaded = await SqlUserRepository(s).get(user.id)
        by_email = await SqlUserRepository(s).get_by_email(user.email)
    assert loaded == user == by_email
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None


async def test_a_duplicate_email_is_refused_by_the_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        await s.commit()
    async with sessions() as s:
        with pytest.raises(EmailTaken):
            await SqlUserRepository(s).add(_user(user.email))


async def test_uncommitted_work_is_not_stored(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)  # the session closes without commit
    async with sessions() as s:
        assert await SqlUserRepository(s).get(user.id) is None


async def test_user_updates_persist(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        await s.commit()
    changed = user.with_changes(NOW + timedelta(seconds=5), tier=Tier.PRO, display_name="Ada", disabled=True)
    async with sessions() as s:
        await SqlUserRepository(s).update(changed)
        await s.commit()
    async with sessions() as s:
        assert await SqlUserRepository(s).get(user.id) == changed


async def test_user_listing_pages_by_keyset_without_gaps(sessions: async_sessionmaker[AsyncSession]) -> None:
    base = datetime(2001, 1, 1, tzinfo=UTC)  # older than anything other tests store
    mine = [_user(at=base + timedelta(seconds=n // 2)) for n in range(7)]  # pairs share a timestamp
    async with sessions() as s:
        for user in mine:
            await SqlUserRepository(s).add(user)
        await s.commit()
    seen: list[uuid.UUID] = []
    cursor = None
    async with sessions() as s:
        while True:
            page = await SqlUserRepository(s).list(PageRequest.of(3, cursor))
            seen += [u.id for u in page.items]
            if not (cursor := page.next_cursor):
                break
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in {u.id for u in mine}] == [
        u.id for u in sorted(mine, key=lambda u: (u.created_at, u.id), reverse=True)
    ]


async def test_a_refresh_token_can_be_claimed_only_once_even_concurrently(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user = _user()
    session = AuthSession.start(user.id, NOW, timedelta(days=30))
    token = RefreshToken.issue(session, uuid.uuid4().hex, NOW, timedelta(days=14))
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        await SqlSessionRepository(s).add(session)
        await SqlSessionRepository(s).add_refresh_token(token)
        await s.commit()

    async def claim() -> bool:
        async with sessions() as s:
            won = await SqlSessionRepository(s).mark_refresh_token_used(token.id, NOW)
            await s.commit()
            return won

    results = await asyncio.gather(*(claim() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_revoking_all_sessions_of_a_user_leaves_others(sessions: async_sessionmaker[AsyncSession]) -> None:
    ada, bob = _user(), _user()
    ada_session = AuthSession.start(ada.id, NOW, timedelta(days=30))
    bob_session = AuthSession.start(bob.id, NOW, timedelta(days=30))
    async with sessions() as s:
        repo = SqlSessionRepository(s)
        for user, session in ((ada, ada_session), (bob, bob_session)):
            await SqlUserRepository(s).add(user)
            await repo.add(session)
        await s.commit()
        await repo.revoke_all_for_user(ada.id, NOW)
        await s.commit()
    async with sessions() as s:
        repo = SqlSessionRepository(s)
        assert (await repo.get(ada_session.id)).revoked_at is not None  # type: ignore[union-attr]
        assert (await repo.get(bob_session.id)).revoked_at is None  # type: ignore[union-attr]


async def test_reset_tokens_are_single_use(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    record = PasswordResetRecord(uuid.uuid4(), user.id, uuid.uuid4().hex, NOW, NOW + timedelta(minutes=30))
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        repo = SqlPasswordResetRepository(s)
        await repo.add(record)
        assert await repo.find(record.token_hash) == record
        assert await repo.mark_used(record.id, NOW)
        assert not await repo.mark_used(record.id, NOW)
        await s.commit()


async def test_api_tokens_are_listed_only_to_their_owner(sessions: async_sessionmaker[AsyncSession]) -> None:
    ada, bob = _user(), _user()
    token = ApiToken(uuid.uuid4(), ada.id, "ci", uuid.uuid4().hex, "scribe_abcd", (Scope.READ,), NOW, None)
    async with sessions() as s:
        await SqlUserRepository(s).add(ada)
        await SqlUserRepository(s).add(bob)
        repo = SqlApiTokenRepository(s)
        await repo.add(token)
        await s.commit()
        assert (await repo.list_for_user(ada.id, PageRequest())).items == [token]
        assert (await repo.list_for_user(bob.id, PageRequest())).items == []
        assert await repo.get_for_user(token.id, bob.id) is None
        assert await repo.find(token.token_hash) == token


def _history_entry(user: User, language: str, summary: str) -> HistoryEntry:
    return HistoryEntry(
        uuid.uuid4(), user.id, "h" * 64, "general", "summary", summary, None, None, None, None, None, None,
        "dQw4w9WgXcQ", None, "Talk", language, "anthropic", "claude-x", Spend(1, 1, 0.0), None, 10, False, NOW,
    )  # fmt: skip


async def test_history_counts_what_its_listing_would_walk(sessions: async_sessionmaker[AsyncSession]) -> None:
    ada, bob = _user(), _user()
    entries = [
        _history_entry(ada, "pl", "Źródła Wisły"),
        _history_entry(ada, "pl", "Góry"),
        _history_entry(ada, "en", "Rivers"),
        _history_entry(bob, "pl", "Źródła Odry"),
    ]
    async with sessions() as s:
        await SqlUserRepository(s).add(ada)
        await SqlUserRepository(s).add(bob)
        for entry in entries:
            await SqlHistoryRepository(s).add(entry)
        await s.commit()
        repo = SqlHistoryRepository(s)
        for filters, expected in [
            (HistoryFilters(), 3),
            (HistoryFilters(language="pl"), 2),
            (HistoryFilters(terms=("zrodla",)), 1),
            (HistoryFilters(language="en", terms=("zrodla",)), 0),
        ]:
            assert await repo.count_for_user(ada.id, filters) == expected, filters
            listed = await repo.list_for_user(ada.id, filters, HistoryPageRequest(limit=100))
            assert len(listed.entries) == expected, filters


async def test_usage_events_count_and_sum(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        usage = SqlUsageRepository(s)
        for n in range(3):
            # a job paid partly with the user's key, partly with the server's
            await usage.add_job(
                user.id,
                [
                    UsageEvent(uuid.uuid4(), user.id, "process", "openai", "x", payer, spend, False, NOW)
                    for payer, spend in ((Payer.USER_KEY, Spend(10 * n, 5, 0.25)), (Payer.SERVER_KEY, Spend(1, 1, 0.5)))
                ],
            )
        await s.commit()
    async with sessions() as s:
        summary = await SqlUsageRepository(s).summary(user.id)
    assert (summary.usage_count, summary.events_total) == (3, 6)  # three jobs, two events each
    assert (summary.spend.tokens_in, summary.spend.tokens_out) == (33, 18)
    assert summary.spend.cost_usd == pytest.approx(2.25)
    assert summary.by_payer[Payer.USER_KEY].tokens_in == 30
    assert summary.by_payer[Payer.SERVER_KEY].cost_usd == pytest.approx(1.5)


LEASE = timedelta(minutes=2)


async def _claim_mine(sessions: async_sessionmaker[AsyncSession], marker: str, now: datetime) -> list:  # type: ignore[type-arg]
    async with sessions() as s:
        claimed = [q for q in await SqlEmailOutbox(s).claim(1000, now, LEASE) if q.message.to == marker]
        await s.commit()
    return claimed


async def test_each_queued_email_is_claimed_by_one_caller_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    marker = f"{uuid.uuid4().hex}@example.com"
    async with sessions() as s:
        await SqlEmailOutbox(s).enqueue(EmailMessage(marker, "subject", "body"), NOW - timedelta(seconds=1))
        await s.commit()

    claims = await asyncio.gather(*(_claim_mine(sessions, marker, NOW) for _ in range(4)))
    assert sorted(len(c) for c in claims) == [0, 0, 0, 1]
    assert await _claim_mine(sessions, marker, NOW + LEASE / 2) == []  # leased
    (again,) = await _claim_mine(sessions, marker, NOW + LEASE * 2)  # the claimer died: it comes back
    assert again.message.body == "body"


async def test_a_sent_email_loses_its_body_and_is_not_sent_again(sessions: async_sessionmaker[AsyncSession]) -> None:
    marker = f"{uuid.uuid4().hex}@example.com"
    async with sessions() as s:
        await SqlEmailOutbox(s).enqueue(EmailMessage(marker, "subject", "link with a secret"), NOW)
        await s.commit()
    (queued,) = await _claim_mine(sessions, marker, NOW)
    async with sessions() as s:
        await SqlEmailOutbox(s).mark_sent(queued.id, NOW)
        await s.commit()
        body = await s.scalar(select(EmailOutboxRow.body).where(EmailOutboxRow.id == queued.id))
    assert body == ""
    assert await _claim_mine(sessions, marker, NOW + LEASE * 10) == []


async def test_the_outbox_backs_off_after_a_failure(sessions: async_sessionmaker[AsyncSession]) -> None:
    marker = f"{uuid.uuid4().hex}@example.com"
    async with sessions() as s:
        await SqlEmailOutbox(s).enqueue(EmailMessage(marker, "subject", "body"), NOW - timedelta(seconds=1))
        await s.commit()
    (queued,) = await _claim_mine(sessions, marker, NOW)
    async with sessions() as s:
        await SqlEmailOutbox(s).mark_failed(queued.id, "ConnectionRefusedError", NOW + timedelta(minutes=1))
        await s.commit()
    assert await _claim_mine(sessions, marker, NOW + timedelta(seconds=30)) == []
    (later,) = await _claim_mine(sessions, marker, NOW + timedelta(minutes=1))
    assert later.attempts == 1


async def _claim_revocations(sessions: async_sessionmaker[AsyncSession], session_id: uuid.UUID, now: datetime) -> list:  # type: ignore[type-arg]
    async with sessions() as s:
        claimed = [p for p in await SqlRevocationOutbox(s).claim(1000, now, LEASE) if p.session_id == session_id]
        await s.commit()
    return claimed


async def test_each_pending_revocation_is_claimed_by_one_relay_until_announced(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    session_id = uuid.uuid4()
    async with sessions() as s:
        await SqlRevocationOutbox(s).enqueue(session_id, NOW + timedelta(minutes=15), NOW)
        await s.commit()

    claims = await asyncio.gather(*(_claim_revocations(sessions, session_id, NOW) for _ in range(4)))
    assert sorted(len(c) for c in claims) == [0, 0, 0, 1]
    (claimed,) = next(c for c in claims if c)
    assert claimed.until == NOW + timedelta(minutes=15)
    async with sessions() as s:
        await SqlRevocationOutbox(s).retry_later(claimed.id, NOW + timedelta(seconds=1))  # Redis was down
        await s.commit()
    assert await _claim_revocations(sessions, session_id, NOW) == []
    (again,) = await _claim_revocations(sessions, session_id, NOW + timedelta(seconds=1))
    assert again.attempts == 1
    async with sessions() as s:
        await SqlRevocationOutbox(s).announced(again.id)
        await s.commit()
    assert await _claim_revocations(sessions, session_id, NOW + LEASE * 10) == []


async def test_revoked_sessions_are_read_from_the_sessions_table(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    recent, old, live = (AuthSession.start(user.id, NOW, timedelta(days=30)) for _ in range(3))
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        for session in (recent, old, live):
            await SqlSessionRepository(s).add(session)
        await SqlSessionRepository(s).revoke(recent.id, NOW)
        await SqlSessionRepository(s).revoke(old.id, NOW - timedelta(hours=1))
        await s.commit()
    source = SqlRevocationSource(sessions)
    assert await source.is_revoked(recent.id)
    assert await source.is_revoked(old.id)
    assert not await source.is_revoked(live.id)
    since = await source.revoked_since(NOW - timedelta(minutes=15))
    assert (recent.id, NOW) in since
    assert {session_id for session_id, _ in since}.isdisjoint({old.id, live.id})


async def test_lock_reads_what_is_stored_now(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        await s.commit()
    async with sessions() as reader, sessions() as writer:
        stale = await SqlUserRepository(reader).get(user.id)  # held in the reader's identity map
        await SqlUserRepository(writer).update(user.with_changes(NOW, disabled=True))
        await writer.commit()
        fresh = await SqlUserRepository(reader).lock(user.id)
        await reader.commit()
    assert stale is not None
    assert not stale.disabled
    assert fresh is not None
    assert fresh.disabled


async def test_the_seed_tables_keep_their_columns(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = _user()
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        s.add(
            ProcessingHistoryRow(
                id=uuid.uuid4(),
                user_id=user.id,
                transcript_hash="a" * 64,
                purpose="learning",
                summary="s",
                topics="Key topics:\n- a",
                mind_map={"nodes": [], "edges": []},
                social_post=None,
                created_at=NOW,
            )
        )
        await s.commit()
        row = await s.scalar(select(UserRow).where(UserRow.id == user.id))
        history = await s.scalar(select(ProcessingHistoryRow).where(ProcessingHistoryRow.user_id == user.id))
    assert row is not None
    assert row.usage_count == 0
    assert row.encrypted_api_key is None
    assert history is not None
    assert history.mind_map == {"nodes": [], "edges": []}


def _history(user: User, summary: str, at: datetime) -> HistoryEntry:
    return HistoryEntry(
        id=uuid.uuid4(),
        user_id=user.id,
        transcript_hash="h" * 64,
        purpose="learning",
        outputs="summary",
        summary=summary,
        topics=None,
        key_topics=None,
        mind_map=None,
        social_post=None,
        custom_prompt=None,
        custom_output=None,
        video_id=None,
        video_url=None,
        title="Wykład",
        language="pl",
        provider="local",
        model="extractive",
        spend=Spend(),
        attribution=None,
        duration_ms=0,
        cached=False,
        created_at=at,
    )


async def test_a_search_ranks_the_matches_among_the_newest_entries_then_pages_on_through_the_older_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user = _user()
    # Ten matches a minute apart: the older, the more often the word occurs (the better it would rank); and among
    # the newest four entries, one that does not match.
    entries = [_history(user, "rzeka " * (10 - n), NOW + timedelta(minutes=n)) for n in range(10)]
    async with sessions() as s:
        await SqlUserRepository(s).add(user)
        for entry in [*entries, _history(user, "nic", NOW + timedelta(minutes=7.5))]:
            await SqlHistoryRepository(s).add(entry)
        await s.commit()

    seen: list[uuid.UUID] = []
    after = None
    while True:
        async with sessions() as s:
            found = await SqlHistoryRepository(s).list_for_user(
                user.id, HistoryFilters(terms=("rzek",)), HistoryPageRequest(3, after, ranked_entries=4)
            )
            if after is None:  # a better match arriving mid-walk sorts before it and moves nothing
                await SqlHistoryRepository(s).add(_history(user, "rzeka " * 20, NOW + timedelta(hours=1)))
                await s.commit()
        seen += [e.id for e in found.entries]
        if found.next is None:
            break
        after = HistoryPosition.decode(found.next.encode())

    ranked = [entries[n].id for n in (7, 8, 9)]  # the matches among the newest four entries, best first
    assert seen == ranked + [entries[n].id for n in (6, 5, 4, 3, 2, 1, 0)]
