#!/usr/bin/python3
"""End-to-end: OCSP revocation checking (issue 3) against the real
`openssl ocsp` responder on 127.0.0.1, started and stopped here, with a
PKI made at test time: root CA, intermediate CA, delegated responders
with id-kp-OCSPSigning, user certificates whose authorityInfoAccess
points at the responder.  Small Python servers play the hostile
network: a responder that never answers, replays, garbage, huge bodies,
redirects, stale answers, a fake proxy.  pamtester drives the real
module; every case asserts the PAM result and the syslog reason.
Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/ocsp.py
"""

import atexit
import datetime
import importlib.util
import os
import re
import shutil
import ssl
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

USERS = {
    "alice": 2301,   # good
    "ivan": 2309,    # revoked
    "uma": 2321,     # unknown to the responder (not in index.txt)
    "bob": 2302,     # good; AIA: a dead port, then the responder
    "carl": 2303,    # good; AIA: a silent server, then the responder
}

lib.need_ocsp_helper()
build, ns, tap = lib.start(USERS)
T0 = time.time()
HELPER = lib.ocsp_helper(build)
try:
    NETNS = lib.private_network()
except Exception as e:  # noqa: BLE001 - a namespace without loopback
    print("Bail out! private network namespace unusable: %s" % e)
    sys.exit(1)
SERVERS = []        # every Python server, stopped at the end
RESPONDERS = []     # every openssl ocsp, stopped at the end


@atexit.register
def _stop_all():
    """Whatever happens, no server outlives the test."""
    for s in SERVERS:
        s.stop()
    for r in RESPONDERS:
        r.stop()


def skip(name, why):
    """A TAP test that could not run here."""
    tap.n += 1
    print("ok %d - %s # SKIP %s" % (tap.n, name.replace("#", "\\#"), why))
    sys.stdout.flush()


def ossl(*args, **kw):
    return lib.run(["openssl"] + list(args), **kw)


# ------------------------------------------------------------------ PKI

P_INT = lib.free_port()     # the intermediate's responder (users' AIA)
P_ROOT = lib.free_port()    # the root's responder (intermediate's AIA)
while P_ROOT == P_INT:
    P_ROOT = lib.free_port()
URL_INT = "http://127.0.0.1:%d/" % P_INT
URL_ROOT = "http://127.0.0.1:%d/" % P_ROOT
URL_DEAD = "http://127.0.0.1:%d/" % lib.free_port()   # nothing listens


def hang(srv, conn):
    """Accept, read nothing, answer nothing, never close."""
    srv.held.append(conn)


SILENT = lib.TcpServer(hang)
SERVERS.append(SILENT)

pki = lib.PKI()
D = pki.dir
EXTF = D + "/ocsp-ext.cnf"
with open(EXTF, "w") as f:
    f.write("""
[v3_int_aia]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:%(root)s

[v3_user_aia]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:%(int)s

[v3_user_dead_first]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:%(dead)s, OCSP;URI:%(int)s

[v3_user_silent_first]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:%(silent)s, OCSP;URI:%(int)s

[v3_ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_no_ocspsigning]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_tls]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
""" % {"root": URL_ROOT, "int": URL_INT, "dead": URL_DEAD,
       "silent": SILENT.url})

# The root's own database (lib.PKI keeps only the intermediate's), so
# that the root's responder knows the intermediate and `openssl ca
# -revoke` can revoke it.
ROOTDB = D + "/rootdb"
os.makedirs(ROOTDB + "/newcerts", 0o755)
open(ROOTDB + "/index.txt", "w").close()
with open(ROOTDB + "/serial", "w") as f:
    f.write("2000\n")
with open(ROOTDB + "/crlnumber", "w") as f:
    f.write("01\n")
ROOTCNF = ROOTDB + "/ca.cnf"
with open(ROOTCNF, "w") as f:
    f.write(lib.CA_CNF.replace("$dir/int.pem", pki.root)
            .replace("$dir/int.key", pki.root_key) % {"dir": ROOTDB})
# Reissue the intermediate (same key) through the root's database, with
# an AIA naming the root's responder.
ossl("ca", "-config", ROOTCNF, "-batch", "-notext", "-in", D + "/int.csr",
     "-extfile", EXTF, "-extensions", "v3_int_aia", "-days", "3000",
     "-out", pki.int)
shutil.copy(pki.int, pki.chain)


def issue(name, ext, db="int", in_index=True, kind="p256"):
    """A certificate from the intermediate (db="int") or the root
    (db="root"), recorded in that CA's index.txt by `openssl ca` unless
    in_index is false."""
    key = "%s/%s.key" % (D, name)
    csr = "%s/%s.csr" % (D, name)
    pem = "%s/%s.pem" % (D, name)
    pki.keygen(kind, key)
    ossl("req", "-config", pki.cnf, "-new", "-key", key, "-subj",
         "/O=certauth e2e/CN=%s" % name, "-out", csr)
    if in_index:
        ossl("ca", "-config", pki.cnf if db == "int" else ROOTCNF, "-batch",
             "-notext", "-in", csr, "-extfile", EXTF, "-extensions", ext,
             "-days", "365", "-out", pem)
    else:
        ossl("x509", "-req", "-in", csr, "-CA", pki.int, "-CAkey",
             pki.int_key, "-set_serial", "0x7E57AB1E", "-days", "365",
             "-sha256", "-extfile", EXTF, "-extensions", ext, "-out", pem)
    c = lib.Cert(name, key, pem, kind)
    pki.certs[name] = c
    return c


