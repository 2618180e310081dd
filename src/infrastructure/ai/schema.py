"""JSON schemas in the form strict structured outputs accept: no `$ref`, every object closed and fully required."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class StrictSchemas:
    """Per output kind, converted once: the conversion costs more than the rest of building a request."""

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[str, Any]] = {}

    def __call__(self, kind: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = strict_schema(schema)
        return found


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
        out = {key: resolve(value) for key, value in node.items() if key not in ("$defs", "title")}
        if out.get("type") == "object":
            out["additionalProperties"] = False
            out["required"] = list(out.get("properties", {}))
        return out

    return resolve(dict(schema))  # type: ignore[no-any-return]
