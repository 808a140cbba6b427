#!/usr/bin/python3
"""Benchmark: a login with the key on a PKCS#11 token, through
pam_certauth's token mode against Debian's pam_pkcs11, on the same
SoftHSM2 tokens, as whole `pamtester SERVICE alice authenticate`
processes with the PIN on standard input.

In this script's private mount namespace (tests/e2e/lib.py) a PKI of its
own issues the certificates, and one SoftHSM2 token per certificate holds
it beside its private key (tests/e2e/keys.py).  Every login reads SoftHSM2's
configuration from the same place (SOFTHSM2_CONF, and the system's
softhsm2.conf covered by a bind mount), whose token directory is a bind
mount of one token's: so each module sees that token alone, and the
script switches tokens between phases by mounting another.

The services:

- pam_certauth: pkcs11=only, pkcs11_module= SoftHSM2's module,
  pkcs11_uri=pkcs11:token=LABEL, a bindings_dir of the token's own in
  which alice owns that token's certificate (as a user with one token
  would), ca_file (the root) and chain_file (the intermediate), nodelay;
  the CRL variant adds crl_file= the intermediate's CRL and crl=leaf.
- pam_pkcs11 (Debian's, unpacked by scripts/deps): its configuration
  given by config_file=, pkcs11_module SoftHSM2's module, ca_dir of hash
  links (`openssl x509 -hash`) to the root and the intermediate,
  cert_policy = ca,signature; the CRL variant ca,signature,crl_offline
  with crl_dir holding a hash link (`openssl crl -hash`) to the same CRL;
  the cn mapper with a mapfile that maps each certificate alice owns to
  her.  It checks the leaf's CRL only, as crl=leaf does.  libpam applies
  no fail delay to it (it asks for none), nor to pam_certauth (nodelay).

Timed: P-256 and RSA-2048 keys, each in N rounds after 10 warm-up
rounds; each round runs, in an order shuffled anew (fixed seed), one
login through each module and configuration, and the floors, spawned the
same way:

- pamtester through pam_permit alone: the process, libpam, the
  conversation;
- pamtester through pam_permit (sufficient) stacked above each module:
  libpam loads the module and the libraries it links, and never calls it;
- tests/bench/token_once: a fresh process that loads SoftHSM2, logs in
  and signs once, printing the time of each phase: what any module
  pays the token;
- tests/bench/verify_once: a fresh process that loads OpenSSL and
  verifies a signature and the chain with the CRL once;
- /bin/true.

Every login must succeed and must have asked its PIN, and pam_certauth
must have logged each one; a failure ends the bench at the end of its
round with the count and the first failure's output, and no figure.
Prints p50 and p99 of each, the ratio pam_certauth/pam_pkcs11 (goal <=
0.5) and the floor of any token login (pam_permit's login plus
token_once, less /bin/true); never asserts a time.

Then a table of verdicts, the CRL configuration of each module on the
same tokens: good, revoked (in the CRL), expired, wrong EKU (serverAuth
only), unbound (valid, neither bound nor mapped to alice) and wrong PIN,
with the PAM result of each module; where they differ, the lines each
module logged (pam_pkcs11 with its debug option) say why.

Run as root, by `make bench` or:

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/bench/token_bench.py [N]

N (default: env BENCH_TOKEN_N, else 200).  BENCH_PAM_PKCS11 names another
pam_pkcs11.so.
"""

import ctypes
import glob
import os
import random
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import lib  # noqa: E402
import keys  # noqa: E402

N = int(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1]
        else os.environ.get("BENCH_TOKEN_N") or 200)
