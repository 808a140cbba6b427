#!/usr/bin/python3
"""End-to-end: token mode (pkcs11=) against tokens that lie, through the
real pamtester and the real set-uid su.  Prints TAP.

The tests' lying token, tests/common/p11shim.c, is a PKCS#11 module that
forwards every call to SoftHSM2 and tells the one lie P11SHIM_MODE
names; it is copied into a root-owned directory of the namespace's
tmpfs, where pkcs11_module passes the module's safe-file rules.  For
each lie the PIN is typed on pamtester's terminal at the module's
prompt (unless the lie is seen before a PIN is asked), and the login
must be refused: pamtester's exit status not 0 and its PAM error the
expected one, no signal, within a time limit, and exactly the module's
syslog line for that lie.  The services stack pam_permit after the
module, so that a PAM_IGNORE would be a success and fail the test.
Lies: a locked PIN, a PIN with one try left (and a wrong PIN typed), a
token that says it needs no login, a token pulled out at the login and
while it signs, certificate values that are junk, claim 1 GiB, are
100 KiB, carry trailing bytes or change their length between two reads,
a search that counts more handles than it was asked for, a slot list
that counts more slots than it had room for, a signature announced at
1 GiB, one said to be longer than the room it was written into, ECDSA
signatures of odd length, signatures cut short or with a bit flipped,
and a token that takes longer to sign than challenge_ttl allows (the
module cannot interrupt it: the login takes that long, then refuses).
The lies about lengths run once more under valgrind's memcheck: no byte
is read that the token did not write.  Under pkcs11=try the lies that
mean "no usable certificate or key" fall back to the typed challenge
(answered wrongly here: refused), the others refuse at once.

With real SoftHSM2 content and no shim: a certificate stored under the
id of another key (RSA and P-256), under pkcs11=only and pkcs11=try;
pkcs11_module group-writable, owned by another user, in a directory of
mode 1777 or 0757 or a link into one (refused, the module never
loaded); a module named by module-path= in pkcs11_uri, pin-value and
pin-source in pkcs11_uri, and agent=try with pkcs11=try (configuration
errors, nothing loaded).

The attacker at the front door: mallory runs the real su to alice with
SOFTHSM2_CONF pointing at a SoftHSM2 store of his own, whose token holds
alice's bound certificate (public) and mallory's key under the same id:
refused, alice not logged in.  Controls: the same su with a token that
holds alice's own key logs in; p11-kit reads mallory's own module list
(~/.config/pkcs11) when he runs it, but not inside set-uid su.
"""

import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import keys  # noqa: E402

USERS = {"alice": lib.Account(2701), "bob": lib.Account(2702),
         "mallory": lib.Account(2703)}
PIN = keys.PIN
WRONG_PIN = "864209"
LIMIT = 10.0            # seconds a refused login may take
SLOW_MS = 4000          # slow-sign: how long the token takes
SLOW_TTL = 2            # ... against this challenge_ttl

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "pamtester",
                                         "su", "setpriv"))
SOFTHSM = keys.need_softhsm()
SHIM_BUILT = os.path.join(build.top, "tests", "common", ".libs",
                          "p11shim.so")
if not os.path.exists(SHIM_BUILT):
    print("Bail out! not built: " + SHIM_BUILT)
    sys.exit(1)

pki = lib.PKI()
ALICE = pki.issue("alice", "rsa2048")
BOB = pki.issue("bob", "p256")
STRANGER = pki.issue("stranger", "rsa2048")     # a key bound to no one
STRANGER_EC = pki.issue("stranger-ec", "p256")
MALLORY = pki.issue("mallory", "rsa2048")
BIND = "/mnt/bindings"
lib.bind(BIND, "alice", ALICE)
lib.bind(BIND, "bob", BOB)

# SoftHSM2's store for pamtester (root): token 'hostile' with alice's
# RSA and bob's P-256 certificate and key, token 'mismatch' with each
# certificate under the id of a key that is not its own.
D = "/mnt/p11"
lib.make_dir(D, 0o700)
HSM = keys.SoftHSM(SOFTHSM, D)
os.environ.update(HSM.env)
os.environ["P11SHIM_TARGET"] = SOFTHSM
os.environ.pop("P11SHIM_MODE", None)
os.environ["HOME"] = D + "/home"
os.makedirs(os.environ["HOME"], 0o700)
HSM.init_token("hostile")
HSM.import_key("hostile", ALICE, "alice", "01", with_cert=True)
HSM.import_key("hostile", BOB, "bob", "02", with_cert=True)
HSM.init_token("mismatch")
HSM.import_key("mismatch", STRANGER, "alice", "01")
HSM.import_cert("mismatch", ALICE, "alice", "01")
HSM.import_key("mismatch", STRANGER_EC, "bob", "02")
HSM.import_cert("mismatch", BOB, "bob", "02")

