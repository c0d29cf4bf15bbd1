#!/usr/bin/env bash
# Set up everything pixmo-pipeline needs on a fresh Debian machine. Idempotent: a second run checks and
# returns in seconds. Installs: Debian packages (apt-get), a virtualenv at .venv with the project and its
# Python packages, and npm packages. Nothing is downloaded at run time later.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
STAMPS=.setup-stamps
mkdir -p "$STAMPS"

# Debian packages: fonts for rendered text.
APT_PACKAGES=(
  fonts-dejavu-core fonts-liberation fonts-noto-core
)

# Python: the project and the extras the default runs and tests need.
PIP_EXTRAS="dev"

log() { printf '[setup] %s\n' "$*"; }

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
  log "Python packages: installing the project with extras [$PIP_EXTRAS]"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$PIP_EXTRAS]"
  echo "$want" > "$STAMPS/pip"
}

start=$(date +%s)
install_apt
install_python
log "done in $(( $(date +%s) - start ))s"
