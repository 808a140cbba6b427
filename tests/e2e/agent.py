#!/usr/bin/python3
"""End-to-end: `certauth-sign --key agent --cert X.pem` with a real
ssh-agent started here (`ssh-agent -a SOCKET`) holding RSA-2048, P-256,
P-384 and Ed25519 keys loaded with ssh-add.  Each answer verifies with
stock openssl and logs in through the real pamtester.  Refused, with
nothing on standard output: an agent without the certificate's key (the
refusal names the key's fingerprint as ssh-add -l shows it), a key added
with `ssh-add -c` whose confirmation SSH_ASKPASS denies, a --digest the
agent cannot sign with, no SSH_AUTH_SOCK, no --cert.  Prints TAP.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/agent.py
"""

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import keys  # noqa: E402

USERS = {"alice": 2401, "bob": 2402, "carol": 2403, "dave": 2404}
KINDS = {"alice": "rsa2048", "bob": "p256", "carol": "p384",
         "dave": "ed25519"}

keys.need_agent()
build, ns, tap = lib.start(USERS)
MOD = build.module
pki = lib.PKI()
BIND = "/mnt/bindings"
CERT = {}
for user, kind in KINDS.items():
    CERT[user] = pki.issue(kind, kind)
    lib.bind(BIND, user, CERT[user])
lib.service("certauth-agent", MOD, ["ca_file=" + pki.ca, "chain_file=" +
                                    pki.chain, "bindings_dir=" + BIND])
tmp = tempfile.mkdtemp(prefix="certauth-agent-test.")
AGENTS = []


def start_agent(name, env=None):
    """An ssh-agent of its own, on a socket in tmp."""
    a = keys.Agent(os.path.join(tmp, name + ".sock"), env)
    AGENTS.append(a)
    return a


def sign(sock, c, *opts, env=None):
    e = {k: v for k, v in os.environ.items()
         if k not in ("SSH_AUTH_SOCK", "CERTAUTH_KEY", "CERTAUTH_CERT")}
    if sock is not None:
        e["SSH_AUTH_SOCK"] = sock
    e.update(env or {})
    p = subprocess.run([build.sign] + list(opts) + [c], env=e,
                       capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, start_new_session=True,
                       timeout=60)
    p.diag = ("$ certauth-sign %s\nexit %d\nstdout: %r\nstderr: %s"
              % (" ".join(opts), p.returncode, p.stdout, p.stderr))
    return p


def ossl_verify(cert, c, resp):
    """Whether stock openssl verifies response resp to c with cert's key
    (docs/PROTOCOL.md, "The response"): "[digest:]base64"."""
    digest, _, b64 = resp.rpartition(":")
    sig = os.path.join(tmp, "sig.bin")
    msg = os.path.join(tmp, "c.txt")
    pub = os.path.join(tmp, "pub.pem")
    with open(sig, "wb") as f:
        f.write(base64.b64decode(b64))
    with open(msg, "w") as f:
        f.write(c)
    lib.run(["openssl", "x509", "-in", cert.cert, "-pubkey", "-noout",
             "-out", pub])
    if cert.kind == "ed25519":
        argv = ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin",
                "-inkey", pub, "-in", msg, "-sigfile", sig]
    else:
        argv = ["openssl", "dgst", "-" + (digest or "sha256"), "-verify",
                pub, "-signature", sig, msg]
    return lib.run(argv, check=False).returncode == 0


def challenge(user):
    n = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return "certauth:v1:host1:sshd:%s:%d:%s" % (user, int(time.time()), n)


