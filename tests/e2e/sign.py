#!/usr/bin/python3
"""certauth-sign against hostile challenges: the real binary from the
build directory signs (or refuses) challenges built here with the grammar
of docs/PROTOCOL.md, "The challenge".  Checked: the user, service, host
and time are shown on standard error before signing; --host, --service
and --user refuse another host, service or account (--host may be given
several times and ignores ASCII case); the time must be within
--max-age of the local clock (by default the module's challenge_ttl plus
180 s), --max-age 0 turns that off; standard output stays empty on every
refusal.  --with-cert: the answer's part after the '.' is the exact DER
of the certificate and the part before it verifies with openssl; for RSA
it is the line the documented openssl command prints; a certificate of
another key, none, or one too big for the 4096-character line is
refused; an answer over the 1023 characters ssh and sudo read is
printed with a warning.  Needs neither root nor a mount namespace.
Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/sign.py
"""

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WINDOW = 300            # the default --max-age: challenge_ttl 120 + 180
MARGIN = 20             # room for the test's own run time
PASSPHRASE = "correct horse battery"

if shutil.which("openssl") is None:
    lib.skip_all("openssl not installed")
build = lib.Build()
if not os.path.exists(build.sign):
    lib.skip_all("%s not built" % build.sign)

tap = lib.Tap()
tmp = tempfile.mkdtemp(prefix="certauth-sign-test.")
KEY = os.path.join(tmp, "p256.pem")
PUB = os.path.join(tmp, "p256.pub")
ENC_KEY = os.path.join(tmp, "enc.pem")
lib.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-out", KEY])
lib.run(["openssl", "pkey", "-in", KEY, "-pubout", "-out", PUB])
lib.run(["openssl", "genpkey", "-algorithm", "ed25519", "-aes-256-cbc",
         "-pass", "pass:" + PASSPHRASE, "-out", ENC_KEY])


