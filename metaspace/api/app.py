"""The agent peer's local control API: a Starlette app over an :class:`AgentService`.

Served by hypercorn's trio worker on 127.0.0.1 (by the peer; not here). Every request must carry
``Authorization: Bearer <token>`` (compared in constant time) or it is refused with 401 — except
``GET /``, the web page shell, which holds no data and whose own API calls need the token (the page
gets it from the URL fragment ``#token=...``, which browsers never send to a server). The SSE stream
``GET /api/v1/events`` also accepts ``?access_token=`` because browsers' ``EventSource`` can't set
headers.

Errors are JSON ``{"error": code, "message": text}``: 400 bad request (validation), 401, 403 (the
guardian refused), 404, 405, 409, 413 (body over 64 KiB), 415 (body not JSON), 500, 503. Request
bodies are validated by :mod:`metaspace.api.contract` before the service sees them.

Endpoints (the spec's names where they fit)::

    GET    /                                web page shell (no token needed)
    GET    /api/v1/status                   agent status (birth answers, peer, counts)
    GET    /api/v1/settings                 the human's limits
    POST   /api/v1/intents/understand       {text, lat?, lon?} -> publish-parameters draft
    POST   /api/v1/intents/preview          publish parameters -> {published, private, warnings}
    POST   /api/v1/intents                  publish (body: publish parameters) -> intent
    POST   /api/v1/metaspace/broadcast      alias of POST /api/v1/intents
    GET    /api/v1/intents                  {"intents": [...]}
    DELETE /api/v1/intents/{id}             withdraw -> intent
    GET    /api/v1/metaspace/search?...     {"results": [...]}
    GET    /api/v1/matches                  {"matches": [...]}
    POST   /api/v1/negotiate/start          {match_id} -> deal
    GET    /api/v1/deals                    {"deals": [...]}
    POST   /api/v1/deals/{id}/approve       -> deal
    POST   /api/v1/deals/{id}/decline       -> deal
    POST   /api/v1/deals/{id}/rate          {score, as_agreed?, comment?} -> rating
    GET    /api/v1/deals/{id}/handover      the meeting after the deal (state, proposal, plan, suggestion)
    POST   /api/v1/deals/{id}/handover      {cell?, start?, end?, payment?} -> propose a meeting
    POST   /api/v1/deals/{id}/handover/confirm  {payment?} -> yes to the other side's proposal
    POST   /api/v1/deals/{id}/handover/decline  {reason?} -> no (or cancel the confirmed meeting)
    GET    /api/v1/deals/{id}/handover.ics  text/calendar of the confirmed meeting
    GET    /api/v1/intents/{id}/export?format=nip99  a signed Nostr NIP-99 listing of one of our intents
    GET    /api/v1/i18n?lang=               the web page's labels in the agent's language
    GET    /api/v1/ratings                  {"ratings": [...]} (made and received)
    GET    /api/v1/reputation/{peer}        profile, reputation and the ratings behind it
    GET    /api/v1/profile                  this agent's own published profile
    GET    /api/v1/blocks                   {"blocks": [...]}
    POST   /api/v1/blocks                   {peer} -> block
    DELETE /api/v1/blocks/{peer}            -> unblock
    GET    /api/v1/events                   text/event-stream
    GET    /api/v1/openapi.json             OpenAPI 3.1 description
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from metaspace.api.contract import (
    MAX_BODY_BYTES,
    AgentService,
    BadRequest,
    SearchParams,
    ServiceError,
    check_id,
    validate_block,
    validate_choice,
    validate_handover,
    validate_publish,
    validate_rating,
    validate_search,
    validate_understand,
)
from metaspace.api.openapi import openapi_document

__all__ = ["AgentService", "create_app"]

log = logging.getLogger("metaspace.api.app")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PAGE_SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Meta Space agent</title></head>
<body><h1>Meta Space agent</h1><p>The web page is not installed in this build.
Use the <code>metaspace</code> command.</p></body></html>
"""
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


