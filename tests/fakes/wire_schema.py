"""What a strict structured-output provider checks, from the request it received and nothing else.

Two checks, both independent of Scribe's own types:
- `strict_schema_problem`: the schema must sit in the subset strict mode compiles (OpenAI's `strict: true`
  response_format, Anthropic's `strict: true` tools): an object at the root, every object closed
  (`additionalProperties: false`) with every property required, only the keywords below, local `$ref`s only.
- `answer_problem`: an answer must be valid under the schema, checked by a real JSON-Schema validator. A strict
  provider can only emit such answers, so a fake asked to return anything else refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

# The keywords both providers' strict modes document as supported (annotations included). Length, range, pattern
# and count constraints, composition beyond anyOf, and conditionals are refused by at least one of them.
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "description",
        "title",
        "$defs",
        "$ref",
    }
)
_SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean", "null", "object", "array"})


def strict_schema_problem(schema: Any) -> str | None:
    """None when a strict provider accepts the schema, else its complaint (in the providers' own style)."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "In context=(), schema must be a JSON Schema of 'type: \"object\"'"
    for path, node in _subschemas(schema, ()):
        problem = _node_problem(node)
        if problem:
            return f"In context={path}, {problem}"
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as error:  # jsonschema.SchemaError: the schema is not even valid JSON Schema
        return f"invalid JSON schema: {getattr(error, 'message', error)}"
    return None


def answer_problem(schema: dict[str, Any], answer: Any) -> str | None:
    """None when `answer` is valid under `schema`, else where and why it is not."""
    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(answer), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def _node_problem(node: dict[str, Any]) -> str | None:
    unknown = sorted(set(node) - STRICT_KEYWORDS)
    if unknown:
        return f"'{unknown[0]}' is not permitted."
    ref = node.get("$ref")
    if ref is not None and not str(ref).startswith("#/$defs/"):
        return f"'$ref' must point into '#/$defs', not {ref!r}."
    types = node.get("type")
    for kind in types if isinstance(types, list) else [types] if types is not None else []:
        if kind not in _SCALAR_TYPES:
            return f"type {kind!r} is not supported."
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return "'additionalProperties' is required to be supplied and to be false."
        properties = list(node.get("properties", {}))
        missing = [name for name in properties if name not in (node.get("required") or [])]
        if missing:
            return (
                "'required' is required to be supplied and to be an array including every key in properties. "
                f"Missing '{missing[0]}'."
            )
    return None


def _subschemas(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    if not isinstance(node, dict):
        return
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from _subschemas(child, (*path, "properties", name))
    for name, child in (node.get("$defs") or {}).items():
        yield from _subschemas(child, (*path, "$defs", name))
    if isinstance(node.get("items"), dict):
        yield from _subschemas(node["items"], (*path, "items"))
    for index, child in enumerate(node.get("anyOf") or []):
        yield from _subschemas(child, (*path, "anyOf", str(index)))


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Every value a strict schema allows, read from the schema alone (hypothesis-jsonschema 0.23 does not run on
    current hypothesis; the strict subset is small enough to walk here)."""
    definitions = schema.get("$defs", {})

    def of(node: dict[str, Any]) -> st.SearchStrategy[Any]:
        if "$ref" in node:
            return st.deferred(lambda: of(definitions[node["$ref"].rsplit("/", 1)[-1]]))
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        if "anyOf" in node:
            return st.one_of([of(option) for option in node["anyOf"]])
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([of({**node, "type": one}) for one in kind])
        if kind == "object":
            return st.fixed_dictionaries({name: of(child) for name, child in node.get("properties", {}).items()})
        if kind == "array":
            return st.lists(of(node.get("items", {})), max_size=8)
        scalars: dict[str | None, st.SearchStrategy[Any]] = {
            "string": st.text(max_size=40),
            "number": st.floats(allow_nan=False, allow_infinity=False),
            "integer": st.integers(),
            "boolean": st.booleans(),
            "null": st.none(),
        }
        return scalars[kind]

    return of(schema)
