"""The WSGI middleware in front of moto: it answers the calls moto lacks and passes the rest on.

A request is identified from its SigV4 credential scope (service and region), its access key
(the account, looked up the way moto does it), and its protocol: `X-Amz-Target` (awsJson),
`/service/<S>/operation/<Op>` with `smithy-protocol: rpc-v2-cbor` (CBOR), the route of a
REST-JSON operation in botocore's model, or the query `Action`. A handler registered for
(service, operation) answers it; everything else goes to moto unchanged. Handlers may call
moto themselves (`Ctx.forward`) and rewrite its answer.

Private endpoints (never AWS's): `POST /soc2-emulator/seed` (see `state.py` for the body) and
`GET /soc2-emulator/state` (a JSON dump for debugging). `POST /moto-api/reset` resets moto and
the emulator's own state.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
import traceback
import uuid
from urllib.parse import parse_qs

import cbor
import shapes
from state import STATE

SIGNING_NAMES = {
    "access-analyzer": "accessanalyzer",
    "guardduty": "guardduty",
    "monitoring": "cloudwatch",
    "config": "config",
    "sso": "sso-admin",
    "identitystore": "identitystore",
    "iam": "iam",
    "cloudtrail": "cloudtrail",
}
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
DEFAULT_ACCOUNT = "123456789012"


class ApiError(Exception):
    """An AWS error answer: code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Raw:
    """A complete HTTP answer (status, headers, body) returned as is."""

    def __init__(self, status: int, headers: list, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body


def page(items: list, token, limit, *, default: int, maximum: int,
         token_error: str = "ValidationException", limit_error: str = "ValidationException"):
    """One page of `items` from an opaque token; returns (page, next token or None).

    `limit` is the caller's MaxResults (None: `default`), checked against 1..`maximum` as AWS
    does; the seeded setting `max_page_size` makes every page at most that long (to test
    paging against a few seeded items)."""
    if limit is None:
        limit = default
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1 or limit > maximum:
        raise ApiError(limit_error, f"the maximum number of results must be between 1 and {maximum}")
    cap = STATE.max_page_size()
    if cap:
        limit = min(limit, cap)
    start = 0
    if token:
        try:
            kind, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
            start = int(offset)
            if kind != "soc2-emu" or start < 0 or start > len(items):
                raise ValueError(token)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(token_error, f"the pagination token {token!r} is not valid") from None
    end = start + limit
    following = None
    if end < len(items):
        following = base64.urlsafe_b64encode(f"soc2-emu:{end}".encode()).decode()
    return items[start:end], following


class Ctx:
    """One request, as a handler sees it."""

    def __init__(self, app, environ, body: bytes):
        self.app = app
        self.environ = environ
        self.body = body
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "/") or "/"
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        found = CREDENTIAL.search(self.headers.get("authorization", ""))
        self.access_key, self.region, self.signing = found.groups() if found else (None, None, None)
        self.service = SIGNING_NAMES.get(self.signing or "")
        self.region = self.region or "us-east-1"
        self.protocol = None
        self.op = None
        self.params: dict = {}

    @property
    def account(self) -> str:
        """The account moto would serve this request from."""
        if os.environ.get("MOTO_ACCOUNT_ID"):
            return os.environ["MOTO_ACCOUNT_ID"]
        if self.headers.get("x-moto-account-id"):
            return self.headers["x-moto-account-id"]
        if self.access_key:
            from moto.iam.models import get_account_id_from

            return get_account_id_from(self.access_key)
        return DEFAULT_ACCOUNT

    def forward(self, body: bytes | None = None, **environ_overrides) -> Raw:
        """Call moto with this request (or a changed one) and capture its answer."""
        return self.app.call_moto(self.environ, self.body if body is None else body, environ_overrides)

    def moto_json(self, target: str, payload: dict) -> tuple[int, dict]:
        """Call moto in the awsJson protocol; (status, decoded body)."""
        raw = self.forward(
            json.dumps(payload).encode(),
            PATH_INFO="/",
            QUERY_STRING="",
            REQUEST_METHOD="POST",
            CONTENT_TYPE="application/x-amz-json-1.0",
            HTTP_X_AMZ_TARGET=target,
        )
        try:
            decoded = json.loads(raw.body or b"{}")
        except ValueError:
            decoded = {"__type": "InternalFailure", "message": raw.body[:200].decode(errors="replace")}
        return raw.status, decoded


