#!/usr/bin/python3
"""End-to-end: the real pamtester drives pam_certauth.so through the real
conversation on a pty, answered by certauth-sign and by stock openssl.
Every positive case must log in, every negative case must fail, and the
module's syslog line must give the reason.  Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/pamtester.py
"""

import os
import re
import shutil
import socket
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

USERS = {
    "alice": 2001,    # RSA-2048
    "bob": 2002,      # P-256
    "carol": 2003,    # P-384
    "dave": 2004,     # Ed25519
    "erin": 2005,     # expired
    "frank": 2006,    # not yet valid
    "grace": 2007,    # serverAuth only
    "heidi": 2008,    # keyEncipherment only
    "ivan": 2009,     # revoked
    "judy": 2010,     # untrusted self-signed (pinned elsewhere)
    "mallory": 2011,  # RSA-1024
    "nick": 2012,     # no binding
    "olivia": 2013,   # two bindings (P-384 and Ed25519)
    "peggy": 2014,    # unsafe bindings files
    "trent": 2015,    # P-521
    "ursula": 2016,   # Ed448
    "ren\u00e9": 2017,  # a name that is percent-encoded (UTF-8)
}
RENE = "ren\u00e9"

PAM_SUCCESS, PAM_SERVICE_ERR, PAM_AUTH_ERR, PAM_AUTHINFO_UNAVAIL = 0, 3, 7, 9

build, ns, tap = lib.start(USERS)
HOST = socket.gethostname()
MOD = build.module
t_start = time.time()
pki = lib.standard_pki()
C = pki.certs
BIND = "/mnt/bindings"

for user, cert in (("alice", "rsa2048"), ("bob", "p256"), ("carol", "p384"),
                   ("dave", "ed25519"), ("erin", "expired"),
                   ("frank", "notyet"), ("grace", "serverauth"),
                   ("heidi", "keyenc"), ("ivan", "revoked"),
                   ("judy", "selfsigned"), ("mallory", "rsa1024")):
    lib.bind(BIND, user, C[cert])
lib.bind(BIND, "olivia", C["p384"], C["ed25519"])
pki.issue("p521", "p521")
pki.issue("ed448", "ed448")
lib.bind(BIND, "trent", C["p521"])
lib.bind(BIND, "ursula", C["ed448"])
lib.bind(BIND, "ren%C3%A9", C["p256"])   # docs/PROTOCOL.md, "Bindings store": encoded name
ENC_KEY, PASS_FILE = pki.encrypt_key(C["p384"], "correct horse battery")

CA_ARGS = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
           "bindings_dir=" + BIND]
lib.service("certauth-ca", MOD, CA_ARGS)
lib.service("certauth-crl", MOD, CA_ARGS + ["crl_file=" + pki.crl])
lib.service("certauth-ttl", MOD, CA_ARGS + ["challenge_ttl=2"])
# crl=chain: the intermediate's CRL plus one from the root, which either
# is clean or revokes the intermediate itself.
for name, revoke in (("root-clean", False), ("root-revokes-int", True)):
    both = "/mnt/pki/both-%s.crl.pem" % name
    with open(both, "w") as f:
        for part in (pki.crl, pki.root_crl(name, revoke)):
            f.write(open(part).read())
    lib.service("certauth-chain-" + name, MOD,
                CA_ARGS + ["crl_file=" + both, "crl=chain"])
lib.service("certauth-leaf-root-revokes-int", MOD,
            CA_ARGS + ["crl_file=/mnt/pki/both-root-revokes-int.crl.pem",
                       "crl=leaf"])
lib.service("certauth-chain-leafonly", MOD,
            CA_ARGS + ["crl_file=" + pki.crl, "crl=chain"])
with open("/mnt/pki/garbage-ca.pem", "w") as f:
    f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
            "-----END CERTIFICATE-----\n")
lib.service("certauth-garbageca", MOD,
            ["ca_file=/mnt/pki/garbage-ca.pem", "chain_file=" + pki.chain,
             "bindings_dir=" + BIND])
