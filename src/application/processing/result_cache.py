"""The result cache and single-flight: an answer already produced for identical inputs is served again, and identical
requests made at the same time share one upstream job.

The key is a hash of everything that determines the answer: the normalised transcript (and what else the models
read of it: title, description, timestamps, its language), the outputs, the language asked for, the custom prompt,
the providers and models that would be asked in order, and the prompt version. Nobody's key material, user id or
payer is part of the key or of the stored answer: two users get the same answer exactly when their inputs are the
same. An entry records which user's request created it and which video it is of, only so it can be purged by user or
by video.

Users who bring their own keys share the cache like everyone else: the key says which providers and models would
answer, not whose key pays, so identical inputs give the same answer whoever paid for it."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from application.errors import NotFound
from application.ports import UserRepository
from application.processing.prompts import PROMPT_VERSION
from domain.errors import InvalidField
from domain.mind_map import MindMap, MindMapNode
from domain.outputs import Output, TopicView
from domain.transcripts import Transcript
from domain.users import Email

ENTRY_FORMAT = 1  # part of the key: a change to CachedAnswer's encoding must not read the old entries
POPULARITY_HOURS = 24  # "most requested" counts the requests of this many hours


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """What the store keeps under one key, and what it indexes the entry by."""

    key: str
    value: bytes
    ttl_seconds: int
    video_id: str | None
    created_by: uuid.UUID | None  # the user whose request produced it (None: anonymous, or the warming task)
    recipe: bytes | None  # how to produce it again on the server's keys (None: it cannot be, e.g. a BYOK chain)


class ResultStore(Protocol):
    """Cached answers, shared by every API process. An unreachable store behaves as an empty one that keeps
    nothing: requests go on uncached, and it is used again once it answers."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, answer: StoredAnswer) -> None: ...

    async def seconds_left(self, key: str) -> float | None:
        """How long the entry lives on, or None when there is none."""

    async def recipe(self, key: str) -> bytes | None: ...

    async def purge_video(self, video_id: str) -> int:
        """Drops every answer about the video; returns how many there were."""

    async def purge_user(self, user_id: uuid.UUID) -> int:
        """Drops every answer the user's requests produced; returns how many there were."""

    async def count_request(self, key: str) -> None:
        """One more request for `key` (hit or miss), for `most_requested`."""

    async def most_requested(self, limit: int) -> list[str]:
        """The keys requested most over the last POPULARITY_HOURS hours, most requested first."""


