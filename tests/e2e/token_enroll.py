#!/usr/bin/python3
"""certauth-enroll add USER --pkcs11 URI: the certificate read from a
SoftHSM2 token made here, without a PIN, reached by the URI's
module-path, by --pkcs11_module and through p11-kit's configured modules
(a module list of our own bind-mounted over p11-kit's).  RSA-2048 and
P-256 certificates enrolled by URI (pin-source left unread): the
bindings file holds exactly the token's certificate, list and check show
it, and the key on the token then logs in through the real pamtester.
Refused with their exact messages, an empty standard output and nothing
written: no certificate matches (the token's certificates listed), two
match, pin-value, type= other than cert, a certificate that fails the
policy (expired, another CA: the same words as add of the file), no such
token, every token, a token that shows its certificates only after a
login, and hostile objects: a certificate object that holds no
certificate, one over 64 KiB, a data object, a label with control bytes,
more objects than are listed.  Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/token_enroll.py
"""

import itertools
import os
import re
import socket
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import keys  # noqa: E402
from lib import LogDiag  # noqa: E402

USERS = {"alice": 2201, "bob": 2202, "carol": 2203, "dave": 2204,
         "erin": 2205}
SOFTHSM = keys.need_softhsm()
K = keys

build, ns, tap = lib.start(USERS)
HOST = socket.gethostname()
pki = lib.standard_pki()
C = pki.certs
# A CA this host does not trust, and a certificate it issued.
other = lib.PKI(d="/mnt/other-pki")
STRANGER = other.issue("stranger", "p256")

BIND = "/mnt/token-enroll/bindings"
lib.make_dir("/mnt/token-enroll")
D = "/mnt/token-enroll/p11"
lib.make_dir(D, 0o700)
HSM = keys.SoftHSM(SOFTHSM, D)
os.environ.update(HSM.env)
os.environ.pop("CERTAUTH_PKCS11_MODULE", None)
# p11-kit reads its module list from the system's directories and from
# $HOME/.config/pkcs11: in this namespace, SoftHSM2 alone.
HOME = D + "/home"
os.makedirs(HOME, 0o700)
os.environ["HOME"] = HOME
keys.p11kit_modules(SOFTHSM, D + "/p11-kit-modules")
PIN_FILE = D + "/pin"
with open(PIN_FILE, "w") as f:
    f.write(keys.PIN + "\n")