# Trust files of the wrong kind: a DER certificate, a directory.
lib.run(["openssl", "x509", "-in", pki.ca, "-outform", "DER", "-out",
         "/mnt/pki/ca.der"])
os.chmod("/mnt/pki/ca.der", 0o644)
lib.service("certauth-derca", MOD,
            ["ca_file=/mnt/pki/ca.der", "chain_file=" + pki.chain,
             "bindings_dir=" + BIND])
lib.service("certauth-dirca", MOD,
            ["ca_file=/mnt/pki", "chain_file=" + pki.chain,
             "bindings_dir=" + BIND])
lib.service("certauth-nocrl", MOD,
            CA_ARGS + ["crl_file=/mnt/pki/no-such.crl.pem"])
lib.service("certauth-host", MOD, CA_ARGS + ["hostname=login.example.org"])
lib.bind("/mnt/b-pinned", "judy", C["selfsigned"])
lib.bind("/mnt/b-pinned", "alice", C["rsa2048"])
lib.service("certauth-pinned", MOD,
            ["trust=pinned", "bindings_dir=/mnt/b-pinned"])
lib.service("certauth-noca", MOD, ["ca_file=/mnt/pki/no-such-ca.pem",
                                   "chain_file=" + pki.chain,
                                   "bindings_dir=" + BIND])
lib.service("certauth-badopt", MOD, CA_ARGS + ["foo=bar"])
lib.service("certauth-badttl", MOD, CA_ARGS + ["challenge_ttl=soon"])
lib.service("certauth-noconf", MOD,
            CA_ARGS + ["config=/mnt/no-such-pam_certauth.conf"])
with open("/mnt/certauth.conf", "w") as f:
    f.write("# written by the e2e tests\nca_file = %s\nchain_file = %s\n"
            "bindings_dir = %s\nchallenge_ttl = 2\n"
            % (pki.ca, pki.chain, BIND))
lib.service("certauth-conf", MOD, ["config=/mnt/certauth.conf",
                                   "challenge_ttl=60"])
# nouserok returns PAM_IGNORE; let the stack continue to pam_permit.
with open(os.path.join(lib.PAMD, "certauth-nouserok"), "w") as f:
    f.write("auth [success=done ignore=ignore default=die] %s %s nouserok\n"
            "auth required pam_permit.so\n"
            "account required pam_permit.so\n" % (MOD, " ".join(CA_ARGS)))

# Unsafe bindings: each directory is otherwise correct.
gw = lib.bind("/mnt/b-gw", "peggy", C["p256"], mode=0o664)
os.chmod(gw, 0o664)
lib.make_dir("/mnt/b-link")
target = lib.bind("/mnt/b-linktarget", "peggy", C["p256"])
os.symlink(target, "/mnt/b-link/peggy")
lib.bind("/mnt/b-gwdir", "peggy", C["p256"])
os.chmod("/mnt/b-gwdir", 0o775)
own = lib.bind("/mnt/b-owner", "peggy", C["p256"])
os.chown(own, USERS["peggy"], USERS["peggy"])
ow = lib.bind("/mnt/b-ow", "peggy", C["p256"], mode=0o646)
os.chmod(ow, 0o646)
for name in ("gw", "link", "gwdir", "owner", "ow"):
    lib.service("certauth-" + name, MOD,
                ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                 "bindings_dir=/mnt/b-" + name])

tap.diag("PKI and services ready in %.1f s" % (time.time() - t_start))

RUNS = []   # every Login, for the checks across all runs


def login(svc, user, answer, delay=0.0):
    r = lib.pamtester(ns, svc, user, answer, delay=delay)
    RUNS.append(r)
    return r


def sign(cert, **kw):
    return lib.tool_sign(build, C[cert].key, host=kw.pop("host", HOST), **kw)


def ossl(cert, **kw):
    return lib.ossl_sign(C[cert].key, C[cert].kind, **kw)


