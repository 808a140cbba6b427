#!/bin/sh
# The built module exports only pam_sm_* (at least authenticate and
# setcred), is marked NODELETE so OpenSSL's exit handlers never point into
# unmapped code after a dlclose, and does not pull in libcurl or libldap
# (the helpers'), nor any PKCS#11 module: token mode loads the one named
# at login time through p11-kit.
# TAP.
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
mod=$top_builddir/.libs/pam_certauth.so

for tool in nm readelf ldd; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done
if [ ! -f "$mod" ]; then
	echo "Bail out! $mod is not built"
	exit 1
fi

n=0
failed=0
check() {	# check NAME CONDITION-STATUS [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		failed=1
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
	fi
}

syms=$(nm -D --defined-only "$mod" | awk 'NF >= 3 { print $3 }' | sort -u)
printf '%s\n' "$syms" | sed 's/^/# exported: /'

others=$(printf '%s\n' "$syms" | grep -v '^pam_sm_' | grep -v '^$')
[ -z "$others" ]
check "exports only pam_sm_* symbols" $? "also exported: $others"

for f in pam_sm_authenticate pam_sm_setcred; do
	printf '%s\n' "$syms" | grep -qx "$f"
	check "exports $f" $?
done

dyn=$(readelf -d "$mod")
printf '%s\n' "$dyn" | grep 'FLAGS_1' | grep -q 'NODELETE'
check "DT_FLAGS_1 has NODELETE (-z nodelete)" $? \
	"$(printf '%s\n' "$dyn" | grep -i flags)"

printf '%s\n' "$dyn" | grep -q 'BIND_NOW\|FLAGS.*NOW'
check "linked with -z now" $? "$(printf '%s\n' "$dyn" | grep -i flags)"

libs=$(ldd "$mod" 2>&1)
! printf '%s\n' "$libs" | grep -q 'libcurl'
check "does not link libcurl" $? "$libs"

! printf '%s\n' "$libs" | grep -q 'libldap\|liblber\|libgnutls'
check "does not link libldap (the LDAP helper's)" $? "$libs"

! printf '%s\n' "$libs" | grep -q 'softhsm\|opensc\|libp11\.so'
check "links no PKCS#11 module (loaded at login time)" $? "$libs"

printf '%s\n' "$libs" | grep -q 'libcrypto\.so\.3'
check "links OpenSSL 3 libcrypto" $? "$libs"

echo "1..$n"
# Failures are in the "not ok" lines; a nonzero status would count twice.
[ "$failed" -eq 0 ] || echo "# some checks failed"
exit 0
