"""JSON schemas in the form strict structured outputs accept: no `$ref`, every object closed and fully required.

Only schema *annotations* are dropped (`title`); the names inside `properties` are data, so a property that happens
to be called `title` (a topic's, a note's) stays."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_ANNOTATIONS_DROPPED = ("$defs", "title")


ANSWER_TOOL = "outputs"  # the name of the answer's tool (Anthropic) or json_schema (OpenAI), the same on every call


class StrictSchemas:
    """Per answer schema (the outputs it holds), converted once: the conversion costs more than the rest of building
    a request."""

    def __init__(self) -> None:
        self._by_outputs: dict[tuple[str, ...], dict[str, Any]] = {}

    def __call__(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        outputs = tuple(schema["properties"])
        found = self._by_outputs.get(outputs)
        if found is None:
            found = self._by_outputs[outputs] = strict_schema(schema)
        return found


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    definitions = schema.get("$defs", {})

    def subschema(node: Any) -> Any:
        if isinstance(node, list):
            return [subschema(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        if "$ref" in node:
            return subschema(definitions[node["$ref"].rsplit("/", 1)[-1]])
        out: dict[str, Any] = {}
        for keyword, value in node.items():
            if keyword in _ANNOTATIONS_DROPPED:
                continue
            if keyword == "properties":  # name → schema: the names are kept whatever they are
                out[keyword] = {name: subschema(child) for name, child in value.items()}
            else:
                out[keyword] = subschema(value)
        if out.get("type") == "object":
            out["additionalProperties"] = False
            out["required"] = list(out.get("properties", {}))
        return out

    return subschema(dict(schema))  # type: ignore[no-any-return]
