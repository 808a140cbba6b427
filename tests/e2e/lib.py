"""Shared machinery for the end-to-end tests of pam_certauth.

Everything happens inside a private mount namespace of the test process, so
the host never changes: a tmpfs at /mnt holds the PKI, the bindings and the
service files; /etc/pam.d, /etc/passwd, /etc/group and /etc/shadow are
bind-mounted copies; /dev is a small tmpfs whose /dev/log is a socket of
ours, so the module's syslog lines can be asserted on.

Run with Debian's /usr/bin/python3 (it has python3-pexpect).
"""

import ctypes
import ctypes.util
import hashlib
import io
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time

CLONE_NEWNS = 0x00020000
MNT = "/mnt"
PKI_DIR = MNT + "/pki"
PAMD = MNT + "/pam.d"

# pam_strerror() texts that pamtester prints for the codes we assert on.
PAM_MSG = {
    "PAM_SUCCESS": "successfully authenticated",
    "PAM_AUTH_ERR": "Authentication failure",
    "PAM_SERVICE_ERR": "Error in service module",
    "PAM_AUTHINFO_UNAVAIL":
        "Authentication service cannot retrieve authentication info",
    "PAM_SYSTEM_ERR": "System error",
}


class SkipAll(Exception):
    """Raised when the suite cannot run here (not root, tool missing)."""


# ------------------------------------------------------------------ TAP


class Tap:
    """Minimal TAP producer; the plan is printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line)
        sys.stdout.flush()

    def ok(self, cond, name, diag=None, todo=None):
        """todo: the reason of a known failure (a TAP TODO directive)."""
        self.n += 1
        name = name.replace("#", "\\#")
        if todo is not None:
            name += " # TODO " + todo
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += todo is None
            print("not ok %d - %s" % (self.n, name))
        if diag is not None and (not cond or os.environ.get("E2E_VERBOSE")
                                 or isinstance(diag, LogDiag)):
            self.diag(diag)
        sys.stdout.flush()
        return bool(cond)

    def skip(self, name, reason, diag=None):
        """A case that ran but proves nothing here, with the reason."""
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name.replace("#", "\\#"),
                                        reason))
        if diag is not None:
            self.diag(diag)
        sys.stdout.flush()

    def done(self):
        """Print the plan.  Returns the exit status: 0 even when a case
        failed, since the "not ok" lines already say so and tap-driver
        would count a nonzero status as one more error."""
        print("1..%d" % self.n)
        if self.failed:
            print("# %d of %d failed" % (self.failed, self.n))
        sys.stdout.flush()
        return 0


class LogDiag(str):
    """A diagnostic that is always printed (the captured syslog line)."""


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.stdout.flush()
    sys.exit(0)


# ---------------------------------------------------------- environment


def run(argv, check=True, input=None, **kw):
    """Run a command; returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(argv, input=input, capture_output=True, text=True,
                       **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (
            " ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def mount(*args):
    run(["mount"] + list(args))


def builddir():
    d = os.environ.get("top_builddir")
    if not d:
        d = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                         "..", ".."))
    return os.path.abspath(d)


def srcdir():
    d = os.environ.get("top_srcdir")
    if not d:
        d = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                         "..", ".."))
    return os.path.abspath(d)


class Build:
    """Paths of the programs under test in the build directory."""

    def __init__(self, top=None):
        self.top = os.path.abspath(top or builddir())
        self.module = os.path.join(self.top, ".libs", "pam_certauth.so")
        self.sign = os.path.join(self.top, "certauth-sign")
        self.enroll = os.path.join(self.top, "certauth-enroll")

    def missing(self):
        return [p for p in (self.module, self.sign, self.enroll)
                if not os.path.exists(p)]


