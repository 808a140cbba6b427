#!/bin/sh
# The manual pages render with groff without a single warning.  TAP.
top_srcdir=${top_srcdir:-$(dirname "$0")/..}

if ! command -v groff >/dev/null 2>&1; then
	echo "1..0 # SKIP groff not installed"
	exit 0
fi

echo "1..4"
n=0
failed=0
for page in pam_certauth.8 pam_certauth.conf.5 certauth-enroll.8 \
    certauth-sign.1; do
	n=$((n + 1))
	file=$top_srcdir/man/$page
	if [ ! -f "$file" ]; then
		echo "not ok $n - $page renders without warnings"
		echo "# $file is missing"
		failed=1
		continue
	fi
	out=$(LC_ALL=C.UTF-8 groff -man -ww -Tutf8 -z "$file" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n - $page renders without warnings"
	else
		echo "not ok $n - $page renders without warnings"
		echo "# groff exit status $rc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		failed=1
	fi
done
exit "$failed"
