#!/usr/bin/python3
"""End-to-end: certauth-askpass answers for the real ssh and sudo -A.

The real OpenSSH server listens on 127.0.0.1 in a private network
namespace with /etc/pam.d/sshd made from pam.d-examples/sshd; the real
ssh client runs with SSH_ASKPASS=<built certauth-askpass> and
SSH_ASKPASS_REQUIRE=force, standard input /dev/null and no terminal
(a new session), as each user with a per-user askpass.conf.  It reaches
the server as "server" (HostKeyAlias), whose challenges name the host
name: the configuration's host line maps one to the other.  Checked:
zero-typing logins with RSA-2048, P-256, Ed25519 and an encrypted key
(passphrase from a next askpass program) in files; with RSA-2048, P-256
and Ed25519 keys in a real ssh-agent of the user's (CERTAUTH_KEY=agent),
and an `ssh-add -c` key whose confirmation the next program denies
(refused); with RSA-2048 and P-256 keys on SoftHSM2 tokens reached
through p11-kit (CERTAUTH_KEY=pkcs11:...), the PIN from the next program,
and a wrong PIN (refused, asked once); a relayed challenge of another
host refused with its exact message; a certificate-or-password stack
whose password prompt reaches the next program; hostile prompts given
directly; an answer verified by stock openssl; with_cert = yes: the
certificate's exact DER after the '.' and a signature before it that
openssl verifies, from cert = or CERTAUTH_CERT, refused without a
certificate, with a bad value, with another key's certificate, or with
one too big for the 4096-character line; sudo -A with the module option
challenge_in_prompt.  Prints TAP.
"""

import atexit
import base64
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
import keys  # noqa: E402

SUDO = "/usr/bin/sudo"
PASSWORDS = {"nick": "nick-s3cret-pw"}
PASSPHRASE = "dave's passphrase"
USERS = {"alice": lib.Account(2901), "bob": lib.Account(2902),
         "carol": lib.Account(2903), "dave": lib.Account(2904),
         "nick": lib.Account(2905, PASSWORDS["nick"])}
KINDS = {"alice": "rsa2048", "bob": "p256", "carol": "ed25519",
         "dave": "p256"}

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "ssh",
                                         doors.Sshd.BINARY, SUDO, "setpriv"))
ASKPASS = os.path.join(lib.user_bin(build), "certauth-askpass")
if not os.path.exists(ASKPASS):
    lib.skip_all("%s not built" % ASKPASS)
if not lib.private_network():
    tap.diag("no private network namespace: sshd listens on the host's "
             "127.0.0.1")
HOST = socket.gethostname()
system, certs = doors.installed(build, KINDS)
home = {u: "%s/home/%s" % (lib.MNT, u) for u in USERS}


def own(path, user, mode):
    uid = USERS[user].uid
    os.chown(path, uid, uid)
    os.chmod(path, mode)