# The shim where the safe-file rules let the module load it, and where
# they must not: group-writable, another owner, a world-writable
# directory, a link from a safe directory into that one.
MARK = D + "/loaded"
os.environ["P11SHIM_MARK"] = MARK
SAFE_DIR = "/mnt/p11mod"
SHIM = SAFE_DIR + "/p11shim.so"
WW_DIR = "/mnt/p11-ww"
lib.make_dir(SAFE_DIR, 0o755)
os.makedirs(WW_DIR)
os.chmod(WW_DIR, 0o1777)


def place(path, mode=0o644, uid=0):
    shutil.copy(SHIM_BUILT, path)
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return path


place(SHIM)
SHIM_GW = place(SAFE_DIR + "/p11shim-gw.so", 0o664)
SHIM_USER = place(SAFE_DIR + "/p11shim-mallory.so", 0o644,
                  USERS["mallory"].uid)
SHIM_WW = place(WW_DIR + "/p11shim.so")
OW_DIR = "/mnt/p11-ow"          # writable by others, not by the group
os.makedirs(OW_DIR)
os.chmod(OW_DIR, 0o757)
SHIM_OW = place(OW_DIR + "/p11shim.so")
SHIM_LINK = SAFE_DIR + "/p11shim-link.so"
os.symlink(SHIM_WW, SHIM_LINK)

BASE = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
        "bindings_dir=" + BIND]


def service(name, *args, mode="only", module=SHIM, uri="pkcs11:token=hostile"):
    """/etc/pam.d/<name>: the module in token mode, pam_permit after it
    (a PAM_IGNORE would log in)."""
    opts = BASE + ["pkcs11=" + mode]
    if module is not None:
        opts.append("pkcs11_module=" + module)
    if uri is not None:
        opts.append("pkcs11_uri=" + uri)
    return lib.service(name, build.module, opts + list(args),
                       extra_auth=["auth required pam_permit.so"])


ONLY = service("tok-only")
TRY = service("tok-try", mode="try")
SLOW = service("tok-slow", "challenge_ttl=%d" % SLOW_TTL)
REAL = service("tok-real", module=SOFTHSM, uri="pkcs11:token=mismatch")
REAL_TRY = service("tok-real-try", module=SOFTHSM, mode="try",
                   uri="pkcs11:token=mismatch")


# ------------------------------------------------------------ the driver

PIN_PROMPT = r"PIN for token '([^'\r\n]*)': "
CHALLENGE = r"certauth challenge: (\S+)"
RESPONSE = "certauth response: "


class Run:
    def __init__(self, svc):
        self.svc = svc
        self.pins = []          # the token labels the PIN was asked for
        self.challenges = []
        self.transcript = ""
        self.status = None
        self.signal = None
        self.elapsed = 0.0
        self.logs = []
        self.error = None

    def said(self):
        """What the module logged, each line without its prefix."""
        pat = re.compile(r"pam_certauth\(%s:auth\): (.*)$"
                         % re.escape(self.svc))
        out = []
        for line in lib.module_lines(self.logs):
            m = pat.search(line)
            if m:
                out.append(m.group(1))
        return out

    def diag(self, problems=()):
        lines = ["syslog: " + l for l in lib.module_lines(self.logs)] or [
            "syslog: (no pam_certauth line)"]
        lines.append("PIN asked for %r, %d challenges, exit %s, signal %s, "
                     "%.1f s" % (self.pins, len(self.challenges),
                                 self.status, self.signal, self.elapsed))
        lines += ["tty: " + l for l in
                  self.transcript.replace("\r", "").strip().splitlines()[-5:]]
        if self.error:
            lines.append("driver: " + self.error)
        lines += ["problem: " + p for p in problems]
        return lib.LogDiag("\n".join(lines))


