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
import keys  # noqa: E402

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

check.shipped(system, "login", 2, count=4)

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

# ------------------------------------------------- variant 4: a token
# alice's certificate and key on a SoftHSM2 token, which SoftHSM2 finds
# through its system configuration and p11-kit through its module list:
# the module's defaults, nothing named in the stack.
SOFTHSM, why = keys.find_softhsm()
if SOFTHSM is None or not os.path.exists("/etc/softhsm/softhsm2.conf"):
    tap.skip("variant 4 (smart card or password)", why or "no SoftHSM2 "
             "configuration to stand in for")
else:
    D = lib.MNT + "/tokens"
    lib.make_dir(D, 0o755)
    hsm = keys.SoftHSM(SOFTHSM, D)
    # pkcs11-tool imports no Ed25519 key: a P-256 card of alice's own.
    card = system.pki.issue("alice-card", "p256", cn="alice")
    system.pki.gencrl()
    system.update_crl()
    system.enroll("alice", card)
    hsm.init_token("alice-card")
    hsm.import_key("alice-card", card, "auth", "01", with_cert=True)
    lib.mount("--bind", hsm.conf, "/etc/softhsm/softhsm2.conf")
    keys.p11kit_modules(SOFTHSM, D + "/p11-kit-modules")
    text = system.install_example("login", 4)
    tap.ok("pam_certauth.so pkcs11=try nouserok" in text,
           "pam.d-examples/login variant 4 stacks pkcs11=try",
           text.split("# 4.")[1][:900] if "# 4." in text else text)

    def token_login(user, pin, password=None, answer=None):
        return doors.session(ns, [LOGIN, user], answer=answer, pin=pin,
                             password=password, commands="id -un; exit",
                             stop=r"login: $")

    r = token_login("alice", keys.PIN)
    check.logged_in("login alice, variant 4: the token signs after the "
                    "PIN, the shell's id -un prints alice", r, "alice",
                    fingerprint=card.fingerprint, challenges=0)
    tap.ok(r.pins == ["alice-card"] and keys.PIN not in r.transcript,
           "variant 4: one PIN prompt naming the token, the PIN not echoed",
           r.diag())
    r = token_login("alice", "000000", password="wrong-pw")
    check.refused("variant 4: a wrong PIN, then a wrong password: Login "
                  "incorrect", r, reason=r"wrong PIN for token 'alice-card'",
                  output="alice", challenges=0, passwords=1,
                  says="Login incorrect")
    r = token_login("alice", "000000", password=PASSWORDS["alice"])
    check.logged_in("variant 4: a wrong PIN falls through to the password",
                    r, "alice", challenges=0, passwords=1)
    r = token_login("nick", keys.PIN, password=PASSWORDS["nick"])
    check.logged_in("variant 4: nick, bound to nothing, gets the password "
                    "prompt alone", r, "nick", challenges=0, passwords=1)
    tap.ok(r.pins == [], "variant 4: no PIN asked of an unbound user",
           r.diag())
    # The card is pulled: SoftHSM2 sees no token.
    empty = D + "/empty"
    os.makedirs(empty + "/tokens", 0o700)
    with open(empty + "/softhsm2.conf", "w") as f:
        f.write("directories.tokendir = %s/tokens\n"
                "objectstore.backend = file\n" % empty)
    lib.mount("--bind", empty + "/softhsm2.conf",
              "/etc/softhsm/softhsm2.conf")
    r = token_login("alice", keys.PIN, answer=sign(alice))
    check.logged_in("variant 4 with no token: the challenge is shown and "
                    "answered by certauth-sign", r, "alice",
                    fingerprint=alice.fingerprint)
    tap.ok(r.pins == [] and "no token matches" in r.module_log(),
           "variant 4 with no token: no PIN asked, the log says why",
           r.diag())

check.no_secrets()
sys.exit(tap.done())
