#!/usr/bin/env bash
# Install the Python MCP servers by others that `covey rate`'s tests and README table rate,
# pinned, in a virtual environment of their own at .tools/pyref (gitignored): they bring their own
# `mcp` version, which need not be covey's. Idempotent. Prints the environment's directory.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=("mcp-server-time==2026.10.19")
DIR="${COVEY_PY_REF_SERVERS:-$PWD/.tools/pyref}"
STAMP="$DIR/.installed"

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "${PACKAGES[*]}" && -x "$DIR/bin/python" ]]; then
  echo "$DIR"
  exit 0
fi
python3 -m venv "$DIR" >&2
"$DIR/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
printf '%s' "${PACKAGES[*]}" >"$STAMP"
echo "$DIR"