def _reachable_by_all(path):
    """Whether every directory from / down to path lets others through."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def user_bin(build):
    """A directory holding the build's programs that every user can reach:
    the build directory itself, or, below a private one (/root is 0700),
    copies in the test namespace's /mnt, for the tests that run them as a
    test user (ssh's askpass program, a user's shell)."""
    if _reachable_by_all(build.top):
        return build.top
    d = MNT + "/bin"
    if not os.path.isdir(d):
        os.makedirs(d, 0o755)
        for name in ("certauth-sign", "certauth-askpass", "certauth-enroll"):
            src = os.path.join(build.top, name)
            if os.path.exists(src):
                shutil.copy(src, d)
                os.chmod(os.path.join(d, name), 0o755)
    return d


def preflight(tools=("openssl", "mount", "pamtester")):
    """Skip the whole suite unless we are root and have the tools."""
    if os.geteuid() != 0:
        raise SkipAll("not root")
    for t in tools:
        if shutil.which(t) is None:
            raise SkipAll("%s not installed" % t)
    import importlib.util
    if importlib.util.find_spec("pexpect") is None:
        raise SkipAll("python3-pexpect not installed")


def default_config():
    """The configuration file the module reads without config=: under
    the sysconfdir it was configured with (make check exports it)."""
    return os.environ.get("sysconfdir", "/etc") + "/security/pam_certauth.conf"


def _unshare_mount_ns():
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        e = ctypes.get_errno()
        raise SkipAll("cannot create a mount namespace: %s" % os.strerror(e))
    mount("--make-rprivate", "/")


def _setup_dev():
    """A private /dev whose /dev/log we own.  The real /dev stays
    reachable at /mnt/.realdev for the nodes we bind back in."""
    real = MNT + "/.realdev"
    os.mkdir(real, 0o755)
    mount("--rbind", "/dev", real)
    mount("-t", "tmpfs", "-o", "mode=0755,nosuid", "certauth-dev", "/dev")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        src = os.path.join(real, name)
        if not os.path.exists(src):
            continue
        open("/dev/" + name, "w").close()
        mount("--bind", src, "/dev/" + name)
    os.mkdir("/dev/pts", 0o755)
    mount("--rbind", real + "/pts", "/dev/pts")
    # The devpts instance's own ptmx: a bind-mounted /dev/ptmx node
    # would not find its sibling pts directory.
    os.symlink("pts/ptmx", "/dev/ptmx")
    os.mkdir("/dev/shm", 0o1777)
    os.chmod("/dev/shm", 0o1777)
    if os.path.isdir(real + "/shm"):
        mount("--rbind", real + "/shm", "/dev/shm")
    os.symlink("/proc/self/fd", "/dev/fd")
    for i, n in enumerate(("stdin", "stdout", "stderr")):
        os.symlink("/proc/self/fd/%d" % i, "/dev/" + n)


class Account:
    """A test account that can really log in: /bin/sh as its shell, a home
    directory under /mnt/home and, when password is given, a password
    that pam_unix accepts.  Plain uids in a users dict make accounts
    that have none of these."""

    def __init__(self, uid, password=None, method="sha512"):
        self.uid = uid
        self.password = password
        self.method = method    # "sha512" or "yescrypt" (Debian's default)


def _password_hash(password, method="sha512"):
    if method == "yescrypt":
        libcrypt = ctypes.CDLL("libcrypt.so.1")
        libcrypt.crypt_gensalt.restype = ctypes.c_char_p
        libcrypt.crypt.restype = ctypes.c_char_p
        salt = libcrypt.crypt_gensalt(b"$y$", 0, None, 0)
        return libcrypt.crypt(password.encode(), salt).decode()
    return _ossl("passwd", "-6", "-salt", "certauthe2e",
                 password).stdout.strip()


def _setup_accounts(users):
    """Bind-mounted copies of passwd/group/shadow with the test users."""
    etc = MNT + "/etc"
    os.makedirs(etc, 0o755, exist_ok=True)
    files = {"passwd": [], "group": [], "shadow": []}
    for name, spec in users.items():
        home, shell, pw = "/nonexistent", "/usr/sbin/nologin", "!"
        uid = spec
        if isinstance(spec, Account):
            uid = spec.uid
            home, shell = "%s/home/%s" % (MNT, name), "/bin/sh"
            os.makedirs(home, 0o755)
            os.chown(home, uid, uid)
            if spec.password is not None:
                pw = _password_hash(spec.password, spec.method)
        files["passwd"].append("%s:x:%d:%d:%s test user:%s:%s\n"
                               % (name, uid, uid, name, home, shell))
        files["group"].append("%s:x:%d:\n" % (name, uid))
        files["shadow"].append("%s:%s:19000:0:99999:7:::\n" % (name, pw))
    for f, lines in files.items():
        src = "/etc/" + f
        dst = os.path.join(etc, f)
        shutil.copy2(src, dst)
        st = os.stat(src)
        os.chown(dst, st.st_uid, st.st_gid)
        with open(dst) as fh:
            have = fh.read()
        with open(dst, "a") as fh:
            if have and not have.endswith("\n"):
                fh.write("\n")
            fh.writelines(lines)
        mount("--bind", dst, src)


class SyslogCollector:
    """Datagrams on /dev/log, collected by a thread.  Messages are stored
    with the "<pri>timestamp tag: " header kept apart from the text."""

    HDR = re.compile(r"^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d )?(.*)$", re.S)

    def __init__(self, path="/dev/log"):
        self.path = path
        self.lock = threading.Lock()
        self.msgs = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.setblocking(False)
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _drain(self):
        with self.lock:
            while True:
                try:
                    data = self.sock.recv(65536)
                except BlockingIOError:
                    return
                text = data.decode("utf-8", "replace").rstrip("\0\n")
                m = self.HDR.match(text)
                pri, body = (int(m.group(1)), m.group(3)) if m else (-1, text)
                self.msgs.append((pri, body))

    def _loop(self):
        while not self.stop:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if r:
                self._drain()

    def mark(self):
        self._drain()
        with self.lock:
            return len(self.msgs)

    def since(self, mark):
        """Lines logged after mark (text only).  Everything a finished
        child wrote is already queued on the socket, so draining here
        makes the result complete."""
        self._drain()
        with self.lock:
            return [b for _, b in self.msgs[mark:]]

    def entries_since(self, mark):
        self._drain()
        with self.lock:
            return list(self.msgs[mark:])


class Namespace:
    """Set up once per test process.  users: name -> uid or Account."""

    def __init__(self, users):
        _unshare_mount_ns()
        os.umask(0o022)
        mount("-t", "tmpfs", "-o", "mode=0755", "certauth-e2e", MNT)
        os.makedirs(PAMD, 0o755)
        with open(os.path.join(PAMD, "other"), "w") as f:
            f.write("# anything not configured here is refused\n"
                    "auth required pam_deny.so\naccount required pam_deny.so\n"
                    "password required pam_deny.so\n"
                    "session required pam_deny.so\n")
        mount("--bind", PAMD, "/etc/pam.d")
        # A host-wide default configuration must not leak into the tests.
        conf = default_config()
        if os.path.exists(conf):
            mount("--bind", "/dev/null", conf)
        _setup_accounts(users)
        _setup_dev()
        self.log = SyslogCollector("/dev/log")
        self.users = dict(users)

    def logs_since(self, mark):
        return self.log.since(mark)

    def mark(self):
        return self.log.mark()


def module_lines(lines):
    """Only the lines pam_certauth wrote (pam_syslog prefixes them)."""
    return [l for l in lines if "pam_certauth" in l]


# ------------------------------------------------------------------ PKI


def _ossl(*args, **kw):
    return run(["openssl"] + list(args), **kw)


KEYGEN = {
    "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "p521": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    "ed25519": ["-algorithm", "ED25519"],
    "ed448": ["-algorithm", "ED448"],
}

EXT = """
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[v3_int]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_user]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_keyenc]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_self]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
"""

CA_CNF = """
[ca]
default_ca = int_ca