WARMUP = 10
SEED = 17
USER, UID = "alice", 2961
PIN, WRONG_PIN = keys.PIN, "000000"
PKCS11_PROMPT = "Smart card PIN: "    # its default token_type's
MESSAGE = "certauth:v1:bench:token:alice:1790000000:" + "A" * 43
D = "/mnt/token"
HSM_DIR = D + "/hsm"            # one SoftHSM2 directory per token
TOKENS = D + "/tokens"          # the token directory every login reads
CONF = D + "/softhsm2.conf"
BIND = D + "/bindings"
PKCS11_DIR = D + "/pam_pkcs11"
PAM_PKCS11_PATHS = ("/opt/pam_certauth-deps/pam_pkcs11/lib/*/security/"
                    "pam_pkcs11.so",
                    "/lib/*/security/pam_pkcs11.so",
                    "/usr/lib/*/security/pam_pkcs11.so")

# Linux-PAM's return codes in order (security/_pam_types.h).
PAM_NAMES = (
    "PAM_SUCCESS", "PAM_OPEN_ERR", "PAM_SYMBOL_ERR", "PAM_SERVICE_ERR",
    "PAM_SYSTEM_ERR", "PAM_BUF_ERR", "PAM_PERM_DENIED", "PAM_AUTH_ERR",
    "PAM_CRED_INSUFFICIENT", "PAM_AUTHINFO_UNAVAIL", "PAM_USER_UNKNOWN",
    "PAM_MAXTRIES", "PAM_NEW_AUTHTOK_REQD", "PAM_ACCT_EXPIRED",
    "PAM_SESSION_ERR", "PAM_CRED_UNAVAIL", "PAM_CRED_EXPIRED",
    "PAM_CRED_ERR", "PAM_NO_MODULE_DATA", "PAM_CONV_ERR", "PAM_AUTHTOK_ERR",
    "PAM_AUTHTOK_RECOVERY_ERR", "PAM_AUTHTOK_LOCK_BUSY",
    "PAM_AUTHTOK_DISABLE_AGING", "PAM_TRY_AGAIN", "PAM_IGNORE", "PAM_ABORT",
    "PAM_AUTHTOK_EXPIRED", "PAM_MODULE_UNKNOWN", "PAM_BAD_ITEM",
    "PAM_CONV_AGAIN", "PAM_INCOMPLETE")

# The certificates, each on a token of its name.  Every one but
# "stranger" is alice's: bound to her, mapped to her.
CERTS = (("p256", "p256", {}), ("rsa2048", "rsa2048", {}),
         ("revoked", "p256", {}),
         ("expired", "p256", {"start": "200101000000Z",
                              "end": "210101000000Z"}),
         ("servereku", "p256", {"ext": "v3_server"}),
         ("stranger", "p256", {}))
CASES = (("good", "p256", PIN), ("revoked (CRL)", "revoked", PIN),
         ("expired", "expired", PIN), ("wrong EKU", "servereku", PIN),
         ("unbound", "stranger", PIN), ("wrong PIN", "p256", WRONG_PIN))

PKCS11_CONF = """pam_pkcs11 {
  nullok = false;
  debug = false;
  use_first_pass = false;
  try_first_pass = false;
  card_only = false;
  wait_for_card = false;
  use_pkcs11_module = softhsm;
  pkcs11_module softhsm {
    module = %(module)s;
    description = "SoftHSM2";
    slot_num = 0;
    support_threads = false;
    ca_dir = %(dir)s/cacerts;
    crl_dir = %(dir)s/crls;
    cert_policy = %(policy)s;
  }
  use_mappers = cn;
  mapper cn {
    debug = false;
    module = internal;
    ignorecase = false;
    mapfile = file://%(dir)s/cn_mapping;
  }
}
"""


def pam_texts():
    """pam_strerror's text of each PAM code -> the code's name."""
    pam = ctypes.CDLL("libpam.so.0")
    pam.pam_strerror.restype = ctypes.c_char_p
    pam.pam_strerror.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return {pam.pam_strerror(None, i).decode(): name
            for i, name in enumerate(PAM_NAMES)}


def find_pam_pkcs11():
    env = os.environ.get("BENCH_PAM_PKCS11")
    if env:
        return env if os.path.exists(env) else None
    for pattern in PAM_PKCS11_PATHS:
        for path in sorted(glob.glob(pattern)):
            return path
    return None


