#!/bin/sh
# Makes sure the AWS Lambda Runtime Interface Emulator the end-to-end tests
# run bin/bootstrap under is installed, and prints its path.
#
# An aws-lambda-rie on PATH or in $(go env GOPATH)/bin is used as it is (the
# places internal/rie.FindEmulator looks, in that order); otherwise this
# installs the pinned version into $(go env GOPATH)/bin. The emulator has no
# tagged releases on the module proxy, hence the pseudo-version.
set -eu

module=github.com/aws/aws-lambda-runtime-interface-emulator
version=v0.0.0-20261030222936-bef5c4ba774d

if found=$(command -v aws-lambda-rie); then
	:
else
	if ! command -v go >/dev/null 2>&1; then
		echo "install-rie.sh: aws-lambda-rie is not installed and go, needed to install it, is not on PATH" >&2
		exit 1
	fi
	gopath=$(go env GOPATH)
	# GOPATH may be a list; go install uses its first entry.
	bin=${gopath%%:*}/bin
	found=$bin/aws-lambda-rie
	if [ ! -x "$found" ]; then
		echo "install-rie.sh: installing $module/cmd/aws-lambda-rie@$version into $bin" >&2
		# GOBIN is forced so the binary lands where FindEmulator looks even
		# when the caller's GOBIN points elsewhere.
		GOBIN=$bin go install "$module/cmd/aws-lambda-rie@$version"
	fi
fi

# A binary installed some other way may be another version; the tests still
# run with it, but say so, since the emulator's quirks differ between versions.
if command -v go >/dev/null 2>&1; then
	have=$(go version -m "$found" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')
	if [ -n "$have" ] && [ "$have" != "$version" ]; then
		echo "install-rie.sh: warning: $found is $module $have; the tests are written against $version" >&2
	fi
fi

echo "$found"
