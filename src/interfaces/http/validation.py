"""Report every bad field of a JSON body at once (msgspec stops at the first)."""

from __future__ import annotations

from typing import Any

import msgspec

from interfaces.http.envelope import FieldErrorView


def field_errors(struct_type: type[msgspec.Struct], payload: Any) -> list[FieldErrorView]:
    if not isinstance(payload, dict):
        return [FieldErrorView("body", "must be a JSON object")]
    errors: list[FieldErrorView] = []
    fields = msgspec.structs.fields(struct_type)
    known = {f.encode_name for f in fields}
    for field in fields:
        if field.encode_name not in payload:
            if field.required:
                errors.append(FieldErrorView(field.encode_name, "is required"))
            continue
        try:
            msgspec.convert(payload[field.encode_name], field.type)
        except msgspec.ValidationError as error:
            errors.append(FieldErrorView(_path(field.encode_name, str(error)), _message(str(error))))
    if struct_type.__struct_config__.forbid_unknown_fields:
        errors += [FieldErrorView(name, "is not a known field") for name in payload if name not in known]
    return errors


def _message(text: str) -> str:
    message = text.split(" - at `", 1)[0]
    return message[:1].lower() + message[1:]


def _path(name: str, text: str) -> str:
    _, sep, rest = text.partition(" - at `$")
    return name + rest.rstrip("`") if sep else name
