# tests/local.mk - the tests, benchmarks and fuzzers, included from the
# top-level Makefile.am (paths are relative to the top directory).
#
# - tests/common: what the test programs share (libtestconv, libtestutil);
# - make check: the unit tests (cmocka), the fault injection, the leak
#   driver, the export, manual and install checks, the end-to-end tests;
# - make bench: the benchmarks, never part of the test suite;
# - make fuzz-smoke: the libFuzzer targets, built with --enable-fuzzing.

# Test scripts by name: a directory would be copied from the build tree
# when one of that name exists there, logs and all.
EXTRA_DIST += \
	tests/e2e/lib.py tests/e2e/pamtester.py tests/e2e/enroll.py \
	tests/e2e/ocsp.py tests/e2e/doors.py tests/e2e/sshd.py tests/e2e/su.py \
	tests/e2e/login.py tests/e2e/sudo.py tests/e2e/load.py \
	tests/e2e/faillock.py tests/e2e/pkits.py tests/e2e/sign.py \
	tests/e2e/hostile.py tests/e2e/readme.py tests/e2e/crl.py \
	tests/e2e/examples.py tests/e2e/agent.py \
	tests/e2e/askpass.py tests/e2e/pkcs11.py tests/e2e/keys.py \
	tests/e2e/tokenmode.py \
	tests/e2e/agentmode.py tests/e2e/agentfwd.py tests/e2e/certmap.py \
	tests/e2e/slapd.py tests/e2e/ldapdir.py tests/e2e/ldap.py \
	tests/e2e/rules.py tests/e2e/token_enroll.py \
	tests/e2e/token_hostile.py tests/e2e/debian.py \
	tests/exports.sh tests/man.sh tests/install.sh tests/tap.sh \
	tests/cmocka-tap.sh tests/leak/logins.py tests/leak/valgrind.supp \
	tests/fuzz/make-corpus.sh tests/fuzz/smoke.sh tests/fuzz/corpus \
	tests/bench/process_bench.py tests/bench/agent_bench.py \
	tests/bench/ldap_bench.py tests/bench/token_bench.py

CLEANFILES = -r tests/tmp tests/fuzz-work

# ---------------------------------------------------------------- common
# What the test programs share.  libtestconv: the application's side of a
# login (a conversation that signs the challenge in-process, a client's
# signature, pam_start without a fail delay); no cmocka, so that the leak
# driver can link it.  libtestutil: keys, certificates, CRLs, the mini-PKI
# and scratch directories, failing the running cmocka test on error.
check_LTLIBRARIES = tests/common/libtestconv.la tests/common/libtestutil.la
tests_common_libtestconv_la_SOURCES = tests/common/conv.c \
	tests/common/conv.h tests/common/sign.c
tests_common_libtestconv_la_CFLAGS = $(TEST_WARN_CFLAGS) $(CRYPTO_CFLAGS)
tests_common_libtestutil_la_SOURCES = tests/common/testutil.c \
	tests/common/testutil.h tests/common/pki.c tests/common/pki.h \
	tests/common/fakeagent.c tests/common/fakeagent.h
tests_common_libtestutil_la_CFLAGS = $(TEST_WARN_CFLAGS) $(CRYPTO_CFLAGS) \
	$(CMOCKA_CFLAGS)

# p11shim: the tests' lying token, a PKCS#11 module that forwards to
# SoftHSM2 and tells the one lie its environment names
# (tests/e2e/token_hostile.py).  A loadable module, never installed.
check_LTLIBRARIES += tests/common/p11shim.la
tests_common_p11shim_la_SOURCES = tests/common/p11shim.c
tests_common_p11shim_la_CFLAGS = $(TEST_WARN_CFLAGS) $(P11KIT_CFLAGS)
tests_common_p11shim_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere -export-symbols-regex '^C_GetFunctionList$$'
tests_common_p11shim_la_LIBADD = -ldl

