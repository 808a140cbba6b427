"""A real OpenLDAP slapd for the end-to-end tests of the LDAP binding
source.

Each Slapd is one slapd process with everything of its own under one
directory: slapd.conf (schemas core, cosine, nis and inetorgperson from
/etc/ldap/schema, modules from /usr/lib/ldap), an mdb database, a server
certificate issued by a test CA, a log file.  The host's /etc/ldap/slapd.d
and /etc/ldap/ldap.conf are never used: slapd runs with -f and -h, every
client tool with LDAPNOINIT=1 and explicit options.

slapd listens on a loopback address of the test's private network
namespace only (lib.private_network()): ldaps:// on one port and ldap://
on another, StartTLS offered there and cleartext accepted, so that the
client's own refusal of cleartext can be tested.  The host name of its
URIs is mapped to that address in the test's private /etc/hosts
(add_host(), the bind-mounted /mnt/hosts of examples.py).

The directory under base (dc=example,dc=org by default):

    base                       anonymous read
    cn=reader,base             the bind DN (simple bind with bind_pw)
    ou=people,base             the accounts (posixAccount, inetOrgPerson),
                               anonymous read unless anonymous_read=False
    userPassword               nobody reads it; anonymous may bind with it

The fixture itself writes as the rootdn (cn=admin,base) over ldap:// to
the IP address, never through the host name or TLS, so that what a test
does to names and certificates cannot break its own set-up.

slapd runs in the foreground (-d) as a child of the test: stop(),
pause() (SIGSTOP) and resume() (SIGCONT) act on that exact process; it is
stopped at exit (atexit), by a with block, and killed by the kernel if
the test process dies first (PR_SET_PDEATHSIG).  It runs as root inside
the test's namespaces, so the clone may be anywhere (/root is 0700).

    import slapd
    d = slapd.Slapd(lib.MNT + "/ldap", pki)
    d.start()
    d.add_user("alice", [alice_der])
    ... ldap_uri=d.uri ldap_base=d.base ldap_ca_file=d.ca_file ...
"""

import atexit
import base64
import ctypes
import ctypes.util
import hashlib
import os
import random
import signal
import subprocess
import time

import lib

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SLAPMODIFY = "/usr/sbin/slapmodify"
MODULE_DIR = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")
TOOLS = ("ldapsearch", "ldapadd", "ldapmodify", "ldapdelete")

LDAPS_PORT = 636
LDAP_PORT = 389
# other_ca_server()'s ports when it shares the first server's address.
OTHER_LDAPS_PORT = 1636
OTHER_LDAP_PORT = 1389

DEFAULT_CERT_ATTR = "userCertificate;binary"
FIRST_UID_NUMBER = 20000     # add_user's accounts
BULK_UID_NUMBER = 100000     # bulk_load's accounts: BULK_UID_NUMBER + i
START_TIMEOUT = 20.0
STOP_GRACE = 10.0

_LIVE = []      # every started Slapd, stopped at exit


@atexit.register
def _stop_live():
    for d in list(_LIVE):
        d.stop()


def missing_tools():
    """The programs the fixture needs that are not installed; a test
    skips itself when the list is not empty."""
    import shutil
    out = [p for p in (SLAPD, SLAPADD, SLAPMODIFY)
           if not os.access(p, os.X_OK)]
    out += [t for t in TOOLS if shutil.which(t) is None]
    if not os.path.exists(os.path.join(MODULE_DIR, "back_mdb.la")):
        out.append(os.path.join(MODULE_DIR, "back_mdb.la"))
    return out


# ------------------------------------------------------------ namespaces


def _private_net():
    """Whether this process has a network namespace of its own: not pid
    1's, or, where pid 1's cannot be looked at, one with no interface
    but the loopback (what lib.private_network() makes)."""
    try:
        return os.stat("/proc/self/ns/net").st_ino != \
            os.stat("/proc/1/ns/net").st_ino
    except PermissionError:
        import socket
        return [n for _, n in socket.if_nameindex()] == ["lo"]


