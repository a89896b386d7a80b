# The production image: gunicorn serving the portal as an unprivileged user, static files served
# by whitenoise. CI cannot build it (no Docker engine); scripts/smoke_image.py runs its
# ENTRYPOINT, CMD and collectstatic from the checkout instead, so keep those three in the JSON and
# one-command forms that script reads.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# Only the runtime lock: the development tools stay out of the image. Wheels only, because the
# slim image has no compiler, and every hash is checked, so the image holds exactly the locked
# versions.
COPY requirements.prod.lock /tmp/requirements.prod.lock
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements.prod.lock


FROM python:3.11-slim-bookworm

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=false \
    NEURONEX_ETC_DIR=/opt/neuronex/etc \
    PORTAL_BIND=0.0.0.0:8000

# A fixed uid, so that a key folder shared with NeuronEX can be given to it by number.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin portal

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .

# No secrets are needed here: collectstatic runs only the staticfiles checks.
RUN DJANGO_DEBUG=false python manage.py collectstatic --no-input

# The code stays root's, compiled now because the portal's user may not write it; the portal
# writes only var/ (the throttles' file cache, and SQLite when DATABASE_URL is not set) and the
# key folder.
RUN python -m compileall -q manage.py portal keys \
    && mkdir -p /app/var /opt/neuronex/etc \
    && chown portal:portal /app/var /opt/neuronex/etc

USER 10001:10001
VOLUME /opt/neuronex/etc
EXPOSE 8000

# /healthz answers plain HTTP by address (no host check, no HTTPS redirect) and says whether the
# database is reachable. Python, because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('PORTAL_BIND', '0.0.0.0:8000').split(',')[0].rsplit(':', 1)[-1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "docker/gunicorn.conf.py", "portal.wsgi"]
