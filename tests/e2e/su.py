#!/usr/bin/python3
"""End-to-end: the real su with /etc/pam.d/su made from pam.d-examples/su
(and Debian's su-l, which includes it, for `su -`).  An unprivileged user
runs `su - alice -c 'id -un'` on a pty and answers the challenge for
alice with alice's key; root goes through pam_rootok without one.  All
three auth variants of the example are logged in through, and refused
where they must refuse.  Prints TAP.
"""

import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

PASSWORDS = {"alice": "alice-s3cret-pw", "nick": "nick-s3cret-pw"}
USERS = {"alice": lib.Account(2201, PASSWORDS["alice"]),
         "bob": lib.Account(2202),      # the unprivileged caller
         "nick": lib.Account(2203, PASSWORDS["nick"])}
# Debian's /etc/pam.d/su-l: `su -` is this service.
SU_L = """auth include su
account include su
password include su
session optional pam_keyinit.so force revoke
session include su
"""

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "su",
                                         "setpriv"))
check = doors.Checks(tap)
HOST = socket.gethostname()
system, certs = doors.installed(build, {"alice": "rsa2048"})
alice, other = certs["alice"], certs["other"]
doors.write(os.path.join(lib.PAMD, "su-l"), SU_L)

check.shipped(system, "su", 1)

sign = doors.signer(build)


def su(target, answer, password=None, caller="bob", login=True):
    argv = ["su"] + (["-"] if login else []) + [target, "-c", "id -un"]
    if caller != "root":
        argv = doors.as_user(caller) + argv
    return doors.session(ns, argv, answer=answer, password=password)


r = doors.session(ns, doors.as_user("bob") + ["id", "-un"])
tap.ok(r.printed("bob") and r.status == 0,
       "the caller runs unprivileged, as bob", r.diag())
r = su("alice", sign(alice))
check.logged_in("bob: su - alice -c 'id -un' answered with alice's key "
                "prints alice", r, "alice", fingerprint=alice.fingerprint)
f = r.challenges[0].split(":") if r.challenges else []
tap.ok(f[2:5] == [HOST, "su-l", "alice"],
       "the challenge is for the target alice, service su-l", r.diag())
r = su("alice", sign(alice), login=False)
f = r.challenges[0].split(":") if r.challenges else []
check.logged_in("bob: su alice (no -) uses service su", r, "alice")
tap.ok(f[3:5] == ["su", "alice"], "su without - sends service su",
       r.diag())
r = su("alice", lib.ossl_sign(alice.key, alice.kind))
check.logged_in("bob: su - alice answered with stock openssl dgst", r,
                "alice")
r = su("alice", None, caller="root")
check.logged_in("root: su - alice needs no challenge (pam_rootok)", r,
                "alice", challenges=0)
r = su("alice", sign(alice), caller="alice", login=True)
check.logged_in("alice: su - alice needs her own key", r, "alice")

door = doors.Door("su", su, lambda user: user,
                  refusal="su: Authentication failure")
doors.run_variants(check, system, door, (1, 2, 3), "alice", "nick",
                   sign(alice), sign(other), alice.fingerprint, PASSWORDS)
check.no_secrets()
sys.exit(tap.done())
