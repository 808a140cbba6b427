#!/usr/bin/python3
"""End-to-end: agent mode over ssh.  sudo inside a real sshd session is
answered by the ssh-agent the client forwarded with `ssh -A`, with
nothing typed, through /etc/pam.d/sudo made from pam.d-examples/sudo's
variant 4 (certificate from the ssh-agent, or password) as shipped.

The real OpenSSH server listens on 127.0.0.1 in a private network
namespace, with AllowAgentForwarding yes and /etc/pam.d/sshd from
pam.d-examples/sshd (certificate only); /tmp, where it makes the
forwarded sockets (/tmp/ssh-*/agent.*), is a private tmpfs.  sudoers
keeps SSH_AUTH_SOCK (env_keep).  On the client side each user has an
ssh-agent of their own holding their enrolled key; the real ssh client
logs in with it through certauth-askpass (CERTAUTH_KEY=agent,
SSH_ASKPASS_REQUIRE=force), standard input closed and no terminal, and
runs `sudo id -un` in the session: it prints root, and the module's log
names the forwarded socket.  Also: without -A, agent=only refuses with
no terminal and asks only the password on one, and the shipped agent=try
asks the challenge on the terminal; alice pointing SSH_AUTH_SOCK at
bob's forwarded socket is refused (agent=try: the challenge is asked
instead, and fails with no terminal); without env_keep in sudoers the
socket does not reach the module.  Prints TAP.
"""

import atexit
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
PASSWORDS = {"alice": "alice-s3cret-pw"}
USERS = {"alice": lib.Account(3101, PASSWORDS["alice"]),
         "bob": lib.Account(3102)}
KINDS = {"alice": "p256", "bob": "ed25519"}
SUDOERS = """Defaults env_reset, timestamp_timeout=0, lecture=never
Defaults !mail_no_user, !mail_badpass
Defaults env_keep += "SSH_AUTH_SOCK"
root ALL=(ALL:ALL) ALL
alice ALL=(ALL:ALL) ALL
bob ALL=(ALL:ALL) ALL
"""
# What the session runs: the socket sshd made, then sudo.
SHOW = 'echo "agent: ${SSH_AUTH_SOCK:-none}"; '
FORWARDED = re.compile(r"^agent: (/tmp/ssh-[^/\s]+/agent\.\d+)$", re.M)

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "ssh",
                                         doors.Sshd.BINARY, SUDO, "setpriv"))
keys.need_agent()
ASKPASS = os.path.join(lib.user_bin(build), "certauth-askpass")
if not os.path.exists(ASKPASS):
    lib.skip_all("%s not built" % ASKPASS)
if not lib.private_network():
    tap.diag("no private network namespace: sshd listens on the host's "
             "127.0.0.1")
# sshd makes the forwarded agents' directories here; /tmp of our own
# keeps them off the host (root-owned and sticky, as the module wants),
# unless the build or the sources lie below /tmp, which it would hide
# (sshd removes its directories when the sessions end).
if not any(os.path.abspath(d).startswith("/tmp/")
           for d in (lib.builddir(), lib.srcdir())):
    lib.mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev",
              "certauth-tmp", "/tmp")
HOST = socket.gethostname()
check = doors.Checks(tap)
system, certs = doors.installed(build, KINDS)
home = {u: "%s/home/%s" % (lib.MNT, u) for u in USERS}
doors.write(lib.MNT + "/sudoers", SUDOERS, mode=0o440)
lib.mount("--bind", lib.MNT + "/sudoers", "/etc/sudoers")
KEYS = lib.MNT + "/keys"
lib.make_dir(KEYS)


