#!/usr/bin/python3
"""Benchmark: a whole login process.  The real pamtester through
pam_certauth (answered on its pty), through pam_permit alone, and through
pam_unix with a yescrypt password (Debian's default hash), each run N
times in a private mount namespace as the end-to-end tests do.  The time
of one login is the pamtester process's wall time from spawn to exit,
less the time the client took to answer (signing, or typing the
password): what the user waits for the machine.  Prints the medians and
p90s, the milliseconds pam_certauth adds over pam_permit and its ratio to
pam_unix.  Beside them, the floor of a fresh process: verify_once
(tests/bench/verify_once.c), which loads OpenSSL, reads the same files
and verifies a signature and the chain once, against an empty process
(/bin/true), both spawned the same way: what OpenSSL alone costs a new
process, and so the part of the added time a module linking OpenSSL
cannot avoid.  Never asserts a time.

With BENCH_OTHER_MODULE=/path/to/pam_certauth.so (another build, e.g. an
older commit's), that module logs in too, under the same stack, and the
two certauth logins swap places in every other round: whichever runs
right after the pam_unix login (yescrypt, which sweeps the caches) is
slower, so a fixed order would favour one of them.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/bench/process_bench.py [N]
"""

import os
import socket
import statistics
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import lib  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50
PASSWORD = "bench-s3cret-pw"
USERS = {"alice": lib.Account(2801, PASSWORD, method="yescrypt")}


def one(svc, answer, password=None):
    """Seconds the machine took for one login (client time left out)."""
    import pexpect
    t0 = time.perf_counter()
    child = pexpect.spawn("pamtester", [svc, "alice", "authenticate"],
                          encoding="utf-8", timeout=30)
    # pexpect's own pauses (before each send, after close) are not the
    # login's.
    child.delaybeforesend = None
    child.delayafterclose = 0
    child.ptyproc.delayafterclose = 0
    client = 0.0
    while True:
        i = child.expect([r"certauth challenge: (\S+)", "certauth response: ",
                          "[Pp]assword: ", pexpect.EOF])
        if i == 0:
            c = child.match.group(1)
        elif i == 1:
            t = time.perf_counter()
            resp = answer(c)
            client += time.perf_counter() - t
            lib.send_line(child, resp)
        elif i == 2:
            lib.send_line(child, password)
        else:
            break
    child.close()
    total = time.perf_counter() - t0
    if child.exitstatus != 0:
        raise RuntimeError("%s: login failed: %s" % (svc, child.before))
    return total - client


def spawn_time(argv):
    """Seconds from spawn to exit of argv, which must succeed."""
    import subprocess
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("bench: %s failed: %s" % (argv[0],
                                                   p.stderr.decode()))
    return t


def stats(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(0.9 * len(xs)))]


def main():
    try:
        lib.preflight()
    except lib.SkipAll as e:
        print("bench: cannot run: %s" % e)
        return 1
    build = lib.Build()
    ns = lib.Namespace(USERS)
    pki = lib.PKI()
    cert = pki.issue("alice", "p256")
    pki.gencrl()
    lib.bind("/mnt/bindings", "alice", cert)
    lib.service("bench-certauth", build.module,
                ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                 "crl_file=" + pki.crl, "bindings_dir=/mnt/bindings"])
    other = os.environ.get("BENCH_OTHER_MODULE")
    if other:
        lib.service("bench-other", other,
                    ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                     "crl_file=" + pki.crl, "bindings_dir=/mnt/bindings"])
    with open(os.path.join(lib.PAMD, "bench-permit"), "w") as f:
        f.write("auth required pam_permit.so\n")
    with open(os.path.join(lib.PAMD, "bench-unix"), "w") as f:
        f.write("auth required pam_unix.so\n")
    host = socket.gethostname()
    sign = lib.tool_sign(build, cert.key, host=host)
    message = "certauth:v1:%s:bench:alice:1790000000:%s" % (host, "A" * 43)
    sig = os.path.join(lib.PKI_DIR, "floor.sig")
    lib.run(["openssl", "dgst", "-sha256", "-sign", cert.key, "-out", sig],
            input=message)
    verify_once = os.path.join(build.top, "tests", "bench", "verify_once")
    floor_argv = [verify_once, pki.ca, pki.chain, pki.crl, cert.cert, sig,
                  message]
    runs = {"pam_permit": lambda: one("bench-permit", None),
            "pam_unix (yescrypt)": lambda: one("bench-unix", None, PASSWORD),
            "pam_certauth (P-256, CA, CRL)":
                lambda: one("bench-certauth", sign),
            "empty process (/bin/true)": lambda: spawn_time(["/bin/true"]),
            "verify_once (OpenSSL floor)": lambda: spawn_time(floor_argv)}
    if other:
        runs["pam_certauth, BENCH_OTHER_MODULE"] = \
            lambda: one("bench-other", sign)
    times = {k: [] for k in runs}
    for _ in range(3):              # warm the page cache
        for f in runs.values():
            f()
    for i in range(N):              # interleaved: drift hits all alike
        order = list(runs)
        if other and i % 2:
            a = order.index("pam_certauth (P-256, CA, CRL)")
            b = order.index("pam_certauth, BENCH_OTHER_MODULE")
            order[a], order[b] = order[b], order[a]
        for k in order:
            times[k].append(runs[k]())
    print("bench: whole login process, pamtester, %d runs each "
          "(client time left out)" % N)
    print("bench: %-32s %10s %10s" % ("stack", "median ms", "p90 ms"))
    med = {}
    for k, xs in times.items():
        m, p90 = stats(xs)
        med[k] = m
        print("bench: %-32s %10.2f %10.2f" % (k, 1000 * m, 1000 * p90))
    cert_k = "pam_certauth (P-256, CA, CRL)"
    added = med[cert_k] - med["pam_permit"]
    floor = (med["verify_once (OpenSSL floor)"] -
             med["empty process (/bin/true)"])
    print("bench: pam_certauth adds %.2f ms over pam_permit (median); "
          "%.2f x the pam_unix login"
          % (1000 * added, med[cert_k] / med["pam_unix (yescrypt)"]))
    print("bench: OpenSSL alone costs a fresh process %.2f ms (verify_once "
          "less /bin/true); the module's own share of the added time: "
          "%.2f ms" % (1000 * floor, 1000 * (added - floor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