ALICE = issue("alice", "v3_user_aia")
IVAN = issue("ivan", "v3_user_aia")
UMA = issue("uma", "v3_user_aia", in_index=False)
BOB = issue("bob", "v3_user_dead_first")
CARL = issue("carl", "v3_user_silent_first")
RESP_INT = issue("resp-int", "v3_ocsp")                  # delegated, int
RESP_ROOT = issue("resp-root", "v3_ocsp", db="root")     # delegated, root
ROGUE = issue("rogue", "v3_no_ocspsigning")              # never authorised
TLS = issue("tls", "v3_tls")
pki.revoke(IVAN)

TLS_SELF_KEY, TLS_SELF = D + "/tls-self.key", D + "/tls-self.pem"
pki.keygen("p256", TLS_SELF_KEY)
ossl("req", "-config", pki.cnf, "-new", "-x509", "-key", TLS_SELF_KEY,
     "-subj", "/CN=127.0.0.1", "-days", "30",
     "-addext", "basicConstraints=critical,CA:FALSE",
     "-addext", "extendedKeyUsage=serverAuth",
     "-addext", "subjectAltName=IP:127.0.0.1", "-out", TLS_SELF)
with open(D + "/tls-chain.pem", "w") as f:
    f.write(open(TLS.cert).read() + open(pki.int).read())

BIND = "/mnt/bindings"
lib.bind(BIND, "alice", ALICE)
lib.bind(BIND, "ivan", IVAN)
lib.bind(BIND, "uma", UMA)
lib.bind(BIND, "bob", BOB)
lib.bind(BIND, "carl", CARL)
lib.make_dir("/mnt/cache")

R_INT = lib.OpensslOcsp(D + "/index.txt", P_INT, pki.int, RESP_INT.cert,
                        RESP_INT.key)
R_ROOT = lib.OpensslOcsp(ROOTDB + "/index.txt", P_ROOT, pki.root,
                         RESP_ROOT.cert, RESP_ROOT.key)
R_ROGUE = lib.OpensslOcsp(D + "/index.txt", lib.free_port(), pki.int,
                          ROGUE.cert, ROGUE.key)
R_CA = lib.OpensslOcsp(D + "/index.txt", lib.free_port(), pki.int, pki.int,
                       pki.int_key)
# Signed by a responder the ROOT delegated: not authorised for the
# intermediate's certificates.
R_WRONG = lib.OpensslOcsp(D + "/index.txt", lib.free_port(), pki.int,
                          RESP_ROOT.cert, RESP_ROOT.key)
RESPONDERS += [R_INT, R_ROOT, R_ROGUE, R_CA, R_WRONG]
for r in RESPONDERS:
    r.start()

# A system CA bundle that also trusts our root, for the https cases
# (the helper verifies TLS against the system store).  Only this mount
# namespace sees it.
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
HAVE_TLS = os.path.exists(BUNDLE)
if HAVE_TLS:
    os.makedirs("/mnt/ssl", 0o755)
    with open("/mnt/ssl/ca-certificates.crt", "w") as f:
        f.write(open(BUNDLE).read() + "\n" + open(pki.root).read())
    os.chmod("/mnt/ssl/ca-certificates.crt", 0o644)
    lib.mount("--bind", "/mnt/ssl/ca-certificates.crt", BUNDLE)

tap.diag("PKI and responders ready in %.1f s (private network: %s)"
         % (time.time() - T0, "yes" if NETNS else "no"))


# -------------------------------------------------------------- servers


def server(handler, ssl_ctx=None):
    s = lib.TcpServer(handler, ssl_ctx=ssl_ctx)
    SERVERS.append(s)
    return s


def fixed(body, status=200, headers=(("Content-Type",
                                       "application/ocsp-response"),),
          length=True):
    """A responder that answers every request with the same bytes."""
    def handler(srv, conn):
        _, _, req = lib.read_http_request(conn)
        srv.requests.append(req)
        lib.http_reply(conn, status, body, headers, length=length)
    return handler


def refuse(srv, conn):
    conn.close()