def drive(argv, svc, env=None, pin=PIN, answer="", timeout=30):
    """argv on a pty of its own: the PIN typed at each PIN prompt, answer
    at each certauth response prompt.  Returns a Run."""
    import pexpect
    r = Run(svc)
    mark = ns.mark()
    t0 = time.time()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8",
                          timeout=timeout, codec_errors="replace")
    child.delaybeforesend = None
    pats = [PIN_PROMPT, CHALLENGE, re.escape(RESPONSE), pexpect.EOF]
    try:
        while True:
            i = child.expect(pats)
            r.transcript += child.before + (
                child.after if isinstance(child.after, str) else "")
            if i == 0:
                r.pins.append(child.match.group(1))
                child.sendline(pin)
            elif i == 1:
                r.challenges.append(child.match.group(1))
            elif i == 2:
                child.sendline(answer)
            else:
                break
    except pexpect.TIMEOUT:
        r.error = "timeout after %d s" % timeout
    child.close(force=True)
    r.elapsed = time.time() - t0
    r.status, r.signal = child.exitstatus, child.signalstatus
    r.logs = ns.logs_since(mark)
    RUNS.append(r)
    return r


RUNS = []


def pamtester(svc, user, shim_mode=None, pin=PIN, extra_env=None, wrap=()):
    """pamtester for user on service svc, the shim lying as shim_mode;
    wrap: an argv prefix (valgrind)."""
    env = dict(os.environ)
    env.pop("P11SHIM_MODE", None)
    if shim_mode is not None:
        env["P11SHIM_MODE"] = shim_mode
    env.update(extra_env or {})
    return drive(list(wrap) + ["pamtester", "-v", svc, user, "authenticate"],
                 svc, env, pin=pin)


def refused(name, r, line, pam="PAM_AUTH_ERR", pins=1, challenges=0,
            notes=(), limit=LIMIT, says=None):
    """r is a refusal: exit status not 0, pamtester's message for pam
    (or the line says), no signal, within limit seconds, and exactly the
    module's lines notes and then line (each a str, or a compiled regex
    matched whole); the PIN asked `pins` times and `challenges` typed
    challenges shown."""
    problems = []
    if r.error:
        problems.append(r.error)
    if r.signal is not None:
        problems.append("killed by signal %d" % r.signal)
    if r.status in (0, None):
        problems.append("exit status %r" % r.status)
    if lib.PAM_MSG["PAM_SUCCESS"] in r.transcript:
        problems.append("pamtester says it authenticated")
    says = says or "pamtester: " + lib.PAM_MSG[pam]
    if says not in r.transcript:
        problems.append("%r not said" % says)
    if r.elapsed > limit:
        problems.append("took %.1f s, over %.0f s" % (r.elapsed, limit))
    said = r.said()
    want = list(notes) + [line]
    if len(said) != len(want) or not all(
            (w.fullmatch(s) if hasattr(w, "fullmatch") else w == s)
            for w, s in zip(want, said)):
        problems.append("logged %r, wanted %r" % (said, want))
    if len(r.pins) != pins:
        problems.append("PIN asked %d times, wanted %d" % (len(r.pins), pins))
    if len(r.challenges) != challenges:
        problems.append("%d typed challenges, wanted %d"
                        % (len(r.challenges), challenges))
    tap.ok(not problems, name, r.diag(problems))


def logged_in(name, r, user, cert, label="hostile"):
    problems = []
    if r.status != 0 or r.signal is not None or r.error:
        problems.append("not logged in")
    said = r.said()
    if not any(s.startswith("user %s: the answer comes from token '%s', "
                            "certificate SHA256:%s" % (user, label,
                                                       cert.fingerprint))
               for s in said):
        problems.append("no line naming the token and certificate")
    if not any(s.startswith("user %s authenticated with certificate "
                            "SHA256:%s" % (user, cert.fingerprint))
               for s in said):
        problems.append("no success line")
    tap.ok(not problems, name, r.diag(problems))


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def mark_lines():
    return read_lines(MARK)


def user(u):
    return "user %s refused: token mode: " % u


# ------------------------------------------------------------- controls
r = pamtester(ONLY, "alice")
logged_in("control: the shim forwarding only, alice's RSA key on the "
          "token logs in", r, "alice", ALICE)
tap.ok(mark_lines() == ["loaded mode= uid=0 euid=0"],
       "control: the shim copied into %s is what the module loaded"
       % SAFE_DIR, "P11SHIM_MARK: %r" % mark_lines())