[int_ca]
dir = %(dir)s
database = $dir/index.txt
serial = $dir/serial
crlnumber = $dir/crlnumber
new_certs_dir = $dir/newcerts
certificate = $dir/int.pem
private_key = $dir/int.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes

[policy_any]
commonName = supplied
organizationName = optional

[req]
distinguished_name = dn
prompt = no

[dn]
CN = unused
""" + EXT


class Cert:
    def __init__(self, name, key, cert, kind):
        self.name = name
        self.key = key
        self.cert = cert
        self.kind = kind  # key type: rsa2048, p256, ...

    @property
    def fingerprint(self):
        out = _ossl("x509", "-in", self.cert, "-noout", "-fingerprint",
                    "-sha256").stdout
        return out.split("=", 1)[1].strip().replace(":", "").lower()

    @property
    def subject(self):
        return _ossl("x509", "-in", self.cert, "-noout", "-subject",
                     "-nameopt", "RFC2253").stdout.split("=", 1)[1].strip()


class PKI:
    """A root CA, an intermediate CA and leaf certificates, all made with
    the openssl command line in directory d (root-owned, 0755).

    int_aia: an OCSP URL for the intermediate's authorityInfoAccess.  The
    intermediate is then issued with `openssl ca` from a database of the
    root's own, whose index (root_index) an `openssl ocsp` responder for
    the root can serve; without it the intermediate has no AIA and the
    root no database."""

    def __init__(self, d=PKI_DIR, int_aia=None):
        self.dir = d
        self.root_index = None
        os.makedirs(d, 0o755, exist_ok=True)
        os.makedirs(d + "/newcerts", 0o755, exist_ok=True)
        open(d + "/index.txt", "w").close()
        with open(d + "/serial", "w") as f:
            f.write("1000\n")
        with open(d + "/crlnumber", "w") as f:
            f.write("01\n")
        self.cnf = d + "/ca.cnf"
        with open(self.cnf, "w") as f:
            f.write(CA_CNF % {"dir": d})
        self.root_key = d + "/root.key"
        self.root = d + "/root.pem"
        self.int_key = d + "/int.key"
        self.int = d + "/int.pem"
        self.crl = d + "/crl.pem"
        self.certs = {}
        self.keygen("rsa2048", self.root_key)
        _ossl("req", "-config", self.cnf, "-new", "-x509", "-key",
              self.root_key, "-subj", "/O=certauth e2e/CN=Test Root CA",
              "-days", "3650", "-sha256", "-extensions", "v3_root",
              "-out", self.root)
        self.keygen("p256", self.int_key)
        csr = d + "/int.csr"
        _ossl("req", "-config", self.cnf, "-new", "-key", self.int_key,
              "-subj", "/O=certauth e2e/CN=Test Intermediate CA",
              "-out", csr)
        if int_aia is None:
            _ossl("x509", "-req", "-in", csr, "-CA", self.root, "-CAkey",
                  self.root_key, "-set_serial", "4096", "-days", "3000",
                  "-sha256", "-extfile", self.cnf, "-extensions", "v3_int",
                  "-out", self.int)
        else:
            rootcnf = self._root_db("rootdb")
            self.root_index = d + "/rootdb/index.txt"
            extfile, section = self._with_aia("v3_int", int_aia)
            _ossl("ca", "-config", rootcnf, "-batch", "-notext", "-in", csr,
                  "-extfile", extfile, "-extensions", section, "-days",
                  "3000", "-out", self.int)
        # chain.pem: untrusted intermediates; ca.pem: the anchor only.
        shutil.copy(self.int, d + "/chain.pem")
        shutil.copy(self.root, d + "/ca.pem")
        self.chain = d + "/chain.pem"
        self.ca = d + "/ca.pem"

    def keygen(self, kind, path):
        _ossl("genpkey", *KEYGEN[kind], "-out", path)
        os.chmod(path, 0o600)

    def _root_db(self, name):
        """A database of the root CA for `openssl ca` in <dir>/<name>;
        returns its configuration file."""
        d = "%s/%s" % (self.dir, name)
        os.makedirs(d + "/newcerts", 0o755, exist_ok=True)
        open(d + "/index.txt", "w").close()
        with open(d + "/serial", "w") as f:
            f.write("1000\n")
        with open(d + "/crlnumber", "w") as f:
            f.write("01\n")
        cnf = d + "/ca.cnf"
        with open(cnf, "w") as f:
            f.write(CA_CNF.replace("$dir/int.pem", self.root)
                    .replace("$dir/int.key", self.root_key)
                    % {"dir": d})
        return cnf

    def _with_aia(self, ext, url):
        """An extension file holding section ext of EXT plus an
        authorityInfoAccess naming OCSP responder url; returns (file,
        section name)."""
        m = re.search(r"(?ms)^\[%s\]\n(.*?)(?=^\[|\Z)" % re.escape(ext), EXT)
        if m is None:
            raise ValueError("no extension section %s" % ext)
        section = ext + "_aia"
        path = "%s/%s-%s.cnf" % (self.dir, section, hashlib.sha256(
            url.encode()).hexdigest()[:12])
        with open(path, "w") as f:
            f.write("[%s]\n%sauthorityInfoAccess = OCSP;URI:%s\n"
                    % (section, m.group(1).rstrip("\n") + "\n", url))
        return path, section

    def issue(self, name, kind="p256", ext="v3_user", start=None, end=None,
              cn=None, aia=None, subject=None, pubkey=None):
        """A leaf signed by the intermediate with `openssl ca`; aia: an
        OCSP URL for its authorityInfoAccess; subject: its whole subject
        in -subj form, kept in that order (else O=certauth e2e and CN=cn
        or name, in the order of the CA's policy).  pubkey: a PEM public
        key file whose private half is elsewhere (on a token): the leaf
        certifies that key instead of a new one (see _issue_for)."""
        if pubkey is not None:
            return self._issue_for(name, kind, pubkey, ext, cn)
        key = "%s/%s.key" % (self.dir, name)
        csr = "%s/%s.csr" % (self.dir, name)
        pem = "%s/%s.pem" % (self.dir, name)
        self.keygen(kind, key)
        _ossl("req", "-config", self.cnf, "-new", "-key", key, "-subj",
              subject or "/O=certauth e2e/CN=%s" % (cn or name), "-out", csr)
        extfile = self.cnf
        if aia is not None:
            extfile, ext = self._with_aia(ext, aia)
        args = ["ca", "-config", self.cnf, "-batch", "-notext", "-in", csr,
                "-extfile", extfile, "-extensions", ext, "-out", pem]
        if subject:
            args.append("-preserveDN")
        if start:
            args += ["-startdate", start]
        if end:
            args += ["-enddate", end]
        else:
            args += ["-days", "365"]
        _ossl(*args)
        c = Cert(name, key, pem, kind)
        self.certs[name] = c
        return c

    def _issue_for(self, name, kind, pubkey, ext, cn):
        """A leaf for public key pubkey, signed by the intermediate with
        `openssl x509 -force_pubkey` (a request must be signed by its
        own key, which is not at hand).  It is not in the CA's database,
        so it cannot be revoked; its Cert has no key."""
        csr_key = "%s/%s.csr-key" % (self.dir, name)
        csr = "%s/%s.csr" % (self.dir, name)
        pem = "%s/%s.pem" % (self.dir, name)
        self.keygen("p256", csr_key)
        _ossl("req", "-config", self.cnf, "-new", "-key", csr_key, "-subj",
              "/O=certauth e2e/CN=%s" % (cn or name), "-out", csr)
        _ossl("x509", "-req", "-in", csr, "-CA", self.int, "-CAkey",
              self.int_key, "-force_pubkey", pubkey, "-set_serial",
              str(int.from_bytes(os.urandom(8), "big")), "-days", "365",
              "-sha256", "-extfile", self.cnf, "-extensions", ext,
              "-out", pem)
        c = Cert(name, None, pem, kind)
        self.certs[name] = c
        return c

    def self_signed(self, name, kind="p256"):
        key = "%s/%s.key" % (self.dir, name)
        pem = "%s/%s.pem" % (self.dir, name)
        self.keygen(kind, key)
        _ossl("req", "-config", self.cnf, "-new", "-x509", "-key", key,
              "-subj", "/O=certauth e2e/CN=%s self-signed" % name,
              "-days", "365", "-sha256", "-extensions", "v3_self",
              "-out", pem)
        c = Cert(name, key, pem, kind)
        self.certs[name] = c
        return c

    def encrypt_key(self, cert, passphrase):
        """An AES-256 encrypted copy of cert's key; returns its path and
        a file holding the passphrase."""
        pf = "%s/%s.pass" % (self.dir, cert.name)
        with open(pf, "w") as f:
            f.write(passphrase + "\n")
        os.chmod(pf, 0o600)
        enc = "%s/%s.enc.key" % (self.dir, cert.name)
        _ossl("pkey", "-in", cert.key, "-aes256", "-passout", "file:" + pf,
              "-out", enc)
        os.chmod(enc, 0o600)
        return enc, pf

    def revoke(self, cert):
        _ossl("ca", "-config", self.cnf, "-revoke", cert.cert,
              "-crl_reason", "keyCompromise")

    def root_crl(self, name, revoke_intermediate=False):
        """A CRL from the root CA (own database), optionally revoking the
        intermediate; returns its path."""
        cnf = self._root_db("rootdb-" + name)
        if revoke_intermediate:
            _ossl("ca", "-config", cnf, "-revoke", self.int,
                  "-crl_reason", "cACompromise")
        out = "%s/%s.crl.pem" % (self.dir, name)
        _ossl("ca", "-config", cnf, "-gencrl", "-crldays", "30", "-out", out)
        return out

    def gencrl(self):
        _ossl("ca", "-config", self.cnf, "-gencrl", "-crldays", "30",
              "-out", self.crl)
        return self.crl


def standard_pki():
    """The PKI every e2e test uses: good users of each key type and one
    certificate for each way a certificate can be bad."""
    p = PKI()
    p.issue("rsa2048", "rsa2048")
    p.issue("p256", "p256")
    p.issue("p384", "p384")
    p.issue("ed25519", "ed25519")
    p.issue("expired", "p256", start="200101000000Z", end="210101000000Z")
    p.issue("notyet", "p256", start="350101000000Z", end="360101000000Z")
    p.issue("serverauth", "p256", ext="v3_server")
    p.issue("keyenc", "rsa2048", ext="v3_keyenc")
    p.issue("revoked", "p256")
    p.issue("rsa1024", "rsa1024")
    p.self_signed("selfsigned", "p256")
    p.revoke(p.certs["revoked"])
    p.gencrl()
    return p


# ------------------------------------------------------------- bindings


def make_dir(path, mode=0o755):
    os.makedirs(path, mode, exist_ok=True)
    os.chmod(path, mode)
    os.chown(path, 0, 0)


def bind(bindings_dir, user, *certs, mode=0o644, comment=True):
    """Write <bindings_dir>/<user> with the PEM of each certificate."""
    make_dir(bindings_dir)
    path = os.path.join(bindings_dir, user)
    with open(path, "w") as f:
        if comment:
            f.write("# bindings for %s, written by the e2e tests\n" % user)
        for c in certs:
            with open(c.cert if isinstance(c, Cert) else c) as g:
                f.write(g.read())
    os.chown(path, 0, 0)
    os.chmod(path, mode)
    return path


def service(name, module, args, extra_auth=(), delay=False):
    """Write /etc/pam.d/<name> (inside the namespace).  The module gets
    nodelay unless delay is true: a failure then costs no 2 s wait, which
    is tested where it matters."""
    args = list(args) + ([] if delay else ["nodelay"])
    with open(os.path.join(PAMD, name), "w") as f:
        f.write("auth required %s %s\n" % (module, " ".join(args)))
        for line in extra_auth:
            f.write(line + "\n")
        f.write("account required pam_permit.so\n")
    return name


# -------------------------------------------------------------- answers


def ossl_sign(key, kind, digest="sha256", pss=False, prefix=None):
    """An answer function computing R exactly as docs/PROTOCOL.md, "Keys
    and digests", prints it for stock openssl (through a shell pipeline)."""
    def answer(c):
        if kind in ("ed25519", "ed448"):
            d = os.path.dirname(key)
            txt = os.path.join(d, ".c.txt")
            cmd = ("printf '%%s' \"$C\" > %s && openssl pkeyutl -sign -rawin"
                   " -inkey %s -in %s | openssl base64 -A" % (txt, key, txt))
        else:
            opt = " -sigopt rsa_padding_mode:pss" if pss else ""
            cmd = ("printf '%%s' \"$C\" | openssl dgst -%s -sign %s%s"
                   " | openssl base64 -A" % (digest, key, opt))
        env = dict(os.environ, C=c)
        out = run(["sh", "-c", cmd], env=env).stdout.strip()
        p = prefix if prefix is not None else (
            "" if digest == "sha256" else digest + ":")
        return p + out
    return answer


def tool_sign(build, key, host=None, digest=None, pss=False, stdin=False,
              pass_file=None):
    """An answer function using certauth-sign."""
    def answer(c):
        argv = [build.sign, "--key", key]
        if pass_file:
            argv += ["--pass-file", pass_file]
        if host:
            argv += ["--host", host]
        if digest:
            argv += ["--digest", digest]
        if pss:
            argv += ["--pss"]
        if stdin:
            p = run(argv, input="certauth challenge: " + c + "\n")
        else:
            p = run(argv + [c])
        return p.stdout.strip()
    return answer


def tool_sign_tty(build, key, passphrase, host=None):
    """certauth-sign on a terminal of its own, typing the passphrase of
    an encrypted key at its prompt."""
    import pexpect

    def answer(c):
        argv = ["--key", key] + (["--host", host] if host else []) + [c]
        child = pexpect.spawn(build.sign, argv, encoding="utf-8", timeout=10)
        child.expect(r"(?i)pass(phrase|word)")
        child.sendline(passphrase)
        child.expect(pexpect.EOF)
        child.close()
        if child.exitstatus != 0:
            raise RuntimeError("certauth-sign exited %s: %s"
                               % (child.exitstatus, child.before))
        lines = [l.strip() for l in child.before.splitlines() if l.strip()]
        return lines[-1] if lines else ""
    return answer


def const(text):
    return lambda c: text


# --------------------------------------------------------------- driver


class Login:
    """Result of one pamtester run."""

    def __init__(self):
        self.status = None
        self.transcript = ""
        self.challenge = None
        self.response = None
        self.logs = []
        self.error = None

    @property
    def ok(self):
        return self.status == 0 and PAM_MSG["PAM_SUCCESS"] in self.transcript

    def pam_says(self, code):
        return PAM_MSG[code] in self.transcript

    def log_text(self):
        return "\n".join(module_lines(self.logs)) or "(no pam_certauth line)"

    def diag(self):
        lines = ["syslog: " + l for l in module_lines(self.logs)]
        if not lines:
            lines = ["syslog: (no pam_certauth line)"]
        lines += [l.strip() for l in self.transcript.splitlines()
                  if l.startswith("pamtester:") and "invoking" not in l
                  and "performing" not in l]
        if self.error:
            lines.append("driver: " + self.error)
        return LogDiag("\n".join(lines))


def pamtester(ns, svc, user, answer, delay=0.0, timeout=15):
    """Run `pamtester -v svc user authenticate` on a pty.  When the
    module sends its challenge, answer(C) gives the response that is
    typed after `delay` seconds.  answer may be None to expect no
    challenge at all.  Returns a Login."""
    import pexpect
    res = Login()
    mark = ns.mark()
    child = pexpect.spawn("pamtester", ["-v", svc, user, "authenticate"],
                          encoding="utf-8", timeout=timeout,
                          codec_errors="replace")
    transcript = io.StringIO()
    child.logfile_read = transcript
    child.delaybeforesend = None
    try:
        i = child.expect([r"certauth challenge: (\S+)", pexpect.EOF])
        if i == 0:
            res.challenge = child.match.group(1)
            child.expect_exact("certauth response: ")
            if answer is None:
                res.response = ""
            else:
                res.response = answer(res.challenge)
            if delay:
                time.sleep(delay)
            send_line(child, res.response)
            child.expect(pexpect.EOF)
    except pexpect.TIMEOUT:
        res.error = "timeout"
    except Exception as e:  # the answer function failed, for instance
        res.error = "%s: %s" % (type(e).__name__, e)
    res.transcript = transcript.getvalue()
    child.close(force=True)
    res.status = child.exitstatus if child.exitstatus is not None else (
        128 + (child.signalstatus or 0))
    res.logs = ns.logs_since(mark)
    return res


def send_line(child, text):
    """Type a line on the pty.  Canonical mode holds at most 4095
    characters a line, so long lines are sent in pieces; the tty keeps
    what fits, which is what a user could type."""
    for i in range(0, len(text), 1024):
        child.send(text[i:i + 1024])
    child.send("\r")


def ocsp_helper(build):
    """The OCSP helper the module runs: the path configured at build time
    (libexecdir, which make check passes on), else the one in the build
    directory."""
    return (os.environ.get("ocsp_helper") or
            os.path.join(build.top, "certauth-ocsp-fetch"))


def _unfit_dir(path):
    """The first of path's directories, from its own up to "/", that the
    module would not run the helper from (not root-owned, or writable by
    group or others) or that user nobody cannot search; None if none."""
    d = os.path.dirname(os.path.realpath(path))
    while True:
        st = os.stat(d)
        if st.st_uid != 0 or st.st_mode & 0o022 or not st.st_mode & 0o001:
            return d
        if d == "/":
            return None
        d = os.path.dirname(d)


def need_ocsp_helper():
    """Skip the whole script unless the OCSP helper is where the module
    runs it from (the path configured at build time, libexecdir), in a
    directory the module accepts: a build configured to run in place
    (scripts/build) has it there; one that expects `make install` first
    (distcheck) cannot check OCSP."""
    configured = os.environ.get("ocsp_helper", "")
    if not configured:
        return
    if not os.path.exists(configured):
        skip_all("OCSP helper not at its configured path %s (build with "
                 "scripts/build, or make install first)" % configured)
    unfit = _unfit_dir(configured)
    if unfit is not None:
        skip_all("the module will not run the OCSP helper %s: directory %s "
                 "is not root-owned, is group/other-writable or shuts out "
                 "user nobody (build with scripts/build)"
                 % (configured, unfit))


def start(users, tools=("openssl", "mount", "pamtester")):
    """Common start of every e2e script: preflight, namespace, TAP."""
    try:
        preflight(tools)
        build = Build()
        missing = build.missing()
        if missing:
            print("Bail out! not built: " + " ".join(missing))
            sys.exit(1)
        ns = Namespace(users)
    except SkipAll as e:
        skip_all(str(e))
    return build, ns, Tap()


# ------------------------------------------------- libpam, without a tty


def libpam_login(ns, svc, user, answer):
    """Authenticate through libpam directly (ctypes) in a forked child,
    with a conversation function of ours.  Unlike a terminal, which
    holds 4095 characters a line, this delivers a response of any
    length to the module.  Returns a Login (status is the PAM code)."""
    import json
    res = Login()
    mark = ns.mark()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        out = {"rc": -1, "challenge": None, "error": None}
        try:
            out.update(_libpam_child(svc, user, answer))
        except Exception as e:  # report, never raise into the parent
            out["error"] = "%s: %s" % (type(e).__name__, e)
        os.write(wfd, json.dumps(out).encode())
        os._exit(0)
    os.close(wfd)
    data = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rfd)
    os.waitpid(pid, 0)
    try:
        out = json.loads(data.decode() or "{}")
    except ValueError:
        out = {"rc": -1, "error": "child died"}
    res.status = out.get("rc", -1)
    res.challenge = out.get("challenge")
    res.error = out.get("error")
    res.transcript = "pam_authenticate: %s\n" % out.get("strerror", "")
    res.logs = ns.logs_since(mark)
    return res