def expect_success(name, svc, user, answer, cert=None):
    r = login(svc, user, answer)
    good = r.ok and r.status == 0
    text = r.log_text()
    if good and cert is not None:
        # The success line names the user and the certificate.
        flat = text.lower().replace(":", "")
        good = ("user " + user) in text and C[cert].fingerprint in flat
    tap.ok(good, name, r.diag())
    return r


def expect_failure(name, svc, user, answer, reason=None, code="PAM_AUTH_ERR",
                   challenge=True, delay=0.0):
    r = login(svc, user, answer, delay=delay)
    problems = []
    if r.status == 0 or "successfully authenticated" in r.transcript:
        problems.append("login SUCCEEDED")
    if code and not r.pam_says(code):
        problems.append("expected %s" % code)
    if challenge and r.challenge is None:
        problems.append("no challenge was issued")
    if reason and not re.search(reason, r.log_text(), re.I):
        problems.append("syslog reason does not match /%s/" % reason)
    d = r.diag()
    if problems:
        d = LogDiag(d + "\nproblem: " + "; ".join(problems))
    tap.ok(not problems, name, d)
    return r


# ------------------------------------------------------------ positive

expect_success("RSA-2048 login answered by certauth-sign", "certauth-ca",
               "alice", sign("rsa2048"), cert="rsa2048")
expect_success("RSA-2048 login answered by openssl dgst -sha256",
               "certauth-ca", "alice", ossl("rsa2048"), cert="rsa2048")
expect_success("RSA-2048 RSA-PSS answered by openssl dgst -sigopt pss",
               "certauth-ca", "alice", ossl("rsa2048", pss=True))
expect_success("RSA-2048 RSA-PSS answered by certauth-sign --pss",
               "certauth-ca", "alice", sign("rsa2048", pss=True))
expect_success("RSA-2048 sha512: prefix answered by openssl dgst -sha512",
               "certauth-ca", "alice", ossl("rsa2048", digest="sha512"))
expect_success("P-256 login answered by certauth-sign", "certauth-ca", "bob",
               sign("p256"), cert="p256")
expect_success("P-256 login answered by openssl dgst -sha256",
               "certauth-ca", "bob", ossl("p256"))
expect_success("P-256 sha384: prefix answered by openssl dgst -sha384",
               "certauth-ca", "bob", ossl("p256", digest="sha384"))
expect_success("P-256 answered by certauth-sign --digest sha384",
               "certauth-ca", "bob", sign("p256", digest="sha384"))
expect_success("P-384 login answered by certauth-sign", "certauth-ca",
               "carol", sign("p384"), cert="p384")
expect_success("P-384 login answered by openssl dgst -sha256",
               "certauth-ca", "carol", ossl("p384"))
expect_success("P-384 sha384: prefix answered by openssl dgst -sha384",
               "certauth-ca", "carol", ossl("p384", digest="sha384"))
expect_success("P-384 answered by certauth-sign --digest sha512",
               "certauth-ca", "carol", sign("p384", digest="sha512"))
expect_success("Ed25519 login answered by certauth-sign", "certauth-ca",
               "dave", sign("ed25519"), cert="ed25519")
expect_success("Ed25519 login answered by openssl pkeyutl -rawin",
               "certauth-ca", "dave", ossl("ed25519"))
expect_success("P-521 login answered by certauth-sign", "certauth-ca",
               "trent", sign("p521"), cert="p521")
expect_success("P-521 sha512: prefix answered by openssl dgst -sha512",
               "certauth-ca", "trent", ossl("p521", digest="sha512"))
expect_success("Ed448 login answered by certauth-sign", "certauth-ca",
               "ursula", sign("ed448"), cert="ed448")
expect_success("Ed448 login answered by openssl pkeyutl -rawin",
               "certauth-ca", "ursula", ossl("ed448"))
expect_success("encrypted key: certauth-sign --pass-file", "certauth-ca",
               "carol", lib.tool_sign(build, ENC_KEY, host=HOST,
                                      pass_file=PASS_FILE), cert="p384")
