"""Security: response headers, rate limits on search and the API, the admin
sign-in throttle, staff-only admin, no admin traces on public pages, and
secrets kept out of the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection

from archive import ratelimit
from articles.models import Article, Entity, Outlet, Topic
from tests.conftest import BASE_DIR

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _fresh_counters(db):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ratelimit.TABLE}")  # noqa: S608 - constant


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The sign-in tests make dozens of attempts; real hashing costs ~1 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _public_urls() -> list[str]:
    article = Article.objects.public().order_by("pk").first()
    entity = Entity.objects.filter(mentions__article__is_public=True).first()
    return [
        "/",
        "/search/?q=tanks",
        article.get_absolute_url(),
        entity.get_absolute_url(),
        Outlet.objects.filter(articles__is_public=True).first().get_absolute_url(),
        Topic.objects.first().get_absolute_url(),
    ]


# --- Headers ----------------------------------------------------------------


def test_public_pages_send_the_security_headers(client):
    for url in [*_public_urls(), "/api/search/?q=tanks"]:
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self';" in csp, url
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url


def test_admin_pages_send_the_security_headers_with_no_inline_script(client):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True, is_superuser=True)
    for url in ("/admin/login/", "/admin/"):
        if url == "/admin/":
            client.login(username="editor", password=PASSWORD)
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self';" in csp
        assert "script-src 'self' 'unsafe-inline'" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_public_pages_carry_no_inline_script_or_event_handlers(client):
    for url in _public_urls():
        page = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", page, flags=re.IGNORECASE):
            assert re.search(r"\bsrc=", tag), (url, tag)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", page, flags=re.IGNORECASE), url


def test_hsts_is_sent_over_https_when_configured(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    for url in ("/", "/admin/login/"):
        response = client.get(url, secure=True)
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        # Never over plain HTTP, where it means nothing.
        assert "Strict-Transport-Security" not in client.get(url)


def test_https_redirect_spares_the_health_check(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/search/?q=tanks").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_production_settings_with_limits_pass_the_deploy_check():
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://archive@localhost:5432/archive",
        "SECRET_KEY": "test-only-" + "z" * 50,
        "ALLOWED_HOSTS": "archive.example.org",
        "TRUSTED_PROXY_COUNT": "1",
        "SECURE_PROXY_SSL_HEADER": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_turns_the_rate_limits_on_and_a_bad_rate_stops_the_start():
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RATE_LIMIT", "LOGIN_RATE"))}
    base.update(
        DATABASE_URL="postgres://archive@localhost:5432/archive",
        SECRET_KEY="test-only-" + "z" * 50,
        DJANGO_SETTINGS_MODULE="archive.settings",
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.RATE_LIMIT_SEARCH, s.RATE_LIMIT_API, s.LOGIN_RATE_LIMIT)"
    )

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=BASE_DIR,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run().stdout.split() == ["(60,", "60)", "(60,", "60)", "(5,", "900)"]
    assert run(RATE_LIMIT_SEARCH="off").stdout.split()[0] == "None"
    assert run(RATE_LIMIT_API="1000/hour").stdout.split()[2:4] == ["(1000,", "3600)"]
    bad = run(RATE_LIMIT_SEARCH="sixty a minute")
    assert bad.returncode != 0
    assert "RATE_LIMIT_SEARCH='sixty a minute' is not a rate" in bad.stderr


# --- Rate limits --------------------------------------------------------------


def test_search_is_rate_limited_per_client_address(client, settings):
    settings.RATE_LIMIT_SEARCH = (3, 60)
    for _ in range(3):
        assert client.get("/search/", {"q": "tanks"}).status_code == 200
    refused = client.get("/search/", {"q": "tanks"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    text = refused.content.decode()
    assert "Too many searches from your address: at most 3 a minute." in text
    assert refused["Content-Security-Policy"]  # refusals carry the headers too
    # Another address has its own count; pages other than search are not limited.
    assert client.get("/search/", {"q": "tanks"}, REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/").status_code == 200


def test_the_api_is_rate_limited_with_a_json_429(client, settings):
    settings.RATE_LIMIT_API = (2, 60)
    assert client.get("/api/search/", {"q": "tanks"}).status_code == 200
    assert client.get("/api/search/", {"q": "tanks"}).status_code == 200
    refused = client.get("/api/search/", {"q": "tanks"})
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith("Too many API requests from your address: at most 2 a")
    assert int(refused["Retry-After"]) >= 1
    assert refused["Access-Control-Allow-Origin"] == "*"


def test_a_new_window_starts_when_the_period_ends(client, settings):
    settings.RATE_LIMIT_SEARCH = (1, 60)
    assert client.get("/search/").status_code == 200
    assert client.get("/search/").status_code == 429
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ratelimit.TABLE} SET window_start = window_start - interval '61 seconds'"  # noqa: S608
        )
    assert client.get("/search/").status_code == 200


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client, settings):
    settings.RATE_LIMIT_SEARCH = (1, 60)
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    # Spoofing another address does not buy another allowance.
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429

    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one proxy, the right-most entry is the address the proxy saw;
    # what the client put in front of it is not trusted.
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9").status_code == 200
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="10.0.0.2, 203.0.113.9").status_code == 429
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 200


def test_client_addresses(rf, settings):
    def address(remote, forwarded=None):
        meta = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            meta["HTTP_X_FORWARDED_FOR"] = forwarded
        return ratelimit.client_address(rf.get("/", **meta))

    settings.TRUSTED_PROXY_COUNT = 0
    assert address("192.0.2.1", "203.0.113.5") == "192.0.2.1"
    # One IPv6 client usually holds a /64: it is one client.
    assert address("2001:db8:1:2:aaaa::1") == address("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address("::ffff:192.0.2.1") == "192.0.2.1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert address("10.0.0.9", "6.6.6.6, 203.0.113.5, 10.0.0.8") == "203.0.113.5"
    assert address("10.0.0.9", "junk") == "10.0.0.9"  # fewer hops than proxies: the proxy


def test_the_limiter_lets_requests_through_when_its_table_cannot_be_read(client, settings):
    settings.RATE_LIMIT_SEARCH = (1, 60)
    original = ratelimit.TABLE
    ratelimit.TABLE = "archive_no_such_table"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SAVEPOINT before_missing_table")
        # Inside the test's transaction a failed statement would poison it:
        # check the limiter's own answer instead of a page.
        assert ratelimit.hit("search:x", 60) is None
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK TO SAVEPOINT before_missing_table")
    finally:
        ratelimit.TABLE = original
    assert client.get("/search/").status_code == 200


# --- Admin sign-in ------------------------------------------------------------


def _sign_in(client, username, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        **extra,
    )


def test_admin_sign_in_is_throttled_after_five_failures(client):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    for _ in range(5):
        response = _sign_in(client, "editor", "wrong-guess")
        assert response.status_code == 200
        assert b"Please enter the correct username and password" in response.content
    refused = _sign_in(client, "editor", PASSWORD)  # even the right password now
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts for this account from your address" in (
        refused.content
    )
    assert b"Try again in 15 minutes" in refused.content
    assert int(refused["Retry-After"]) > 800
    assert b"a-long-test-password" not in refused.content
    # Another address, or another account from this address, is not locked out.
    assert _sign_in(client, "editor", PASSWORD, REMOTE_ADDR="192.0.2.44").status_code == 302
    client.logout()
    User.objects.create_user("other", password=PASSWORD, is_staff=True)
    assert _sign_in(client, "other", PASSWORD).status_code == 302


def test_the_throttle_ignores_case_and_spaces_in_the_user_name(client):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    for name in ("editor", "Editor", "EDITOR ", "editor", "eDitor"):
        _sign_in(client, name, "wrong-guess")
    assert _sign_in(client, "editor", PASSWORD).status_code == 429


def test_a_successful_sign_in_clears_the_failures(client):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    for _ in range(4):
        _sign_in(client, "editor", "wrong-guess")
    assert _sign_in(client, "editor", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _sign_in(client, "editor", "wrong-guess").status_code == 200
    assert _sign_in(client, "editor", PASSWORD).status_code == 302


def test_the_throttle_logs_no_user_name_or_password(client, caplog):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    for _ in range(6):
        _sign_in(client, "editor", "hunter2-secret")
    logged = caplog.text
    assert "admin sign-in refused after 5 failures from 127.0.0.1" in logged
    assert "hunter2-secret" not in logged and "editor" not in logged
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key FROM {ratelimit.TABLE}")  # noqa: S608
        keys = [key for (key,) in cursor.fetchall()]
    assert keys and all(re.fullmatch(r"login:[0-9a-f]{40}", key) for key in keys)


# --- Who may use the admin ------------------------------------------------------


def test_the_admin_is_for_staff_only(client):
    User.objects.create_user("reader", password=PASSWORD)
    response = _sign_in(client, "reader", PASSWORD)
    assert response.status_code == 200
    assert b"Please enter the correct username and password for a staff account" in (
        response.content
    )
    assert client.get("/admin/").status_code == 302


def test_curators_hold_no_permission_over_users_groups_or_permissions():
    curators = Group.objects.get(name="curators")
    auth_perms = curators.permissions.filter(content_type__app_label__in=["auth", "admin"])
    assert list(auth_perms.values_list("codename", flat=True)) == []
    # ...and can edit content.
    assert curators.permissions.filter(codename="change_article").exists()
    assert not Permission.objects.filter(group=curators, codename__contains="user").exists()


def test_a_curator_cannot_make_themselves_a_superuser(client):
    curator = User.objects.create_user("curator", password=PASSWORD, is_staff=True)
    curator.groups.add(Group.objects.get(name="curators"))
    client.force_login(curator)
    response = client.post(
        f"/admin/auth/user/{curator.pk}/change/",
        {"username": "curator", "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    assert response.status_code == 403
    curator.refresh_from_db()
    assert not curator.is_superuser


def test_public_pages_show_no_admin_link_or_user_data(client):
    staff = User.objects.create_user(
        "curator-jane", password=PASSWORD, is_staff=True, email="jane@example.org"
    )
    client.force_login(staff)  # even a signed-in curator sees the public site
    for url in _public_urls():
        page = client.get(url).content.decode()
        assert "/admin" not in page, url
        assert "curator-jane" not in page and "jane@example.org" not in page, url
        assert "csrfmiddlewaretoken" not in page, url  # public forms are GET-only


# --- Secrets --------------------------------------------------------------------

_SECRET_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bSECRET_KEY\s*=\s*['\"][^'\"]{20,}['\"]"),
    re.compile(r"postgres(?:ql)?://[^:/@\s]+:(?!change-me@|\$\{)[^@\s]{4,}@"),
    re.compile(r"\b(?:AKIA|ghp_|xox[abp]-)[0-9A-Za-z]{12,}"),
)


def test_no_secret_is_kept_in_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".secret_key" not in tracked and ".env" not in tracked
    for name in tracked:
        path = BASE_DIR / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(errors="replace")
        for pattern in _SECRET_PATTERNS:
            assert not pattern.search(text), f"{name}: looks like a secret ({pattern.pattern})"
    ignored = (BASE_DIR / ".gitignore").read_text().split()
    assert ".secret_key" in ignored


def test_the_secret_key_never_reaches_a_page_or_the_log(client, settings, caplog):
    settings.DEBUG = False
    for url in [*_public_urls(), "/api/search/?q=%00", "/no-such-page/", "/healthz"]:
        assert settings.SECRET_KEY not in client.get(url).content.decode()
    assert settings.SECRET_KEY not in caplog.text