class SingleFlight(Protocol):
    async def run(self, key: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        """Runs `work` once for all concurrent callers with the same key (in every API process the adapter can
        reach) and gives each of them its value. When the caller running it fails, is cancelled or dies, a waiting
        caller runs `work` itself instead of waiting forever."""


@dataclass(frozen=True, slots=True)
class ResultCachePolicy:
    ttl_seconds: int  # 0: nothing is cached (single-flight still joins identical concurrent requests)
    prompt_version: int = PROMPT_VERSION
    warm_top_n: int = 0  # 0: no warming
    warm_budget_tokens: int = 0  # upstream tokens one warming run may spend
    warm_before_seconds: float = 0.0  # an entry expiring sooner than this is recomputed by the warming run

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """The part of a result that does not depend on who asked: the outputs and which provider wrote each."""

    values: Mapping[str, Any]  # output → its checked value: text, or the `MindMap` tree
    key_topics: tuple[TopicView, ...]
    provider: str
    model: str
    served_by: Mapping[str, tuple[str, str]]  # output → (provider, model)
    languages: Mapping[str, str]
    notices: tuple[tuple[str, str, str], ...]  # (code, output, message)

    def encode(self) -> bytes:
        values = {o: _plain_map(v) if isinstance(v, MindMap) else v for o, v in self.values.items()}
        return json.dumps(
            {
                "values": values,
                "key_topics": [[t.title, t.timestamp] for t in self.key_topics],
                "provider": self.provider,
                "model": self.model,
                "served_by": self.served_by,
                "languages": self.languages,
                "notices": self.notices,
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CachedAnswer:
        data = json.loads(raw)
        values = {o: _mind_map(v) if o == Output.MIND_MAP else v for o, v in data["values"].items()}
        return cls(
            values=values,
            key_topics=tuple(TopicView(title, timestamp) for title, timestamp in data["key_topics"]),
            provider=data["provider"],
            model=data["model"],
            served_by={o: (p, m) for o, (p, m) in data["served_by"].items()},
            languages=data["languages"],
            notices=tuple((code, output, message) for code, output, message in data["notices"]),
        )


def _plain_map(mind_map: MindMap) -> dict[str, Any]:
    def plain(node: MindMapNode) -> dict[str, Any]:
        return {
            "label": node.label,
            "original": node.original,
            "level": node.level,
            "timestamp": node.timestamp,
            "children": [plain(child) for child in node.children],
        }

    return plain(mind_map.root)


def _mind_map(plain: dict[str, Any]) -> MindMap:
    def node(data: dict[str, Any]) -> MindMapNode:
        children = tuple(node(child) for child in data["children"])
        return MindMapNode(data["label"], data["original"], data["level"], data["timestamp"], children)

    return MindMap(node(plain))


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """One request's look-up: its key, and what a new entry is indexed by."""

    key: str
    video_id: str | None
    user_id: uuid.UUID | None
    recipe: bytes | None
    force_refresh: bool = False


class CachedResults:
    """Look up, else produce once (single-flight) and store."""

    def __init__(self, store: ResultStore, flights: SingleFlight, policy: ResultCachePolicy) -> None:
        self._store = store
        self._flights = flights
        self._policy = policy

    def key(
        self,
        transcript: Transcript,
        outputs: Sequence[str],
        language: str,
        custom_prompt: str | None,
        chain: Sequence[tuple[str, str]],
    ) -> str:
        """`chain`: the (provider, model) pairs that would be asked, in order; never whose key pays."""
        # A timed transcript reaches the model as `[mm:ss]` lines: where each segment starts and ends matters too.
        timed = [[s.start, s.duration, len(s.text)] for s in transcript.segments] if transcript.has_timestamps else None
        inputs = [
            ENTRY_FORMAT,
            self._policy.prompt_version,
            transcript.hash,
            [transcript.source, transcript.language, transcript.title, transcript.description, timed],
            list(outputs),
            language,
            custom_prompt,
            [list(pair) for pair in chain],
        ]
        return hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode()).hexdigest()

    async def stored(self, request: AnswerRequest) -> bytes | None:
        """The stored answer for the request's key, if there is one and the request does not force a refresh."""
        if not self._policy.enabled or request.force_refresh:
            return None
        await self._store.count_request(request.key)
        return await self._store.get(request.key)

    async def answer(self, request: AnswerRequest, produce: Callable[[], Awaitable[CachedAnswer]]) -> bytes:
        """The stored answer for the request's key, unless `force_refresh`; else `produce`'s, made once for every
        identical request running now and stored for the next ones."""
        if self._policy.enabled:
            await self._store.count_request(request.key)
            if not request.force_refresh:
                found = await self._store.get(request.key)
                if found is not None:
                    return found

        async def lead() -> bytes:
            value = (await produce()).encode()
            if self._policy.enabled:
                stored = StoredAnswer(
                    request.key,
                    value,
                    self._policy.ttl_seconds,
                    request.video_id,
                    request.user_id,
                    request.recipe,
                )
                await self._store.put(stored)
            return value

        return await self._flights.run(request.key, lead)


@dataclass(frozen=True, slots=True)
class PurgeTarget:
    video_id: str | None = None
    email: str | None = None


class PurgeCachedResults:
    """`scribe cache purge`: an operator drops the cached answers about one video, or those one user's requests
    produced (e.g. when a user asks for their data to be forgotten)."""

    raises = (InvalidField, NotFound)

    def __init__(self, store: ResultStore, users: UserRepository) -> None:
        self._store = store
        self._users = users

    async def __call__(self, target: PurgeTarget) -> int:
        if (target.video_id is None) == (target.email is None):
            raise InvalidField("give either a video id or a user's e-mail", "video")
        if target.video_id is not None:
            return await self._store.purge_video(target.video_id)
        assert target.email is not None
        user = await self._users.get_by_email(Email.parse(target.email).value)
        if user is None:
            raise NotFound("User")
        return await self._store.purge_user(user.id)
