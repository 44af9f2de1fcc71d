"""How the two ways of authenticating appear in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accord.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, issued by an agency admin for the agency's system.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "accord.api.authentication.VerifiedSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "accord_session",
            "description": "A browser session signed in with password and second factor.",
        }
