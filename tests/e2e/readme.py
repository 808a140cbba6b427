#!/usr/bin/python3
"""End-to-end: every shell command of README.md, run as written.

The README's ```sh blocks are read from README.md and each one is run, or
named with the reason it runs elsewhere (the test suite itself, the
fuzzers); a block this test does not know fails, so the README cannot
grow a command that no test runs.

Everything happens in private namespaces (mount, network, host name):
- a copy of the source tree in a tmpfs, where the first of the "Two
  commands" (deps, build, demo) and the Install section (autoreconf,
  configure in build-install/, make, make install) run as written, the
  installation landing in a private /usr/local and a private copy of the
  PAM module directory; then scripts/build again in the same copy (the two
  builds coexist), and a copy configured in place, which scripts/build
  refuses with its reason;
- the host is called "server" (its own UTS namespace) and /etc/hosts says
  so, as the walkthrough assumes; /etc/ssh, /etc/security and /etc/pam.d
  are private copies; the walkthrough runs with the installed tools and
  module, sshd is the real OpenSSH server on port 22 of a private
  loopback, the client the real ssh on a pty, answered by the README's
  certauth-sign command.  `systemctl reload ssh` meets a stand-in for the
  service manager (none runs here) that starts or signals the real sshd.
Prints TAP.
"""

import ctypes
import ctypes.util
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

SSHD = "/usr/sbin/sshd"
HOSTNAME = "server"
CLONE_NEWUTS = 0x04000000
USERS = {"alice": lib.Account(2121), "erin": lib.Account(2122),
         "carol": lib.Account(2123, "carol-s3cret-pw"),
         "bob": lib.Account(2124), "dave": lib.Account(2125)}
MANY = "Many hosts: bind certificates in LDAP"
DEB = "Install the Debian package"
RUN = "/run/certauth-readme"
WORK = RUN + "/src"             # the copy of the source tree
SHIM = RUN + "/shim"            # the stand-in systemctl
PATH = ("%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        % SHIM)
# Debian 12's /etc/pam.d/sshd before the walkthrough replaces it.
SSHD_BEFORE = ("@include common-auth\naccount required pam_nologin.so\n"
               "@include common-account\n@include common-session\n"
               "@include common-password\n")
SYSTEMCTL = """#!/bin/sh
# Stands in for the service manager, which does not run in the test's
# namespaces: "reload ssh" starts the real sshd with the real
# /etc/ssh/sshd_config, or makes a running one read it again.
[ "$*" = "reload ssh" ] || { echo "systemctl stand-in: only 'reload ssh'" >&2; exit 1; }
if [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then
	exec kill -HUP "$(cat /run/sshd.pid)"
fi
exec /usr/sbin/sshd
"""

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "pamtester",
                                         "ssh", SSHD, "make", "autoreconf",
                                         "cc", "setpriv"))


def setup_host():
    """The namespaces and private copies described in the module doc."""
    if not lib.private_network():
        lib.skip_all("no private network namespace: the walkthrough's sshd "
                     "needs port 22 of a loopback of its own")
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.unshare(CLONE_NEWUTS) != 0:
        lib.skip_all("no private UTS namespace: cannot name the host %s"
                     % HOSTNAME)
    socket.sethostname(HOSTNAME)
    moddir = doors.pam_module_dir()
    doors._private_copy(moddir, ignore=("pam_certauth.so",))
    doors._private_copy(doors.SECURITY, ignore=("pam_certauth.conf",
                                                "certauth"))
    doors._private_copy("/etc/ssh", ignore=("certauth.conf",))
    hosts = lib.MNT + "/hosts"
    doors.write(hosts, "127.0.0.1\tlocalhost\n127.0.0.1\t%s\n::1\tlocalhost\n"
                % HOSTNAME)
    lib.mount("--bind", hosts, "/etc/hosts")
    for d in ("/usr/local", "/run", "/var/log", "/var/cache"):
        lib.mount("-t", "tmpfs", "-o", "mode=0755,nosuid", "certauth-readme",
                  d)
    lib.make_dir("/run/sshd")
    for name in ("wtmp", "btmp", "lastlog"):
        doors.write("/var/log/" + name, "", 0o600 if name == "btmp" else 0o644)
    for name, text in doors.COMMON.items():
        doors.write(os.path.join(lib.PAMD, name), text)
    doors.write(os.path.join(lib.PAMD, "sshd"), SSHD_BEFORE)
    lib.make_dir(RUN)
    lib.make_dir(SHIM)
    doors.write(SHIM + "/systemctl", SYSTEMCTL, 0o755)
    if not glob.glob("/etc/ssh/ssh_host_*_key"):
        tap.diag("no ssh host keys: made with ssh-keygen -A, as Debian's "
                 "openssh-server does when installed")
        lib.run(["ssh-keygen", "-A"])


