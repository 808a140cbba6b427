#!/usr/bin/python3
"""End-to-end: agent mode (agent=only and agent=try) with the real sudo
and su, each answered by the ssh-agent of the user who started it, with
no terminal and standard input closed.  A real ssh-agent runs as alice
with her enrolled keys (RSA, P-256, Ed25519); sudo keeps SSH_AUTH_SOCK
(env_keep).  su follows the rule of docs/SECURITY.md: the caller's own
agent may answer for the target only with a key bound to the target.
Refused: another user's socket, a symbolic link to it, a socket in a
directory others may write, an agent without a bound key (try asks
instead), a revoked certificate whose key the agent holds (CRL, and
over OCSP against a real `openssl ocsp` responder), a denied
ssh-add -c confirmation, and a hostile agent (garbage, a 1 GiB length, a
signature by another key, silence), which ends by the deadline.  Prints
TAP.
"""

import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402
import keys  # noqa: E402

USERS = {"alice": lib.Account(2501), "bob": lib.Account(2502),
         "carol": lib.Account(2503)}
SUDO = "/usr/bin/sudo"
SUDOERS = """Defaults env_reset, timestamp_timeout=0, lecture=never
Defaults !mail_no_user, !mail_badpass
Defaults env_keep += "SSH_AUTH_SOCK", passwd_tries=1
root ALL=(ALL:ALL) ALL
alice ALL=(ALL:ALL) ALL
bob ALL=(ALL:ALL) ALL
carol ALL=(ALL:ALL) ALL
"""
TTL = 6                 # challenge_ttl: the agent's deadline
HOME = lib.MNT + "/home"

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", SUDO, "su",
                                         "setpriv"))
keys.need_agent()
check = doors.Checks(tap)
system, certs = doors.installed(build, {"alice": "rsa2048", "bob": "p256",
                                        "carol": "ed25519"})
doors.write(lib.MNT + "/sudoers", SUDOERS, mode=0o440)
lib.mount("--bind", lib.MNT + "/sudoers", "/etc/sudoers")
AGENTS = []


def service(name, mode, extra=""):
    doors.write(os.path.join(lib.PAMD, name),
                "auth required pam_certauth.so agent=%s challenge_ttl=%d "
                "nodelay%s\n"
                "@include common-account\n"
                "@include common-session-noninteractive\n"
                % (mode, TTL, extra))


def agent_dir(user, name="agent", mode=0o700):
    d = os.path.join(HOME, user, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, mode)
    uid = USERS[user].uid
    os.chown(d, uid, uid)
    return d


def start_agent(user, name="agent", env=None):
    a = keys.Agent(os.path.join(agent_dir(user, name), "sock"), env,
                   run_as=doors.as_user(user))
    AGENTS.append(a)
    return a


class Run:
    def __init__(self, argv, p, elapsed, logs):
        self.argv, self.p, self.elapsed, self.logs = argv, p, elapsed, logs
        self.out = p.stdout if p else ""
        self.status = p.returncode if p else None

    def log(self):
        return "\n".join(lib.module_lines(self.logs))

    def diag(self, problem=""):
        lines = ["$ " + " ".join(self.argv),
                 "exit %s after %.1f s" % (self.status, self.elapsed),
                 "stdout: %r" % self.out,
                 "stderr: %r" % (self.p.stderr if self.p else "")]
        lines += ["syslog: " + l for l in lib.module_lines(self.logs)]
        if problem:
            lines.append("problem: " + problem)
        return lib.LogDiag("\n".join(lines))


def run_as(user, argv, sock, timeout=60):
    """argv as user, no terminal, stdin closed, SSH_AUTH_SOCK=sock."""
    env = dict(doors.ENV)
    if sock is not None:
        env["SSH_AUTH_SOCK"] = sock
    full = ["setpriv", "--reuid=" + user, "--regid=" + user,
            "--init-groups"] + argv
    mark = ns.mark()
    t0 = time.time()
    p = subprocess.run(full, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout,
                       start_new_session=True)
    elapsed = time.time() - t0
    time.sleep(0.2)
    return Run(full, p, elapsed, ns.logs_since(mark))


def sudo(user, sock):
    return run_as(user, [SUDO, "id", "-un"], sock)


def su(caller, target, sock):
    return run_as(caller, ["su", target, "-c", "id -un"], sock)


