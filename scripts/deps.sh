#!/bin/sh
# Installs the Debian 12 packages allora-workerd needs to build and test.
# Usage: scripts/deps.sh [--bench]   (--bench adds python3-sklearn for `make bench`)
set -u
PKGS="build-essential pkg-config libevent-dev libcurl4-openssl-dev libjansson-dev
libsecp256k1-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler libwslay-dev libinih-dev
libxgboost-dev libcmocka-dev libcairo2-dev mandoc python3 jq procps"
[ "${1:-}" = "--bench" ] && PKGS="$PKGS python3-sklearn python3-numpy"
[ "${1:-}" = "--fuzz" ] && PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ "${1:-}" = "--bench" ]; then
	what="python3-sklearn (the scikit-learn reference of bench/reference/)"
	case " $missing " in
	*" python3-sklearn "*) echo "deps: make bench needs $what: installing it" >&2 ;;
	*) echo "deps: make bench uses $what: installed" >&2 ;;
	esac
fi
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps: run as root or install:$missing" >&2; exit 1; }
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q $missing; then
	echo "deps: install failed; refreshing package lists and retrying" >&2
	$SUDO apt-get update -q && $SUDO apt-get install -y -q $missing || exit 1
fi