def der(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def cert_object(token, label, oid, value, private=False):
    """A certificate object made with C_CreateObject: value is stored as
    it is, whatever it holds."""
    HSM.create_object(token, [
        (K.CKA_CLASS, K.CKO_CERTIFICATE),
        (K.CKA_CERTIFICATE_TYPE, K.CKC_X_509), (K.CKA_TOKEN, True),
        (K.CKA_PRIVATE, private), (K.CKA_LABEL, label), (K.CKA_ID, oid),
        (K.CKA_SUBJECT, b"\x30\x00"), (K.CKA_VALUE, value)])


def write_cert(token, cert, label, oid):
    """cert's certificate onto token as pkcs11-tool writes it."""
    HSM.tool("--token-label", token, "--login", "--pin", keys.PIN,
             "--write-object", HSM._der(cert.cert, "x509"), "--type", "cert",
             "--id", oid, "--label", label)


# alice: two certificates labelled alike, each beside its private key.
HSM.init_token("alice")
HSM.import_key("alice", C["rsa2048"], "auth", "01", with_cert=True)
HSM.import_key("alice", C["p256"], "auth", "02", with_cert=True)
# single: one certificate, no key.
HSM.init_token("single")
write_cert("single", C["p384"], "only", "05")
# bad: what a token should not hold, and certificates the policy refuses.
HSM.init_token("bad")
write_cert("bad", C["expired"], "expired", "31")
write_cert("bad", STRANGER, "stranger", "32")
cert_object("bad", b"junk", b"\x33", os.urandom(300))
cert_object("bad", b"huge", b"\x34", os.urandom(100000))
cert_object("bad", b"evil\n\x1b[31m", b"\x35", b"\x30\x03\x02\x01\x00")
HSM.create_object("bad", [(K.CKA_CLASS, K.CKO_DATA), (K.CKA_TOKEN, True),
                          (K.CKA_PRIVATE, False), (K.CKA_LABEL, b"notes"),
                          (K.CKA_VALUE, b"hello")])
# private: its only certificate shown after a login alone.
HSM.init_token("private")
cert_object("private", b"hidden", b"\x41", der(C["ed25519"].cert),
            private=True)
# many: more certificate objects than a listing shows.
HSM.init_token("many")
for i in range(20):
    cert_object("many", b"c%02d" % i, bytes([0x50 + i]), der(C["p256"].cert))

TOKENS = ("alice", "single", "bad", "private", "many")
POLICY = ["--ca_file=" + pki.ca, "--chain_file=" + pki.chain,
          "--bindings_dir=" + BIND]
P = "certauth-enroll: "


def direct(rest):
    """A URI naming SoftHSM2 by module-path."""
    return "pkcs11:%s?module-path=%s" % (rest, SOFTHSM)


def enroll(*args, opts=POLICY):
    argv = [build.enroll] + list(opts) + list(args)
    p = lib.run(argv, check=False)
    p.diag = LogDiag("$ certauth-enroll %s\nexit %d\nstdout: %s\nstderr: %s"
                     % (" ".join(list(opts) + list(args)), p.returncode,
                        p.stdout.strip(), p.stderr.strip()))
    return p


def errlines(p):
    return [l for l in p.stderr.splitlines() if l.strip()]


def pem_blocks(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----\n.*?"
                      r"-----END CERTIFICATE-----", text, re.S)


# ------------------------------------------------------------ enrolled


def enrolled(name, user, uri, cert, opts=POLICY, form="space", warn=()):
    """add USER --pkcs11 URI binds cert, and only cert, saying warn and
    nothing else on standard error; list and check show it."""
    args = (["--pkcs11", uri] if form == "space" else ["--pkcs11=" + uri])
    p = enroll("add", user, *args, opts=opts)
    fp = cert.fingerprint
    path = os.path.join(BIND, user)
    tap.ok(p.returncode == 0 and errlines(p) == list(warn) and
           p.stdout == "bound %s %s to %s\n" % (fp, cert.subject, user),
           "%s: add binds the certificate to %s" % (name, user), p.diag)
    with open(cert.cert) as f:
        want = pem_blocks(f.read())
    have = pem_blocks(open(path).read()) if os.path.exists(path) else []
    tap.ok(have == want, "%s: the bindings file holds exactly the token's "
           "certificate" % name, diag="have %r\nwant %r" % (have, want))
    p = enroll("list", user)
    rows = [l.split("\t") for l in p.stdout.splitlines()]
    tap.ok(p.returncode == 0 and [r[:3] for r in rows] ==
           [[user, fp, cert.subject]], "%s: list %s shows it" % (name, user),
           p.diag)
    p = enroll("check", user)
    tap.ok(p.returncode == 0 and p.stdout == "%s ok\n" % fp,
           "%s: check %s passes it" % (name, user), p.diag)


enrolled("RSA-2048 by id, module-path", "alice", direct("token=alice;id=%01"),
         C["rsa2048"])
enrolled("P-256 by object and id, p11-kit's modules", "bob",
         "pkcs11:token=alice;object=auth;id=%02", C["p256"])
FP = C["p256"].fingerprint
enrolled("P-256, --pkcs11_module (bob's certificate too)", "carol",
         "pkcs11:token=alice;id=%02", C["p256"],
         opts=POLICY + ["--pkcs11_module=" + SOFTHSM], form="equals",
         warn=[P + "warning: certificate %s is also bound to bob; whoever "
               "holds its key can log in as each of them (certauth-enroll "
               "remove USER %s unbinds it)" % (FP, FP)])
enrolled("P-384, a token with one certificate, named by the token alone",
         "dave", direct("token=single"), C["p384"])

p = enroll("add", "alice", "--pkcs11", direct("token=alice;id=%01"))
tap.ok(p.returncode == 0 and p.stdout == "already bound %s %s to alice\n"
       % (C["rsa2048"].fingerprint, C["rsa2048"].subject),
       "the same certificate again: already bound, status 0", p.diag)
p = enroll("add", "dave", "--pkcs11",
           direct("token=single") + "&pin-source=/mnt/token-enroll/no-pin")
tap.ok(p.returncode == 0 and errlines(p) == [] and
       p.stdout == "already bound %s %s to dave\n"
       % (C["p384"].fingerprint, C["p384"].subject),
       "pin-source is not read: no login is made", p.diag)
p = enroll("--pkcs11=try", "list", "alice")
tap.ok(p.returncode == 0 and len(p.stdout.splitlines()) == 1,
       "--pkcs11=try is still the module's key pkcs11", p.diag)


# The module takes what add took: the key beside it on the token signs.
def challenge_answer(uri):
    def answer(c):
        return subprocess.run([build.sign, "--key", uri, "--pass-file",
                               PIN_FILE, "--host", HOST, c],
                              capture_output=True, text=True,
                              stdin=subprocess.DEVNULL).stdout.strip()
    return answer


SVC = lib.service("certauth-token-enroll", build.module,
                  ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                   "bindings_dir=" + BIND])