def user_file(user, name, data, mode=0o600):
    path = os.path.join(home[user], name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    d = os.path.dirname(path)
    while d != home[user]:
        own(d, user, 0o700)
        d = os.path.dirname(d)
    own(path, user, mode)
    return path


def conf_path(user):
    return os.path.join(home[user], ".config/certauth/askpass.conf")


# Each user's key in their home, and their askpass.conf.
key_file = {}
for u in KINDS:
    src = certs[u].key
    if u == "dave":
        src, _ = system.pki.encrypt_key(certs[u], PASSPHRASE)
    key_file[u] = user_file(u, "%s.key" % u, open(src).read())
    user_file(u, ".config/certauth/askpass.conf",
              "# what certauth-askpass signs\nkey = %s\n"
              "host server = %s\n" % (key_file[u], HOST))
user_file("nick", ".config/certauth/askpass.conf",
          "host server = %s\n" % HOST)
# The next askpass programs: each logs every prompt it is given.  NEXT
# answers a passphrase, a token's PIN or a password prompt; WRONG gives a
# wrong PIN and says no to anything else (an agent's confirmation).
NEXT_LOG = lib.MNT + "/next.log"
doors.write(NEXT_LOG, "", 0o666)


def next_program(name, cases):
    """A next askpass program that logs its prompt and answers by the
    first of cases ([(sh case pattern, answer)]) that matches, else
    exits 1."""
    path = lib.MNT + "/" + name
    answers = "".join("%s) echo \"%s\" ;;\n" % c for c in cases)
    doors.write(path, """#!/bin/sh
printf '%%s\\n--\\n' "$1" >> %s
case "$1" in
%s*) exit 1 ;;
esac
""" % (NEXT_LOG, answers), 0o755)
    return path


PIN_PROMPT = "PIN for token '%s': "
NEXT = next_program("next-askpass", [
    ("Passphrase*", PASSPHRASE), ("\"PIN for token \"*", keys.PIN),
    ("*assword*", PASSWORDS["nick"])])
WRONG = next_program("wrong-askpass", [("\"PIN for token \"*", "000000")])

# ------------------------------------------------------------- sshd

ssh_dir = lib.MNT + "/ssh"
system.install_example("sshd", 1)
sshd = doors.Sshd(ssh_dir, lib.free_port())
port = sshd.port
if not sshd.ok:
    tap.ok(False, "sshd listens on 127.0.0.1:%d" % port, sshd.log())
    sshd.stop()
    sys.exit(tap.done())


def as_user(user, env, argv):
    """argv run as user with env, no terminal, stdin /dev/null."""
    full = doors.as_user(user) + ["env"] + [
        "%s=%s" % kv for kv in sorted(env.items())] + argv
    p = subprocess.run(full, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, start_new_session=True, timeout=60)
    p.diag = "$ %s\nexit %d\nstdout: %r\nstderr: %s" % (
        " ".join(argv), p.returncode, p.stdout, p.stderr.strip())
    return p


def ssh(user, next_prog=None, extra=None):
    env = dict(extra or {}, SSH_ASKPASS=ASKPASS, SSH_ASKPASS_REQUIRE="force",
               DISPLAY="")
    if next_prog:
        env["CERTAUTH_ASKPASS_NEXT"] = next_prog
    return as_user(user, env, [
        "ssh", "-F", "/dev/null", "-p", str(port),
        "-o", "HostKeyAlias=server", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "NumberOfPasswordPrompts=1", "%s@127.0.0.1" % user,
        "id -un"])


def next_prompts():
    with open(NEXT_LOG) as f:
        return f.read()


def signing_line(user, service="sshd"):
    return ("certauth-askpass: signing for user %s, service %s, on host %s "
            "(challenge time " % (user, service, HOST))


for u in ("alice", "bob", "carol"):
    p = ssh(u)
    tap.ok(p.returncode == 0 and p.stdout == u + "\n" and
           signing_line(u) in p.stderr,
           "ssh %s@server id -un with no terminal, %s key: prints %s"
           % (u, KINDS[u], u), p.diag)
    if u == "alice":
        tap.diag("transcript: $ SSH_ASKPASS=certauth-askpass "
                 "SSH_ASKPASS_REQUIRE=force ssh alice@server id -un\n"
                 + p.stderr + p.stdout)

p = ssh("dave", NEXT)
log = next_prompts()
tap.ok(p.returncode == 0 and p.stdout == "dave\n" and
       "Passphrase for %s: " % key_file["dave"] in log,
       "encrypted key: the next askpass program gives the passphrase, "
       "ssh dave@server id -un prints dave", p.diag + "\nnext: " + log)
tap.ok("certauth:v1:" not in log and "certauth challenge" not in log,
       "no challenge ever reached the next program", log)

# -------------------------------------------- an ssh-agent and a token
# The same logins with CERTAUTH_KEY naming another source, and
# CERTAUTH_CERT the user's certificate, which picks the key.
cert_file = {u: user_file(u, "%s.pem" % u, open(certs[u].cert).read(),
                          0o644) for u in KINDS}
AGENTS = []


@atexit.register
def _stop_agents():
    for a in AGENTS:
        a.stop()


def agent_of(user, name, env=None):
    """An ssh-agent run by user (the only one but root it answers), its
    socket in user's home."""
    a = keys.Agent("%s/.%s.sock" % (home[user], name), env,
                   run_as=doors.as_user(user))
    AGENTS.append(a)
    return a


def with_agent(user, agent):
    return {"CERTAUTH_KEY": "agent", "CERTAUTH_CERT": cert_file[user],
            "SSH_AUTH_SOCK": agent.sock}


# Each user's agent holds their key and another one (the certificate
# chooses).
for u in ("alice", "bob", "carol"):
    a = agent_of(u, "agent")
    a.load(certs["other"], ssh_dir)
    a.load(certs[u], ssh_dir)
    p = ssh(u, extra=with_agent(u, a))
    tap.ok(p.returncode == 0 and p.stdout == u + "\n" and
           signing_line(u) in p.stderr,
           "ssh-agent: CERTAUTH_KEY=agent ssh %s@server id -un with no "
           "terminal, %s key loaded with ssh-add: prints %s"
           % (u, KINDS[u], u), p.diag)
    if u == "alice":
        tap.diag("transcript: $ CERTAUTH_KEY=agent CERTAUTH_CERT=~/alice.pem"
                 " SSH_ASKPASS=certauth-askpass SSH_ASKPASS_REQUIRE=force "
                 "ssh alice@server id -un\n" + p.stderr + p.stdout)

# ssh-add -c: the agent asks its SSH_ASKPASS, certauth-askpass, which
# passes the question on to the next program, which says no.
a = agent_of("alice", "confirm", {"SSH_ASKPASS": ASKPASS,
                                  "SSH_ASKPASS_REQUIRE": "force",
                                  "DISPLAY": ":0",
                                  "CERTAUTH_ASKPASS_NEXT": WRONG})
fp = a.load(certs["alice"], ssh_dir, "-c")
open(NEXT_LOG, "w").close()
mark = ns.mark()
p = ssh("alice", extra=with_agent("alice", a))
log = next_prompts()
want = ("certauth-askpass: the ssh-agent refused to sign with key %s (a "
        "confirmation denied?)" % fp)
tap.ok(p.returncode != 0 and "alice" not in p.stdout and
       want in p.stderr.splitlines() and
       re.search(r"(?m)^Allow use of key ", log) is not None,
       "ssh-agent, ssh-add -c: the next askpass program denies the "
       "confirmation, refused with no login", p.diag + "\nnext: " + log +
       "\nwant: " + want)
tap.diag("refusal: " + want)
logs = "\n".join(lib.module_lines(ns.logs_since(mark)))
tap.ok("accepted" not in logs, "ssh-agent, ssh-add -c denied: the module "
       "accepted nothing", logs)

# A SoftHSM2 token per user, in a directory of theirs, that p11-kit's
# configured modules (SoftHSM2 alone here) reach.
def tokens():
    """Returns the users' SoftHSM2s, or None when there is no SoftHSM2."""
    module, why = keys.find_softhsm()
    if module is None:
        tap.skip("SoftHSM2 tokens", why)
        return None
    keys.p11kit_modules(module, lib.MNT + "/p11-kit-modules")
    hsm = {}
    for u, oid in (("alice", "01"), ("bob", "02")):
        hsm[u] = keys.SoftHSM(module, "%s/p11-%s" % (lib.MNT, u))
        hsm[u].init_token(u)
        hsm[u].import_key(u, certs[u], "ssh", oid)
        hsm[u].give(USERS[u].uid)
    return hsm


HSM = tokens()


def with_token(user):
    return dict(HSM[user].env, CERTAUTH_CERT=cert_file[user],
                CERTAUTH_KEY="pkcs11:token=%s;object=ssh" % user)


def token_login(u):
    """u logs in with the key on their token, the PIN from NEXT."""
    open(NEXT_LOG, "w").close()
    p = ssh(u, NEXT, extra=with_token(u))
    log = next_prompts()
    tap.ok(p.returncode == 0 and p.stdout == u + "\n" and
           log.count(PIN_PROMPT % u) == 1,
           "token: CERTAUTH_KEY=pkcs11:token=%s;object=ssh ssh %s@server "
           "id -un, %s key on SoftHSM2, the PIN from the next askpass "
           "program: prints %s" % (u, u, KINDS[u], u),
           p.diag + "\nnext: " + log)
    tap.ok("certauth:v1:" not in log and "certauth challenge" not in log,
           "token (%s): no challenge reached the next program" % u, log)
    return p, log


def wrong_pin():
    """A wrong PIN from WRONG: refused, asked once, nothing accepted."""
    open(NEXT_LOG, "w").close()
    mark = ns.mark()
    p = ssh("alice", WRONG, extra=with_token("alice"))
    log = next_prompts()
    want = "certauth-askpass: wrong PIN for token 'alice'"
    tap.ok(p.returncode != 0 and "alice" not in p.stdout and
           want in p.stderr.splitlines() and
           log.count(PIN_PROMPT % "alice") == 1,
           "token, a wrong PIN from the next askpass program: refused with "
           "no login, the PIN asked once",
           p.diag + "\nnext: " + log + "\nwant: " + want)
    tap.diag("refusal: " + want)
    logs = "\n".join(lib.module_lines(ns.logs_since(mark)))
    tap.ok("accepted" not in logs, "token, wrong PIN: the module accepted "
           "nothing", logs)


if HSM is not None:
    p, log = token_login("alice")
    tap.diag("transcript: $ CERTAUTH_KEY='pkcs11:token=alice;object=ssh' "
             "CERTAUTH_CERT=~/alice.pem CERTAUTH_ASKPASS_NEXT=next-askpass "
             "SSH_ASKPASS=certauth-askpass SSH_ASKPASS_REQUIRE=force ssh "
             "alice@server id -un\n" + p.stderr + p.stdout +
             "(next-askpass was asked: %r)" % log)
    token_login("bob")
    wrong_pin()
_stop_agents()

# A hostile server relays the challenge of another host, bank.
system.install_example("sshd", 1)
pamd = os.path.join(lib.PAMD, "sshd")
text = open(pamd).read().replace(
    "auth       required     pam_certauth.so\n",
    "auth       required     pam_certauth.so hostname=bank\n")
doors.write(pamd, text)
mark = ns.mark()
p = ssh("alice")
want = ("certauth-askpass: refused: the challenge is for host 'bank', not "
        "'server' or '%s'. The host field is the server's own hostname (or "
        "its hostname= option), not the name you connect to: if 'bank' is "
        "the server you meant, add the line 'host server = bank' to %s."
        % (HOST, conf_path("alice")))
tap.ok(p.returncode != 0 and want in p.stderr.splitlines() and
       "signing for" not in p.stderr and "alice" not in p.stdout,
       "a challenge relayed from another host is refused with the line to "
       "add", p.diag + "\nwant: " + want)
tap.diag("refusal: " + want)
logs = "\n".join(lib.module_lines(ns.logs_since(mark)))
tap.ok("user alice refused" in logs and "accepted" not in logs,
       "the module refused alice: no signature reached it", logs)

# Certificate or password: nick is unbound, his password prompt goes on.
system.install_example("sshd", 2)
open(NEXT_LOG, "w").close()
p = ssh("nick", NEXT)
log = next_prompts()
tap.ok(p.returncode == 0 and p.stdout == "nick\n" and
       "(nick@server) Password: " in log,
       "certificate-or-password: the password prompt reaches the next "
       "askpass program and nick logs in", p.diag + "\nnext: " + log)
p = ssh("bob", NEXT)
tap.ok(p.returncode == 0 and p.stdout == "bob\n" and
       signing_line("bob") in p.stderr,
       "certificate-or-password: bob still answers by certificate", p.diag)
system.install_example("sshd", 1)

# ----------------------------------------------- prompts given directly


def nonce():
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def challenge(host=None, service="sshd", user="bob", t=None):
    return "certauth:v1:%s:%s:%s:%d:%s" % (
        host or HOST, service, user, int(time.time()) if t is None else t,
        nonce())


def prompt(c, prefix="(bob@server) "):
    return "%scertauth challenge: %s\ncertauth response: " % (prefix, c)


def direct(pr, user="bob", env=None):
    return as_user(user, dict(env or {}), [ASKPASS, pr])


def refused(name, pr, want, user="bob"):
    p = direct(pr, user)
    tap.ok(p.returncode == 1 and p.stdout == "" and
           "signing for" not in p.stderr and
           want in p.stderr.splitlines(), name,
           p.diag + "\nwant: " + want)


c = challenge()
p = direct(prompt(c))
sig = ssh_dir + "/sig.der"
pub = ssh_dir + "/bob.pub"
lib.run(["openssl", "x509", "-in", certs["bob"].cert, "-pubkey", "-noout",
         "-out", pub])
ok = p.returncode == 0 and len(p.stdout.splitlines()) == 1
if ok:
    with open(sig, "wb") as f:
        f.write(base64.b64decode(p.stdout.strip()))
    v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub,
                        "-signature", sig], input=c.encode(),
                       capture_output=True)
    ok = v.returncode == 0
