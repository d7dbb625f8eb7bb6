#!/usr/bin/env bash
# One command for a newcomer: install (idempotent) and start Azera on http://127.0.0.1:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m azera run "$@"
