#!/usr/bin/python3
"""End-to-end: certificates bound in a real LDAP directory (bindings=ldap).

A real slapd (tests/e2e/slapd.py) on a loopback address of a private
network namespace, with a server certificate from the test CA, serves
the accounts; pamtester and the real sshd log in through the built
module, which asks
the directory through the real certauth-ldap-fetch helper.  Covered:
users with one and two certificates; a user with none, and one whose
certificate is in another attribute; the order of bindings=; StartTLS
and ldaps:// against a server whose certificate comes from another CA;
cleartext refused unless ldap_tls=no; user names with filter
metacharacters; a stopped directory with the cache fresh and past its
max age; a SIGSTOPped directory (the login ends by the deadline); a
revoked certificate found through LDAP; two entries matching; a wrong
bind password and a right one; a certificate removed from the
directory.  Prints TAP, and each refusal's log line as a diagnostic.
"""

import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

USERS = {"alice": lib.Account(2901), "bob": 2902, "carol": 2903, "dave": 2904,
         "erin": 2905, "frank": 2906, "gina": 2907, "al*": 2908,
         "a*()\\": 2909}
CACHE = "/mnt/ldapcache"
BIND = "/mnt/bindings"
PW = "/mnt/ldap-secret"
TIMEOUT_MS = 1500

build, ns, tap = lib.start(USERS)
lib.need_ocsp_helper()
helper = os.path.join(os.path.dirname(lib.ocsp_helper(build)),
                      "certauth-ldap-fetch")
if not os.path.exists(helper):
    lib.skip_all("LDAP helper not at %s (build with scripts/build)"
                 % helper)
if not lib.private_network():
    lib.skip_all("no private network namespace for slapd")
import slapd  # noqa: E402
missing = slapd.missing_tools()
if missing:
    lib.skip_all("missing: " + " ".join(missing))
HOST = socket.gethostname()


