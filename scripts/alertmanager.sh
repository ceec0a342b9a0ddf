#!/usr/bin/env bash
# Makes sure a real Prometheus Alertmanager and its amtool are installed, for
# internal/alertmanager's tests, and prints their paths on stdout: the
# alertmanager binary on the first line, amtool on the second. Everything else
# goes to stderr. Idempotent: once both are found it only prints the paths.
#
# Looks where internal/alertmanager looks, in that order: ALERTMANAGER_BIN and
# AMTOOL_BIN; PATH (Debian's prometheus-alertmanager, else alertmanager; amtool);
# the repo's gitignored .cache/alertmanager/bin. When nothing is found:
#
#  1. apt (root only): Debian's package prometheus-alertmanager, which ships
#     /usr/bin/prometheus-alertmanager and /usr/bin/amtool. Its postinst starts
#     a service on :9093 (and gossip on :9094) through invoke-rc.d; a
#     policy-rc.d that forbids it is put in place for the install when the
#     machine has none (Docker-style images usually have one already), and a
#     service that started anyway is stopped and disabled, so nothing is left
#     listening. No systemd is needed.
#  2. Otherwise (no apt-get, not root, the package unavailable, or
#     ALERTMANAGER_INSTALL=go): build $VERSION from its module with the Go
#     toolchain into .cache/alertmanager/bin. `go install ...@VERSION` cannot
#     build cmd/alertmanager: its web UI is embedded from ui/app/dist, which
#     is built by npm and not part of the module zip (a tools.mod hits the same
#     wall), so the module is copied, a placeholder page stands in for the UI
#     (the tests never load it), and both commands are built there.
#
# ALERTMANAGER_INSTALL=apt|go|auto (auto by default) picks the installer.
set -euo pipefail

VERSION=v0.35.0
MODULE=github.com/prometheus/alertmanager
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_BIN="$REPO/.cache/alertmanager/bin"
MODE="${ALERTMANAGER_INSTALL:-auto}"

say() { echo "alertmanager.sh: $*" >&2; }

# found_bins prints the two paths if both binaries are installed, in the lookup
# order above; $1=cache limits it to .cache.
found_bins() {
	local am="" tool=""
	if [ "${1:-}" != cache ]; then
		am="${ALERTMANAGER_BIN:-}"
		tool="${AMTOOL_BIN:-}"
		[ -n "$am" ] || am="$(command -v prometheus-alertmanager || command -v alertmanager || true)"
		[ -n "$tool" ] || tool="$(command -v amtool || true)"
	fi
	if [ -z "$am" ] || [ ! -x "$am" ]; then am="$CACHE_BIN/alertmanager"; fi
	if [ -z "$tool" ] || [ ! -x "$tool" ]; then tool="$CACHE_BIN/amtool"; fi
	if [ ! -x "$am" ] || [ ! -x "$tool" ]; then return 1; fi
	printf '%s\n%s\n' "$am" "$tool"
}

install_apt() {
	command -v apt-get >/dev/null || { say "no apt-get"; return 1; }
	[ "$(id -u)" = 0 ] || { say "apt needs root"; return 1; }
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet.
	if ! apt-cache policy prometheus-alertmanager 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		apt-get update >&2 || return 1
	fi
	local policy=/usr/sbin/policy-rc.d own_policy="" rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# scripts/alertmanager.sh: no service starts during its install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
		# shellcheck disable=SC2064 # expand now: policy is local
		trap "rm -f '$policy'" EXIT
	fi
	apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 prometheus-alertmanager >&2 || rc=$?
	[ -z "$own_policy" ] || rm -f "$policy"
	[ "$rc" = 0 ] || return "$rc"
	stop_service
}

# stop_service stops and disables the Debian service this install may have
# started (by policy-rc.d allowing it, or under systemd); the tests start
# their own servers on free ports.
stop_service() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl disable --now prometheus-alertmanager.service >&2 2>/dev/null || true
	else
		if [ -x /etc/init.d/prometheus-alertmanager ] &&
			/etc/init.d/prometheus-alertmanager status >/dev/null 2>&1; then
			say "stopping the prometheus-alertmanager service the package started"
			/etc/init.d/prometheus-alertmanager stop >&2 || true
		fi
		# Nor at the next boot.
		if command -v deb-systemd-helper >/dev/null; then
			deb-systemd-helper disable prometheus-alertmanager.service >/dev/null 2>&1 || true
		fi
		if command -v update-rc.d >/dev/null; then
			update-rc.d prometheus-alertmanager disable >/dev/null 2>&1 || true
		fi
	fi
	if (exec 3<>/dev/tcp/127.0.0.1/9093) 2>/dev/null; then
		say "warning: something still listens on 127.0.0.1:9093 (the tests do not need it)"
	fi
}

install_go() {
	command -v go >/dev/null || { say "go, needed to build Alertmanager, is not on PATH"; return 1; }
	local tmp dir
	tmp="$(mktemp -d)"
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "chmod -R u+w '$tmp' 2>/dev/null; rm -rf '$tmp'" EXIT
	say "building $MODULE $VERSION into $CACHE_BIN (a few minutes on 2 cores)"
	# Outside any module, so the repo's go.mod and go.sum stay untouched.
	dir="$(cd "$tmp" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		say "go mod download $MODULE@$VERSION gave no directory"
		return 1
	fi
	cp -R "$dir" "$tmp/src"
	chmod -R u+w "$tmp/src"
	local ui
	for ui in elm mantine; do
		mkdir -p "$tmp/src/ui/app/dist/$ui"
		echo '<!doctype html><title>Alertmanager</title><p>UI not built (scripts/alertmanager.sh)' >"$tmp/src/ui/app/dist/$ui/index.html"
	done
	local v=github.com/prometheus/common/version
	mkdir -p "$tmp/bin"
	(cd "$tmp/src" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X $v.Version=${VERSION#v} -X $v.Revision=module-$VERSION -X $v.Branch=HEAD -X $v.BuildUser=scripts/alertmanager.sh" \
		-o "$tmp/bin/" ./cmd/alertmanager ./cmd/amtool) >&2
	mkdir -p "$CACHE_BIN"
	mv -f "$tmp/bin/alertmanager" "$tmp/bin/amtool" "$CACHE_BIN/"
}

case "$MODE" in
auto)
	found_bins && exit 0
	install_apt || { say "apt did not install Alertmanager; falling back to the Go build"; install_go; }
	found_bins || { say "Alertmanager or amtool missing after install"; exit 1; }
	;;
apt)
	found_bins && exit 0
	install_apt
	found_bins || { say "Alertmanager or amtool missing after install"; exit 1; }
	;;
go)
	found_bins cache && exit 0
	install_go
	found_bins cache || { say "Alertmanager or amtool missing after the Go build"; exit 1; }
	;;
*)
	say "ALERTMANAGER_INSTALL=$MODE: want auto, apt or go"
	exit 2
	;;
esac
