#!/usr/bin/env bash
# Remakes the README's screenshots: starts the real shop on a free port with its
# embedded sandbox, walks a goods page, the buyer's path, the admin order list and
# order page in headless Chromium, and writes each PNG (at most 150 KB; the run
# fails if one is larger). Needs chromium (apt-get install -y chromium).
#
#   scripts/screenshots.sh             docs/screenshots (390×844) and docs/screenshots/desktop (1280×800)
#   scripts/screenshots.sh DIR [WIDTH] one width (default 390) into DIR
set -euo pipefail
cd "$(dirname "$0")/.."
shoot() {
	mkdir -p "$1"
	local dir
	dir="$(cd "$1" && pwd)"
	go test -count=1 -run '^TestScreenshots$' -v ./cmd/alishop -args -screenshots "$dir" -screenshot-width "$2" | grep -E 'png|^(ok|FAIL|---)'
}
if [ $# -gt 0 ]; then
	shoot "$1" "${2:-390}"
else
	shoot "$PWD/docs/screenshots" 390
	shoot "$PWD/docs/screenshots/desktop" 1280
fi
