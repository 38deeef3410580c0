from django.contrib import admin
from django.urls import include, path

from archive.views import favicon, healthz
from articles.admin import quality_report_view

admin.site.site_header = "War-coverage archive: curation"
admin.site.site_title = "Archive curation"

urlpatterns = [
    # Before the admin's own URLs, which would take "quality/" for an app label.
    path("admin/quality/", quality_report_view, name="quality-report"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("articles.urls")),
]
