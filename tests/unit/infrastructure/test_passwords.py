from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

from infrastructure.security.passwords import Argon2PasswordHasher


async def test_real_parameters_hash_with_argon2id_and_verify() -> None:
    hasher = Argon2PasswordHasher(memory_kib=19456, time_cost=2, concurrency=2)
    digest = await hasher.hash("violet kettle umbrella")
    assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await hasher.verify(digest, "violet kettle umbrella")
    assert not await hasher.verify(digest, "violet kettle umbrellA")
    assert not await hasher.verify("not a hash", "anything")
    assert not await hasher.verify(None, "violet kettle umbrella")  # unknown user: always False


async def test_hashing_runs_off_the_event_loop() -> None:
    hasher = Argon2PasswordHasher(memory_kib=19456, time_cost=2, concurrency=2)
    task = asyncio.create_task(hasher.hash("violet kettle umbrella"))
    await asyncio.sleep(0)  # one loop step: a hash computed on the loop would be finished by now
    assert not task.done()
    await task


async def test_no_more_than_the_cap_hash_at_once() -> None:
    hasher = Argon2PasswordHasher(memory_kib=256, time_cost=1, concurrency=2)
    running, peak = 0, 0
    real_hash = hasher._argon2.hash
    lock = threading.Lock()

    def counting_hash(password: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return real_hash(password)

    hasher._argon2 = SimpleNamespace(hash=counting_hash)  # type: ignore[assignment]
    await asyncio.gather(*(hasher.hash(f"password number {n}") for n in range(8)))
    assert peak == 2


def test_weaker_old_hashes_are_flagged_for_rehash() -> None:
    old = Argon2PasswordHasher(memory_kib=256, time_cost=1, concurrency=1)
    new = Argon2PasswordHasher(memory_kib=19456, time_cost=2, concurrency=1)
    weak = asyncio.run(old.hash("violet kettle umbrella"))
    assert new.needs_rehash(weak)


async def test_a_flood_of_hashes_is_refused_instead_of_queued_without_end() -> None:
    from application.errors import ServiceBusy

    hasher = Argon2PasswordHasher(memory_kib=256, time_cost=1, concurrency=1)
    outcomes = await asyncio.gather(*(hasher.hash(f"password {n}") for n in range(40)), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, ServiceBusy)]
    assert len(refused) == 40 - 32  # 32 may wait per slot
    assert all(isinstance(o, str) for o in outcomes if o not in refused)
