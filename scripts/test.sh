#!/usr/bin/env bash
# Install the test tools (Chromium, PostgreSQL, Redis, Festival, espeak-ng from Debian; pytest, Playwright from PyPI)
# and run the whole suite, browser end-to-end tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt requirements-images.txt  # the image extra too: its tests run

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-noto-color-emoji)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v text2wave >/dev/null 2>&1 || need+=(festival festvox-us-slt-hts)  # the optional voices, tested
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${need[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "==> missing ${need[*]}: install them with your package manager; those tests will be skipped" >&2
  fi
fi

echo "==> ruff"
.venv/bin/ruff check azera tests rxconfig.py alembic/env.py
.venv/bin/ruff format --check --quiet azera tests rxconfig.py alembic/env.py

exec .venv/bin/python -m pytest "$@"