class Emulator:
    def __init__(self, moto_app, handlers: dict):
        self.moto = moto_app
        self.handlers = handlers

    # -- moto --------------------------------------------------------------------------------

    def call_moto(self, environ, body: bytes, overrides: dict) -> Raw:
        env = {k: v for k, v in environ.items() if not k.startswith("werkzeug.")}
        env.update(overrides)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        captured = {}
        chunks: list[bytes] = []

        def start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return chunks.append

        result = self.moto(env, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Raw(int(captured["status"].split()[0]), list(captured["headers"]), b"".join(chunks))

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        body = _read_body(environ)
        ctx = Ctx(self, environ, body)
        try:
            answer = self.dispatch(ctx)
        except Exception:  # noqa: BLE001 - an emulator bug must answer 500 and be visible in the log
            traceback.print_exc(file=sys.stderr)
            answer = self.error(ctx, ApiError("InternalFailure", "soc2 test emulator error; see its log", 500))
        if answer is None:
            return self.passthrough(environ, body, start_response)
        return _respond(start_response, answer)

    def passthrough(self, environ, body, start_response):
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.moto(environ, start_response)

    def dispatch(self, ctx: Ctx):
        if ctx.path.startswith("/soc2-emulator/"):
            return self.private(ctx)
        if ctx.path.rstrip("/") == "/moto-api/reset" and ctx.method == "POST":
            answer = ctx.forward()
            STATE.reset()
            return answer
        if ctx.service is None:
            return None
        try:
            if not self.identify(ctx):
                return None
            handler = self.handlers.get((ctx.service, ctx.op)) or self.handlers.get((ctx.service, "*"))
            if handler is None:
                if ctx.service == "accessanalyzer":
                    raise ApiError("NotImplementedException",
                                   f"the soc2 test emulator does not serve Access Analyzer {ctx.op}", 501)
                return None
            result = handler(ctx)
        except ApiError as e:
            return self.error(ctx, e)
        if result is None or isinstance(result, Raw):
            return result
        return self.success(ctx, result)

    def identify(self, ctx: Ctx) -> bool:
        """Sets protocol, op and params; False when the call is moto's business."""
        target = ctx.headers.get("x-amz-target")
        cbor_route = CBOR_PATH.match(ctx.path)
        if cbor_route and ctx.headers.get("smithy-protocol") == "rpc-v2-cbor":
            ctx.protocol, ctx.op = "cbor", cbor_route.group(2)
            raw = cbor.decode(ctx.body) if ctx.body else {}
            ctx.params = self.decode_input(ctx, raw)
            return True
        if target:
            ctx.protocol, ctx.op = "json", target.rsplit(".", 1)[-1]
            raw = json.loads(ctx.body or b"{}")
            ctx.params = self.decode_input(ctx, raw)
            return True
        protocol = shapes.model(ctx.service).protocol
        if protocol == "rest-json":
            op, uri = shapes.match_rest(ctx.service, ctx.method, ctx.path)
            ctx.protocol, ctx.op = "rest-json", op or f"{ctx.method} {ctx.path}"
            if op:
                try:
                    raw = json.loads(ctx.body) if ctx.body else {}
                    ctx.params = shapes.rest_input(ctx.service, op, uri, ctx.query, ctx.headers, raw)
                except ValueError as e:
                    raise ApiError("ValidationException", f"cannot read the request: {e}") from None
            return True
        if protocol == "query":
            form = parse_qs(ctx.body.decode(errors="replace")) if ctx.body else ctx.query
            ctx.protocol, ctx.op = "query", (form.get("Action") or [None])[0]
            ctx.params = {k: v[0] for k, v in form.items()}
            return True
        return False

    def decode_input(self, ctx: Ctx, raw) -> dict:
        try:
            shape = shapes.operation(ctx.service, ctx.op).input_shape
        except Exception:  # noqa: BLE001 - an operation botocore does not know: moto's business
            return raw if isinstance(raw, dict) else {}
        if shape is None:
            return {}
        try:
            return shapes.from_wire(raw, shape, ctx.protocol)
        except ValueError as e:
            raise ApiError("ValidationException" if ctx.protocol != "cbor" else "ValidationError",
                           f"cannot read the request: {e}") from None

    # -- answers -----------------------------------------------------------------------------

    def success(self, ctx: Ctx, result: dict) -> Raw:
        op = shapes.operation(ctx.service, ctx.op)
        shape = op.output_shape
        body = shapes.to_wire(result, shape, ctx.protocol) if shape is not None else {}
        request_id = str(uuid.uuid4())
        if ctx.protocol == "cbor":
            return Raw(200, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                             ("x-amzn-RequestId", request_id)], cbor.encode(body))
        if ctx.protocol == "rest-json":
            status = op.http.get("responseCode", 200)
            return Raw(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)],
                       json.dumps(body).encode())
        version = shapes.model(ctx.service).metadata.get("jsonVersion", "1.1")
        return Raw(200, [("Content-Type", f"application/x-amz-json-{version}"), ("x-amzn-RequestId", request_id)],
                   json.dumps(body).encode())

    def error(self, ctx: Ctx, e: ApiError) -> Raw:
        request_id = str(uuid.uuid4())
        if ctx.protocol == "cbor":
            namespace = "com.amazonaws." + (ctx.service or "unknown").replace("-", "")
            body = cbor.encode({"__type": f"{namespace}#{e.code}", "message": e.message})
            fault = "Sender" if e.status < 500 else "Receiver"
            return Raw(e.status, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                                  ("x-amzn-query-error", f"{e.code};{fault}"), ("x-amzn-RequestId", request_id)], body)
        if ctx.protocol == "query":
            fault = "Sender" if e.status < 500 else "Receiver"
            xml = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>{fault}</Type>'
                   f"<Code>{e.code}</Code><Message>{_xml_escape(e.message)}</Message></Error>"
                   f"<RequestId>{request_id}</RequestId></ErrorResponse>")
            return Raw(e.status, [("Content-Type", "text/xml")], xml.encode())
        content_type = "application/json" if ctx.protocol == "rest-json" else "application/x-amz-json-1.1"
        body = json.dumps({"__type": e.code, "message": e.message, "Message": e.message}).encode()
        return Raw(e.status, [("Content-Type", content_type), ("x-amzn-ErrorType", e.code),
                              ("x-amzn-RequestId", request_id)], body)

    # -- private endpoints -------------------------------------------------------------------

    def private(self, ctx: Ctx) -> Raw:
        headers = [("Content-Type", "application/json")]
        if ctx.path.rstrip("/") == "/soc2-emulator/seed" and ctx.method == "POST":
            try:
                document = json.loads(ctx.body or b"{}")
                result = STATE.seed(document)
            except (ValueError, KeyError, TypeError) as e:
                return Raw(400, headers, json.dumps({"error": f"bad seed document: {e}"}).encode())
            return Raw(200, headers, json.dumps(result, default=str).encode())
        if ctx.path.rstrip("/") == "/soc2-emulator/state" and ctx.method == "GET":
            return Raw(200, headers, json.dumps(STATE.dump(), default=str, indent=1).encode())
        return Raw(404, headers, json.dumps({"error": f"no such emulator endpoint: {ctx.method} {ctx.path}"}).encode())


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _read_body(environ) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            return stream.read(int(length))
        except ValueError:
            return b""
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _respond(start_response, answer: Raw):
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
               429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented"}
    headers = [(k, v) for k, v in answer.headers if k.lower() not in ("content-length", "transfer-encoding")]
    headers.append(("Content-Length", str(len(answer.body))))
    start_response(f"{answer.status} {reasons.get(answer.status, 'Status')}", headers)
    return [answer.body]
