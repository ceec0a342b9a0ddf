#!/usr/bin/env bash
# Installs dynalite (a DynamoDB-compatible server on LevelDB/memdown) under the
# repo's gitignored .cache/, so the store's DynamoDB tests run against a real
# server without Docker or Java. Idempotent: a second run only prints the path.
# Prints the path of the dynalite bin on stdout; everything else goes to stderr.
set -euo pipefail

VERSION=4.0.0
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$REPO/.cache/dynalite"
BIN="$PREFIX/node_modules/.bin/dynalite"
PKG="$PREFIX/node_modules/dynalite/package.json"

installed_version() {
	[ -f "$PKG" ] && node -p 'require(process.argv[1]).version' "$PKG" 2>/dev/null || true
}

if [ ! -x "$BIN" ] || [ "$(installed_version)" != "$VERSION" ]; then
	command -v npm >/dev/null || { echo "dynalite.sh: npm is required (install Node.js)" >&2; exit 1; }
	mkdir -p "$PREFIX"
	npm install --no-audit --no-fund --prefix "$PREFIX" "dynalite@$VERSION" >&2
fi

[ -x "$BIN" ] || { echo "dynalite.sh: $BIN missing after install" >&2; exit 1; }
echo "$BIN"
