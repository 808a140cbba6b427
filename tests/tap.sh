# TAP helpers for the shell tests; source it after setting nothing.
#   tap_result STATUS NAME [DIAG]   "ok N - NAME" when STATUS is 0, else
#                                   "not ok" with DIAG as comment lines
#   tap_skip NAME REASON            "ok N - NAME # SKIP REASON"
# tap_failed is 1 once a test has failed.
tap_n=0
tap_failed=0

tap_result() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
		tap_failed=1
	fi
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}