def pct(xs, p):
    """Nearest-rank percentile p (0..1)."""
    xs = sorted(xs)
    k = max(1, int(-(-p * len(xs) // 1)))
    return xs[min(len(xs), k) - 1]


class Tokens:
    """SoftHSM2 tokens, one a directory, and the one every login sees."""

    def __init__(self, module):
        self.module = module
        self.hsm = {}
        self.current = None
        os.makedirs(TOKENS, 0o700)
        with open(CONF, "w") as f:
            f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                    "log.level = ERROR\n" % TOKENS)
        os.environ["SOFTHSM2_CONF"] = CONF
        # A process that reads the system's configuration reads ours.
        if os.path.exists("/etc/softhsm/softhsm2.conf"):
            lib.mount("--bind", CONF, "/etc/softhsm/softhsm2.conf")

    def make(self, label, cert):
        """A token labelled label holding cert and its key (id 01)."""
        h = keys.SoftHSM(self.module, "%s/%s" % (HSM_DIR, label))
        h.init_token(label)
        h.import_key(label, cert, "auth", "01", with_cert=True)
        self.hsm[label] = h

    def use(self, label):
        """From now on, every login sees token label alone."""
        if self.current == label:
            return
        if self.current is not None:
            lib.run(["umount", TOKENS])
        lib.mount("--bind", self.hsm[label].dir + "/tokens", TOKENS)
        self.current = label


def hash_link(d, pem, kind, suffix):
    """A link <hash>.<suffix>N to pem in directory d, as OpenSSL's hash
    directory lookup reads it (kind: x509 or crl)."""
    h = lib.run(["openssl", kind, "-hash", "-noout", "-in",
                 pem]).stdout.strip()
    for i in range(10):
        link = os.path.join(d, "%s.%s%d" % (h, suffix, i))
        if not os.path.lexists(link):
            os.symlink(pem, link)
            return link
    raise RuntimeError("too many links for hash %s" % h)


def pkcs11_setup(pki, softhsm):
    """pam_pkcs11's two configurations; returns {variant: config file}."""
    os.makedirs(PKCS11_DIR + "/cacerts", 0o755)
    os.makedirs(PKCS11_DIR + "/crls", 0o755)
    hash_link(PKCS11_DIR + "/cacerts", pki.ca, "x509", "")
    hash_link(PKCS11_DIR + "/cacerts", pki.chain, "x509", "")
    hash_link(PKCS11_DIR + "/crls", pki.crl, "crl", "r")
    with open(PKCS11_DIR + "/cn_mapping", "w") as f:
        for name, _, _ in CERTS:
            if name != "stranger":
                f.write("%s -> %s\n" % (name, USER))
    confs = {}
    for variant, policy in (("ca", "ca,signature"),
                            ("crl", "ca,signature,crl_offline")):
        path = "%s/%s.conf" % (PKCS11_DIR, variant)
        with open(path, "w") as f:
            f.write(PKCS11_CONF % {"module": softhsm, "dir": PKCS11_DIR,
                                   "policy": policy})
        confs[variant] = path
    return confs


def pam_service(name, lines):
    with open(os.path.join(lib.PAMD, name), "w") as f:
        f.write("".join(l + "\n" for l in lines))
        f.write("account required pam_permit.so\n")
    return name


class Login:
    """One pamtester run: its verdict (a PAM code's name), wall time,
    output, and what was logged meanwhile."""

    def __init__(self, verdict, seconds, proc, logs):
        self.verdict, self.seconds, self.proc = verdict, seconds, proc
        self.logs = logs

    def output(self):
        return (self.proc.stdout + self.proc.stderr).strip()


class Driver:
    def __init__(self, ns):
        self.ns = ns
        self.texts = pam_texts()
        self.env = dict(os.environ, LC_ALL="C")

    def verdict(self, p):
        """The PAM result pamtester printed, as a code's name."""
        said = [l[len("pamtester: "):].strip() for l in
                (p.stdout + p.stderr).splitlines()
                if l.startswith("pamtester: ")]
        if p.returncode == 0 and "successfully authenticated" in said:
            return "PAM_SUCCESS"
        for s in reversed(said):
            if s in self.texts:
                return self.texts[s]
        return "exit %d" % p.returncode

    def login(self, svc, pin, logs=False):
        mark = self.ns.mark() if logs else None
        t0 = time.perf_counter()
        p = subprocess.run(["pamtester", svc, USER, "authenticate"],
                           input=pin + "\n", capture_output=True, text=True,
                           env=self.env)
        t = time.perf_counter() - t0
        return Login(self.verdict(p), t, p,
                     self.ns.logs_since(mark) if logs else [])

    def spawn(self, argv):
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, env=self.env)
        return p, time.perf_counter() - t0


def bench_phase(drv, kind, services, floors):
    """N rounds (after WARMUP) of every step in a shuffled order.
    services: {step: (service, prompt)}; floors: {step: argv}.  Returns
    {step: [ms]}, {phase of token_once: [ms]}."""
    rng = random.Random("%d-%s" % (SEED, kind))
    steps = list(services) + list(floors)
    times = {s: [] for s in steps}
    phases = {p: [] for p in ("load", "init", "login", "sign", "finish")}
    failed, first = {}, None
    for r in range(WARMUP + N):
        rng.shuffle(steps)
        for s in steps:
            if s in services:
                svc, prompt = services[s]
                x = drv.login(svc, PIN)
                ok = x.verdict == "PAM_SUCCESS" and prompt in x.proc.stderr
                t, out = x.seconds, "%s: %s" % (x.verdict, x.output())
            else:
                p, t = drv.spawn(floors[s])
                ok, out = p.returncode == 0, p.stdout + p.stderr
                if ok and s == "token_once" and r >= WARMUP:
                    for k, us in zip(phases, p.stdout.split()):
                        phases[k].append(float(us) / 1000)
            if not ok:
                failed[s] = failed.get(s, 0) + 1
                first = first or "%s in round %d: %s" % (s, r, out)
            elif r >= WARMUP:
                times[s].append(t * 1000)
        # A failure's time is never a figure: the round ends, and the
        # bench with it.
        if failed:
            raise SystemExit("bench: %s: failed in round %d of %d: %s; "
                             "no figure is reported.  The first:\n%s"
                             % (kind, r + 1, WARMUP + N, ", ".join(
                                 "%s %d" % kv for kv in failed.items()),
                                first))
    return times, phases


def said(lines, keep, skip=None):
    """The lines that match keep and not skip, without their syslog
    program name and pam_syslog prefix, each once, in order."""
    out = []
    for l in lines:
        l = re.sub(r"^\S+: ", "", l.strip())
        l = re.sub(r"^pam_\w+\([^)]*\): ", "", l)
        if keep.search(l) and not (skip and skip.search(l)) \
                and l not in out:
            out.append(l)
    return out


def pkcs11_lines(x):
    """What pam_pkcs11 said of one login (with its debug option): its
    syslog lines of the certificate's checks and its messages to the
    user."""
    keep = re.compile(r"verif|valid|revoked|match|login\(\) failed|"
                      r"Error \d+|signature|expired|crl", re.I)
    skip = re.compile(r"Adding |hash dir|lookup|public key|hashing|"
                      r"failed: $|config file|- label|crl policy", re.I)
    return said([l for l in x.logs if "pam_certauth" not in l] +
                [l for l in x.proc.stdout.splitlines() if "Error " in l],
                keep, skip)


def certauth_lines(x):
    """What pam_certauth said of one login: its syslog lines, and what it
    told the user."""
    return said(lib.module_lines(x.logs) + [
        l for l in x.proc.stderr.splitlines()
        if "PIN for token" not in l and not l.startswith("pamtester:")],
        re.compile(r"\S"))


def verdicts(drv, tokens):
    """The table of verdicts, CRL configurations, with the logs of each
    login; returns the rows."""
    rows = []
    for case, label, pin in CASES:
        tokens.use(label)
        a = drv.login("certauth-crl-" + label, pin, logs=True)
        b = drv.login("pkcs11-crl-debug", pin, logs=True)
        rows.append((case, a, b))
    return rows


class Bench:
    """Everything the bench sets up: the namespace, the PKI, the tokens,
    the services and the floor programs."""

    def __init__(self, softhsm, pam_pkcs11, build):
        self.softhsm, self.pam_pkcs11, self.build = softhsm, pam_pkcs11, build
        bench = os.path.join(build.top, "tests", "bench")
        self.token_once = os.path.join(bench, "token_once")
        self.verify_once = os.path.join(bench, "verify_once")
        self.ns = lib.Namespace({USER: lib.Account(UID)})
        self.pki = pki = lib.PKI()
        self.certs = {}
        for name, kind, opts in CERTS:
            self.certs[name] = pki.issue(name, kind, **opts)
        pki.revoke(self.certs["revoked"])
        pki.gencrl()
        # Each token's services have bindings of their own, in which
        # alice owns that token's certificate alone, as a user with one
        # token would; for the stranger's token, another of hers.
        for name, _, _ in CERTS:
            lib.bind("%s/%s" % (BIND, name), USER,
                     self.certs["p256" if name == "stranger" else name])
        self.tokens = Tokens(softhsm)
        for name, _, _ in CERTS:
            self.tokens.make(name, self.certs[name])
        self.services()
        self.drv = Driver(self.ns)

    def services(self):
        pki, mod = self.pki, self.pam_pkcs11
        confs = pkcs11_setup(pki, self.softhsm)
        for variant, conf in confs.items():
            pam_service("pkcs11-" + variant,
                        ["auth required %s config_file=%s" % (mod, conf)])
        pam_service("pkcs11-crl-debug", ["auth required %s config_file=%s "
                                         "debug" % (mod, confs["crl"])])
        pam_service("permit", ["auth required pam_permit.so"])
        # The module loaded by libpam (with the libraries it links) and
        # never called: pam_permit before it is sufficient.
        for name, path in (("certauth", self.build.module), ("pkcs11", mod)):
            pam_service("load-" + name, ["auth sufficient pam_permit.so",
                                         "auth required %s" % path])
        for name, _, _ in CERTS:
            trust = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
                     "bindings_dir=%s/%s" % (BIND, name)]
            token = ["pkcs11=only", "pkcs11_module=" + self.softhsm,
                     "pkcs11_uri=pkcs11:token=" + name]
            lib.service("certauth-ca-" + name, self.build.module,
                        token + trust)
            lib.service("certauth-crl-" + name, self.build.module,
                        token + trust + ["crl_file=" + pki.crl, "crl=leaf"])

    def steps(self, label):
        """The logins ({step: (service, prompt)}) and the floors ({step:
        argv}) of a round with token label."""
        prompt = "PIN for token '%s': " % label
        services = {
            "certauth ca": ("certauth-ca-" + label, prompt),
            "pkcs11 ca": ("pkcs11-ca", PKCS11_PROMPT),
            "certauth crl": ("certauth-crl-" + label, prompt),
            "pkcs11 crl": ("pkcs11-crl", PKCS11_PROMPT),
            "permit": ("permit", ""),
            "load certauth": ("load-certauth", ""),
            "load pkcs11": ("load-pkcs11", ""),
        }
        sig = "%s/%s.sig" % (D, label)
        lib.run(["openssl", "dgst", "-sha256", "-sign", self.certs[label].key,
                 "-out", sig], input=MESSAGE)
        floors = {
            "token_once": [self.token_once, self.softhsm, label, PIN],
            "verify_once": [self.verify_once, self.pki.ca, self.pki.chain,
                            self.pki.crl, self.certs[label].cert, sig,
                            MESSAGE],
            "true": ["/bin/true"]}
        return services, floors