for user, uri in (("alice", direct("token=alice;object=auth;id=%01")),
                  ("bob", direct("token=alice;object=auth;id=%02"))):
    login = lib.pamtester(ns, SVC, user, challenge_answer(uri))
    tap.ok(login.ok, "%s logs in with the key beside the enrolled "
           "certificate" % user, diag=login.diag())

# ------------------------------------------------------------- refused
ERIN = os.path.join(BIND, "erin")


def refused(name, uri, first, rest=(), status=1, args=None, opts=POLICY):
    """add erin --pkcs11 uri fails with status, says first and then the
    lines rest in any order (a token lists its objects in its own
    order), prints nothing and writes nothing."""
    argv = ["add", "erin", "--pkcs11", uri] if args is None else args
    p = enroll(*argv, opts=opts)
    said = errlines(p)
    firsts = first if isinstance(first, tuple) else (first,)
    tap.ok(p.returncode == status and p.stdout == "" and said != [] and
           said[0] in [P + f for f in firsts] and
           sorted(said[1:]) == sorted(P + l for l in rest) and
           not os.path.exists(ERIN),
           "%s: refused (status %d), nothing written" % (name, status),
           diag=p.diag + "\nwanted:\n" + "\n".join(
               [P + firsts[0]] + [P + l for l in rest]))
    return p


def line(label, oid, what):
    return "  object=%s;id=%s: %s" % (label, oid, what)


ALICE_CERTS = [line("auth", "%01", C["rsa2048"].subject),
               line("auth", "%02", C["p256"].subject)]
refused("no certificate matches",
        direct("token=alice;object=nothing"),
        "no certificate on token 'alice' matches %s; the certificates "
        "there (name one with object= or id=):"
        % direct("token=alice;object=nothing"), ALICE_CERTS)
refused("two certificates match", direct("token=alice;object=auth"),
        "2 certificate objects on token 'alice' match %s: name one with "
        "object= or id=:" % direct("token=alice;object=auth"), ALICE_CERTS)
refused("two certificates match, p11-kit's modules", "pkcs11:token=alice",
        "2 certificate objects on token 'alice' match pkcs11:token=alice: "
        "name one with object= or id=:", ALICE_CERTS)
refused("pin-value", "pkcs11:token=alice;id=%01?pin-value=" + keys.PIN,
        "pin-value in a PKCS#11 URI is refused: a PIN on a command line is "
        "visible to other users, and add needs none (it reads the token's "
        "public certificate objects): leave pin-value out", status=2)
refused("type=private", direct("token=alice;id=%01;type=private"),
        "%s names an object that is not a certificate (type= must be cert "
        "or left out)" % direct("token=alice;id=%01;type=private"),
        status=2)
refused("an attribute p11-kit does not know",
        "pkcs11:token=alice;id=%01;color=blue",
        "the PKCS#11 URI pkcs11:token=alice;id=%01;color=blue has "
        "attributes this program does not know: refusing to guess which "
        "key it names", status=2)

# The policy is add's own: the words are those of add with the file.
AKI = lib.run(["openssl", "x509", "-in", STRANGER.cert, "-noout", "-ext",
               "authorityKeyIdentifier"]).stdout.split()[-1]
AKI = AKI[len("keyid:"):] if AKI.startswith("keyid:") else AKI
OTHER_INT = "CN=Test Intermediate CA,O=certauth e2e"
for label, cert, why in (
        ("expired", C["expired"],
         "refusing to enroll: certificate expired 2021-01-01 00:00:00 UTC"),
        ("stranger", STRANGER,
         "refusing to enroll: unable to get local issuer certificate: the "
         "certificate is issued by %s (authority key id %s), whose "
         "certificate is in none of chain_file, ca_file and ca_dir; add the "
         "certificate of %s to chain_file (an intermediate CA) or to "
         "ca_file/ca_dir (a root CA)" % (OTHER_INT, AKI, OTHER_INT))):
    p = refused("%s certificate on the token" % label,
                direct("token=bad;object=%s" % label), why)
    from_file = enroll("add", "erin", cert.cert)
    tap.ok(from_file.returncode == 1 and errlines(p) == errlines(from_file),
           "%s certificate: the same refusal as add of the file" % label,
           p.diag + "\n" + from_file.diag)

refused("a certificate object that is not DER",
        direct("token=bad;object=junk"),
        "the certificate object on token 'bad' that %s matches is unusable:"
        % direct("token=bad;object=junk"),
        [line("junk", "%33", "unusable, not one DER certificate")])
