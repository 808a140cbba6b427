#!/usr/bin/python3
"""End-to-end under load: 200 real pamtester logins at once with OCSP on
(ocsp=hard, the real `openssl ocsp` responder on 127.0.0.1 behind a
relay that counts requests), 10 for each of 20 users and certificates.
All must succeed, and thanks to the cache and its fetch lock the
responder must be asked once per certificate, not once per login.  Then
200 logins at once with wrong signatures: all fail, and none reaches the
responder (the signature is checked first).  Afterwards every cache file
is a whole, verifiable answer and no temporary file is left.  Bounded:
200 logins per round, loopback only, every login with a timeout.  The
timings are printed, never asserted.  Prints TAP.
"""

import os
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

N_USERS = 20
PER_USER = 10
USERS = {"load%02d" % i: 2600 + i for i in range(N_USERS)}
CACHE = "/mnt/cache"
BIND = "/mnt/bindings"

lib.need_ocsp_helper()
build, ns, tap = lib.start(USERS)
if not lib.private_network():
    tap.diag("no private network namespace: the responder listens on the "
             "host's loopback")
HOST = socket.gethostname()
RESPONDERS = []

t0 = time.time()
pki = lib.PKI()
certs = {u: pki.issue(u, "p256") for u in USERS}
for u, c in certs.items():
    lib.bind(BIND, u, c)
lib.make_dir(CACHE, 0o700)
responder = lib.OpensslOcsp(pki.dir + "/index.txt", lib.free_port(),
                            pki.int, pki.int, pki.int_key).start()
relay = lib.TcpServer(lib.relay_to(responder.port))
tap.diag("PKI of %d users and the responder ready in %.1f s"
         % (N_USERS, time.time() - t0))
lib.service("certauth-load", build.module,
            ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
             "bindings_dir=" + BIND, "ocsp=hard", "ocsp_url=" + relay.url,
             "ocsp_cache_dir=" + CACHE, "ocsp_timeout_ms=30000"])


def sign(user):
    return lib.tool_sign(build, certs[user].key, host=HOST)


def round_of(logins):
    """Run every (user, answer) of logins at the same moment, each in a
    thread of its own; returns the Login results, the module's log lines
    of the whole round (those of one login cannot be told apart from its
    neighbours') and the wall time."""
    mark = ns.mark()
    results = [None] * len(logins)
    go = threading.Barrier(len(logins))

    def one(i, user, answer):
        try:
            go.wait(60)
            results[i] = lib.pamtester(ns, "certauth-load", user, answer,
                                       timeout=120)
        except Exception as e:  # reported as a failed login below
            r = lib.Login()
            r.error = "%s: %s" % (type(e).__name__, e)
            results[i] = r

    threads = [threading.Thread(target=one, args=(i, u, a), daemon=True)
               for i, (u, a) in enumerate(logins)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    wall = time.time() - start
    return results, lib.module_lines(ns.logs_since(mark)), wall


def summary(results):
    ok = sum(1 for r in results if r is not None and r.ok)
    errors = sorted({r.error for r in results if r is not None and r.error})
    return ok, errors


# --- 200 good logins, cold cache

good = [(u, sign(u)) for u in USERS for _ in range(PER_USER)]
results, logs, wall = round_of(good)
ok, errors = summary(results)
tap.diag("200 concurrent good logins: %.1f s wall, %.0f ms per login"
         % (wall, 1000 * wall / len(good)))
bad = [r for r in results if r is None or not r.ok]
tap.ok(ok == len(good), "%d concurrent logins with OCSP on: %d succeed"
       % (len(good), ok),
       (bad[0].diag() if bad and bad[0] is not None else "") +
       ("\nerrors: %s" % errors if errors else ""))
asked = relay.count()
tap.ok(asked == N_USERS,
       "the responder was asked once per certificate (%d requests for %d "
       "certificates, %d logins)" % (asked, N_USERS, len(good)))
fetched = [l for l in logs if re.search(r"authenticated .*; OCSP good "
                                        r"from http://", l)]
cached = [l for l in logs if re.search(r"authenticated .*; OCSP good "
                                       r"from cache", l)]
tap.ok(len(fetched) == N_USERS and len(cached) == len(good) - N_USERS and
       len({re.search(r"user (\S+) authenticated", l).group(1)
            for l in fetched}) == N_USERS,
       "one login per user asked the responder, the other %d took the "
       "cached answer" % (len(good) - N_USERS),
       "from the responder: %d, from the cache: %d"
       % (len(fetched), len(cached)))

# --- 200 wrong signatures: each user answers with the next user's key

users = list(USERS)
wrong = [(u, sign(users[(i + 1) % N_USERS]))
         for i, u in enumerate(users) for _ in range(PER_USER)]
results, logs, wall = round_of(wrong)
tap.diag("200 concurrent wrong logins: %.1f s wall" % wall)
refused = sum(1 for r in results if r is not None and r.status != 0 and
              r.pam_says("PAM_AUTH_ERR"))
reasons = [l for l in logs if "refused: signature does not verify" in l]
tap.ok(refused == len(wrong) and len(reasons) == len(wrong),
       "%d concurrent logins with wrong signatures: %d refused, %d logged "
       "for the signature" % (len(wrong), refused, len(reasons)))
tap.ok(relay.count() == asked,
       "no wrong answer reached the responder (%d requests in all)"
       % relay.count())

# --- the cache afterwards

names = sorted(os.listdir(CACHE))
entries = [n for n in names if re.fullmatch(r"[0-9a-f]{64}", n)]
locks = [n for n in names if n.startswith(".lock.")]
others = [n for n in names if n not in entries and n not in locks]
tap.ok(len(entries) == N_USERS and not others,
       "the cache holds %d answers, no temporary or stray file"
       % len(entries), "files: %s" % names)
broken = []
for n in entries:
    p = lib.run(["openssl", "ocsp", "-respin", os.path.join(CACHE, n),
                 "-resp_text", "-CAfile", pki.ca, "-VAfile", pki.int],
                check=False)
    if p.returncode != 0 or "Response verify OK" not in p.stderr + p.stdout \
            or "Cert Status: good" not in p.stdout:
        broken.append("%s: %s" % (n, (p.stderr or p.stdout)[-200:]))
tap.ok(entries and not broken,
       "every cache file is a whole answer that openssl ocsp verifies",
       "\n".join(broken[:3]))

relay.stop()
responder.stop()
sys.exit(tap.done())
