#!/bin/sh
# `make install DESTDIR=...` puts every file where the system looks for it
# (the module next to pam_unix.so, the tools, the OCSP helper in
# libexecdir, the manual pages, and in docdir the example configuration,
# the pam.d examples and the documentation; nothing under sysconfdir,
# where the administrator's own files live), the installed module exports only
# pam_sm_*, and `make uninstall` takes every file away again.  TAP.
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/tap.sh"
tmp=$top_builddir/tests/tmp/install.$$
dest=$tmp/root
MAKE=${MAKE:-make}

# A make variable's value as this build's Makefile expands it.  Without
# the flags of the make running the tests: under -j they bring back the
# "Entering directory" lines.
var() {
	printf 'print-%%:\n\t@echo $($*)\n' |
		MAKEFLAGS= $MAKE -s --no-print-directory -C "$top_builddir" \
			-f Makefile -f - "print-$1"
}

echo "1..6"
rm -rf "$tmp"
mkdir -p "$tmp"
out=$($MAKE -s --no-print-directory -C "$top_builddir" install \
	DESTDIR="$dest" 2>&1)
tap_result $? "make install DESTDIR=..." "$out"

pammoddir=$(var pammoddir)
libexecdir=$(var libexecdir)
missing=
for f in "$pammoddir/pam_certauth.so" "$(var bindir)/certauth-sign" \
    "$(var bindir)/certauth-askpass" "$(var mandir)/man1/certauth-askpass.1" \
    "$(var sbindir)/certauth-enroll" "$libexecdir/certauth-ocsp-fetch" \
    "$(var docdir)/pam_certauth.conf.example" \
    "$(var mandir)/man8/pam_certauth.8" "$(var mandir)/man8/certauth-enroll.8" \
    "$(var mandir)/man5/pam_certauth.conf.5" \
    "$(var mandir)/man1/certauth-sign.1"; do
	[ -f "$dest$f" ] || missing="$missing $f"
done
for f in README.md SECURITY.md PERFORMANCE.md; do
	[ -f "$dest$(var docdir)/$f" ] || missing="$missing $(var docdir)/$f"
done
for f in certauth-test login sshd su sudo; do
	[ -f "$dest$(var docdir)/pam.d-examples/$f" ] ||
		missing="$missing $(var docdir)/pam.d-examples/$f"
done
tap_result "$([ -z "$missing" ]; echo $?)" \
	"every file is installed where it belongs (module in $pammoddir)" \
	"missing:$missing
installed: $(cd "$dest" && find . -type f | sort)"

# PAM finds modules in the directory of pam_unix.so.
unix=
for d in /lib/*/security /usr/lib/*/security /lib64/security \
    /usr/lib64/security /lib/security /usr/lib/security; do
	[ -f "$d/pam_unix.so" ] && { unix=$d; break; }
done
if [ "$pammoddir" = "$(var libdir)/security" ]; then
	# --with-pammoddir='${libdir}/security', as make distcheck gives.
	tap_skip "the module directory holds pam_unix.so" \
		"pammoddir is libdir/security"
else
	tap_result "$([ -n "$unix" ] && [ "$(readlink -f "$unix")" = \
	    "$(readlink -f "$pammoddir")" ]; echo $?)" \
		"the module directory is the one that holds pam_unix.so" \
		"pammoddir=$pammoddir, pam_unix.so in ${unix:-nowhere}"
fi

syms=$(nm -D --defined-only "$dest$pammoddir/pam_certauth.so" 2>&1 |
	awk '$2 ~ /^[TDB]$/ { print $3 }' | sort | tr '\n' ' ')
tap_result "$([ "$syms" = "pam_sm_authenticate pam_sm_setcred " ]; echo $?)" \
	"the installed module exports only pam_sm_authenticate and pam_sm_setcred" \
	"exports: $syms"

mode=$(stat -c %a "$dest$pammoddir/pam_certauth.so" 2>&1)
tap_result "$([ "$mode" = 755 ] || [ "$mode" = 644 ]; echo $?)" \
	"the installed module is not writable by group or others" "mode $mode"

out=$($MAKE -s --no-print-directory -C "$top_builddir" uninstall \
	DESTDIR="$dest" 2>&1)
rc=$?
left=$(cd "$dest" 2>/dev/null && find . -type f | sort)
tap_result "$([ "$rc" -eq 0 ] && [ -z "$left" ]; echo $?)" \
	"make uninstall removes every installed file" "$out
left: $left"
rm -rf "$tmp"
exit 0