def nonce():
    """base64url without padding of 32 fresh bytes: 43 characters."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def pct(s):
    """The field encoding of docs/PROTOCOL.md, "The challenge"."""
    plain = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
             "0123456789._-@+")
    return "".join(chr(b) if chr(b) in plain else "%%%02X" % b
                   for b in s.encode())


def challenge(host="host1", service="sshd", user="alice", t=None):
    t = int(time.time()) if t is None else t
    return "certauth:v1:%s:%s:%s:%s:%s" % (pct(host), pct(service),
                                            pct(user), t, nonce())


def sign(c, *opts, key=KEY, stdin=False):
    argv = [build.sign, "--key", key] + list(opts)
    if stdin:
        p = subprocess.run(argv, input="certauth challenge: %s\n" % c,
                           capture_output=True, text=True,
                           start_new_session=True)
    else:
        p = subprocess.run(argv + [c], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL,
                           start_new_session=True)  # no /dev/tty
    p.diag = ("$ certauth-sign %s %s\nexit %d\nstdout: %r\nstderr: %s"
              % (" ".join(opts), c, p.returncode, p.stdout,
                 p.stderr.strip()))
    return p


def verifies(c, resp):
    """The response checked by openssl with the public key alone."""
    sig = os.path.join(tmp, "sig.der")
    with open(sig, "wb") as f:
        f.write(base64.b64decode(resp))
    p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", PUB,
                        "-signature", sig], input=c.encode(),
                       capture_output=True)
    return p.returncode == 0


def utc(t):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def signed(name, c, *opts, rx=None, **kw):
    """Expect exit 0, one response line on stdout, the challenge shown on
    stderr (and rx found there).  Returns the CompletedProcess."""
    p = sign(c, *opts, **kw)
    lines = p.stdout.splitlines()
    ok = (p.returncode == 0 and len(lines) == 1 and verifies(c, lines[0])
          and "signing for user" in p.stderr
          and (rx is None or re.search(rx, p.stderr) is not None))
    tap.ok(ok, name, p.diag)
    return p


def refused(name, c, *opts, rx, status=1, signs=False, **kw):
    """Expect the exit status, nothing at all on stdout, no "signing for"
    line (unless signs: refused after signing) and rx on stderr."""
    p = sign(c, *opts, **kw)
    ok = (p.returncode == status and p.stdout == ""
          and (signs or "signing for" not in p.stderr)
          and re.search(rx, p.stderr) is not None)
    tap.ok(ok, name, p.diag)
    return p


# --------------------------------------------------- shown before signing

now = int(time.time())
c = challenge(t=now)
p = signed("matching --host, --service and --user: signed, openssl "
           "verifies the response", c, "--host", "host1", "--service",
           "sshd", "--user", "alice")
want = ("certauth-sign: signing for user alice, service sshd, on host host1 "
        "(challenge time %s)" % utc(now))
tap.ok(want in p.stderr.splitlines(),
       "stderr shows user, service, host and the time as a UTC date",
       "want: %s\n%s" % (want, p.diag))
tap.ok("not checked" not in p.stderr,
       "no reminder about the host when --host was given", p.diag)

p = signed("no option: signed, and still shown", challenge(user="root",
                                                         service="su"),
           rx=r"signing for user root, service su, on host host1 ")
tap.ok(re.search(r"host was not checked.*host1", p.stderr) is not None,
       "without --host a second line says the host was not checked", p.diag)
signed("pasted line on stdin: shown on stderr, only the response on stdout",
       challenge(), "--user", "alice", stdin=True,
       rx=r"signing for user alice, service sshd, on host host1 ")
signed("a field outside the plain bytes is shown and compared decoded",
       challenge(user="dom user:1"), "--user", "dom user:1",
       rx=r"signing for user dom user:1, ")

# ------------------------------------------------- another user, service

refused("challenge for another user (root, --user alice)",
        challenge(user="root"), "--user", "alice",
        rx=r"challenge is for user root, not alice: refusing to sign")
refused("challenge for another service (su, --service sshd)",
        challenge(service="su"), "--service", "sshd",
        rx=r"challenge is for service su, not sshd: refusing to sign")
refused("challenge for another service (sudo for root, all three given)",
        challenge(service="sudo", user="root"), "--host", "host1",
        "--service", "sshd", "--user", "alice",
        rx=r"service sudo, not sshd")
# ----------------------------------------------------------------- host

HOST_HINT = ("The host field is the server's own hostname (or its "
             "hostname= option), not the name you connect to: ")
p = refused("challenge for another host (host2, --host host1)",
            challenge(host="host2"), "--host", "host1",
            rx=r"challenge is for host 'host2'")
want = ("certauth-sign: refused: the challenge is for host 'host2', not "
        "'host1'. " + HOST_HINT + "if 'host2' is the server you meant, run "
        "again with --host host2 (or add --host host2).")
tap.ok(p.stderr.splitlines() == [want],
       "the refusal says what the host field is and how to go on",
       "want: %s\n%s" % (want, p.diag))
p = refused("several --host names, none matches: refused",
            challenge(host="vm"), "--host", "server", "--host",
            "server.example.org", "--host", "10.0.0.7",
            rx=r"challenge is for host 'vm'")
want = ("certauth-sign: refused: the challenge is for host 'vm', not "
        "'server', 'server.example.org' or '10.0.0.7'. " + HOST_HINT +
        "if 'vm' is the server you meant, run again with --host vm (or add "
        "--host vm).")
tap.ok(p.stderr.splitlines() == [want],
       "the refusal names every --host given", "want: %s\n%s"
       % (want, p.diag))
p = refused("a host field that is not a plain word: no command suggested",
            challenge(host="my host"), "--host", "server",
            rx=r"for host 'my host'")
want = ("certauth-sign: refused: the challenge is for host 'my host', not "
        "'server'. " + HOST_HINT + "if 'my host' is the server you meant, "
        "give that name with --host.")
tap.ok(p.stderr.splitlines() == [want],
       "a host that needs quoting is not put in a command", "want: %s\n%s"
       % (want, p.diag))
signed("--host given twice: the second one matches",
       challenge(host="vm"), "--host", "server", "--host", "vm",
       rx=r"on host vm ")
signed("--host given twice: the first one matches",
       challenge(host="vm"), "--host", "vm", "--host", "server",
       rx=r"on host vm ")
signed("host compared without case (--host HOST1, challenge host1)",
       challenge(host="host1"), "--host", "HOST1", rx=r"on host host1 ")
signed("host compared without case (--host db-2.example.org, challenge "
       "DB-2.Example.ORG)", challenge(host="DB-2.Example.ORG"), "--host",
       "db-2.example.org", rx=r"on host DB-2.Example.ORG ")
refused("a prefix of the host does not match (--host host, challenge "
        "host1)", challenge(host="host1"), "--host", "host",
        rx=r"for host 'host1', not 'host'")
refused("a longer name does not match (--host host1.example.org, "
        "challenge host1)", challenge(host="host1"), "--host",
        "host1.example.org", rx=r"for host 'host1', not 'host1.example.org'")
refused("only ASCII letters fold: \\xC3\\xA9 is not \\xC3\\x89",
        challenge(host="h\u00e9"), "--host", "h\u00c9",
        rx=r"for host 'h%C3%A9', not 'h\u00c9'.*give that name")
refused("usage error: --host 17 times",
        challenge(), *(["--host", "host1"] * 17),
        rx=r"--host may be given at most 16 times", status=2)
refused("user compared with its case (Alice against alice)",
        challenge(user="alice"), "--user", "Alice",
        rx=r"user alice, not Alice")
refused("service compared exactly (sshd against sshd2)",
        challenge(service="sshd2"), "--service", "sshd",
        rx=r"service sshd2, not sshd")
refused("the encoded form of a field does not match (--user a%3Ab)",
        challenge(user="a:b"), "--user", "a%3Ab",
        rx=r"user a:b, not a%3Ab")
refused("another user on stdin: refused, stdout empty",
        challenge(user="root"), "--user", "alice", stdin=True,
        rx=r"user root, not alice")
p = sign(challenge(), "--service", "sshd", key=ENC_KEY)
tap.ok(p.returncode == 1 and p.stdout == "" and "--pass-file" in p.stderr,
       "(control) the encrypted key needs a terminal for its passphrase",
       p.diag)
refused("refused before the passphrase of an encrypted key is asked for",
        challenge(service="su"), "--service", "sshd", key=ENC_KEY,
        rx=r"service su, not sshd")

# ------------------------------------------------------------------ time

p = refused("time 1 is refused by default", challenge(t=1),
            rx=r"challenge time 1970-01-01 00:00:01 UTC is \d+ seconds "
               r"\(about \d+ years\) behind this machine's clock, more "
               r"than the 300 seconds allowed: refusing to sign")
m = re.search(r"is (\d+) seconds", p.stderr)
tap.ok(m is not None and abs(int(m.group(1)) - (int(time.time()) - 1)) < 60,
       "the refusal says how far off time 1 is", p.diag)
refused("time a day ahead is refused", challenge(t=int(time.time()) + 86400),
        rx=r"is 86[34]\d\d seconds \(about (23|24) hours\) ahead of this "
           r"machine's clock")
refused("time in the year 2500 is refused",
        challenge(t=16725225600), rx=r"2500-01-01 00:00:00 UTC .* ahead of")
refused("time just outside the window in the past is refused",
        challenge(t=int(time.time()) - WINDOW - MARGIN),
        rx=r"behind this machine's clock")
refused("time just outside the window in the future is refused",
        challenge(t=int(time.time()) + WINDOW + MARGIN),
        rx=r"ahead of this machine's clock")
signed("time just inside the window in the past is signed",
       challenge(t=int(time.time()) - WINDOW + MARGIN))
signed("time just inside the window in the future is signed",
       challenge(t=int(time.time()) + WINDOW - MARGIN))
refused("--max-age 60: two minutes old is refused",
        challenge(t=int(time.time()) - 120), "--max-age", "60",
        rx=r"120 seconds \(about 2 minutes\) behind .* the 60 seconds "
           r"allowed")
signed("--max-age 60: half a minute old is signed",
       challenge(t=int(time.time()) - 30), "--max-age", "60")
signed("--max-age 0 signs an old challenge (time 1), the date still shown",
       challenge(t=1), "--max-age", "0",
       rx=r"challenge time 1970-01-01 00:00:01 UTC")
signed("--max-age 0 signs the largest time, shown as digits",
       challenge(t=2**63 - 1), "--max-age", "0",
       rx=r"\(challenge time 9223372036854775807\)")
refused("a time before 1970 is refused by default", challenge(t=-1),
        rx=r"challenge time 1969-12-31 23:59:59 UTC is before 1970: "
           r"refusing to sign")
refused("--max-age 0 still checks --user", challenge(t=1, user="root"),
        "--max-age", "0", "--user", "alice", rx=r"user root, not alice")

# ---------------------------------------------------- not a v1 challenge

NOT_V1 = r"not a certauth v1 challenge: "
now = int(time.time())
for what, c, rx in (
        ("a time beyond any time_t (20 digits)",
         challenge(t="9" * 20), r"time field"),
        ("a time one past the largest", challenge(t=2**63), r"time field"),
        ("a time with a leading zero", challenge(t="0%d" % now),
         r"time field"),
        ("a time with a '+'", challenge(t="+%d" % now), r"time field"),
        ("an empty user field", challenge().replace(":alice:", "::"),
         r"user field"),
        ("a lower-case escape in the host",
         challenge(host="a b").replace("%20", "%2a"), r"host field"),
        ("a nonce one character short", challenge()[:-1], r"nonce"),
        ("junk after the nonce", challenge() + ":x", r"nonce"),
        ("a challenge over 4096 characters",
         challenge(user="u" * 4096), r"longer than 4096")):
    refused("refused even with --max-age 0: %s" % what, c, "--max-age",
            "0", rx=NOT_V1 + ".*" + rx)
refused("refused: version v2", challenge().replace(":v1:", ":v2:", 1),
        "--max-age", "0", rx=r"not a certauth v1 challenge")

# ----------------------------------------------------------- usage, help

for opts, rx in ((["--max-age", "-1"], r"--max-age must be"),
                 (["--max-age", "soon"], r"--max-age must be"),
                 (["--max-age", "2147483648"], r"--max-age must be"),
                 (["--max-age", ""], r"--max-age must be"),
                 (["--user", ""], r"--user needs a user name"),
                 (["--service", ""], r"--service needs a service name"),
                 (["--host", ""], r"--host needs a host name")):
    refused("usage error: %s" % " ".join(repr(o) for o in opts),
            challenge(), *opts, rx=rx, status=2)

p = subprocess.run([build.sign, "--help"], capture_output=True, text=True)
tap.ok(p.returncode == 0 and all(o in p.stdout for o in
                                 ("--user NAME", "--service NAME",
                                  "--max-age SECONDS", "default 300",
                                  "0: no time check", "certauth-sign(1)")),
       "--help describes --user, --service and --max-age (default 300)",
       p.stdout)
tap.ok(re.search(r"protocol-v\d|section \d", p.stdout) is None,
       "--help names no protocol section that does not ship", p.stdout)

# ------------------------------------------------------------ --with-cert

CERT = os.path.join(tmp, "p256.crt")
lib.run(["openssl", "req", "-x509", "-new", "-key", KEY, "-subj",
         "/CN=alice", "-days", "30", "-out", CERT])
RSA_KEY = os.path.join(tmp, "rsa.pem")
RSA_CERT = os.path.join(tmp, "rsa.crt")
lib.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", RSA_KEY, "-subj", "/CN=alice", "-days", "30",
         "-out", RSA_CERT])


def der_of(cert):
    return subprocess.run(["openssl", "x509", "-in", cert, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def offered(line, cert, c, md="sha256", pub=PUB):
    """Why line is not the signature of c with pub's key, then a '.' and
    the DER of cert; "" when it is."""
    if line.count(".") != 1:
        return "not exactly one '.'"
    head, tail = line.split(".")
    if base64.b64decode(tail, validate=True) != der_of(cert):
        return "the part after the '.' is not the certificate's DER"
    if md != "sha256":
        if not head.startswith(md + ":"):
            return "no %s: prefix" % md
        head = head[len(md) + 1:]
    sig = os.path.join(tmp, "sig.der")
    with open(sig, "wb") as f:
        f.write(base64.b64decode(head, validate=True))
    v = subprocess.run(["openssl", "dgst", "-" + md, "-verify", pub,
                        "-signature", sig], input=c.encode(),
                       capture_output=True)
    return "" if v.returncode == 0 else "the signature does not verify"


SHORT = ("certauth-sign: the answer is %d characters: ssh and sudo read at "
         "most 1023 characters of an answer and cut off the rest")

c = challenge()
p = sign(c, "--cert", CERT, "--with-cert", "--host", "host1")
line = p.stdout.strip()
why = offered(line, CERT, c) if p.returncode == 0 else "exit status"
tap.ok(why == "" and len(p.stdout.splitlines()) == 1,
       "--with-cert, P-256: one line, the certificate's exact DER after the "
       "'.', a signature before it that openssl verifies",
       "%s\n%s" % (why, p.diag))
tap.ok(p.returncode == 0 and len(line) <= 1023 and
       "ssh and sudo" not in p.stderr,
       "--with-cert, P-256: %d characters, no warning" % len(line), p.diag)
p = sign(c, "--cert", CERT, "--host", "host1")
tap.ok(p.returncode == 0 and "." not in p.stdout and
       verifies(c, p.stdout.strip()),
       "--cert without --with-cert: the signature alone", p.diag)

env = dict(os.environ, CERTAUTH_CERT=CERT)
q = subprocess.run([build.sign, "--key", KEY, "--with-cert", "--digest",
                    "sha384", "--host", "host1", c], capture_output=True,
                   text=True, env=env, stdin=subprocess.DEVNULL,
                   start_new_session=True)
why = offered(q.stdout.strip(), CERT, c, "sha384") if q.returncode == 0 \
    else "exit status"
tap.ok(why == "", "--with-cert --digest sha384, the certificate from "
       "CERTAUTH_CERT: sha384: prefix, signature, '.', certificate",
       "%s\nexit %d\nstdout: %r\nstderr: %s" % (why, q.returncode, q.stdout,
                                              q.stderr))

DER_CERT = os.path.join(tmp, "p256.der")
with open(DER_CERT, "wb") as f:
    f.write(der_of(CERT))
p = sign(c, "--cert", DER_CERT, "--with-cert", "--host", "host1")
why = offered(p.stdout.strip(), CERT, c) if p.returncode == 0 \
    else "exit status"
tap.ok(why == "", "--with-cert with a DER certificate file: the same DER "
       "offered", "%s\n%s" % (why, p.diag))

# RSA: PKCS#1 v1.5 is deterministic, so the documented openssl command
# prints the very same line.
c = challenge()
p = sign(c, "--cert", RSA_CERT, "--with-cert", "--host", "host1",
         key=RSA_KEY)
line = p.stdout.strip()
cmd = ("printf '%s.%s' \"$(printf '%s' \"$C\" | openssl dgst -sha256 -sign "
       "key.pem | openssl base64 -A)\" \"$(openssl x509 -in cert.pem "
       "-outform DER | openssl base64 -A)\"")
shutil.copy(RSA_KEY, os.path.join(tmp, "key.pem"))
shutil.copy(RSA_CERT, os.path.join(tmp, "cert.pem"))
o = subprocess.run(["sh", "-c", cmd], cwd=tmp, capture_output=True,
                   text=True, env=dict(os.environ, C=c))
tap.ok(p.returncode == 0 and o.returncode == 0 and line == o.stdout,
       "--with-cert, RSA-2048: the line is the documented openssl "
       "command's, character for character",
       "%s\nopenssl: %r %s" % (p.diag, o.stdout, o.stderr))
lib.run(["openssl", "x509", "-in", RSA_CERT, "-pubkey", "-noout", "-out",
         RSA_CERT + ".pub"])
why = offered(o.stdout, RSA_CERT, c, pub=RSA_CERT + ".pub")
tap.ok(why == "", "the openssl command's line: the certificate's DER after "
       "the '.', a signature that verifies before it", why)
tap.ok(len(line) > 1023 and (SHORT % len(line)) in p.stderr.splitlines(),
       "--with-cert, RSA-2048: %d characters, printed with the warning "
       "that ssh and sudo cut it" % len(line), p.diag)

# Refusals: nothing on standard output.
env = dict(os.environ)
env.pop("CERTAUTH_CERT", None)
for opts, extra in ((["--with-cert"], {}),
                    (["--with-cert"], {"CERTAUTH_CERT": ""})):
    q = subprocess.run([build.sign, "--key", KEY] + opts + [challenge()],
                       capture_output=True, text=True,
                       env=dict(env, **extra), stdin=subprocess.DEVNULL,
                       start_new_session=True)
    want = ("certauth-sign: --with-cert needs the certificate to offer: "
            "--cert (or CERTAUTH_CERT)")
    tap.ok(q.returncode == 2 and q.stdout == "" and
           want in q.stderr.splitlines(),
           "usage error: --with-cert without --cert%s" %
           (" (CERTAUTH_CERT empty)" if extra else ""),
           "exit %d\nstdout: %r\nstderr: %s" % (q.returncode, q.stdout,
                                               q.stderr))
refused("--with-cert with the certificate of another key",
        challenge(), "--cert", RSA_CERT, "--with-cert",
        rx=r"(?m)^certauth-sign: the key does not belong to the certificate "
           + re.escape(RSA_CERT) + r": the server would refuse it$",
        signs=True)
refused("--with-cert with a file that holds no certificate",
        challenge(), "--cert", PUB, "--with-cert",
        rx=r"(?m)^certauth-sign: " + re.escape(PUB) +
           r" holds no certificate$", signs=True)
refused("--with-cert with a certificate that does not exist",
        challenge(), "--cert", tmp + "/none.pem", "--with-cert",
        rx=r"cannot open " + re.escape(tmp) + r"/none.pem: No such file",
        signs=True)

# A certificate with 250 names is too big for the 4096 characters.
ED_KEY = os.path.join(tmp, "ed.pem")
BIG = os.path.join(tmp, "big.crt")
lib.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", ED_KEY])
lib.run(["openssl", "req", "-x509", "-new", "-key", ED_KEY, "-subj",
         "/CN=alice", "-days", "30", "-addext", "subjectAltName=" +
         ",".join("DNS:host%03d.department.example.org" % i
                  for i in range(250)), "-out", BIG])
n = 88 + 1 + 4 * ((len(der_of(BIG)) + 2) // 3)
p = refused("--with-cert with a certificate of 250 names: too big to offer",
            challenge(), "--cert", BIG, "--with-cert", key=ED_KEY,
            rx=r"(?m)^certauth-sign: the certificate " + re.escape(BIG) +
               r" is too big to offer: with it the answer would be %d "
               r"characters, over the 4096 a response may have$" % n,
            signs=True)
tap.ok(n > 4096, "(control) that certificate makes a line of %d characters"
       % n, p.diag)

p = subprocess.run([build.sign, "--help"], capture_output=True, text=True)
tap.ok(p.returncode == 0 and "--with-cert" in p.stdout,
       "--help describes --with-cert", p.stdout)

shutil.rmtree(tmp, ignore_errors=True)
sys.exit(tap.done())