try:
    main = start_agent("main")
    AGENT = main.sock
    FP = {user: main.load(CERT[user], tmp) for user in KINDS}

    # Every key type: the answer verifies with openssl and logs in.
    prefixes = {"alice": "", "bob": "", "carol": "sha384:", "dave": ""}
    for user in KINDS:
        cert = CERT[user]
        seen = {}

        def answer(c, cert=cert, seen=seen):
            p = sign(AGENT, c, "--key", "agent", "--cert", cert.cert)
            seen["p"] = p
            return p.stdout.strip()

        r = lib.pamtester(ns, "certauth-agent", user, answer)
        p = seen.get("p")
        resp = p.stdout.strip() if p else ""
        pre = resp[:resp.index(":") + 1] if ":" in resp else ""
        tap.ok(p is not None and p.returncode == 0 and
               pre == prefixes[user] and
               ossl_verify(cert, r.challenge, resp),
               "%s (%s): the agent's answer%s verifies with stock openssl"
               % (user, cert.kind, " (sha384: by the curve)"
                  if prefixes[user] else ""), p.diag if p else r.diag())
        tap.ok(r.ok, "%s (%s): pamtester logs in with the agent's answer"
               % (user, cert.kind), r.diag())

    # RSA with --digest sha512: rsa-sha2-512, the answer says sha512:.
    c = challenge("alice")
    p = sign(AGENT, c, "--key", "agent", "--cert", CERT["alice"].cert,
             "--digest", "sha512")
    resp = p.stdout.strip()
    tap.ok(p.returncode == 0 and resp.startswith("sha512:") and
           ossl_verify(CERT["alice"], c, resp),
           "RSA --digest sha512: rsa-sha2-512, answered with sha512:",
           p.diag)

    # CERTAUTH_KEY and CERTAUTH_CERT stand for --key and --cert.
    c = challenge("bob")
    p = sign(AGENT, c, env={"CERTAUTH_KEY": "agent",
                            "CERTAUTH_CERT": CERT["bob"].cert})
    tap.ok(p.returncode == 0 and ossl_verify(CERT["bob"], c,
                                             p.stdout.strip()),
           "CERTAUTH_KEY=agent CERTAUTH_CERT=bob.pem signs with the agent",
           p.diag)

    def refused(p, text, name):
        tap.ok(p.returncode == 1 and p.stdout == "" and
               ("certauth-sign: " + text + "\n") in p.stderr, name,
               p.diag + "\nwanted: " + text)

    # Digests the agent cannot sign with.
    refused(sign(AGENT, challenge("alice"), "--key", "agent", "--cert",
                 CERT["alice"].cert, "--digest", "sha384"),
            "an ssh-agent signs with RSA keys using sha256 or sha512 only, "
            "not sha384", "RSA --digest sha384: refused, agents have none")
    refused(sign(AGENT, challenge("carol"), "--key", "agent", "--cert",
                 CERT["carol"].cert, "--digest", "sha256"),
            "an ssh-agent signs with an ECDSA P-384 key using sha384 only, "
            "not sha256", "P-384 --digest sha256: refused, the curve decides")
    refused(sign(AGENT, challenge("alice"), "--key", "agent", "--cert",
                 CERT["alice"].cert, "--pss"),
            "--pss cannot be used with --key agent: an ssh-agent signs RSA "
            "with PKCS#1 v1.5 only", "--pss with the agent: refused")

    # What the source needs.
    refused(sign(AGENT, challenge("bob"), "--key", "agent"),
            "--key agent needs the user's certificate (--cert or "
            "CERTAUTH_CERT) to choose the agent's key",
            "--key agent without --cert: refused")
    refused(sign(None, challenge("bob"), "--key", "agent", "--cert",
                 CERT["bob"].cert),
            "--key agent: no ssh-agent to ask (SSH_AUTH_SOCK is not set)",
            "no SSH_AUTH_SOCK: refused")
    gone = os.path.join(tmp, "gone.sock")
    refused(sign(gone, challenge("bob"), "--key", "agent", "--cert",
                 CERT["bob"].cert),
            "cannot reach the ssh-agent at %s: No such file or directory"
            % gone, "no agent at SSH_AUTH_SOCK: refused")

    # An agent without the certificate's key.
    empty = start_agent("empty")
    empty.add("-q", CERT["alice"].key)
    refused(sign(empty.sock, challenge("bob"), "--key", "agent", "--cert",
                 CERT["bob"].cert),
            "the ssh-agent holds no key matching the certificate %s (key %s;"
            " ssh-add -l lists the agent's keys)" % (CERT["bob"].cert,
                                                     FP["bob"]),
            "an agent without the certificate's key: refused, naming the "
            "key's fingerprint as ssh-add -l shows it")

    # ssh-add -c: the agent asks SSH_ASKPASS, which says no (or yes).
    asked = os.path.join(tmp, "asked")
    for verdict, status in (("deny", 1), ("allow", 0)):
        script = os.path.join(tmp, verdict + ".sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho \"$1\" >> %s\nexit %d\n"
                    % (asked, status))
        os.chmod(script, 0o755)
        agent = start_agent(verdict, {"SSH_ASKPASS": script,
                                      "SSH_ASKPASS_REQUIRE": "force",
                                      "DISPLAY": ":0"})
        agent.add("-q", "-c", CERT["bob"].key)
        if os.path.exists(asked):
            os.unlink(asked)
        c = challenge("bob")
        p = sign(agent.sock, c, "--key", "agent", "--cert",
                 CERT["bob"].cert)
        was_asked = os.path.exists(asked)
        if verdict == "deny":
            refused(p, "the ssh-agent refused to sign with key %s (a "
                    "confirmation denied?)" % FP["bob"],
                    "ssh-add -c, confirmation denied: refused, no answer")
        else:
            tap.ok(p.returncode == 0 and
                   ossl_verify(CERT["bob"], c, p.stdout.strip()),
                   "ssh-add -c, confirmation given: signed", p.diag)
        tap.ok(was_asked, "ssh-add -c (%s): the agent asked SSH_ASKPASS"
               % verdict)
except lib.SkipAll as e:
    tap.skip("agent", str(e))
finally:
    for a in AGENTS:
        a.stop()
    shutil.rmtree(tmp, ignore_errors=True)
tap.done()
