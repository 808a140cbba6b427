#!/usr/bin/python3
"""certauth-sign with the private key on a PKCS#11 token (--key pkcs11:URI):
SoftHSM2 tokens made here, reached directly (module-path= in the URI,
CERTAUTH_PKCS11_MODULE) and through p11-kit's configured modules (the
proxy's view, with a module list of our own bind-mounted over p11-kit's).
RSA-2048 and P-256 keys imported with pkcs11-tool, an Ed25519 key made on
the token: each answer verifies with stock openssl and logs in through the
real pamtester.  Refused with their exact messages and an empty standard
output: a wrong PIN (asked once, never again), no such token, a key that
does not belong to --cert, a token without the key, pin-value.  Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/pkcs11.py
"""

import base64
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import keys  # noqa: E402

USERS = {"alice": 2001, "bob": 2002, "dave": 2004}
PIN = keys.PIN
SOFTHSM = keys.need_softhsm()

build, ns, tap = lib.start(USERS)
HOST = socket.gethostname()  # the host the module's challenges name
MOD = build.module
pki = lib.standard_pki()
BIND = "/mnt/bindings"
D = "/mnt/p11"
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
    f.write(PIN + "\n")
BAD_PIN_FILE = D + "/bad-pin"
with open(BAD_PIN_FILE, "w") as f:
    f.write("000000\n")

HSM.init_token("alice")
HSM.init_token("empty")
C = pki.certs
pki.issue("other-rsa", "rsa2048")
# RSA: the public half comes from the key object; P-256: from the
# certificate stored beside it.
HSM.import_key("alice", C["rsa2048"], "auth", "01")
HSM.import_key("alice", C["p256"], "auth-ec", "02", with_cert=True)
ED = None
try:
    HSM.tool("--token-label", "alice", "--login", "--pin", PIN,
            "--keypairgen", "--key-type", "EC:edwards25519", "--id", "03",
            "--label", "auth-ed")
    HSM.tool("--token-label", "alice", "--read-object", "--type", "pubkey",
            "--id", "03", "-o", D + "/ed.pub")
    ED = pki.issue("token-ed25519", "ed25519", pubkey=D + "/ed.pub")
except RuntimeError as e:
    tap.diag("no Ed25519 key on the token: %s" % e)

lib.bind(BIND, "alice", C["rsa2048"])
lib.bind(BIND, "bob", C["p256"])
if ED is not None:
    lib.bind(BIND, "dave", ED)
SVC = lib.service("certauth-p11", MOD,
                  ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                   "bindings_dir=" + BIND])


def challenge(user="alice"):
    nonce = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return "certauth:v1:%s:sshd:%s:%d:%s" % (HOST, user, int(time.time()),
                                             nonce)


def direct(rest):
    """A URI naming SoftHSM2 by module-path."""
    return "pkcs11:%s?module-path=%s" % (rest, SOFTHSM)


def sign(key, c, cert=None, pin_file=PIN_FILE, extra=(), env=None):
    argv = [build.sign, "--key", key, "--host", HOST]
    if cert is not None:
        argv += ["--cert", cert]
    if pin_file is not None:
        argv += ["--pass-file", pin_file]
    p = subprocess.run(argv + list(extra) + [c], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL,
                       start_new_session=True,
                       env=dict(os.environ, **(env or {})))
    p.diag = ("$ certauth-sign %s\nexit %d\nstdout: %r\nstderr: %s"
              % (" ".join(argv[1:] + list(extra)), p.returncode, p.stdout,
                 p.stderr))
    return p


def openssl_verifies(cert, c, response):
    """Whether stock openssl accepts response over c with cert's key."""
    digest, _, b64 = response.rpartition(":")
    pub, sig, txt = D + "/v.pub", D + "/v.sig", D + "/v.txt"
    lib.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey", "-out",
             pub])
    with open(sig, "wb") as f:
        f.write(base64.b64decode(b64))
    with open(txt, "w") as f:
        f.write(c)
    if "ED25519" in lib.run(["openssl", "pkey", "-pubin", "-in", pub,
                             "-noout", "-text"]).stdout:
        argv = ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin",
                "-inkey", pub, "-sigfile", sig, "-in", txt]
    else:
        argv = ["openssl", "dgst", "-" + (digest or "sha256"), "-verify",
                pub, "-signature", sig, txt]
    return lib.run(argv, check=False).returncode == 0