def der(cert):
    return subprocess.run(["openssl", "x509", "-in", cert.cert, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def pem(cert):
    with open(cert.cert, "rb") as f:
        return f.read()


pki = lib.standard_pki()
alice = pki.issue("alice", "p256")
bob1 = pki.issue("bob1", "p256")
bob2 = pki.issue("bob2", "rsa2048")
carol = pki.issue("carol", "p256")
dave = pki.issue("dave", "p256")
frank = pki.issue("frank", "p256")
gina = pki.issue("gina", "p256")
inject = pki.issue("inject", "p256")

d = slapd.Slapd("/mnt/slapd", pki)
d.start()
d.add_user("alice", [der(alice)])
d.add_user("bob", [der(bob1), der(bob2)])
d.add_user("carol", [])
d.add_user("dave", [pem(dave)], attr="description")
d.add_user("erin", [der(pki.certs["revoked"])])
d.add_user("frank", [der(frank)])
d.add_user("frank", [der(frank)], ou="staff")
d.add_user("gina", [der(gina)])
# What "al*" or "a*()\" would reach unescaped: entries that match a
# wildcard, one of them holding a certificate the attacker has.
d.add_user("alpha", [der(inject)])
plain = slapd.Slapd("/mnt/slapd-plain", pki, tls=False, ip="127.0.0.3",
                    host="plain.test")
plain.start()
plain.add_user("alice", [der(alice)])
other = d.other_ca_server("/mnt/slapd-other")
other.start()

lib.bind(BIND, "carol", carol)
lib.make_dir(os.path.dirname(PW))
with open(PW, "w") as f:
    f.write("not-the-password\n")
os.chmod(PW, 0o600)

BASE = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
        "bindings_dir=" + BIND, "ldap_base=" + d.base,
        "ldap_ca_file=" + d.ca_file, "ldap_timeout_ms=%d" % TIMEOUT_MS]


def svc(name, *args, uri=None, cache=True, bindings="ldap"):
    extra = ["bindings=" + bindings, "ldap_uri=" + (uri or d.uri),
             "ldap_cache_dir=" + (CACHE if cache else "none")]
    return lib.service("certauth-ldap-" + name, build.module,
                       BASE + extra + list(args))


def login(service, user, cert):
    r = lib.pamtester(ns, service, user,
                      lib.tool_sign(build, cert.key, host=HOST), timeout=30)
    r.lines = lib.module_lines(r.logs)
    return r


def said(r, pattern):
    return any(re.search(pattern, l) for l in r.lines)


def refused(r, name, pattern):
    """A refusal with its log line shown."""
    tap.ok(not r.ok and r.status != 0 and said(r, pattern), name, r.diag())


def drop_cache():
    if os.path.isdir(CACHE):
        for n in os.listdir(CACHE):
            os.unlink(os.path.join(CACHE, n))


def age_cache(seconds):
    """Date every cache entry seconds earlier than written."""
    for n in os.listdir(CACHE):
        p = os.path.join(CACHE, n)
        with open(p, "rb") as f:
            data = f.read()
        m = re.search(rb"\nanswered (\d+)\n", data)
        new = b"\nanswered %d\n" % (int(m.group(1)) - seconds)
        with open(p, "wb") as f:
            f.write(data[:m.start()] + new + data[m.end():])


# ------------------------------------------------------- happy paths

s = svc("nocache", cache=False)
r = login(s, "alice", alice)
tap.ok(r.ok and said(r, r"authenticated .*bound by ldap ldaps://ldap\.test"),
       "alice logs in with the one certificate bound in LDAP (ldaps://)",
       r.diag())
r = login(s, "bob", bob2)
tap.ok(r.ok, "bob logs in with the second of his two certificates",
       r.diag())
r = login(s, "bob", bob1)
tap.ok(r.ok, "bob logs in with the first of his two certificates",
       r.diag())

# The real sshd: PAM's keyboard-interactive through /etc/pam.d/sshd with
# bindings=ldap; alice runs the real ssh on a pty, and the challenge is
# answered with certauth-sign, as from her other terminal.
lib.service("sshd", build.module, BASE + [
    "bindings=ldap", "ldap_uri=" + d.uri, "ldap_cache_dir=none"])
with open(os.path.join(lib.PAMD, "sshd"), "a") as f:
    f.write("session required pam_permit.so\n")
doors.private_run(build)
sshd = doors.Sshd(lib.MNT + "/ssh", lib.free_port())
r = doors.session(ns, doors.as_user("alice") + [
    "ssh", "-F", "/dev/null", "-p", str(sshd.port), "-o",
    "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
    "LogLevel=ERROR", "alice@127.0.0.1", "id -un"],
    answer=lib.tool_sign(build, alice.key, host=HOST), module_host=False)
tap.ok(sshd.ok and r.status == 0 and re.search(r"(?m)^alice\r?$",
                                                r.transcript) and
       re.search(r"user alice authenticated .*bound by ldap "
                 r"ldaps://ldap\.test", r.module_log()),
       "the real sshd logs alice in with the certificate bound in LDAP "
       "(ssh alice@... id -un prints alice)", r.diag() + "\n" + sshd.log())
sshd.stop()

s = svc("starttls", uri=d.uri_plain, cache=False)
r = login(s, "alice", alice)
tap.ok(r.ok and said(r, r"bound by ldap ldap://ldap\.test"),
       "alice logs in over ldap:// with StartTLS", r.diag())

s = svc("bind", "ldap_bind_dn=" + d.bind_dn,
        "ldap_bind_pw_file=" + d.bind_pw_file, cache=False)
r = login(s, "alice", alice)
tap.ok(r.ok, "a simple bind with the right password finds alice",
       r.diag())

s = svc("list", uri="ldaps://127.0.0.9:636," + d.uri, cache=False)
r = login(s, "alice", alice)
tap.ok(r.ok and said(r, r"bound by ldap ldaps://ldap\.test"),
       "a server that cannot be reached is passed over for the next URI",
       r.diag())

# certauth-enroll list and check name the source of each certificate.
def enroll(*args, bindings="ldap,files", cache="none"):
    words = BASE + ["bindings=" + bindings, "ldap_uri=" + d.uri,
                    "ldap_cache_dir=" + cache]
    return lib.run([build.enroll] + ["--" + w for w in words] + list(args),
                   check=False)


p = enroll("list", "alice")
tap.ok(p.returncode == 0 and
       p.stdout.rstrip("\n").endswith("\tldap ldaps://ldap.test:636") and
       alice.fingerprint in p.stdout,
       "certauth-enroll list names the directory for alice",
       p.stdout + p.stderr)
p = enroll("list", "carol")
tap.ok(p.returncode == 0 and p.stdout.rstrip("\n").endswith("\tfiles"),
       "certauth-enroll list names the files for carol", p.stdout + p.stderr)
p = enroll("check", "bob")
tap.ok(p.returncode == 0 and
       p.stdout.count(" ok [bound by ldap ldaps://ldap.test:636]") == 2,
       "certauth-enroll check runs the policy on bob's two directory "
       "certificates", p.stdout + p.stderr)
p = enroll("--ldap_bind_dn=" + d.bind_dn,
           "--ldap_bind_pw_file=" + d.bind_pw_file, "list", "frank")
tap.ok(p.returncode != 0 and "more than one entry" in p.stderr,
       "certauth-enroll list refuses an ambiguous account",
       p.stdout + p.stderr)

# ------------------------------------------------------- refusals

s = svc("nocache2", cache=False)
r = login(s, "carol", carol)
refused(r, "carol, in the directory with no certificate, is refused",
        r"refused: no certificate bound to user carol")
r = login(s, "dave", dave)
refused(r, "dave, whose certificate is in another attribute, is refused",
        r"refused: no certificate bound to user dave")

s = svc("order", cache=False, bindings="ldap,files")
r = login(s, "carol", carol)
tap.ok(r.ok, "bindings=ldap,files: the files decide for carol, whom the "
       "directory knows without a certificate", r.diag())
s = svc("order2", cache=False, bindings="files,ldap")
r = login(s, "alice", alice)
tap.ok(r.ok and said(r, r"bound by ldap"),
       "bindings=files,ldap: the directory decides for alice, whom the "
       "files do not know", r.diag())

s = svc("otherca-starttls", uri=other.uri_plain, cache=False)
r = login(s, "alice", alice)
refused(r, "StartTLS to a server whose certificate comes from another CA "
        "is refused", r"TLS failed for user alice")
s = svc("otherca-ldaps", uri=other.uri, cache=False)
r = login(s, "alice", alice)
refused(r, "ldaps:// to a server whose certificate comes from another CA "
        "is refused", r"TLS failed for user alice")

s = svc("cleartext", uri=plain.uri_plain, cache=False)
r = login(s, "alice", alice)
refused(r, "a server without StartTLS is refused (cleartext not allowed)",
        r"StartTLS")
s = svc("cleartext-ok", "ldap_tls=no", uri=plain.uri_plain, cache=False)
r = login(s, "alice", alice)
tap.ok(r.ok and said(r, r"over cleartext ldap:// \(ldap_tls=no\)"),
       "ldap_tls=no allows cleartext, with a warning", r.diag())

s = svc("inject", cache=False)
r = login(s, "al*", inject)
refused(r, "user name al* matches no other entry",
        r"no certificate bound to user al\*")
r = login(s, "a*()\\", inject)
refused(r, "user name a*()\\ matches no other entry",
        r"no certificate bound to user a\*\(\)")

s = svc("crl", "crl_file=" + pki.crl, cache=False)
r = login(s, "erin", pki.certs["revoked"])
refused(r, "a revoked certificate found through LDAP is refused",
        r"revoked")

# Only a bound client reads outside ou=people.
s = svc("ambiguous", "ldap_bind_dn=" + d.bind_dn,
        "ldap_bind_pw_file=" + d.bind_pw_file, cache=False)
r = login(s, "frank", frank)
refused(r, "two entries matching the account are refused",
        r"more than one entry matches .* for user frank: refused")

s = svc("badpw", "ldap_bind_dn=" + d.bind_dn, "ldap_bind_pw_file=" + PW,
        cache=False)
r = login(s, "alice", alice)
refused(r, "a wrong bind password is refused",
        r"refused the bind")

# ------------------------------------------------------- the cache

drop_cache()
s = svc("cache")
r = login(s, "gina", gina)
tap.ok(r.ok and said(r, r"bound by ldap ldaps://"),
       "gina logs in from the directory, which fills the cache", r.diag())
names = os.listdir(CACHE) if os.path.isdir(CACHE) else []
st = os.stat(CACHE) if os.path.isdir(CACHE) else None
tap.ok(len(names) == 1 and st.st_mode & 0o777 == 0o700 and st.st_uid == 0,
       "one cache entry, in a root-owned 0700 directory", names)
r = login(s, "gina", gina)
tap.ok(r.ok and said(r, r"bound by ldap \(cache\)"),
       "gina's second login is answered by the cache", r.diag())
p = enroll("list", "gina", bindings="ldap", cache=CACHE)
tap.ok(p.returncode == 0 and
       p.stdout.rstrip("\n").endswith("\tldap (cache)"),
       "certauth-enroll list says the cache answered for gina",
       p.stdout + p.stderr)

d.stop()
r = login(s, "gina", gina)
tap.ok(r.ok and said(r, r"bound by ldap \(cache\)"),
       "slapd stopped: the cached answer within max age logs in",
       r.diag())
age_cache(3601)
r = login(s, "gina", gina)
refused(r, "slapd stopped: the cached answer past max age is refused",
        r"cannot reach LDAP directory")
d.start()

drop_cache()
r = login(s, "gina", gina)
tap.ok(r.ok, "gina logs in again once slapd is back", r.diag())
d.set_certs("gina", [])
r = login(s, "gina", gina)
tap.ok(r.ok and said(r, r"bound by ldap \(cache\)"),
       "a certificate removed from the directory still works from a "
       "fresh cache entry", r.diag())
age_cache(3601)
r = login(s, "gina", gina)
refused(r, "once the entry is past its max age the removed certificate "
        "stops working", r"no certificate bound to user gina")
tap.ok(os.listdir(CACHE) == [],
       "the directory's 'not found' removed the cache entry",
       os.listdir(CACHE))

s = svc("pause", cache=False)
d.pause()
t0 = time.monotonic()
r = login(s, "alice", alice)
elapsed = time.monotonic() - t0
d.resume()
refused(r, "slapd SIGSTOPped: the login is refused",
        r"(cannot reach LDAP directory|not taken as the directory's|"
        r"gave no report)")
tap.ok(elapsed < TIMEOUT_MS / 1000.0 + 5,
       "slapd SIGSTOPped: the login ends by the deadline (%.1f s)" % elapsed)

# Token mode: the certificate on a SoftHSM2 token is the one the
# directory binds to alice; the token signs after the PIN.
import keys  # noqa: E402
SOFTHSM, why = keys.find_softhsm()
if SOFTHSM is None:
    tap.skip("token mode with bindings=ldap", why)
else:
    hsm = keys.SoftHSM(SOFTHSM, "/mnt/ldap-tokens")
    hsm.init_token("alice-card")
    hsm.import_key("alice-card", alice, "auth", "01", with_cert=True)
    hsm.init_token("stranger-card")
    hsm.import_key("stranger-card", inject, "auth", "01", with_cert=True)
    for label, user, ok in (("alice-card", "alice", True),
                            ("stranger-card", "alice", False)):
        s = svc("token-" + label, "pkcs11=only", "pkcs11_module=" + SOFTHSM,
                "pkcs11_uri=pkcs11:token=" + label, cache=False)
        r = doors.session(ns, ["pamtester", "-v", s, user, "authenticate"],
                          pin=keys.PIN, extra_env=hsm.env)
        log = r.module_log()
        if ok:
            tap.ok(r.status == 0 and r.pins == [label] and re.search(
                r"user alice authenticated .*bound by ldap ldaps?://", log),
                "token mode, bindings=ldap: the directory's certificate "
                "on alice's card logs her in", r.diag())
        else:
            tap.ok(r.status != 0 and r.pins == [] and
                   "holds no certificate bound to alice" in log,
                   "token mode, bindings=ldap: a card whose certificate "
                   "the directory does not hold for alice is refused "
                   "before the PIN", r.diag())

for x in (d, plain, other):
    x.stop()
sys.exit(tap.done())
