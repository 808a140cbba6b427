#!/usr/bin/python3
"""End-to-end: the slapd fixture of the LDAP binding source's tests
(tests/e2e/slapd.py), proven with the real slapd and ldapsearch before
any test relies on it.

In a private mount and network namespace, slapd listens on 127.0.0.2
(ldap.test in the private /etc/hosts): ldaps:// answers with a server
certificate from the test CA, ldap:// offers StartTLS and accepts
cleartext.  ldapsearch (LDAPNOINIT=1, every option explicit) finds the
exact DER bytes of the accounts' certificates, StartTLS and ldaps:// work
with the test CA and fail with another CA's file and against a server
whose certificate another CA issued, the bind DN binds with its password
and not with another (49), the access rules hide what they must, a
paused slapd answers nothing until resumed, 100,000 accounts load by
slapadd, and no slapd outlives stop(), its test's exit or its test's
death.  Needs no build.  Prints TAP.
"""

import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import slapd  # noqa: E402

BULK_N = 100000
PAUSE_BOUND = 8.0      # seconds a search with 2 s timeouts may take

try:
    lib.preflight(("openssl", "mount"))
    missing = slapd.missing_tools()
    if missing:
        raise lib.SkipAll("not installed: " + " ".join(missing))
    ns = lib.Namespace({})
except lib.SkipAll as e:
    lib.skip_all(str(e))
if not lib.private_network():
    lib.skip_all("no private network namespace: slapd listens on fixed "
                 "loopback ports")
tap = lib.Tap()
T0 = time.time()