expect_success("encrypted key: certauth-sign asks the passphrase on the "
               "terminal", "certauth-ca", "carol",
               lib.tool_sign_tty(build, ENC_KEY, "correct horse battery",
                                 host=HOST))
r = expect_success("percent-encoded user name (UTF-8) logs in",
                   "certauth-ca", RENE, sign("p256"), cert="p256")
tap.ok(r.challenge is not None and
       r.challenge.split(":")[4:5] == ["ren%C3%A9"],
       "challenge carries the user field percent-encoded",
       LogDiag("challenge: %s" % r.challenge))
r = login("certauth-ca", "eve:x y", sign("p256"))
tap.ok(r.challenge is not None and len(r.challenge.split(":")) == 7 and
       r.challenge.split(":")[4] == "eve%3Ax%20y" and not r.ok,
       "unknown user with ':' and ' ' gets an encoded 7-field challenge",
       LogDiag("challenge: %s\n%s" % (r.challenge, r.diag())))
r = login("certauth-ca", "mallory\nuser alice authenticated with "
          "certificate SHA256:" + "0" * 64, sign("p256"))
ctl = [l for l in lib.module_lines(r.logs)
       if re.search(r"[\x00-\x1f\x7f]", l)]
tap.ok(not r.ok and lib.module_lines(r.logs) and not ctl,
       "a user name holding a newline cannot forge a second log line",
       LogDiag("logged: %r" % lib.module_lines(r.logs)))
expect_success("certauth-sign reads the pasted info line from stdin",
               "certauth-ca", "bob", sign("p256", stdin=True))
expect_success("URL-safe base64 without padding is accepted", "certauth-ca",
               "alice", lambda c: ossl("rsa2048")(c).replace("+", "-")
               .replace("/", "_").rstrip("="))
expect_success("second of two bound certificates logs in", "certauth-ca",
               "olivia", sign("ed25519"), cert="ed25519")
expect_success("hostname= option: certauth-sign --host matches",
               "certauth-host", "alice",
               sign("rsa2048", host="login.example.org"))
expect_success("pinned mode: bound self-signed certificate logs in",
               "certauth-pinned", "judy", sign("selfsigned"),
               cert="selfsigned")
expect_success("pinned mode: openssl answer for a CA-issued bound cert",
               "certauth-pinned", "alice", ossl("rsa2048"))
expect_success("revoked certificate logs in when no CRL is configured "
               "(control)", "certauth-ca", "ivan", sign("revoked"))
expect_success("challenge_ttl=2: an immediate answer logs in (control)",
               "certauth-ttl", "alice", sign("rsa2048"))
expect_success("config= file read, module argument overrides its ttl",
               "certauth-conf", "alice", sign("rsa2048"), cert="rsa2048")

# The challenge itself (docs/PROTOCOL.md, "The challenge").
r = login("certauth-ca", "alice", sign("rsa2048"))
fields = (r.challenge or "").split(":")
ch_ok = (len(fields) == 7 and fields[:5] == ["certauth", "v1", HOST,
                                             "certauth-ca", "alice"]
         and fields[5].isdigit() and abs(int(fields[5]) - time.time()) < 60
         and re.fullmatch(r"[A-Za-z0-9_-]{43}", fields[6]) is not None)
tap.ok(ch_ok and r.ok, "challenge is certauth:v1:host:service:user:time:"
       "nonce", LogDiag("challenge: %s" % r.challenge))
r2 = login("certauth-ca", "alice", sign("rsa2048"))
tap.ok(r2.challenge and r.challenge and
       r2.challenge.split(":")[6] != r.challenge.split(":")[6],
       "every login gets a fresh nonce")

# ------------------------------------------------------------ negative

expect_failure("wrong key: alice answered with bob's P-256 key",
               "certauth-ca", "alice", ossl("p256"), r"does not verify")
