"""Project-wide response policies: security headers and a clean 503."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# No inline script anywhere: scripts, styles, images and fonts from this site
# only. Admin pages carry a few inline style attributes, so styles there may be
# inline (styles cannot run code).
CSP_PUBLIC = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
CSP_ADMIN = CSP_PUBLIC.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class SecurityHeadersMiddleware:
    """Content-Security-Policy and friends; Django's SecurityMiddleware does the rest
    (nosniff, referrer policy, HSTS) and XFrameOptionsMiddleware denies framing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        is_admin = request.path.startswith("/admin/")
        response.setdefault("Content-Security-Policy", CSP_ADMIN if is_admin else CSP_PUBLIC)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class DatabaseUnavailableMiddleware:
    """While the database is down, answer 503 with a plain page (or JSON for the
    API) instead of a traceback; the next request after it is back succeeds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        # Drop the broken connection so the next request opens a fresh one.
        connection.close_if_unusable_or_obsolete()
        if settings.DEBUG:
            return None
        if request.path.startswith("/api/"):
            body = {"error": {"code": "unavailable", "message": "The database is unavailable."}}
            response = JsonResponse(body, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", request=None), status=503)
        response["Retry-After"] = "30"
        return response
