from django.contrib import admin
from django.urls import include, path

from archive.views import healthz

admin.site.site_header = "War-coverage archive: curation"
admin.site.site_title = "Archive curation"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("articles.urls")),
]
