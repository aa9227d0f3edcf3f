#!/bin/bash
# make deb: builds build/allora-workerd_<version>_<arch>.deb with dpkg-buildpackage in a
# temporary copy of the tree (the working tree's files, committed or not; build folders and
# .git left out), so that the tree's build folder is never touched; then runs lintian on it.
# lintian's report goes to $BUILD_DIR/lintian.txt; an error (E:) fails the build.
# Exit status: 0 ok, 1 the build or lintian failed, 77 dpkg-buildpackage cannot run here.
set -u
: "${BUILD_DIR:?BUILD_DIR must be set (make deb sets it)}"
REPO=$(cd "$(dirname "$0")/.." && pwd)
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null 2>&1 || { echo "deb: $t is missing (scripts/deps.sh --deb)" >&2; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/aw-deb.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir "$W/src"
# The tree as it is: every file but build output and version control.
(cd "$REPO" && tar --exclude='./build*' --exclude='./.git' --exclude='*.o' --exclude='*.a' \
	--exclude='./tests/fuzz/out' -cf - .) | (cd "$W/src" && tar -xf -) || exit 1
version=$(dpkg-parsechangelog -l "$W/src/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
echo "deb: building allora-workerd $version ($arch) in $W/src" >&2
if ! (cd "$W/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$W/build.log" 2>&1; then
	tail -40 "$W/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
fi
deb="allora-workerd_${version}_${arch}.deb"
mkdir -p "$BUILD_DIR"
cp "$W/$deb" "$BUILD_DIR/$deb" || exit 1
cp "$W/build.log" "$BUILD_DIR/deb-build.log"
# lintian as a normal user when run as root (it refuses root only for some checks).
lintian --no-tag-display-limit --info "$BUILD_DIR/$deb" >"$BUILD_DIR/lintian.txt" 2>&1
echo "deb: $BUILD_DIR/$deb" >&2
echo "deb: lintian: $(grep -c '^E:' "$BUILD_DIR/lintian.txt") errors, $(grep -c '^W:' "$BUILD_DIR/lintian.txt") warnings ($BUILD_DIR/lintian.txt)" >&2
grep -E '^(E|W):' "$BUILD_DIR/lintian.txt" | sed 's/^/deb:   /' >&2
if grep -q '^E:' "$BUILD_DIR/lintian.txt"; then
	echo "deb: lintian reports errors" >&2
	exit 1
fi
exit 0
