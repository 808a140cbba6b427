#!/usr/bin/python3
"""Token mode: the module signs its own challenge on a PKCS#11 token in
this machine (pkcs11=try|only), proven with the real pamtester on a pty.
SoftHSM2 tokens are made here with softhsm2-util and pkcs11-tool, and
reached through p11-kit's configured modules (the default: p11-kit's
proxy, with a module list of our own mounted over the system's) and
directly (pkcs11_module= SoftHSM2's module).  SoftHSM2 finds its tokens
through /etc/softhsm/softhsm2.conf, a file of ours mounted over the
system's, as an administrator would set it up.

- RSA-2048, P-256 and Ed25519 keys log in with the right PIN, asked once
  with echo off; the log names the token and the certificate.
- A wrong PIN: PAM_AUTH_ERR, one PIN prompt, never a second, no
  challenge shown, and no fallback even under try.
- No token (SoftHSM2 with no initialised token, or pkcs11_uri naming
  one that is not there): try shows the typed challenge instead, which
  certauth-sign answers; only refuses without a prompt.
- A certificate on the token that is not bound to the user: try falls
  back, only refuses.
- Bound, but revoked (CRL, and OCSP from a real `openssl ocsp`
  responder) or expired: refused after the PIN; a good certificate under
  OCSP logs in with "OCSP good".
- Bound by rules (bindings=rules): the token's certificate is offered
  with the answer and mapped to the account.
- Two bound certificates on one token: the first in the token's order
  answers, and the log says which.
- pam_faillock counts a wrong PIN as a failure.

Prints TAP.
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402
import keys  # noqa: E402

USERS = {"alice": 2401, "bob": 2402, "carol": 2403, "dave": 2404,
         "erin": 2405, "frank": 2406, "gina": 2407, "hank": 2408,
         "ivy": 2409, "jack": 2410}
PIN = keys.PIN
SOFTHSM = keys.need_softhsm()

build, ns, tap = lib.start(USERS)
pki = lib.standard_pki()
C = pki.certs
BIND = "/mnt/bindings"
D = "/mnt/tokens"
lib.make_dir(D, 0o700)

# SoftHSM2 as installed on this machine, its configuration ours.
HSM = keys.SoftHSM(SOFTHSM, D)
if not os.path.exists("/etc/softhsm/softhsm2.conf"):
    lib.skip_all("SoftHSM2 has no /etc/softhsm/softhsm2.conf to stand in "
                 "for (softhsm2 package)")
lib.mount("--bind", HSM.conf, "/etc/softhsm/softhsm2.conf")
os.environ.pop("SOFTHSM2_CONF", None)
HSM.env = {}
# p11-kit's proxy (the default pkcs11_module) sees SoftHSM2 alone.
HOME = D + "/home"
os.makedirs(HOME, 0o700)
os.environ["HOME"] = HOME
keys.p11kit_modules(SOFTHSM, D + "/p11-kit-modules")
# p11-kit's trust module too, as Debian configures it: its tokens hold
# the system's CA certificates, never a user's.
TRUST = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so"
if os.path.exists(TRUST):
    with open(D + "/p11-kit-modules/p11-kit-trust.module", "w") as f:
        f.write("module: %s\ntrust-policy: yes\n" % TRUST)
# A SoftHSM2 with no initialised token at all: an empty reader.
EMPTY = D + "/empty"
os.makedirs(EMPTY + "/tokens", 0o700)
with open(EMPTY + "/softhsm2.conf", "w") as f:
    f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
            "log.level = ERROR\n" % EMPTY)
NO_TOKEN = {"SOFTHSM2_CONF": EMPTY + "/softhsm2.conf"}

# ------------------------------------------------------------ the tokens
pki.issue("alice2", "p256")
pki.issue("stranger", "p256")
pki.issue("gina", "p256", cn="gina")
pki.issue("ocsp-good", "p256")
pki.issue("ocsp-revoked", "p256")
pki.revoke(C["ocsp-revoked"])
pki.gencrl()

TOKENS = {  # label: [(certificate, object label, id)]
    "alice-card": [(C["rsa2048"], "auth", "01")],
    "bob-card": [(C["p256"], "auth", "01")],
    "carol-card": [(C["revoked"], "auth", "01")],
    "erin-card": [(C["stranger"], "auth", "01")],
    "frank-card": [(C["expired"], "auth", "01")],
    "gina-card": [(C["gina"], "auth", "01")],
    "hank-card": [(C["ocsp-good"], "auth", "01")],
    "ivy-card": [(C["ocsp-revoked"], "auth", "01")],
    "two-card": [(C["alice2"], "first", "01"), (C["rsa2048"], "second",
                                                "02")],
}
LABELS = list(TOKENS) + ["dave-card"]
for label, objs in TOKENS.items():
    HSM.init_token(label)
    for cert, obj, oid in objs:
        HSM.import_key(label, cert, obj, oid, with_cert=True)
ED = None
try:
    HSM.init_token("dave-card")
    HSM.tool("--token-label", "dave-card", "--login", "--pin", PIN,
             "--keypairgen", "--key-type", "EC:edwards25519", "--id", "01",
             "--label", "auth")
    HSM.tool("--token-label", "dave-card", "--read-object", "--type",
             "pubkey", "--id", "01", "-o", D + "/ed.pub")
    ED = pki.issue("token-ed25519", "ed25519", pubkey=D + "/ed.pub")
    HSM.tool("--token-label", "dave-card", "--login", "--pin", PIN,
             "--write-object", HSM._der(ED.cert, "x509"), "--type", "cert",
             "--id", "01", "--label", "auth")
except RuntimeError as e:
    tap.diag("no Ed25519 key on the token: %s" % e)

lib.bind(BIND, "alice", C["rsa2048"], C["alice2"])
lib.bind(BIND, "bob", C["p256"])
lib.bind(BIND, "carol", C["revoked"])
if ED is not None:
    lib.bind(BIND, "dave", ED)
lib.bind(BIND, "erin", C["p384"])  # not the certificate on erin-card
lib.bind(BIND, "frank", C["expired"])
lib.bind(BIND, "hank", C["ocsp-good"])
lib.bind(BIND, "ivy", C["ocsp-revoked"])
RULES = D + "/rules"
with open(RULES, "w") as f:
    f.write("[by-cn]\nmatchrule = <ISSUER>Test Intermediate CA\n"
            "maprule = LDAPU1:{subject_dn_component.cn}\n")
os.chmod(RULES, 0o644)
os.chmod(D, 0o755)

BASE = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
        "bindings_dir=" + BIND, "crl_file=" + pki.crl]


def service(name, mode, token=None, extra=(), base=BASE, extra_auth=()):
    args = list(base) + ["pkcs11=" + mode] + list(extra)
    if token is not None:
        args.append("pkcs11_uri=pkcs11:token=" + token)
    return lib.service(name, build.module, args, extra_auth=extra_auth)


def login(svc, user, pin=PIN, answer=None, env=None):
    return doors.session(ns, ["pamtester", "-v", svc, user, "authenticate"],
                         pin=pin, answer=answer, extra_env=env)


def module_log(r):
    return "\n".join(lib.module_lines(r.logs))


def check(name, r, ok, pins=1, challenges=0, says=(), fingerprint=None):
    """r logged in (ok) or was refused, with that many PIN prompts and
    challenges, and every regex of says in the module's log lines."""
    problems = []
    log = module_log(r)
    if r.error:
        problems.append(r.error)
    if ok and (r.status != 0 or "pamtester: successfully authenticated"
               not in r.transcript):
        problems.append("not authenticated (exit %s)" % r.status)
    if not ok and (r.status == 0 or "successfully" in r.transcript):
        problems.append("authenticated")
    if r.status is not None and r.status > 128:
        problems.append("killed by signal %d" % (r.status - 128))
    if len(r.pins) != pins:
        problems.append("%d PIN prompts, expected %d" % (len(r.pins), pins))
    if len(r.challenges) != challenges:
        problems.append("%d challenges, expected %d"
                        % (len(r.challenges), challenges))
    for pat in says:
        if not re.search(pat, log):
            problems.append("log does not say /%s/" % pat)
    if fingerprint and fingerprint not in log.lower().replace(":", ""):
        problems.append("no fingerprint %s in the log" % fingerprint)
    if PIN in log:
        problems.append("the PIN is in the log")
    return tap.ok(not problems, name, r.diag("; ".join(problems)))