def built(this_delta, next_delta):
    """A responder that builds its answers with python3-cryptography,
    signed by the delegated responder of the intermediate, for alice,
    echoing the request's nonce, with thisUpdate/nextUpdate at the given
    offsets from now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp as cocsp

    def load(p):
        return x509.load_pem_x509_certificate(open(p, "rb").read())
    cert, issuer, signer = load(ALICE.cert), load(pki.int), load(RESP_INT.cert)
    key = serialization.load_pem_private_key(open(RESP_INT.key, "rb").read(),
                                             None)

    def handler(srv, conn):
        _, _, body = lib.read_http_request(conn)
        srv.requests.append(body)
        req = cocsp.load_der_ocsp_request(body)
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            microsecond=0)
        b = cocsp.OCSPResponseBuilder().add_response(
            cert=cert, issuer=issuer, algorithm=req.hash_algorithm,
            cert_status=cocsp.OCSPCertStatus.GOOD,
            this_update=now + datetime.timedelta(seconds=this_delta),
            next_update=now + datetime.timedelta(seconds=next_delta),
            revocation_time=None, revocation_reason=None)
        b = b.responder_id(cocsp.OCSPResponderEncoding.HASH, signer)
        b = b.certificates([signer])
        try:
            n = req.extensions.get_extension_for_class(x509.OCSPNonce)
            b = b.add_extension(x509.OCSPNonce(n.value.nonce), critical=False)
        except x509.ExtensionNotFound:
            pass
        der = b.sign(key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER)
        lib.http_reply(conn, 200, der,
                       (("Content-Type", "application/ocsp-response"),))
    return handler


def tls_ctx(chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    return ctx


# -------------------------------------------------------------- helpers

CA_ARGS = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
           "bindings_dir=" + BIND]
SERVICES = set()


def svc(name, *opts, cache=None):
    """A service with ca/chain/bindings, the given ocsp options and its
    own fresh cache directory unless cache names one."""
    assert name not in SERVICES, name
    SERVICES.add(name)
    cache = cache or "/mnt/cache/" + name
    lib.service(name, build.module,
                CA_ARGS + list(opts) + ["ocsp_cache_dir=" + cache])
    return name


def sign(cert):
    return lib.tool_sign(build, cert.key)


USER_CERT = {"alice": ALICE, "ivan": IVAN, "uma": UMA, "bob": BOB,
             "carl": CARL}
LAST = {}


def login(service, user, env=None):
    """pamtester as `user` on `service`, answered by certauth-sign.
    env: variables set (value) or unset (None) for pamtester only.
    Records in LAST the seconds from the answer being sent to the end.
    """
    box = {}
    answer = sign(USER_CERT[user])

    def timed(c):
        a = answer(c)
        box["sent"] = time.monotonic()
        return a
    saved = {}
    if env:
        for k, v in env.items():
            saved[k] = os.environ.get(k)
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    mark = ns.mark()
    try:
        r = lib.pamtester(ns, service, user, timed, timeout=20)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    r.elapsed = time.monotonic() - box["sent"] if "sent" in box else None
    r.entries = ns.log.entries_since(mark)
    LAST["r"] = r
    return r


def warnings(r):
    """pam_certauth lines at LOG_WARNING or worse that mention OCSP."""
    return [b for pri, b in r.entries
            if "pam_certauth" in b and pri >= 0 and (pri & 7) <= 4
            and re.search("ocsp", b, re.I)]


def check(name, r, ok, reason=None, extra=()):
    """One TAP line: the PAM result, the syslog reason (regex on the
    pam_certauth lines) and extra (condition, complaint) pairs."""
    problems = []
    if ok and not (r.ok and r.status == 0):
        problems.append("login FAILED, expected success")
    if not ok:
        if r.status == 0 or r.pam_says("PAM_SUCCESS"):
            problems.append("login SUCCEEDED, expected failure")
        elif not r.pam_says("PAM_AUTH_ERR"):
            problems.append("expected PAM_AUTH_ERR")
        if r.challenge is None:
            problems.append("no challenge was issued")
    # The reason, without the "pam_certauth(service:auth):" prefix whose
    # service name could match by itself.
    text = re.sub(r"pam_certauth\([^)]*\):", "", r.log_text())
    if reason and not re.search(reason, text, re.I):
        problems.append("syslog reason does not match /%s/" % reason)
    for cond, complaint in extra:
        # Callables: evaluated after the login, not when the call is made.
        if not (cond() if callable(cond) else cond):
            problems.append(complaint() if callable(complaint)
                            else complaint)
    d = r.diag()
    if r.elapsed is not None:
        d = LogDiag(d + "\nseconds from answer to exit: %.2f" % r.elapsed)
    if problems:
        d = LogDiag(d + "\nproblem: " + "; ".join(problems))
    return tap.ok(not problems, name, d)


def good(name, service, user="alice", reason=None, extra=(), env=None):
    return check(name, login(service, user, env), True, reason, extra)


def bad(name, service, user="alice", reason=None, extra=(), env=None):
    return check(name, login(service, user, env), False, reason, extra)


def enroll_check(user, *opts):
    argv = [build.enroll, "--ca_file=" + pki.ca, "--chain_file=" + pki.chain,
            "--bindings_dir=" + BIND] + list(opts) + ["check", user]
    p = lib.run(argv, check=False)
    p.diag = LogDiag("$ certauth-enroll %s check %s\nexit %d\nstdout: %s\n"
                     "stderr: %s" % (" ".join(opts), user, p.returncode,
                                     p.stdout.strip(), p.stderr.strip()))
    return p


def cache_files(d):
    """Regular files in a cache directory (not temporaries of a write)."""
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, n) for n in os.listdir(d)
                  if re.fullmatch(r"[0-9a-f]{64}", n))


def ossl_status(der_path, cert):
    """What `openssl ocsp` itself says of a stored answer for cert:
    (verified, status line)."""
    p = ossl("ocsp", "-respin", der_path, "-issuer", pki.int, "-cert",
             cert.cert, "-CAfile", pki.root, "-verify_other", pki.int,
             "-no_nonce", check=False)
    line = [l for l in p.stdout.splitlines() if l.startswith(cert.cert)]
    return ("Response verify OK" in p.stderr and p.returncode == 0,
            line[0] if line else p.stdout.strip() + p.stderr.strip())


DOWN = r"cannot reach|unreachable|refused|connect"
UNREACH = r"unreach|connect|refused|time|down|no answer|responder"
BADSIG = (r"sign|author|responder|delegat|verif|trust|not allowed|"
          r"OCSPSigning")

# ------------------------------------------------- the responders alone

# The PKI and the responders, checked with the openssl ocsp client, so a
# failure below is the module's and not the test's.
REPLAY = D + "/replay-alice.der"
for cert, want in ((ALICE, "good"), (IVAN, "revoked"), (UMA, "unknown")):
    extra = ["-respout", REPLAY] if cert is ALICE else []
    p = ossl("ocsp", "-issuer", pki.int, "-cert", cert.cert, "-url", URL_INT,
             "-CAfile", pki.root, "-verify_other", pki.int, "-timeout", "5",
             *extra, check=False)
    tap.ok("%s: %s" % (cert.cert, want) in p.stdout and
           "Response verify OK" in p.stderr,
           "setup: openssl ocsp client gets '%s' for %s from the "
           "intermediate's responder" % (want, cert.name),
           LogDiag(p.stdout + p.stderr))
p = ossl("ocsp", "-issuer", pki.root, "-cert", pki.int, "-url", URL_ROOT,
         "-CAfile", pki.root, "-timeout", "5", check=False)
tap.ok("%s: good" % pki.int in p.stdout and "Response verify OK" in p.stderr,
       "setup: the root's responder says the intermediate is good",
       LogDiag(p.stdout + p.stderr))
tap.ok(os.path.exists(REPLAY) and os.path.getsize(REPLAY) > 0,
       "setup: a genuine answer for alice captured for the replay case")

# ------------------------------------------------------------- verdicts

good("control: the revoked user logs in when ocsp is off",
     svc("ocsp-off"), "ivan")
good("good answer, ocsp=hard: login succeeds, verdict from the responder",
     svc("good-hard", "ocsp=hard"),
     reason=r"authenticated.*good.*" + re.escape(URL_INT))
good("good answer, ocsp=soft: login succeeds",
     svc("good-soft", "ocsp=soft"))
bad("revoked, ocsp=hard: fails", svc("revoked-hard", "ocsp=hard"),
    "ivan", r"revoked")
bad("revoked, ocsp=soft: fails too", svc("revoked-soft", "ocsp=soft"),
    "ivan", r"revoked")
bad("unknown (serial not in index.txt), ocsp=hard: fails",
    svc("unknown-hard", "ocsp=hard"), "uma", r"unknown")
bad("unknown, ocsp=soft: fails too", svc("unknown-soft", "ocsp=soft"),
    "uma", r"unknown")
good("ocsp_digest=sha256 CertID: the responder answers, login succeeds",
     svc("sha256", "ocsp=hard", "ocsp_digest=sha256"))
good("ocsp_timeout_ms=500 is enough for a local responder",
     svc("short-timeout", "ocsp=hard", "ocsp_timeout_ms=500"))

# ------------------------------------------------ who signed the answer

good("answer signed by the issuing CA itself: accepted",
     svc("ca-signed", "ocsp=hard", "ocsp_url=" + R_CA.url))
bad("answer signed by a certificate without OCSPSigning: fails",
    svc("rogue-hard", "ocsp=hard", "ocsp_url=" + R_ROGUE.url), reason=BADSIG)
bad("unauthorised signer, ocsp=soft: fails too",
    svc("rogue-soft", "ocsp=soft", "ocsp_url=" + R_ROGUE.url), reason=BADSIG)
bad("answer signed by the ROOT's delegated responder for the "
    "intermediate's certificate: fails",
    svc("wrong-delegate", "ocsp=hard", "ocsp_url=" + R_WRONG.url),
    reason=BADSIG)
good("the same signer named by ocsp_responder_cert: accepted",
     svc("rogue-named", "ocsp=hard", "ocsp_url=" + R_ROGUE.url,
         "ocsp_responder_cert=" + ROGUE.cert))

# ------------------------------------------------------ answers in time

HAVE_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None
if HAVE_CRYPTOGRAPHY:
    fresh = server(built(-60, 3600))
    good("control: an answer built by the test (python3-cryptography), "
         "fresh, nonce echoed: accepted",
         svc("built-fresh", "ocsp=hard", "ocsp_url=" + fresh.url),
         extra=[(lambda: len(fresh.requests) >= 1,
                 "the test responder was not asked")])
    stale = server(built(-7200, -3600))
    bad("stale answer (nextUpdate an hour past, nonce echoed): fails",
        svc("stale-hard", "ocsp=hard", "ocsp_url=" + stale.url),
        reason=r"stale|nextupdate|next update|expired|old|past|fresh|"
        r"outdated|too late",
        extra=[(lambda: len(stale.requests) >= 1,
                "the stale responder was not asked")])
    bad("stale answer, ocsp=soft: fails too",
        svc("stale-soft", "ocsp=soft", "ocsp_url=" + stale.url),
        reason=r"stale|nextupdate|next update|expired|old|past|fresh|"
        r"outdated|too late")
    future = server(built(3 * 3600, 4 * 3600))
    bad("answer from the future (thisUpdate in 3 hours): fails",
        svc("future", "ocsp=hard", "ocsp_url=" + future.url),
        reason=r"future|thisupdate|this update|not yet|fresh|time")
else:
    for n in ("fresh built answer", "stale answer", "stale answer soft",
              "future answer"):
        skip(n, "python3-cryptography not installed")

replay = server(fixed(open(REPLAY, "rb").read()))
bad("genuine earlier answer replayed: fails on the nonce",
    svc("replay", "ocsp=hard", "ocsp_url=" + replay.url), reason=r"nonce")
bad("replayed answer, ocsp=soft: fails too",
    svc("replay-soft", "ocsp=soft", "ocsp_url=" + replay.url),
    reason=r"nonce")
good("the replayed answer is accepted with ocsp_nonce=no while fresh",
     svc("replay-nononce", "ocsp=hard", "ocsp_nonce=no",
         "ocsp_url=" + replay.url),
     extra=[(lambda: len(replay.requests) >= 3,
             lambda: "the replay server was asked %d times"
             % len(replay.requests))])

# ------------------------------------------------------ hostile network

garbage = server(fixed(os.urandom(300)))
bad("garbage body (HTTP 200): fails",
    svc("garbage", "ocsp=hard", "ocsp_url=" + garbage.url),
    reason=r"ocsp|format|pars|decod|der|invalid|malformed")
big = server(fixed(b"\x30\x82" + os.urandom(2 * 1024 * 1024)))
bad("2 MiB body with Content-Length: fails",
    svc("big-len", "ocsp=hard", "ocsp_url=" + big.url),
    reason=r"large|big|size|long|limit|64|exceed|format|too")
big2 = server(fixed(b"\x30\x82" + os.urandom(2 * 1024 * 1024), length=False))
bad("2 MiB body ended by the connection (no Content-Length): fails",
    svc("big-close", "ocsp=hard", "ocsp_url=" + big2.url),
    reason=r"large|big|size|long|limit|64|exceed|format|too")
err500 = server(fixed(b"oops", status=500,
                      headers=(("Content-Type", "text/plain"),)))
bad("HTTP 500, ocsp=hard: fails",
    svc("http500-hard", "ocsp=hard", "ocsp_url=" + err500.url),
    reason=r"500|http|status|unreach|responder")
r = login(svc("http500-soft", "ocsp=soft", "ocsp_url=" + err500.url),
          "alice")
check("HTTP 500, ocsp=soft: tolerated with a warning", r, True,
      extra=[(warnings(r), "no LOG_WARNING line mentioning OCSP")])
bad("garbage body, ocsp=soft: fails (an answer, just not a valid one)",
    svc("garbage-soft", "ocsp=soft", "ocsp_url=" + garbage.url),
    reason=r"ocsp|format|pars|decod|der|invalid|malformed")

# Redirects lead to a relay in front of the real responder, so following
# one would be counted (and would even log in).
relay = server(lib.relay_to(P_INT))
good("control: the relay in front of the real responder works",
     svc("relay", "ocsp=hard", "ocsp_url=" + relay.url),
     extra=[(lambda: relay.count() >= 1, "the relay got no connection")])
for code in (302, 307):
    before = relay.count()
    redirect = server(fixed(b"", status=code,
                            headers=(("Location", relay.url),)))
    bad("HTTP %d redirect to the real responder: not followed, fails" % code,
        svc("redirect-%d" % code, "ocsp=hard", "ocsp_url=" + redirect.url),
        reason=r"redirect|30\d|http|status|unreach|responder",
        extra=[(lambda: redirect.count() >= 1, "the redirecting server "
                "was not asked"),
               (lambda: relay.count() == before, lambda: "the redirect WAS "
                "followed (%d connection(s) to the real responder)"
                % (relay.count() - before))])

silent = SILENT
r = login(svc("hang-hard", "ocsp=hard", "ocsp_timeout_ms=1500",
              "ocsp_url=" + silent.url), "alice")
check("responder that never answers, ocsp=hard: fails within "
      "ocsp_timeout_ms + 1 s", r, False, reason=UNREACH,
      extra=[(r.elapsed is not None and r.elapsed <= 2.5,
              "took %s s (limit 2.5)" % (r.elapsed and "%.2f" % r.elapsed)),
             (silent.count() >= 1, "the silent server got no connection")])
r = login(svc("hang-soft", "ocsp=soft", "ocsp_timeout_ms=1500",
              "ocsp_url=" + silent.url), "alice")
check("responder that never answers, ocsp=soft: logs in within "
      "ocsp_timeout_ms + 1 s, with a warning", r, True,
      extra=[(r.elapsed is not None and r.elapsed <= 2.5,
              "took %s s (limit 2.5)" % (r.elapsed and "%.2f" % r.elapsed)),
             (warnings(r), "no LOG_WARNING line mentioning OCSP")])

# Several AIA URLs: asked in order until one answers, all within the one
# deadline of the login.
good("AIA with a dead URL first, then the responder: the second answers",
     svc("aia-dead-first", "ocsp=hard"), "bob",
     reason=re.escape("from " + URL_INT))
before = SILENT.count()
r = login(svc("aia-silent-first", "ocsp=hard", "ocsp_timeout_ms=1500"),
          "carl")
tap.ok(r.elapsed is not None and r.elapsed <= 2.5 and
       SILENT.count() > before,
       "AIA with a silent URL first: the login still ends within "
       "ocsp_timeout_ms + 1 s (one deadline for every URL)",
       LogDiag(r.diag() + "\nseconds from answer to exit: %s; %s"
               % (r.elapsed and "%.2f" % r.elapsed,
                  "ok" if r.ok else "failed")))

# ----------------------------------------------------------------- TLS

if HAVE_TLS:
    tls_front = server(lib.relay_to(P_INT),
                       ssl_ctx=tls_ctx(D + "/tls-chain.pem", TLS.key))
    TLS_URL = "https://127.0.0.1:%d/" % tls_front.port
    good("https responder with a certificate from the system store: "
         "login succeeds", svc("https", "ocsp=hard", "ocsp_url=" + TLS_URL),
         extra=[(lambda: tls_front.count() >= 1,
                 "the TLS front got no connection")])
    self_front = server(lib.relay_to(P_INT),
                        ssl_ctx=tls_ctx(TLS_SELF, TLS_SELF_KEY))
    bad("https responder with an untrusted (self-signed) certificate, "
        "ocsp=hard: fails",
        svc("https-untrusted", "ocsp=hard", "ocsp_url=https://127.0.0.1:%d/"
            % self_front.port), reason=UNREACH + r"|tls|ssl|certificate")
else:
    TLS_URL = None
    skip("https responder", "no %s" % BUNDLE)
    skip("https untrusted responder", "no %s" % BUNDLE)

# ---------------------------------------------- the caller's environment

proxy = server(refuse)
PROXY_URL = "http://127.0.0.1:%d" % proxy.port
os.makedirs("/mnt/keylog", 0o755)
os.chmod("/mnt/keylog", 0o1777)    # writable even for an unprivileged helper
KEYLOG = "/mnt/keylog/sslkeys.log"
with open("/mnt/keylog/.curlrc", "w") as f:
    f.write('proxy = "%s"\n' % PROXY_URL)
HOSTILE = {"http_proxy": PROXY_URL, "HTTP_PROXY": PROXY_URL,
           "https_proxy": PROXY_URL, "HTTPS_PROXY": PROXY_URL,
           "all_proxy": PROXY_URL, "ALL_PROXY": PROXY_URL,
           "no_proxy": None, "NO_PROXY": None, "SSLKEYLOGFILE": KEYLOG,
           "CURL_CA_BUNDLE": "/dev/null", "CURL_HOME": "/mnt/keylog"}

# Controls: these variables do steer libcurl (through the curl tool), so
# the module cases below are not vacuous.  The curl tool hosts no module:
# a sanitizer runtime preloaded for the suite stays out of it.
env_curl = {k: v for k, v in os.environ.items()
            if k.lower() not in ("no_proxy", "http_proxy", "https_proxy",
                                 "all_proxy", "sslkeylogfile", "ld_preload")}
if shutil.which("curl"):
    before = proxy.count()
    e = dict(env_curl, http_proxy=PROXY_URL)
    subprocess.run(["curl", "-q", "-s", "-m", "3", "-o", "/dev/null", URL_INT],
                   env=e, capture_output=True, timeout=30)
    e = dict(env_curl, all_proxy=PROXY_URL)
    subprocess.run(["curl", "-q", "-s", "-m", "3", "-o", "/dev/null", URL_INT],
                   env=e, capture_output=True, timeout=30)
    tap.ok(proxy.count() - before == 2, "control: curl goes through the "
           "fake proxy with http_proxy and with all_proxy set",
           LogDiag("proxy connections: %d" % (proxy.count() - before)))
    if TLS_URL:
        ctl = "/mnt/keylog/control.log"
        e = dict(env_curl, SSLKEYLOGFILE=ctl)
        ossl("ocsp", "-issuer", pki.int, "-cert", ALICE.cert, "-no_nonce",
             "-reqout", D + "/req.der")
        subprocess.run(["curl", "-q", "-s", "-m", "3", "-o", "/dev/null",
                        "--cacert", pki.root, "-H",
                        "Content-Type: application/ocsp-request",
                        "--data-binary", "@" + D + "/req.der", TLS_URL],
                       env=e, capture_output=True, timeout=30)
        tap.ok(os.path.exists(ctl) and os.path.getsize(ctl) > 0,
               "control: curl writes a TLS key log when SSLKEYLOGFILE is set")
else:
    skip("control: curl and the fake proxy", "curl not installed")

before = proxy.count()
good("http_proxy/all_proxy/SSLKEYLOGFILE... in pamtester's environment: "
     "the AIA responder is reached directly",
     svc("env-http", "ocsp=hard"), env=HOSTILE)
if TLS_URL:
    front_before = tls_front.count()
    good("the same environment with an https responder: login succeeds",
         svc("env-https", "ocsp=hard", "ocsp_url=" + TLS_URL), env=HOSTILE,
         extra=[(lambda: tls_front.count() > front_before,
                 "the TLS responder got no connection")])
tap.ok(proxy.count() == before, "the fake proxy got no connection from "
       "the module", LogDiag("proxy connections: %d" % (proxy.count() -
                                                       before)))
tap.ok(not os.path.exists(KEYLOG), "no TLS key log file appeared at "
       "$SSLKEYLOGFILE")

# Look at the helper itself while it waits on the silent server: what
# environment, user and arguments did the module give it?
HELPER_REAL = os.path.realpath(HELPER)


def helper_procs():
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % pid) != HELPER_REAL:
                continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                envb = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().rstrip(b"\0").split(b"\0")
            uid = os.stat("/proc/%s" % pid).st_uid
        except OSError:
            continue
        out.append((pid, envb, argv, uid))
    return out


seen = {}
t = threading.Thread(target=lambda: seen.update(r=login(
    svc("env-helper", "ocsp=hard", "ocsp_timeout_ms=2000",
        "ocsp_url=" + SILENT.url), "alice", env=HOSTILE)))
t.start()
end = time.time() + 6
procs = []
while t.is_alive() and time.time() < end and not procs:
    procs = helper_procs()
    time.sleep(0.02)
t.join()
try:
    import pwd
    NOBODY = pwd.getpwnam("nobody").pw_uid
except KeyError:
    NOBODY = None
tap.ok(procs and all(e == b"" for _, e, _, _ in procs),
       "the helper runs with an empty environment (pamtester's had "
       "http_proxy, SSLKEYLOGFILE...)",
       LogDiag("helper processes seen: %r" % [(p, e[:200], a, u)
                                             for p, e, a, u in procs]))
tap.ok(procs and NOBODY is not None and all(u == NOBODY
                                           for _, _, _, u in procs),
       "the helper runs as nobody, not root",
       LogDiag("uids %r, nobody %r" % ([u for _, _, _, u in procs], NOBODY)))

# --------------------------------------------------------------- chain

# The intermediate's AIA names the root's responder.
good("ocsp_scope=chain, leaf and intermediate good: login succeeds",
     svc("chain-good", "ocsp=hard", "ocsp_scope=chain"))
R_ROOT.stop()
bad("ocsp_scope=chain asks about the intermediate: root's responder down, "
    "ocsp=hard fails", svc("chain-rootdown", "ocsp=hard", "ocsp_scope=chain"),
    reason=r"intermediate.*(" + DOWN + ")")
ossl("ca", "-config", ROOTCNF, "-revoke", pki.int, "-crl_reason",
     "cACompromise")
R_ROOT.start()
bad("ocsp_scope=chain with the intermediate revoked by the root: fails",
    svc("chain-revoked", "ocsp=hard", "ocsp_scope=chain"),
    reason=r"intermediate.*revoked|revoked.*intermediate")
good("ocsp_scope=leaf (default) with the intermediate revoked: login "
     "succeeds", svc("leaf-introk", "ocsp=hard"))

# ------------------------------------------------------ enroll, cache

SHARED = "/mnt/cache/shared"
REVCACHE = "/mnt/cache/revoked"
good("cache: first login fetches and stores the answer",
     svc("cache", "ocsp=hard", cache=SHARED))
files = cache_files(SHARED)
st = os.stat(SHARED) if os.path.isdir(SHARED) else None
tap.ok(st is not None and stat.S_IMODE(st.st_mode) == 0o700 and
       st.st_uid == 0 and len(files) == 1,
       "cache: directory created root-owned 0700 with one answer file",
       LogDiag("mode %s, files %s" % (st and oct(st.st_mode), files)))
verified = files and ossl_status(files[0], ALICE)
tap.ok(bool(verified) and verified[0] and verified[1].endswith(": good"),
       "cache: the stored file is a verifiable good answer for alice",
       LogDiag(str(verified)))
ORIGINAL = open(files[0], "rb").read() if files else b""
bad("cache: a revoked answer is stored too",
    svc("cache-revoked", "ocsp=hard", cache=REVCACHE), "ivan", r"revoked")

p = enroll_check("alice", "--ocsp=hard", "--ocsp_cache_dir=/mnt/cache/e1")
tap.ok(p.returncode == 0 and re.search("ocsp", p.stdout, re.I) and
       re.search("good", p.stdout, re.I) and URL_INT in p.stdout,
       "certauth-enroll --ocsp=hard check: OCSP good, from the responder URL",
       p.diag)
p = enroll_check("ivan", "--ocsp=hard", "--ocsp_cache_dir=/mnt/cache/e2")
tap.ok(p.returncode == 1 and re.search("ocsp", p.stdout + p.stderr, re.I)
       and re.search("revoked", p.stdout + p.stderr, re.I),
       "certauth-enroll --ocsp=hard check of a revoked user: OCSP revoked, "
       "exit 1", p.diag)

R_INT.stop()
tap.ok(not lib.listening(P_INT), "the intermediate's responder is stopped")
bad("responder down (nothing on the port), ocsp=hard: fails",
    svc("down-hard", "ocsp=hard"), reason=DOWN)
r = login(svc("down-soft", "ocsp=soft"), "alice")
check("responder down, ocsp=soft: login succeeds with a warning logged",
      r, True, extra=[(warnings(r), "no LOG_WARNING line mentioning OCSP")])
good("cache: second login served from the cache with the responder "
     "stopped (ocsp=hard)", svc("cache-2", "ocsp=hard", "debug",
                                cache=SHARED), reason=r"good.*from cache")
bad("cache: a cached revoked answer is reused (responder stopped)",
    svc("cache-revoked-2", "ocsp=hard", cache=REVCACHE), "ivan",
    r"revoked")
p = enroll_check("alice", "--ocsp=hard", "--ocsp_cache_dir=" + SHARED)
tap.ok(p.returncode == 0 and re.search("ocsp", p.stdout, re.I) and
       re.search("good", p.stdout, re.I) and
       re.search("cache", p.stdout, re.I),
       "certauth-enroll check with the responder stopped: OCSP good, from "
       "the cache", p.diag)

# A planted file: ivan's genuine (revoked) answer under alice's name.  It
# verifies, but not for alice's CertID: ignored, so with the responder
# stopped the verdict is "unreachable", never "revoked".
ivan_files = cache_files(REVCACHE)
if files and ivan_files:
    shutil.copy(ivan_files[0], files[0])
    bad("cache: another certificate's answer planted under alice's name "
        "is ignored (responder stopped: unreachable, not revoked)",
        svc("planted", "ocsp=hard", cache=SHARED), reason=DOWN,
        extra=[(lambda: "revoked" not in LAST["r"].log_text(),
                "the planted answer was used")])
    with open(files[0], "wb") as f:
        f.write(ORIGINAL)
else:
    tap.ok(False, "cache: planted file case (no cache files to work with)")

# Tampering: flip bytes inside the answer's signature (found with
# python3-cryptography; else the last bytes of the file, which lie in the
# embedded responder certificate's signature).
TAMPERED = b""
if files:
    data = bytearray(ORIGINAL)
    at = len(data) - 12
    if HAVE_CRYPTOGRAPHY:
        from cryptography.x509 import ocsp as cocsp
        sig = cocsp.load_der_ocsp_response(ORIGINAL).signature
        at = ORIGINAL.find(sig) + len(sig) // 2
    for i in range(at, at + 8):
        data[i] ^= 0x5A
    TAMPERED = bytes(data)
    with open(files[0], "wb") as f:
        f.write(TAMPERED)
bad("cache: a tampered file is refused (responder stopped: ocsp=hard "
    "fails)", svc("tamper-down", "ocsp=hard", cache=SHARED), reason=DOWN)
R_INT.start()
good("cache: a tampered file is refetched (responder up: login "
     "succeeds)", svc("tamper-up", "ocsp=hard", cache=SHARED))
now_files = cache_files(SHARED)
new = open(now_files[0], "rb").read() if now_files else b""
verified = now_files and ossl_status(now_files[0], ALICE)
tap.ok(len(now_files) == 1 and new not in (TAMPERED, ORIGINAL) and
       bool(verified) and verified[0] and verified[1].endswith(": good"),
       "cache: the tampered file was rewritten with a fresh verifiable "
       "answer", LogDiag("files %s; verify %s; same as tampered: %s"
                         % (now_files, verified, new == TAMPERED)))

# Concurrent logins sharing one empty cache directory.
PAR = "/mnt/cache/parallel"
par_svc = svc("parallel", "ocsp=hard", cache=PAR)
results = [None] * 6


def one(i):
    results[i] = lib.pamtester(ns, par_svc, "alice", sign(ALICE), timeout=30)


threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
# The fetch lock of the one CertID stays; nothing else may.
left = sorted(n for n in os.listdir(PAR) if not n.startswith(".lock.")) \
    if os.path.isdir(PAR) else []
par_files = cache_files(PAR)
verified = par_files and ossl_status(par_files[0], ALICE)
tap.ok(all(r is not None and r.ok for r in results),
       "6 concurrent logins sharing one cache directory all succeed",
       LogDiag("\n".join(r.diag() if r else "no result" for r in results)))
tap.ok(len(par_files) == 1 and left == [os.path.basename(par_files[0])]
       and verified and verified[0] and verified[1].endswith(": good"),
       "after them: one verifiable cache file and its lock, no temporary "
       "left behind", LogDiag("directory: %r; verify %r"
                              % (sorted(os.listdir(PAR)), verified)))

# ----------------------------------------------------------- the binary

p = lib.run(["ldd", build.module], check=False)
tap.ok(p.returncode == 0 and "libcurl" not in p.stdout,
       "ldd pam_certauth.so shows no libcurl", LogDiag(p.stdout))
if os.path.exists(HELPER):
    p = lib.run(["ldd", HELPER], check=False)
    tap.ok("libcurl" in p.stdout, "control: ldd certauth-ocsp-fetch does "
           "show libcurl (the check above can see it)", LogDiag(p.stdout))
else:
    tap.ok(False, "certauth-ocsp-fetch is where the module runs it from",
           LogDiag(HELPER))

# ------------------------------------------------------------------ end

_stop_all()
tap.diag("ocsp e2e run took %.1f s" % (time.time() - T0))
sys.exit(tap.done())
