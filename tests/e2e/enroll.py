#!/usr/bin/python3
"""End-to-end: certauth-enroll add/list/check/remove against a bindings
directory in a private /mnt, refusal of every bad certificate, exit codes
of docs/PROTOCOL.md, "Bindings store", and a certificate enrolled with
`add` logging in through the real pamtester.  Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/enroll.py
"""

import os
import re
import socket
import stat
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

USERS = {"alice": 2101, "bob": 2102, "erin": 2105, "frank": 2106,
         "grace": 2107, "heidi": 2108, "ivan": 2109, "judy": 2110,
         "mallory": 2111, "nick": 2112}

build, ns, tap = lib.start(USERS)
HOST = socket.gethostname()
pki = lib.standard_pki()
C = pki.certs
lib.make_dir("/mnt/enroll")
EDIR = "/mnt/enroll/bindings"     # does not exist yet: add creates it
POLICY = ["--ca_file=" + pki.ca, "--chain_file=" + pki.chain]
OPTS = POLICY + ["--bindings_dir=" + EDIR]


def enroll(*args, opts=None):
    argv = [build.enroll] + (OPTS if opts is None else opts) + list(args)
    p = lib.run(argv, check=False)
    p.diag = LogDiag("$ certauth-enroll %s\nexit %d\nstdout: %s\nstderr: %s"
                     % (" ".join(args), p.returncode, p.stdout.strip(),
                        p.stderr.strip()))
    return p


def list_lines(p):
    return [l.split("\t") for l in p.stdout.splitlines() if l.strip()]


def safe(path, want_dir):
    st = os.lstat(path)
    kind = stat.S_ISDIR(st.st_mode) if want_dir else stat.S_ISREG(st.st_mode)
    return kind and st.st_uid == 0 and not st.st_mode & 0o022


# ----------------------------------------------------------- round trip

p = enroll("add", "alice", C["rsa2048"].cert)
tap.ok(p.returncode == 0, "add alice RSA-2048 certificate", p.diag)
tap.ok(os.path.isdir(EDIR) and safe(EDIR, True),
       "add created bindings_dir root-owned, not group/other-writable",
       LogDiag("%s mode %o" % (EDIR, os.stat(EDIR).st_mode
                               if os.path.exists(EDIR) else 0)))
af = os.path.join(EDIR, "alice")
tap.ok(os.path.exists(af) and safe(af, False) and
       open(af).read().count("BEGIN CERTIFICATE") == 1,
       "bindings file is a root-owned, safe regular file with one PEM")

p = enroll("add", "alice", C["rsa2048"].cert)
p2 = enroll("list", "alice")
tap.ok(p.returncode == 0 and len(list_lines(p2)) == 1,
       "adding the same certificate twice binds it once", p.diag + "\n" +
       p2.diag)

p = enroll("add", "alice", C["p256"].cert)
tap.ok(p.returncode == 0, "add alice a second (P-256) certificate", p.diag)
p = enroll("add", "bob", C["ed25519"].cert)
tap.ok(p.returncode == 0, "add bob an Ed25519 certificate", p.diag)

p = enroll("list", "alice")
rows = list_lines(p)
want = {C["rsa2048"].fingerprint: "rsa2048", C["p256"].fingerprint: "p256"}
good = p.returncode == 0 and len(rows) == 2
for row in rows:
    good = good and len(row) == 5 and row[0] == "alice" and \
        re.fullmatch(r"[0-9a-f]{64}", row[1].lower()) is not None and \
        row[1].lower() in want and ("CN=" + want.get(row[1].lower(), "?")
                                    in row[2].replace(" ", "")) and \
        "Test Intermediate CA" in row[3] and row[4].strip() != ""
tap.ok(good, "list alice: user, fingerprint, subject, issuer, notAfter",
       p.diag)

p = enroll("list")
users = sorted(set(r[0] for r in list_lines(p)))
tap.ok(p.returncode == 0 and users == ["alice", "bob"] and
       len(list_lines(p)) == 3, "list without a user lists everyone",
       p.diag)

p = enroll("check", "alice")
tap.ok(p.returncode == 0, "check alice passes (exit 0)", p.diag)