expect_failure("wrong key with 2 bound certificates", "certauth-ca",
               "olivia", sign("rsa2048"),
               r"does not verify with any of 2 bound")

first = login("certauth-ca", "bob", sign("p256"))
tap.ok(first.ok, "replay setup: first login succeeds", first.diag())
expect_failure("replayed response from an earlier login", "certauth-ca",
               "bob", lib.const(first.response or "x"), r"does not verify")


def changed(field, fn, key):
    def answer(c):
        f = c.split(":")
        f[field] = fn(f[field])
        return ossl(key)(":".join(f))
    return answer


expect_failure("signature over a changed challenge (time field + 1)",
               "certauth-ca", "bob", changed(5, lambda t: str(int(t) + 1),
                                             "p256"), r"does not verify")
expect_failure("signature over a changed challenge (other nonce)",
               "certauth-ca", "bob", changed(6, lambda n: n[::-1], "p256"),
               r"does not verify")
expect_failure("signature over a changed challenge (other service)",
               "certauth-ca", "bob", changed(3, lambda s: "sshd", "p256"),
               r"does not verify")
expect_failure("truncated response", "certauth-ca", "alice",
               lambda c: (lambda s: s[:len(s) // 2])(ossl("rsa2048")(c)),
               r"does not verify|signature|format|invalid|malformed")
expect_failure("garbage response", "certauth-ca", "alice",
               lib.const("!!not base64 at all!! $$$ ###"),
               r"base64|format|invalid|malformed|response")
expect_failure("empty response", "certauth-ca", "alice", lib.const(""),
               r"empty|no response|format|invalid|malformed|response")
big = login("certauth-ca", "alice", lib.const("A" * 5000))
tap.ok(big.status != 0 and big.pam_says("PAM_AUTH_ERR"),
       "oversized response (5000 characters typed on the tty) fails",
       big.diag())
r = lib.libpam_login(ns, "certauth-ca", "alice", lib.const("A" * 5000))
RUNS.append(r)
tap.ok(r.status == PAM_AUTH_ERR and r.challenge is not None and
       re.search(r"4096|too long|too large|long", r.log_text(), re.I),
       "oversized response (5000 characters via libpam) refused as too long",
       r.diag())
r = lib.libpam_login(ns, "certauth-ca", "alice",
                     lambda c: "A" * 4000 + ossl("rsa2048")(c))
RUNS.append(r)
tap.ok(r.status == PAM_AUTH_ERR, "valid signature behind 4000 characters "
       "of junk fails", r.diag())
expect_failure("sha1: prefix (SHA-1 refused)", "certauth-ca", "alice",
               ossl("rsa2048", digest="sha1"),
               r"sha1|sha-1|digest|prefix|format|refused|invalid")
expect_failure("sha384: prefix on an Ed25519 signature", "certauth-ca",
               "dave", lambda c: "sha384:" + ossl("ed25519")(c),
               r"digest|prefix|ed25519|refused|not verify|invalid")

expect_failure("expired certificate: its notAfter in full",
               "certauth-ca", "erin", sign("expired"),
               r"(?m)user erin refused: certificate expired "
               r"2021-01-01 00:00:00 UTC$")
expect_failure("not-yet-valid certificate: its notBefore in full",
               "certauth-ca", "frank", sign("notyet"),
               r"(?m)user frank refused: certificate not valid before "
               r"2035-01-01 00:00:00 UTC$")
expect_failure("serverAuth-only extendedKeyUsage", "certauth-ca", "grace",
               sign("serverauth"),
               r"extended ?key ?usage|clientauth|purpose|eku")
expect_failure("keyEncipherment-only keyUsage", "certauth-ca", "heidi",
               sign("keyenc"), r"key ?usage|digitalsignature")
expect_failure("CRL-revoked certificate with crl_file", "certauth-crl",
               "ivan", sign("revoked"), r"revoked")
expect_failure("untrusted self-signed certificate in CA mode",
               "certauth-ca", "judy", sign("selfsigned"),
               r"self.signed|issuer|trust|anchor|chain|verify")
expect_failure("RSA-1024 certificate", "certauth-ca", "mallory",
               ossl("rsa1024"), r"1024|too small|too short|bits|key")
expect_failure("user without binding", "certauth-ca", "nick",
               sign("p256"), r"no certificate bound|no binding|bound")
expect_failure("unknown user (not in passwd) gets a challenge and fails",
               "certauth-ca", "zoe", sign("p256"), r"unknown user")
# The client must not learn whether the account exists or is enrolled.
seen = {}
for who, user in (("wrong signature", "alice"), ("no binding", "nick"),
                  ("unknown user", "zoe")):
    r = login("certauth-ca", user, lib.const(
        "MEUCIQDx3hGzNvXWbQGgX1RkRrQwK6yY9Wc4Xn8G0pQ2mBvC2wIgVb4u"))
    seen[who] = "\n".join(
        l.strip() for l in r.transcript.replace(user, "USER").splitlines()
        if "certauth challenge:" not in l and "certauth response:" not in l)
tap.ok(len(set(seen.values())) == 1 and "challenge" not in seen,
       "wrong signature, no binding and unknown user look alike to the "
       "client", "\n".join("%s:\n%s" % kv for kv in seen.items()))

# An answer broken on its way: the first line of `openssl base64` without
# -A.  The user is told how to paste it, the same for every account.
WRAPPED = ("the answer is 64 characters, one line of base64 wrapped at 64 "
           "columns: it must be pasted on one line (openssl base64 -A)")


def first_line_of_wrapped(cert):
    """The first line of stock openssl's answer without -A."""
    def answer(c):
        cmd = ("printf '%%s' \"$C\" | openssl dgst -sha256 -sign %s"
               " | openssl base64" % C[cert].key)
        out = lib.run(["sh", "-c", cmd], env=dict(os.environ, C=c)).stdout
        return out.splitlines()[0]
    return answer


def user_sees(r, user):
    """What the client saw after the prompt, the user's name masked."""
    return "\n".join(
        l.strip() for l in r.transcript.replace(user, "USER").splitlines()
        if "certauth challenge:" not in l and "certauth response:" not in l)


seen = {}
for who, user, rx in (("bound", "alice", r"user alice refused: "
                       + re.escape(WRAPPED) + "$"),
                      ("no binding", "nick", r"no certificate bound.*; "
                       + re.escape(WRAPPED) + "$"),
                      ("unknown user", "zoe", r"unknown user; "
                       + re.escape(WRAPPED) + "$")):
    r = expect_failure("first line of openssl base64 without -A (%s): "
                       "syslog says so" % who, "certauth-ca", user,
                       first_line_of_wrapped("rsa2048"), rx)
    tap.ok(len(r.response) == 64 and ("Certificate authentication failed: "
                                      + WRAPPED + ".") in r.transcript,
           "first line of openssl base64 without -A (%s): the user is told "
           "to paste it on one line" % who,
           LogDiag("answer %r\n%s" % (r.response, r.transcript)))
    seen[who] = user_sees(r, user)
tap.ok(len(set(seen.values())) == 1,
       "the hint is the same for a bound, an unbound and an unknown user",
       "\n".join("%s:\n%s" % kv for kv in seen.items()))
r = expect_failure("a whole answer with the wrong key: no hint",
                   "certauth-ca", "alice", ossl("p256"), r"does not verify")
tap.ok("Certificate authentication failed.\r" in r.transcript
       and "pasted" not in r.transcript,
       "a whole answer with the wrong key: the plain failure message",
       LogDiag(r.transcript))

expect_failure("late response (challenge_ttl=2, answered after 3 s)",
               "certauth-ttl", "alice", sign("rsa2048"),
               r"after \d+ second", delay=3.0)

# Revocation scope.
expect_success("crl=chain with clean CRLs for every CA logs in",
               "certauth-chain-root-clean", "bob", sign("p256"))
expect_failure("crl=chain: intermediate revoked by the root CRL",
               "certauth-chain-root-revokes-int", "bob", sign("p256"),
               r"revoked")
expect_success("crl=leaf ignores the revoked intermediate",
               "certauth-leaf-root-revokes-int", "bob", sign("p256"))
expect_failure("crl=chain without a CRL for the root fails closed",
               "certauth-chain-leafonly", "bob", sign("p256"),
               r"crl|revocation", code=None)
expect_failure("crl=chain: revoked leaf still refused",
               "certauth-chain-root-clean", "ivan", sign("revoked"),
               r"revoked")

# Unsafe bindings files.
expect_failure("group-writable bindings file", "certauth-gw", "peggy",
               sign("p256"), r"group-writable")
expect_failure("world-writable bindings file", "certauth-ow", "peggy",
               sign("p256"), r"writable")
expect_failure("bindings file is a symlink", "certauth-link", "peggy",
               sign("p256"), r"symlink|symbolic|link|regular|levels")
expect_failure("group-writable bindings directory", "certauth-gwdir",
               "peggy", sign("p256"), r"writable")
expect_failure("bindings file not owned by root", "certauth-owner",
               "peggy", sign("p256"), r"own")

# Configuration and trust-store errors: never success, never ignore.
r = login("certauth-noca", "alice", sign("rsa2048"))
tap.ok(r.status != 0 and (r.pam_says("PAM_AUTHINFO_UNAVAIL") or
                          r.pam_says("PAM_SERVICE_ERR"))
       and "no-such-ca.pem" in r.log_text(),
       "missing CA file is a service error naming the file", r.diag())
for svc, what in (("certauth-garbageca", "CA file without a certificate"),
                  ("certauth-nocrl", "missing crl_file")):
    r = login(svc, "alice", sign("rsa2048"))
    tap.ok(r.status != 0 and (r.pam_says("PAM_AUTHINFO_UNAVAIL") or
                              r.pam_says("PAM_SERVICE_ERR")),
           "%s is a service error, not a plain failure" % what, r.diag())
expect_failure("ca_file in DER: the log says how to convert it",
               "certauth-derca", "alice", sign("rsa2048"),
               r"user alice not authenticated: .*: cannot load ca_file "
               r"/mnt/pki/ca\.der: it is DER, not PEM: convert it with "
               r"`openssl x509 -inform DER -in /mnt/pki/ca\.der -out "
               r"/mnt/pki/ca\.der\.pem` and name the new file$",
               code="PAM_AUTHINFO_UNAVAIL")
expect_failure("ca_file a directory: the log says to use ca_dir",
               "certauth-dirca", "alice", sign("rsa2048"),
               r"user alice not authenticated: .*: cannot load ca_file "
               r"/mnt/pki: it is a directory: use ca_dir for a directory "
               r"of CA certificates \(openssl rehash\)$",
               code="PAM_AUTHINFO_UNAVAIL")
for svc, what, rx in (("certauth-badopt", "unknown option",
                       r"unknown (option|key).*foo|foo.*unknown"),
                      ("certauth-badttl", "bad challenge_ttl value",
                       r"challenge_ttl"),
                      ("certauth-noconf", "missing config= file",
                       r"no-such-pam_certauth\.conf")):
    r = login(svc, "alice", sign("rsa2048"))
    tap.ok(r.status != 0 and (r.pam_says("PAM_SERVICE_ERR") or
                              r.pam_says("PAM_AUTHINFO_UNAVAIL"))
           and re.search(rx, r.log_text(), re.I) is not None,
           "%s is a configuration error (service error, reason logged)"
           % what, r.diag())

# The config file's challenge_ttl=2 is overridden by the argument above;
# without the argument it applies.
lib.service("certauth-conf2", MOD, ["config=/mnt/certauth.conf"])
expect_failure("config= file's challenge_ttl=2 applies without override",
               "certauth-conf2", "alice", sign("rsa2048"),
               r"after \d+ second", delay=3.0)

# nouserok.
r = login("certauth-nouserok", "nick", None)
tap.ok(r.ok and r.challenge is None and
       re.search(r"nouserok|ignored", r.log_text()) is not None,
       "nouserok: user without binding gets no challenge (PAM_IGNORE)",
       r.diag())
expect_success("nouserok: enrolled user still answers the challenge",
               "certauth-nouserok", "alice", sign("rsa2048"))

# certauth-sign relay protection.
p = lib.run([build.sign, "--key", C["p256"].key, "--host", "other.example",
             "certauth:v1:%s:sshd:bob:%d:%s" % (HOST, int(time.time()),
                                                "A" * 43)], check=False)
tap.ok(p.returncode != 0 and p.stdout.strip() == "",
       "certauth-sign refuses a challenge for another host",
       LogDiag("exit %d, stderr: %s" % (p.returncode, p.stderr.strip())))

# A failed login is delayed (pam_fail_delay, 2 s that libpam varies by up
# to a half); every other service here has nodelay.  Only the lower bound
# is checked: a slow machine only makes it longer.
lib.service("certauth-delay", MOD, CA_ARGS, delay=True)
t = time.time()
r = login("certauth-delay", "alice", sign("p256"))
waited = time.time() - t
tap.ok(r.status != 0 and waited >= 1.0,
       "a failed login waits the fail delay (%.1f s, at least 1 s)" % waited,
       r.diag())

# ------------------------------------------------ ca_dir (openssl rehash)
# The anchors as a hashed directory made by openssl rehash, with the
# intermediate in it too and no chain_file: the module finds the
# intermediate and then the root there, by the links' names.
CADIR = "/mnt/pki/cadir"
os.makedirs(CADIR)
shutil.copy(pki.ca, CADIR + "/root.pem")
shutil.copy(pki.chain, CADIR + "/intermediate.pem")
lib.run(["openssl", "rehash", CADIR])
links = sorted(f for f in os.listdir(CADIR) if os.path.islink(
    os.path.join(CADIR, f)))
tap.ok(len(links) == 2, "openssl rehash made the two hash links: %s"
       % ", ".join(links))
lib.service("certauth-cadir", MOD, ["ca_dir=" + CADIR,
                                    "bindings_dir=" + BIND])
expect_success("ca_dir from openssl rehash, intermediate found in it too",
               "certauth-cadir", "bob", sign("p256"), cert="p256")
for f in links:
    if os.readlink(os.path.join(CADIR, f)) == "root.pem":
        os.unlink(os.path.join(CADIR, f))
expect_failure("ca_dir whose root link is gone: refused at the next login",
               "certauth-cadir", "bob", sign("p256"),
               reason=r"unable to get issuer certificate: CA certificate "
               r"\S.* is issued by .* \(authority key id [0-9A-F:]+\), "
               r"whose certificate is in none of chain_file, ca_file and "
               r"ca_dir; add the certificate of .* to chain_file \(an "
               r"intermediate CA\) or to ca_file/ca_dir \(a root CA\)$")

# ------------------------------------------------- across all the runs

bad = [r for r in RUNS if len(lib.module_lines(r.logs)) != 1]
tap.ok(not bad, "every decision logged exactly one pam_certauth line",
       "\n".join("%d lines for challenge %s: %s" % (
           len(lib.module_lines(r.logs)), r.challenge,
           lib.module_lines(r.logs)) for r in bad[:5]))
leaks = []
for r in RUNS:
    secrets = []
    if r.challenge and len(r.challenge.split(":")) == 7:
        secrets.append(r.challenge.split(":")[6])
    if r.response and len(r.response) >= 16:
        secrets.append(r.response[-16:])
    for line in lib.module_lines(r.logs):
        if any(s and s in line for s in secrets):
            leaks.append(line)
tap.ok(not leaks, "no nonce or signature bytes in syslog", "\n".join(leaks))

tap.diag("e2e run took %.1f s" % (time.time() - t_start))
sys.exit(tap.done())
