"""Interactive API docs from our own package: Swagger UI files ship with Scribe, so /docs works offline."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).resolve().parent.parent / "docs_assets"
_INDEX = (ASSETS / "index.html").read_bytes()


@get("/docs", include_in_schema=False, media_type="text/html")
async def docs_page() -> Response[bytes]:
    return Response(_INDEX, media_type="text/html")


docs_assets = create_static_files_router(
    path="/docs/assets", directories=[ASSETS], include_in_schema=False, name="docs_assets"
)
