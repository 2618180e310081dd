"""The baseline for bench/http_bench.py: a bare Litestar app, one GET route, a small JSON body.

`python bench/baseline_app.py PORT` serves it with granian exactly as `scribe serve` serves the real app
(ASGI, one worker, no access log) on 127.0.0.1.
"""

from __future__ import annotations

import sys
from typing import Any

from litestar import Litestar, get


@get("/ping")
async def ping() -> dict[str, Any]:
    return {"success": True, "data": {"ok": True}}


app = Litestar(route_handlers=[ping], debug=False, logging_config=None)


def serve(target: str, port: int) -> None:
    """The same granian set-up as `scribe serve` (src/interfaces/cli/main.py), with one worker."""
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    Server(
        target,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        log_access=False,
        log_enabled=True,
    ).serve()


if __name__ == "__main__":
    serve("baseline_app:app", int(sys.argv[1]))
