"""The API's documentation page, rendered on our own pages from the OpenAPI schema.

A page of our own rather than Swagger UI: it needs no inline styles or images, so the
Content-Security-Policy stays strict, and it passes the same accessibility checks as
every other page.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accord.core.declare import requires
from accord.partnership.permissions import Action

METHODS = ("get", "post", "put", "patch", "delete")


@cache
def schema_document() -> dict[str, Any]:
    """The OpenAPI document as plain data (built once per process)."""
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.renderers import JSONRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    document: dict[str, Any] = json.loads(JSONRenderer().render(schema))
    return document


def _component(document: dict[str, Any], ref: str | None) -> tuple[str, list[dict[str, Any]]]:
    if not ref:
        return "", []
    name = ref.rsplit("/", 1)[-1]
    component = document["components"]["schemas"].get(name, {})
    required = set(component.get("required", []))
    fields = []
    for field, spec in component.get("properties", {}).items():
        kind = spec.get("type") or spec.get("$ref", "").rsplit("/", 1)[-1] or "object"
        if spec.get("format"):
            kind = f"{kind} ({spec['format']})"
        if "allOf" in spec:
            kind = spec["allOf"][0].get("$ref", "").rsplit("/", 1)[-1]
        if spec.get("type") == "array":
            kind = "list of " + (spec["items"].get("$ref", "").rsplit("/", 1)[-1] or "values")
        fields.append(
            {
                "name": field,
                "type": kind,
                "required": field in required,
                "read_only": spec.get("readOnly", False),
                "nullable": spec.get("nullable", False),
                "description": spec.get("description", ""),
            }
        )
    return name, fields


def _body_ref(content: dict[str, Any] | None) -> str | None:
    if not content:
        return None
    ref: str | None = content.get("application/json", {}).get("schema", {}).get("$ref")
    return ref


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation with its parameters, request fields and responses, in path order."""
    found = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            request_name, request_fields = _component(
                document, _body_ref(operation.get("requestBody", {}).get("content"))
            )
            responses = []
            for code, response in operation.get("responses", {}).items():
                name, _ = _component(document, _body_ref(response.get("content")))
                responses.append(
                    {"code": code, "description": response.get("description", ""), "shape": name}
                )
            found.append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": p.get("schema", {}).get("type", ""),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "request_name": request_name,
                    "request_fields": request_fields,
                    "responses": responses,
                    "success_fields": _success_fields(document, operation),
                }
            )
    return found


def _success_fields(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    for code in ("200", "201"):
        response = operation.get("responses", {}).get(code)
        if response:
            name, fields = _component(document, _body_ref(response.get("content")))
            return {"name": name, "fields": fields}
    return {"name": "", "fields": []}


@requires(Action.API_SCHEMA_VIEW)
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    document = schema_document()
    _, error_fields = _component(document, "#/components/schemas/Error")
    return render(
        request,
        "web/api_docs.html",
        {
            "info": document.get("info", {}),
            "operations": operations(document),
            "error_fields": error_fields,
        },
    )