def find_all():
    """(SoftHSM2's module, pam_pkcs11.so, Build), or None when the bench
    cannot run here (said why)."""
    try:
        lib.preflight(("openssl", "mount", "umount", "pamtester"))
    except lib.SkipAll as e:
        print("bench: cannot run: %s" % e)
        return None
    softhsm, why = keys.find_softhsm()
    pam_pkcs11 = find_pam_pkcs11()
    build = lib.Build()
    bench = os.path.join(build.top, "tests", "bench")
    for p, what in ((softhsm, why), (pam_pkcs11, "pam_pkcs11.so not found "
                                     "(scripts/deps unpacks it)"),
                    (os.path.exists(build.module),
                     "%s not built" % build.module),
                    (os.access(bench + "/token_once", os.X_OK),
                     "%s/token_once not built (make bench builds it)"
                     % bench),
                    (os.access(bench + "/verify_once", os.X_OK),
                     "%s/verify_once not built (make bench builds it)"
                     % bench)):
        if not p:
            print("bench: cannot run: %s" % what)
            return None
    return softhsm, pam_pkcs11, build


def main():
    found = find_all()
    if found is None:
        return 1
    b = Bench(*found)
    ver = subprocess.run(["softhsm2-util", "--version"], capture_output=True,
                         text=True).stdout.strip()
    print("bench: token logins, whole pamtester processes (spawn to exit), "
          "PIN on stdin, SoftHSM2 %s; pam_pkcs11 %s; %d rounds after %d, "
          "steps shuffled each round" % (ver, b.pam_pkcs11, N, WARMUP))
    sys.stdout.flush()
    results = {}
    for kind, label in (("P-256", "p256"), ("RSA-2048", "rsa2048")):
        b.tokens.use(label)
        services, floors = b.steps(label)
        mark = b.ns.mark()
        t0 = time.monotonic()
        times, phases = bench_phase(b.drv, kind, services, floors)
        took = time.monotonic() - t0
        time.sleep(0.3)
        done = [l for l in lib.module_lines(b.ns.logs_since(mark))
                if " authenticated with certificate " in l]
        if len(done) != 2 * (N + WARMUP):
            raise SystemExit("bench: %s: pam_certauth logged %d successful "
                             "logins, not %d" % (kind, len(done),
                                                 2 * (N + WARMUP)))
        results[kind] = (times, phases, took)
    report(results)
    table(verdicts(b.drv, b.tokens))
    return 0


