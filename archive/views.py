"""Project-level views that are not about articles."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from articles.search import outbox


@never_cache
@require_safe  # GET and HEAD: uptime monitors often probe with HEAD
def healthz(request):
    """200 with {"database": "ok"} when the database answers, 503 otherwise. With a
    search index of its own (SEARCH_BACKEND=tantivy), also whether it holds exactly the
    public articles: "search" says what is wrong, and the status is "degraded"."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        # A dead persistent connection must not be reused on the next request.
        connection.close_if_unusable_or_obsolete()
        return JsonResponse(
            {"status": "error", "database": "unavailable", "error": exc.__class__.__name__},
            status=503,
        )
    if not outbox.external_index():
        return JsonResponse({"status": "ok", "database": "ok"})
    problem = outbox.disagreement()
    return JsonResponse(
        {"status": "degraded" if problem else "ok", "database": "ok", "search": problem or "ok"}
    )


@require_safe
def favicon(request):
    """Pages name their icon; clients that ask for /favicon.ico anyway are sent to it."""
    return redirect(static("favicon.svg"), permanent=True)