# The module accepts what enroll accepted.
lib.service("certauth-enroll-test", build.module,
            ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
             "bindings_dir=" + EDIR])
r = lib.pamtester(ns, "certauth-enroll-test", "alice",
                  lib.tool_sign(build, C["rsa2048"].key, host=HOST))
tap.ok(r.ok, "enrolled RSA-2048 certificate logs in through pamtester",
       r.diag())
r = lib.pamtester(ns, "certauth-enroll-test", "alice",
                  lib.ossl_sign(C["p256"].key, "p256"))
tap.ok(r.ok, "enrolled P-256 certificate logs in (openssl answer)",
       r.diag())
r = lib.pamtester(ns, "certauth-enroll-test", "bob",
                  lib.ossl_sign(C["ed25519"].key, "ed25519"))
tap.ok(r.ok, "enrolled Ed25519 certificate logs in (openssl answer)",
       r.diag())

p = enroll("remove", "alice", C["p256"].fingerprint)
rows = list_lines(enroll("list", "alice"))
tap.ok(p.returncode == 0 and [r[1].lower() for r in rows] ==
       [C["rsa2048"].fingerprint], "remove alice's P-256 certificate",
       p.diag)
r = lib.pamtester(ns, "certauth-enroll-test", "alice",
                  lib.ossl_sign(C["p256"].key, "p256"))
tap.ok(r.status != 0 and r.pam_says("PAM_AUTH_ERR"),
       "removed certificate no longer logs in", r.diag())
r = lib.pamtester(ns, "certauth-enroll-test", "alice",
                  lib.ossl_sign(C["rsa2048"].key, "rsa2048"))
tap.ok(r.ok, "the remaining certificate still logs in", r.diag())

p = enroll("remove", "alice", C["p256"].fingerprint)
tap.ok(p.returncode == 1 and p.stderr.strip() != "",
       "remove of an unknown fingerprint exits 1 with a reason", p.diag)

colon = ":".join(C["rsa2048"].fingerprint[i:i + 2].upper()
                 for i in range(0, 64, 2))
p = enroll("remove", "alice", "SHA256:" + colon)
tap.ok(p.returncode == 0, "remove by openssl-style SHA256:AA:BB... "
       "fingerprint", p.diag)
p = enroll("check", "alice")
tap.ok(p.returncode == 1, "check of a user with nothing bound exits 1",
       p.diag)

leftovers = [n for n in os.listdir(EDIR) if n not in ("alice", "bob")]
tap.ok(not leftovers, "no temporary files left in bindings_dir",
       "found: %s" % leftovers)

# --------------------------------------------------- bad certificates

CRL = ["--crl_file=" + pki.crl]
for user, cert, rx, extra in (
        ("erin", "expired", r"certificate expired 2021-01-01 00:00:00 UTC",
         []),
        ("frank", "notyet",
         r"certificate not valid before 2035-01-01 00:00:00 UTC", []),
        ("grace", "serverauth", r"extended ?key ?usage|clientauth|purpose",
         []),
        ("heidi", "keyenc", r"key ?usage|digitalsignature", []),
        ("ivan", "revoked", r"revoked", CRL),
        ("judy", "selfsigned", r"self.signed|issuer|trust|chain|verif", []),
        ("mallory", "rsa1024", r"1024|too small|bits|below", [])):
    p = enroll("add", user, C[cert].cert, opts=OPTS + extra)
    tap.ok(p.returncode == 1 and re.search(rx, p.stdout + p.stderr, re.I)
           and not os.path.exists(os.path.join(EDIR, user)),
           "add refuses the %s certificate (exit 1, reason, nothing "
           "written)" % cert, p.diag)

p = enroll("add", "judy", C["selfsigned"].cert,
           opts=["--trust=pinned", "--bindings_dir=" + EDIR])
tap.ok(p.returncode == 0, "trust=pinned: add accepts a self-signed "
       "certificate", p.diag)

with open("/mnt/enroll/not-a-cert.pem", "w") as f:
    f.write("hello, I am not a certificate\n")
p = enroll("add", "nick", "/mnt/enroll/not-a-cert.pem")
tap.ok(p.returncode in (1, 2) and p.stderr.strip() != "" and
       not os.path.exists(os.path.join(EDIR, "nick")),
       "add refuses a file without a certificate", p.diag)

