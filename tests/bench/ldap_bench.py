#!/usr/bin/python3
"""Benchmark: a login whose certificate is bound in an LDAP directory,
against one bound in the bindings files.  Three real slapd servers
(tests/e2e/slapd.py) in this script's private mount and network
namespaces hold 100, 10,000 and 100,000 accounts, each account with a
certificate, the bench user among them with the real one.  The driver
tests/bench/ldap_logins.c logs the user in through libpam in one small
process (pam_start_confdir, pam_authenticate, pam_end, as root), the
same P-256 certificate and the same trust files (CA, intermediate, CRL)
each way:

- files: bindings=files, the certificate in the bindings files;
- warm: bindings=ldap, a fresh cache entry (the directory is not asked);
- cold 100 / 10k / 100k: bindings=ldap, the cache entry removed before
  each login, so that each login runs certauth-ldap-fetch, which asks
  that directory over ldaps:// (TLS, anonymous search), and writes the
  cache entry again.

Beside them, in the same rounds, the floors of a cold lookup:

- exec: certauth-ldap-fetch forked and run as the module runs it (its
  own session, user nobody, LDAPNOINIT=1) on its usage error path: the
  process, the dynamic linking of libldap and GnuTLS, nothing asked;
- fetch 100 / 10k / 100k: the same helper with the module's request for
  the user, alone: process, TLS connection, search, record;
- libldap 100 / 10k / 100k: the same lookup with libldap inside the
  driver (same options, a new TLS context each time): the directory's
  and TLS's share without any process;
- libldap plain 100k: the same without TLS (ldap://): connection and
  search alone;
- ldapsearch 100k: the OpenLDAP client doing the same, for comparison;
- the helper's lookup through env(1) with and without SASL_PATH pointing
  nowhere: what loading Cyrus SASL's plugins costs it (nothing since the
  helper sets SASL_PATH itself).

Every step runs once a round, in an order shuffled each round, so that
noise and the cost of following a fork hit every mode alike.  Prints p50 and
p99 of each and the ratios of the goals (warm/files at most 1.2, cold
p50 - warm p50 at most 2 ms); never asserts a time.  Checks that the
logs show each mode did what it says (cold logins answered by their
directory, warm ones by the cache).  Run as root, by `make bench` or:

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/bench/ldap_bench.py [N]

N (default: env BENCH_LDAP_N, else 300) rounds after 10 warm-up rounds.
"""

import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import lib  # noqa: E402

N = int(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1]
        else os.environ.get("BENCH_LDAP_N") or 300)
WARMUP = 10
USER = "user00050"          # in every directory (bulk_load's names)
USER_INDEX = 50
UID = 2951
SIZES = ((100, "100", "127.0.0.2"), (10000, "10k", "127.0.0.3"),
         (100000, "100k", "127.0.0.4"))
BIND = "/mnt/bindings"
WARM_CACHE = "/mnt/ldapcache-warm"


