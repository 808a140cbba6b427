#!/usr/bin/python3
"""End-to-end: the README's "SSH certificate login in five minutes", run
for real.  The module is set up at its default paths exactly as the
walkthrough says (its pam_certauth.conf and sshd_config lines are read
from README.md), tried with pamtester and pam.d-examples/certauth-test,
then the real OpenSSH server is started on 127.0.0.1 with
/etc/pam.d/sshd made from pam.d-examples/sshd, and the real ssh client,
on a pty, receives the challenge as keyboard-interactive text, answers
with certauth-sign and runs `id -un` on the server.  All three auth
variants of the example are logged in through, and refused where they
must refuse.  Prints TAP.
"""

import os
import re
import socket
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

SSHD = "/usr/sbin/sshd"
PASSWORDS = {"alice": "alice-s3cret-pw", "nick": "nick-s3cret-pw"}
USERS = {"alice": lib.Account(2101, PASSWORDS["alice"]),
         "ivan": lib.Account(2102),
         "nick": lib.Account(2103, PASSWORDS["nick"])}

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "pamtester",
                                         "ssh", SSHD))
check = doors.Checks(tap)
HOST = socket.gethostname()
if not lib.private_network():
    tap.diag("no private network namespace: sshd listens on the host's "
             "127.0.0.1")

# The CA side: the user's certificate, one that the CA revokes after it
# was enrolled, and one that is valid but bound to nobody (a wrong key).
pki = lib.PKI()
alice = pki.issue("alice", "p256")
ivan = pki.issue("ivan", "rsa2048")
other = pki.issue("other", "ed25519")
pki.gencrl()

# ---------------------------------------------- the walkthrough, step by step

walk = doors.readme_section("SSH certificate login in five minutes")
heredocs = doors.heredocs(walk)
system = doors.System(build, pki)
conf_text = heredocs.get(doors.CONF)
sshd_dropin = heredocs.get("/etc/ssh/sshd_config.d/certauth.conf")
tap.ok(conf_text is not None and sshd_dropin is not None,
       "README walkthrough writes pam_certauth.conf and an sshd drop-in",
       "heredocs found: %s" % ", ".join(sorted(heredocs)))
if conf_text is None or sshd_dropin is None:
    sys.exit(tap.done())
system.configure(conf_text)

for user, cert in (("alice", alice), ("ivan", ivan)):
    p = lib.run([build.enroll, "add", user, cert.cert], check=False)
    tap.ok(p.returncode == 0 and os.path.isfile(
        os.path.join(doors.BINDINGS, user)),
        "certauth-enroll add %s %s.pem (default paths)" % (user, user),
        p.stdout + p.stderr)
# Later the CA revokes ivan's certificate; the administrator installs the
# new CRL.
pki.revoke(ivan)
system.update_crl()
tap.ok("certauth-enroll add alice alice.pem" in walk,
       "README shows the same certauth-enroll command")

sign = doors.signer(build)


# Step 3: pamtester and the certauth-test example, before sshd.
system.install_example("certauth-test")
r = lib.pamtester(ns, "certauth-test", "alice", sign(alice))
tap.ok(r.ok and "pamtester -v certauth-test alice authenticate" in walk,
       "pamtester -v certauth-test alice authenticate (README step)",
       r.diag())
r = lib.pamtester(ns, "certauth-test", "alice", sign(other))
tap.ok(r.status != 0 and r.pam_says("PAM_AUTH_ERR") and
       re.search("signature does not verify", r.log_text()),
       "certauth-test refuses a wrong key", r.diag())

# Step 4: /etc/pam.d/sshd from the example; sshd_config from the README.
check.shipped(system, "sshd", 1)

ssh_dir = lib.MNT + "/ssh"
lib.make_dir(ssh_dir)
hostkey = ssh_dir + "/ssh_host_ed25519_key"
lib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey])
port = lib.free_port()
config = ssh_dir + "/sshd_config"
doors.write(ssh_dir + "/certauth.conf", sshd_dropin)
# The README's lines come first, as the drop-in Include does on Debian
# (for sshd the first value of a keyword wins).
doors.write(config, "Include %s/certauth.conf\n"
            "ListenAddress 127.0.0.1:%d\nHostKey %s\nPidFile none\n"
            "UseDNS no\nLogLevel VERBOSE\nPrintMotd no\n"
            "SyslogFacility AUTH\n" % (ssh_dir, port, hostkey))
