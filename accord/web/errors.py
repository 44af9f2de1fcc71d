"""Error pages: plain words, no traces, JSON in the API's format under /api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from accord.api.errors import error_body


def _page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status), status=status)
    html: str
    try:
        html = render_to_string("web/error.html", {"title": title, "text": text}, request=request)
    except Exception:  # a broken template must not hide the error page itself
        html = f"<!DOCTYPE html><html lang='en'><title>{title}</title><h1>{title}</h1><p>{text}</p>"
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "The request was not understood", "Go back and try again.")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        403,
        "You cannot do this",
        "Your role does not allow this. Ask your agency admin if you think it should.",
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request, 404, "Page not found", "If you typed the web address, check it is correct."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        "Sorry, there is a problem with the service",
        "Try again later. If it keeps happening, tell your agency admin.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(
        request,
        403,
        "Your form could not be accepted",
        "The page may have been open too long. Go back, reload it and try again.",
    )
