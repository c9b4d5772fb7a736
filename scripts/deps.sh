#!/usr/bin/env bash
#
# deps.sh [build|test|bench|all]: install the Debian 12 packages Relais needs
#
# Only what is missing is installed: every package is checked with
# dpkg-query first, and `apt-get update` runs once, only when something has
# to be installed. Works as root without a terminal (CI=true, no stdin); as
# another user it goes through sudo when there is one, otherwise it stops
# and prints the command to run.

set -euo pipefail

BUILD_PKGS=(
	build-essential cmake pkg-config
	libre-dev librem-dev libssl-dev libsqlite3-dev sqlite3
	libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
	libsrtp2-dev libspandsp-dev libbcg729-dev
)

# What the unit, integration and fuzz tests and the checks of `make check`
# run: cmocka; clang with its sanitizer/libFuzzer runtime; sipp
# (sip-tester), baresip, tshark, sox for SIP and RTP peers; ss (iproute2),
# pgrep/ps (procps), python3 for small UDP/TCP senders; clang-format and nm
# (binutils) for the format and symbol checks; kamailio as a carrier's
# access SBC over TLS, dnsmasq as the test DNS server (SRV and A records),
# openssl for the test CA and s_client; nftables for the NAT of the SBC
# test (a masquerading network namespace).
TEST_PKGS=(
	libcmocka-dev clang libclang-rt-14-dev
	sip-tester baresip-core tshark sox
	iproute2 procps psmisc python3 coreutils
	clang-format binutils
	kamailio kamailio-tls-modules dnsmasq-base openssl
	nftables
)

BENCH_PKGS=(sip-tester sqlite3 iproute2 procps coreutils python3)

usage()
{
	echo "usage: $0 [build|test|bench|all]" >&2
	exit 2
}

installed()
{
	local status

	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[ "$status" = "install ok installed" ]
}

want=()
case "${1:-build}" in
build) want=("${BUILD_PKGS[@]}") ;;
test) want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
bench) want=("${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
all) want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
-h | --help) usage ;;
*) usage ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found: this script expects Debian 12" >&2
	exit 1
fi

missing=()
declare -A seen=()
for p in "${want[@]}"; do
	[ -n "${seen[$p]:-}" ] && continue
	seen[$p]=1
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#seen[@]} packages for '${1:-build}' are installed"
	exit 0
fi

echo "deps.sh: missing packages: ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo -n)
	else
		echo "deps.sh: not root and no sudo; as root run:" >&2
		echo "  apt-get update && apt-get install -y" \
			"--no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive

# tshark asks whether non-root users may capture; answer no, tests run as
# root anyway.
for p in "${missing[@]}"; do
	if [ "$p" = tshark ]; then
		echo "wireshark-common wireshark-common/install-setuid boolean false" |
			"${SUDO[@]}" debconf-set-selections
	fi
done

"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends -o Dpkg::Options::=--force-confdef \
	-o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null

still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "deps.sh: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "deps.sh: installed ${missing[*]}"
