# GAIA web production image: gunicorn serves the site, the same image runs Dramatiq workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=gaia_web.settings \
    DEBUG=0 \
    GAIA_VAR_DIR=/var/lib/gaia \
    DATA_ROOT=/var/lib/gaia/data \
    STATIC_ROOT=/app/staticfiles

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

RUN useradd --create-home --uid 10001 gaia \
 && mkdir -p /var/lib/gaia/data /app/staticfiles \
 && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
 && chown -R gaia:gaia /var/lib/gaia /app/staticfiles
USER gaia

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS -H "X-Forwarded-Proto: https" http://127.0.0.1:8000/healthz || exit 1

CMD ["gunicorn", "gaia_web.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