def _in_test_namespace():
    """Whether lib.Namespace set up this process: its tmpfs is on
    lib.MNT, mounted after the mount namespace was made private."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[4] == lib.MNT and fields[sep + 2] == "certauth-e2e":
                return True
    return False


def add_host(ip, *names):
    """Map names to ip in this test's /etc/hosts, the way examples.py
    does it: /etc/hosts is the bind-mounted lib.MNT/hosts (a copy of the
    host's, made and mounted on first use), and the line is appended to
    it.  Only inside lib.Namespace's private mount namespace.  A line
    already there is not written twice."""
    if not _in_test_namespace():
        raise RuntimeError("add_host: not inside the test's private mount "
                           "namespace (lib.Namespace); /etc/hosts is the "
                           "host's")
    path = lib.MNT + "/hosts"
    if not (os.path.exists(path) and os.path.samefile(path, "/etc/hosts")):
        with open("/etc/hosts") as f:
            have = f.read()
        if have and not have.endswith("\n"):
            have += "\n"
        with open(path, "w") as f:
            f.write(have)
        os.chown(path, 0, 0)
        os.chmod(path, 0o644)
        lib.mount("--bind", path, "/etc/hosts")
    line = "%s %s\n" % (ip, " ".join(names))
    with open(path) as f:
        if line in f.read().splitlines(keepends=True):
            return
    # Appending keeps the inode, so the bind mount sees the new line.
    with open(path, "a") as f:
        f.write(line)


# ------------------------------------------------------------ LDIF


def _safe_string(v):
    """RFC 2849 SAFE-STRING: what may follow "attr: " unencoded."""
    if not v:
        return True
    if v[0] in b" :<" or v[-1:] == b" ":
        return False
    return all(0 < c < 0x80 and c not in (0x0a, 0x0d) for c in v)


def _line(name, value):
    if isinstance(value, str):
        value = value.encode()
    if _safe_string(value):
        return "%s: %s\n" % (name, value.decode())
    return "%s:: %s\n" % (name, base64.b64encode(value).decode())


def ldif_entry(dn, attrs):
    """One LDIF record: dn and a list of (attribute, value) pairs, each
    value str or bytes (written base64 when not a plain string)."""
    out = [_line("dn", dn)]
    out += [_line(a, v) for a, v in attrs]
    return "".join(out) + "\n"


def dn_value(value):
    """value escaped for an RDN (RFC 4514)."""
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;=' or (i == 0 and ch in "# ") or \
                (i == len(value) - 1 and ch == " "):
            out.append("\\" + ch)
        elif ch == "\0":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)


def ssha(password):
    """An {SSHA} userPassword value for password."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _values(v):
    if isinstance(v, (str, bytes)):
        return [v]
    return list(v)


# ------------------------------------------------------------ clients


def client_env():
    """The environment of the ldap-utils tools: LDAPNOINIT=1, so neither
    /etc/ldap/ldap.conf nor ~/.ldaprc nor LDAP* variables apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAP")}
    env["LDAPNOINIT"] = "1"
    return env


def ldap_tool(argv, input=None, timeout=30):
    """Run one ldap-utils command (a list); returns a CompletedProcess
    with bytes stdout and stderr, returncode -9 when timeout killed it."""
    try:
        return subprocess.run(argv, input=input, capture_output=True,
                              env=client_env(), timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(argv, -9, e.stdout or b"",
                                           (e.stderr or b"") + b"(killed)")


def parse_ldif(text):
    """The entries of ldapsearch -LLL output as a list of (dn, {attribute
    as written: [bytes values]}).  Folded lines joined, base64 decoded."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    entries = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = []
        for raw in block.split("\n"):
            if raw.startswith(" ") and lines:
                lines[-1] += raw[1:]
            elif raw and not raw.startswith("#"):
                lines.append(raw)
        if not lines:
            continue
        dn, attrs = None, {}
        for l in lines:
            name, _, rest = l.partition(":")
            if rest.startswith(":"):
                value = base64.b64decode(rest[1:].strip())
            else:
                value = rest.lstrip(" ").encode()
            if dn is None and name.lower() == "dn":
                dn = value.decode("utf-8", "replace")
            else:
                attrs.setdefault(name, []).append(value)
        entries.append((dn, attrs))
    return entries


# ------------------------------------------------------------ the server


class Slapd:
    """One slapd under directory tmpdir (created).  ca: the lib.PKI whose
    intermediate issues the server certificate (its root is ca_file);
    None makes a PKI of its own under tmpdir/pki.  tls=False: no ldaps://
    listener and no certificate (StartTLS then unsupported), .uri None.
    host: the name in the URIs and in the certificate's subjectAltName
    (the only name there: connecting by address fails the host name
    check); ip: the loopback address slapd listens on.  anonymous_read:
    whether anonymous clients may read ou=people (else only bound ones).
    hosts: whether start() maps host to ip in /etc/hosts (add_host)."""

    def __init__(self, tmpdir, ca=None, *, tls=True, host="ldap.test",
                 ip="127.0.0.2", base="dc=example,dc=org",
                 ldaps_port=LDAPS_PORT, ldap_port=LDAP_PORT,
                 anonymous_read=True, hosts=True):
        self.dir = os.path.abspath(tmpdir)
        self.tls = tls
        self.host = host
        self.ip = ip
        self.base = base
        self.ldaps_port = ldaps_port
        self.ldap_port = ldap_port
        self.anonymous_read = anonymous_read
        self.hosts = hosts
        self.uri = "ldaps://%s:%d" % (host, ldaps_port) if tls else None
        self.uri_plain = "ldap://%s:%d" % (host, ldap_port)
        self.people = "ou=people," + base
        self.bind_dn = "cn=reader," + base
        self.bind_pw = "reader-" + os.urandom(6).hex()
        self.root_dn = "cn=admin," + base
        self.root_pw = "admin-" + os.urandom(6).hex()
        self.proc = None
        self.paused = False
        self._records = {}        # dn -> [(attribute, value)] added
        self._ous = {"people"}
        self._next_uid = FIRST_UID_NUMBER
        self._loaded = False      # the base entries are in the database
        lib.make_dir(self.dir, 0o700)
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.db = os.path.join(self.dir, "db")
        self.logpath = os.path.join(self.dir, "slapd.log")
        self.root_pw_file = os.path.join(self.dir, "root.pw")
        self.bind_pw_file = os.path.join(self.dir, "bind.pw")
        _write(self.root_pw_file, self.root_pw, 0o600)
        _write(self.bind_pw_file, self.bind_pw, 0o600)
        if ca is None:
            ca = lib.PKI(os.path.join(self.dir, "pki"))
        self.ca = ca
        self.ca_file = ca.ca
        self.cert_file = self.key_file = None
        if tls:
            self._server_cert()
        self._write_conf()

    # ------------------------------------------------ set-up

    def _server_cert(self):
        """A P-256 server certificate from the CA's intermediate naming
        host in its subjectAltName, with the intermediate after it in
        cert_file (slapd sends the chain; ca_file holds the root only)."""
        d = self.dir
        self.key_file = os.path.join(d, "server.key")
        csr = os.path.join(d, "server.csr")
        leaf = os.path.join(d, "server-leaf.pem")
        ext = os.path.join(d, "server-ext.cnf")
        self.cert_file = os.path.join(d, "server.pem")
        _write(ext, "[v3_ldap]\n"
               "basicConstraints = critical, CA:FALSE\n"
               "keyUsage = critical, digitalSignature\n"
               "extendedKeyUsage = serverAuth\n"
               "subjectKeyIdentifier = hash\n"
               "authorityKeyIdentifier = keyid\n"
               "subjectAltName = DNS:%s\n" % self.host)
        self.ca.keygen("p256", self.key_file)
        lib.run(["openssl", "req", "-new", "-key", self.key_file, "-subj",
                 "/O=certauth e2e/CN=%s" % self.host, "-out", csr])
        lib.run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca.int,
                 "-CAkey", self.ca.int_key, "-set_serial",
                 str(int.from_bytes(os.urandom(8), "big")), "-days", "365",
                 "-sha256", "-extfile", ext, "-extensions", "v3_ldap",
                 "-out", leaf])
        with open(leaf) as f, open(self.ca.int) as g:
            _write(self.cert_file, f.read() + g.read())

    def _write_conf(self):
        base, people = self.base, self.people
        read = "by * read" if self.anonymous_read else \
            "by users read\n    by * none"
        lines = ["# slapd of the e2e tests, written by tests/e2e/slapd.py"]
        lines += ["include %s/%s.schema" % (SCHEMA_DIR, s) for s in SCHEMAS]
        lines += [
            "modulepath %s" % MODULE_DIR,
            "moduleload back_mdb",
            "pidfile %s/slapd.pid" % self.dir,
            "argsfile %s/slapd.args" % self.dir,
            # Nothing to syslog (the test owns /dev/log); -d writes the
            # operations to the log file instead.
            "loglevel 0",
            "tool-threads 2",
        ]
        if self.tls:
            lines += [
                "TLSCACertificateFile %s" % self.ca_file,
                "TLSCertificateFile %s" % self.cert_file,
                "TLSCertificateKeyFile %s" % self.key_file,
                "TLSVerifyClient never",
            ]
        lines += [
            # Cleartext binds and searches are allowed on ldap:// so that
            # the client's refusal is what tests see.
            "security ssf=0",
            # The root DSE and the schema: what StartTLS and tools read.
            'access to dn.base="" by * read',
            'access to dn.base="cn=Subschema" by * read',
            "",
            "database mdb",
            'suffix "%s"' % base,
            'rootdn "%s"' % self.root_dn,
            "rootpw %s" % ssha(self.root_pw),
            "directory %s" % self.db,
            "maxsize 4294967296",
            "dbnosync",
            "index objectClass eq",
            "index uid eq",
            # Passwords: never read, only bound with.
            "access to attrs=userPassword\n    by anonymous auth\n"
            "    by * none",
            'access to dn.subtree="%s"\n    %s' % (people, read),
            'access to dn.base="%s"\n    by * read' % base,
            "access to *\n    by users read\n    by * none",
        ]
        _write(self.conf, "\n".join(lines) + "\n", 0o600)

    def _base_ldif(self):
        rdn = self.base.split(",", 1)[0]
        kind, _, value = rdn.partition("=")
        kind = kind.strip().lower()
        if kind == "dc":
            attrs = [("objectClass", "top"), ("objectClass", "dcObject"),
                     ("objectClass", "organization"), ("dc", value),
                     ("o", value)]
        elif kind == "o":
            attrs = [("objectClass", "top"), ("objectClass", "organization"),
                     ("o", value)]
        elif kind == "ou":
            attrs = [("objectClass", "top"),
                     ("objectClass", "organizationalUnit"), ("ou", value)]
        else:
            raise ValueError("base %s: the first RDN must be dc=, o= or ou="
                             % self.base)
        out = [ldif_entry(self.base, attrs), self._ou_ldif("people"),
               ldif_entry(self.bind_dn, [
                   ("objectClass", "top"), ("objectClass", "person"),
                   ("cn", "reader"), ("sn", "reader"),
                   ("description", "the bind DN of the tests"),
                   ("userPassword", ssha(self.bind_pw))])]
        return "".join(out)

    def _ou_ldif(self, ou):
        return ldif_entry("ou=%s,%s" % (dn_value(ou), self.base), [
            ("objectClass", "top"), ("objectClass", "organizationalUnit"),
            ("ou", ou)])

    def _slapadd(self, ldif):
        """Load LDIF (bytes) into the database while slapd is stopped;
        quick mode (-q): the input is ours and well formed."""
        p = subprocess.run([SLAPADD, "-q", "-f", self.conf, "-b", self.base],
                           input=ldif, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("slapadd failed (%d): %s" % (
                p.returncode, p.stderr.decode("utf-8", "replace")[-3000:]))

    def _init_db(self):
        """The database with the base entries (and, for a copy made by
        other_ca_server, the accounts added to the original)."""
        if self._loaded:
            return
        lib.make_dir(self.db, 0o700)
        ldif = self._base_ldif() + "".join(
            ldif_entry(dn, attrs) for dn, attrs in self._records.items())
        self._slapadd(ldif.encode())
        self._loaded = True

    # ------------------------------------------------ the process

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def listen_uris(self):
        uris = ["ldap://%s:%d/" % (self.ip, self.ldap_port)]
        if self.tls:
            uris.insert(0, "ldaps://%s:%d/" % (self.ip, self.ldaps_port))
        return uris

    def start(self):
        """Start slapd and wait until it answers on every listener.
        Raises RuntimeError (with the end of its log) when it does not.
        Only inside a private network namespace: slapd listens on fixed
        loopback ports."""
        if self.running:
            return self
        if not _private_net():
            raise RuntimeError("Slapd.start: not inside a private network "
                               "namespace (call lib.private_network())")
        if self.hosts:
            add_host(self.ip, self.host)
        self._init_db()
        log = open(self.logpath, "ab")
        argv = [SLAPD, "-f", self.conf, "-h", " ".join(self.listen_uris()),
                "-d", "stats"]
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         preexec_fn=_die_with_parent,
                                         env=client_env())
        finally:
            log.close()
        self.paused = False
        _LIVE.append(self)
        if not self._wait_ready():
            tail = self.log()
            self.stop()
            raise RuntimeError("slapd did not start: %s" % tail)
        return self

    def _wait_ready(self):
        ports = [self.ldap_port] + ([self.ldaps_port] if self.tls else [])
        end = time.time() + START_TIMEOUT
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            if all(lib.listening(p) for p in ports):
                break
            time.sleep(0.02)
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            p = self.admin_search("(objectClass=*)", scope="base",
                                  timeout=max(end - time.time(), 1))
            if p.returncode == 0:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """End slapd (SIGTERM, SIGKILL after STOP_GRACE) and wait until
        its ports are closed.  Harmless when it is not running."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if self.paused:
                os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.paused = False
        if self in _LIVE:
            _LIVE.remove(self)
        for port in (self.ldap_port, self.ldaps_port if self.tls else None):
            if port is not None:
                lib.wait_port(port, False, 5)

    def pause(self):
        """SIGSTOP slapd; returns once every thread is stopped.  Its
        sockets stay open: connections are accepted by the kernel and
        then nothing answers."""
        self._signal(signal.SIGSTOP, stopped=True)
        self.paused = True

    def resume(self):
        """SIGCONT after pause()."""
        self._signal(signal.SIGCONT, stopped=False)
        self.paused = False

    def _signal(self, sig, stopped):
        if not self.running:
            raise RuntimeError("slapd is not running")
        os.kill(self.proc.pid, sig)
        end = time.time() + 5
        while time.time() < end:
            if _is_stopped(self.proc.pid) == stopped:
                return
            time.sleep(0.01)
        raise RuntimeError("slapd (pid %d) did not %s" % (
            self.proc.pid, "stop" if stopped else "continue"))

    def log(self, n=3000):
        """The end of slapd's log (the -d stats output)."""
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ------------------------------------------------ clients

    def admin_uri(self):
        return "ldap://%s:%d" % (self.ip, self.ldap_port)

    def _admin(self, tool, args=(), input=None, timeout=30):
        argv = [tool, "-H", self.admin_uri(), "-x", "-D", self.root_dn,
                "-y", self.root_pw_file, "-o", "nettimeout=10"] + list(args)
        return ldap_tool(argv, input=input, timeout=timeout)

    def _admin_ok(self, tool, args=(), input=None):
        p = self._admin(tool, args, input)
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (
                tool, p.returncode, p.stderr.decode("utf-8", "replace")))
        return p

    def admin_search(self, filt, attrs=(), base=None, scope="sub",
                     timeout=30):
        """ldapsearch as the rootdn over ldap:// to the address."""
        return self._admin("ldapsearch", ["-LLL", "-b", base or self.base,
                                          "-s", scope, filt] + list(attrs),
                           timeout=timeout)

    def search(self, filt, attrs=(), *, uri=None, starttls=False,
               ca_file=None, bind=None, base=None, scope="sub",
               nettimeout=5, timeout=30, extra=()):
        """ldapsearch as a client would: uri (default .uri, else
        .uri_plain), StartTLS demanded (-ZZ) when starttls, the server
        certificate checked against ca_file (default .ca_file), bind
        (dn, password) or anonymous.  Returns the CompletedProcess
        (bytes); parse_ldif() reads its stdout."""
        uri = uri or self.uri or self.uri_plain
        argv = ["ldapsearch", "-LLL", "-H", uri, "-x",
                "-o", "nettimeout=%s" % nettimeout,
                "-o", "TLS_CACERT=%s" % (ca_file or self.ca_file),
                "-o", "TLS_REQCERT=demand",
                "-b", base or self.base, "-s", scope]
        if starttls:
            argv.append("-ZZ")
        if bind is not None:
            argv += ["-D", bind[0], "-w", bind[1]]
        argv += list(extra) + [filt] + list(attrs)
        return ldap_tool(argv, timeout=timeout)

    # ------------------------------------------------ entries

    def user_dn(self, uid, ou="people"):
        return "uid=%s,ou=%s,%s" % (dn_value(uid), dn_value(ou), self.base)

    def _user_attrs(self, uid, uid_number, certs_der, attr, extra):
        attrs = [("objectClass", "top"), ("objectClass", "posixAccount"),
                 ("objectClass", "inetOrgPerson"), ("uid", uid),
                 ("cn", uid), ("sn", uid),
                 ("uidNumber", str(uid_number)), ("gidNumber", "100"),
                 ("homeDirectory", "/home/" + uid)]
        attrs += [(attr, c) for c in certs_der]
        for name, v in (extra or {}).items():
            attrs += [(name, x) for x in _values(v)]
        return attrs

    def add_user(self, uid, certs_der=(), attr=DEFAULT_CERT_ATTR,
                 extra=None, ou="people"):
        """Add account uid (posixAccount and inetOrgPerson) under ou
        (made when missing) with the certificates certs_der as values of
        attr (each bytes, stored as given: a string attribute such as
        description takes PEM text, not DER).  extra: {attribute: value
        or list of values} added as well.  Returns the entry's DN.  Works
        whether slapd runs or not (stopped: loaded by slapadd)."""
        if ou not in self._ous:
            self._add("ou=%s,%s" % (dn_value(ou), self.base), [
                ("objectClass", "top"),
                ("objectClass", "organizationalUnit"), ("ou", ou)])
            self._ous.add(ou)
        dn = self.user_dn(uid, ou)
        self._next_uid += 1
        self._add(dn, self._user_attrs(uid, self._next_uid, certs_der,
                                       attr, extra))
        return dn

    def _add(self, dn, attrs):
        text = ldif_entry(dn, attrs).encode()
        if self.running:
            self._admin_ok("ldapadd", input=text)
        elif self._loaded:
            self._slapadd(text)
        self._records[dn] = list(attrs)

    def set_certs(self, uid, certs_der, attr=DEFAULT_CERT_ATTR,
                  ou="people"):
        """Replace the values of attr of uid's entry by certs_der (none:
        the attribute is removed).  Running: ldapmodify; stopped:
        slapmodify."""
        dn = self.user_dn(uid, ou)
        text = (_line("dn", dn) + "changetype: modify\n" +
                "replace: %s\n" % attr +
                "".join(_line(attr, c) for c in certs_der) + "-\n\n")
        self._modify(text.encode())
        if dn in self._records:
            keep = [(a, v) for a, v in self._records[dn]
                    if a.lower() != attr.lower()]
            self._records[dn] = keep + [(attr, c) for c in certs_der]

    def delete_user(self, uid, ou="people"):
        """Delete uid's entry.  Running: ldapdelete; stopped:
        slapmodify."""
        dn = self.user_dn(uid, ou)
        self._modify((_line("dn", dn) + "changetype: delete\n\n").encode())
        self._records.pop(dn, None)

    def _modify(self, ldif):
        if self.running:
            self._admin_ok("ldapmodify", input=ldif)
            return
        self._init_db()
        p = subprocess.run([SLAPMODIFY, "-f", self.conf, "-b", self.base],
                           input=ldif, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("slapmodify failed (%d): %s" % (
                p.returncode, p.stderr.decode("utf-8", "replace")[-3000:]))

    def bulk_load(self, n, certs_for=None):
        """Load accounts user00001 ... user<n> (5 digits at least) with
        slapadd: fast, for benchmarks.  certs_for(i), when given, returns
        the DER certificates of account i (or None/empty) as
        userCertificate;binary values.  A running slapd is stopped for
        the load and started again.  Returns the seconds the load took
        (LDIF and slapadd, not the restart)."""
        was_running = self.running
        if was_running:
            self.stop()
        t0 = time.monotonic()
        self._init_db()
        chunks = []
        for i in range(1, n + 1):
            uid = "user%05d" % i
            certs = (certs_for(i) if certs_for else None) or ()
            chunks.append(ldif_entry(
                self.user_dn(uid),
                self._user_attrs(uid, BULK_UID_NUMBER + i, certs,
                                 DEFAULT_CERT_ATTR, None)))
        self._slapadd("".join(chunks).encode())
        elapsed = time.monotonic() - t0
        if was_running:
            self.start()
        return elapsed

    # ------------------------------------------------ another CA

    def other_ca_server(self, tmpdir=None, *, ldaps_port=OTHER_LDAPS_PORT,
                        ldap_port=OTHER_LDAP_PORT, copy_users=True, **kw):
        """A second Slapd (not started) like this one, same host name,
        address and base, on other ports, whose server certificate comes
        from a CA of its own (its .ca_file is that other CA; a client
        given this one's ca_file must refuse it).  copy_users: the
        accounts add_user added here so far are in it too, so that only
        the certificate differs.  kw: other constructor arguments."""
        args = dict(tls=True, host=self.host, ip=self.ip, base=self.base,
                    anonymous_read=self.anonymous_read)
        args.update(kw)
        other = Slapd(tmpdir or os.path.join(self.dir, "other-ca"), None,
                      ldaps_port=ldaps_port, ldap_port=ldap_port, **args)
        if copy_users:
            if other.base != self.base:
                raise ValueError("copy_users needs the same base")
            other._records = dict(self._records)
            other._ous = set(self._ous)
            other._next_uid = self._next_uid
        return other


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, 0, 0)
    os.chmod(path, mode)


def _is_stopped(pid):
    """Whether every thread of pid is in the stopped state (T)."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("T", "t"):
            return False
    return True


_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: killed when the test process ends, even
    by SIGKILL, so slapd never outlives the test."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def random_uid(n):
    """One of bulk_load(n)'s account names, at random."""
    return "user%05d" % random.randint(1, n)
