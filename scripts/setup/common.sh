# Shared by the set-up parts (sourced, not run): logging and the stamp folder.
STAMPS=${STAMPS:-.setup-stamps}
mkdir -p "$STAMPS"
log() { printf '[setup] %s\n' "$*"; }
