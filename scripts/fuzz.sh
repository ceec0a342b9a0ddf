#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 10s) on top of
# its checked-in corpus. A failure prints the fuzzer's output. A finding
# always writes its input under testdata/fuzz ("Failing input written to")
# and fails at once. A failure that wrote none is the fuzzing engine's own
# (golang/go#51484 at the -fuzztime boundary, #56238 on a loaded machine):
# that target runs once more, and a second failure fails the run.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() { "$GO" test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1" >"$out" 2>&1; }
for pkg in $("$GO" list ./...); do
	for f in $("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $f"
		run "$pkg" "$f" && continue
		cat "$out"
		if grep -q 'Failing input written to' "$out"; then
			exit 1
		fi
		echo "fuzz $pkg $f: the fuzzer failed without a finding; running it once more"
		if ! run "$pkg" "$f"; then
			cat "$out"
			exit 1
		fi
	done
done