tap.ok(ok, "the answer certauth-askpass prints verifies with openssl dgst "
       "-verify and the certificate's public key", p.diag)

refused("a challenge for another user", prompt(challenge(user="root")),
        "certauth-askpass: challenge is for user root, not bob: refusing to "
        "sign (a server may be relaying a challenge for another account)")
refused("a challenge for another service", prompt(challenge(service="su")),
        "certauth-askpass: challenge is for service su, not sshd: refusing "
        "to sign (a server may be relaying a challenge of another service, "
        "such as su or sudo)")
t = int(time.time()) - 3600
refused("a challenge an hour old", prompt(challenge(t=t)),
        "certauth-askpass: challenge time %s is 3600 seconds (about 60 "
        "minutes) behind this machine's clock, more than the 300 seconds "
        "allowed: refusing to sign (a login in progress shows the current "
        "time; max_age in %s sets the limit)"
        % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)),
           conf_path("bob")))
refused("garbage that mentions certauth", "(bob@server) certauth please",
        "certauth-askpass: refused: the prompt mentions certauth but is not "
        "pam_certauth's (\"certauth challenge: C\\ncertauth response: \")")
refused("a prompt over 8192 bytes", "x" * 9000,
        "certauth-askpass: refused: the prompt is 9000 bytes long, more than "
        "the 8192 allowed")