r = pamtester(ONLY, "bob")
logged_in("control: bob's P-256 key on the token logs in", r, "bob", BOB)
r = pamtester(ONLY, "alice", "final-try")
logged_in("control: one PIN try left and the right PIN typed: logs in",
          r, "alice", ALICE)

# ------------------------------------------------------------ the lies
A = user("alice")
B = user("bob")
refused("wrong PIN: refused, asked once", pamtester(ONLY, "alice",
                                                    pin=WRONG_PIN),
        A + "wrong PIN for token 'hostile'")
refused("locked: refused before any PIN is asked",
        pamtester(ONLY, "alice", "locked"),
        A + "the PIN of token 'hostile' is locked: it must be unblocked "
        "with its security officer PIN", pins=0)
refused("final-try and a wrong PIN: refused, the warning logged",
        pamtester(ONLY, "alice", "final-try", pin=WRONG_PIN),
        A + "wrong PIN for token 'hostile' (one try left before the PIN "
        "locks)")
NO_KEY = "token 'hostile' holds no private key matching pkcs11:token=hostile"
refused("no-login-required: no PIN asked, the hidden key not found",
        pamtester(ONLY, "alice", "no-login-required"), A + NO_KEY, pins=0)
refused("removed-at-login: refused",
        pamtester(ONLY, "alice", "removed-at-login"),
        A + "token 'hostile' was removed before the PIN could be checked")
refused("removed-at-sign: refused",
        pamtester(ONLY, "alice", "removed-at-sign"),
        A + "token 'hostile' was removed before it signed")


def passed_over(u, n, why):
    return "user %s: %d object%s on token 'hostile' passed over: %s" % (
        u, n, "" if n == 1 else "s", why)


NO_CERT = ("token 'hostile' holds no certificate bound to alice "
           "(0 certificates there, and unreadable objects)")
CERT_LIES = {
    "garbage-cert": "certificate object 2 on token 'hostile' is not one "
                    "DER certificate",
    "huge-cert": "certificate object 2 on token 'hostile' is larger than "
                 "65536 bytes",
    "big-cert": "certificate object 2 on token 'hostile' is larger than "
                "65536 bytes",
    "trailing-cert": "certificate object 2 on token 'hostile' is not one "
                     "DER certificate",
    "changing-length": "certificate object 2 on token 'hostile' changed "
                       "its length between two reads",
}
for mode, why in CERT_LIES.items():
    refused("%s: refused before any PIN is asked" % mode,
            pamtester(ONLY, "alice", mode), A + NO_CERT, pins=0,
            notes=[passed_over("alice", 2, why)])
refused("many-objects: refused before any PIN is asked",
        pamtester(ONLY, "alice", "many-objects"),
        A + "cannot search token 'hostile' for certificates", pins=0)
refused("many-slots: the module's slots not taken, refused before any PIN "
        "is asked", pamtester(ONLY, "alice", "many-slots"),
        A + "no token matches pkcs11:token=hostile: %s have no token "
        "present" % SHIM, pins=0)
refused("huge-sig: a signature announced at 1 GiB, refused",
        pamtester(ONLY, "alice", "huge-sig"),
        A + "token 'hostile' announced a signature of 1073741824 bytes (at "
        "most 4096 are taken)")
refused("growing-sig: alice's RSA signature said to be 64 bytes longer "
        "than its room, refused", pamtester(ONLY, "alice", "growing-sig"),
        A + "token 'hostile' said it wrote a signature of 320 bytes into "
        "room for 256")
refused("growing-sig: bob's P-256 signature said to be 64 bytes longer "
        "than its room, refused", pamtester(ONLY, "bob", "growing-sig"),
        B + "token 'hostile' said it wrote a signature of 128 bytes into "
        "room for 64")
refused("odd-ecdsa: bob's P-256 signature one byte short, refused",
        pamtester(ONLY, "bob", "odd-ecdsa"),
        B + "token 'hostile' returned an ECDSA signature of odd length 63")
SELF_CHECK = (r"the signature of token '%s' does not verify with its "
              r"certificate %s on the token \(a key that is not that "
              r"certificate's, or a damaged signature\): .+")
NOT_ITS = re.compile(re.escape(A) + SELF_CHECK % ("hostile", "[12]"))
NOT_ITS_B = re.compile(re.escape(B) + SELF_CHECK % ("hostile", "[12]"))
refused("short-sig: alice's RSA signature two bytes short, refused",
        pamtester(ONLY, "alice", "short-sig"), NOT_ITS)