#: The page's own assets (no inline script or style: the CSP forbids them), served without a token.
_STATIC = {
    "core.js": "text/javascript; charset=utf-8",
    "trust.js": "text/javascript; charset=utf-8",
    "lists.js": "text/javascript; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _public(scope: Scope) -> bool:
    """The page and its assets need no token (they hold no data; the API calls they make do)."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    path = str(scope.get("path", ""))
    return path == "/" or (path.startswith("/static/") and path[len("/static/") :] in _STATIC)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one error shape: ``{"error": code, "message": message}``."""
    return JSONResponse({"error": code, "message": message}, status_code=status)


class BearerAuth:
    """ASGI middleware: refuse (401) every HTTP request without the right bearer token, except ``GET /``.

    Args:
        app: the wrapped app.
        token: the expected token.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("the control API needs a non-empty token")
        self.app = app
        self.token = token.encode("utf-8")

    def _presented(self, scope: Scope) -> bytes | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, cred = value.partition(b" ")
                return cred.strip() if scheme.lower() == b"bearer" else None
        if scope.get("path") == "/api/v1/events":
            qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if qs.get("access_token"):
                return qs["access_token"][0].encode("utf-8")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _public(scope):
            await self.app(scope, receive, send)
            return
        presented = self._presented(scope)
        if presented is None or not hmac.compare_digest(presented, self.token):
            response = error_response(401, "unauthorized", "missing or wrong bearer token")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metaspace"'
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def read_json(request: Request) -> Any:
    """The request's JSON body, read at most :data:`MAX_BODY_BYTES` (an empty body is ``{}``).

    Raises:
        ServiceError: 413 too large, 415 not JSON content, 400 malformed JSON.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise ServiceError(f"request body over {MAX_BODY_BYTES} bytes", code="too_large", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ServiceError(f"request body over {MAX_BODY_BYTES} bytes", code="too_large", status=413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        raise ServiceError(
            "the request body must be application/json", code="unsupported_media_type", status=415
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from exc


Handler = Callable[[Request], Awaitable[Any]]


def _json_endpoint(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler returning JSON-able data: ServiceError -> its JSON error, anything else -> 500."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await fn(request)
            if isinstance(result, Response):
                return result
            return JSONResponse(result)
        except ServiceError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except Exception:  # an agent bug must not kill the API; it is logged with its traceback
            log.exception("control API %s %s failed", request.method, request.url.path)
            return error_response(500, "internal", "internal error in the agent peer (see its log)")

    endpoint.__name__ = fn.__name__
    return endpoint


def _query_search(request: Request) -> SearchParams:
    q = request.query_params
    body: dict[str, Any] = {}
    for key in q:
        if len(q.getlist(key)) > 1:
            raise BadRequest(f"query parameter {key!r} given more than once")
    for key, value in q.items():
        if key in ("lat", "lon"):
            try:
                body[key] = float(value)
            except ValueError as exc:
                raise BadRequest(f"{key} must be a number") from exc
        elif key in ("radius_km", "limit"):
            if not value.isdigit() or len(value) > 9:
                raise BadRequest(f"{key} must be a non-negative integer")
            body[key] = int(value)
        else:
            body[key] = value
    return validate_search(body)


def _list_of_dicts(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"AgentService.{what} must return a list, not {type(value).__name__}")
    return value


def create_app(service: AgentService, token: str, *, index_html: str | None = None) -> Starlette:
    """The control API app.

    Args:
        service: the agent peer's implementation.
        token: the bearer token every API request must present.
        index_html: the web page served at ``GET /`` (default: ``metaspace/static/index.html`` if it
            exists, else a placeholder).

    Returns:
        A Starlette ASGI app (serve it on 127.0.0.1 only).
    """
    page = index_html if index_html is not None else _default_page()

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            raise HTTPException(404)
        body = resources.files("metaspace.api").joinpath(f"static/{name}").read_bytes()
        return Response(body, media_type=_STATIC[name], headers=_PAGE_HEADERS)

    async def status(request: Request) -> Any:
        return await service.status()

    async def settings(request: Request) -> Any:
        return await service.settings()

    async def understand(request: Request) -> Any:
        req = validate_understand(await read_json(request))
        return await service.understand(req.text, req.lat, req.lon)

    async def publish(request: Request) -> Any:
        return await service.publish(validate_publish(await read_json(request)))

    async def preview(request: Request) -> Any:
        return await service.preview(validate_publish(await read_json(request)))

    async def list_intents(request: Request) -> Any:
        return {"intents": _list_of_dicts(await service.intents(), "intents")}

    async def withdraw(request: Request) -> Any:
        return await service.withdraw(check_id(request.path_params["id"], "intent id"))

    async def search(request: Request) -> Any:
        return {"results": _list_of_dicts(await service.search(_query_search(request)), "search")}

    async def matches(request: Request) -> Any:
        return {"matches": _list_of_dicts(await service.matches(), "matches")}

    async def negotiate(request: Request) -> Any:
        body = await read_json(request)
        if not isinstance(body, dict) or set(body) != {"match_id"} or not isinstance(body["match_id"], str):
            raise BadRequest('the body must be {"match_id": "..."}')
        return await service.negotiate(check_id(body["match_id"], "match id"))

    async def deals(request: Request) -> Any:
        return {"deals": _list_of_dicts(await service.deals(), "deals")}

    async def approve(request: Request) -> Any:
        return await service.approve(check_id(request.path_params["id"], "deal id"))

    async def decline(request: Request) -> Any:
        return await service.decline(check_id(request.path_params["id"], "deal id"))

    async def rate(request: Request) -> Any:
        deal_id = check_id(request.path_params["id"], "deal id")
        r = validate_rating(await read_json(request))
        return await service.rate(deal_id, r.score, r.as_agreed, r.comment)

    async def ratings(request: Request) -> Any:
        return {"ratings": _list_of_dicts(await service.ratings(), "ratings")}

    async def reputation(request: Request) -> Any:
        return await service.reputation(check_id(request.path_params["peer"], "peer id"))

    async def profile(request: Request) -> Any:
        return await service.profile()

    async def blocks(request: Request) -> Any:
        return {"blocks": _list_of_dicts(await service.blocked(), "blocked")}

    async def block(request: Request) -> Any:
        return await service.block(validate_block(await read_json(request)))

    async def unblock(request: Request) -> Any:
        return await service.unblock(check_id(request.path_params["peer"], "peer id"))

    def _deal(request: Request) -> str:
        return check_id(request.path_params["id"], "deal id")

    async def handover(request: Request) -> Any:
        return await service.handover(_deal(request))

    async def propose_handover(request: Request) -> Any:
        return await service.propose_handover(_deal(request), validate_handover(await read_json(request)))

    async def confirm_handover(request: Request) -> Any:
        payment = validate_choice(await read_json(request), "payment", "confirm")
        return await service.confirm_handover(_deal(request), payment)

    async def decline_handover(request: Request) -> Any:
        reason = validate_choice(await read_json(request), "reason", "decline")
        return await service.decline_handover(_deal(request), reason or "")

    async def handover_ics(request: Request) -> Any:
        deal_id = _deal(request)
        body = await service.handover_ics(deal_id)
        disposition = f'attachment; filename="meta-space-{deal_id[:12]}.ics"'
        headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
        return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)

    async def export_intent(request: Request) -> Any:
        fmt = request.query_params.get("format", "nip99")
        if fmt != "nip99":
            raise BadRequest(f"unknown export format {fmt[:20]!r} (supported: nip99)")
        return await service.export_intent(check_id(request.path_params["id"], "intent id"), fmt)

    async def page_strings(request: Request) -> Any:
        lang = request.query_params.get("lang")
        if lang is not None and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}", lang):
            raise BadRequest("lang must be a language tag such as es or pt-BR")
        return await service.page_strings(lang)

    async def openapi(request: Request) -> Any:
        return openapi_document()

    async def events(request: Request) -> Response:
        return StreamingResponse(
            _sse(service),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    j = _json_endpoint
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/api/v1/status", j(status), methods=["GET"]),
        Route("/api/v1/settings", j(settings), methods=["GET"]),
        Route("/api/v1/intents/understand", j(understand), methods=["POST"]),
        Route("/api/v1/intents/preview", j(preview), methods=["POST"]),
        Route("/api/v1/intents", j(publish), methods=["POST"]),
        Route("/api/v1/intents", j(list_intents), methods=["GET"]),
        Route("/api/v1/intents/{id}", j(withdraw), methods=["DELETE"]),
        Route("/api/v1/metaspace/broadcast", j(publish), methods=["POST"]),
        Route("/api/v1/metaspace/search", j(search), methods=["GET"]),
        Route("/api/v1/matches", j(matches), methods=["GET"]),
        Route("/api/v1/negotiate/start", j(negotiate), methods=["POST"]),
        Route("/api/v1/deals", j(deals), methods=["GET"]),
        Route("/api/v1/deals/{id}/approve", j(approve), methods=["POST"]),
        Route("/api/v1/deals/{id}/decline", j(decline), methods=["POST"]),
        Route("/api/v1/deals/{id}/rate", j(rate), methods=["POST"]),
        Route("/api/v1/deals/{id}/handover", j(handover), methods=["GET"]),
        Route("/api/v1/deals/{id}/handover", j(propose_handover), methods=["POST"]),
        Route("/api/v1/deals/{id}/handover/confirm", j(confirm_handover), methods=["POST"]),
        Route("/api/v1/deals/{id}/handover/decline", j(decline_handover), methods=["POST"]),
        Route("/api/v1/deals/{id}/handover.ics", j(handover_ics), methods=["GET"]),
        Route("/api/v1/intents/{id}/export", j(export_intent), methods=["GET"]),
        Route("/api/v1/i18n", j(page_strings), methods=["GET"]),
        Route("/api/v1/ratings", j(ratings), methods=["GET"]),
        Route("/api/v1/reputation/{peer}", j(reputation), methods=["GET"]),
        Route("/api/v1/profile", j(profile), methods=["GET"]),
        Route("/api/v1/blocks", j(blocks), methods=["GET"]),
        Route("/api/v1/blocks", j(block), methods=["POST"]),
        Route("/api/v1/blocks/{peer}", j(unblock), methods=["DELETE"]),
        Route("/api/v1/events", events, methods=["GET"]),
        Route("/api/v1/openapi.json", j(openapi), methods=["GET"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    return Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuth, token=token)],
        exception_handlers={HTTPException: http_error},
    )


async def _sse(service: AgentService) -> AsyncIterator[str]:
    """Frame the service's events as server-sent events (``event:`` from the dict's ``"event"`` key)."""
    yield ": metaspace events\n\n"
    try:
        async for event in service.events():
            name = event.get("event") if isinstance(event, dict) else None
            head = f"event: {name}\n" if isinstance(name, str) and _EVENT_NAME.match(name) else ""
            yield f"{head}data: {json.dumps(event, ensure_ascii=False, separators=(',', ':'))}\n\n"
    except ServiceError as exc:
        payload = json.dumps({"error": exc.code, "message": exc.message})
        yield f"event: error\ndata: {payload}\n\n"


def _default_page() -> str:
    try:
        return resources.files("metaspace.api").joinpath("static/index.html").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return _PAGE_SHELL