def report(results):
    print("bench: %-40s %9s %9s" % ("login (ms)", "p50", "p99"))
    names = (("certauth ca", "pam_certauth, ca"),
             ("pkcs11 ca", "pam_pkcs11, ca,signature"),
             ("certauth crl", "pam_certauth, ca + crl_file"),
             ("pkcs11 crl", "pam_pkcs11, ca,signature,crl_offline"),
             ("permit", "floor: pamtester, pam_permit"),
             ("load certauth", "floor: pamtester, pam_certauth loaded"),
             ("load pkcs11", "floor: pamtester, pam_pkcs11 loaded"),
             ("token_once", "floor: token_once (load+login+sign)"),
             ("verify_once", "floor: verify_once (OpenSSL checks)"),
             ("true", "floor: /bin/true"))
    for kind, (times, phases, took) in results.items():
        print("bench: %s, %d rounds in %.0f s" % (kind, N, took))
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, name in names:
            print("bench:   %-38s %9.2f %9.2f" % (name, med[k],
                                                 pct(times[k], 0.99)))
        print("bench:   token_once's phases, p50 ms: %s" % ", ".join(
            "%s %.2f" % (k, statistics.median(v)) for k, v in phases.items()))
        for v in ("ca", "crl"):
            print("bench:   certauth/pkcs11 (%s): p50 %.2f, p99 %.2f "
                  "(goal <= 0.5)"
                  % (v, med["certauth " + v] / med["pkcs11 " + v],
                     pct(times["certauth " + v], 0.99) /
                     pct(times["pkcs11 " + v], 0.99)))
        floor = med["permit"] + med["token_once"] - med["true"]
        print("bench:   floor of any token login (pamtester with pam_permit "
              "+ token_once - /bin/true): %.2f ms = %.2f x pam_pkcs11 (ca)"
              % (floor, floor / med["pkcs11 ca"]))
        print("bench:   above that floor: pam_certauth %.2f / %.2f, "
              "pam_pkcs11 %.2f / %.2f ms (ca / crl)"
              % (med["certauth ca"] - floor, med["certauth crl"] - floor,
                 med["pkcs11 ca"] - floor, med["pkcs11 crl"] - floor))
        print("bench:   parts: loading the module and its libraries "
              "(loaded - pam_permit): pam_certauth %.2f, pam_pkcs11 %.2f ms; "
              "OpenSSL's checks alone in a fresh process (verify_once - "
              "/bin/true): %.2f ms"
              % (med["load certauth"] - med["permit"],
                 med["load pkcs11"] - med["permit"],
                 med["verify_once"] - med["true"]))