def sign(cert):
    """certauth-sign answering a typed challenge with cert's key file."""
    def answer(c):
        p = lib.run([build.sign, "--key", cert.key, c], check=False)
        return p.stdout.strip()
    return answer


# ------------------------------------------------------- good logins
for label, user, cert, kind in (("alice-card", "alice", C["rsa2048"],
                                 "RSA-2048"),
                                ("bob-card", "bob", C["p256"], "P-256"),
                                ("dave-card", "dave", ED, "Ed25519")):
    if cert is None:
        tap.skip("%s on a token" % kind, "SoftHSM2 made no Ed25519 key")
        continue
    svc = service("tok-%s" % user, "only", label)
    r = login(svc, user)
    check("%s through p11-kit's proxy: %s logs in with the PIN" % (kind,
                                                                    user),
          r, True, says=(r"the answer comes from token '%s', certificate "
                         r"SHA256:" % label,
                         r"user %s authenticated with certificate" % user),
          fingerprint=cert.fingerprint)
    tap.ok(r.pins == [label], "%s: the PIN is asked for token '%s' by "
           "name" % (kind, label), r.diag())
    svc = service("tok-%s-direct" % user, "only", label,
                  extra=["pkcs11_module=" + SOFTHSM])
    r = login(svc, user)
    check("%s, pkcs11_module= SoftHSM2's module: %s logs in" % (kind, user),
          r, True, says=(r"user %s authenticated" % user,))

