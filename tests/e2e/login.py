#!/usr/bin/python3
"""End-to-end: the real login(1) on a pty, with /etc/pam.d/login made
from pam.d-examples/login.  `login alice` shows the challenge, the
answer comes from certauth-sign, and in the shell that login starts
`id -un` prints alice.  All three auth variants of the example are
logged in through, and refused where they must refuse (login then says
"Login incorrect" and asks for a name again).  Prints TAP.
"""

import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

PASSWORDS = {"alice": "alice-s3cret-pw", "nick": "nick-s3cret-pw"}
USERS = {"alice": lib.Account(2301, PASSWORDS["alice"]),
         "nick": lib.Account(2302, PASSWORDS["nick"])}
LOGIN = "/bin/login"

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", LOGIN))
check = doors.Checks(tap)
HOST = socket.gethostname()
system, certs = doors.installed(build, {"alice": "ed25519"})
alice, other = certs["alice"], certs["other"]
for user, spec in USERS.items():
    doors.shell_profile(user, spec.uid)

check.shipped(system, "login", 2)

sign = doors.signer(build)


def login(user, answer, password=None):
    # After a refusal login asks for a name again: that ends the session.
    return doors.session(ns, [LOGIN, user], answer=answer,
                         password=password, commands="id -un; exit",
                         stop=r"login: $")


r = login("alice", sign(alice))
check.logged_in("login alice: answered by certauth-sign, the shell's id -un "
                "prints alice", r, "alice", fingerprint=alice.fingerprint)
f = r.challenges[0].split(":") if r.challenges else []
tap.ok(f[2:5] == [HOST, "login", "alice"],
       "the challenge is for service login, user alice", r.diag())
p = lib.run(["last", "-f", "/var/log/wtmp", "alice"], check=False)
tap.ok(p.stdout.startswith("alice "),
       "login recorded the session in wtmp (a private one: the host's "
       "logs stay untouched)", p.stdout + p.stderr)
r = login("alice", lib.ossl_sign(alice.key, alice.kind))
check.logged_in("login alice: answered by stock openssl pkeyutl (Ed25519)",
                r, "alice")
door = doors.Door("login", login, lambda user: user,
                  refusal="Login incorrect")
doors.run_variants(check, system, door, (2, 1, 3), "alice", "nick",
                   sign(alice), sign(other), alice.fingerprint, PASSWORDS)
check.no_secrets()
sys.exit(tap.done())
