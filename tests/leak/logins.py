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

Then token mode (pkcs11=only, pkcs11_uri=pkcs11:token=leak-card) on a
SoftHSM2 token made here with a P-256 key and its certificate, bound to
the user, reached two ways: pkcs11_module= SoftHSM2's module
(p11_kit_module_load), and p11-kit's configured modules, a list of our
own naming SoftHSM2 alone (p11_kit_modules_load_and_initialize).  The
module loads and finalises the PKCS#11 module on every login, asks the
PIN once, and the token signs.  The conversation answers the PIN prompt: half the logins
with the right PIN, most others with a wrong one, the rest with an empty
PIN, one too long, no answer, a failed conversation, and an unknown
user (tests/leak/logins.c, --pin).  LEAK_TOKEN_COUNT logins directly
(200 under valgrind, 100 under --asan), LEAK_TOKEN_PROXY_COUNT (100)
through p11-kit's modules; under valgrind also LEAK_TOKEN_SMALL (50, the
least that has every kind) first each way, and the bytes lost and still
reachable at the end of both runs are compared: none may grow with the
number of logins.  Skipped without
SoftHSM2 (scripts/deps).
"""

import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import keys  # noqa: E402
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

ASAN = "--asan" in sys.argv[1:]
COUNT = int(os.environ.get("LEAK_COUNT", "100" if ASAN else "1000"))
TOKEN_COUNT = int(os.environ.get("LEAK_TOKEN_COUNT",
                                 "100" if ASAN else "200"))
# Every kind of token login comes once in 50 (the first unknown user is
# the 50th), and a kind's first login may set up what lives as long as
# the process (NSS loads a module for the first unknown user): only
# runs of 50 or more are comparable.
TOKEN_SMALL = max(50, int(os.environ.get("LEAK_TOKEN_SMALL", "50")))
PROXY_COUNT = int(os.environ.get("LEAK_TOKEN_PROXY_COUNT", "100"))
REFETCH = 100
USER = "alice"
SERVICE = "certauth-leak"

lib.need_ocsp_helper()
tools = ("openssl", "mount") + (() if ASAN else ("valgrind",))
build, ns, tap = lib.start({USER: 2401, "bob": 2402}, tools=tools)
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


def checked_run(count, extra=(), args=None, run_env=None):
    """Run the program under the checker; returns (process, report,
    seconds), report being valgrind's log or the sanitizers' stderr.
    args: the program's arguments other than --count (default: the
    OCSP logins')."""
    if args is None:
        args = ["--confdir", lib.PAMD, "--service", SERVICE, "--user", USER,
                "--key", ALICE.key, "--wrong-key", WRONG, "--cache-dir",
                CACHE, "--refetch-every", str(REFETCH)]
    argv = [program] + list(args) + ["--count", str(count)] + list(extra)
    vglog = "/mnt/valgrind-%d.log" % len(os.listdir("/mnt"))
    if not ASAN:
        argv = ["valgrind", "--tool=memcheck", "--leak-check=full",
                "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible",
                "--error-exitcode=99", "--trace-children=no",
                "--num-callers=40", "--suppressions=" + SUPP,
                "--log-file=" + vglog] + EXTRA + argv
    t0 = time.time()
    p = subprocess.run(argv, env=run_env or env, capture_output=True,
                       text=True)
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

# ----------------------------------------------------------- token mode

TOKEN_USER = "bob"
LABEL = "leak-card"
WRONG_PIN = "000000"
softhsm, no_softhsm = keys.find_softhsm()


