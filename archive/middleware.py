"""Project-wide response policies: security headers, rate limits on public
search and the API, a throttle on admin sign-in, and a clean 503."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from archive import ratelimit

security_log = logging.getLogger("archive.security")

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
            response["Access-Control-Allow-Origin"] = "*"  # as every API answer
        else:
            response = HttpResponse(render_to_string("503.html", request=None), status=503)
        response["Retry-After"] = "30"
        return response


# Public paths under a rate limit, with the setting that holds it.
RATE_LIMITED_PATHS = (
    ("/api/", "RATE_LIMIT_API", "API requests"),
    ("/search/", "RATE_LIMIT_SEARCH", "searches"),
)

_TOO_MANY_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Too many requests</title></head>
<body>
<h1>Too many requests</h1>
<p>{}</p>
</body>
</html>
"""


class RateLimitMiddleware:
    """429 for a client address that has made more than RATE_LIMIT_SEARCH
    searches (/search/ and what lies under it) or RATE_LIMIT_API API requests
    in the period; each is off when its setting is None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for prefix, setting, what in RATE_LIMITED_PATHS:
            rate = getattr(settings, setting)
            if rate and request.path.startswith(prefix):
                limit, period = rate
                address = ratelimit.client_address(request)
                count = ratelimit.hit(ratelimit.key_for(setting, address), period)
                if count and count.hits > limit:
                    message = (
                        f"Too many {what} from your address: at most "
                        f"{ratelimit.describe(limit, period)}. "
                        f"Try again in {count.retry_after} seconds."
                    )
                    return _too_many(request, message, count.retry_after)
                break
        return self.get_response(request)


class LoginThrottleMiddleware:
    """After LOGIN_RATE_LIMIT failed admin sign-ins for one user name from one
    client address, further attempts get 429 until the period ends; a successful
    sign-in clears the count. Failures are counted from Django's
    user_login_failed signal, so any way of signing in is covered."""

    def __init__(self, get_response):
        self.get_response = get_response
        user_login_failed.connect(_count_failed_login, dispatch_uid="archive.login_throttle")
        user_logged_in.connect(_forget_failed_logins, dispatch_uid="archive.login_throttle")

    def __call__(self, request):
        rate = settings.LOGIN_RATE_LIMIT
        if rate and request.method == "POST" and request.path == reverse("admin:login"):
            limit, period = rate
            key = _login_key(request.POST.get("username", ""), request)
            count = ratelimit.peek(key, period)
            if count.hits >= limit:
                security_log.warning(
                    "admin sign-in refused after %d failures from %s",
                    count.hits,
                    ratelimit.client_address(request),
                )
                minutes = max(1, round(count.retry_after / 60))
                message = (
                    f"Too many failed sign-in attempts for this account from your address "
                    f"(at most {ratelimit.describe(limit, period)}). "
                    f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
                )
                return _too_many(request, message, count.retry_after)
        return self.get_response(request)


def _login_key(username: str, request) -> str:
    return ratelimit.key_for("login", username.strip().lower(), ratelimit.client_address(request))


def _count_failed_login(sender, credentials, request=None, **kwargs):
    rate = settings.LOGIN_RATE_LIMIT
    if rate and request is not None:
        ratelimit.hit(_login_key(str(credentials.get("username", "")), request), rate[1])


def _forget_failed_logins(sender, request, user, **kwargs):
    if settings.LOGIN_RATE_LIMIT and request is not None:
        ratelimit.forget(_login_key(user.get_username(), request))


def _too_many(request, message: str, retry_after: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"error": {"code": "rate_limited", "message": message}}
        response = JsonResponse(body, status=429)
        # Public data: a script on another site may read why it was refused.
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "Retry-After"
    else:
        response = HttpResponse(format_html(_TOO_MANY_PAGE, message), status=429)
    response["Retry-After"] = str(retry_after)
    return response