def user_file(user, name, data, mode=0o600):
    """home/name with data, owned by user, and its directories too."""
    path = os.path.join(home[user], name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    uid = USERS[user].uid
    d = path
    while d != home[user]:
        os.chown(d, uid, uid)
        d = os.path.dirname(d)
    os.chmod(path, mode)
    return path


# Each user's certificate, askpass.conf and agent, on the client side.
cert_file, agent, fp = {}, {}, {}
AGENTS = []


@atexit.register
def _stop_agents():
    for a in AGENTS:
        a.stop()


for u in KINDS:
    cert_file[u] = user_file(u, "%s.pem" % u, open(certs[u].cert).read(),
                             0o644)
    user_file(u, ".config/certauth/askpass.conf",
              "host server = %s\n" % HOST)
    agent[u] = keys.Agent("%s/.agent.sock" % home[u],
                          run_as=doors.as_user(u))
    AGENTS.append(agent[u])
    fp[u] = agent[u].load(certs[u], KEYS)

system.install_example("sshd", 1)
shipped = system.install_example("sudo", 4)
tap.ok(re.search(r"(?m)^auth\s+sufficient\s+pam_certauth\.so agent=try "
                 r"nouserok challenge_ttl=60$", shipped) is not None,
       "pam.d-examples/sudo variant 4 installed as shipped: agent=try",
       shipped)
sshd = doors.Sshd(lib.MNT + "/ssh", lib.free_port(),
                  extra="AllowAgentForwarding yes\n")
if not sshd.ok:
    tap.ok(False, "sshd listens on 127.0.0.1:%d" % sshd.port, sshd.log())
    sshd.stop()
    sys.exit(tap.done())


def only():
    """Variant 4 with agent=only, as its comment says to write it."""
    doors.write(os.path.join(lib.PAMD, "sudo"),
                shipped.replace(" agent=try ", " agent=only "))


def ssh_argv(user, command, forward=True, tty=False):
    return ["ssh", "-F", "/dev/null", "-A" if forward else "-a"] + (
        ["-tt"] if tty else []) + [
        "-p", str(sshd.port), "-o", "HostKeyAlias=server",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-o", "NumberOfPasswordPrompts=1",
        "%s@127.0.0.1" % user, command]


def ssh_env(user):
    """The client's environment: its own agent answers the login through
    certauth-askpass, and is the one -A forwards."""
    return {"CERTAUTH_KEY": "agent", "CERTAUTH_CERT": cert_file[user],
            "SSH_AUTH_SOCK": agent[user].sock, "SSH_ASKPASS": ASKPASS,
            "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ""}


def client(user):
    return doors.as_user(user) + ["env"] + [
        "%s=%s" % kv for kv in sorted(ssh_env(user).items())]


class Run:
    def __init__(self, argv, p, logs):
        self.argv, self.p, self.logs = argv, p, logs
        self.out, self.err, self.status = p.stdout, p.stderr, p.returncode

    def log(self):
        return "\n".join(lib.module_lines(self.logs))

    def socket(self):
        m = FORWARDED.search(self.out)
        return m.group(1) if m else None

    def diag(self, problem=""):
        lines = ["$ " + " ".join(self.argv), "exit %s" % self.status,
                 "stdout: %r" % self.out, "stderr: %r" % self.err]
        lines += ["syslog: " + l for l in lib.module_lines(self.logs)]
        if problem:
            lines.append("problem: " + problem)
        return lib.LogDiag("\n".join(lines))


def ssh(user, command, forward=True):
    """ssh as user, no terminal, standard input closed."""
    argv = ssh_argv(user, command, forward)
    mark = ns.mark()
    p = subprocess.run(client(user) + argv, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True,
                       start_new_session=True, timeout=60)
    time.sleep(0.2)
    return Run(argv, p, ns.logs_since(mark))


def printed(r, line):
    return line in r.out.splitlines()


def agent_line(user, sock):
    return ("user %s: the answer comes from the ssh-agent at %s of uid %d, "
            "key %s (bound certificate 1 of 1)"
            % (user, sock, USERS[user].uid, fp[user]))


def sudo_success(r, user):
    """The success line of the module's login for service sudo."""
    return any("pam_certauth(sudo:auth)" in l and "user %s authenticated "
               "with certificate" % user in l for l in r.logs)


try:
    # ---------------------------------- the forwarded agent answers sudo
    r = ssh("alice", SHOW + "sudo id -un")
    sock = r.socket()
    problems = []
    if r.status != 0 or not printed(r, "root"):
        problems.append("root not printed")
    if sock is None:
        problems.append("no forwarded socket under /tmp/ssh-*")
    elif agent_line("alice", sock) not in r.log():
        problems.append("no line naming the forwarded agent")
    if not sudo_success(r, "alice"):
        problems.append("no success line for service sudo")
    if re.search(r"(?i)password|certauth challenge", r.err):
        problems.append("something was asked")
    tap.ok(not problems, "ssh -A alice@server 'sudo id -un', no terminal, "
           "stdin closed: prints root, answered by the forwarded agent",
           r.diag("; ".join(problems)))
    tap.ok("service sudo" not in r.err and
           "certauth-askpass: signing for user alice, service sshd" in r.err,
           "certauth-askpass signed the ssh login only; sudo asked nothing",
           r.diag())
    tap.diag("transcript:\n$ CERTAUTH_KEY=agent CERTAUTH_CERT=~/alice.pem "
             "SSH_AUTH_SOCK=~/.agent.sock SSH_ASKPASS=certauth-askpass "
             "SSH_ASKPASS_REQUIRE=force ssh -A alice@server '%s' "
             "</dev/null\n%s%s(syslog)\n%s"
             % (SHOW + "sudo id -un", r.err, r.out,
                "\n".join(l for l in lib.module_lines(r.logs)
                          if "sudo:auth" in l)))

    # ------------------------------------------------- ssh without -A
    only()
    r = ssh("alice", SHOW + "sudo id -un", forward=False)
    want = ("user alice refused: agent mode: no SSH_AUTH_SOCK in the PAM or "
            "the process environment")
    tap.ok(r.status != 0 and not printed(r, "root") and
           printed(r, "agent: none") and want in r.log() and
           "asking through the conversation" not in r.log() and
           "a terminal is required" in r.err,
           "agent=only, ssh without -A: refused with no challenge; the "
           "password of common-auth then needs a terminal", r.diag())
    tap.diag("refusal: " + want)
    res = doors.session(ns, client("alice") + ssh_argv(
        "alice", "sudo id -un", forward=False, tty=True),
        password=PASSWORDS["alice"], module_host=False)
    check.logged_in("agent=only, ssh -t without -A: no challenge, the "
                    "password is asked at once and sudo prints root", res,
                    "alice", output="root", challenges=0, passwords=1)
    tap.ok(want in res.module_log(),
           "agent=only, ssh -t without -A: the refusal is logged", res.diag())
    system.install_example("sudo", 4)
    sign = doors.signer(build)
    res = doors.session(ns, client("alice") + ssh_argv(
        "alice", "sudo id -un", forward=False, tty=True),
        answer=sign(certs["alice"]), module_host=False)
    check.logged_in("agent=try (as shipped), ssh -t without -A: the "
                    "challenge is asked on the terminal and the typed "
                    "answer logs in, no password", res, "alice",
                    output="root", fingerprint=certs["alice"].fingerprint)
    tap.ok("user alice: agent mode: no SSH_AUTH_SOCK in the PAM or the "
           "process environment; asking through the conversation"
           in res.module_log(),
           "agent=try, ssh -t without -A: the fallback is logged with its "
           "reason", res.diag())

    # ------------------------------------- bob's forwarded agent, not hers
    # bob's agent holds alice's key as well: only whose socket it is
    # stands in the way.
    agent["bob"].load(certs["alice"], KEYS)
    argv = ssh_argv("bob", SHOW + "exec sleep 120")
    bob = subprocess.Popen(client("bob") + argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    atexit.register(lambda: bob.poll() is None and bob.kill())
    first = bob.stdout.readline()
    m = FORWARDED.search(first)
    tap.ok(m is not None, "bob is logged in with ssh -A: his forwarded "
           "socket is %s" % (m.group(1) if m else None), first)
    bob_sock = m.group(1) if m else "/tmp/ssh-none/agent.0"
    bob_dir = os.path.dirname(bob_sock)
    reason = ("agent mode: directory %s of the ssh-agent socket is owned "
              "by uid %d, not uid %d"
              % (bob_dir, USERS["bob"].uid, USERS["alice"].uid))
    command = "SSH_AUTH_SOCK=%s sudo id -un" % bob_sock
    only()
    r = ssh("alice", command)
    want = "user alice refused: " + reason
    tap.ok(r.status != 0 and not printed(r, "root") and want in r.log() and
           "answer comes from" not in r.log(),
           "agent=only: alice pointing SSH_AUTH_SOCK at bob's forwarded "
           "socket is refused", r.diag())
    tap.diag("refusal: " + want)
    system.install_example("sudo", 4)
    r = ssh("alice", command)
    want = "user alice: %s; asking through the conversation" % reason
    tap.ok(r.status != 0 and not printed(r, "root") and want in r.log() and
           "answer comes from" not in r.log(),
           "agent=try (as shipped): bob's forwarded socket is not used; the "
           "challenge is asked instead and fails with no terminal", r.diag())
    tap.diag("with agent=try: " + want)
    bob.kill()
    bob.wait()

    # sudoers without env_keep: sudo resets its environment before it
    # authenticates, so the forwarded socket does not reach the module.
    doors.write(lib.MNT + "/sudoers", SUDOERS.replace(
        'Defaults env_keep += "SSH_AUTH_SOCK"\n', ""), mode=0o440)
    only()
    r = ssh("alice", SHOW + "sudo id -un")
    want = ("user alice refused: agent mode: no SSH_AUTH_SOCK in the PAM or "
            "the process environment")
    tap.ok(r.status != 0 and not printed(r, "root") and
           r.socket() is not None and want in r.log(),
           "sudoers without env_keep += \"SSH_AUTH_SOCK\": the forwarded "
           "socket does not reach the module, agent=only refuses", r.diag())
    doors.write(lib.MNT + "/sudoers", SUDOERS, mode=0o440)
finally:
    sshd.stop()
    _stop_agents()
sys.exit(tap.done())