refused("control characters",
        prompt(challenge()).replace("(bob", "\x1b[2J(bob"),
        "certauth-askpass: refused: the prompt holds control characters")
refused("two challenges",
        prompt(challenge() + " " + challenge()),
        "certauth-askpass: refused: the prompt holds more than one "
        "challenge")
refused("a malformed prefix", prompt(challenge(), "(bob server) "),
        "certauth-askpass: refused: the prompt starts with a malformed "
        "(user@host) prefix")
refused("no prefix and not service sudo", prompt(challenge(), ""),
        "certauth-askpass: challenge is for service sshd, not sudo: "
        "refusing to sign (a server may be relaying a challenge of another "
        "service, such as su or sudo)")
refused("the response prompt alone", "certauth response: ",
        "certauth-askpass: refused: the prompt asks for a certauth response "
        "but shows no challenge: the pam_certauth line of this service "
        "needs the challenge_in_prompt option")
p = direct("Password: ", "bob")
tap.ok(p.returncode == 1 and p.stdout == "" and
       "certauth-askpass: no next askpass program and no terminal to answer "
       "\"Password: \" on: set CERTAUTH_ASKPASS_NEXT, or next = in %s"
       % conf_path("bob") in p.stderr.splitlines(),
       "another prompt with no next program and no terminal fails clearly",
       p.diag)