def signs(name, key, cert, user, extra=(), env=None, pss=False,
          sign_cert=True, pin_file=PIN_FILE):
    """key signs a challenge for user, stock openssl verifies the answer
    with cert's key, and user logs in with it through pamtester."""
    c = challenge(user)
    p = sign(key, c, cert.cert if sign_cert else None, pin_file=pin_file,
             extra=extra, env=env)
    resp = p.stdout.strip()
    ok = p.returncode == 0 and resp != ""
    tap.ok(ok, "%s: certauth-sign signs" % name, diag=p.diag)
    if not ok:
        return
    if pss:
        argv_ok = _pss_verifies(cert.cert, c, resp)
    else:
        argv_ok = openssl_verifies(cert.cert, c, resp)
    tap.ok(argv_ok, "%s: stock openssl verifies the answer" % name,
           diag=p.diag)
    login = lib.pamtester(ns, SVC, user,
                          lambda ch: sign(key, ch, cert.cert if sign_cert
                                          else None, pin_file=pin_file,
                                          extra=extra,
                                          env=env).stdout.strip())
    tap.ok(login.ok, "%s: %s logs in through pamtester" % (name, user),
           diag=login.diag())


def _pss_verifies(cert, c, response):
    digest, _, b64 = response.rpartition(":")
    pub, sig, txt = D + "/v.pub", D + "/v.sig", D + "/v.txt"
    lib.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey", "-out",
             pub])
    with open(sig, "wb") as f:
        f.write(base64.b64decode(b64))
    with open(txt, "w") as f:
        f.write(c)
    return lib.run(["openssl", "dgst", "-" + (digest or "sha256"),
                    "-verify", pub, "-sigopt", "rsa_padding_mode:pss",
                    "-signature", sig, txt], check=False).returncode == 0


def refused(name, key, want, cert=None, pin_file=PIN_FILE, env=None):
    """certauth-sign refuses with exactly one of the messages want (a
    string, or a tuple of the ways it may be put) and prints nothing."""
    wants = want if isinstance(want, tuple) else (want,)
    p = sign(key, challenge(), cert, pin_file=pin_file, env=env)
    said = [l for l in p.stderr.splitlines() if "signing for" not in l]
    tap.ok(p.returncode == 1 and p.stdout == "" and
           any(said == ["certauth-sign: " + w] for w in wants),
           "%s: refused, nothing signed" % name,
           diag=p.diag + "\nwanted: certauth-sign: " + wants[0])


def tokens(fmt):
    """fmt with the token list in both orders: slots come in the order
    SoftHSM2 gives them."""
    return (fmt % "'alice', 'empty'", fmt % "'empty', 'alice'")


# ---------------------------------------------------------------- signing
signs("RSA-2048, module-path", direct("token=alice;object=auth"),
      C["rsa2048"], "alice")
signs("RSA-2048 without --cert (the key object's modulus)",
      direct("token=alice;object=auth"), C["rsa2048"], "alice",
      sign_cert=False)
signs("RSA-2048 PSS, SHA-512", direct("token=alice;object=auth"),
      C["rsa2048"], "alice", extra=["--pss", "--digest", "sha512"], pss=True)
signs("P-256, module-path", direct("token=alice;object=auth-ec"), C["p256"],
      "bob")
signs("P-256, SHA-384", direct("token=alice;object=auth-ec"), C["p256"],
      "bob", extra=["--digest", "sha384"])
signs("P-256 without --cert (the certificate on the token)",
      direct("token=alice;object=auth-ec"), C["p256"], "bob",
      sign_cert=False)
signs("P-256, CERTAUTH_PKCS11_MODULE", "pkcs11:token=alice;object=auth-ec",
      C["p256"], "bob", env={"CERTAUTH_PKCS11_MODULE": SOFTHSM})
signs("RSA-2048, p11-kit's modules", "pkcs11:token=alice;object=auth",
      C["rsa2048"], "alice")
signs("P-256, p11-kit's modules, by id", "pkcs11:token=alice;id=%02",
      C["p256"], "bob")
signs("P-256, module-name=softhsm2",
      "pkcs11:token=alice;object=auth-ec?module-name=softhsm2", C["p256"],
      "bob")
signs("P-256, pin-source", "pkcs11:token=alice;object=auth-ec"
      "?pin-source=%s" % PIN_FILE, C["p256"], "bob", pin_file=None)