p = lib.run([SSHD, "-t", "-f", config], check=False)
tap.ok(p.returncode == 0, "sshd -t accepts the README's sshd_config lines",
       p.stdout + p.stderr)
p = lib.run([SSHD, "-T", "-f", config, "-C",
             "user=alice,host=localhost,addr=127.0.0.1"], check=False)
eff = dict(l.split(" ", 1) for l in p.stdout.splitlines() if " " in l)
want = {"usepam": "yes", "kbdinteractiveauthentication": "yes",
        "authenticationmethods": "keyboard-interactive",
        "passwordauthentication": "no"}
tap.ok(all(eff.get(k) == v for k, v in want.items()),
       "sshd's effective settings are the README's",
       " ".join("%s=%s" % (k, eff.get(k)) for k in want))

sshd_log = open(ssh_dir + "/sshd.log", "ab")
sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", config],
                        stdin=subprocess.DEVNULL, stdout=sshd_log,
                        stderr=sshd_log)
if not lib.wait_port(port, True):
    tap.ok(False, "sshd listens on 127.0.0.1:%d" % port,
           open(ssh_dir + "/sshd.log", errors="replace").read()[-2000:])
    sshd.kill()
    sys.exit(tap.done())
tap.ok(True, "sshd listens on 127.0.0.1:%d" % port)

# Step 5: the client.  -F /dev/null: no client configuration of the host's.
SSH = ["ssh", "-F", "/dev/null", "-p", str(port),
       "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
       "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
       "-o", "PreferredAuthentications=keyboard-interactive",
       "-o", "NumberOfPasswordPrompts=1"]
tap.ok("ssh alice@" in walk and "certauth-sign --key" in walk,
       "README shows the ssh and certauth-sign commands")


def ssh(user, answer, password=None):
    return doors.session(ns, SSH + ["%s@127.0.0.1" % user, "id -un"],
                         answer=answer, password=password, module_host=False)


# The README's Match block asks alice alone for the certificate: other
# accounts (nick) are still offered public keys and passwords.
door = doors.Door("sshd", ssh, lambda user: user,
                  refusal=r"Permission denied \((publickey,password,)?"
                  r"keyboard-interactive\)")


# --- variant 1 (as shipped): certificate only

r = ssh("alice", sign(alice))
f = r.challenges[0].split(":") if r.challenges else []
tap.ok(r.printed("alice") and len(f) == 7 and
       f[:5] == ["certauth", "v1", HOST, "sshd", "alice"] and
       "certauth challenge: " + r.challenges[0] in r.transcript,
       "the ssh client shows the challenge for host %s, service sshd, user "
       "alice as keyboard-interactive text" % HOST, r.diag())
doors.run_variants(check, system, door, (1,), "alice", "nick",
                   sign(alice), sign(other), alice.fingerprint, PASSWORDS)
r = ssh("alice", lib.ossl_sign(alice.key, alice.kind))
check.logged_in("sshd: alice logs in with stock openssl dgst as client",
                r, "alice")
r = ssh("ivan", sign(ivan))
check.refused("sshd: revoked certificate is refused", r,
              reason="user ivan refused: .*revoked", output="ivan")
r = ssh("alice", None)
check.refused("sshd: an empty answer is refused", r,
              reason="user alice refused", output="alice")

# --- variants 2 and 3: the password too

doors.run_variants(check, system, door, (2, 3), "alice", "nick",
                   sign(alice), sign(other), alice.fingerprint, PASSWORDS)

check.no_secrets()
sshd.terminate()
try:
    sshd.wait(5)
except subprocess.TimeoutExpired:
    sshd.kill()
sshd_log.close()
tap.ok(sshd.returncode is not None, "sshd stopped")
sys.exit(tap.done())
