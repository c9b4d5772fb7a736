#!/usr/bin/env bash
#
# check-format.sh: every C file of src/ and tests/ must be formatted as
# .clang-format says (STYLE.md §7). Fix with: clang-format -i FILE

set -euo pipefail

cd "$(dirname "$0")/.."

mapfile -t files < <(find src tests -type f \( -name '*.c' -o -name '*.h' \) |
	sort)
if [ ${#files[@]} -eq 0 ]; then
	echo "check-format: no C files found" >&2
	exit 1
fi

bad=()
for f in "${files[@]}"; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done

if [ ${#bad[@]} -ne 0 ]; then
	echo "check-format: ${#bad[@]} file(s) not formatted:"
	for f in "${bad[@]}"; do
		n=$(clang-format --dry-run "$f" 2>&1 | grep -c 'warning:' || true)
		echo "  $f ($n place(s))"
	done
	echo "First differences:"
	clang-format --dry-run "${bad[0]}" 2>&1 | head -n 20 | sed 's/^/  /' || true
	echo "Fix with: clang-format -i ${bad[*]}"
	exit 1
fi
echo "check-format: OK (${#files[@]} files)"
