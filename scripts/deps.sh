#!/bin/sh
# Installs the Debian packages Smelt builds and tests with, when missing.
# As root it runs apt-get itself; otherwise it prints the exact command.
#   scripts/deps.sh build   what `make` and `make demo` need
#   scripts/deps.sh package plus what `make package` needs (dpkg-shlibdeps, file)
#   scripts/deps.sh test    plus what `make test` needs (the package test's
#                           lintian, the completion, man page and systemd unit checks)
set -eu
want="build-essential cmake pkg-config libyaml-dev libcjson-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libpq-dev libmicrohttpd-dev libmicrohttpd12 check python3 python3-venv python3-dev"
package="dpkg-dev file"
case "${1:-build}" in
package) want="$want $package" ;;
test) want="$want $package postgresql procps hyperfine time chromium lintian man-db groff-base zsh systemd" ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "smelt: missing Debian packages:$missing" >&2
	echo "run as root: apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "smelt: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