def token_kinds(count):
    """How many logins of each kind tests/leak/logins.c's token schedule
    makes in count: even slots the right PIN, odd slots but every tenth
    a wrong one, every tenth the next of the five rarer kinds."""
    rare = ("empty", "too-long", "no-answer", "conv-fail", "unknown-user")
    n = dict.fromkeys(("right", "wrong") + rare, 0)
    for i in range(count):
        if i % 10 == 9:
            n[rare[(i // 10) % 5]] += 1
        else:
            n["right" if i % 2 == 0 else "wrong"] += 1
    return n


def vg_figures(report):
    """Bytes of each leak kind in valgrind's LEAK SUMMARY (all 0 when
    every block was freed), or None without one."""
    if "All heap blocks were freed -- no leaks are possible" in report:
        return dict.fromkeys(("definitely lost", "indirectly lost",
                              "possibly lost", "still reachable",
                              "suppressed"), 0)
    out = {}
    for kind in ("definitely lost", "indirectly lost", "possibly lost",
                 "still reachable", "suppressed"):
        m = re.search(r"%s: ([\d,]+) bytes in" % kind, report)
        if m is None:
            return None
        out[kind] = int(m.group(1).replace(",", ""))
    return out


class Way:
    """One way the module reaches the token: a service of its own, the
    environment its logins run in, and the counts of logins."""

    def __init__(self, name, service, module_arg, tenv, count):
        self.name, self.service, self.tenv = name, service, tenv
        self.count = count
        targs = ["config=" + CONF, "ca_file=" + pki.ca,
                 "chain_file=" + pki.chain, "bindings_dir=" + BIND,
                 "hostname=leak-host", "pkcs11=only"] + module_arg + [
                     "pkcs11_uri=pkcs11:token=" + LABEL, "nodelay"]
        with open(os.path.join(lib.PAMD, service), "w") as f:
            f.write("auth required %s %s\n" % (build.module,
                                               " ".join(targs)))


def make_token():
    """A SoftHSM2 token with a P-256 key and its certificate, bound to
    the user, and the two ways to it: pkcs11_module= SoftHSM2's module,
    and p11-kit's configured modules (the default), a module list of our
    own naming SoftHSM2 alone mounted over the system's, with a HOME of
    its own (p11-kit reads the user's configuration too)."""
    d = "/mnt/softhsm"
    lib.make_dir(d, 0o700)
    hsm = keys.SoftHSM(softhsm, d)
    hsm.init_token(LABEL)
    cert = pki.issue("bob-token", "p256")
    hsm.import_key(LABEL, cert, "auth", "01", with_cert=True)
    lib.bind(BIND, TOKEN_USER, cert)
    keys.p11kit_modules(softhsm, "/mnt/p11-kit-modules")
    home = "/mnt/home"
    lib.make_dir(home, 0o700)
    tenv = dict(env, **hsm.env)
    return [Way("token", "certauth-leak-token", ["pkcs11_module=" + softhsm],
                tenv, TOKEN_COUNT),
            Way("token through p11-kit's modules", "certauth-leak-proxy", [],
                dict(tenv, HOME=home), PROXY_COUNT)]


def token_run(way, count):
    """count token logins under the checker: (process, report, seconds,
    the module's syslog lines)."""
    args = ["--confdir", lib.PAMD, "--service", way.service, "--user",
            TOKEN_USER, "--pin", keys.PIN, "--wrong-pin", WRONG_PIN,
            "--pkcs11-module", softhsm]
    mark = ns.mark()
    p, report, seconds = checked_run(count, args=args, run_env=way.tenv)
    return p, report, seconds, lib.module_lines(ns.logs_since(mark))


def token_ended_right(way, p, count, logs):
    """The TAP lines of every token run: its results, the loads, what the
    module logged for each kind."""
    n = token_kinds(count)
    reached = count - n["unknown-user"]
    tap.ok(p.returncode == 0, "%s: %s, %d logins, exit status 0"
           % (way.name, what, count), "exit %d\nstdout:\n%s\nstderr:\n%s"
           % (p.returncode, p.stdout, tail(p.stderr, 40)))
    want = ("logins %d good %d refused %d wrong 0 module-dlopen %d "
            "module-dlclose %d cache-emptied 0 pkcs11-dlopen %d "
            "pkcs11-dlclose " % (count, n["right"], count - n["right"],
                                 count, count, reached))
    # p11-kit may keep its first load of a module file for the process
    # (p11_kit_module_load does): one close fewer.
    m = re.match(re.escape(want) + r"(\d+)\n", p.stdout)
    closes = int(m.group(1)) if m else -1
    tap.ok(closes in (reached - 1, reached),
           "%s: every login ended as it must (%d right PINs PAM_SUCCESS, "
           "%d wrong PAM_AUTH_ERR, %d empty, too long, unanswered or "
           "failed PAM_CONV_ERR, %d unknown users PAM_AUTH_ERR), one PIN "
           "prompt each and no challenge; libpam loaded and unloaded "
           "pam_certauth %d times, p11-kit loaded the PKCS#11 module %d "
           "times (once per login that reached the token) and closed it "
           "%d times, never leaving more than one load open"
           % (way.name, n["right"], n["wrong"], n["empty"] +
              n["too-long"] + n["no-answer"] + n["conv-fail"],
              n["unknown-user"], count, reached, closes),
           LogDiag(p.stdout + "expected: " + want + "%d or %d"
                   % (reached - 1, reached)))
    said = {
        "right": "the answer comes from token '%s'" % LABEL,
        "wrong": "refused: token mode: wrong PIN for token '%s'" % LABEL,
        "empty": "no PIN was given for token '%s'" % LABEL,
        "too-long": "no PIN was given for token '%s': the answer is "
                    "longer than 255 bytes" % LABEL,
        "unanswered": "no PIN was given for token '%s': the conversation "
                      "gave no answer" % LABEL,
        "unknown-user": "no certificate is bound to "
                        "certauth-leak-no-such-user",
    }
    seen = {k: sum(1 for l in logs if l.endswith(v) or
                   (k == "right" and v + ", certificate" in l))
            for k, v in said.items()}
    authenticated = sum(1 for l in logs if "authenticated with "
                        "certificate" in l)
    expect = dict(n, unanswered=n["no-answer"] + n["conv-fail"])
    wrong = {k: (seen[k], expect[k]) for k in said if seen[k] != expect[k]}
    tap.ok(not wrong and authenticated == n["right"],
           "%s: the module logged why each login ended: %d answers from "
           "token '%s' and as many authenticated, %d wrong PINs, %d empty, "
           "%d too long, %d unanswered, %d unbound"
           % (way.name, n["right"], LABEL, n["wrong"], n["empty"],
              n["too-long"], expect["unanswered"], n["unknown-user"]),
           LogDiag("seen, expected: %r; %d authenticated\n%s"
                   % (wrong, authenticated, "\n".join(logs[:8]))))


def token_clean(way, p, report, count):
    """The checker's verdict on a token run: TAP lines; valgrind's
    figures, or None."""
    if ASAN:
        found = [l for l in p.stderr.splitlines()
                 if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime "
                              r"error:|SUMMARY: \w+Sanitizer", l)]
        tap.ok(not found, "%s: %d logins: no ASan, UBSan or LeakSanitizer "
               "report" % (way.name, count), tail(p.stderr))
        return None
    m = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    fig = vg_figures(report)
    lost = None if fig is None else {k: fig[k] for k in (
        "definitely lost", "indirectly lost", "possibly lost")}
    tap.ok(m is not None and m.group(1) == "0" and lost is not None and
           not any(lost.values()),
           "%s: %d logins: valgrind: 0 errors; definitely, indirectly and "
           "possibly lost: 0 bytes" % (way.name, count),
           tail(report) if fig is None else LogDiag(
               "ERROR SUMMARY: %s; %r" % (m.group(1) if m else "?", fig)))
    return fig


def token_way(way):
    """Under valgrind TOKEN_SMALL logins, then way.count, and what is
    left at exit compared; under the sanitizers way.count logins."""
    small = None
    if not ASAN:
        p, report, elapsed, logs = token_run(way, TOKEN_SMALL)
        tap.diag("%s: %d logins under %s took %.1f s"
                 % (way.name, TOKEN_SMALL, what, elapsed))
        token_ended_right(way, p, TOKEN_SMALL, logs)
        small = token_clean(way, p, report, TOKEN_SMALL)
    p, report, elapsed, logs = token_run(way, way.count)
    tap.diag("%s: %d logins under %s took %.1f s (%.1f ms a login)"
             % (way.name, way.count, what, elapsed, 1000.0 * elapsed /
                max(way.count, 1)))
    token_ended_right(way, p, way.count, logs)
    big = token_clean(way, p, report, way.count)
    if ASAN:
        return
    if way.count <= TOKEN_SMALL:
        tap.skip("%s: nothing left at exit grows with the logins"
                 % way.name, "%d logins are not more than %d"
                 % (way.count, TOKEN_SMALL))
        return
    # Whatever is left at exit, lost or still reachable (p11-kit's
    # tables, the module it may keep loaded, the C++ runtime SoftHSM2
    # brings), must be no more after many more logins.
    grew = None if small is None or big is None else [
        k for k in small if big[k] > small[k]]
    tap.ok(grew == [], "%s: nothing left at exit grows with the logins: at "
           "%d and %d logins, lost %s and %s bytes, still reachable %s and "
           "%s bytes, suppressed %s and %s bytes"
           % ((way.name, TOKEN_SMALL, way.count) + tuple(
               "?" if f is None else "{:,}".format(
                   f["definitely lost"] + f["indirectly lost"] +
                   f["possibly lost"]) for f in (small, big)) +
              tuple("?" if f is None else "{:,}".format(f[k])
                    for k in ("still reachable", "suppressed")
                    for f in (small, big))),
           LogDiag("%d logins: %r\n%d logins: %r\ngrew: %r"
                   % (TOKEN_SMALL, small, way.count, big, grew)))


# The TAP lines of a way: under valgrind two runs of four and the
# comparison, under the sanitizers one run.
WAY_TESTS = 4 if ASAN else 9
if softhsm is None:
    for _ in range(2 * WAY_TESTS):
        tap.skip("token mode", no_softhsm)
    sys.exit(tap.done())
try:
    ways = make_token()
except (OSError, RuntimeError) as e:
    tap.ok(False, "token: SoftHSM2 token '%s' made, P-256 key and "
           "certificate bound to %s" % (LABEL, TOKEN_USER), str(e))
    sys.exit(tap.done())
for way in ways:
    token_way(way)
sys.exit(tap.done())