# check reports each failing bound certificate and passes on any good one.
lib.bind(EDIR, "erin", C["expired"], C["p384"])
p = enroll("check", "erin")
tap.ok(p.returncode == 0 and re.search(
       r"FAIL: certificate expired 2021-01-01 00:00:00 UTC$", p.stdout,
       re.M) is not None, "check: one good certificate passes, the expired "
       "one's "
       "reason is printed", p.diag)
lib.bind(EDIR, "erin", C["expired"])
p = enroll("check", "erin")
tap.ok(p.returncode == 1 and re.search(r"expired", p.stdout + p.stderr)
       is not None, "check: only an expired certificate bound exits 1",
       p.diag)
lib.bind(EDIR, "ivan", C["revoked"])
p = enroll("check", "ivan", opts=OPTS + CRL)
tap.ok(p.returncode == 1 and "revoked" in (p.stdout + p.stderr),
       "check with crl_file: revoked certificate fails", p.diag)
os.chmod(os.path.join(EDIR, "ivan"), 0o664)
p = enroll("check", "ivan")
tap.ok(p.returncode == 1 and "writable" in (p.stdout + p.stderr),
       "check refuses a group-writable bindings file", p.diag)

# ----------------------------------------------- usage and config errors

for args, what in (((), "no command"), (("frobnicate",), "unknown command"),
                   (("add", "alice"), "add without a certificate"),
                   (("check",), "check without a user"),
                   (("remove", "alice", "not-a-fingerprint"),
                    "remove with a malformed fingerprint")):
    p = enroll(*args)
    tap.ok(p.returncode == 2 and p.stderr.strip() != "",
           "usage error exits 2: %s" % what, p.diag)

p = enroll("list", opts=OPTS + ["--foo=bar"])
tap.ok(p.returncode == 2 and "foo" in p.stderr,
       "unknown option --foo=bar exits 2 naming it", p.diag)
p = enroll("list", opts=OPTS + ["--challenge_ttl=never"])
tap.ok(p.returncode == 2 and "challenge_ttl" in p.stderr,
       "bad option value exits 2 naming the key", p.diag)
p = enroll("add", "bob", C["p256"].cert,
           opts=["--ca_file=/mnt/enroll/no-such-ca.pem",
                 "--bindings_dir=" + EDIR])
tap.ok(p.returncode == 2 and "no-such-ca.pem" in p.stderr,
       "missing CA file is a configuration error (exit 2)", p.diag)
p = enroll("list", opts=["--config=/mnt/enroll/no-such.conf"])
tap.ok(p.returncode == 2 and "no-such.conf" in p.stderr,
       "missing --config file is a configuration error (exit 2)", p.diag)

# The tool reads the module's configuration file.
with open("/mnt/enroll/certauth.conf", "w") as f:
    f.write("# shared with the module\nca_file = %s\nchain_file = %s\n"
            "bindings_dir = %s\n" % (pki.ca, pki.chain, EDIR))
p = enroll("add", "nick", C["p384"].cert,
           opts=["--config=/mnt/enroll/certauth.conf"])
lib.service("certauth-enroll-conf", build.module,
            ["config=/mnt/enroll/certauth.conf"])
r = lib.pamtester(ns, "certauth-enroll-conf", "nick",
                  lib.tool_sign(build, C["p384"].key))
tap.ok(p.returncode == 0 and r.ok, "add with --config=FILE, then the "
       "module with config=FILE logs the user in", p.diag + "\n" + r.diag())

# Every module key is an option, the flags too, and a wrong one is refused.
p = enroll("list", "nick", opts=OPTS + ["--nodelay", "--nouserok=no"])
tap.ok(p.returncode == 0 and len(list_lines(p)) == 1,
       "--nodelay and --nouserok=no are taken like the other module keys",
       p.diag)
p = enroll("list", "nick", opts=OPTS + ["--nodelay=maybe"])
tap.ok(p.returncode == 2 and "nodelay" in p.stderr,
       "--nodelay=maybe is refused as a usage error naming the key", p.diag)

sys.exit(tap.done())