refused("short-sig: bob's P-256 signature two bytes short, refused",
        pamtester(ONLY, "bob", "short-sig"), NOT_ITS_B)
refused("wrong-sig: alice's RSA signature with a bit flipped, refused",
        pamtester(ONLY, "alice", "wrong-sig"), NOT_ITS)
refused("wrong-sig: bob's P-256 signature with a bit flipped, refused",
        pamtester(ONLY, "bob", "wrong-sig"), NOT_ITS_B)
r = pamtester(SLOW, "alice", "slow-sign",
              extra_env={"P11SHIM_DELAY_MS": str(SLOW_MS)})
refused("slow-sign: a token that signs after %d ms is waited for (no "
        "deadline in a PKCS#11 call), then its late answer refused "
        "(challenge_ttl=%d)" % (SLOW_MS, SLOW_TTL), r,
        re.compile(r"user alice refused: response arrived after \d+ "
                   r"seconds, over challenge_ttl %d" % SLOW_TTL),
        notes=[re.compile(r"user alice: the answer comes from token "
                          r"'hostile', .*")],
        limit=SLOW_MS / 1000 + LIMIT)
tap.ok(r.elapsed >= SLOW_MS / 1000,
       "slow-sign: the login lasted the token's %d ms (%.1f s)"
       % (SLOW_MS, r.elapsed))

# pkcs11=try: "no usable certificate or key" asks the typed challenge
# (answered wrongly: refused); every other lie refuses at once.
FALLBACK = "user alice: token mode: %s; asking through the conversation"
BAD_ANSWER = "user alice refused: malformed response: no response"
for mode, why, pins, notes in (
        ("garbage-cert", NO_CERT, 0,
         [passed_over("alice", 2, CERT_LIES["garbage-cert"])]),
        ("no-login-required", NO_KEY, 0, [])):
    r = pamtester(TRY, "alice", mode)
    refused("pkcs11=try, %s: the typed challenge instead, a wrong answer "
            "refused" % mode, r, re.compile(r"user alice refused: .+"),
            pins=pins, challenges=1, notes=notes + [FALLBACK % why])
for mode, line, pins in (
        ("locked", "the PIN of token 'hostile' is locked: it must be "
         "unblocked with its security officer PIN", 0),
        ("many-objects", "cannot search token 'hostile' for "
         "certificates", 0),
        ("removed-at-sign", "token 'hostile' was removed before it "
         "signed", 1)):
    refused("pkcs11=try, %s: refused, no typed challenge" % mode,
            pamtester(TRY, "alice", mode), A + line, pins=pins)
refused("pkcs11=try, wrong-sig: refused, no typed challenge",
        pamtester(TRY, "alice", "wrong-sig"), NOT_ITS)

# The lies about lengths under valgrind's memcheck: refused, and no byte
# read that the token did not write.
VALGRIND = shutil.which("valgrind")
MEMCHECK = [
    ("alice", "growing-sig", "token 'hostile' said it wrote a signature of "
     "320 bytes into room for 256"),
    ("bob", "growing-sig", "token 'hostile' said it wrote a signature of "
     "128 bytes into room for 64"),
    ("alice", "many-slots", "no token matches pkcs11:token=hostile: %s have "
     "no token present" % SHIM),
    ("alice", "many-objects", "cannot search token 'hostile' for "
     "certificates"),
    ("alice", "changing-length", NO_CERT),
]
for u, mode, line in MEMCHECK:
    name = "memcheck, %s for %s" % (mode, u)
    if VALGRIND is None or "LD_PRELOAD" in os.environ:
        tap.skip(name, "no valgrind" if VALGRIND is None else
                 "a sanitizer runtime is preloaded")
        continue
    r = pamtester(ONLY, u, mode, wrap=[VALGRIND, "-q", "--error-exitcode=99"])
    refused(name + ": refused", r, user(u) + line,
            pins=1 if mode == "growing-sig" else 0, limit=120,
            notes=[passed_over(u, 2, CERT_LIES[mode])]
            if mode in CERT_LIES else [])
    errors = re.findall(r"(?m)^==\d+== .*$", r.transcript)
    tap.ok(r.status == 1 and not errors,
           name + ": no invalid read or other memory error",
           r.diag(errors[:8]))

# ------------------------------------------- real SoftHSM2, no shim
MISMATCH = (r"(the key on token 'mismatch' does not belong to the "
            r"certificate [12] on the token|" +
            SELF_CHECK % ("mismatch", "[12]") + ")")