os.chmod(conf_path("bob"), 0o620)
refused("a group-writable configuration",
        prompt(challenge()),
        "certauth-askpass: refusing %s: it is group- or world-writable, and "
        "it decides what gets signed (chmod go-w %s)"
        % (conf_path("bob"), conf_path("bob")))
os.chmod(conf_path("bob"), 0o600)

# ------------------------------------------------------ with_cert = yes

BOB_CONF = open(conf_path("bob")).read()


def bob_conf(extra):
    user_file("bob", ".config/certauth/askpass.conf", BOB_CONF + extra)


def der_of(cert):
    return subprocess.run(["openssl", "x509", "-in", cert, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def offered(line, cert, c):
    """Why line is not the signature of c with bob's key, a '.' and the
    DER of cert; "" when it is."""
    if line.count(".") != 1:
        return "not exactly one '.'"
    head, tail = line.split(".")
    if base64.b64decode(tail, validate=True) != der_of(cert):
        return "the part after the '.' is not the certificate's DER"
    with open(sig, "wb") as f:
        f.write(base64.b64decode(head, validate=True))
    v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub,
                        "-signature", sig], input=c.encode(),
                       capture_output=True)
    return "" if v.returncode == 0 else "the signature does not verify"


SHORT = ("certauth-askpass: the answer is %d characters: ssh and sudo read "
         "at most 1023 characters of an answer and cut off the rest")
