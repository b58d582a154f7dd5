#!/bin/sh
# make package: builds the Debian packages smelt and smelt-dev with CPack.
#   scripts/package.sh [BUILD_DIR]     (default build-pkg)
# A tree of its own, configured for /usr: GNUInstallDirs then puts the
# adapters in /usr/lib/<multiarch>/smelt/adapters, and the binary, which
# finds them relative to its own folder, is built for that layout.  The
# compiler and linker flags are Debian's (dpkg-buildflags, with every
# hardening feature).  SQLite and libyaml are linked as shared libraries,
# as Debian's policy asks (no embedded copies: the system's security
# updates reach smelt); a source build links them in (cmake/StaticDeps.cmake).
# The .deb files land in BUILD_DIR; their paths are printed, one a line, last.
set -eu
dir=${1:-build-pkg}
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
for tool in dpkg-buildflags dpkg-shlibdeps file; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "package.sh: '$tool' is missing: run scripts/deps.sh package" >&2
		exit 1
	fi
done
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
# CMake reads CFLAGS and LDFLAGS only when the tree is first configured.
CFLAGS=$cflags LDFLAGS=$ldflags cmake -S "$src" -B "$dir" -DCMAKE_INSTALL_PREFIX=/usr \
	-DCMAKE_BUILD_TYPE=None -DSMELT_TESTS=OFF -DSMELT_STATIC_DEPS=OFF >/dev/null
cmake --build "$dir" -j "$jobs"
rm -f "$dir"/*.deb
(cd "$dir" && cpack -G DEB >/dev/null)
ls "$(cd "$dir" && pwd)"/*.deb
