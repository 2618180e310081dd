from __future__ import annotations

from typing import Any

from litestar import Request


def client_ip(request: Request[Any, Any, Any], trusted_proxy_hops: int) -> str:
    """The caller's address. X-Forwarded-For is believed only for as many hops as we run proxies ourselves."""
    if trusted_proxy_hops > 0:
        forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if len(forwarded) >= trusted_proxy_hops:
            return forwarded[-trusted_proxy_hops]
    return request.client.host if request.client else "unknown"