# The PIN prompt does not echo: the typed PIN is not on the terminal.
r = login("tok-alice", "alice")
tap.ok(r.status == 0 and PIN not in r.transcript,
       "the PIN is not echoed on the terminal", r.diag())

# ------------------------------------------------------------- the PIN
r = login("tok-alice", "alice", pin="999999")
check("wrong PIN: refused, asked once, no challenge shown", r, False,
      says=(r"user alice refused: token mode: wrong PIN for token "
            r"'alice-card'",))
tap.ok("Authentication failure" in r.transcript,
       "wrong PIN: pamtester reports PAM_AUTH_ERR", r.diag())
svc_try = service("tok-alice-try", "try", "alice-card")
r = login(svc_try, "alice", pin="999999", answer=sign(C["rsa2048"]))
check("wrong PIN under try: refused, no fallback to the challenge", r,
      False, says=(r"wrong PIN for token 'alice-card'",))
r = login("tok-alice", "alice", pin=None)
check("an empty PIN: refused without trying the token", r, False,
      says=(r"no PIN was given for token 'alice-card'",))
r = login("tok-alice", "alice")
check("after a wrong PIN the right one still works (nothing locked by "
      "the module)", r, True, says=(r"user alice authenticated",))

# ----------------------------------------------------------- no token
r = login(svc_try, "alice", answer=sign(C["rsa2048"]), env=NO_TOKEN)
check("no token present, try: the typed challenge is shown and answered",
      r, True, pins=0, challenges=1,
      says=(r"token mode: no token matches pkcs11:token=alice-card.*"
            r"asking through the conversation",
            r"user alice authenticated"))
r = login("tok-alice", "alice", env=NO_TOKEN)
check("no token present, only: refused without a prompt", r, False, pins=0,
      says=(r"user alice refused: token mode: no token matches "
            r"pkcs11:token=alice-card",))
svc = service("tok-absent-try", "try", "absent-card")
r = login(svc, "alice", answer=sign(C["rsa2048"]))
check("pkcs11_uri names a token that is not there, try: the challenge",
      r, True, pins=0, challenges=1,
      says=(r"no token matches pkcs11:token=absent-card \(tokens in "
            r"p11-kit's modules: .*'alice-card'",))
svc = service("tok-any", "only")
r = login(svc, "bob")
check("no pkcs11_uri, %d tokens present: the one holding bob's "
      "certificate answers (p11-kit's trust module passed over)"
      % len(LABELS), r, True, says=(r"token 'bob-card', certificate",
                                    r"user bob authenticated"))
r = login(svc, "erin")
check("no pkcs11_uri, no token holds erin's certificate: refused before "
      "the PIN, the tokens named", r, False, pins=0,
      says=(r"none of the %d tokens matching pkcs11: holds a certificate "
            r"bound to erin \(.*'erin-card'" % len(LABELS),))
tap.ok("System Trust" not in module_log(r) and "Trust" not in module_log(r),
       "p11-kit's trust module (CA certificates) is not among the tokens "
       "searched", r.diag())

# ------------------------------------------------- certificates, policy
svc = service("tok-erin", "only", "erin-card")
r = login(svc, "erin")
check("a certificate on the token not bound to the user: refused before "
      "the PIN", r, False, pins=0,
      says=(r"token 'erin-card' holds no certificate bound to erin "
            r"\(1 certificate there\)",))
svc = service("tok-erin-try", "try", "erin-card")
r = login(svc, "erin", answer=sign(C["p384"]))
check("not bound, try: the typed challenge, answered with the bound key",
      r, True, pins=0, challenges=1, says=(r"user erin authenticated",))
r = login(service("tok-mallory", "only", "alice-card"), "jack")
check("an account with no binding: refused, the token untouched", r, False,
      pins=0, says=(r"no certificate is bound to jack",))
r = login(service("tok-carol", "only", "carol-card"), "carol")
check("bound but revoked (CRL): refused after the PIN", r, False,
      says=(r"user carol refused: .*revoked",))
