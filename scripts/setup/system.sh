#!/usr/bin/env bash
# Debian packages pixmo-pipeline needs (apt-get); idempotent: only missing packages are installed.
# Used by scripts/setup.sh and by the worker images in docker/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/common.sh

# Fonts for rendered text (with a colour emoji font: strong models put emoji in posters and menus); the Docs
# renderers (Chromium for HTML/Mermaid/plotly, LaTeX with the packages strong models reach for: booktabs, tabularx,
# multirow, siunitx, enumitem, titlesec, tikz, xcolor; Graphviz; poppler for PDF -> PNG); ffmpeg (decodes any
# audio for ASR) and espeak-ng (speaks test audio); the GL/GLib libraries OpenCV (ultralytics) loads. Node.js + npm (for Mermaid) come from Debian only when no node is installed.
APT_PACKAGES=(
  fonts-dejavu-core fonts-liberation fonts-noto-core fonts-noto-color-emoji
  chromium graphviz texlive-latex-base texlive-latex-recommended texlive-fonts-recommended poppler-utils
  texlive-latex-extra texlive-pictures texlive-science
  libgl1 libglib2.0-0
  ffmpeg espeak-ng
)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "Debian packages: all ${#APT_PACKAGES[@]} present"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
log "Debian packages: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
