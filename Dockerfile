# GAIA web production image: gunicorn serves the site, the same image runs Dramatiq workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=gaia_web.settings \
    DEBUG=0 \
    GAIA_VAR_DIR=/var/lib/gaia \
    DATA_ROOT=/var/lib/gaia/data \
    STATIC_ROOT=/app/staticfiles \
    NUMBA_CACHE_DIR=/app/numba-cache \
    DB_CONN_MAX_AGE=60

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl libgomp1 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gaia_web ./gaia_web
COPY apps ./apps
COPY templates ./templates
COPY static ./static
COPY manage.py ./
# The CPU build of torch keeps the image small; a GPU host installs the CUDA build instead.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
 && pip install .

# collectstatic needs no database: BokehJS comes from the installed bokeh package (only the bundles
# the pages load, gaia_web/staticfiles.py), Swagger UI from django-ninja; tests/core/test_deploy.py
# runs this same command with these settings.
RUN useradd --create-home --uid 10001 gaia \
 && mkdir -p /var/lib/gaia/data /app/staticfiles /app/numba-cache \
 && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
 && chown -R gaia:gaia /var/lib/gaia /app/staticfiles /app/numba-cache
USER gaia
# Compile the numba kernels now, as the user the workers run as: numba uses a cache folder only when
# it may write there, and the sources beside which it would cache by default are root's. The cache lives in the
# image (not the /var/lib/gaia volume) so it always matches the code; it is keyed by CPU model, so a
# host with another CPU compiles once on its first job (NUMBA_CPU_NAME=generic at build and run
# time makes it portable, at some speed cost).
RUN SECRET_KEY=warm-only python manage.py warm_kernels

EXPOSE 8000
# /healthz is answered before host validation and the https redirect (gaia_web/health.py), so plain
# http://127.0.0.1 works whatever ALLOWED_HOSTS says; it is 503 while the database does not answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1

CMD ["gunicorn", "gaia_web.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
