#!/usr/bin/env bash
# Set up everything pixmo-pipeline needs on a fresh Debian machine. Idempotent: a second run checks and
# returns in seconds. Three parts, each usable alone (the worker images in docker/ run the same ones):
#   scripts/setup/system.sh   Debian packages (apt-get)
#   scripts/setup/python.sh   a virtualenv at .venv with the project and its Python packages
#   scripts/setup/npm.sh      npm packages (Mermaid)
# Nothing is downloaded at run time later.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup/system.sh
bash scripts/setup/python.sh
bash scripts/setup/npm.sh
printf '[setup] done in %ss\n' "$(( $(date +%s) - start ))"