MISMATCH_A = re.compile(re.escape(A) + MISMATCH)
MISMATCH_B = re.compile(re.escape(B) + MISMATCH)
refused("another RSA key under the id of alice's certificate: refused",
        pamtester(REAL, "alice"), MISMATCH_A)
refused("another P-256 key under the id of bob's certificate: refused",
        pamtester(REAL, "bob"), MISMATCH_B)
refused("pkcs11=try, another key under the certificate's id: refused, no "
        "typed challenge", pamtester(REAL_TRY, "alice"), MISMATCH_A)

# pkcs11_module that others may write: refused, never loaded.
for name, path, line, mode in (
        ("group-writable", SHIM_GW,
         "PKCS#11 module %s is group-writable" % SHIM_GW, "only"),
        ("owned by mallory", SHIM_USER,
         "PKCS#11 module %s is not owned by root (uid %d)"
         % (SHIM_USER, USERS["mallory"].uid), "only"),
        ("in a directory of mode 1777", SHIM_WW,
         "PKCS#11 module directory %s is group-writable" % WW_DIR, "only"),
        ("a link into a directory of mode 1777", SHIM_LINK,
         "directory %s is group-writable" % WW_DIR, "only"),
        ("in a directory of mode 0757", SHIM_OW,
         "PKCS#11 module directory %s is writable by others" % OW_DIR,
         "only"),
        ("in a directory of mode 1777, pkcs11=try", SHIM_WW,
         "PKCS#11 module directory %s is group-writable" % WW_DIR,
         "try")):
    before = mark_lines()
    svc = service("tok-unsafe", mode=mode, module=path)
    refused("pkcs11_module %s: refused" % name, pamtester(svc, "alice"),
            A + line, pins=0)
    tap.ok(mark_lines() == before,
           "pkcs11_module %s: the module was never loaded" % name,
           "P11SHIM_MARK: %r" % mark_lines()[len(before):])

before = mark_lines()
svc = service("tok-modpath", module=None,
              uri="pkcs11:token=hostile?module-path=" + SHIM_WW)
refused("module-path= in pkcs11_uri naming a module in a directory of "
        "mode 1777: a configuration error", pamtester(svc, "alice"),
        "configuration error: option pkcs11_uri: module-path is refused: "
        "name the module with pkcs11_module, which is checked as a file "
        "the module trusts", pam="PAM_SERVICE_ERR", pins=0)
tap.ok(mark_lines() == before,
       "module-path= in pkcs11_uri: the module was never loaded",
       "P11SHIM_MARK: %r" % mark_lines()[len(before):])

for attr, value in (("pin-value", PIN), ("pin-source", D + "/pin")):
    svc = service("tok-" + attr,
                  uri="pkcs11:token=hostile?%s=%s" % (attr, value))
    refused("%s in pkcs11_uri: a configuration error" % attr,
            pamtester(svc, "alice"),
            "configuration error: option pkcs11_uri: %s is refused: the "
            "PIN is asked through the conversation" % attr,
            pam="PAM_SERVICE_ERR", pins=0)
svc = service("tok-agent", "agent=try", mode="try")
refused("agent=try with pkcs11=try: a configuration error",
        pamtester(svc, "alice"),
        "configuration error: agent and pkcs11 cannot both be on: the "
        "ssh-agent answers for remote logins, a token for logins at this "
        "machine", pam="PAM_SERVICE_ERR", pins=0)


# ------------------------------------------- the caller of set-uid su
# mallory runs su to alice with SOFTHSM2_CONF naming a store of his own.
HOME = lib.MNT + "/home/mallory"
MUID = USERS["mallory"].uid
USER_MARK = HOME + "/loaded"
SU_REFUSED = "su: Authentication failure"
FORGED_LINE = re.compile(re.escape(A) + r"(the key on token 'mallory' does "
                         r"not belong to the certificate 1 on the token|" +
                         SELF_CHECK % ("mallory", "1") + ")")


def mallory_store(name, label, key, cert):
    """A SoftHSM2 store of mallory's: token label holding cert and key's
    private key under one id.  Returns its SOFTHSM2_CONF."""
    hsm = keys.SoftHSM(SOFTHSM, os.path.join(HOME, name))
    hsm.init_token(label)
    hsm.import_key(label, key, "card", "01")
    hsm.import_cert(label, cert, "card", "01")
    hsm.give(MUID)
    return hsm.conf