refused("a certificate object over 64 KiB", direct("token=bad;id=%34"),
        "the certificate object on token 'bad' that %s matches is unusable:"
        % direct("token=bad;id=%34"),
        [line("huge", "%34", "unusable, larger than 64 KiB")])
BAD_CERTS = [line("expired", "%31", C["expired"].subject),
             line("stranger", "%32", STRANGER.subject),
             line("junk", "%33", "unusable, not one DER certificate"),
             line("huge", "%34", "unusable, larger than 64 KiB"),
             line("evil%0A%1B%5B31m", "%35",
                  "unusable, not one DER certificate")]
p = refused("a data object, not a certificate",
            direct("token=bad;object=notes"),
            "no certificate on token 'bad' matches %s; what it names there:"
            % direct("token=bad;object=notes"),
            ["  object=notes: a data object, not a certificate",
             "the certificates on token 'bad' (name one with object= or "
             "id=):"] + BAD_CERTS)
tap.ok(errlines(p)[1:3] == [
    P + "  object=notes: a data object, not a certificate",
    P + "the certificates on token 'bad' (name one with object= or id=):"],
    "a data object: what the URI names comes first, then the token's "
    "certificates", p.diag)
refused("a token that shows its certificates after a login alone",
        direct("token=private"),
        "token 'private' shows no certificate without a login, and "
        "certauth-enroll does not log in: if the token keeps its "
        "certificates private, read the certificate with the token's own "
        "tools and give add the file")
MANY = ["  object=c%02d;id=%%%02X: %s" % (i, 0x50 + i, C["p256"].subject)
        for i in range(20)]
p = enroll("add", "erin", "--pkcs11", direct("token=many"))
said = errlines(p)
tap.ok(p.returncode == 1 and p.stdout == "" and len(said) == 18 and
       said[0] == P + "16 or more certificate objects on token 'many' match "
       "%s: name one with object= or id=:" % direct("token=many") and
       all(l[len(P):] in MANY for l in said[1:17]) and
       said[17] == P + "  ... (the token has more objects, not listed)"
       and
       not os.path.exists(ERIN),
       "more certificate objects than are listed: 16, then '...'", p.diag)

ALL = ["'%s'" % t for t in TOKENS]
refused("no such token", direct("token=nosuch"),
        tuple("no token matches %s (tokens in %s: %s)"
              % (direct("token=nosuch"), SOFTHSM, ", ".join(order))
              for order in itertools.permutations(ALL)))
refused("every token matches", direct(""),
        tuple("%d tokens match %s (tokens in %s: %s): name one with token="
              % (len(ALL), direct(""), SOFTHSM, ", ".join(order))
              for order in itertools.permutations(ALL)))
refused("no such token, p11-kit's modules", "pkcs11:token=nosuch",
        tuple("no token matches pkcs11:token=nosuch (tokens in p11-kit's "
              "modules: %s)" % ", ".join(order)
              for order in itertools.permutations(ALL)))
p = enroll("add", "erin", "--pkcs11",
           "pkcs11:token=alice?module-path=/mnt/token-enroll/no-such.so")
tap.ok(p.returncode == 1 and p.stdout == "" and len(errlines(p)) == 1 and
       errlines(p)[0].startswith(
           P + "cannot load the PKCS#11 module /mnt/token-enroll/no-such.so:")
       and not os.path.exists(ERIN),
       "a module that does not exist: refused, named", p.diag)

# ------------------------------------------------------------- usage
for args, msg in (
        (["add", "erin", C["p256"].cert, "--pkcs11",
          direct("token=alice;id=%01")],
         "add takes CERT or --pkcs11 URI, not both"),
        (["list", "--pkcs11", direct("token=alice;id=%01")],
         "--pkcs11 URI applies to add only"),
        (["add", "erin", "--pkcs11", direct("token=alice;id=%01"),
          "--pkcs11", direct("token=alice;id=%02")],
         "--pkcs11 URI given twice"),
        (["add", "erin"], "add needs CERT or --pkcs11 URI")):
    p = enroll(*args)
    tap.ok(p.returncode == 2 and errlines(p)[:1] == [P + msg] and
           not os.path.exists(ERIN),
           "usage error: %s" % msg, p.diag)

p = lib.run([build.enroll, "--help"], check=False)
tap.ok(p.returncode == 0 and "add USER --pkcs11 URI" in p.stdout and
       "add [--force] USER --pkcs11 URI" in p.stdout,
       "--help names add --pkcs11", p.stdout)

sys.exit(tap.done())
