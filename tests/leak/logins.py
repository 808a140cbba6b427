#!/usr/bin/python3
"""Leaks (issue 5): tests/leak/logins runs many logins in one process
through pam_start_confdir/pam_authenticate/pam_end, with a conversation
that signs in-process: half good answers, half wrong ones of every kind.
OCSP is on (ocsp=hard) against the real `openssl ocsp` responder on
127.0.0.1 in a private network namespace, with a fresh cache directory:
the program empties it every REFETCH logins, so the first good login of
each window runs the fetch helper (a child process) and the others are
answered from the cache.  Prints TAP.

    tests/leak/logins.py            1000 logins under valgrind memcheck
    tests/leak/logins.py --asan     100 logins of a sanitizer build
                                    (ASan, UBSan, LeakSanitizer), run
                                    directly; top_builddir names it

LEAK_COUNT overrides the number of logins, LEAK_VALGRIND_ARGS adds
options to valgrind's command line.  Every login loads and
unloads the module once (libpam dlopens it per handle): the program
counts that and the test asserts it.
"""

import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

ASAN = "--asan" in sys.argv[1:]
COUNT = int(os.environ.get("LEAK_COUNT", "100" if ASAN else "1000"))
REFETCH = 100
USER = "alice"
SERVICE = "certauth-leak"

lib.need_ocsp_helper()
tools = ("openssl", "mount") + (() if ASAN else ("valgrind",))
build, ns, tap = lib.start({USER: 2401}, tools=tools)
program = os.path.join(build.top, "tests", "leak", "logins")
if not os.access(program, os.X_OK):
    print("Bail out! not built: %s (make check builds it)" % program)
    sys.exit(1)
try:
    lib.private_network()
except Exception as e:  # noqa: BLE001 - a namespace without loopback
    print("Bail out! private network namespace unusable: %s" % e)
    sys.exit(1)

# --------------------------------------------------- PKI and responder

# Ed25519 user keys and a P-256 intermediate: the cheapest signatures,
# since memcheck makes every one of them many times slower.
pki = lib.PKI()
ALICE = pki.issue(USER, "ed25519")
WRONG = pki.dir + "/wrong.key"
pki.keygen("ed25519", WRONG)
port = lib.free_port()
# The issuing CA signs its own answers: the simplest authorised responder.
responder = lib.OpensslOcsp(pki.dir + "/index.txt", port, pki.int, pki.int,
                            pki.int_key)
try:
    responder.start()
    tap.ok(True, "openssl ocsp answers on %s" % responder.url)
except RuntimeError as e:
    tap.ok(False, "openssl ocsp answers on %s" % responder.url, str(e))
    sys.exit(tap.done())

BIND = "/mnt/bindings"
lib.bind(BIND, USER, ALICE)
CONF = "/mnt/leak.conf"
with open(CONF, "w") as f:
    f.write("# empty: everything is in the service line\n")
lib.make_dir("/mnt/cache")
CACHE = "/mnt/cache/leak"       # does not exist yet: the module makes it
args = ["config=" + CONF, "ca_file=" + pki.ca, "chain_file=" + pki.chain,
        "bindings_dir=" + BIND, "hostname=leak-host", "ocsp=hard",
        "ocsp_url=" + responder.url, "ocsp_cache_dir=" + CACHE,
        # memcheck slows the fork before the helper's exec
        "ocsp_timeout_ms=20000",
        # half the logins fail: no 2 s fail delay after each
        "nodelay"]
with open(os.path.join(lib.PAMD, SERVICE), "w") as f:
    f.write("auth required %s %s\n" % (build.module, " ".join(args)))

# ------------------------------------------------------------------ run

env = dict(os.environ)
if ASAN:
    env["ASAN_OPTIONS"] = ("detect_leaks=1:halt_on_error=1:abort_on_error=0:"
                           "exitcode=99:detect_stack_use_after_return=1")
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:exitcode=99"
    env["LSAN_OPTIONS"] = "exitcode=99"
    what = "ASan+UBSan+LSan"
else:
    what = "valgrind memcheck"
# e.g. LEAK_VALGRIND_ARGS=--show-leak-kinds=all to look at what is left
EXTRA = os.environ.get("LEAK_VALGRIND_ARGS", "").split()
SUPP = os.path.join(lib.srcdir(), "tests", "leak", "valgrind.supp")


def checked_run(count, extra=()):
    """Run the program under the checker; returns (process, report,
    seconds), report being valgrind's log or the sanitizers' stderr."""
    argv = [program, "--confdir", lib.PAMD, "--service", SERVICE,
            "--user", USER, "--key", ALICE.key, "--wrong-key", WRONG,
            "--count", str(count), "--cache-dir", CACHE,
            "--refetch-every", str(REFETCH)] + list(extra)
    vglog = "/mnt/valgrind-%d.log" % len(os.listdir("/mnt"))
    if not ASAN:
        argv = ["valgrind", "--tool=memcheck", "--leak-check=full",
                "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible",
                "--error-exitcode=99", "--trace-children=no",
                "--num-callers=40", "--suppressions=" + SUPP,
                "--log-file=" + vglog] + EXTRA + argv
    t0 = time.time()
    p = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.time() - t0
    report = p.stderr
    if not ASAN:
        try:
            with open(vglog, errors="replace") as f:
                report = f.read()
        except OSError as e:
            report = "no valgrind log: %s" % e
    return p, report, seconds