def der(cert):
    return subprocess.run(["openssl", "x509", "-in", cert.cert, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def entries(p):
    return slapd.parse_ldif(p.stdout) if p.returncode == 0 else []


def values(p, attr="userCertificate;binary"):
    """The values of attr in the only entry ldapsearch printed."""
    e = entries(p)
    return e[0][1].get(attr, []) if len(e) == 1 else None


def out(p):
    return "exit %d\nstdout: %s\nstderr: %s" % (
        p.returncode, p.stdout.decode("utf-8", "replace")[-1500:],
        p.stderr.decode("utf-8", "replace")[-1500:])


def gone(pid, timeout=5.0):
    """Whether process pid has ended (no such process, or a zombie)
    within timeout."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------ the server

pki = lib.PKI()
alice = pki.issue("alice", "p256")
bob1 = pki.issue("bob1", "rsa2048")
bob2 = pki.issue("bob2", "ed25519")
other_pki = lib.PKI(lib.MNT + "/other-pki")     # a CA nobody trusts
d = slapd.Slapd(lib.MNT + "/ldap", pki)
A, B1, B2 = der(alice), der(bob1), der(bob2)
d.add_user("alice", [A])           # before start: loaded by slapadd
try:
    d.start()
except RuntimeError as e:
    print("Bail out! %s" % e)
    sys.exit(1)
tap.ok(d.running and not slapd.process_stopped(d.pid),
       "slapd runs in the foreground as the test's child (pid %d)" % d.pid)
tap.ok(lib.listening(636) and lib.listening(389),
       "it listens on ldaps 636 and ldap 389", d.log())
tap.ok(d.uri == "ldaps://ldap.test:636" and
       d.uri_plain == "ldap://ldap.test:389",
       "its URIs name ldap.test", "%s %s" % (d.uri, d.uri_plain))
try:
    addr = socket.gethostbyname(d.host)
except OSError as e:
    addr = str(e)
tap.ok(addr == "127.0.0.2", "ldap.test resolves to 127.0.0.2 in the "
       "test's /etc/hosts", addr + "\n" + open("/etc/hosts").read())
argv = open("/proc/%d/cmdline" % d.pid).read().split("\0")
tap.ok("-f" in argv and argv[argv.index("-f") + 1] == d.conf and
       "-F" not in argv and argv[argv.index("-h") + 1] ==
       "ldaps://127.0.0.2:636/ ldap://127.0.0.2:389/",
       "slapd reads its own slapd.conf and listens on the loopback URIs "
       "only", " ".join(argv))

# ------------------------------------------------------------ certificates

bob_dn = d.add_user("bob", [B1, B2])
tap.ok(bob_dn == "uid=bob,ou=people,dc=example,dc=org",
       "add_user returns the entry's DN", bob_dn)
p = d.search("(uid=alice)", ["userCertificate;binary"])
tap.ok(values(p) == [A], "ldaps, anonymous: alice's certificate, the "
       "exact DER bytes (added before start)", out(p))
p = d.search("(uid=bob)", ["userCertificate;binary"])
tap.ok(sorted(values(p) or []) == sorted([B1, B2]),
       "ldaps: bob's two certificates, exact (added while running)",
       out(p))
p = d.search("(uid=alice)", ["userCertificate"])
tap.ok(values(p) == [A], "a search for userCertificate returns the "
       "values as userCertificate;binary", out(p))
p = d.search("(uid=alice)", ["userCertificate;binary"], uri=d.uri_plain,
             starttls=True)
tap.ok(values(p) == [A], "ldap:// with StartTLS demanded (-ZZ) and the "
       "test CA: the same bytes", out(p))
p = d.search("(uid=alice)", ["userCertificate;binary"], uri=d.uri_plain)
tap.ok(values(p) == [A], "ldap:// in cleartext: the server allows it "
       "(refusing it is the client's business)", out(p))

# ------------------------------------------------------------ TLS refusals

p = d.search("(uid=alice)", ["uid"], uri=d.uri_plain, starttls=True,
             ca_file=other_pki.ca)
tap.ok(p.returncode != 0 and not entries(p), "StartTLS checked against "
       "another CA's file: refused, nothing read", out(p))
p = d.search("(uid=alice)", ["uid"], ca_file=other_pki.ca)
tap.ok(p.returncode != 0 and not entries(p), "ldaps checked against "
       "another CA's file: refused", out(p))
p = d.search("(uid=alice)", ["uid"], uri="ldaps://127.0.0.2:636")
tap.ok(p.returncode != 0 and not entries(p), "ldaps to the address: "
       "refused, the certificate names ldap.test only", out(p))

o = d.other_ca_server()
try:
    o.start()
    other_ok = True
except RuntimeError as e:
    other_ok = False
    tap.ok(False, "other_ca_server starts", str(e))
if other_ok:
    tap.ok(o.ca_file != d.ca_file and o.uri == "ldaps://ldap.test:1636",
           "other_ca_server: same host, ports 1636/1389, a CA of its own",
           "%s %s" % (o.uri, o.ca_file))
    p = d.search("(uid=alice)", ["uid"], uri=o.uri)
    tap.ok(p.returncode != 0 and not entries(p), "ldaps to the server of "
           "another CA, checked against the test CA: refused", out(p))
    p = d.search("(uid=alice)", ["uid"], uri=o.uri_plain, starttls=True)
    tap.ok(p.returncode != 0 and not entries(p), "StartTLS with the "
           "server of another CA, checked against the test CA: refused",
           out(p))
    p = o.search("(uid=bob)", ["userCertificate;binary"])
    tap.ok(sorted(values(p) or []) == sorted([B1, B2]),
           "the same server checked against its own CA: bob's "
           "certificates (copied), so the CA alone made the difference",
           out(p))
    o.stop()
    tap.ok(not o.running and not lib.listening(1636),
           "the other server stops")

# ------------------------------------------------------------ binds, ACLs

p = d.search("(uid=alice)", ["uid"], bind=(d.bind_dn, d.bind_pw))
tap.ok(p.returncode == 0 and len(entries(p)) == 1,
       "simple bind as %s with its password: works" % d.bind_dn, out(p))
p = d.search("(uid=alice)", ["uid"], bind=(d.bind_dn, d.bind_pw + "x"))
tap.ok(p.returncode == 49 and not entries(p),
       "simple bind with a wrong password: exit 49 (invalid credentials)",
       out(p))
p = d.search("(uid=alice)", ["uid"], uri=d.uri_plain, starttls=True,
             bind=(d.bind_dn, "wrong"))
tap.ok(p.returncode == 49, "the same over StartTLS: 49", out(p))
p = d.search("(objectClass=*)", ["*", "userPassword"], base=d.bind_dn,
             scope="base", bind=(d.bind_dn, d.bind_pw))
e = entries(p)
tap.ok(len(e) == 1 and "userPassword" not in e[0][1],
       "bound, the bind DN's entry is read but never its userPassword",
       out(p))
p = d.search("(objectClass=*)", base=d.bind_dn, scope="base")
tap.ok(not entries(p), "anonymous clients do not see the bind DN's "
       "entry", out(p))
with open(d.conf) as f:
    conf = f.read()
tap.ok(conf.count("access to ") >= 5 and "by anonymous auth" in conf,
       "the access rules are written out in slapd.conf", conf)

# ------------------------------------------------------------ entries

pem = open(alice.cert).read()
d.add_user("carol", [pem], attr="description")
d.add_user("dave", [A], attr="userSMIMECertificate")
p = d.search("(uid=carol)", ["userCertificate;binary", "description"])
tap.ok(values(p) == [] and values(p, "description") == [pem.encode()],
       "a certificate in the wrong attribute (description, PEM text): "
       "none in userCertificate;binary", out(p))
p = d.search("(uid=dave)", ["userCertificate;binary",
                            "userSMIMECertificate"])
tap.ok(values(p) == [] and values(p, "userSMIMECertificate") == [A],
       "a certificate in userSMIMECertificate: none in "
       "userCertificate;binary", out(p))
try:
    d.add_user("erin", [b"not a certificate"])
    refused = None
except RuntimeError as e:
    refused = str(e)
tap.ok(refused is not None and "invalid per syntax" in refused,
       "slapd itself refuses a value that is not a certificate in "
       "userCertificate;binary", refused)
d.add_user("erin", [b"not a certificate", A + b"\0"], unchecked=True)
p = d.search("(uid=erin)", ["userCertificate;binary"])
tap.ok(sorted(values(p) or []) == sorted([b"not a certificate",
                                          A + b"\0"]),
       "unchecked=True stores and serves any bytes (garbage, trailing "
       "data)", out(p))
d.set_certs("bob", [B2])
p = d.search("(uid=bob)", ["userCertificate;binary"])
tap.ok(values(p) == [B2], "set_certs replaces bob's two certificates "
       "by one", out(p))
d.set_certs("bob", [B1, A[:100]], unchecked=True)
p = d.search("(uid=bob)", ["userCertificate;binary"])
tap.ok(sorted(values(p) or []) == sorted([B1, A[:100]]),
       "set_certs(unchecked=True) stores a truncated certificate beside "
       "a whole one", out(p))
d.add_user("gina", [b"", A[:100]], attr="userSMIMECertificate")
p = d.search("(uid=gina)", ["userSMIMECertificate"])
tap.ok(sorted(values(p, "userSMIMECertificate") or []) ==
       sorted([b"", A[:100]]),
       "userSMIMECertificate (octet string) takes any bytes, even empty, "
       "through ldapadd", out(p))
d.set_certs("bob", [])
p = d.search("(uid=bob)", ["userCertificate;binary"])
tap.ok(values(p) == [], "set_certs with none removes the attribute",
       out(p))
d.add_user("frank", [A])
d.add_user("frank", [B1], ou="staff")
p = d.search("(uid=frank)", ["uid"])
tap.ok(sorted(x[0] for x in entries(p)) ==
       ["uid=frank,ou=people,dc=example,dc=org",
        "uid=frank,ou=staff,dc=example,dc=org"],
       "two entries for one uid (another ou): both found", out(p))
d.delete_user("frank", ou="staff")
p = d.search("(uid=frank)", ["uid"])
tap.ok([x[0] for x in entries(p)] ==
       ["uid=frank,ou=people,dc=example,dc=org"],
       "delete_user removes one of them", out(p))
odd = "a*()\\b"
odd_dn = d.add_user(odd, [A])
p = d.search("(uid=a\\2a\\28\\29\\5cb)", ["uid"])
e = entries(p)
tap.ok(len(e) == 1 and e[0][1].get("uid") == [odd.encode()],
       "an account named a*()\\b: its DN escaped (%s), found by the "
       "escaped filter" % odd_dn, out(p))

# ------------------------------------------------------------ pause

d.pause()
tap.ok(slapd.process_stopped(d.pid), "pause(): every slapd thread stopped")
for name, kw in (("ldap://", dict(uri=d.uri_plain)),
                 ("StartTLS", dict(uri=d.uri_plain, starttls=True))):
    t = time.monotonic()
    p = d.search("(uid=alice)", ["uid"], nettimeout=2, op_timeout=2,
                 timeout=30, **kw)
    el = time.monotonic() - t
    tap.ok(p.returncode > 0 and not entries(p) and el < PAUSE_BOUND,
           "paused, %s search with 2 s timeouts: fails by itself in "
           "%.1f s (< %.0f s)" % (name, el, PAUSE_BOUND), out(p))
t = time.monotonic()
p = d.search("(uid=alice)", ["uid"], nettimeout=2, op_timeout=2, timeout=4)
el = time.monotonic() - t
tap.ok(p.returncode != 0 and not entries(p),
       "paused, ldaps:// gets no TLS handshake (%s after %.1f s)"
       % ("killed" if p.returncode == -9 else "exit %d" % p.returncode, el),
       out(p))
if p.returncode == -9:
    tap.diag("libldap bounds neither the ldaps handshake by nettimeout "
             "nor by TIMEOUT: a client must be killed at its deadline")
try:
    d.set_certs("alice", [B1])
    refused = None
except RuntimeError as e:
    refused = str(e)
tap.ok(refused is not None and "paused" in refused,
       "paused, the fixture's own writes refuse at once", refused)
d.resume()
t = time.monotonic()
p = d.search("(uid=alice)", ["userCertificate;binary"], nettimeout=2,
             op_timeout=2)
tap.ok(values(p) == [A] and not slapd.process_stopped(d.pid),
       "resume(): ldaps works again (%.2f s)" % (time.monotonic() - t),
       out(p))

# ------------------------------------------------------------ other modes

e = slapd.Slapd(lib.MNT + "/ldap-plain", pki, tls=False, host="plain.test",
                ip="127.0.0.3", anonymous_read=False)
e.add_user("alice", [A])
with e:
    argv = open("/proc/%d/cmdline" % e.pid).read().split("\0")
    tap.ok(e.running and e.uri is None and "ldaps" not in " ".join(argv),
           "tls=False: no ldaps URI, no ldaps listener", " ".join(argv))
    p = e.search("(uid=alice)", ["uid"], uri=e.uri_plain, starttls=True)
    tap.ok(p.returncode != 0 and not entries(p),
           "tls=False: the server refuses StartTLS", out(p))
    p = e.search("(uid=alice)", ["uid"], uri=e.uri_plain)
    tap.ok(p.returncode == 32 and not entries(p),
           "anonymous_read=False: an anonymous search finds nothing, not "
           "even the base (32, no such object)", out(p))
    p = e.search("(uid=alice)", ["userCertificate;binary"],
                 uri=e.uri_plain, bind=(e.bind_dn, e.bind_pw))
    tap.ok(values(p) == [A], "anonymous_read=False: bound, the entry and "
           "its certificate", out(p))
    plain_pid = e.pid
tap.ok(not e.running and gone(plain_pid) and d.running,
       "the end of a with block stops that server only")

# ------------------------------------------------------------ bulk

few = {1, 4242, 77777, BULK_N}
el = d.bulk_load(BULK_N, lambda i: [B2] if i in few else None)
tap.diag("bulk_load(%d): %.1f s (LDIF and slapadd)" % (BULK_N, el))
tap.ok(d.running, "bulk_load stopped slapd for slapadd and started it "
       "again", d.log())
u = slapd.random_uid(BULK_N)
p = d.search("(uid=%s)" % u, ["uid", "uidNumber"])
tap.ok([x[0] for x in entries(p)] ==
       ["uid=%s,ou=people,dc=example,dc=org" % u],
       "%d accounts loaded: the random %s is found" % (BULK_N, u), out(p))
p = d.search("(uid=user%05d)" % BULK_N, ["userCertificate;binary"])
q = d.search("(uid=user%05d)" % (BULK_N + 1), ["uid"])
tap.ok(values(p) == [B2] and q.returncode == 0 and not entries(q),
       "the last account holds its certificate, none after it",
       out(p) + "\n" + out(q))
p = d.search("(uid=alice)", ["userCertificate;binary"])
tap.ok(values(p) == [A], "the accounts added before are still there",
       out(p))
p = d.search("(uid=user4242)", ["uid"])
tap.ok(p.returncode == 0 and not entries(p), "names are user00001 ... "
       "(five digits): user4242 is no account", out(p))

# ------------------------------------------------------------ the end

pid = d.pid
d.stop()
tap.ok(not d.running and gone(pid) and not lib.listening(636) and
       not lib.listening(389), "stop(): slapd (pid %d) gone, its ports "
       "closed" % pid)
t = time.monotonic()
p = d.search("(uid=alice)", ["uid"], nettimeout=2, timeout=10)
tap.ok(p.returncode == 255 and time.monotonic() - t < 3,
       "after stop() a search cannot connect (255, at once)", out(p))

CHILD = """
import os, sys, time
sys.dont_write_bytecode = True
sys.path.insert(0, %r)
import slapd
d = slapd.Slapd(sys.argv[1], tls=False, ip="127.0.0.4", hosts=False)
d.start()
print(d.pid, flush=True)
if sys.argv[2] == "fail":
    raise AssertionError("a test that fails")
time.sleep(60)
""" % os.path.dirname(os.path.abspath(__file__))
for how in ("fail", "kill"):
    c = subprocess.Popen([sys.executable, "-c", CHILD,
                          "%s/ldap-%s" % (lib.MNT, how), how],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = c.stdout.readline().strip()
    child_pid = int(line) if line.isdigit() else None
    if how == "kill" and child_pid:
        c.kill()
    c.wait(30)
    err = c.stderr.read()
    tap.ok(child_pid is not None and gone(child_pid),
           "a test process that %s leaves no slapd behind (%s)"
           % ("fails with an exception" if how == "fail" else
              "is killed (SIGKILL)",
              "atexit" if how == "fail" else "PR_SET_PDEATHSIG"),
           "slapd pid %s; child said: %s" % (line, err[-1500:]))

tap.diag("%.1f s" % (time.time() - T0))
sys.exit(tap.done())
