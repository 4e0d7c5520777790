#!/usr/bin/env bash
# Remakes the README's screenshots (docs/screenshots/*.png): starts the real
# shop on a free port with its embedded sandbox, walks the buyer's path, the
# admin order list and order page in headless Chromium at 390×844, and writes each PNG
# (at most 150 KB; the run fails if one is larger). Needs chromium
# (apt-get install -y chromium). Pass -screenshot-width 1280 to look at the
# desktop layout instead (into another directory: ./screenshots.sh DIR 1280).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$PWD/docs/screenshots}"
width="${2:-390}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
go test -count=1 -run '^TestScreenshots$' -v ./cmd/alishop -args -screenshots "$dir" -screenshot-width "$width" | grep -E 'png|^(ok|FAIL|---)'
