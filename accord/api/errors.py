"""One error format for every 4xx the API returns, and its place in the schema.

    {"status": 400, "title": "The request is not valid.",
     "errors": [{"field": "name", "message": "This field is required."}]}

`field` is a dotted path into the request body (`items.2.name`), or null when
the error is about the request as a whole.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accord.core.errors import NotAllowed, NotFound

TITLES = {
    400: "The request is not valid.",
    401: "Sign in, or send a valid API key.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "This response format is not available.",
    415: "Send the body as application/json.",
    429: "Too many requests; try again later.",
}


def _flatten(detail: Any, path: str = "") -> list[dict[str, str | None]]:
    if isinstance(detail, dict):
        errors: list[dict[str, str | None]] = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                errors.extend(_flatten(value, path))
            else:
                errors.extend(_flatten(value, f"{path}.{key}" if path else str(key)))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                errors.extend(_flatten(value, f"{path}.{index}" if path else str(index)))
            else:
                errors.extend(_flatten(value, path))
        return errors
    return [{"field": path or None, "message": str(detail)}]


def error_body(
    status_code: int, errors: list[dict[str, str | None]] | None = None
) -> dict[str, Any]:
    return {
        "status": status_code,
        "title": TITLES.get(status_code, "The request could not be completed."),
        "errors": errors or [],
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, (NotFound, Http404)):
        exc = exceptions.NotFound()
    elif isinstance(exc, (NotAllowed, DjangoPermissionDenied)):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
    elif isinstance(exc, exceptions.APIException) and response.status_code not in (404,):
        errors = [{"field": None, "message": str(exc.detail)}]
    else:
        errors = []
    response.data = error_body(response.status_code, errors)
    return response


ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "title", "errors"],
    "properties": {
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_ALWAYS = (401, 403, 404, 405, 406)
_WITH_BODY = (400, 415)


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular hook: every operation documents the error format for its 4xx."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = _ALWAYS + (_WITH_BODY if method in {"post", "put", "patch"} else ())
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(str(code), {"description": TITLES[code], **ref})
    return result