def copy_tree(top, dest):
    """Directory top without its builds (any directory holding a
    config.status), make distcheck's trees or git's directory."""
    top = os.path.abspath(top)

    def ignore(d, names):
        if os.path.abspath(d) != top:
            return []
        return [n for n in names if n in (".git", "autom4te.cache") or
                n.startswith("pam_certauth-") or
                os.path.exists(os.path.join(d, n, "config.status"))]
    shutil.copytree(top, dest, symlinks=True, ignore=ignore)


# ----------------------------------------------------- README blocks

def blocks(section):
    """The ```sh blocks of README section `## section`, indentation off."""
    out = []
    for m in re.finditer(r"(?ms)^( *)```sh\n(.*?)\n\1```$",
                         doors.readme_section(section)):
        ind = len(m.group(1))
        out.append("\n".join(l[ind:] for l in m.group(2).split("\n")))
    return out


def all_blocks():
    with open(os.path.join(lib.srcdir(), "README.md")) as f:
        return len(re.findall(r"(?m)^ *```sh$", f.read()))


def env(**extra):
    e = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
    e.update(extra)
    return e


def sh(text, cwd=WORK, **kw):
    """Run text with sh -e, as typed at a root shell in cwd."""
    return subprocess.run(["sh", "-e", "-c", text], cwd=cwd,
                          env=kw.pop("env", env()), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, **kw)


def out(p):
    return "exit %d\n%s%s" % (p.returncode, p.stdout[-3000:], p.stderr[-3000:])


