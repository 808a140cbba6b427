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
         "mallory": 2111, "nick": 2112, "oscar": 2113, "peggy": 2114}

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
tap.ok(p.returncode == 1 and p.stderr.strip() ==
       "certauth-enroll: no certificate with fingerprint %s is bound to "
       "alice (certauth-enroll list alice shows the bound ones)"
       % C["p256"].fingerprint,
       "remove of an unknown fingerprint exits 1 with a reason", p.diag)

colon = ":".join(C["rsa2048"].fingerprint[i:i + 2].upper()
                 for i in range(0, 64, 2))
p = enroll("remove", "alice", "SHA256:" + colon)
tap.ok(p.returncode == 0, "remove by openssl-style SHA256:AA:BB... "
       "fingerprint", p.diag)
p = enroll("check", "alice")
tap.ok(p.returncode == 1 and p.stderr.strip() ==
       "certauth-enroll: no certificate is bound to alice (certauth-enroll "
       "add alice CERT binds one)",
       "check of a user with nothing bound exits 1 saying how to bind one",
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

# -------------------------------------- an administrator's mistakes

P = "certauth-enroll: "


def errlines(p):
    return [l for l in p.stderr.splitlines() if l.strip()]


# An account this host does not have: refused unless --force.
p = enroll("add", "zoe", C["p256"].cert)
tap.ok(p.returncode == 1 and errlines(p) == [
    P + "no such account 'zoe' on this host; check the name, or give "
    "--force to bind it anyway (for an account that will be created "
    "later, or one from a directory)"] and
    not os.path.exists(os.path.join(EDIR, "zoe")),
    "add to an unknown account is refused (exit 1, how to go on)", p.diag)
p = enroll("--force", "add", "zoe", C["p256"].cert)
tap.ok(p.returncode == 0 and errlines(p) == [
    P + "warning: no such account 'zoe' on this host; binding anyway "
    "(--force)"] and os.path.exists(os.path.join(EDIR, "zoe")),
    "add --force binds to an unknown account, with a warning", p.diag)
p = enroll("--force", "list", "zoe")
tap.ok(p.returncode == 2 and errlines(p)[0] ==
       P + "--force applies to add only",
       "--force with another command is a usage error", p.diag)
p = enroll("check", "zoe")
tap.ok(p.returncode == 0 and errlines(p) == [
    P + "warning: no such account 'zoe' on this host: no login as it can "
    "succeed until the host knows it"],
    "check warns that the account does not exist", p.diag)
p = enroll("remove", "zoe", C["p256"].fingerprint)
tap.ok(p.returncode == 0, "remove zoe's binding", p.diag)

# A certificate bound to another account: bound, with a warning.
FP = C["ed25519"].fingerprint
p = enroll("add", "peggy", C["ed25519"].cert)
tap.ok(p.returncode == 0 and p.stdout.startswith("bound " + FP) and
       errlines(p) == [
           P + "warning: certificate %s is also bound to bob; whoever holds "
           "its key can log in as each of them (certauth-enroll remove USER "
           "%s unbinds it)" % (FP, FP)],
       "add of a certificate bound to bob binds it and names bob", p.diag)
p = enroll("add", "oscar", C["ed25519"].cert)
tap.ok(p.returncode == 0 and errlines(p) == [
    P + "warning: certificate %s is also bound to bob, peggy; whoever holds "
    "its key can log in as each of them (certauth-enroll remove USER %s "
    "unbinds it)" % (FP, FP)],
    "the warning names every other account", p.diag)
p = enroll("add", "bob", C["rsa2048"].cert)
tap.ok(p.returncode == 0 and errlines(p) == [],
       "a certificate bound to nobody else gets no warning", p.diag)
for u in ("oscar", "peggy"):
    enroll("remove", u, FP)

# DER is taken and stored as PEM; other files say what they are.
DER = "/mnt/enroll/p256.der"
lib.run(["openssl", "x509", "-in", C["p256"].cert, "-outform", "DER",
         "-out", DER])
p = enroll("add", "oscar", DER)
of = os.path.join(EDIR, "oscar")
rows = list_lines(enroll("list", "oscar"))
tap.ok(p.returncode == 0 and p.stdout.startswith("bound " +
                                                 C["p256"].fingerprint) and
       os.path.exists(of) and
       open(of).read().startswith("-----BEGIN CERTIFICATE-----") and
       [r[1] for r in rows] == [C["p256"].fingerprint],
       "add takes a DER certificate and stores it as PEM", p.diag)
enroll("remove", "oscar", C["p256"].fingerprint)

KEYDER = "/mnt/enroll/p256-key.der"
lib.run(["openssl", "pkey", "-in", C["p256"].key, "-outform", "DER",
         "-out", KEYDER])
CSR = "/mnt/enroll/p256.csr"
lib.run(["openssl", "req", "-new", "-key", C["p256"].key, "-subj",
         "/CN=oscar", "-out", CSR])
CSRDER = "/mnt/enroll/p256-csr.der"
lib.run(["openssl", "req", "-in", CSR, "-outform", "DER", "-out", CSRDER])
KEY_FIX = "give the user's certificate instead (the key stays with the user)"
CSR_FIX = "give the certificate the CA issued for it"
for path, what, fix in (
        (C["p256"].key, "a private key", KEY_FIX),
        (KEYDER, "a private key", KEY_FIX),
        (CSR, "a certificate request (CSR)", CSR_FIX),
        (CSRDER, "a certificate request (CSR)", CSR_FIX),
        (pki.crl, "a certificate revocation list (CRL)",
         "give the user's certificate instead (a CRL goes in crl_file or "
         "crl_dir)")):
    p = enroll("add", "oscar", path)
    tap.ok(p.returncode == 1 and errlines(p) == [
        P + "%s: this is %s, not a certificate; %s" % (path, what, fix)]
        and not os.path.exists(of),
        "add refuses %s: %s" % (os.path.basename(path), what), p.diag)
p = enroll("add", "oscar", "/mnt/enroll/not-a-cert.pem")
tap.ok(p.returncode == 1 and errlines(p) == [
    P + "/mnt/enroll/not-a-cert.pem: no certificate in it: neither a PEM "
    "certificate (-----BEGIN CERTIFICATE-----) nor a DER one"],
    "add of a text file says it is neither PEM nor DER", p.diag)

# list without a user: every skipped entry on a line of its own, status 1.
SDIR = "/mnt/enroll/skips"
lib.bind(SDIR, "alice", C["rsa2048"])
lib.bind(SDIR, "oscar", C["p256"], mode=0o664)
lib.bind(SDIR, "peggy", C["p256"])
os.chown(os.path.join(SDIR, "peggy"), 2114, 0)
with open(os.path.join(SDIR, "nick"), "w") as f:
    f.write("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
with open(os.path.join(SDIR, "ivan"), "w") as f:
    f.write("# nothing here yet\n")
os.symlink(os.path.join(SDIR, "alice"), os.path.join(SDIR, "bob"))
lib.make_dir(os.path.join(SDIR, "old"))
lib.bind(SDIR, ".hidden", C["p256"])
lib.bind(SDIR, "alice,tmp.Xy12ab", C["p256"])
SOPTS = POLICY + ["--bindings_dir=" + SDIR]
p = enroll("list", opts=SOPTS)
fixing = "; logins as %s fail until it is fixed: "
want = [
    P + "skipped bob: bindings file %s/bob is a symbolic link" % SDIR +
    fixing % "bob" + "replace the link with a copy of the file",
    P + "skipped ivan: bindings file %s/ivan holds no certificate; the "
    "module finds no binding for ivan: add a certificate, or remove the "
    "file" % SDIR,
    P + "skipped nick: bindings file %s/nick: certificate 1 does not parse"
    % SDIR + fixing % "nick" + "remove the damaged part, or remove the "
    "file and add the certificates again",
    P + "skipped %s/old: a directory, not a bindings file; move it out of %s"
    % (SDIR, SDIR),
    P + "skipped oscar: bindings file %s/oscar is group-writable" % SDIR +
    fixing % "oscar" + "chmod go-w %s/oscar" % SDIR,
    P + "skipped peggy: bindings file %s/peggy is not owned by root "
    "(uid 2114)" % SDIR + fixing % "peggy" + "chown root:root %s/peggy"
    % SDIR,
]
tap.ok(p.returncode == 1 and [r[0] for r in list_lines(p)] == ["alice"] and
       errlines(p) == want,
       "list reports each skipped entry with the reason and the fix, "
       "exit 1", p.diag + "\nwant:\n" + "\n".join(want))
p = enroll("list", "oscar", opts=SOPTS)
tap.ok(p.returncode == 1 and errlines(p) == [
    P + "cannot read the bindings of oscar: bindings file %s/oscar is "
    "group-writable" % SDIR + fixing % "oscar" + "chmod go-w %s/oscar"
    % SDIR], "list USER of an unsafe file says how to fix it", p.diag)
p = enroll("list", "ivan", opts=SOPTS)
tap.ok(p.returncode == 1 and errlines(p) == [
    P + "no certificate is bound to ivan: bindings file %s/ivan holds no "
    "certificate; the module finds no binding for ivan: add a "
    "certificate, or remove the file" % SDIR],
    "list USER of a file without a certificate says so", p.diag)
for name in ("bob", "ivan", "nick", "oscar", "peggy", "old"):
    path = os.path.join(SDIR, name)
    os.rmdir(path) if name == "old" else os.unlink(path)
p = enroll("list", opts=SOPTS)
tap.ok(p.returncode == 0 and p.stderr == "" and len(list_lines(p)) == 1,
       "list of a clean directory: exit 0, nothing on stderr", p.diag)

# Unsetting a key: the README's configuration sets crl_file, which
# trust=pinned refuses; --crl_file= takes it back for one command.
with open("/mnt/enroll/readme.conf", "w") as f:
    f.write("ca_file = %s\nchain_file = %s\ncrl_file = %s\n"
            "bindings_dir = %s\n" % (pki.ca, pki.chain, pki.crl, EDIR))
RCONF = ["--config=/mnt/enroll/readme.conf"]
p = enroll("--trust=pinned", "check", "bob", opts=RCONF)
tap.ok(p.returncode == 2 and errlines(p) == [
    P + "configuration error: crl_file and crl_dir cannot be used with "
    "trust=pinned: unset them with an empty value (crl_file=)"],
    "trust=pinned with the file's crl_file: the error says how to unset",
    p.diag)
for unset in ("--crl_file=", "--crl_file=none"):
    p = enroll("--trust=pinned", unset, "check", "bob", opts=RCONF)
    tap.ok(p.returncode == 0 and p.stdout.count(" ok\n") == 2,
           "%s unsets the file's crl_file for trust=pinned" % unset, p.diag)
p = enroll("--challenge_ttl=", "list", opts=RCONF)
tap.ok(p.returncode == 2 and errlines(p) == [
    P + "configuration error: option challenge_ttl cannot be unset: give "
    "a number from 1 to 3600"],
    "an empty value for a number is an error saying what to give", p.diag)
p = enroll("--config=", "list", opts=[])
tap.ok(p.returncode == 2 and errlines(p) == [
    P + "configuration error: option config cannot be unset: leave it out "
    "to read the default file"], "--config= is an error", p.diag)

# --help cites only what is installed.
p = lib.run([build.enroll, "--help"], check=False)
tap.ok(p.returncode == 0 and "certauth-enroll(8)" in p.stdout and
       "pam_certauth.conf(5)" in p.stdout and "--force" in p.stdout and
       re.search(r"docs/|protocol-v\d|section \d|spec/", p.stdout) is None,
       "--help cites the manual pages, no document that does not ship",
       p.stdout)

sys.exit(tap.done())