def reading(a, b):
    """One sentence on why the verdicts of a (pam_certauth) and b
    (pam_pkcs11) differ, from the lines each logged."""
    why_a = ([l for l in certauth_lines(a) if "refused" in l] or
             certauth_lines(a) or ["nothing logged"])[-1]
    lines_b = pkcs11_lines(b) or ["nothing logged"]
    why_b = ([l for l in lines_b if re.search(
        r"has been revoked|has expired|does not match|login\(\) failed|"
        r"is invalid|not yet valid|failed: \S", l)] or lines_b)[0]
    if a.verdict != "PAM_SUCCESS" and b.verdict != "PAM_SUCCESS":
        return ("both refuse, with other codes: pam_certauth %s (\"%s\"), "
                "pam_pkcs11 %s (\"%s\", then \"%s\")"
                % (a.verdict, why_a, b.verdict, why_b, lines_b[-1]))
    if b.verdict == "PAM_SUCCESS":
        return ("pam_pkcs11 accepts what pam_certauth refuses (\"%s\"): "
                "nothing it logged concerns that (it logged \"%s\" and "
                "went on to \"%s\")" % (why_a, lines_b[0], lines_b[-1]))
    return ("pam_certauth accepts what pam_pkcs11 refuses (\"%s\"); "
            "pam_certauth logged \"%s\"" % (why_b, why_a))