if ED is not None:
    signs("Ed25519 made on the token", direct("token=alice;object=auth-ed"),
          ED, "dave")
else:
    tap.skip("Ed25519 made on the token", "SoftHSM2 made no Ed25519 key")

# ---------------------------------------------------------------- refusals
refused("wrong PIN", direct("token=alice;object=auth"),
        "wrong PIN for token 'alice'", cert=C["rsa2048"].cert,
        pin_file=BAD_PIN_FILE)
refused("no such token", direct("token=bob;object=auth"),
        tokens("no token matches %s (tokens in %s: %%s)"
               % (direct("token=bob;object=auth"), SOFTHSM)))
refused("no such token, p11-kit's modules", "pkcs11:token=bob",
        tokens("no token matches pkcs11:token=bob (tokens in p11-kit's "
               "modules: %s)"))
refused("a token without the key", direct("token=empty;object=auth"),
        "token 'empty' holds no private key matching %s"
        % direct("token=empty;object=auth"), cert=C["rsa2048"].cert)
refused("no such object", direct("token=alice;object=nothing"),
        "token 'alice' holds no private key matching %s"
        % direct("token=alice;object=nothing"), cert=C["rsa2048"].cert)
refused("RSA key, another RSA certificate", direct("token=alice;object=auth"),
        "the key on token 'alice' does not belong to the certificate %s"
        % C["other-rsa"].cert, cert=C["other-rsa"].cert)
refused("RSA key, a P-256 certificate", direct("token=alice;object=auth"),
        "the key on token 'alice' does not belong to the certificate %s"
        % C["p256"].cert, cert=C["p256"].cert)
refused("P-256 key, another P-256 certificate",
        direct("token=alice;object=auth-ec"),
        "the key on token 'alice' does not belong to the certificate %s"
        % C["revoked"].cert, cert=C["revoked"].cert)
if ED is not None:
    refused("Ed25519 key, another Ed25519 certificate (the signature "
            "tells)", direct("token=alice;object=auth-ed"),
            "the key on token 'alice' does not belong to the certificate %s"
            % C["ed25519"].cert, cert=C["ed25519"].cert)
refused("several keys and no certificate", direct("token=alice"),
        "%d private keys on token 'alice' match %s: name one with object= "
        "or id=, or give the user's certificate"
        % (3 if ED is not None else 2, direct("token=alice")))
refused("pin-value", "pkcs11:token=alice;object=auth?pin-value=" + PIN,
        "pin-value in a PKCS#11 URI is refused: a PIN on a command line is "
        "visible to other users; use pin-source=FILE, or let the PIN be "
        "asked for")
refused("a path attribute p11-kit does not know",
        "pkcs11:token=alice;object=auth;color=blue",
        "the PKCS#11 URI pkcs11:token=alice;object=auth;color=blue has "
        "attributes this program does not know: refusing to guess which "
        "key it names")
refused("no PIN and no terminal", direct("token=alice;object=auth"),
        "token 'alice' needs its PIN and there is no terminal to ask it "
        "on: use --pass-file", cert=C["rsa2048"].cert, pin_file=None)


# ------------------------------------------------------------ the terminal
def tty_sign(key, pin, c):
    """certauth-sign on a terminal of its own, the PIN typed at its
    prompt; returns (exit status, everything it wrote, prompts seen)."""
    import pexpect
    child = pexpect.spawn(build.sign, ["--key", key, "--cert",
                                       C["rsa2048"].cert, c],
                          encoding="utf-8", timeout=20)
    child.expect_exact("PIN for token 'alice': ")
    child.sendline(pin)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


c = challenge()
status, out = tty_sign(direct("token=alice;object=auth"), PIN, c)
resp = out.strip().splitlines()[-1].strip() if out.strip() else ""
tap.ok(status == 0 and openssl_verifies(C["rsa2048"].cert, c, resp),
       "the PIN typed at the terminal prompt: signed, openssl verifies",
       diag="exit %s\n%s" % (status, out))
tap.ok(PIN not in out, "the PIN is not echoed", diag=out)
status, out = tty_sign(direct("token=alice;object=auth"), "000000",
                       challenge())
tap.ok(status == 1 and "certauth-sign: wrong PIN for token 'alice'" in out
       and "PIN for token 'alice': " not in out,
       "a wrong PIN typed at the terminal: refused, not asked again",
       diag="exit %s\n%s" % (status, out))

tap.done()
