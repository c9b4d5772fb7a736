#!/usr/bin/env bash
#
# check-symbols.sh BUILD_DIR: no global symbol of ours may also be defined
# by libre or librem (STYLE.md §2)
#
# A global of ours that carries a library's name silently replaces the
# library's own calls to it (our str_len() once broke libre's re_snprintf).
# Every global symbol DEFINED in librelaiscore.a, relaisd and relaisctl is
# compared with the dynamic symbols libre.so and librem.so define.

set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}

libdir()
{
	pkg-config --variable=libdir "$1" 2>/dev/null ||
		echo /usr/lib/x86_64-linux-gnu
}

libs=()
for l in libre librem; do
	so="$(libdir "$l")/$l.so"
	if [ ! -e "$so" ]; then
		echo "check-symbols: $so not found" >&2
		exit 1
	fi
	libs+=("$so")
done

objs=()
for f in "$build/librelaiscore.a" "$build/relaisd" "$build/relaisctl"; do
	if [ ! -e "$f" ]; then
		echo "check-symbols: $f not found: build first" >&2
		exit 1
	fi
	objs+=("$f")
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# nm -P prints "name type value size"; archive members come as
# "lib.a[obj.o]:" lines. Keep defined globals (upper-case types but U),
# remember the file that defines each one.
for so in "${libs[@]}"; do
	nm -D --defined-only -P "$so" |
		awk -v f="$(basename "$so")" \
			'NF >= 2 && $2 ~ /^[A-TV-Z]$/ { print $1 "\t" f }'
done | sort -u -k1,1 >"$tmp/lib"

for o in "${objs[@]}"; do
	nm -g --defined-only -P "$o" 2>/dev/null |
		awk -v f="$(basename "$o")" '
			/:$/ { m = $1; sub(/:$/, "", m); next }
			NF >= 2 && $2 ~ /^[A-TV-Z]$/ {
				print $1 "\t" (m != "" ? m : f)
			}'
done | sort -k1,1 >"$tmp/ours"

ours=$(cut -f1 "$tmp/ours" | sort -u | wc -l)
theirs=$(wc -l <"$tmp/lib")

join -t "$(printf '\t')" -j 1 "$tmp/ours" "$tmp/lib" >"$tmp/clash" || true

if [ -s "$tmp/clash" ]; then
	echo "check-symbols: global names of ours that libre/librem define:"
	awk -F '\t' '{ printf "  %-32s defined in %s, also in %s\n", \
		$1, $2, $3 }' "$tmp/clash" | sort -u
	echo "Rename them (STYLE.md §2: object_verb names clear of libre's" \
		"and librem's prefixes) or make them static."
	exit 1
fi

echo "check-symbols: OK ($ours global symbols of ours," \
	"$theirs in libre/librem, no clash)"