FAKE_AGENT = r"""
import os, socket, struct, sys, time
from cryptography.hazmat.primitives.asymmetric import ed25519
mode, path, blob = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
def s(b):
    return struct.pack(">I", len(b)) + b
def msg(b):
    return struct.pack(">I", len(b)) + b
l = socket.socket(socket.AF_UNIX)
l.bind(path)
l.listen(8)
while True:
    c, _ = l.accept()
    while True:
        try:
            h = c.recv(4)
            req = c.recv(struct.unpack(">I", h)[0]) if len(h) == 4 else b""
        except OSError:
            break
        if not req:
            break
        if mode == "silent":
            time.sleep(3600)
        elif mode == "garbage":
            c.sendall(b"\x00\x00\x00\x07\xfe garbage")
        elif mode == "huge":
            c.sendall(b"\x40\x00\x00\x00\x0c" + b"\x00" * 4096)
        elif req[0] == 11:
            c.sendall(msg(b"\x0c" + struct.pack(">I", 1) + s(blob) +
                          s(b"fake")))
        else:
            other = ed25519.Ed25519PrivateKey.generate()
            sig = other.sign(req[5 + len(blob) + 4:-4])
            try:
                c.sendall(msg(b"\x0e" + s(s(b"ssh-ed25519") + s(sig))))
            except OSError:
                break
    c.close()
"""


def ssh_blob(cert):
    """The SSH public key blob of cert's key, as an agent lists it."""
    import base64
    path = keys.ssh_key_file(cert, lib.MNT)
    out = lib.run(["ssh-keygen", "-y", "-f", path]).stdout.split()
    return base64.b64decode(out[1])


def fake_agent(user, mode, blob):
    d = agent_dir(user, "fake-" + mode)
    sock = os.path.join(d, "sock")
    argv = doors.as_user(user) + ["/usr/bin/python3", lib.MNT + "/fake.py",
                                  mode, sock, blob.hex()]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock):
            break
        time.sleep(0.02)
    return proc, sock


def logged_in(name, r, user, output, fp=None):
    problems = []
    if r.status != 0 or not any(l == output for l in r.out.splitlines()):
        problems.append("%r not printed" % output)
    log = r.log()
    if "user %s: the answer comes from the ssh-agent at" % user not in log:
        problems.append("no line naming the agent")
    if fp and "key %s (bound certificate" % fp not in log:
        problems.append("the agent's key %s is not named" % fp)
    if "user %s authenticated with certificate" % user not in log:
        problems.append("no success line")
    tap.ok(not problems, name, r.diag("; ".join(problems)))


def refused(name, r, reason, output, fallback=False):
    problems = []
    if r.status == 0 or any(l == output for l in r.out.splitlines()):
        problems.append("the login went through")
    if reason not in r.log():
        problems.append("no syslog line %r" % reason)
    if not fallback and "asking through the conversation" in r.log():
        problems.append("it fell back to the conversation")
    tap.ok(not problems, name, r.diag("; ".join(problems)))


def session(user, sock, argv, answer):
    """argv on a pty as user with SSH_AUTH_SOCK=sock (agent=try asks);
    each challenge answered by answer(C)."""
    return doors.session(ns, doors.as_user(user) + [
        "env", "SSH_AUTH_SOCK=" + sock] + argv, answer=answer)


sign = doors.signer(build)