def der(cert):
    return subprocess.run(["openssl", "x509", "-in", cert.cert, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def request(d, user):
    """The request the module writes to certauth-ldap-fetch (ldap_wire.h)
    for user with the options of the services below."""
    fields = [d.uri, d.base, "(uid=%u)", user, "userCertificate;binary",
              d.ca_file, "1", "", "", "3000"]
    out = b"LDAPREQ1\n"
    for f in fields:
        b = f.encode()
        out += b"%d\n%s\n" % (len(b), b)
    return out


def pct(xs, p):
    """Nearest-rank percentile p (0..1)."""
    xs = sorted(xs)
    k = max(1, int(-(-p * len(xs) // 1)))
    return xs[min(len(xs), k) - 1]


def main():
    try:
        lib.preflight(("openssl", "mount", "ldapsearch"))
    except lib.SkipAll as e:
        print("bench: cannot run: %s" % e)
        return 1
    build = lib.Build()
    helper = os.path.join(os.path.dirname(lib.ocsp_helper(build)),
                          "certauth-ldap-fetch")
    driver = os.path.join(build.top, "tests", "bench", "ldap_logins")
    for p in (helper, driver):
        if not os.access(p, os.X_OK):
            print("bench: cannot run: %s not built (make bench builds it)"
                  % p)
            return 1
    ns = lib.Namespace({USER: lib.Account(UID)})
    if not lib.private_network():
        print("bench: cannot run: no private network namespace for slapd")
        return 1
    import slapd
    missing = slapd.missing_tools()
    if missing:
        print("bench: cannot run: missing " + " ".join(missing))
        return 1

    pki = lib.PKI()
    cert = pki.issue(USER, "p256")
    other = pki.issue("filler", "p256")   # every other account's
    pki.gencrl()
    mine, filler = der(cert), der(other)
    lib.bind(BIND, USER, cert)
    trust = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
             "crl_file=" + pki.crl, "bindings_dir=" + BIND]
    lib.service("bench-files", build.module, trust + ["bindings=files"])

    def certs_for(i):
        return [mine if i == USER_INDEX else filler]

    dirs = {}
    for n, label, ip in SIZES:
        d = slapd.Slapd("/mnt/slapd-" + label, pki, host="ldap%s.test"
                        % label, ip=ip)
        t = d.bulk_load(n, certs_for=certs_for)
        d.start()
        dirs[label] = d
        print("bench: slapd of %d accounts loaded in %.1f s (%s)"
              % (n, t, d.uri))
        sys.stdout.flush()

    def ldap_service(name, d, cache):
        lib.make_dir(cache, 0o700)
        return lib.service(name, build.module, trust + [
            "bindings=ldap", "ldap_uri=" + d.uri, "ldap_base=" + d.base,
            "ldap_ca_file=" + d.ca_file, "ldap_cache_dir=" + cache,
            "ldap_cache_max_age=3600"])

    steps = ["login files bench-files",
             "login warm " + ldap_service("bench-warm", dirs["100k"],
                                          WARM_CACHE),
             "spawn true 0 - /bin/true",
             "spawn exec 2 - %s usage" % helper]
    for _, label, _ in SIZES:
        d = dirs[label]
        cache = "/mnt/ldapcache-cold-" + label
        req = "/mnt/request-" + label
        with open(req, "wb") as f:
            f.write(request(d, USER))
        os.chmod(req, 0o600)
        steps += [
            "cold cold-%s %s %s" % (label, ldap_service(
                "bench-cold-" + label, d, cache), cache),
            "spawn fetch-%s 0 %s %s" % (label, req, helper),
            "ldap libldap-%s %s %s (uid=%s) userCertificate;binary %s"
            % (label, d.uri, d.base, USER, d.ca_file)]
    d = dirs["100k"]
    # What Cyrus SASL's plugins, which libldap loads at its start though
    # the helper never binds with SASL, cost: the helper through env(1)
    # both ways, so that only SASL_PATH differs.
    env = lib.run(["sh", "-c", "command -v env"]).stdout.strip()
    steps += ["spawn sasl-100k 0 /mnt/request-100k %s %s" % (env, helper),
              "spawn nosasl-100k 0 /mnt/request-100k %s "
              "SASL_PATH=/nonexistent %s" % (env, helper)]
    steps.append("ldap libldap-plain-100k %s %s (uid=%s) "
                 "userCertificate;binary %s"
                 % (d.uri_plain, d.base, USER, d.ca_file))
    steps.append("spawn ldapsearch-100k 0 - %s -LLL -x -H %s -o "
                 "TLS_CACERT=%s -o TLS_REQCERT=demand -z 2 -b %s "
                 "(uid=%s) userCertificate;binary"
                 % (lib.run(["sh", "-c", "command -v ldapsearch"])
                    .stdout.strip(), d.uri, d.ca_file, d.base, USER))
    plan = "/mnt/ldap-bench.plan"
    with open(plan, "w") as f:
        f.write("\n".join(steps) + "\n")

    def drive(plan, count, warmup):
        p = subprocess.run([driver, "--plan", plan, "--confdir", lib.PAMD,
                            "--user", USER, "--key", cert.key,
                            "--count", str(count), "--warmup", str(warmup)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("bench: %s failed: %s" % (driver, p.stderr))
        return p

    # The warm cache filled by one login first.
    with open(plan + "-fill", "w") as f:
        f.write(steps[1] + "\n")
    drive(plan + "-fill", 1, 0)
    if len(os.listdir(WARM_CACHE)) != 1:
        raise SystemExit("bench: no cache entry in %s" % WARM_CACHE)
    time.sleep(0.5)
    mark = ns.mark()
    t0 = time.monotonic()
    p = drive(plan, N, WARMUP)
    took = time.monotonic() - t0
    time.sleep(0.5)                  # the last log lines
    logs = lib.module_lines(ns.logs_since(mark))
    for d in dirs.values():
        d.stop()

    times, conv = {}, {}
    for line in p.stdout.splitlines():
        tag, us, inside = line.split()
        times.setdefault(tag, []).append(float(us) / 1000)
        conv.setdefault(tag, []).append(float(inside) / 1000)

    # What each mode did, from the module's own log lines.
    auth = [l for l in logs if " authenticated with certificate " in l]
    rounds = N + WARMUP
    seen = {"warm": sum("bound by ldap (cache)" in l for l in auth)}
    for _, label, _ in SIZES:
        seen["cold-" + label] = sum(
            ("bound by ldap %s" % dirs[label].uri) in l for l in auth)
    seen["files"] = sum("bound by" not in l for l in auth)
    wrong = {k: v for k, v in seen.items() if v != rounds}
    if wrong or len(auth) != rounds * len(seen):
        raise SystemExit("bench: the logs do not show %d logins of each "
                         "mode as it should be: %s (%d lines)\n%s"
                         % (rounds, seen, len(auth),
                            "\n".join(logs[-10:])))

    print("bench: LDAP bindings against files, libpam in one process "
          "(root), P-256, CA + intermediate + CRL, ldaps:// on loopback; "
          "%d rounds of %d steps, interleaved, in %.0f s"
          % (N, len(steps), took))
    print("bench: %-44s %9s %9s %9s" % ("step", "p50 ms", "p99 ms",
                                        "mod p50"))
    rows = [("files", "login, bound in files"),
            ("warm", "login, ldap, warm cache")]
    rows += [("cold-" + l, "login, ldap, cold, %s entries" % l)
             for _, l, _ in SIZES]
    rows += [("true", "floor: fork+exec of /bin/true as nobody"),
             ("exec", "floor: helper fork+exec, usage error")]
    rows += [("fetch-" + l, "floor: helper lookup alone, %s" % l)
             for _, l, _ in SIZES]
    rows += [("libldap-" + l, "floor: libldap TLS+search in-process, %s" % l)
             for _, l, _ in SIZES]
    rows += [("libldap-plain-100k",
              "floor: libldap no TLS, in-process, 100k"),
             ("ldapsearch-100k", "ldapsearch, 100k (comparison)"),
             ("sasl-100k", "helper via env(1), 100k"),
             ("nosasl-100k", "the same, SASL_PATH=/nonexistent")]
    p50, mod = {}, {}
    for k, name in rows:
        xs = times[k]
        p50[k] = statistics.median(xs)
        mod[k] = statistics.median([a - b for a, b in zip(xs, conv[k])])
        own = "%9.2f" % mod[k] if k in ("files", "warm") or \
            k.startswith("cold") else "%9s" % "-"
        print("bench: %-44s %9.2f %9.2f %s" % (name, p50[k],
                                                pct(xs, 0.99), own))
    print("bench: (mod p50: the login less the time inside the "
          "conversation, i.e. the client's signing)")
    print("bench: warm/files: %.2f whole login, %.2f module's part "
          "(goal <= 1.2)" % (p50["warm"] / p50["files"],
                             mod["warm"] / mod["files"]))
    for _, l, _ in SIZES:
        gap = p50["cold-" + l] - p50["warm"]
        print("bench: cold %s p50 - warm p50: %.2f ms (goal <= 2 ms); "
              "helper alone %.2f ms = exec %.2f + the rest %.2f; "
              "in-process libldap %.2f ms"
              % (l, gap, p50["fetch-" + l], p50["exec"],
                 p50["fetch-" + l] - p50["exec"], p50["libldap-" + l]))
    print("bench: libldap's loading of the SASL plugins in the helper: "
          "%.2f ms (p50 with them - p50 without)"
          % (p50["sasl-100k"] - p50["nosasl-100k"]))
    print("bench: cold 100k p50 / cold 100 p50: %.2f (flat is 1)"
          % (p50["cold-100k"] / p50["cold-100"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
