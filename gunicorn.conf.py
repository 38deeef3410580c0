"""gunicorn settings for the archive; each can be overridden from the environment."""

import gc
import multiprocessing

from archive.env import behind_proxy, env_int, env_str

bind = env_str("GUNICORN_BIND", "127.0.0.1:8000")
workers = env_int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
# Each worker takes a connection only when a thread of its own is free
# (worker_connections = threads, so no keep-alive): under load requests wait in one
# queue, in order of arrival, rather than behind whichever worker accepted them
# (p99 halved: docs/reliability.md). The gthread worker, unlike the sync one, tells
# the master it is alive while a thread streams a long export, which the timeout
# below would otherwise cut off. As with gunicorn's own (sync) default, a
# buffering proxy belongs in front on a public address.
worker_class = "gthread"
threads = env_int("GUNICORN_THREADS", 1)
worker_connections = threads  # GUNICORN_THREADS sets both; gunicorn's --threads would not
keepalive = 0
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# Django's settings start or find the database; import the app once per worker
# (not in the master) so each worker opens its own connections.
preload_app = False
# X-Forwarded-Proto decides whether a request came over HTTPS. gunicorn's default
# trusts it from 127.0.0.1, whoever sent it there; here it is trusted only when the
# settings say a proxy is in front (SECURE_PROXY_SSL_HEADER, TRUSTED_PROXY_COUNT),
# from the addresses in FORWARDED_ALLOW_IPS (default: this machine).
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if behind_proxy() else ""
# The request line holds a search of up to 300 characters (9 bytes each once
# encoded, at worst) with its filters. Past gunicorn's default of 4,094 bytes a
# pasted paragraph got gunicorn's bare "414 Request Line is too large"; up to its
# maximum, 8,190, the archive answers with its own message and the search form.
limit_request_line = 8190


def post_worker_init(worker):
    """Once the worker has loaded the archive: what it loaded lives as long as the
    worker, so the garbage collector's full passes leave it alone (scanning it all
    stalled one request in twenty: docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