def split_interactive(text, prog):
    """(the lines before the line that starts with prog, that line)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(prog + " "):
            return "\n".join(lines[:i]), line
    return text, None


# ---------------------------------------------------------- the run

setup_host()
copy_tree(lib.srcdir(), WORK)
sections = {
    "Two commands": 2, "Answering the challenge": 2, "Install": 1,
    doors.WALKTHROUGH: 8, "Configure": 3, MANY: 6, "Fuzzing": 1,
    DEB: 2}
counted = {s: blocks(s) for s in sections}
tap.ok(all(len(counted[s]) == n for s, n in sections.items()) and
       sum(sections.values()) == all_blocks(),
       "README.md has the %d command blocks this test accounts for"
       % sum(sections.values()),
       "; ".join("%s: %d (expected %d)" % (s, len(counted[s]), n)
                 for s, n in sections.items()) +
       "; in all: %d" % all_blocks())

# --- Two commands: the first sets up, builds and runs the demo; the
# second is this very suite (scripts/test), which runs this test.
two = counted["Two commands"]
p = sh(two[0])
tap.ok(two[0] == "./scripts/deps && ./scripts/build && ./scripts/demo" and
       p.returncode == 0 and "demo: login succeeded" in p.stdout,
       "first command: %s" % two[0], out(p))
tap.ok(two[1] == "./scripts/test",
       "second command is the suite this test belongs to: %s" % two[1])

# --- Install, as written: into the private /usr/local and module dir.
install = counted["Install"][0]
p = sh(install)
moddir = doors.pam_module_dir()
tap.ok(p.returncode == 0 and os.path.isfile(moddir + "/pam_certauth.so")
       and os.access("/usr/local/sbin/certauth-enroll", os.X_OK)
       and os.access("/usr/local/bin/certauth-sign", os.X_OK),
       "Install section as written: pam_certauth.so in %s, the tools in "
       "/usr/local" % moddir, out(p))
p = sh("./scripts/build")
tap.ok(p.returncode == 0, "scripts/build still works after the Install "
       "section's build (the two coexist)", out(p))
inplace = RUN + "/inplace"
copy_tree(WORK, inplace)
p = sh("./configure -q --sysconfdir=/etc && ./scripts/build", cwd=inplace)
tap.ok(p.returncode != 0 and re.search(
    r"scripts/build: \S+ was configured in place \(./configure ran there\), "
    r"so it cannot also be built in \S+/build\. Run 'make distclean' in "
    r"\S+ first", p.stderr) and "already configured" not in p.stderr,
    "scripts/build in a tree configured in place says why it stops and "
    "what to do", out(p))
shutil.rmtree(inplace)

# --- The CA side, as the walkthrough assumes it: ca.pem, chain.pem,
# crl.pem and alice's certificate and key in the current directory.
pki = lib.PKI()
alice = pki.issue("alice", "p256")
erin = pki.issue("erin", "ed25519")
pki.gencrl()
for src, name in ((pki.ca, "ca.pem"), (pki.chain, "chain.pem"),
                  (pki.crl, "crl.pem"), (alice.cert, "alice.pem"),
                  (alice.key, "alice.key")):
    shutil.copy(src, os.path.join(WORK, name))

walk = counted[doors.WALKTHROUGH]


def sign_with(block):
    """An answer function: the README's certauth-sign block, given the
    challenge line on standard input as the user pastes it."""
    def answer(challenge):
        p = subprocess.run(["sh", "-e", "-c", block], cwd=WORK, env=env(),
                           input="certauth challenge: %s\n" % challenge,
                           capture_output=True, text=True)
        sign_runs.append(p)
        return p.stdout.strip().split("\n")[-1] if p.stdout else ""
    return answer


sign_runs = []
answer = sign_with(walk[7])

p = sh(walk[0])
with open("/etc/pam.d/sshd.before-certauth") as f:
    tap.ok(p.returncode == 0 and f.read() == SSHD_BEFORE,
           "walkthrough: the backup of /etc/pam.d/sshd", out(p))

p = sh(walk[1])
tap.ok(p.returncode == 0 and os.path.isfile(doors.CONF) and
       os.path.isfile(doors.CERTDIR + "/crl.pem"),
       "walkthrough 1: trust anchors and pam_certauth.conf", out(p))

p = sh(walk[2])
tap.ok(p.returncode == 0 and os.path.isfile(doors.BINDINGS + "/alice") and
       p.stdout.startswith("bound "),
       "walkthrough 2: %s" % walk[2], out(p))


def pamtester_block(block, name, ans):
    before, line = split_interactive(block, "pamtester")
    p = sh(before)
    argv = ["sh", "-c", "cd %s && exec %s" % (WORK, line)]
    r = doors.session(ns, argv, answer=ans)
    tap.ok(p.returncode == 0 and line is not None and r.status == 0 and
           "successfully authenticated" in r.transcript and
           re.search("user alice authenticated with certificate",
                     r.module_log()),
           name, out(p) + "\n" + r.diag())


pamtester_block(walk[3], "walkthrough 3: pamtester, answered by the "
                "walkthrough's certauth-sign command", answer)
tap.ok(sign_runs and all(s.returncode == 0 for s in sign_runs) and
       "certauth-sign: signing for user alice, service certauth-test, on "
       "host server" in sign_runs[-1].stderr,
       "certauth-sign --key alice.key --host server signs the challenge "
       "of host server", "\n".join(out(s) for s in sign_runs))

# The walkthrough's promise: given another name than the server's own,
# certauth-sign refuses and says which name to give.
wrong = walk[7].replace("--host server", "--host server.example.org")
sign_runs.clear()
sign_with(wrong)("certauth:v1:%s:sshd:alice:%d:%s" % (
    HOSTNAME, int(time.time()), "A" * 43))
p = sign_runs[-1]
tap.ok(wrong != walk[7] and p.returncode != 0 and not p.stdout and
       "certauth-sign: refused: the challenge is for host 'server', not "
       "'server.example.org'. The host field is the server's own hostname "
       "(or its hostname= option), not the name you connect to: if "
       "'server' is the server you meant, run again with --host server "
       "(or add --host server)." in p.stderr,
       "certauth-sign given another name than the server's own says which "
       "--host to give, and signs nothing", out(p))

p = sh(walk[4])
tap.ok(p.returncode == 0 and lib.wait_port(22, True),
       "walkthrough 4: example sshd stack, the sshd_config drop-in, sshd -t "
       "and the reload (sshd listens on port 22)", out(p))


def effective(user):
    p = lib.run([SSHD, "-T", "-C", "user=%s,host=%s,addr=127.0.0.1"
                 % (user, HOSTNAME)], check=False)
    return dict(l.split(" ", 1) for l in p.stdout.splitlines() if " " in l)


a, r = effective("alice"), effective("root")
tap.ok(a.get("authenticationmethods") == "keyboard-interactive" and
       a.get("passwordauthentication") == "no" and
       r.get("authenticationmethods") == "any" and
       r.get("pubkeyauthentication") == "yes",
       "the Match block asks alice for the certificate; root keeps "
       "public keys",
       "alice: %s %s; root: %s %s" % (
           a.get("authenticationmethods"), a.get("passwordauthentication"),
           r.get("authenticationmethods"), r.get("pubkeyauthentication")))

# The clients: alice's and carol's shells on the same host (the host
# keys of "server" are in their known_hosts, as after a first connection
# they checked); alice keeps her key in her home directory.
def client_home(user, uid):
    home = lib.MNT + "/home/" + user
    sshdir = home + "/.ssh"
    os.makedirs(sshdir, 0o700)
    with open(sshdir + "/known_hosts", "w") as f:
        for pub in sorted(glob.glob("/etc/ssh/ssh_host_*_key.pub")):
            with open(pub) as k:
                f.write("%s %s\n" % (HOSTNAME,
                                     " ".join(k.read().split()[:2])))
    for root, dirs, files in os.walk(sshdir):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, uid, uid)
    return home


ALICE_HOME = client_home("alice", 2121)
shutil.copy(alice.key, ALICE_HOME + "/alice.key")
os.chown(ALICE_HOME + "/alice.key", 2121, 2121)
home = client_home("carol", 2123)
sshdir = home + "/.ssh"
lib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
         sshdir + "/id_ed25519"])
shutil.copy(sshdir + "/id_ed25519.pub", sshdir + "/authorized_keys")
for n in ("id_ed25519", "id_ed25519.pub", "authorized_keys"):
    os.chown(os.path.join(sshdir, n), 2123, 2123)


def as_user(uid, line):
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
            "--init-groups", "sh", "-e", "-c", line]


def as_carol(line):
    return as_user(2123, line)


def alice_types(block):
    """block run by alice in her home directory, with no terminal at all
    (a new session, standard input closed), as certauth-askpass is
    meant to be used."""
    mark = ns.mark()
    p = subprocess.run(as_user(2121, block), cwd=ALICE_HOME,
                       env=env(HOME=ALICE_HOME, PATH=PATH.split(":", 1)[1]),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, start_new_session=True, timeout=60)
    p.log = "\n".join(lib.module_lines(ns.logs_since(mark)))
    return p


p = alice_types(walk[5])
tap.ok(p.returncode == 0 and p.stdout == "alice\n" and
       "certauth-askpass: signing for user alice, service sshd, on host "
       "server" in p.stderr and
       re.search("user alice authenticated with certificate", p.log),
       "walkthrough 5: certauth-askpass logs alice in over ssh, nothing "
       "typed, no terminal", out(p) + "\nsyslog: " + p.log)
p = alice_types(walk[6])
q = alice_types(". ~/.profile && ssh alice@server id -un")
tap.ok(p.returncode == 0 and q.returncode == 0 and q.stdout == "alice\n",
       "walkthrough 5: with the two variables in ~/.profile, a plain ssh "
       "logs in", out(p) + out(q))
r = doors.session(ns, as_carol("ssh alice@server id -un"), answer=answer,
                  module_host=False)
f = r.challenges[0].split(":") if r.challenges else []
tap.ok(r.printed("alice") and
       f[:5] == ["certauth", "v1", HOSTNAME, "sshd", "alice"],
       "walkthrough 5, by hand: ssh alice@server id -un prints alice, "
       "answered by: %s" % walk[7].split("\n")[0], r.diag())
r = doors.session(ns, as_carol("ssh carol@server id -un"), module_host=False)
tap.ok(r.printed("carol") and not r.challenges and r.passwords == 0,
       "another account still logs in with its public key, no challenge",
       r.diag())

# --- Answering the challenge: certauth-sign with a key under ~, and stock
# openssl for ECDSA (alice's key as key.pem) and Ed25519 (erin's).
ans = counted["Answering the challenge"]
alice_home = RUN + "/alice-home"
os.makedirs(alice_home + "/.certauth", 0o700)
shutil.copy(alice.key, alice_home + "/.certauth/key.pem")


def sign_home(challenge):
    p = subprocess.run(["sh", "-e", "-c", ans[0]], cwd=WORK,
                       env=env(HOME=alice_home), capture_output=True,
                       input="certauth challenge: %s\n" % challenge,
                       text=True)
    return p.stdout.strip().split("\n")[-1] if p.stdout else ""


r = doors.session(ns, ["pamtester", "-v", "sshd", "alice", "authenticate"],
                  answer=sign_home)
tap.ok(r.status == 0 and "--host server --service sshd --user alice" in ans[0]
       and re.search("user alice authenticated", r.module_log()),
       "Answering: %s" % ans[0].split("\n")[0], r.diag())
lines = [l for l in ans[1].split("\n") if l and not l.startswith("#")]
shutil.copy(alice.key, WORK + "/key.pem")
shutil.copy(erin.key, WORK + "/ed25519.pem")
sh("certauth-enroll add erin %s" % erin.cert)
for user, line in (("alice", lines[0]), ("erin", lines[1])):
    def openssl_answer(challenge, line=line):
        p = sh(line, env=env(C=challenge))
        return p.stdout.strip()
    r = doors.session(ns, ["pamtester", "-v", "certauth-test", user,
                           "authenticate"], answer=openssl_answer)
    tap.ok(len(lines) == 2 and r.status == 0 and
           re.search("user %s authenticated" % user, r.module_log()),
           "Answering with stock openssl (%s): %s" % (user, line), r.diag())

# --- Configure: enroll (already bound: said so), list, check; remove by
# the fingerprint list prints; then the pamtester try-out again after
# binding it once more.
conf = counted["Configure"]
p = sh(conf[0])
tap.ok(p.returncode == 0 and "already bound" in p.stdout and
       re.search(r"(?m)^alice\t\S+\t", p.stdout) and
       re.search(r"(?m)ok", p.stdout),
       "Configure: add, list and check", out(p))
p = sh(conf[1])
tap.ok(p.returncode == 0 and p.stdout.startswith("removed ") and
       not os.path.exists(doors.BINDINGS + "/alice"),
       "Configure: remove by the fingerprint list prints", out(p))
sh("certauth-enroll add alice alice.pem")
pamtester_block(conf[2], "Configure: the pamtester try-out", answer)

# --- Many hosts: a real slapd serves ldap.example.org on a loopback
# address, with a server certificate from the walkthrough's CA (which the
# section's ldap-ca.pem is) and bob's entry as yet without a
# certificate; the administrator's password in admin.pw.  The section's
# blocks run as written; bob answers with his key as alice does.  Then
# the directory stops, and bob still logs in on the cached answer.
import slapd  # noqa: E402

many = counted[MANY]
directory = slapd.Slapd(RUN + "/slapd", pki, host="ldap.example.org",
                        base="dc=example,dc=org")
directory.start()
directory.add_user("bob", [])
bob = pki.issue("bob", "p256")
shutil.copy(pki.ca, doors.CERTDIR + "/ldap-ca.pem")
for src, name in ((bob.cert, "bob.pem"), (bob.key, "bob.key")):
    shutil.copy(src, os.path.join(WORK, name))
doors.write(os.path.join(WORK, "admin.pw"), directory.root_pw, 0o600)
p = sh(many[0])
with open(doors.CONF) as f:
    tap.ok(p.returncode == 0 and "bindings = files,ldap\n" in f.read(),
           "Many hosts: the binding sources and the directory in "
           "pam_certauth.conf", out(p))
p = sh(many[1])
found = slapd.parse_ldif(directory.search(
    "(uid=bob)", ["userCertificate;binary"]).stdout.decode())
want = subprocess.run(["openssl", "x509", "-in", bob.cert, "-outform", "DER"],
                      capture_output=True, check=True).stdout
tap.ok(p.returncode == 0 and 'modifying entry "uid=bob,' in p.stdout and
       len(found) == 1 and
       found[0][1].get("userCertificate;binary") == [want],
       "Many hosts: bob's certificate put into his entry with ldapmodify "
       "(the directory holds its DER, once)",
       out(p) + "\n" + repr(found)[:500])
before, line = split_interactive(many[2], "pamtester")
p = sh(before)
tap.ok(p.returncode == 0 and re.search(
    r"(?m)^bob\t%s\t.*\tldap ldaps://ldap\.example\.org\S*$" %
    bob.fingerprint, p.stdout) and
    re.search(r"(?m)ok", p.stdout),
    "Many hosts: certauth-enroll list and check name the directory", out(p))
bob_answer = sign_with(walk[7].replace("alice.key", "bob.key"))


def bob_logs_in(name):
    r = doors.session(ns, ["sh", "-c", "cd %s && exec %s" % (WORK, line)],
                      answer=bob_answer)
    tap.ok(line is not None and r.status == 0 and
           "successfully authenticated" in r.transcript and
           re.search(r"user bob authenticated with certificate .*; bound by "
                     r"ldap", r.module_log()), name, r.diag())
    return r


bob_logs_in("Many hosts: bob logs in with the certificate the directory "
            "holds (pamtester, answered by certauth-sign)")
directory.stop()
r = bob_logs_in("Many hosts: with the directory stopped, bob still logs in "
                "on the cached answer")
tap.ok("bound by ldap (cache)" in r.module_log(),
       "Many hosts: ... and the log says the binding came from the cache",
       r.diag())

# --- ... or bind by rule: the rules file made from chain.pem as
# written; certauth-enroll map; rules added to the sources; dave, bound
# nowhere, logs in offering his certificate with certauth-sign.
# The directory runs again: one that cannot be reached refuses every
# login that asks it, even one the rules would then have decided.
directory.start()
dave = pki.issue("dave", "p256")
for src, name in ((dave.cert, "dave.pem"), (dave.key, "dave.key")):
    shutil.copy(src, os.path.join(WORK, name))
p = sh(many[3])
tap.ok(p.returncode == 0 and p.stdout == "dave\tusers_ca\n",
       "Many hosts, by rule: the rules file from chain.pem, and "
       "certauth-enroll map names dave by rule users_ca", out(p))
before, line = split_interactive(many[4], "pamtester")
p = sh(before)
with open(doors.CONF) as f:
    conf = f.read()
dave_answer = sign_with(many[5])
r = doors.session(ns, ["sh", "-c", "cd %s && exec %s" % (WORK, line)],
                  answer=dave_answer)
tap.ok(p.returncode == 0 and "bindings = files,ldap,rules\n" in conf and
       line is not None and r.status == 0 and
       "successfully authenticated" in r.transcript and
       re.search(r"user dave authenticated with certificate .*; bound by "
                 r"rules", r.module_log()),
       "Many hosts, by rule: dave logs in, answering with certauth-sign "
       "--with-cert", out(p) + "\n" + r.diag())

# --- Fuzzing: run by scripts/test (the same two first commands); the
# last two are the same with more runs, and open-ended.
fuzz = counted["Fuzzing"][0]
tap.ok("make -C build-fuzz fuzz-smoke" in fuzz and
       'CONFIGURE_FLAGS="CC=clang --enable-fuzzing" ./scripts/build' in fuzz,
       "Fuzzing: its build and fuzz-smoke are the ones scripts/test runs")

# --- Install the Debian package: tests/e2e/debian.py builds the packages
# and runs these lines as written in a throwaway root of its own.
deb = counted[DEB]
tap.ok("dpkg-buildpackage -us -uc -b" in deb[0] and
       "apt-get install -y ../libpam-certauth_" in deb[0] and
       deb[1].strip() == "pam-auth-update --enable certauth",
       "Install the Debian package: its build, install and enable lines "
       "are the ones tests/e2e/debian.py runs", "\n".join(deb))

p = subprocess.run(["sh", "-c", "kill $(cat /run/sshd.pid)"],
                   capture_output=True)
tap.ok(p.returncode == 0 and lib.wait_port(22, False), "sshd stopped")
sys.exit(tap.done())
