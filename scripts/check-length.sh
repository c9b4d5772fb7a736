#!/usr/bin/env bash
#
# check-length.sh [MAX]: no .c file of src/ or tests/ may exceed MAX lines
# (3000, as baresip's test/ccheck.py; STYLE.md §7)

set -euo pipefail

cd "$(dirname "$0")/.."
max=${1:-3000}

mapfile -t files < <(find src tests -type f -name '*.c' | sort)
bad=0
for f in "${files[@]}"; do
	n=$(wc -l <"$f")
	if [ "$n" -gt "$max" ]; then
		echo "check-length: $f has $n lines (at most $max): split it"
		bad=1
	fi
done

[ "$bad" -eq 0 ] || exit 1
echo "check-length: OK (${#files[@]} .c files, none over $max lines)"