def _libpam_child(svc, user, answer):
    from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p,
                        c_int, c_size_t, c_void_p, cast, sizeof)

    class PamMessage(Structure):
        _fields_ = [("msg_style", c_int), ("msg", c_char_p)]

    class PamResponse(Structure):
        _fields_ = [("resp", c_void_p), ("resp_retcode", c_int)]

    conv_t = CFUNCTYPE(c_int, c_int, POINTER(POINTER(PamMessage)),
                       POINTER(POINTER(PamResponse)), c_void_p)

    class PamConv(Structure):
        _fields_ = [("conv", conv_t), ("appdata_ptr", c_void_p)]

    # The process's own calloc and strdup (CDLL(None): global lookup), so
    # that what the module frees comes from the allocator it frees with,
    # also when a sanitizer's runtime is preloaded.
    libc = ctypes.CDLL(None)
    libc.calloc.restype = c_void_p
    libc.calloc.argtypes = [c_size_t, c_size_t]
    libc.strdup.restype = c_void_p
    libc.strdup.argtypes = [c_char_p]
    pam = ctypes.CDLL("libpam.so.0")
    pam.pam_strerror.restype = c_char_p
    pam.pam_strerror.argtypes = [c_void_p, c_int]
    state = {"challenge": None}

    def conv(n, msgs, resp, _app):
        arr = libc.calloc(n, sizeof(PamResponse))
        if not arr:
            return 5  # PAM_BUF_ERR
        r = cast(arr, POINTER(PamResponse))
        for i in range(n):
            m = msgs[i].contents
            text = (m.msg or b"").decode("utf-8", "replace")
            if m.msg_style == 4 and "certauth challenge: " in text:
                state["challenge"] = text.split("certauth challenge: ",
                                                1)[1].strip()
            elif m.msg_style in (1, 2):  # PROMPT_ECHO_OFF / _ON
                a = answer(state["challenge"]) if answer else ""
                r[i].resp = libc.strdup(a.encode())
        resp[0] = r
        return 0

    cb = conv_t(conv)
    pc = PamConv(cb, None)
    h = c_void_p()
    rc = pam.pam_start(svc.encode(), user.encode(), byref(pc), byref(h))
    if rc != 0:
        return {"rc": rc, "strerror": "pam_start failed"}
    rc = pam.pam_authenticate(h, 0)
    s = pam.pam_strerror(h, rc).decode()
    pam.pam_end(h, rc)
    return {"rc": rc, "challenge": state["challenge"], "strerror": s}


