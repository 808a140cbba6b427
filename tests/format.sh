#!/bin/sh
# The layout of the C sources (src/*.c, include/*.h, pam_certauth.c,
# tools/*.c) is what clang-format makes of it with the top-level
# .clang-format.  Prints the difference for every file that is not, and
# exits 1; exits 0 when all are; 77 (skipped) without clang-format.
# With --fix, rewrites the files in place instead (make format).
# CLANG_FORMAT names the program (default: clang-format).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
clang_format=${CLANG_FORMAT:-clang-format}

if ! command -v "$clang_format" >/dev/null 2>&1; then
	echo "format: $clang_format not installed (scripts/deps installs it)" >&2
	exit 77
fi
cd "$top_srcdir" || exit 1
files=$(ls src/*.c include/*.h pam_certauth.c tools/*.c)
style=--style=file:$top_srcdir/.clang-format

if [ "${1:-}" = --fix ]; then
	# shellcheck disable=SC2086
	exec "$clang_format" "$style" -i $files
fi

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
bad=0
lines=0
for f in $files; do
	if ! "$clang_format" "$style" "$f" >"$tmp"; then
		echo "format: $clang_format failed on $f" >&2
		exit 1
	fi
	if ! diff -u --label "a/$f" --label "b/$f" "$f" "$tmp"; then
		bad=$((bad + 1))
		lines=$((lines + $(diff "$f" "$tmp" | grep -c '^<')))
	fi
done
if [ "$bad" -ne 0 ]; then
	echo "format: $bad files, $lines lines differ from $($clang_format --version)'s" \
		"layout; make format rewrites them" >&2
	exit 1
fi
exit 0
