"""Request bodies: parsed from JSON, a multipart form or a urlencoded form, and validated against
the view's Colander schema (a Cornice validator), one message per offending field."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import colander

from ..schemas import for_mode
from ..web.errors import APIError, invalid, too_large
from ..web.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH

JSON_TYPES = ("application/json",)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _walk(value):
    """(item, depth) for every value, key and container in parsed JSON (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        yield item, depth
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def json_depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value."""
    return max((depth for item, depth in _walk(value) if isinstance(item, (dict, list))), default=0)


def unstorable_fields(data: dict) -> dict[str, str]:
    """For each field holding a string that cannot be stored and sent back as UTF-8 JSON: why."""
    problems = {}
    for key, value in data.items():
        problem = unstorable_text(key) or unstorable_text(value)
        if problem:
            # The key itself may be the culprit: name it in a form that can be sent back.
            problems[key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")] = problem
    return problems


def unstorable_text(value) -> str | None:
    """Why some string in `value` cannot be stored and sent back as UTF-8 JSON, if one cannot."""
    for item, _ in _walk(value):
        if isinstance(item, str):
            if "\x00" in item:
                return "Text must not contain NUL characters."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Text must be valid Unicode (no lone surrogates)."
    return None


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text}")
    return number


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _has_body(request) -> bool:
    # Without reading it: `request.body` would hold a whole upload in memory.
    if request.content_length is not None:
        return request.content_length > 0
    return request.is_body_readable and bool(request.body)


def parse_body(request, files: frozenset = frozenset()) -> dict:
    """The request body as a dict of fields, from JSON, a multipart form or a urlencoded form.

    The fields named in `files` take a file part of a multipart form (and nothing else)."""
    content_type = (request.content_type or "").lower()
    if not _has_body(request) and content_type in ("",) + FORM_TYPES + JSON_TYPES:
        return {}
    if content_type in JSON_TYPES or content_type.endswith("+json"):
        try:
            text = request.body.decode(request.charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            raise invalid({"body": "The body is not text in the charset it declares (use UTF-8)."}) from None
        try:
            data = json.loads(text, parse_float=_finite, parse_constant=_no_constants)
        except ValueError as exc:
            raise invalid({"body": f"Malformed JSON: {exc}"}) from None
        except RecursionError:
            raise invalid({"body": "The JSON is nested too deeply."}) from None
        if not isinstance(data, dict):
            raise invalid({"body": "Must be a JSON object."})
        max_depth = int(request.registry.settings.get("hyperapi.max_json_depth", DEFAULT_MAX_JSON_DEPTH))
        if json_depth(data) > max_depth:
            raise invalid({"body": f"The JSON is nested more than {max_depth} levels deep."})
        problems = unstorable_fields(data)
        if problems:
            raise invalid(problems)
        return data
    if content_type in FORM_TYPES:
        if not files:
            # Only uploads may use the larger limit a multipart body gets past the limits tween.
            max_body = int(request.registry.settings.get("hyperapi.max_body_bytes", DEFAULT_MAX_BODY_BYTES))
            if (request.content_length or 0) > max_body:
                raise too_large(max_body)
        try:
            form = request.POST
            keys = list(dict.fromkeys(form.keys()))
        except Exception:  # webob/cgi raise assorted errors on a cut-off or malformed body
            raise invalid({"body": "Malformed form body."}) from None
        data, errors = {}, {}
        for key in keys:
            values = form.getall(key)
            if len(values) > 1:
                errors[key] = "Send this field once."
            elif not isinstance(values[0], str) and key not in files:
                errors[key] = "Files are not accepted in this field."
            else:
                data[key] = values[0]
        errors.update(unstorable_fields({k: v for k, v in data.items() if k not in files}))
        if errors:
            raise invalid(errors)
        return data
    raise APIError(415, f"Unsupported media type {content_type!r}: send application/json or a form.")


@dataclass(frozen=True)
class Body:
    """How a view's body is validated: which schema, in which mode, with which read-only fields.

    `current` gives the values read-only fields must keep (for PUT/PATCH, the entity's
    representation; for POST, the links the new entity will have), so a representation fetched with
    GET can be sent back as it is. A frozenset there lists every spelling accepted for the value."""

    schema: Callable[[], colander.SchemaNode]
    mode: str
    readonly: frozenset = frozenset()
    current: Callable | None = None
    files: frozenset = frozenset()  # fields that take an uploaded file (multipart/form-data only)
    # For a body that can be one of several kinds: picks the spec from the fields sent.
    variant: Callable[[dict], Body] | None = None


def _unchanged(sent, current) -> bool:
    """`current` is the value a read-only field has, or a frozenset of the values it may be sent as."""
    if isinstance(current, frozenset):
        return isinstance(sent, str) and sent in current
    if sent == current:
        return True
    # A form body carries every value as text.
    return isinstance(sent, str) and not isinstance(current, str) and sent == json.dumps(current)


def validate_body(request, **kwargs):
    """Cornice validator: fills `request.validated`, or `request.errors` with one message per field."""
    spec: Body = kwargs["schema"]
    data = parse_body(request, spec.files)
    if spec.variant is not None:
        spec = spec.variant(data)
    uploads = {key: data.pop(key) for key in spec.files if key in data and not isinstance(data[key], str)}
    schema = spec.schema()
    known = {child.name for child in schema.children}
    current = spec.current(request) if spec.current else {}
    errors = {}
    for key in list(data):
        if key in known:
            continue
        if key in spec.readonly or key in current:
            if key in current and _unchanged(data[key], current[key]):
                del data[key]
            elif key in spec.files:
                errors[key] = "Send the file's bytes as a file part of a multipart/form-data body."
            else:
                errors[key] = "This field is read-only."
        else:
            errors[key] = "Unknown field."
    data = {key: value for key, value in data.items() if key in known}
    schema = for_mode(schema, spec.mode, set(data))
    try:
        request.validated = {**schema.deserialize(data), **uploads}
    except colander.Invalid as exc:
        for name, message in exc.asdict().items():
            errors.setdefault(name or "body", message)
    for name, message in errors.items():
        request.errors.add("body", name, message)


def error_handler(request):
    errors = {error["name"]: error["description"] for error in request.errors}
    return invalid(errors, status=request.errors.status)


def validate_write_query(request, **kwargs):
    """A write takes no query parameters: one sent is a mistake, never silently ignored."""
    for key in request.GET.keys():
        request.errors.add("querystring", key, "Unknown query parameter.")
