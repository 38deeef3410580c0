from django.contrib import admin
from django.urls import include, path

from archive.views import favicon, healthz

admin.site.site_header = "War-coverage archive: curation"
admin.site.site_title = "Archive curation"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("articles.urls")),
]