# The control: one login and a block lost on purpose, which the checker
# must see (else a clean report below would prove nothing).
p, report, _ = checked_run(1, ["--canary"])
if ASAN:
    seen = (re.search(r"ERROR: LeakSanitizer: detected memory leaks", report)
            and re.search(r"Direct leak of 4242 byte", report))
else:
    seen = re.search(r"definitely lost: 4,242 bytes in 1 blocks", report)
tap.ok(p.returncode == 99 and seen, "control: %s reports a block of 4242 "
       "bytes lost on purpose (--canary), exit status 99" % what,
       "exit %d\n%s" % (p.returncode, "\n".join(report.splitlines()[-30:])))

mark = ns.mark()
p, report, elapsed = checked_run(COUNT)
logs = lib.module_lines(ns.logs_since(mark))
tap.diag("%d logins under %s took %.1f s (%.1f ms a login)"
         % (COUNT, what, elapsed, 1000.0 * elapsed / max(COUNT, 1)))


def tail(text, n=80):
    return LogDiag("\n".join(text.splitlines()[-n:]))


tap.ok(p.returncode == 0, "%s: %d logins, exit status 0" % (what, COUNT),
       "exit %d\nstdout:\n%s\nstderr:\n%s" % (
           p.returncode, p.stdout, tail(p.stderr, 40)))
# logins.c's schedule: slots 0, 2, 4, 6 and 8 of every ten are good.
good = sum(1 for i in range(COUNT) if i % 10 in (0, 2, 4, 6, 8))
want = ("logins %d good %d refused %d wrong 0 module-dlopen %d "
        "module-dlclose %d" % (COUNT, good, COUNT - good, COUNT, COUNT))
tap.ok(p.stdout.startswith(want), "every login ended as it must: %d good "
       "answers PAM_SUCCESS, %d bad ones refused" % (good, COUNT - good),
       LogDiag(p.stdout + "expected: " + want))
tap.ok(re.search(r"module-dlopen %d module-dlclose %d" % (COUNT, COUNT),
                 p.stdout) is not None,
       "libpam loaded and unloaded the module once per login "
       "(%d dlopen, %d dlclose)" % (COUNT, COUNT))

if ASAN:
    found = [l for l in p.stderr.splitlines()
             if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                          r"SUMMARY: \w+Sanitizer", l)]
    tap.ok(not found, "no ASan, UBSan or LeakSanitizer report",
           tail(p.stderr))
else:
    m = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    tap.ok(m is not None and m.group(1) == "0",
           "valgrind: ERROR SUMMARY: 0 errors", tail(report))
    no_leaks = "All heap blocks were freed -- no leaks are possible" in report
    for kind in ("definitely", "indirectly", "possibly"):
        m = re.search(r"%s lost: ([\d,]+) bytes in ([\d,]+) blocks" % kind,
                      report)
        tap.ok(no_leaks or (m is not None and m.group(1) == "0"),
               "valgrind: %s lost: 0 bytes" % kind,
               LogDiag(m.group(0) if m else
                       "all heap blocks freed" if no_leaks else
                       "no '%s lost' line" % kind))
    m = re.search(r"suppressed: ([\d,]+) bytes in ([\d,]+) blocks", report)
    used = re.findall(r"used_suppression:\s+(\d+)\s+(\S+)", report)
    tap.diag("valgrind: %s; suppressions used: %s"
             % (m.group(0) if m else "nothing suppressed",
                ", ".join("%s x%s" % (n, c) for c, n in used) or "none"))

# The module's own account of each login: OCSP from the responder for the
# first good login after each emptying of the cache, from the cache else.
ok_lines = [l for l in logs if "authenticated with certificate" in l]
fetched = [l for l in ok_lines if "OCSP good from " + responder.url in l]
cached = [l for l in ok_lines if "OCSP good from cache" in l]
windows = (COUNT + REFETCH - 1) // REFETCH
tap.ok(len(ok_lines) == good and len(fetched) == windows and
       len(cached) == good - windows,
       "OCSP checked on every good login: %d from the responder (once per "
       "%d logins), %d from the cache" % (windows, REFETCH, good - windows),
       LogDiag("syslog: %d authenticated, %d from the responder, %d from "
               "the cache\n%s" % (len(ok_lines), len(fetched), len(cached),
                                  "\n".join(logs[:6]))))
# Besides the answer, the CertID's fetch lock (an empty .lock. file).
files = sorted(n for n in os.listdir(CACHE) if not n.startswith(".lock.")) \
    if os.path.isdir(CACHE) else []
tap.ok(len(files) == 1, "the cache holds one answer at the end",
       LogDiag("cache: %r" % files))

responder.stop()
sys.exit(tap.done())
