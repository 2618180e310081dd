"""Users' own AI provider keys (BYOK): saved only after the provider accepts them, sealed at rest, listed as a
masked hint, never returned; decrypted for the user's processing; re-sealed under a new master key by an admin."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from application.access import Limit, Throttle
from application.accounts.ports import ProviderKeyRepository, SecretBox, StoredProviderKey
from application.auth.authenticate import Principal
from application.errors import (
    NotFound,
    PermissionDenied,
    ProviderFailure,
    ProviderKeyRejected,
    SecretUnreadable,
    TooManyAttempts,
)
from application.ports import Clock, UnitOfWork, UserCache
from application.processing.catalog import ProviderCatalog
from application.processing.ports import ApiKey
from domain.api_tokens import Scope
from domain.errors import InvalidField, InvalidInput, check_all

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 512
ROTATION_BATCH = 100


@dataclass(frozen=True, slots=True)
class ProviderKeyPolicy:
    # Each check is a call from our address to the provider: not an unlimited key-checking service.
    key_checks_per_hour: int = 10


@dataclass(frozen=True, slots=True)
class ProviderKeyInfo:
    """What a user may see of a stored key."""

    provider: str
    hint: str
    key_version: str  # the master key version that sealed it
    updated_at: datetime

    @classmethod
    def of(cls, key: StoredProviderKey) -> ProviderKeyInfo:
        return cls(key.provider, key.hint, key.sealed.version, key.updated_at)


def key_context(user_id: uuid.UUID, provider: str) -> str:
    """What a sealed key is bound to: it opens for this user and provider only."""
    return f"{user_id}|{provider}"


def masked_hint(secret: str) -> str:
    """Enough to recognise a key, never a useful part of it: short keys show only their last two characters."""
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) >= 16 else f"…{secret[-2:]}"


def _check_secret(secret: str) -> None:
    # The messages never quote the value: it may be a real key with a typo.
    if not MIN_KEY_LENGTH <= len(secret) <= MAX_KEY_LENGTH:
        raise InvalidField(f"must be {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters")
    # Keys are ASCII everywhere; anything else cannot even be sent in an HTTP header.
    if not all("!" <= char <= "~" for char in secret):
        raise InvalidField("must be printable ASCII characters without spaces")


class ListProviderKeys:
    raises = (PermissionDenied,)

    def __init__(self, keys: ProviderKeyRepository) -> None:
        self._keys = keys

    async def __call__(self, principal: Principal) -> list[ProviderKeyInfo]:
        principal.require(Scope.READ)
        return [ProviderKeyInfo.of(k) for k in await self._keys.list(principal.user.id)]


class SaveProviderKey:
    """Stores (or replaces) the caller's key for one provider, after the provider has accepted it."""

    raises = (InvalidInput, PermissionDenied, TooManyAttempts, ProviderKeyRejected, ProviderFailure)

    def __init__(
        self,
        keys: ProviderKeyRepository,
        catalog: ProviderCatalog,
        box: SecretBox,
        uow: UnitOfWork,
        clock: Clock,
        throttle: Throttle,
        policy: ProviderKeyPolicy,
        cache: UserCache,
    ) -> None:
        self._policy = policy
        self._keys = keys
        self._cache = cache
        self._catalog = catalog
        self._box = box
        self._throttle = throttle
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, provider: str, secret: str) -> ProviderKeyInfo:
        principal.require(Scope.WRITE)
        check_all({"provider": lambda: self._check_provider(provider), "api_key": lambda: _check_secret(secret)})
        checks = Limit(f"provider-key-check:{principal.user.id}", self._policy.key_checks_per_hour, 3600)
        await self._throttle.reserve(checks)
        # Raises ProviderKeyRejected or ProviderFailure; either way nothing is stored. Asked before locking,
        # so no row lock is held across a network call.
        await self._catalog.adapters[provider].check_key(secret)
        user_id = principal.user.id
        key = StoredProviderKey(
            provider,
            self._box.seal(secret, key_context(user_id, provider)),
            masked_hint(secret),
            self._clock.now(),
        )
        others = [k for k in await self._keys.lock(user_id) if k.provider != provider]
        await self._keys.replace(user_id, [*others, key])
        await self._uow.commit()
        await self._cache.invalidate(user_id)  # every process forgets that this user had no keys
        return ProviderKeyInfo.of(key)

    def _check_provider(self, provider: str) -> None:
        profile = self._catalog.profile(provider)
        if profile is None or not profile.accepts_user_keys or provider not in self._catalog.adapters:
            names = sorted(p.name for p in self._catalog.profiles.values() if p.accepts_user_keys)
            raise InvalidField(f"must be one of: {', '.join(names)}" if names else "no provider takes your own keys")


