#!/bin/sh
# The manual pages render with groff, and with man -l, without a single
# warning, and the option pages describe every key of the option table
# in src/options.c as an item of their own.  TAP.
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
. "$top_srcdir/tests/tap.sh"
pages="pam_certauth.8 pam_certauth.conf.5 certauth-enroll.8 certauth-sign.1
	certauth-askpass.1"

if ! command -v groff >/dev/null 2>&1; then
	echo "1..0 # SKIP groff not installed"
	exit 0
fi

echo "1..13"
for page in $pages; do
	file=$top_srcdir/man/$page
	out=$(LC_ALL=C.UTF-8 groff -man -ww -Tutf8 -z "$file" 2>&1)
	rc=$?
	[ -z "$out" ] || rc=1
	tap_result "$rc" "$page renders with groff -ww without warnings" \
		"groff exit status $rc
$out"
done

for page in $pages; do
	file=$top_srcdir/man/$page
	if ! command -v man >/dev/null 2>&1; then
		tap_skip "man -l $page" "man not installed"
		continue
	fi
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w,all -l "$file" \
		2>&1 >/dev/null)
	rc=$?
	[ -z "$out" ] || rc=1
	tap_result "$rc" "man -l $page renders without warnings" "$out"
done

# An item of the OPTIONS or KEYS list: ".TP" and then ".B key" or
# ".BI key= ..." or ".BR key=a | b".
keys=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", OPT_.*/\1/p' \
	"$top_srcdir/src/options.c")
for page in pam_certauth.8 pam_certauth.conf.5; do
	missing=
	count=0
	for key in $keys; do
		# config= cannot be set from the configuration file itself.
		[ "$page" = pam_certauth.conf.5 ] && [ "$key" = config ] && continue
		count=$((count + 1))
		awk -v k="$key" '
			tp && ($1 ~ /^\.B[IR]?$/) &&
			    ($2 == k || index($2, k "=") == 1) { found = 1 }
			{ tp = ($1 == ".TP") }
			END { exit !found }' "$top_srcdir/man/$page" ||
			missing="$missing $key"
	done
	tap_result "$([ -n "$keys" ] && [ -z "$missing" ]; echo $?)" \
		"$page describes each of the $count option keys" \
		"missing:$missing"
done
# certauth-enroll takes every key as --key; its page names each one.
named=$(grep -o '\\-\\-[a-z_]*' "$top_srcdir/man/certauth-enroll.8" |
	sed 's/^\\-\\-//' | sort -u)
missing=
count=0
for key in $keys; do
	count=$((count + 1))
	printf '%s\n' "$named" | grep -qx "$key" || missing="$missing $key"
done
tap_result "$([ -n "$keys" ] && [ -z "$missing" ]; echo $?)" \
	"certauth-enroll.8 names each of the $count option keys as --key" \
	"missing:$missing"
exit "$tap_failed"
