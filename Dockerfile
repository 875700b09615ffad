# The bank as one image: gunicorn serving the Django monolith, static files through whitenoise.
# `bin/start` is the one start script, here and by hand: migrate, collectstatic, gunicorn.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    PYTHON=python \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
RUN useradd --create-home --uid 10001 bank

COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .
# Static files are collected (hashed and compressed) into the image; bin/start collects again at
# start, which finds them current.
RUN DJANGO_ENV=production SECRET_KEY=build-only-not-used-at-runtime ALLOWED_HOSTS=build \
    CARD_PAN_KEYS=build:build-only-not-used-at-runtime-pan-key CARD_CVC_KEY=build-only-not-used-at-runtime-cvc-key \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/var && chown -R bank:bank /app/var

USER bank
EXPOSE 8000
# docker stop sends SIGTERM to bin/start's exec'd gunicorn, which finishes requests in flight.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["/app/bin/start"]