class DeleteProviderKey:
    raises = (InvalidInput, PermissionDenied, NotFound)

    def __init__(self, keys: ProviderKeyRepository, uow: UnitOfWork) -> None:
        self._keys = keys
        self._uow = uow

    async def __call__(self, principal: Principal, provider: str) -> None:
        principal.require(Scope.WRITE)
        stored = await self._keys.lock(principal.user.id)
        kept = [k for k in stored if k.provider != provider]
        if len(kept) == len(stored):
            raise NotFound("Provider key")
        await self._keys.replace(principal.user.id, kept)
        await self._uow.commit()


class DecryptedUserKeys:
    """The UserProviderKeys port: a user's keys, opened for one processing request. A key that no longer opens
    (its master version was dropped from the keyring, or it was tampered with) is left out, so the request
    falls back to the server's keys; `scribe keys rotate` counts such keys. Most users store none: that is
    remembered for the user cache's lifetime, so their requests do not read the database for it."""

    def __init__(self, keys: ProviderKeyRepository, box: SecretBox, cache: UserCache) -> None:
        self._keys = keys
        self._box = box
        self._cache = cache

    async def for_user(self, user_id: uuid.UUID) -> Mapping[str, ApiKey]:
        if self._cache.has_no_provider_keys(user_id):
            return {}
        mark = self._cache.mark()
        stored = await self._keys.list(user_id)
        if not stored:
            self._cache.put_no_provider_keys(user_id, mark)
        opened: dict[str, ApiKey] = {}
        for key in stored:
            try:
                opened[key.provider] = ApiKey(self._box.open(key.sealed, key_context(user_id, key.provider)))
            except SecretUnreadable:
                continue
        return opened


@dataclass(slots=True)
class RotationReport:
    rotated: int = 0
    already_current: int = 0
    unreadable: int = 0


class RotateProviderKeys:
    """Re-seals every stored key under the current master version, one user per transaction, so the server
    keeps serving meanwhile: keys not yet rotated still open while the keyring holds their old version."""

    def __init__(self, keys: ProviderKeyRepository, box: SecretBox, uow: UnitOfWork) -> None:
        self._keys = keys
        self._box = box
        self._uow = uow

    async def __call__(self) -> RotationReport:
        report = RotationReport()
        after: uuid.UUID | None = None
        while batch := await self._keys.users_with_keys(after, ROTATION_BATCH):
            for user_id in batch:
                await self._rotate(user_id, report)
            after = batch[-1]
        return report

    async def _rotate(self, user_id: uuid.UUID, report: RotationReport) -> None:
        stored = await self._keys.lock(user_id)
        kept: list[StoredProviderKey] = []
        for key in stored:
            context = key_context(user_id, key.provider)
            if key.sealed.version == self._box.current_version:
                report.already_current += 1
                kept.append(key)
                continue
            try:
                secret = self._box.open(key.sealed, context)
            except SecretUnreadable:
                report.unreadable += 1  # kept as it is: putting its master version back in the keyring revives it
                kept.append(key)
                continue
            report.rotated += 1
            kept.append(replace(key, sealed=self._box.seal(secret, context)))
        if kept != list(stored):
            await self._keys.replace(user_id, kept)
        await self._uow.commit()  # also ends the lock when nothing changed


@dataclass(frozen=True, slots=True)
class ProviderKeyCensus:
    current_version: str
    by_version: Mapping[str, int]  # master key version → how many stored keys it sealed


class CountProviderKeys:
    """How many stored keys each master version sealed: what is left to rotate before dropping a version."""

    def __init__(self, keys: ProviderKeyRepository, box: SecretBox) -> None:
        self._keys = keys
        self._box = box

    async def __call__(self) -> ProviderKeyCensus:
        counts: Counter[str] = Counter()
        after: uuid.UUID | None = None
        while batch := await self._keys.users_with_keys(after, ROTATION_BATCH):
            for user_id in batch:
                counts.update(k.sealed.version for k in await self._keys.list(user_id))
            after = batch[-1]
        return ProviderKeyCensus(self._box.current_version, dict(counts))
