#!/usr/bin/python3
"""End-to-end: the pam_faillock stack of pam_certauth(8)'s EXAMPLES, taken
from the manual page as written, run with the real pamtester, pam_unix
and pam_faillock.  Three failed logins lock the account whichever way
they failed; a locked account gets no challenge; a good answer resets the
count; faillock --reset unlocks; the fail delay is asked for.  Prints
TAP.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

PASSWORDS = {"alice": "alice-s3cret-pw", "nick": "nick-s3cret-pw"}
USERS = {"alice": lib.Account(2701, PASSWORDS["alice"]),
         "nick": lib.Account(2702, PASSWORDS["nick"])}
SVC = "certauth-faillock"

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "pamtester",
                                         "faillock"))
check = doors.Checks(tap)
system, certs = doors.installed(build, {"alice": "p256"})
alice, other = certs["alice"], certs["other"]
sign = doors.signer(build)


def man_stack():
    """The .EX block of pam_certauth.8 that stacks pam_faillock."""
    with open(os.path.join(lib.srcdir(), "man", "pam_certauth.8")) as f:
        text = f.read()
    for block in re.findall(r"(?ms)^\.EX\n(.*?)^\.EE", text):
        if "pam_faillock.so preauth" in block:
            return block.replace("\\-", "-")
    return None


stack = man_stack()
tap.ok(stack is not None and "pam_certauth.so" in stack,
       "pam_certauth(8) shows a pam_faillock stack", stack)
if stack is None:
    sys.exit(tap.done())
doors.write(os.path.join(lib.PAMD, SVC), stack)


def login(user, answer, password=None):
    return doors.session(ns, ["pamtester", "-v", SVC, user, "authenticate"],
                         answer=answer, password=password)


def tally(user):
    p = lib.run(["faillock", "--user", user], check=False)
    return len([l for l in p.stdout.splitlines() if re.match(r"\d{4}-", l)])


r = login("alice", sign(alice))
check.logged_in("good answer logs in", r, "alice",
                output="pamtester: successfully authenticated",
                fingerprint=alice.fingerprint)
r = login("alice", sign(other), PASSWORDS["alice"])
check.logged_in("wrong answer, good password logs in", r, "alice",
                output="pamtester: successfully authenticated", passwords=1)
r = login("nick", None, PASSWORDS["nick"])
check.logged_in("no binding: the password alone", r, "nick",
                output="pamtester: successfully authenticated",
                challenges=0, passwords=1)
t = time.time()
for i in range(3):
    r = login("alice", sign(other), "wrong password")
    check.refused("failure %d of 3: wrong answer, wrong password" % (i + 1),
                  r, output="pamtester: successfully authenticated",
                  passwords=1, reason="signature does not verify")
waited = time.time() - t
tap.ok(tally("alice") == 3, "faillock counts the 3 failures",
       "tally %d" % tally("alice"))
# 2 s asked for, varied by libpam by up to a half: at least 1 s each.
tap.ok(waited >= 3 * 1.0, "each failure waited the fail delay (%.1f s for "
       "3, at least 3 s)" % waited)
r = login("alice", sign(alice), PASSWORDS["alice"])
check.refused("locked: even a good answer is refused, and no challenge "
              "is shown", r, output="pamtester: successfully authenticated",
              challenges=0, passwords=0)
p = lib.run(["faillock", "--user", "alice", "--reset"], check=False)
r = login("alice", sign(alice))
check.logged_in("faillock --reset unlocks: good answer logs in", r, "alice",
                output="pamtester: successfully authenticated")
r = login("alice", sign(other), "wrong password")
r = login("alice", sign(alice))
check.logged_in("a good answer after one failure", r, "alice",
                output="pamtester: successfully authenticated")
tap.ok(tally("alice") == 0, "a good answer resets the count",
       "tally %d" % tally("alice"))
check.no_secrets()
sys.exit(tap.done())
