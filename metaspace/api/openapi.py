"""The OpenAPI 3.1 description of the control API (served at ``GET /api/v1/openapi.json``).

Written by hand as a dict from the same constants the validators use, so it stays short and honest.
"""

from __future__ import annotations

from typing import Any

from metaspace.api.contract import ACTIONS, DEFAULT_SEARCH_LIMIT, MAX_ID_LEN
from wire.limits import (
    MAX_AMOUNT_MINOR,
    MAX_ATTR_VALUE_LEN,
    MAX_ATTRIBUTES,
    MAX_INTENT_TTL_S,
    MAX_QUANTITY,
    MAX_RADIUS_KM,
    MAX_RATING_COMMENT,
    MAX_RECORDS_PER_PAGE,
    MAX_TEXT_LEN,
)

_OBJ: dict[str, Any] = {"type": "object"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], what: str = "OK") -> dict[str, Any]:
    return {"description": what, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Invalid request",
        401: "Missing or wrong bearer token",
        403: "Refused by the human's limits",
        404: "Not found",
        409: "Conflict",
        413: "Body over 64 KiB",
        415: "Body is not JSON",
        503: "The peer can't do it now",
    }
    return {str(c): _ok(_ref("Error"), words[c]) for c in (401, *codes)}


def _op(summary: str, op_id: str, ok: dict[str, Any], *errors: int, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "operationId": op_id, "responses": {"200": ok, **_errors(*errors)}, **extra}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _id_param(what: str, name: str = "id") -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": what,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]+$", "maxLength": MAX_ID_LEN},
        }
    ]


def _location_props() -> dict[str, Any]:
    return {
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "lon": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "cell": {"type": ["string", "null"], "description": "H3 cell, resolution <= 7 (instead of lat/lon)"},
        "radius_km": {"type": "integer", "minimum": 0, "maximum": MAX_RADIUS_KM, "default": 0},
    }


def _schemas() -> dict[str, Any]:
    price = {
        "type": ["object", "null"],
        "required": ["amount_minor", "currency"],
        "additionalProperties": False,
        "properties": {
            "amount_minor": {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT_MINOR},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO-4217"},
            "per_unit": {"type": "boolean", "default": True},
        },
    }
    publish = {
        "type": "object",
        "required": ["action", "category"],
        "additionalProperties": False,
        "properties": {
            "action": {"enum": list(ACTIONS)},
            "category": {"type": "string", "description": "taxonomy code, e.g. vehicles/tires"},
            **_location_props(),
            "price": _ref("Price"),
            "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY, "default": 1},
            "attributes": {
                "type": "object",
                "maxProperties": MAX_ATTRIBUTES,
                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": MAX_ATTR_VALUE_LEN},
            },
            "text": {"type": ["string", "null"], "maxLength": MAX_TEXT_LEN},
            "lang": {"type": ["string", "null"]},
            "expires_in_s": {"type": "integer", "minimum": 60, "maximum": MAX_INTENT_TTL_S},
            "limit": {**_ref("Price"), "description": "your private limit per unit: never published"},
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
        },
        "Price": price,
        "PublishParams": publish,
        "Intent": {**_OBJ, "description": "intent view: id, action, category, price, cell, expires, ..."},
        "Match": {**_OBJ, "description": "match view: id, intent_id, other (intent), score, state"},
        "Deal": {
            **_OBJ,
            "description": "deal view: id, match_id, state, price, counterparty, needs_approval, peer",
        },
        "RatingParams": {
            "type": "object",
            "required": ["score"],
            "additionalProperties": False,
            "properties": {
                "score": {"type": "integer", "minimum": 1, "maximum": 5},
                "as_agreed": {"type": "boolean", "default": True, "description": "the deal went as agreed"},
                "comment": {"type": "string", "maxLength": MAX_RATING_COMMENT},
            },
        },
        "Rating": {
            **_OBJ,
            "description": "rating view: deal_id, rater, subject, score, as_agreed, comment, deal_time "
            "(+ published, delivered when just made)",
        },
        "Reputation": {
            **_OBJ,
            "description": "peer, handle, profile (handle, languages, categories, autonomy, protocols), "
            "reputation (score 0-100, confidence, ratings, raters, as_agreed, ring, level, flags), "
            "ratings (the most recent), sources, blocked",
        },
        "Block": {**_OBJ, "description": "peer, reason (manual, flood_matches, ...), until (null: manual)"},
    }