def table(rows):
    print("bench: verdicts, CRL configurations, the same tokens:")
    print("bench: %-15s | %-22s | %-22s" % ("case", "pam_certauth",
                                             "pam_pkcs11"))
    unexpected = []
    for case, a, b in rows:
        print("bench: %-15s | %-22s | %-22s%s"
              % (case, a.verdict, b.verdict,
                 "" if a.verdict == b.verdict else "  (differ)"))
        if (case == "good") != (a.verdict == "PAM_SUCCESS"):
            unexpected.append(("pam_certauth", case, a))
        if case == "good" and b.verdict != "PAM_SUCCESS":
            unexpected.append(("pam_pkcs11", case, b))
    for case, a, b in rows:
        if a.verdict == b.verdict:
            continue
        print("bench: why %s differs:" % case)
        for l in certauth_lines(a) or ["(nothing logged)"]:
            print("bench:   pam_certauth: %s" % l)
        for l in pkcs11_lines(b) or ["(nothing logged)"]:
            print("bench:   pam_pkcs11:   %s" % l)
        print("bench:   so: %s" % reading(a, b))
    if unexpected:
        for who, case, x in unexpected:
            print("bench: UNEXPECTED: %s gave %s for %s:\n%s\n%s"
                  % (who, x.verdict, case, x.output(), "\n".join(x.logs)))
        raise SystemExit("bench: a verdict is not what it must be")


if __name__ == "__main__":
    sys.exit(main())
