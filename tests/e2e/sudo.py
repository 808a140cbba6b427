#!/usr/bin/python3
"""End-to-end: the real sudo with /etc/pam.d/sudo made from
pam.d-examples/sudo.  alice, unprivileged, runs `sudo id -un` on a pty and
answers the challenge for herself; sudo runs the command as root.  The
shipped certificate-or-password stack is proven both ways (certificate
without a password, password after a failed or absent certificate), and
the other two variants as well, and the agent variant (4) with no agent
in reach, which must then behave as 2 does (tests/e2e/agentfwd.py logs
in through it with a forwarded agent).  Each of sudo's three tries is a
new challenge with a fresh nonce.  Prints TAP.
"""

import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

PASSWORDS = {"alice": "alice-s3cret-pw", "nick": "nick-s3cret-pw"}
USERS = {"alice": lib.Account(2401, PASSWORDS["alice"]),
         "nick": lib.Account(2402, PASSWORDS["nick"]),
         "bob": lib.Account(2403)}      # not in sudoers
SUDO = "/usr/bin/sudo"
# No cached credentials (every run authenticates), no lecture, no mail
# about bob, and only these users: the host's sudoers and sudoers.d stay
# out.
SUDOERS = """Defaults env_reset, timestamp_timeout=0, lecture=never
Defaults !mail_no_user, !mail_badpass
root ALL=(ALL:ALL) ALL
alice ALL=(ALL:ALL) ALL
nick ALL=(ALL:ALL) ALL
"""

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", SUDO,
                                         "setpriv"))
check = doors.Checks(tap)
HOST = socket.gethostname()
system, certs = doors.installed(build, {"alice": "p384", "bob": "p256"})
alice, other = certs["alice"], certs["other"]
sudoers = lib.MNT + "/sudoers"
doors.write(sudoers, SUDOERS, mode=0o440)
lib.mount("--bind", sudoers, "/etc/sudoers")

check.shipped(system, "sudo", 2, count=4)

sign = doors.signer(build)


def sudo(user, answer, password=None):
    return doors.session(ns, doors.as_user(user) + [SUDO, "id", "-un"],
                         answer=answer, password=password)


r = sudo("alice", sign(alice))
check.logged_in("alice: sudo id -un answered by certauth-sign prints root",
                r, "alice", output="root", fingerprint=alice.fingerprint)
f = r.challenges[0].split(":") if r.challenges else []
tap.ok(f[2:5] == [HOST, "sudo", "alice"],
       "the challenge is for the invoking user alice, service sudo",
       r.diag())
r = sudo("alice", lib.ossl_sign(alice.key, alice.kind, digest="sha384"))
check.logged_in("alice: sudo answered by stock openssl dgst -sha384", r,
                "alice", output="root")
r = sudo("alice", None, "wrong password")
check.refused("alice: three empty answers are refused", r, output="root",
              challenges=3, passwords=3,
              says="3 incorrect password attempts")
tap.ok(len(set(r.challenges)) == 3,
       "each of sudo's tries is a new challenge (fresh nonce)", r.diag())
r = sudo("bob", sign(certs["bob"]))
check.refused("bob, not in sudoers, authenticates but is not allowed", r,
              output="root", says="not in the sudoers file")

door = doors.Door("sudo", sudo, lambda user: "root", tries=3,
                  refusal="3 incorrect password attempts")
doors.run_variants(check, system, door, (2, 1, 3, 4), "alice", "nick",
                   sign(alice), sign(other), alice.fingerprint, PASSWORDS)
check.no_secrets()
sys.exit(tap.done())