r = login(service("tok-frank", "only", "frank-card"), "frank")
check("bound but expired: refused after the PIN", r, False,
      says=(r"user frank refused: .*expired",))
r = login(service("tok-two", "only", "two-card"), "alice")
m = re.search(r"token 'two-card', certificate SHA256:(\S+) .*\(certificate 1 "
              r"of 2 there, 2 usable\)", module_log(r))
check("two bound certificates on one token: the first in the token's "
      "order answers", r, True, says=(r"user alice authenticated",))
tap.ok(m is not None and m.group(1) in (C["alice2"].fingerprint,
                                        C["rsa2048"].fingerprint),
       "two bound certificates: the log names the one that answered, "
       "certificate 1 of the 2 there", r.diag())
for obj, name in (("first", "alice2"), ("second", "rsa2048")):
    r = login(service("tok-two-" + obj, "only", "two-card;object=" + obj),
              "alice")
    check("pkcs11_uri object=%s chooses that one" % obj, r, True,
          says=(r"certificate 1 of 1 there",),
          fingerprint=C[name].fingerprint)

# Rules: the token's certificate is offered with the answer and mapped.
RULES_BASE = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
              "bindings=rules", "rules_file=" + RULES, "crl_file=" + pki.crl]
r = login(service("tok-gina", "only", "gina-card", base=RULES_BASE), "gina")
check("bindings=rules: the token's certificate mapped by the rules logs "
      "gina in", r, True, says=(r"user gina authenticated .*bound by "
                                r"rules",),
      fingerprint=C["gina"].fingerprint)
r = login(service("tok-gina-as-bob", "only", "gina-card", base=RULES_BASE),
          "bob")
check("bindings=rules: gina's card does not log bob in", r, False, pins=0,
      says=(r"holds no certificate the rules map to bob",))

# --------------------------------------------------------------- OCSP
helper = os.environ.get("ocsp_helper", "")
if helper and os.path.exists(helper) and lib._unfit_dir(helper) is None \
        and lib.private_network():
    port = lib.free_port()
    responder = lib.OpensslOcsp(pki.dir + "/index.txt", port, pki.int,
                                pki.int, pki.int_key).start()
    try:
        OCSP = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                "bindings_dir=" + BIND, "ocsp=hard",
                "ocsp_url=" + responder.url, "ocsp_cache_dir=none"]
        r = login(service("tok-hank", "only", "hank-card", base=OCSP),
                  "hank")
        check("OCSP from openssl ocsp: good, hank logs in", r, True,
              says=(r"user hank authenticated .*OCSP good from",))
        r = login(service("tok-ivy", "only", "ivy-card", base=OCSP), "ivy")
        check("OCSP from openssl ocsp: revoked, ivy refused", r, False,
              says=(r"user ivy refused: .*revoked",))
    finally:
        responder.stop()
else:
    for what in ("good", "revoked"):
        tap.skip("OCSP %s" % what, "the OCSP helper is not runnable from "
                 "this build tree, or no network namespace")

# ---------------------------------------------------------- pam_faillock
TALLY = D + "/faillock"
os.makedirs(TALLY, 0o755)
FL = "dir=%s deny=2 unlock_time=600" % TALLY
with open(os.path.join(lib.PAMD, "tok-faillock"), "w") as f:
    f.write("auth requisite pam_faillock.so preauth %s\n"
            "auth [success=1 default=bad] %s %s\n"
            "auth [default=die] pam_faillock.so authfail %s\n"
            "auth sufficient pam_faillock.so authsucc %s\n"
            "account required pam_permit.so\n"
            % (FL, build.module, " ".join(BASE + [
                "pkcs11=only", "pkcs11_uri=pkcs11:token=bob-card",
                "nodelay"]), FL, FL))
for i in (1, 2):
    r = login("tok-faillock", "bob", pin="000000")
    check("pam_faillock: wrong PIN %d counted" % i, r, False,
          says=(r"wrong PIN",))
p = lib.run(["faillock", "--dir", TALLY, "--user", "bob"], check=False)
fails = len([l for l in p.stdout.splitlines() if re.match(r"\d{4}-", l)])
tap.ok(fails == 2, "faillock shows the two wrong PINs", p.stdout)
r = login("tok-faillock", "bob")
check("pam_faillock: after two wrong PINs the right PIN is refused (the "
      "account is locked, no PIN asked)", r, False, pins=0)

# No PIN in any log line of the whole run.
logs = ns.logs_since(0)
tap.ok(logs and not [l for l in logs if PIN in l],
       "no PIN in syslog (%d lines)" % len(logs))

sys.exit(tap.done())