TEST_CFLAGS = $(TEST_WARN_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/tests/common
TEST_LDADD = tests/common/libtestutil.la tests/common/libtestconv.la \
	libcertauth.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
# The programs that log in through libpam, loading the built module.
MODULE_CFLAGS = $(TEST_CFLAGS) \
	-DMODULE_PATH='"$(abs_top_builddir)/.libs/pam_certauth.so"'
MODULE_LDADD = $(TEST_LDADD) $(PAM_LIBS)

# ---------------------------------------------------------------- make check
TEST_EXTENSIONS = .sh .py
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
PY_LOG_DRIVER = $(LOG_DRIVER)
LOG_COMPILER = bash $(top_srcdir)/tests/cmocka-tap.sh
SH_LOG_COMPILER = $(SHELL)
PY_LOG_COMPILER = /usr/bin/python3
AM_TESTS_ENVIRONMENT = \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	sysconfdir='$(sysconfdir)'; export sysconfdir; \
	ocsp_helper='$(libexecdir)/certauth-ocsp-fetch'; export ocsp_helper;

TESTS = tests/leak/logins.py tests/exports.sh tests/man.sh tests/install.sh tests/e2e/pamtester.py tests/e2e/enroll.py \
	tests/e2e/ocsp.py tests/e2e/sudo.py tests/e2e/login.py tests/e2e/su.py \
	tests/e2e/sshd.py tests/e2e/readme.py tests/e2e/load.py tests/e2e/faillock.py \
	tests/e2e/pkits.py
# certauth-sign against hostile challenges; needs no root.
TESTS += tests/e2e/sign.py
# The caller of set-uid su and sudo against the OCSP check (issue 11):
# stops, terminal signals, starvation, its own cgroup's freezer,
# resource limits, closed descriptors.
TESTS += tests/e2e/hostile.py
# CRL upkeep: dates, warnings, and the refresh script of
# pam_certauth.conf(5) run as written.
TESTS += tests/e2e/crl.py
# Every command of the manual pages' EXAMPLES, run as written.
TESTS += tests/e2e/examples.py
# certauth-sign --key agent with a real ssh-agent, logging in through
# pamtester.
TESTS += tests/e2e/agent.py
# certauth-askpass for the real ssh (no terminal) and sudo -A.
TESTS += tests/e2e/askpass.py
# certauth-sign with keys on SoftHSM2 tokens, directly and through
# p11-kit's module list.
TESTS += tests/e2e/pkcs11.py
# Token mode: the module signs its challenge on a SoftHSM2 token, through
# p11-kit and directly, with the real pamtester.
TESTS += tests/e2e/tokenmode.py
# Agent mode: sudo and su answered by the ssh-agent of their caller.
TESTS += tests/e2e/agentmode.py
# Agent mode over ssh: sudo inside a real sshd session answered by the
# agent forwarded with ssh -A, through pam.d-examples/sudo's variant 4.
TESTS += tests/e2e/agentfwd.py
# The real slapd the LDAP binding source's tests use (tests/e2e/slapd.py),
# proven with ldapsearch: TLS, StartTLS, binds, access rules, a paused
# server, 100,000 accounts, no slapd left behind.
TESTS += tests/e2e/ldapdir.py
# Certificate mapping rules (issue 16): certauth-enroll map against SSSD's
# sssctl cert-eval-rule on a table of certificates and rules, ambiguous
# mappings, hostile rules files.
TESTS += tests/e2e/certmap.py
# Logins bound by the mapping rules: the answer offers the certificate.
TESTS += tests/e2e/rules.py
# The LDAP binding source against a real slapd (tests/e2e/slapd.py).
TESTS += tests/e2e/ldap.py
# certauth-enroll add USER --pkcs11 URI: the certificate read from
# SoftHSM2 tokens, directly and through p11-kit's module list.
TESTS += tests/e2e/token_enroll.py
# Token mode against hostile tokens: the tests' lying token
# (tests/common/p11shim.c) in front of SoftHSM2, keys that are not their
# certificate's, unsafe module paths, and the caller of set-uid su with
# a token of his own.
TESTS += tests/e2e/token_hostile.py
# The Debian packages (issue 18): built from a copy of the tree, installed
# into overlays of /etc, /usr and /var, enabled with pam-auth-update and
# logged in through common-auth with pamtester, then purged.
TESTS += tests/e2e/debian.py
check_PROGRAMS =

# Leaks (issue 5): many logins in one process through libpam, run under
# valgrind memcheck by tests/leak/logins.py and under ASan by scripts/test.
# -export-dynamic: the program interposes dlopen/dlclose to count how
# often libpam loads the module.
check_PROGRAMS += tests/leak/logins
tests_leak_logins_SOURCES = tests/leak/logins.c
tests_leak_logins_CFLAGS = $(WARN_CFLAGS) $(CRYPTO_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_leak_logins_LDFLAGS = -export-dynamic
tests_leak_logins_LDADD = tests/common/libtestconv.la $(PAM_LIBS) \
	$(CRYPTO_LIBS) -ldl

if HAVE_CMOCKA
UNIT_TESTS = \
	tests/unit/test_challenge \
	tests/unit/test_response \
	tests/unit/test_options \
	tests/unit/test_verify \
	tests/unit/test_bindings \
	tests/unit/test_safefile \
	tests/unit/test_policy \
	tests/unit/test_anchors \
	tests/unit/test_cache \
	tests/unit/test_auth \
	tests/unit/test_fetch \
	tests/unit/test_ocsp \
	tests/unit/test_module \
	tests/unit/test_sshagent \
	tests/unit/test_agentmode \
	tests/unit/test_rules \
	tests/unit/test_ldap \
	tests/unit/test_ldap_filter
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

# Every injectable call of one login made to fail in turn.
check_PROGRAMS += tests/fault/fault_login
TESTS += tests/fault/fault_login
endif

tests_unit_test_challenge_SOURCES = tests/unit/test_challenge.c
tests_unit_test_challenge_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_challenge_LDADD = $(TEST_LDADD)
tests_unit_test_response_SOURCES = tests/unit/test_response.c
tests_unit_test_response_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_response_LDADD = $(TEST_LDADD)
tests_unit_test_options_SOURCES = tests/unit/test_options.c
tests_unit_test_options_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_options_LDADD = $(TEST_LDADD)
tests_unit_test_verify_SOURCES = tests/unit/test_verify.c
tests_unit_test_verify_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_verify_LDADD = $(TEST_LDADD)
tests_unit_test_bindings_SOURCES = tests/unit/test_bindings.c
tests_unit_test_bindings_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_bindings_LDADD = $(TEST_LDADD)
tests_unit_test_safefile_SOURCES = tests/unit/test_safefile.c
tests_unit_test_safefile_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_safefile_LDADD = $(TEST_LDADD)
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_policy_LDADD = $(TEST_LDADD)
tests_unit_test_anchors_SOURCES = tests/unit/test_anchors.c
tests_unit_test_anchors_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_anchors_LDADD = $(TEST_LDADD)
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c
tests_unit_test_cache_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cache_LDADD = $(TEST_LDADD)
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c
tests_unit_test_auth_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_auth_LDADD = $(TEST_LDADD)
tests_unit_test_fetch_SOURCES = tests/unit/test_fetch.c
tests_unit_test_fetch_CFLAGS = $(TEST_CFLAGS) -DFETCH_HELPER='"$(abs_top_builddir)/certauth-ocsp-fetch"'
tests_unit_test_fetch_LDADD = $(TEST_LDADD)
tests_unit_test_ocsp_SOURCES = tests/unit/test_ocsp.c
tests_unit_test_ocsp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ocsp_LDADD = $(TEST_LDADD)
tests_unit_test_agentmode_SOURCES = tests/unit/test_agentmode.c
tests_unit_test_agentmode_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_agentmode_LDADD = $(TEST_LDADD)
tests_unit_test_rules_SOURCES = tests/unit/test_rules.c
tests_unit_test_rules_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rules_LDADD = $(TEST_LDADD)
tests_unit_test_sshagent_SOURCES = tests/unit/test_sshagent.c
tests_unit_test_sshagent_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sshagent_LDADD = $(TEST_LDADD)
tests_unit_test_ldap_SOURCES = tests/unit/test_ldap.c
tests_unit_test_ldap_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ldap_LDADD = $(TEST_LDADD)
# The filter is built by the helper with libldap: only this test and the
# helper link it.
tests_unit_test_ldap_filter_SOURCES = tests/unit/test_ldap_filter.c \
	src/ldap_filter.c include/ldap_filter.h
tests_unit_test_ldap_filter_CFLAGS = $(TEST_CFLAGS) $(LDAP_CFLAGS)
tests_unit_test_ldap_filter_LDADD = $(CMOCKA_LIBS) $(LDAP_LIBS)
tests_unit_test_module_SOURCES = tests/unit/test_module.c
tests_unit_test_module_CFLAGS = $(MODULE_CFLAGS)
tests_unit_test_module_LDADD = $(MODULE_LDADD) -ldl

# The shim's definitions must win over libc's for the dlopened module too.
tests_fault_fault_login_SOURCES = tests/fault/fault_login.c \
	tests/fault/fault_shim.c tests/fault/fault_shim.h
tests_fault_fault_login_CFLAGS = $(MODULE_CFLAGS) $(P11KIT_CFLAGS)
tests_fault_fault_login_LDFLAGS = -export-dynamic
tests_fault_fault_login_LDADD = $(MODULE_LDADD) -ldl

# ---------------------------------------------------------------- benchmarks
# Not built by default nor by check, and never part of the test suite: they
# print figures and assert nothing about time.  `make bench` builds and runs.
# login_bench (issue 6): the module's own time per login through libpam
# against the floor of OpenSSL doing only the essential verification.
EXTRA_PROGRAMS = tests/bench/login_bench tests/bench/verify_once
tests_bench_login_bench_SOURCES = tests/bench/login_bench.c \
	tests/bench/benchutil.c tests/bench/benchutil.h
tests_bench_login_bench_CFLAGS = $(MODULE_CFLAGS) \
	-DBENCH_TOP_BUILDDIR='"$(abs_top_builddir)"'
tests_bench_login_bench_LDADD = $(MODULE_LDADD) -ldl
# verify_once: the fresh-process floor process_bench.py sets beside it.
tests_bench_verify_once_SOURCES = tests/bench/verify_once.c
tests_bench_verify_once_CFLAGS = $(WARN_CFLAGS) $(CRYPTO_CFLAGS)
tests_bench_verify_once_LDADD = $(CRYPTO_LIBS)
# scale_bench: the module's time per login as bindings, bound certificates,
# trust anchors, CRLs and the OCSP cache grow, and OCSP cold against warm
# with a real `openssl ocsp` responder on 127.0.0.1.
EXTRA_PROGRAMS += tests/bench/scale_bench
tests_bench_scale_bench_SOURCES = tests/bench/scale_bench.c \
	tests/bench/benchutil.c tests/bench/benchutil.h
tests_bench_scale_bench_CFLAGS = $(MODULE_CFLAGS) \
	-DBENCH_TOP_BUILDDIR='"$(abs_top_builddir)"'
tests_bench_scale_bench_LDADD = $(MODULE_LDADD)
# agent_logins: agent_bench.py's driver, agent-mode and typed logins in
# one small process.
EXTRA_PROGRAMS += tests/bench/agent_logins
tests_bench_agent_logins_SOURCES = tests/bench/agent_logins.c
tests_bench_agent_logins_CFLAGS = $(WARN_CFLAGS) $(CRYPTO_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_bench_agent_logins_LDADD = tests/common/libtestconv.la $(PAM_LIBS) \
	$(CRYPTO_LIBS)
# ldap_logins: ldap_bench.py's driver, logins bound by files and by LDAP
# (warm cache, cold lookup) and the floors of a lookup, in one process.
EXTRA_PROGRAMS += tests/bench/ldap_logins
tests_bench_ldap_logins_SOURCES = tests/bench/ldap_logins.c
tests_bench_ldap_logins_CFLAGS = $(WARN_CFLAGS) $(CRYPTO_CFLAGS) \
	$(LDAP_CFLAGS) -I$(top_srcdir)/tests/common
tests_bench_ldap_logins_LDADD = tests/common/libtestconv.la $(PAM_LIBS) \
	$(LDAP_LIBS) $(CRYPTO_LIBS)
# token_once: token_bench.py's floor, a fresh process that loads a PKCS#11
# module, logs in and signs once (the header of p11-kit, no library).
EXTRA_PROGRAMS += tests/bench/token_once
tests_bench_token_once_SOURCES = tests/bench/token_once.c
tests_bench_token_once_CFLAGS = $(WARN_CFLAGS) $(P11KIT_CFLAGS)
tests_bench_token_once_LDADD = -ldl
CLEANFILES += $(EXTRA_PROGRAMS)

# process_bench.py: a whole pamtester login through pam_certauth against
# pam_permit and pam_unix (root, private mount namespace).  agent_bench.py:
# an agent=only login answered by a real ssh-agent against a typed one.
# ldap_bench.py: logins bound in a real slapd of 100 to 100,000 entries
# (warm cache, cold lookup) against a files binding, with the floors;
# BENCH_LDAP_N from the environment or make's command line.
# token_bench.py: pamtester logins with the key on a SoftHSM2 token through
# pam_certauth (pkcs11=only) and Debian's pam_pkcs11 (unpacked by
# scripts/deps), interleaved, with the floors and a table of verdicts;
# BENCH_TOKEN_N likewise.
BENCH_N = 500
BENCH_SCALE_N = 300
BENCH_PROCESS_N = 100
BENCH_AGENT_N = 200
BENCH_LDAP_N = 300
BENCH_TOKEN_N = 200
bench: tests/bench/login_bench$(EXEEXT) tests/bench/verify_once$(EXEEXT) \
	    tests/bench/scale_bench$(EXEEXT) pam_certauth.la \
	    tests/bench/agent_logins$(EXEEXT) tests/bench/ldap_logins$(EXEEXT) \
	    tests/bench/token_once$(EXEEXT) \
	    certauth-sign$(EXEEXT) certauth-ocsp-fetch$(EXEEXT) \
	    certauth-ldap-fetch$(EXEEXT)
	top_builddir='$(abs_top_builddir)' \
	    $(builddir)/tests/bench/login_bench --n $(BENCH_N)
	top_builddir='$(abs_top_builddir)' \
	    $(builddir)/tests/bench/scale_bench --n $(BENCH_SCALE_N)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	    /usr/bin/python3 $(top_srcdir)/tests/bench/process_bench.py \
	    $(BENCH_PROCESS_N)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	    /usr/bin/python3 $(top_srcdir)/tests/bench/agent_bench.py \
	    $(BENCH_AGENT_N)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	    /usr/bin/python3 $(top_srcdir)/tests/bench/ldap_bench.py \
	    "$${BENCH_LDAP_N:-$(BENCH_LDAP_N)}"
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	    /usr/bin/python3 $(top_srcdir)/tests/bench/token_bench.py \
	    "$${BENCH_TOKEN_N:-$(BENCH_TOKEN_N)}"
.PHONY: bench
# ---------------------------------------------------------------- fuzzing
# libFuzzer targets, one for each parser and decision that reads untrusted
# bytes, built with --enable-fuzzing.  `make fuzz-smoke` runs each for FUZZ_RUNS
# executions (default 100000) on a copy of its seed corpus.
FUZZ_TARGETS = \
	tests/fuzz/fuzz_response \
	tests/fuzz/fuzz_options \
	tests/fuzz/fuzz_bindings \
	tests/fuzz/fuzz_challenge \
	tests/fuzz/fuzz_ocsp \
	tests/fuzz/fuzz_policy \
	tests/fuzz/fuzz_anchors \
	tests/fuzz/fuzz_sshagent \
	tests/fuzz/fuzz_rules \
	tests/fuzz/fuzz_ldap
FUZZ_COMMON = tests/fuzz/fuzzutil.c tests/fuzz/fuzzutil.h tests/fuzz/fixtures.h
FUZZ_LDADD = libcertauth.la $(CRYPTO_LIBS)
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) $(FUZZER_LDFLAGS)

if ENABLE_FUZZING
noinst_PROGRAMS = $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_TARGETS)
	@FUZZ_RUNS='$(FUZZ_RUNS)' $(SHELL) $(top_srcdir)/tests/fuzz/smoke.sh \
	    $(top_srcdir)/tests/fuzz/corpus $(abs_top_builddir)/tests/fuzz-work \
	    $(FUZZ_TARGETS)
else
fuzz-smoke:
	@echo "fuzz-smoke: configure with CC=clang --enable-fuzzing first" >&2
	@exit 1
endif
.PHONY: fuzz-smoke

tests_fuzz_fuzz_response_SOURCES = tests/fuzz/fuzz_response.c $(FUZZ_COMMON)
tests_fuzz_fuzz_response_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_response_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_options_SOURCES = tests/fuzz/fuzz_options.c $(FUZZ_COMMON)
tests_fuzz_fuzz_options_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_options_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_bindings_SOURCES = tests/fuzz/fuzz_bindings.c $(FUZZ_COMMON)
tests_fuzz_fuzz_bindings_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_bindings_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_challenge_SOURCES = tests/fuzz/fuzz_challenge.c $(FUZZ_COMMON)
tests_fuzz_fuzz_challenge_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_challenge_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_ocsp_SOURCES = tests/fuzz/fuzz_ocsp.c $(FUZZ_COMMON)
tests_fuzz_fuzz_ocsp_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_ocsp_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c $(FUZZ_COMMON)
tests_fuzz_fuzz_policy_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_policy_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_anchors_SOURCES = tests/fuzz/fuzz_anchors.c $(FUZZ_COMMON)
tests_fuzz_fuzz_anchors_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_anchors_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_sshagent_SOURCES = tests/fuzz/fuzz_sshagent.c $(FUZZ_COMMON)
tests_fuzz_fuzz_sshagent_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_sshagent_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_rules_SOURCES = tests/fuzz/fuzz_rules.c $(FUZZ_COMMON)
tests_fuzz_fuzz_rules_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rules_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_ldap_SOURCES = tests/fuzz/fuzz_ldap.c $(FUZZ_COMMON)
tests_fuzz_fuzz_ldap_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_ldap_LDADD = $(FUZZ_LDADD)