# ------------------------------------------------- network, OCSP servers
#
# Used by ocsp.py.  Everything listens on 127.0.0.1 only (openssl ocsp
# takes a bare port and listens on every address; private_network() keeps
# that inside a network namespace of our own when the kernel allows).

CLONE_NEWNET = 0x40000000


def private_network():
    """Move this process (and its future children) into a network
    namespace of its own with only the loopback interface up, so the
    servers of a test are unreachable from outside and their ports cannot
    collide with the host's.  Returns True on success, False when the
    kernel refuses (the tests then run on the host's loopback)."""
    import fcntl
    import struct
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return False
    # ip link set lo up, without needing iproute2: SIOCGIFFLAGS and
    # SIOCSIFFLAGS with IFF_UP.  Failing here is fatal (no loopback).
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifr = fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0))
        flags = struct.unpack("16sh", ifr[:18])[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 0x1))
    finally:
        s.close()
    return True


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """True when a socket listens on TCP port (any address), read from
    /proc/net/tcp{,6} so that asking does not use up an accept()."""
    want = ":%04X" % port
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except OSError:
            continue
    return False


def wait_port(port, up=True, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if listening(port) == up:
            return True
        time.sleep(0.02)
    return False


def terminate(proc, grace=5):
    """Ends the server process proc: SIGTERM, SIGKILL after grace
    seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class OpensslOcsp:
    """`openssl ocsp` as a responder on port, in the background.  Its
    output goes to a log file next to the index (read it on failure)."""

    def __init__(self, index, port, ca, rsigner, rkey, ndays=1, extra=()):
        self.port = port
        self.argv = ["openssl", "ocsp", "-index", index, "-port", str(port),
                     "-CA", ca, "-rsigner", rsigner, "-rkey", rkey,
                     "-ndays", str(ndays)] + list(extra)
        # A malformed request would otherwise end the responder.
        self.argv.append("-ignore_err")
        self.logpath = "%s.ocsp-%d.log" % (index, port)
        self.proc = None
        self.url = "http://127.0.0.1:%d/" % port

    def start(self):
        if self.proc is not None:
            return self
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf)
        logf.close()
        if not wait_port(self.port, True):
            self.stop()
            raise RuntimeError("openssl ocsp did not listen on %d: %s"
                               % (self.port, self.log()))
        return self

    def stop(self):
        if self.proc is None:
            return
        terminate(self.proc)
        self.proc = None
        wait_port(self.port, False, 5)

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""


class TcpServer:
    """A threaded TCP server on 127.0.0.1 that counts connections and
    hands each to handler(conn) (which closes it or keeps it).  port 0
    picks a free port.  ssl_ctx, when given, wraps every connection
    (server side) before the handler sees it."""

    def __init__(self, handler, port=0, ssl_ctx=None):
        self.handler = handler
        self.ssl_ctx = ssl_ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/" % self.port
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = []     # whatever handlers record
        self.held = []         # connections kept open on purpose
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        try:
            if self.ssl_ctx is not None:
                conn.settimeout(5)
                conn = self.ssl_ctx.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            self.handler(self, conn)
        except Exception:   # a client that went away, a failed handshake
            try:
                conn.close()
            except OSError:
                pass

    def count(self):
        with self.lock:
            return self.connections

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.held:
            try:
                c.close()
            except OSError:
                pass
        self.held = []


def read_http_request(conn, limit=1 << 20):
    """(request line, headers dict, body) of one HTTP/1.x request read
    from conn; the body by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise EOFError("connection closed in the headers")
        data += chunk
        if len(data) > limit:
            raise ValueError("headers too long")
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return lines[0], headers, body[:n]


def http_reply(conn, status, body=b"", headers=(), length=True):
    """Write one HTTP/1.0 answer and close the connection.  length=False
    leaves out Content-Length (the body ends when the connection does)."""
    reason = {200: "OK", 301: "Moved Permanently", 302: "Found",
              307: "Temporary Redirect", 500: "Internal Server Error"}
    out = ["HTTP/1.0 %d %s" % (status, reason.get(status, "Status"))]
    out += ["%s: %s" % h for h in headers]
    if length:
        out.append("Content-Length: %d" % len(body))
    out.append("Connection: close")
    try:
        conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        if body:
            conn.sendall(body)
    except OSError:
        pass            # the client stopped reading: that is allowed
    finally:
        try:
            conn.close()
        except OSError:
            pass


def relay_to(port):
    """A TcpServer handler that pipes the connection to 127.0.0.1:port."""
    def handler(srv, conn):
        up = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks = [conn, up]
        try:
            while True:
                # An SSL socket may hold decrypted bytes select() can't see.
                pending = getattr(conn, "pending", lambda: 0)()
                r = [conn] if pending else select.select(socks, [], [],
                                                         10)[0]
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is conn else conn).sendall(data)
        finally:
            up.close()
            conn.close()
    return handler