#: The preview's reply: the intent exactly as it would be published, and what stays private.
_PREVIEW: dict[str, Any] = {
    "type": "object",
    "properties": {
        "published": _ref("Intent"),
        "private": {**_OBJ, "description": "limit, limit_text: never published or sent"},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}


def _list(key: str, item: str) -> dict[str, Any]:
    return _ok({"type": "object", "properties": {key: {"type": "array", "items": _ref(item)}}})


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the control API."""
    search_params = [
        {
            "name": "action",
            "in": "query",
            "required": True,
            "schema": {"enum": list(ACTIONS)},
            "description": "action of the intents wanted (SELL finds sellers)",
        },
        {"name": "category", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "lat", "in": "query", "schema": {"type": "number"}},
        {"name": "lon", "in": "query", "schema": {"type": "number"}},
        {"name": "cell", "in": "query", "schema": {"type": "string"}},
        {"name": "radius_km", "in": "query", "schema": {"type": "integer", "maximum": MAX_RADIUS_KM}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "maximum": MAX_RECORDS_PER_PAGE, "default": DEFAULT_SEARCH_LIMIT},
        },
        {"name": "text", "in": "query", "schema": {"type": "string", "maxLength": MAX_TEXT_LEN}},
    ]
    understand = {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LEN},
            "lat": {"type": ["number", "null"]},
            "lon": {"type": ["number", "null"]},
        },
    }
    publish_op = _op(
        "Publish an intent",
        "publish",
        _ok(_ref("Intent")),
        400,
        403,
        413,
        415,
        503,
        requestBody=_body(_ref("PublishParams")),
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Meta Space agent control API",
            "version": "1",
            "description": "Local API of one agent peer, on 127.0.0.1 only. Every request carries "
            "`Authorization: Bearer <token>` (the token is in HOME/run/token).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": {
            "/api/v1/status": {"get": _op("Agent status", "status", _ok(_OBJ))},
            "/api/v1/settings": {"get": _op("The human's limits", "settings", _ok(_OBJ))},
            "/api/v1/intents/understand": {
                "post": _op(
                    "Understand free text as an intent draft",
                    "understand",
                    _ok(_OBJ),
                    400,
                    413,
                    415,
                    requestBody=_body(understand),
                )
            },
            "/api/v1/intents/preview": {
                "post": _op(
                    "What publishing these parameters would publish, and what stays private",
                    "preview",
                    _ok(_PREVIEW),
                    400,
                    403,
                    413,
                    415,
                    requestBody=_body(_ref("PublishParams")),
                )
            },
            "/api/v1/intents": {
                "get": _op("My intents", "intents", _list("intents", "Intent")),
                "post": publish_op,
            },
            "/api/v1/intents/{id}": {
                "delete": _op(
                    "Withdraw an intent",
                    "withdraw",
                    _ok(_ref("Intent")),
                    400,
                    404,
                    parameters=_id_param("intent id"),
                )
            },
            "/api/v1/metaspace/broadcast": {"post": {**publish_op, "operationId": "broadcast"}},
            "/api/v1/metaspace/search": {
                "get": _op(
                    "Search the network",
                    "search",
                    _list("results", "Intent"),
                    400,
                    503,
                    parameters=search_params,
                )
            },
            "/api/v1/matches": {
                "get": _op("Matches found for my intents", "matches", _list("matches", "Match"))
            },
            "/api/v1/negotiate/start": {
                "post": _op(
                    "Start negotiating a match",
                    "negotiate",
                    _ok(_ref("Deal")),
                    400,
                    403,
                    404,
                    409,
                    requestBody=_body(
                        {
                            "type": "object",
                            "required": ["match_id"],
                            "properties": {"match_id": {"type": "string"}},
                        }
                    ),
                )
            },
            "/api/v1/deals": {"get": _op("Deals", "deals", _list("deals", "Deal"))},
            "/api/v1/deals/{id}/approve": {
                "post": _op(
                    "Approve a deal",
                    "approve",
                    _ok(_ref("Deal")),
                    400,
                    404,
                    409,
                    parameters=_id_param("deal id"),
                )
            },
            "/api/v1/deals/{id}/decline": {
                "post": _op(
                    "Decline a deal",
                    "decline",
                    _ok(_ref("Deal")),
                    400,
                    404,
                    409,
                    parameters=_id_param("deal id"),
                )
            },
            "/api/v1/deals/{id}/rate": {
                "post": _op(
                    "Rate the other party of a co-signed deal (once)",
                    "rate",
                    _ok(_ref("Rating")),
                    400,
                    404,
                    409,
                    parameters=_id_param("deal id"),
                    requestBody=_body(_ref("RatingParams")),
                )
            },
            "/api/v1/ratings": {
                "get": _op("Ratings made and received", "ratings", _list("ratings", "Rating"))
            },
            "/api/v1/reputation/{peer}": {
                "get": _op(
                    "An agent's profile and reputation (spec: GET /api/v1/reputation/{mai_id})",
                    "reputation",
                    _ok(_ref("Reputation")),
                    400,
                    503,
                    parameters=_id_param("the agent's peer id", "peer"),
                )
            },
            "/api/v1/profile": {"get": _op("This agent's published profile", "profile", _ok(_OBJ))},
            "/api/v1/blocks": {
                "get": _op("Blocked peers", "blocks", _list("blocks", "Block")),
                "post": _op(
                    "Block a peer",
                    "block",
                    _ok(_ref("Block")),
                    400,
                    requestBody=_body(
                        {"type": "object", "required": ["peer"], "properties": {"peer": {"type": "string"}}}
                    ),
                ),
            },
            "/api/v1/blocks/{peer}": {
                "delete": _op(
                    "Unblock a peer",
                    "unblock",
                    _ok(_ref("Block")),
                    400,
                    404,
                    parameters=_id_param("the agent's peer id", "peer"),
                )
            },
            "/api/v1/deals/{id}/handover": {
                "get": _op(
                    "The meeting after a co-signed deal",
                    "handover",
                    _ok(_OBJ),
                    404,
                    409,
                    parameters=_id_param("deal id"),
                ),
                "post": _op(
                    "Propose a meeting (missing fields: the agent's suggestion)",
                    "propose_handover",
                    _ok(_OBJ),
                    400,
                    404,
                    409,
                    parameters=_id_param("deal id"),
                    requestBody=_body(
                        {
                            "type": "object",
                            "properties": {
                                "cell": {"type": "string", "description": "H3 cell, res <= 7"},
                                "start": {"type": "integer"},
                                "end": {"type": "integer"},
                                "payment": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
                            },
                        }
                    ),
                ),
            },
            "/api/v1/deals/{id}/handover/confirm": {
                "post": _op(
                    "Confirm the other side's meeting proposal",
                    "confirm_handover",
                    _ok(_OBJ),
                    400,
                    404,
                    409,
                    parameters=_id_param("deal id"),
                    requestBody=_body({"type": "object", "properties": {"payment": {"type": "string"}}}),
                ),
            },
            "/api/v1/deals/{id}/handover/decline": {
                "post": _op(
                    "Decline a proposal, withdraw ours, or cancel the meeting",
                    "decline_handover",
                    _ok(_OBJ),
                    400,
                    404,
                    409,
                    parameters=_id_param("deal id"),
                    requestBody=_body({"type": "object", "properties": {"reason": {"type": "string"}}}),
                ),
            },
            "/api/v1/deals/{id}/handover.ics": {
                "get": {
                    "summary": "The confirmed meeting as an iCalendar file",
                    "operationId": "handover_ics",
                    "parameters": _id_param("deal id"),
                    "responses": {
                        "200": {
                            "description": "RFC 5545 calendar",
                            "content": {"text/calendar": {"schema": {"type": "string"}}},
                        },
                        **_errors(404, 409),
                    },
                },
            },
            "/api/v1/intents/{id}/export": {
                "get": _op(
                    "One of our intents as a signed Nostr NIP-99 listing (kind 30402)",
                    "export_intent",
                    _ok(_OBJ),
                    400,
                    404,
                    409,
                    parameters=_id_param("intent id"),
                ),
            },
            "/api/v1/i18n": {
                "get": _op("The web page's labels in the agent's language", "page_strings", _ok(_OBJ), 400),
            },
            "/api/v1/events": {
                "get": {
                    "summary": "Server-sent events (matches, deals, status)",
                    "operationId": "events",
                    "responses": {
                        "200": {
                            "description": "event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        **_errors(),
                    },
                }
            },
            "/api/v1/openapi.json": {"get": _op("This document", "openapi", _ok(_OBJ))},
        },
    }