def su_service(module):
    """/etc/pam.d/su: token mode only, module (None: p11-kit's)."""
    args = BASE + ["pkcs11=only", "nodelay"] + (
        ["pkcs11_module=" + module] if module else [])
    with open(os.path.join(lib.PAMD, "su"), "w") as f:
        f.write("auth required %s %s\naccount required pam_permit.so\n"
                "session required pam_permit.so\n"
                % (build.module, " ".join(args)))


def as_mallory(conf, argv, env=()):
    """argv as mallory with a fresh environment, SOFTHSM2_CONF=conf and
    env added, as he could have it."""
    return ["setpriv", "--reuid=mallory", "--regid=mallory",
            "--init-groups", "--reset-env", "env",
            "SOFTHSM2_CONF=" + conf] + list(env) + argv


def su_as_mallory(conf, env=()):
    return drive(as_mallory(conf, ["su", "alice", "-c", "id -un"], env),
                 "su", env={"PATH": "/usr/bin:/bin", "TERM": "dumb"})


def su_output(r):
    return [l.strip() for l in r.transcript.replace("\r", "").splitlines()]


def su_refused(name, r):
    refused(name + ": refused", r, FORGED_LINE, says=SU_REFUSED)
    tap.ok("alice" not in su_output(r) and SU_REFUSED in su_output(r),
           name + ": alice not logged in", r.diag())


def front_door():
    forged = mallory_store("forged", "mallory", MALLORY, ALICE)
    lent = mallory_store("lent", "alice-card", ALICE, ALICE)
    su_service(SOFTHSM)
    r = su_as_mallory(lent)
    tap.ok(r.status == 0 and "alice" in su_output(r) and
           r.pins == ["alice-card"] and
           any(s.startswith("user alice authenticated with certificate "
                            "SHA256:" + ALICE.fingerprint)
               for s in r.said()),
           "control: su to alice with a token of the caller's that holds "
           "alice's own key logs in (SoftHSM2 in set-uid su reads the "
           "caller's SOFTHSM2_CONF)", r.diag())
    su_refused("su: mallory's token with alice's bound certificate and "
               "his own key under its id", su_as_mallory(forged))

    # p11-kit's module list of the caller's own (~/.config/pkcs11): read
    # when mallory runs p11-kit himself, not inside set-uid su.
    keys.p11kit_modules(SOFTHSM, lib.MNT + "/p11-kit-modules")
    mine = place(os.path.join(HOME, "mine.so"), 0o755, MUID)
    cfg = os.path.join(HOME, ".config", "pkcs11", "modules")
    os.makedirs(cfg)
    with open(os.path.join(cfg, "mine.module"), "w") as f:
        f.write("module: %s\n" % mine)
    for path in (os.path.join(HOME, ".config"), os.path.dirname(cfg), cfg,
                 os.path.join(cfg, "mine.module")):
        os.chown(path, MUID, MUID)
    env = ["P11SHIM_TARGET=" + SOFTHSM, "P11SHIM_MARK=" + USER_MARK]
    p = lib.run(as_mallory(forged, ["p11-kit", "list-modules"], env),
                check=False)
    seen = read_lines(USER_MARK)
    tap.ok(seen and all("euid=%d" % MUID in l for l in seen),
           "control: p11-kit run by mallory loads the module of his "
           "~/.config/pkcs11", "marks: %r\n%s%s" % (seen, p.stdout,
                                                    p.stderr))
    if os.path.exists(USER_MARK):
        os.unlink(USER_MARK)
    su_service(None)
    su_refused("su with p11-kit's modules: mallory's token through the "
               "system's module list", su_as_mallory(forged, env))
    tap.ok(not os.path.exists(USER_MARK),
           "su: p11-kit left mallory's ~/.config/pkcs11 module unloaded in "
           "the set-uid program", "marks: %r" % read_lines(USER_MARK))


if "LD_PRELOAD" in os.environ:
    # A sanitizer build of the module needs its runtime preloaded, which
    # a set-uid su does not take from its caller.
    tap.skip("the caller of set-uid su", "a sanitizer runtime is preloaded")
else:
    front_door()

leaks = [l for r in RUNS for l in r.logs if PIN in l or WRONG_PIN in l]
tap.ok(not leaks and RUNS, "no PIN in any syslog line (%d logins)"
       % len(RUNS), "\n".join(leaks[:5]))

sys.exit(tap.done())
