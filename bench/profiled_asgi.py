"""The Scribe ASGI app behind two control routes that start and stop a profiler inside the server process, for
`bench/process_bench.py --profile`.

    PYTHONPATH=bench .venv/bin/python bench/profiled_asgi.py --port 8000

Serves `interfaces.http.asgi:app` under granian exactly as `scribe serve` does (one worker, no access log), with
`GET /__bench/profile/start` and `GET /__bench/profile/stop` answered before the app sees them. The profiler
(`BENCH_PROFILER`: `pyinstrument`, the default, or `cprofile`) runs in the worker's event-loop thread, where every
line of the app's Python runs; `stop` writes the result to `BENCH_PROFILE_OUT` (a pyinstrument session or a
cProfile stats file) and answers once it is written. Every other request goes to the app untouched."""

from __future__ import annotations

import argparse
import os
from typing import Any

_CONTROL = "/__bench/profile/"
_state: dict[str, Any] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"].startswith(_CONTROL):
        status, text = _control(scope["path"].removeprefix(_CONTROL))
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})
        return
    await _scribe_app(scope, receive, send)


def _control(action: str) -> tuple[int, str]:
    kind = os.environ.get("BENCH_PROFILER", "pyinstrument")
    if action == "start" and "profiler" not in _state:
        if kind == "cprofile":
            import cProfile

            profiler: Any = cProfile.Profile()
            profiler.enable()
        else:
            from pyinstrument import Profiler

            # "disabled": sample the whole loop thread (every task), not just the task that started the profiler.
            profiler = Profiler(interval=0.001, async_mode="disabled")
            profiler.start()
        _state["profiler"] = profiler
        return 200, "started"
    if action == "stop" and "profiler" in _state:
        profiler = _state.pop("profiler")
        out = os.environ["BENCH_PROFILE_OUT"]
        if kind == "cprofile":
            profiler.disable()
            profiler.dump_stats(out)
        else:
            profiler.stop().save(out)
        return 200, "stopped"
    return 409, f"cannot {action} now"


def main() -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    # The same server set-up as `scribe serve` (src/interfaces/cli/main.py), with this module as the target.
    Server(
        "profiled_asgi:app",
        address=options.host,
        port=options.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        log_access=False,
        log_enabled=True,
    ).serve()


if __name__ == "__main__":
    main()
else:  # imported by the granian worker: only there is the app built, as `scribe serve` builds it
    from interfaces.http.asgi import app as _scribe_app
