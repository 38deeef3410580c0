# syntax=docker/dockerfile:1
# Multi-stage: build the virtualenv with compilers, ship it without them.
FROM python:3.12-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
COPY archive ./archive
COPY articles ./articles
RUN pip install --upgrade pip && pip install .

FROM python:3.12-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=archive.settings \
    GUNICORN_BIND=0.0.0.0:8000
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 archive
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=archive:archive . .
# collectstatic needs settings that import cleanly: a throwaway key and a
# DATABASE_URL that is never connected to (so no embedded server starts).
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused@localhost/unused \
    python manage.py collectstatic --noinput --verbosity 0
USER archive
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl --fail --silent http://127.0.0.1:8000/healthz || exit 1
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn --config gunicorn.conf.py archive.wsgi"]