try:
    doors.write(lib.MNT + "/fake.py", FAKE_AGENT, mode=0o755)
    service("sudo", "only")
    service("su", "only")
    ag = {u: start_agent(u) for u in ("alice", "bob", "carol")}
    fp = {u: ag[u].load(certs[u], lib.MNT) for u in ag}
    for u in ("alice", "bob", "carol"):
        r = sudo(u, ag[u].sock)
        logged_in("agent=only: %s's agent answers sudo (%s key), no "
                  "terminal, stdin closed: sudo id -un prints root"
                  % (u, certs[u].kind), r, u, "root", fp[u])
    tap.ok(not any(n in r.log() for n in ("certauth challenge",)),
           "no challenge was shown", r.diag())

    # su: the caller's agent, with a key bound to the target.
    alice = ag["alice"]
    fp_bob_in_alice = alice.load(certs["bob"], lib.MNT)
    r = su("alice", "bob", alice.sock)
    logged_in("su: alice's agent holding a key bound to bob: su bob -c "
              "'id -un' prints bob", r, "bob", "bob", fp_bob_in_alice)
    r = su("alice", "carol", alice.sock)
    refused("su: alice's agent holds no key bound to carol: refused", r,
            "user carol refused: agent mode: the ssh-agent at %s holds "
            "no key of a certificate bound to carol (1 bound)"
            % alice.sock, "carol")
    r = su("alice", "carol", ag["carol"].sock)
    refused("su: alice pointing SSH_AUTH_SOCK at carol's agent: refused", r,
            "user carol refused: agent mode: directory /mnt/home/carol is "
            "owned by uid 2503, neither root nor uid 2501", "carol")
    r = run_as("root", ["su", "alice", "-c", "id -un"], alice.sock)
    refused("su run by root (real uid 0): no agent speaks for it", r,
            "user alice refused: agent mode: the real uid is 0 (root): no "
            "ssh-agent speaks for it", "alice")

    # Whose socket.
    r = sudo("alice", ag["bob"].sock)
    refused("sudo: alice pointing SSH_AUTH_SOCK at bob's agent: refused",
            r, "user alice refused: agent mode: directory /mnt/home/bob is "
            "owned by uid 2502, neither root nor uid 2501", "root")
    # Bob's socket itself in alice's directory (a hard link root made),
    # then the same socket owned by alice but still served by bob.
    bob2 = start_agent("bob", "second")
    hard = os.path.join(os.path.dirname(alice.sock), "bobs")
    os.link(bob2.sock, hard)
    r = sudo("alice", hard)
    refused("sudo: bob's socket in alice's directory: refused", r,
            "user alice refused: agent mode: ssh-agent socket %s is owned "
            "by uid 2502, not uid 2501" % hard, "root")
    os.chown(hard, USERS["alice"].uid, USERS["alice"].uid)
    r = sudo("alice", hard)
    refused("sudo: a socket of alice's served by bob's agent: refused "
            "(SO_PEERCRED)", r, "user alice refused: agent mode: the "
            "ssh-agent at %s runs as uid 2502, not uid 2501" % hard, "root")
    os.unlink(hard)
    link = os.path.join(os.path.dirname(alice.sock), "link")
    os.symlink(ag["bob"].sock, link)
    r = sudo("alice", link)
    refused("sudo: a symbolic link to bob's socket: refused", r,
            "user alice refused: agent mode: %s is a symbolic link" % link,
            "root")
    os.unlink(link)
    os.symlink(os.path.dirname(alice.sock), os.path.join(HOME, "alice",
                                                         "dirlink"))
    r = sudo("alice", os.path.join(HOME, "alice", "dirlink", "sock"))
    refused("sudo: a symbolic link on the way to alice's own socket: "
            "refused", r, "user alice refused: agent mode: %s is a "
            "symbolic link" % os.path.join(HOME, "alice", "dirlink"),
            "root")
    wide = start_agent("alice", "wide")
    os.chmod(os.path.dirname(wide.sock), 0o777)
    wide.load(certs["alice"], lib.MNT)
    r = sudo("alice", wide.sock)
    refused("sudo: a socket in a directory others may write: refused", r,
            "user alice refused: agent mode: directory %s is writable by "
            "group or others" % os.path.dirname(wide.sock), "root")
    r = sudo("alice", "/mnt/home/alice/" + "x" * 120)
    refused("sudo: SSH_AUTH_SOCK longer than sun_path: refused", r,
            "user alice refused: agent mode: SSH_AUTH_SOCK is longer than "
            "a socket address holds (107 bytes)", "root")
    r = sudo("alice", None)
    refused("sudo: no SSH_AUTH_SOCK: refused", r,
            "user alice refused: agent mode: no SSH_AUTH_SOCK in the PAM "
            "or the process environment", "root")

    # No matching key: only refuses, try asks on the terminal.
    empty = start_agent("alice", "empty")
    r = sudo("alice", empty.sock)
    refused("agent=only: an agent without a bound key: refused, no prompt",
            r, "user alice refused: agent mode: the ssh-agent at %s holds "
            "no key of a certificate bound to alice (1 bound)" % empty.sock,
            "root")
    service("sudo", "try")
    r = session("alice", empty.sock, [SUDO, "id", "-un"],
                sign(certs["alice"]))
    check.logged_in("agent=try: an agent without a bound key: the challenge "
                    "is asked and the typed answer logs in", r, "alice",
                    output="root", fingerprint=certs["alice"].fingerprint)
    tap.ok("user alice: agent mode: the ssh-agent at %s holds no key of a "
           "certificate bound to alice (1 bound); asking through the "
           "conversation" % empty.sock in r.module_log(),
           "agent=try: the fallback is logged with its reason", r.diag())
    r = session("alice", ag["bob"].sock, [SUDO, "id", "-un"],
                sign(certs["alice"]))
    check.logged_in("agent=try: another user's socket: the challenge is "
                    "asked instead", r, "alice", output="root")
    r = sudo("alice", alice.sock)
    logged_in("agent=try: alice's agent answers when it can", r, "alice",
              "root", fp["alice"])

    # ssh-add -c: the agent asks its SSH_ASKPASS.
    for verdict, status in (("deny", 1), ("allow", 0)):
        script = "%s/askpass-%s" % (lib.MNT, verdict)
        doors.write(script, "#!/bin/sh\nexit %d\n" % status, mode=0o755)
        a = start_agent("carol", "confirm-" + verdict,
                        {"SSH_ASKPASS": script,
                         "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"})
        k = a.load(certs["carol"], lib.MNT, "-c")
        r = sudo("carol", a.sock)
        if verdict == "deny":
            refused("agent=try, ssh-add -c, confirmation denied: refused, "
                    "no fallback", r, "user carol refused: agent mode: the "
                    "ssh-agent at %s refused to sign with key %s (a "
                    "confirmation denied?)" % (a.sock, k), "root")
        else:
            logged_in("ssh-add -c, confirmation given: logged in", r,
                      "carol", "root", k)

    # A hostile agent: refused, by the deadline, never a fallback.
    service("sudo", "try")
    blob = ssh_blob(certs["carol"])
    for mode, reason in (
            ("garbage", "the ssh-agent at %s: ssh-agent answered a key "
             "listing with message 254"),
            ("huge", "the ssh-agent at %s: ssh-agent reply of 1073741824 "
             "bytes (the limit is 262144)"),
            ("wrongkey", "the ssh-agent at %s: ssh-agent signature does "
             "not verify with the key asked for"),
            ("silent", "the ssh-agent at %s: ssh-agent: no answer in "
             "time")):
        proc, sock = fake_agent("carol", mode, blob)
        try:
            r = sudo("carol", sock)
        finally:
            proc.kill()
            proc.wait()
        refused("agent=try, a hostile agent (%s): refused, no fallback"
                % mode, r, "user carol refused: agent mode: " + reason % sock,
                "root")
        tap.ok(r.elapsed < TTL + 4, "the %s agent's login ends by the "
               "deadline (%.1f s, challenge_ttl %d)" % (mode, r.elapsed, TTL),
               r.diag())

    # Revocation over OCSP: the key is in the agent, a real `openssl
    # ocsp` responder for the intermediate decides (the CRL still says
    # nothing of alice).
    helper = os.environ.get("ocsp_helper", "")
    if helper and (not os.path.exists(helper) or lib._unfit_dir(helper)):
        tap.skip("ocsp=hard: the agent's answer is checked over OCSP",
                 "the module will not run the OCSP helper %s here" % helper)
    else:
        port = lib.free_port()
        responder = lib.OpensslOcsp(system.pki.dir + "/index.txt", port,
                                    system.pki.int, system.pki.int,
                                    system.pki.int_key).start()
        cache = lib.MNT + "/ocsp-cache"
        lib.make_dir(cache, 0o700)
        try:
            service("sudo", "only", " ocsp=hard ocsp_url=%s ocsp_cache_dir=%s"
                    % (responder.url, cache))
            r = sudo("alice", ag["alice"].sock)
            logged_in("ocsp=hard: the agent's answer for a good certificate, "
                      "OCSP good: logs in", r, "alice", "root", fp["alice"])
            system.pki.revoke(certs["alice"])
            responder.stop()    # it reads its index when it starts
            responder.start()
            shutil.rmtree(cache)
            lib.make_dir(cache, 0o700)
            r = sudo("alice", ag["alice"].sock)
            refused("ocsp=hard: a certificate revoked at the responder whose "
                    "key the agent holds: refused (OCSP)", r,
                    "revoked (OCSP, ", "root")
        finally:
            responder.stop()

    # Revocation: the key is in the agent, the CRL decides.
    system.pki.revoke(certs["bob"])
    system.update_crl()
    service("sudo", "only")
    r = sudo("bob", ag["bob"].sock)
    refused("a revoked certificate whose key the agent holds: refused (CRL)",
            r, "revoked", "root")
    check.no_secrets()
finally:
    for a in AGENTS:
        a.stop()
sys.exit(tap.done())
