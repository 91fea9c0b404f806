"""Wire formats from botocore's service models (the same models the AWS SDKs are generated from).

Handlers work on plain dicts keyed by the models' member names (`FindingCriteria`,
`analyzerArn`...), with `datetime` timestamps. This module turns request bodies into such dicts
and such dicts into response bodies, shape by shape, for the protocols the emulator serves:

- `json`      awsJson 1.0/1.1 (Config, sso-admin, identitystore; boto3's CloudWatch)
- `rest-json` REST-JSON (Access Analyzer, GuardDuty): routes and body from the model's http traits
- `cbor`      Smithy RPC v2 CBOR (the Rust SDK's CloudWatch)

Timestamps follow each shape's `timestampFormat` (Access Analyzer: ISO 8601) or the protocol's
default (epoch seconds in JSON, tag 1 in CBOR); blobs are base64 in JSON, byte strings in CBOR.
Members that a shape does not declare are dropped from responses, so a handler cannot send a
field the SDKs would not expect.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import re

import botocore.session

_session = botocore.session.get_session()
UTC = _dt.timezone.utc


@functools.lru_cache(maxsize=None)
def model(service: str):
    return _session.get_service_model(service)


def operation(service: str, op: str):
    return model(service).operation_model(op)


def parse_time(value) -> _dt.datetime:
    """A datetime from a datetime, epoch seconds, or an ISO 8601 string."""
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _dt.datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            return _dt.datetime.fromtimestamp(float(text), tz=UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def iso(value) -> str:
    """ISO 8601 with milliseconds and Z, as AWS writes it."""
    t = parse_time(value).astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _time_to_wire(value, shape, protocol: str):
    t = parse_time(value)
    if protocol == "cbor":
        return t
    fmt = shape.serialization.get("timestampFormat")
    if fmt == "iso8601":
        return iso(t)
    if fmt == "rfc822":
        return t.strftime("%a, %d %b %Y %H:%M:%S GMT")
    seconds = t.timestamp()
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def to_wire(value, shape, protocol: str):
    """A response value keyed by member names -> the wire representation of `shape`."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            if name not in value or value[name] is None:
                continue
            if member.serialization.get("location") in ("header", "headers", "statusCode"):
                continue
            out[member.serialization.get("name", name)] = to_wire(value[name], member, protocol)
        return out
    if kind == "list":
        return [to_wire(v, shape.member, protocol) for v in value]
    if kind == "map":
        return {str(k): to_wire(v, shape.value, protocol) for k, v in value.items()}
    if kind == "timestamp":
        return _time_to_wire(value, shape, protocol)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "boolean":
        return bool(value) if not isinstance(value, str) else value.lower() == "true"
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return raw if protocol == "cbor" else base64.b64encode(raw).decode()
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    return value


def from_wire(value, shape, protocol: str):
    """A request value in wire form -> keyed by member names, timestamps as datetimes."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ValueError(f"expected an object for {shape.name}")
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        out = {}
        for key, v in value.items():
            if key in by_wire:
                name, member = by_wire[key]
                out[name] = from_wire(v, member, protocol)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise ValueError(f"expected a list for {shape.name}")
        return [from_wire(v, shape.member, protocol) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise ValueError(f"expected a map for {shape.name}")
        return {k: from_wire(v, shape.value, protocol) for k, v in value.items()}
    if kind == "timestamp":
        return parse_time(value)
    if kind == "blob":
        return value if isinstance(value, bytes) else base64.b64decode(value)
    return value


# ---------------------------------------------------------------------------------------------
# REST-JSON routing


@functools.lru_cache(maxsize=None)
def _routes(service: str):
    routes = []
    m = model(service)
    for op in m.operation_names:
        http = m.operation_model(op).http
        uri = http.get("requestUri", "/").split("?", 1)[0]
        pattern = ""
        literal = 0
        for piece in re.split(r"(\{[^}]+\})", uri):
            if piece.startswith("{"):
                name = piece[1:-1]
                greedy = name.endswith("+")
                name = name.rstrip("+")
                pattern += f"(?P<{name}>{'.+' if greedy else '[^/]+'})"
            else:
                pattern += re.escape(piece)
                literal += len(piece)
        routes.append((literal, http.get("method", "POST"), re.compile(f"^{pattern}/?$"), op))
    routes.sort(key=lambda r: -r[0])
    return routes


def match_rest(service: str, method: str, path: str):
    """(operation name, uri params) of a REST request, or (None, {})."""
    for _, verb, regex, op in _routes(service):
        if verb != method:
            continue
        found = regex.match(path)
        if found:
            return op, found.groupdict()
    return None, {}


def _scalar(text: str, shape):
    kind = shape.type_name
    if kind in ("integer", "long"):
        return int(text)
    if kind == "boolean":
        return text.lower() == "true"
    if kind in ("double", "float"):
        return float(text)
    if kind == "timestamp":
        return parse_time(text)
    return text


def rest_input(service: str, op: str, uri_params: dict, query: dict, headers, body: dict):
    """The input of a REST-JSON call keyed by member names (query: name -> list of values)."""
    from urllib.parse import unquote

    shape = operation(service, op).input_shape
    if shape is None:
        return {}
    params = {}
    body_members = {}
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri" and wire in uri_params:
            params[name] = _scalar(unquote(uri_params[wire]), member)
        elif where == "querystring" and wire in query:
            values = query[wire]
            if member.type_name == "list":
                params[name] = [_scalar(v, member.member) for v in values]
            else:
                params[name] = _scalar(values[0], member)
        elif where == "header":
            if headers.get(wire) is not None:
                params[name] = _scalar(headers.get(wire), member)
        elif where is None:
            body_members[wire] = (name, member)
    for key, value in (body or {}).items():
        if key in body_members:
            name, member = body_members[key]
            params[name] = from_wire(value, member, "rest-json")
    return params
