"""Key sources for the e2e tests: a real ssh-agent loaded with ssh-add,
and SoftHSM2 tokens with keys imported by pkcs11-tool, reached directly
or through a module list of p11-kit's of our own.  Used by agent.py,
pkcs11.py, askpass.py and token_hostile.py."""

import glob
import os
import shutil
import subprocess
import time

import lib

# ------------------------------------------------------------ ssh-agent


def need_agent():
    """Skips the whole test without the OpenSSH client's agent tools."""
    for tool in ("ssh-agent", "ssh-add", "ssh-keygen"):
        if shutil.which(tool) is None:
            lib.skip_all("%s not installed (openssh-client)" % tool)


def ssh_key_file(cert, d):
    """A private key file ssh-add loads, for cert's key: the PEM itself
    for RSA and EC; for Ed25519, which ssh-add reads from no PEM, a copy
    in OpenSSH's own format made in directory d (mode 0600)."""
    if cert.kind != "ed25519":
        return cert.key
    from cryptography.hazmat.primitives import serialization as ser
    with open(cert.key, "rb") as f:
        k = ser.load_pem_private_key(f.read(), None)
    path = os.path.join(d, "%s.ossh" % cert.name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(k.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH,
                                ser.NoEncryption()))
    return path


class Agent:
    """ssh-agent in the foreground on socket sock, with env added to its
    environment; run_as: an argv prefix that runs it as another user
    (an agent answers only its own user and root)."""

    def __init__(self, sock, env=None, run_as=()):
        self.sock = sock
        argv = list(run_as) + ["env"] + [
            "%s=%s" % kv for kv in sorted((env or {}).items())] + [
            "ssh-agent", "-D", "-a", sock]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        for _ in range(200):
            if os.path.exists(sock):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("ssh-agent did not make %s: %s"
                           % (sock, self.proc.stderr.read().decode()))

    def add(self, *args):
        """ssh-add args, on this agent."""
        return lib.run(["ssh-add"] + list(args),
                       env=dict(os.environ, SSH_AUTH_SOCK=self.sock))

    def load(self, cert, d, *opts):
        """cert's key added (Ed25519 through a copy in d); returns its
        fingerprint as ssh-add -l shows it."""
        path = ssh_key_file(cert, d)
        self.add("-q", *(list(opts) + [path]))
        for line in self.add("-l").stdout.splitlines():
            f = line.split()
            if len(f) >= 3 and f[2] == path:
                return f[1]
        raise RuntimeError("no %s in ssh-add -l" % path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


# -------------------------------------------------------------- SoftHSM2

PIN, SO_PIN = "314159", "27182818"
SOFTHSM_PATHS = ("/usr/lib/softhsm/libsofthsm2.so",
                 "/usr/lib/*/softhsm/libsofthsm2.so",
                 "/usr/lib64/softhsm/libsofthsm2.so")


def find_softhsm():
    """(the path of SoftHSM2's PKCS#11 module, None), or (None, why it
    cannot be used)."""
    for tool in ("softhsm2-util", "pkcs11-tool"):
        if shutil.which(tool) is None:
            return None, "%s not installed (scripts/deps)" % tool
    for pattern in SOFTHSM_PATHS:
        for path in glob.glob(pattern):
            return path, None
    return None, "SoftHSM2's PKCS#11 module not found"


def need_softhsm():
    """The path of SoftHSM2's PKCS#11 module; skips the whole test
    without it or its tools."""
    path, why = find_softhsm()
    if path is None:
        lib.skip_all(why)
    return path


class SoftHSM:
    """SoftHSM2 keeping its tokens under directory d, as the
    configuration d/softhsm2.conf says; env names that file, for every
    program that opens the module."""

    def __init__(self, module, d):
        self.module, self.dir = module, d
        os.makedirs(d + "/tokens", 0o700, exist_ok=True)
        self.conf = d + "/softhsm2.conf"
        with open(self.conf, "w") as f:
            f.write("directories.tokendir = %s/tokens\n"
                    "objectstore.backend = file\nlog.level = ERROR\n" % d)
        self.env = {"SOFTHSM2_CONF": self.conf}

    def _run(self, argv):
        return lib.run(argv, env=dict(os.environ, **self.env))

    def tool(self, *args):
        """pkcs11-tool args, on SoftHSM2."""
        return self._run(["pkcs11-tool", "--module", self.module] +
                         list(args))

    def init_token(self, label):
        self._run(["softhsm2-util", "--init-token", "--free", "--label",
                   label, "--pin", PIN, "--so-pin", SO_PIN])

    def _der(self, path, kind):
        out = os.path.join(self.dir, os.path.basename(path) + ".der")
        lib.run(["openssl", kind, "-in", path, "-outform", "DER", "-out",
                 out])
        return out

    def import_key(self, token, cert, obj, oid, with_cert=False):
        """cert's private key onto token as object obj with id oid (hex),
        and with_cert: the certificate beside it."""
        login = ("--token-label", token, "--login", "--pin", PIN)
        self.tool(*login, "--write-object", self._der(cert.key, "pkey"),
                  "--type", "privkey", "--id", oid, "--label", obj)
        if with_cert:
            self.tool(*login, "--write-object", self._der(cert.cert, "x509"),
                      "--type", "cert", "--id", oid, "--label", obj)

    def import_cert(self, token, cert, obj, oid):
        """cert's certificate alone onto token as object obj with id oid
        (hex), whatever key the token holds under that id."""
        self.tool("--token-label", token, "--login", "--pin", PIN,
                  "--write-object", self._der(cert.cert, "x509"),
                  "--type", "cert", "--id", oid, "--label", obj)

    def create_object(self, token, attrs):
        """One object made on token with the attributes attrs, a list of
        (CKA_ number, value): an int is a CK_ULONG, a bool a CK_BBOOL,
        bytes as they are.  Made through the module's own C_CreateObject
        (ctypes), which takes values pkcs11-tool would refuse to write:
        a certificate object that holds no certificate, or one too big."""
        _p11_create(self.module, token, attrs, self.env)

    def give(self, uid):
        """Everything under d to user uid, whose programs open the
        tokens (SoftHSM2 writes to a token's files as it uses it)."""
        for root, dirs, files in os.walk(self.dir):
            for name in [root] + [os.path.join(root, n) for n in files]:
                os.chown(name, uid, uid)


# PKCS#11 constants of the objects tests make (pkcs11t.h).
CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL = 0x0, 0x1, 0x2, 0x3
CKA_VALUE, CKA_CERTIFICATE_TYPE = 0x11, 0x80
CKA_SUBJECT, CKA_ID = 0x101, 0x102
CKO_DATA, CKO_CERTIFICATE = 0, 1
CKC_X_509, CKC_X_509_ATTR_CERT = 0, 1


def _p11_create(module, token, attrs, env):
    """C_CreateObject on the token labelled token of module, logged in
    with PIN; the module reads env (SOFTHSM2_CONF) from os.environ."""
    import ctypes

    class Attr(ctypes.Structure):
        _fields_ = [("type", ctypes.c_ulong), ("value", ctypes.c_void_p),
                    ("len", ctypes.c_ulong)]

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    lib_ = ctypes.CDLL(module)
    ul = ctypes.c_ulong

    def check(what, rv):
        if rv != 0:
            raise RuntimeError("%s on token %s: CKR 0x%x" % (what, token, rv))

    check("C_Initialize", lib_.C_Initialize(None))
    try:
        n = ul(0)
        check("C_GetSlotList", lib_.C_GetSlotList(1, None, ctypes.byref(n)))
        slots = (ul * n.value)()
        check("C_GetSlotList", lib_.C_GetSlotList(1, slots, ctypes.byref(n)))
        slot = None
        for s in slots[:n.value]:
            info = ctypes.create_string_buffer(1024)  # CK_TOKEN_INFO
            if (lib_.C_GetTokenInfo(ul(s), info) == 0 and
                    info.raw[:32].rstrip(b" ") == token.encode()):
                slot = s
        if slot is None:
            raise RuntimeError("no token %s" % token)
        h = ul(0)
        check("C_OpenSession", lib_.C_OpenSession(ul(slot), ul(6), None,
                                                  None, ctypes.byref(h)))
        check("C_Login", lib_.C_Login(h, ul(1), PIN.encode(), ul(len(PIN))))
        keep, tmpl = [], (Attr * len(attrs))()
        for i, (t, v) in enumerate(attrs):
            if isinstance(v, bool):
                buf = ctypes.c_ubyte(1 if v else 0)
            elif isinstance(v, int):
                buf = ul(v)
            else:
                buf = ctypes.create_string_buffer(bytes(v), len(v))
            keep.append(buf)
            tmpl[i] = Attr(t, ctypes.cast(ctypes.pointer(buf),
                                          ctypes.c_void_p),
                           ctypes.sizeof(buf))
        obj = ul(0)
        check("C_CreateObject", lib_.C_CreateObject(
            h, tmpl, ul(len(attrs)), ctypes.byref(obj)))
        lib_.C_Logout(h)
        lib_.C_CloseSession(h)
    finally:
        lib_.C_Finalize(None)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def p11kit_modules(module, d):
    """p11-kit's configured modules in this namespace: module alone, by
    a module list in directory d mounted over the system's."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "softhsm2.module"), "w") as f:
        f.write("module: %s\n" % module)
    for sysdir in ("/usr/share/p11-kit/modules", "/etc/pkcs11/modules"):
        if os.path.isdir(sysdir):
            lib.mount("--bind", d, sysdir)