bob_conf("with_cert = yes\ncert = %s\n" % cert_file["bob"])
c = challenge()
p = direct(prompt(c))
line = p.stdout.strip()
why = offered(line, certs["bob"].cert, c) if p.returncode == 0 \
    else "exit status"
tap.ok(why == "" and len(p.stdout.splitlines()) == 1 and
       signing_line("bob") in p.stderr,
       "with_cert = yes: the certificate's exact DER after the '.', a "
       "signature before it that openssl verifies",
       "%s\n%s" % (why, p.diag))
tap.ok((len(line) > 1023) == ((SHORT % len(line)) in p.stderr.splitlines()),
       "with_cert = yes: %d characters, warned about exactly when over "
       "1023" % len(line), p.diag)
# alice's RSA-2048 certificate and signature pass what ssh and sudo read.
ALICE_CONF = open(conf_path("alice")).read()
user_file("alice", ".config/certauth/askpass.conf",
          ALICE_CONF + "with_cert = yes\ncert = %s\n" % cert_file["alice"])
c = challenge(user="alice")
p = direct(prompt(c, "(alice@server) "), "alice")
line = p.stdout.strip()
tap.ok(p.returncode == 0 and line.count(".") == 1 and len(line) > 1023 and
       base64.b64decode(line.split(".")[1]) == der_of(certs["alice"].cert)
       and (SHORT % len(line)) in p.stderr.splitlines(),
       "with_cert = yes, RSA-2048: %d characters printed, with the warning "
       "that ssh and sudo cut it" % len(line), p.diag)
user_file("alice", ".config/certauth/askpass.conf", ALICE_CONF)
bob_conf("with_cert = no\ncert = %s\n" % cert_file["bob"])
p = direct(prompt(challenge()))
tap.ok(p.returncode == 0 and p.stdout.count(".") == 0,
       "with_cert = no: the signature alone", p.diag)
bob_conf("with_cert = yes\n")
c = challenge()
p = direct(prompt(c), env={"CERTAUTH_CERT": cert_file["bob"]})
why = offered(p.stdout.strip(), certs["bob"].cert, c) \
    if p.returncode == 0 else "exit status"
tap.ok(why == "", "with_cert = yes, the certificate from CERTAUTH_CERT",
       "%s\n%s" % (why, p.diag))
p = direct(prompt(challenge()))
want = ("certauth-askpass: with_cert = yes needs the certificate to offer: "
        "set CERTAUTH_CERT, or cert = in %s" % conf_path("bob"))
