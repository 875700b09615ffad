#!/bin/sh
# The container's entrypoint (and the same script outside one): bring the database up to date,
# then hand over to the command (gunicorn by default). Safe to run on every start.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
"$PYTHON" manage.py migrate --noinput
"$PYTHON" manage.py createcachetable
if [ "${SEED_DEMO:-false}" = "true" ]; then
  "$PYTHON" manage.py seed
fi
exec "$@"
