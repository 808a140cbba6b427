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
  pkcs11_uri=pkcs11:token=LABEL, the certificate bound to alice in
  bindings_dir, ca_file (the root) and chain_file (the intermediate),
  nodelay; the CRL variant adds crl_file= the intermediate's CRL, crl=leaf.
- pam_pkcs11 (Debian's, unpacked by scripts/deps): its configuration
  given by config_file=, pkcs11_module SoftHSM2's module, ca_dir of hash
  links (`openssl x509 -hash`) to the root and the intermediate,
  cert_policy = ca,signature; the CRL variant ca,signature,crl_offline
  with crl_dir holding a hash link (`openssl crl -hash`) to the same CRL;
  the cn mapper with a mapfile that maps each certificate alice owns to
  her.  It checks the leaf's CRL only, as crl=leaf does.

Timed: P-256 and RSA-2048 keys, each in N rounds after 10 warm-up
rounds; each round runs, in an order shuffled anew (fixed seed), one
login through each module and configuration, and the floors: pamtester
through pam_permit alone (the process, libpam, the conversation),
tests/bench/token_once (a fresh process that loads SoftHSM2, logs in and
signs once, printing the time of each phase) and /bin/true.  Every login
must succeed and must have asked its PIN; a failed one stops the bench
with its output.  Prints p50 and p99 of each and the ratio
pam_certauth/pam_pkcs11 (goal <= 0.5); never asserts a time.

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
    failed = {s: 0 for s in steps}
    for r in range(WARMUP + N):
        rng.shuffle(steps)
        for s in steps:
            if s in services:
                svc, prompt = services[s]
                x = drv.login(svc, PIN)
                ok = x.verdict == "PAM_SUCCESS" and prompt in x.proc.stderr
                t, out = x.seconds, x.output()
            else:
                p, t = drv.spawn(floors[s])
                ok, out = p.returncode == 0, p.stdout + p.stderr
                if ok and s == "token_once" and r >= WARMUP:
                    for k, us in zip(phases, p.stdout.split()):
                        phases[k].append(float(us) / 1000)
            if not ok:
                failed[s] += 1
                raise SystemExit(
                    "bench: %s %s failed in round %d (failed so far: %s); "
                    "nothing timed is reported:\n%s"
                    % (kind, s, r, {k: v for k, v in failed.items() if v},
                       out))
            if r >= WARMUP:
                times[s].append(t * 1000)
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
        time.sleep(0.05)
        a = drv.login("certauth-crl-" + label, pin, logs=True)
        b = drv.login("pkcs11-crl-debug", pin, logs=True)
        rows.append((case, a, b))
    return rows


def main():
    try:
        lib.preflight(("openssl", "mount", "umount", "pamtester"))
    except lib.SkipAll as e:
        print("bench: cannot run: %s" % e)
        return 1
    softhsm, why = keys.find_softhsm()
    pam_pkcs11 = find_pam_pkcs11()
    build = lib.Build()
    token_once = os.path.join(build.top, "tests", "bench", "token_once")
    verify_once = os.path.join(build.top, "tests", "bench", "verify_once")
    for p, what in ((softhsm, why), (pam_pkcs11, "pam_pkcs11.so not found "
                                     "(scripts/deps unpacks it)"),
                    (build.module if os.path.exists(build.module) else None,
                     "%s not built" % build.module),
                    (token_once if os.access(token_once, os.X_OK) else None,
                     "%s not built (make bench builds it)" % token_once),
                    (verify_once if os.access(verify_once, os.X_OK) else None,
                     "%s not built (make bench builds it)" % verify_once)):
        if p is None:
            print("bench: cannot run: %s" % what)
            return 1
    ns = lib.Namespace({USER: lib.Account(UID)})
    pki = lib.PKI()
    certs = {}
    for name, kind, opts in CERTS:
        certs[name] = pki.issue(name, kind, **opts)
    pki.revoke(certs["revoked"])
    pki.gencrl()
    lib.bind(BIND, USER, *[certs[n] for n, _, _ in CERTS if n != "stranger"])

    tokens = Tokens(softhsm)
    for name, _, _ in CERTS:
        tokens.make(name, certs[name])

    confs = pkcs11_setup(pki, softhsm)
    for variant, conf in confs.items():
        pam_service("pkcs11-" + variant,
                    ["auth required %s config_file=%s" % (pam_pkcs11, conf)])
    pam_service("pkcs11-crl-debug", ["auth required %s config_file=%s debug"
                                     % (pam_pkcs11, confs["crl"])])
    pam_service("permit", ["auth required pam_permit.so"])
    trust = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
             "bindings_dir=" + BIND]
    for name, _, _ in CERTS:
        token = ["pkcs11=only", "pkcs11_module=" + softhsm,
                 "pkcs11_uri=pkcs11:token=" + name]
        lib.service("certauth-ca-" + name, build.module, token + trust)
        lib.service("certauth-crl-" + name, build.module, token + trust +
                    ["crl_file=" + pki.crl, "crl=leaf"])

    drv = Driver(ns)
    ver = subprocess.run(["softhsm2-util", "--version"], capture_output=True,
                         text=True).stdout.strip()
    pkcs11_prompt = "Smart card PIN: "
    print("bench: token logins, whole pamtester processes (spawn to exit), "
          "PIN on stdin, SoftHSM2 %s; pam_pkcs11 %s; %d rounds after %d, "
          "steps shuffled each round" % (ver, pam_pkcs11, N, WARMUP))
    sys.stdout.flush()
    results = {}
    for kind, label in (("P-256", "p256"), ("RSA-2048", "rsa2048")):
        tokens.use(label)
        prompt = "PIN for token '%s': " % label
        services = {
            "certauth ca": ("certauth-ca-" + label, prompt),
            "pkcs11 ca": ("pkcs11-ca", pkcs11_prompt),
            "certauth crl": ("certauth-crl-" + label, prompt),
            "pkcs11 crl": ("pkcs11-crl", pkcs11_prompt),
            "permit": ("permit", ""),
        }
        sig = "%s/%s.sig" % (D, label)
        lib.run(["openssl", "dgst", "-sha256", "-sign", certs[label].key,
                 "-out", sig], input=MESSAGE)
        floors = {"token_once": [token_once, softhsm, label, PIN],
                  "verify_once": [verify_once, pki.ca, pki.chain, pki.crl,
                                  certs[label].cert, sig, MESSAGE],
                  "true": ["/bin/true"]}
        mark = ns.mark()
        t0 = time.monotonic()
        times, phases = bench_phase(drv, kind, services, floors)
        took = time.monotonic() - t0
        time.sleep(0.3)
        done = [l for l in lib.module_lines(ns.logs_since(mark))
                if " authenticated with certificate " in l]
        if len(done) != 2 * (N + WARMUP):
            raise SystemExit("bench: %s: pam_certauth logged %d successful "
                             "logins, not %d" % (kind, len(done),
                                                 2 * (N + WARMUP)))
        results[kind] = (times, phases, took)
    report(results)
    table(verdicts(drv, tokens))
    return 0


def report(results):
    print("bench: %-40s %9s %9s" % ("login (ms)", "p50", "p99"))
    names = (("certauth ca", "pam_certauth, ca"),
             ("pkcs11 ca", "pam_pkcs11, ca,signature"),
             ("certauth crl", "pam_certauth, ca + crl_file"),
             ("pkcs11 crl", "pam_pkcs11, ca,signature,crl_offline"),
             ("permit", "floor: pamtester, pam_permit"),
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
        print("bench:   floor of a token login (permit + token_once - true):"
              " %.2f ms; above it: pam_certauth %.2f / %.2f, pam_pkcs11 "
              "%.2f / %.2f (ca / crl)"
              % (floor, med["certauth ca"] - floor,
                 med["certauth crl"] - floor, med["pkcs11 ca"] - floor,
                 med["pkcs11 crl"] - floor))


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
    if unexpected:
        for who, case, x in unexpected:
            print("bench: UNEXPECTED: %s gave %s for %s:\n%s\n%s"
                  % (who, x.verdict, case, x.output(), "\n".join(x.logs)))
        raise SystemExit("bench: a verdict is not what it must be")


if __name__ == "__main__":
    sys.exit(main())