tap.ok(p.returncode == 1 and p.stdout == "" and
       want in p.stderr.splitlines(),
       "with_cert = yes and no certificate: refused", p.diag + "\nwant: " +
       want)
# A line the file cannot have refuses every prompt, a challenge included.
n = len(BOB_CONF.splitlines()) + 1
for line, why in (("with_cert = maybe", "with_cert must be yes or no"),
                  ("with_cert =", "the value is missing"),
                  ("colour = blue", "unknown key (key, cert, next, services, "
                   "local_services, max_age, with_cert, host)")):
    bob_conf(line + "\n")
    refused("a configuration line %r" % line, prompt(challenge()),
            "certauth-askpass: %s line %d: %s" % (conf_path("bob"), n, why))
bob_conf("with_cert = yes\ncert = %s\n" % cert_file["alice"])
p = direct(prompt(challenge()))
want = ("certauth-askpass: the key does not belong to the certificate %s: "
        "the server would refuse it" % cert_file["alice"])
tap.ok(p.returncode == 1 and p.stdout == "" and
       want in p.stderr.splitlines(),
       "with_cert = yes and another key's certificate: refused",
       p.diag + "\nwant: " + want)
# bob's key in a certificate of 250 names: too big for the line.
big = ssh_dir + "/big.pem"
lib.run(["openssl", "req", "-x509", "-new", "-key", certs["bob"].key,
         "-subj", "/CN=bob", "-days", "30", "-addext", "subjectAltName=" +
         ",".join("DNS:host%03d.department.example.org" % i
                  for i in range(250)), "-out", big])
big = user_file("bob", "big.pem", open(big).read(), 0o644)
bob_conf("with_cert = yes\ncert = %s\n" % big)
p = direct(prompt(challenge()))
m = re.search(r"(?m)^certauth-askpass: the certificate %s is too big to "
              r"offer: with it the answer would be (\d+) characters, over "
              r"the 4096 a response may have$" % re.escape(big), p.stderr)
cert_chars = 1 + 4 * ((len(der_of(big)) + 2) // 3)
tap.ok(p.returncode == 1 and p.stdout == "" and m is not None and
       int(m.group(1)) - cert_chars in range(88, 97) and
       int(m.group(1)) > 4096,
       "with_cert = yes and a certificate of 250 names: too big to offer",
       p.diag)
user_file("bob", ".config/certauth/askpass.conf", BOB_CONF)

# ------------------------------------------------------------- sudo -A

SUDOERS = ("Defaults env_reset, timestamp_timeout=0, lecture=never\n"
           "Defaults !mail_no_user, !mail_badpass\n"
           "root ALL=(ALL:ALL) ALL\nbob ALL=(ALL:ALL) ALL\n")
sudoers = lib.MNT + "/sudoers"
doors.write(sudoers, SUDOERS, mode=0o440)
lib.mount("--bind", sudoers, "/etc/sudoers")


def sudo_stack(extra):
    doors.write(os.path.join(lib.PAMD, "sudo"),
                "auth sufficient pam_certauth.so nouserok challenge_ttl=60%s\n"
                "@include common-auth\n@include common-account\n"
                "@include common-session-noninteractive\n" % extra)


def sudo():
    return as_user("bob", {"SUDO_ASKPASS": ASKPASS},
                   [SUDO, "-A", "id", "-un"])


sudo_stack(" challenge_in_prompt")
p = sudo()
tap.ok(p.returncode == 0 and p.stdout == "root\n" and
       signing_line("bob", "sudo") in p.stderr,
       "SUDO_ASKPASS=certauth-askpass sudo -A id -un prints root "
       "(challenge_in_prompt)", p.diag)
sudo_stack("")
p = sudo()
tap.ok(p.returncode != 0 and "root" not in p.stdout and
       "needs the challenge_in_prompt option" in p.stderr,
       "without challenge_in_prompt sudo -A shows no challenge, and "
       "certauth-askpass says which option is missing", p.diag)

sshd.stop()
sys.exit(tap.done())
