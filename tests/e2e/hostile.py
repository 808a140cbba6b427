#!/usr/bin/python3
"""End-to-end: the caller of set-uid su and sudo against the module's
OCSP check (issue 11).  ocsp=soft tolerates an unreachable responder and
nothing else: whoever runs su or sudo must not be able to make a
responder that is up look unreachable, nor make the check fail in a way
that is taken for it.

ivan's certificate is revoked at the responder (the real `openssl ocsp`
on 127.0.0.1; no CRL); ops is bound to the same certificate.  ivan, an
unprivileged user, runs `sudo id -un` and `su ops -c 'id -un'` on a pty
(setpriv, as doors.py does), answers the challenge with his key, and
attacks his own front door:

- SIGSTOP, and SIGCONT 1.6 s later (past the 1000 ms deadline), both
  sent with his own uid, at each phase: (a) the moment the answer is
  typed, when the trust anchors are opened (the deadline runs), when the
  OCSP cache lock is taken (just before the helper starts); (b) while
  certauth-ocsp-fetch runs; (c) once it has exited with the answer, and
  when the verified answer is being cached;
- the terminal's own signals while the helper runs, which reach the
  helper too: Ctrl-Z with fg from a job-control shell, Ctrl-C, Ctrl-\,
  a hangup;
- the door started at SCHED_IDLE on one CPU, which busy loops of his in
  the same session take over once the answer is typed;
- resource limits (prlimit): RLIMIT_NOFILE 3..64 for su (a sample for
  sudo, and for root's own pamtester), RLIMIT_NPROC 0..5, RLIMIT_FSIZE,
  RLIMIT_AS;
- closed standard descriptors, umask 0 (the cache the module makes must
  still be root's alone), an unreadable or removed working directory.

Every case runs with ocsp=soft and again with ocsp=hard, each with a
new, empty OCSP cache.  Each asserts that the revoked user does not get
in (not printed, a failing exit status, no success line and no
"accepted (ocsp=soft)" in syslog, a refusal line that names its reason)
and, as a separate result, that su or sudo was not killed by a signal
the caller did not make.  Each attack also reports that it was made.
Controls with gina's good certificate show that the set-up lets a good
login through: responder down under soft, responder up under hard, and
a STOP/CONT during the helper under soft (the verdict then has to be the
responder's answer); ivan without an attack is refused as "revoked".

Agent mode (issue 15): sudo with agent=only and agent=try answered by a
real ssh-agent of the caller's holding the caller's key, ivan's revoked
in the CRL (no OCSP there), gina's good; as controls, and under
RLIMIT_NOFILE 3..12, RLIMIT_NPROC 0 and 1, RLIMIT_AS, RLIMIT_FSIZE, the
closed descriptors, working directories and signal dispositions above,
and STOP/CONT of sudo or of the module's connecting child (which runs as
the caller).  ivan never gets in; gina gets in or is refused (with a
reason once the module ran); no hang, no signal the caller did not send,
never a fallback to the conversation (a local fault is not a missing
agent), and no process of the caller's left in the door's session once
sudo ended.

LDAP bindings: su and sudo with bindings=ldap against a real slapd on a
loopback address of the private network namespace (tests/e2e/slapd.py),
asked through certauth-ldap-fetch, every case with a new, empty
ldap_cache_dir; ivan's (and ops's) certificate in the directory is
revoked in the CRL, gina's (and gops's) good.  Controls: gina gets in
through the directory (the success line names it, the answer is
cached), ivan is refused as revoked.  Then, for both: RLIMIT_NOFILE
3..16, RLIMIT_NPROC 0 and 1, RLIMIT_AS, RLIMIT_FSIZE 0 and 512 (the cache
write fails: logged, and the login still decided on the directory's
answer), closed standard descriptors, and STOP/CONT of the door while
the helper waits on the directory (held LDAP_HOLD seconds, well within
ldap_timeout_ms; the verdict must still be the directory's).  ivan never
gets in; gina gets in or is refused with a reason once the module ran;
no hang, no signal the caller did not send, and never "cannot reach LDAP
directory": the directory is up, and a fault of the caller's making is
not the network's.

A small relay in front of the responder holds each request RELAY_DELAY
seconds, so that the helper lives long enough for its phase to be hit;
it answers well within ocsp_timeout_ms.  HOSTILE_ONLY=regex runs only
the cases it matches (the controls always run).  Prints TAP.

    top_srcdir=... top_builddir=... ocsp_helper=... \
        /usr/bin/python3 tests/e2e/hostile.py
"""

import atexit
import ctypes
import ctypes.util
import fcntl
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402
import keys  # noqa: E402

SUDO = "/usr/bin/sudo"
USERS = {"ivan": lib.Account(2801),     # revoked certificate; the attacker
         "ops": lib.Account(2802),      # bound to ivan's certificate
         "gina": lib.Account(2803),     # good certificate; the controls
         "gops": lib.Account(2804)}     # bound to gina's certificate
TIMEOUT_MS = 1000       # ocsp_timeout_ms of every case
HOLD = 1.6              # seconds a stop lasts: well past the deadline
RELAY_DELAY = 0.3       # seconds the relay holds a request
SUDOERS = """Defaults env_reset, timestamp_timeout=0, lecture=never
Defaults passwd_tries=1, !mail_no_user, !mail_badpass
Defaults env_keep += "SSH_AUTH_SOCK"
root ALL=(ALL:ALL) ALL
ivan ALL=(ALL:ALL) ALL
gina ALL=(ALL:ALL) ALL
"""
HELPER_NAME = "certauth-ocsp-fetch"
SERVICE = "certauth-hostile"        # the service pamtester uses

lib.need_ocsp_helper()
build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "su", SUDO,
                                         "setpriv", "prlimit", "bash",
                                         "pamtester"))
T0 = time.monotonic()
HELPER = os.path.realpath(lib.ocsp_helper(build))
LDAP_HELPER_NAME = "certauth-ldap-fetch"
LDAP_HELPER = os.path.join(os.path.dirname(HELPER), LDAP_HELPER_NAME)
try:
    NETNS = lib.private_network()
except Exception as e:  # noqa: BLE001 - a namespace without loopback
    print("Bail out! private network namespace unusable: %s" % e)
    sys.exit(1)
tap.diag("private network namespace: %s" % ("yes" if NETNS else "no"))
CLEANUP = []


@atexit.register
def _cleanup():
    """No server and no signalling process outlives the test."""
    for stop in reversed(CLEANUP):
        try:
            stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# ------------------------------------------------------------ the host

pki = lib.PKI()
IVAN = pki.issue("ivan", "p256")
GINA = pki.issue("gina", "p256")
pki.revoke(IVAN)
system = doors.System(build, pki)
# Trust anchors and intermediates only: no CRL, so revocation is OCSP's.
system.configure("trust = ca\nca_file = %s/ca.pem\nchain_file = %s/chain.pem\n"
                 % (doors.CERTDIR, doors.CERTDIR))
ANCHORS = doors.CERTDIR + "/ca.pem"
CHAIN = doors.CERTDIR + "/chain.pem"
for user, cert in (("ivan", IVAN), ("ops", IVAN), ("gina", GINA),
                   ("gops", GINA)):
    lib.bind(doors.BINDINGS, user, cert)
# su waits FAIL_DELAY seconds (1 by default) after a failure; not here.
LOGIN_DEFS = lib.MNT + "/etc/login.defs"
with open("/etc/login.defs") as f:
    doors.write(LOGIN_DEFS, f.read() + "\nFAIL_DELAY 0\n")
lib.mount("--bind", LOGIN_DEFS, "/etc/login.defs")
sudoers = lib.MNT + "/sudoers"
doors.write(sudoers, SUDOERS, mode=0o440)
lib.mount("--bind", sudoers, "/etc/sudoers")
CACHES = lib.MNT + "/cache"
lib.make_dir(CACHES, 0o700)
FIFOS = lib.MNT + "/fifo"
lib.make_dir(FIFOS)

# The issuing CA signs its own OCSP answers (accepted, see ocsp.py).
RESPONDER = lib.OpensslOcsp(pki.dir + "/index.txt", lib.free_port(),
                            pki.int, pki.int, pki.int_key)
RESPONDER.start()
CLEANUP.append(RESPONDER.stop)
DEAD_URL = "http://127.0.0.1:%d/" % lib.free_port()     # nothing listens


def read_http(sock):
    """The raw bytes of one HTTP message (headers and a Content-Length
    body, or everything up to EOF without one)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while m is None or len(body) < int(m.group(1)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def complete(msg):
    """True when msg holds a whole HTTP message with its body."""
    if b"\r\n\r\n" not in msg:
        return False
    head, body = msg.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return m is None or len(body) >= int(m.group(1))


class Relay:
    """An HTTP relay in front of the responder that holds each request
    `delay` seconds before passing it on and then relays the answer
    whole.  A request cut short is not passed on: the single-threaded
    responder would wait for the rest of it."""

    def __init__(self, port, delay):
        self.port = port
        self.delay = delay
        self.srv = lib.TcpServer(self._handle)
        self.url = self.srv.url
        CLEANUP.append(self.srv.stop)

    def _handle(self, srv, conn):
        t = time.monotonic()
        conn.settimeout(10)
        try:
            req = read_http(conn)
            if not complete(req):
                return      # the helper went away: nothing to pass on
            time.sleep(max(0.0, t + self.delay - time.monotonic()))
            up = socket.create_connection(("127.0.0.1", self.port),
                                          timeout=5)
            try:
                up.sendall(req)
                resp = read_http(up)
            finally:
                up.close()
            conn.sendall(resp)
        finally:
            conn.close()

    def count(self):
        return self.srv.count()


RELAY = Relay(RESPONDER.port, RELAY_DELAY)
URL = "http://127.0.0.1:%d/" % RESPONDER.port
HOST = socket.gethostname()
SIGN = {"ivan": lib.tool_sign(build, IVAN.key, host=HOST),
        "gina": lib.tool_sign(build, GINA.key, host=HOST)}


def ossl_status(cert):
    p = lib.run(["openssl", "ocsp", "-issuer", pki.int, "-cert", cert.cert,
                 "-url", URL, "-CAfile", pki.root, "-verify_other", pki.int,
                 "-timeout", "5"], check=False)
    return p.stdout + p.stderr


out = ossl_status(IVAN)
tap.ok("%s: revoked" % IVAN.cert in out and "Response verify OK" in out,
       "setup: the responder says ivan's certificate is revoked",
       lib.LogDiag(out))
out = ossl_status(GINA)
tap.ok("%s: good" % GINA.cert in out, "setup: the responder says gina's "
       "certificate is good", lib.LogDiag(out))

SERIAL = [0]


def configure(mode, url, make_cache=True):
    """/etc/pam.d/su, sudo and SERVICE with the module under `mode`
    asking `url`, and a new empty cache directory (make_cache false: one
    the module has to make); returns its path."""
    SERIAL[0] += 1
    cache = "%s/%03d" % (CACHES, SERIAL[0])
    if make_cache:
        lib.make_dir(cache, 0o700)
    stack = ("auth required pam_certauth.so ocsp=%s ocsp_timeout_ms=%d "
             "ocsp_url=%s ocsp_cache_dir=%s nodelay\n"
             "account required pam_permit.so\n"
             "session required pam_permit.so\n"
             "password required pam_deny.so\n"
             % (mode, TIMEOUT_MS, url, cache))
    for name in ("su", "sudo", SERVICE):
        doors.write(os.path.join(lib.PAMD, name), stack)
    return cache


# ------------------------------------------------------------ processes


def stat(pid):
    """(state, ppid, comm, session) of pid, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    f = s[s.rindex(")") + 2:].split()
    return f[0], int(f[1]), comm, int(f[3])


def all_uids(pid):
    """The real, effective, saved and filesystem uids of pid, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return [int(u) for u in line.split()[1:5]]
    except OSError:
        pass
    return None


def real_uid(pid):
    """The real uid of pid, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return [b""]


def pids():
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def is_helper(pid):
    """pid is certauth-ocsp-fetch or certauth-ldap-fetch."""
    argv0 = cmdline(pid)[0]
    if os.path.basename(argv0.decode("utf-8", "replace")) in (
            HELPER_NAME, LDAP_HELPER_NAME):
        return True
    try:
        return os.path.realpath("/proc/%d/exe" % pid) in (HELPER,
                                                          LDAP_HELPER)
    except OSError:
        return False


def ancestors(pid):
    out = []
    for _ in range(64):
        s = stat(pid)
        if s is None or s[1] <= 1:
            break
        pid = s[1]
        out.append(pid)
    return out


def reads_tty(pid):
    """True when pid is blocked in read(2) on a terminal."""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            f = f.read().split()
        if len(f) < 2 or f[0] != "0":
            return False
        target = os.readlink("/proc/%d/fd/%d" % (pid, int(f[1], 16)))
    except (OSError, ValueError):
        return False
    return target.startswith(("/dev/pts/", "/dev/tty"))


class Caller:
    """A process of `user`'s that acts on request with the caller's own
    uid: kill(2) ("kill SIG PID"), or "write PATH TEXT".  Each request
    answers 0 or an errno."""

    CODE = """
import os, sys
for line in sys.stdin:
    cmd, *a = line.split()
    try:
        if cmd == "kill":
            os.kill(int(a[1]), int(a[0]))
        elif cmd == "write":
            with open(a[0], "w") as f:
                f.write(a[1])
        print(0, flush=True)
    except OSError as e:
        print(e.errno, flush=True)
"""

    def __init__(self, user):
        self.proc = subprocess.Popen(
            doors.as_user(user) + ["python3", "-c", self.CODE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            bufsize=1)
        self.lock = threading.Lock()
        CLEANUP.append(self.stop)

    def ask(self, *words):
        with self.lock:
            self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
            self.proc.stdin.flush()
            return int(self.proc.stdout.readline() or -1)

    def kill(self, pid, sig):
        return self.ask("kill", int(sig), pid)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(5)


CALLERS = {u: Caller(u) for u in ("ivan", "gina")}

# --------------------------------------------------------------- inotify

IN_OPEN, IN_CREATE, IN_MOVED_TO = 0x20, 0x100, 0x80
TIOCGPTN = 0x80045430
TIOCVHANGUP = 0x5437
# The CPU the starvation attack keeps busy.
BUSY_CPU = max(os.sched_getaffinity(0))
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class Inotify:
    """Watches on paths; next(pred, timeout) returns the first (path,
    mask, name) event that pred accepts."""

    def __init__(self):
        self.fd = _libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.wds = {}
        self.pending = []

    def watch(self, path, mask):
        wd = _libc.inotify_add_watch(self.fd, path.encode(), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + path)
        self.wds[wd] = path

    def _read(self, timeout):
        if not select.select([self.fd], [], [], max(0.0, timeout))[0]:
            return
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        i = 0
        while i + 16 <= len(data):
            wd, mask, _, n = struct.unpack_from("iIII", data, i)
            name = data[i + 16:i + 16 + n].rstrip(b"\0").decode()
            self.pending.append((self.wds.get(wd), mask, name))
            i += 16 + n

    def drain(self):
        self._read(0)
        self.pending = []

    def next(self, pred, timeout):
        end = time.monotonic() + timeout
        while True:
            while self.pending:
                ev = self.pending.pop(0)
                if pred(ev):
                    return ev
            left = end - time.monotonic()
            if left <= 0:
                return None
            self._read(left)

    def close(self):
        os.close(self.fd)


# ---------------------------------------------------------------- attacks

# Where a stop strikes: (a) before the helper starts, (b) while it runs,
# (c) after the answer arrived.
PHASES = {
    "answer": "(a) the moment the answer is typed",
    "anchors": "(a) when the trust anchors are opened (the deadline runs)",
    "lock": "(a) when the OCSP cache lock is taken, before the helper",
    "helper": "(b) while certauth-ocsp-fetch runs",
    "exited": "(c) once certauth-ocsp-fetch has exited with the answer",
    "caching": "(c) when the verified answer is being cached",
}
# Keys typed on the terminal while the helper runs: the terminal signals
# the whole foreground process group, the helper included.
KEYS = {"tstp": ("Ctrl-Z, fg %.1f s later," % HOLD, b"\x1a", signal.SIGTSTP),
        "intr": ("Ctrl-C", b"\x03", signal.SIGINT),
        "quit": ("Ctrl-\\", b"\x1c", signal.SIGQUIT)}
WAIT = 5.0      # seconds an attack waits for its phase


class Attack:
    """What the caller does to its own su or sudo during one login, from
    a thread of its own while the login runs.  kind:
    - "stop": SIGSTOP at `phase` (a key of PHASES), SIGCONT HOLD seconds
      later, both sent with the caller's uid;
    - a key of KEYS: that key typed on the terminal while the helper runs
      (after Ctrl-Z the job-control shell around the door runs fg);
    - "hangup": the terminal hung up while the helper runs;
    - "starve": once the answer is typed, busy loops of the caller's,
      waiting in the door's session (STARVE_SHELL), run HOLD seconds;
    - "freeze": the caller freezes its own cgroup (a UserCgroup) for HOLD
      seconds while the helper runs."""

    def __init__(self, kind, phase="helper", user="ivan", cgroup=None):
        self.kind = kind
        self.cgroup = cgroup    # for "freeze": the caller's own cgroup
        self.phase = {"stop": phase, "starve": "answer"}.get(kind, "helper")
        self.fifo = None
        self.caller = CALLERS[user]
        self.answered = threading.Event()
        self.done = threading.Event()
        self.timeline = []
        self.sent = set()       # signals the caller made
        self.landed = None      # what ran when the attack struck
        self.problem = None     # why the attack could not be made
        self.door = None
        self.t0 = time.monotonic()

    def describe(self):
        if self.kind == "stop":
            return "STOP/CONT %s" % PHASES[self.phase]
        if self.kind == "starve":
            return ("started SCHED_IDLE on one CPU, where busy loops of the "
                    "caller's in the same session run for %.1f s once the "
                    "answer is typed" % HOLD)
        if self.kind == "hangup":
            return "terminal hangup while certauth-ocsp-fetch runs"
        if self.kind == "freeze":
            return ("cgroup freezer (%s, the caller's own cgroup) for %.1f s "
                    "while certauth-ocsp-fetch runs" % (self.cgroup.kind,
                                                        HOLD))
        return "%s while certauth-ocsp-fetch runs" % KEYS[self.kind][0]

    def note(self, text):
        self.timeline.append("t+%.3f %s" % (time.monotonic() - self.t0,
                                           text))

    def prepare(self, cache):
        """Before the door starts: the processes that are not ours, and
        the watches of the file phases."""
        self.t0 = time.monotonic()
        self.baseline = pids()
        self.ino = None
        if self.kind == "starve":
            self.fifo = FIFOS + "/" + os.path.basename(cache)
            os.mkfifo(self.fifo, 0o644)
            os.chmod(self.fifo, 0o644)
        if self.phase == "anchors":
            self.ino = Inotify()
            self.ino.watch(ANCHORS, IN_OPEN)
            self.ino.watch(CHAIN, IN_OPEN)
        elif self.phase in ("lock", "caching"):
            self.ino = Inotify()
            self.ino.watch(cache, IN_CREATE | IN_MOVED_TO | IN_OPEN)

    def start(self, child, slave):
        self.child = child
        self.slave = slave
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def before_answer(self):
        """Just before the answer is typed (the thread still waits for
        it): what the door did until now does not count."""
        if self.ino:
            self.ino.drain()

    def finish(self):
        self.done.set()
        self.thread.join(HOLD + 10)
        if self.ino:
            self.ino.close()

    def _until(self, probe, timeout=WAIT, step=0.001):
        """probe() until it returns something true, the login ends or
        timeout passes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = probe()
            if v or self.done.is_set():
                return v
            time.sleep(step)
        return None

    def _door(self):
        """The su or sudo process: the spawned one after its exec, or a
        descendant (a shell around the door)."""
        top = self.child.pid

        def probe():
            for pid in sorted((pids() - self.baseline) | {top}):
                s = stat(pid)
                if s and s[2] in ("su", "sudo") and s[0] != "Z" and (
                        pid == top or top in ancestors(pid)):
                    return pid
            return None
        return self._until(probe, step=0.002)

    def _helper(self):
        """The helper this door started (other tests may run theirs)."""
        def probe():
            for p in sorted(pids() - self.baseline):
                if stat(p) and is_helper(p) and self.door in ancestors(p):
                    return p
            return None
        return self._until(probe)

    def _what_runs(self, door):
        """The door's children and their states, for the record."""
        out = []
        for p in sorted(pids() - self.baseline):
            s = stat(p)
            if s is None or s[1] != door:
                continue
            name = os.path.basename(cmdline(p)[0].decode(
                "utf-8", "replace")) if is_helper(p) else s[2]
            if s[0] == "Z":     # no command line, a 15-byte comm
                name = {"certauth-ocsp-f": HELPER_NAME,
                        "certauth-ldap-f": LDAP_HELPER_NAME}.get(s[2], s[2])
            out.append("%s %d %s" % (name, p, "exited, not yet reaped"
                                     if s[0] == "Z" else "state " + s[0]))
        return ", ".join(out) or "no child of the door"

    def _stopped(self, pid):
        return self._until(lambda: (stat(pid) or ("T",))[0] in "Tt", 1.0)

    def _trigger(self):
        """Wait for the phase; returns what was seen, or None."""
        if self.phase == "answer":
            return "answer typed"
        if self.ino is not None:
            if self.phase == "anchors":
                pred = lambda ev: True  # noqa: E731
            elif self.phase == "lock":
                pred = lambda ev: ev[2].startswith(".lock")  # noqa: E731
            else:
                pred = lambda ev: (  # noqa: E731
                    ev[1] & (IN_CREATE | IN_MOVED_TO) and
                    not ev[2].startswith(".lock"))
            ev = self._until(lambda: self.ino.next(pred, 0.05), step=0)
            return ev and "%s %s" % (ev[0], ev[2] or "opened")
        h = self._helper()
        if h is None or self.phase == "helper":
            return h and "%s %d runs" % (HELPER_NAME, h)
        gone = self._until(lambda: (stat(h) or ("Z",))[0] == "Z",
                           step=0.0002)
        return gone and "%s %d exited" % (HELPER_NAME, h)

    def _run(self):
        door = self._door()
        if door is None:
            self.problem = "no su or sudo process was seen"
            return
        self.door = door
        self.note("door: pid %d" % door)
        if not self._until(self.answered.is_set, 15):
            self.problem = "no answer was typed"
            return
        self.note("answer typed")
        why = self._trigger()
        if not why:
            self.problem = "phase %s never came" % self.phase
            self.note(self.problem)
            return
        {"stop": self._stop, "starve": self._starve,
         "freeze": self._freeze, "hangup": self._hangup}.get(
             self.kind, self._key)(door, why)

    def _stop(self, door, why):
        rc = self.caller.kill(door, signal.SIGSTOP)
        self.note("%s; SIGSTOP as the caller: %s" % (
            why, os.strerror(rc) if rc else "sent"))
        if rc != 0:
            self.landed = "SIGSTOP refused: %s" % os.strerror(rc)
            return
        self.sent.add(signal.SIGSTOP)
        try:
            if not self._stopped(door):
                self.note("the door was not seen stopped")
            self.landed = self._what_runs(door)
            self.note("stopped; " + self.landed)
            time.sleep(HOLD)
        finally:
            rc = self.caller.kill(door, signal.SIGCONT)
            self.sent.add(signal.SIGCONT)
            self.note("SIGCONT as the caller: %s" % (
                os.strerror(rc) if rc else "sent"))
            if rc != 0:
                # The door took other ids while it stood stopped (sudo
                # running its command as root): the caller may no longer
                # wake it, which harms no one but the caller.  The test
                # wakes it, so that its outcome can be judged.
                try:
                    os.kill(door, signal.SIGCONT)
                    self.note("SIGCONT by the test: sent")
                except OSError as e:
                    self.note("SIGCONT by the test: %s" % e.strerror)

    def _key(self, door, why):
        name, key, sig = KEYS[self.kind]
        os.write(self.child.child_fd, key)
        self.sent.add(sig)
        self.note("%s; %s typed" % (why, name.rstrip(",")))
        if self.kind == "tstp" and not self._stopped(door):
            self.problem = "the door did not stop on Ctrl-Z"
        time.sleep(0.02)
        self.landed = self._what_runs(door)
        self.note(self.landed)

    def _hangup(self, door, why):
        fcntl.ioctl(self.slave, TIOCVHANGUP)
        self.sent |= {signal.SIGHUP, signal.SIGCONT}
        self.note("%s; terminal hung up" % why)
        time.sleep(0.02)
        self.landed = self._what_runs(door)
        self.note(self.landed)

    def _starve(self, door, why):
        try:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"go\ngo\n")
            os.close(fd)
        except OSError as e:
            self.problem = "the busy loops did not start: %s" % e
            return
        self.note("%s; the busy loops run" % why)
        time.sleep(0.3)
        self.landed = self._what_runs(door)
        self.note(self.landed)
        time.sleep(HOLD - 0.3)
        loops = [p for p in pids() - self.baseline
                 if p != door and (stat(p) or (0, 0, 0, 0))[3] ==
                 self.child.pid]
        for p in loops:
            self.caller.kill(p, signal.SIGKILL)
        self.note("the caller ended its busy loops %s" % loops)

    def _freeze(self, door, why):
        cg = self.cgroup
        rc = self.caller.ask("write", cg.freeze, cg.on)
        self.note("%s; %s > %s as the caller: %s" % (
            why, cg.on, cg.freeze, os.strerror(rc) if rc else "written"))
        if rc != 0:
            self.landed = "not frozen: %s" % os.strerror(rc)
            return
        try:
            if not self._until(cg.frozen, 1.0):
                self.problem = "the cgroup did not freeze"
            self.landed = "%s; %s" % (cg.state(), self._what_runs(door))
            self.note(self.landed)
            time.sleep(HOLD)
        finally:
            rc = self.caller.ask("write", cg.freeze, cg.off)
            self.note("%s > %s as the caller: %s" % (
                cg.off, cg.freeze, os.strerror(rc) if rc else "written"))


# --------------------------------------------------------------- sessions


class Door:
    def __init__(self, name, argv, caller, key, output, logname):
        self.name = name
        self.argv = argv            # the command after the caller's setpriv
        self.caller = caller        # who runs it (and attacks it)
        self.key = key              # whose key answers the challenge
        self.output = output        # what a login prints
        self.logname = logname      # the user the module's lines name


def su(caller, target):
    return Door("su", ["su", target, "-c", "id -un"], caller, caller,
                target, target)


def sudo(caller):
    return Door("sudo", [SUDO, "id", "-un"], caller, caller, "root", caller)


REVOKED = {"su": su("ivan", "ops"), "sudo": sudo("ivan")}
GOOD = {"su": su("gina", "gops"), "sudo": sudo("gina")}
# Not set-uid: root's own pamtester with limits root set on it.
PAMTESTER = Door("pamtester", ["pamtester", "-v", SERVICE, "ivan",
                               "authenticate"], "root", "ivan",
                 "pamtester: successfully authenticated", "ivan")
DOORS = ("su", "sudo")
MODES = ("soft", "hard")
# bash with job control around the door, so that Ctrl-Z stops the door
# (a process group of its own, in the terminal's foreground) and fg
# continues it HOLD seconds later; prints the door's exit status.
JOB_SHELL = ("set -m; \"$@\"; rc=$?; if [ $rc -eq 148 ]; then sleep %s; "
             "fg >/dev/null; rc=$?; fi; echo e2e-rc=$rc; exit $rc" % HOLD)


# Pinned to one CPU by taskset: two busy loops of the caller's wait in the
# background of the same session (the scheduler shares a CPU between
# sessions first) for a line on FIFOS/<case>, and the door runs at
# SCHED_IDLE (kept across the set-uid exec, like the CPU).
# The loops end by themselves HOLD + 10 seconds after they start, so that
# none outlives a run that is cut short.
STARVE_SHELL = ("f=%s/${0##*/}; for i in 1 2; do (read x; "
                "end=$((SECONDS + %d)); while [ $SECONDS -lt $end ]; do :; "
                "done) <\"$f\" >/dev/null 2>&1 & done; "
                "exec chrt --idle 0 \"$@\"" % (FIFOS, HOLD + 10))


def tty_reader(top, baseline):
    """top or a new descendant of it blocked reading the terminal."""
    for pid in sorted((pids() - baseline) | {top}):
        if (pid == top or top in ancestors(pid)) and reads_tty(pid):
            return pid
    return None


def drive(door, mode, url=None, attack=None, wrap=(), shell=None,
          make_cache=True, outer=(), timeout=20, agent=None, ldap=None):
    """Write the stacks, run door as its caller (through wrap, or a
    `bash -c shell` around it) on a new pty, and answer its challenge
    with the caller's key.  The answer is typed at the door's prompt or,
    when the prompt cannot show (stderr closed), once the door waits
    reading the terminal.  outer: run by root, around the caller's
    setpriv.  agent: the agent= mode of agent stacks (configure_agent;
    mode and url unused), the caller's SSH_AUTH_SOCK its own agent's, and
    res.strays the processes of the caller's left once the door ended.
    ldap: the ldap_cache_dir of bindings=ldap stacks (configure_ldap;
    mode and url unused).  Returns a doors.Result."""
    import pexpect
    if agent:
        cache = configure_agent(agent)
        wrap = ["env", "SSH_AUTH_SOCK=" + AGENTS[door.caller].sock] + \
            list(wrap)
    elif ldap:
        cache = configure_ldap(ldap)
    else:
        cache = configure(mode, url or RELAY.url, make_cache)
    res = doors.Result()
    res.cache, res.attack, res.signal = cache, attack, None
    argv = list(outer) + doors.as_user(door.caller) + list(wrap)
    if shell is not None:
        argv += ["bash", "-c", shell, cache]
    res.argv = argv + door.argv
    mark = ns.mark()
    t0 = time.monotonic()
    baseline = pids()
    if attack:
        attack.prepare(cache)
    child = pexpect.spawn(res.argv[0], res.argv[1:], env=dict(doors.ENV),
                          encoding="utf-8", timeout=timeout,
                          codec_errors="replace")
    child.delaybeforesend = None
    # A descriptor of our own on the terminal, so that it never reads as
    # closed while the door runs with its own descriptors closed: the end
    # of a login is its process's exit.
    n = struct.unpack("I", fcntl.ioctl(child.child_fd, TIOCGPTN, b"\0" * 4))
    keep = os.open("/dev/pts/%d" % n[0], os.O_RDWR | os.O_NOCTTY)
    if attack:
        attack.start(child, keep)
    sign = SIGN[door.key]
    pats = [doors.CHALLENGE, re.escape(doors.RESPONSE), pexpect.EOF]
    after, pending, reading = 0, False, 0
    end = t0 + timeout

    def answer():
        c = res.challenges[-1] if res.challenges else None
        res.answers.append(sign(c) if c else "")
        if attack:
            attack.before_answer()
        lib.send_line(child, res.answers[-1])
        if attack:
            attack.answered.set()
        return len(res.transcript)

    eof = False
    try:
        while True:
            if eof:
                # A hung-up terminal: wait for the door to end.
                if (stat(child.pid) or "Z")[0] == "Z":
                    break
                if time.monotonic() > end:
                    raise pexpect.TIMEOUT("still running")
                time.sleep(0.02)
                continue
            try:
                i = child.expect(pats, timeout=0.05)
            except pexpect.TIMEOUT:
                if (stat(child.pid) or "Z")[0] == "Z":
                    break
                if time.monotonic() > end:
                    raise
                # Reading the terminal twice in a row: the challenge, if
                # any, has been read from it by now.
                reading = reading + 1 if tty_reader(child.pid, baseline) \
                    else 0
                if (pending or not res.answers) and reading >= 2:
                    after, pending = answer(), False
                continue
            res.transcript += child.before + (
                child.after if isinstance(child.after, str) else "")
            if i == 0:
                res.challenges.append(child.match.group(1))
                pending = True
            elif i == 1 and pending:
                after, pending = answer(), False
            elif i == 2:
                eof = True
    except pexpect.TIMEOUT:
        res.error = "timeout after %d s" % timeout
    except Exception as e:  # noqa: BLE001 - the answer failed, for instance
        res.error = "%s: %s" % (type(e).__name__, e)
    finally:
        os.close(keep)
    try:
        # What the door wrote last, up to the terminal's close.
        if not eof:
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=1)
            res.transcript += child.before
    except Exception:  # noqa: BLE001 - nothing more to read
        pass
    if attack:
        attack.note("the door's terminal closed")
        attack.finish()
    res.strays = []
    if agent:
        # The module's connecting child runs as the caller, in the
        # door's session: none may outlive the door, running or unreaped
        # (other runs' processes of the same uids are not ours).
        time.sleep(0.05)
        res.strays = ["%d %s state %s" % (p, st[2], st[0])
                      for p, st in ((p, stat(p)) for p in pids() - baseline)
                      if st and p != child.pid and st[3] == child.pid and
                      real_uid(p) == USERS[door.caller].uid]
    # Whatever the caller left running in the door's session.
    for p in pids() - baseline:
        if (stat(p) or (0, 0, 0, 0))[3] == child.pid and p != child.pid:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    child.close(force=True)
    res.elapsed = time.monotonic() - t0
    res.output = res.transcript[after:]
    res.signal = child.signalstatus
    res.status = child.exitstatus if child.exitstatus is not None else (
        128 + (child.signalstatus or 0))
    if shell is not None:
        # The door's own status, which the shell prints; a shell whose
        # foreground job died of SIGINT exits 130 without printing it.
        m = re.search(r"e2e-rc=(\d+)", res.transcript)
        res.status = int(m.group(1)) if m else res.status
        res.signal = res.status - 128 if res.status > 128 else None
    res.logs = ns.logs_since(mark)
    return res


# ----------------------------------------------------------------- checks

def module_lines(logs):
    """The lines pam_certauth itself wrote (pam_syslog's "name(service:
    type):" prefix), not libpam's about it."""
    return [l for l in logs if "pam_certauth(" in l]


REASON = re.compile(r"user (\S+) (?:refused|not authenticated): (.+)")
SOFT_ACCEPT = "accepted (ocsp=soft)"


def authenticated(r, door):
    return re.search(r"user %s authenticated" % re.escape(door.logname),
                     "\n".join(module_lines(r.logs)))


def outcome(r, door):
    """One line: what happened to this login."""
    log = module_lines(r.logs)
    reasons = [m.group(2) for m in map(REASON.search, log) if m]
    if r.printed(door.output):
        what = "GOT IN (printed %r)" % door.output
    elif authenticated(r, door):
        what = "GOT IN at the module (authenticated), exit %s" % r.status
    elif reasons:
        what = "refused: " + reasons[0]
    elif r.signal:
        what = "%s killed by %s" % (door.name, signal.Signals(r.signal).name)
    else:
        what = "no module line, exit %s" % r.status
    soft = [l for l in log if SOFT_ACCEPT in l]
    if soft:
        what += " [" + soft[0].split(": ", 2)[-1] + "]"
    return what


def details(r, problems):
    extra = ["$ " + " ".join(r.argv), "%.2f s" % r.elapsed]
    if r.attack is not None:
        extra.append("attack: " + r.attack.describe())
        extra += ["  " + t for t in r.attack.timeline]
        if r.attack.problem:
            extra.append("attack problem: " + r.attack.problem)
    return str(r.diag("; ".join(problems))) + "\n" + "\n".join(extra)


def refused(name, r, door):
    """The revoked user did not get in; the door was not killed by a
    signal the caller did not send.  Two TAP lines."""
    sent = r.attack.sent if r.attack else set()
    log = module_lines(r.logs)
    problems = []
    if r.printed(door.output):
        problems.append("%r printed: GOT IN" % door.output)
    if r.status == 0:
        problems.append("exit status 0")
    if r.error:
        problems.append(r.error)
    if authenticated(r, door):
        problems.append("syslog: user %s authenticated" % door.logname)
    if any(SOFT_ACCEPT in l for l in log):
        problems.append("syslog: %r with the responder up" % SOFT_ACCEPT)
    reasons = [m.group(2) for m in map(REASON.search, log) if m]
    # A door the caller killed never gets to the refusal.
    if (r.challenges or log) and not (r.signal and r.signal in sent) and \
            not any(x.strip() for x in reasons):
        problems.append("no syslog refusal line naming a reason")
    tap.ok(not problems, name + ": not let in", details(r, problems))
    tap.diag("outcome: " + outcome(r, door))
    killed = r.signal and r.signal not in sent and not r.error
    tap.ok(not killed, name + ": %s not killed by a signal" % door.name,
           killed and details(r, ["%s killed by %s" % (
               door.name, signal.Signals(r.signal).name)]) or None)


def let_in(name, r, door, source=False):
    """A control: the good user gets in.  source: the success line names
    the responder's answer, not the soft fallback."""
    problems = []
    text = "\n".join(module_lines(r.logs))
    if r.error:
        problems.append(r.error)
    if r.status != 0:
        problems.append("exit status %s" % r.status)
    if not r.printed(door.output):
        problems.append("%r not printed" % door.output)
    if not authenticated(r, door):
        problems.append("no success line in syslog")
    tap.ok(not problems, name, details(r, problems))
    if source:
        tap.ok(re.search(r"authenticated.*OCSP good from", text) and
               SOFT_ACCEPT not in text,
               name + ": the verdict is the responder's answer (OCSP good), "
               "not the soft fallback", details(r, []))


def attacked(name, door, mode, attack, **kw):
    if not wanted(name):
        return None
    r = drive(door, mode, attack=attack, **kw)
    refused(name, r, door)
    tap.ok(attack.problem is None, name + ": the attack was made",
           details(r, [attack.problem or ""]))
    return r


ONLY = os.environ.get("HOSTILE_ONLY")


def wanted(name):
    """HOSTILE_ONLY=regex runs only the cases it matches (for debugging;
    the controls always run)."""
    return not ONLY or re.search(ONLY, name)


# ---------------------------------------------------------------- controls

for d in DOORS:
    door = GOOD[d]
    r = drive(door, "soft", url=DEAD_URL)
    let_in("control: gina, %s, ocsp=soft, responder down (connection "
           "refused): logs in" % d, r, door)
    tap.ok(re.search(r"unreachable.*accepted \(ocsp=soft\)",
                     "\n".join(module_lines(r.logs))),
           "control: gina, %s, responder down: the soft acceptance is "
           "logged" % d, details(r, []))
    let_in("control: gina, %s, ocsp=hard, responder up: logs in" % d,
           drive(door, "hard"), door, source=True)
    let_in("control: gina, %s, ocsp=soft, responder up, STOP/CONT %.1f s "
           "while the helper runs: logs in" % (d, HOLD),
           drive(door, "soft", attack=Attack("stop", user="gina")), door,
           source=True)
    for mode in MODES:
        door = REVOKED[d]
        r = drive(door, mode)
        refused("control: ivan, %s, ocsp=%s, no attack" % (d, mode), r, door)
        text = "\n".join(module_lines(r.logs))
        tap.ok(re.search(r"refused: .*revoked", text) and
               not re.search(r"unreachable|did not answer|cannot reach",
                             text),
               "control: ivan, %s, ocsp=%s: the reason is \"revoked\", not "
               "\"unreachable\"" % (d, mode), details(r, []))
tap.ok(RELAY.count() > 0, "control: the relay in front of the responder "
       "was used (%d connections)" % RELAY.count())

# ----------------------------------------------------------------- signals

for d in DOORS:
    for mode in MODES:
        for phase in PHASES:
            a = Attack("stop", phase)
            attacked("%s, ocsp=%s: %s" % (d, mode, a.describe()), REVOKED[d],
                     mode, a)
        for key in KEYS:
            a = Attack(key)
            attacked("%s, ocsp=%s: %s" % (d, mode, a.describe()), REVOKED[d],
                     mode, a, shell=JOB_SHELL)
        a = Attack("hangup")
        attacked("%s, ocsp=%s: %s" % (d, mode, a.describe()), REVOKED[d],
                 mode, a, shell=JOB_SHELL)
        a = Attack("starve")
        attacked("%s, ocsp=%s: %s" % (d, mode, a.describe()), REVOKED[d],
                 mode, a, wrap=["taskset", "-c", str(BUSY_CPU)],
                 shell=STARVE_SHELL)
tap.diag("signals done at %.1f s" % (time.monotonic() - T0))

# ---------------------------------------------------------- resource limits


def limited(d, mode, what, value, label=None):
    name = "%s, ocsp=%s: prlimit --%s=%s" % (d, mode, what, label or value)
    if wanted(name):
        refused(name, drive(REVOKED[d], mode, url=URL,
                            wrap=["prlimit", "--%s=%d" % (what, value)]),
                REVOKED[d])


MIB = 1024 * 1024
AS_MIB = (8, 16, 32, 64, 128, 256)
# RLIMIT_NPROC counts the processes of the real uid a process takes:
# nobody's own (other logins' helpers, daemons) count against the
# helper's.  Two of them, for every case.
NOBODY = [subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup",
                            "--clear-groups", "sleep", "600"],
                           stdin=subprocess.DEVNULL)
          for _ in range(2)]
for p in NOBODY:
    CLEANUP.append(p.kill)
for mode in MODES:
    for n in range(3, 65):
        limited("su", mode, "nofile", n)
    for n in list(range(3, 17)) + [24, 32, 48, 64]:
        limited("sudo", mode, "nofile", n)
    for d in DOORS:
        for n in range(0, 6):
            limited(d, mode, "nproc", n)
        for n in (0, 1, 512):
            limited(d, mode, "fsize", n)
        for n in AS_MIB:
            limited(d, mode, "as", n * MIB, "%dMiB" % n)
for mode in MODES:
    for n in range(3, 13):
        name = "pamtester, ocsp=%s: prlimit --nofile=%d" % (mode, n)
        if wanted(name):
            refused(name, drive(PAMTESTER, mode, url=URL,
                                wrap=["prlimit", "--nofile=%d" % n]),
                    PAMTESTER)
for p in NOBODY:
    p.kill()
    p.wait()
tap.diag("limits done at %.1f s" % (time.monotonic() - T0))

# ----------------------------------------------------------------- cgroups


class UserCgroup:
    """A cgroup delegated to a user, as systemd delegates one to each
    user's manager: the directory and its process and freezer files
    belong to the user.  kind "v2" (cgroup.freeze) or "v1 freezer"
    (freezer.state).  Made under the mount point `mount` of the host's
    hierarchy and removed at exit."""

    def __init__(self, mount, v2, user):
        self.kind = "v2" if v2 else "v1 freezer"
        self.path = os.path.join(mount, "certauth-hostile-%d" % os.getpid())
        os.mkdir(self.path)
        CLEANUP.append(self.remove)
        self.freeze = os.path.join(self.path, "cgroup.freeze" if v2 else
                                   "freezer.state")
        self.on, self.off = ("1", "0") if v2 else ("FROZEN", "THAWED")
        if not os.path.exists(self.freeze):
            raise OSError("no %s" % self.freeze)
        uid = USERS[user].uid
        for name in ("", "cgroup.procs", "cgroup.threads", "tasks",
                     os.path.basename(self.freeze)):
            if os.path.exists(os.path.join(self.path, name)):
                os.chown(os.path.join(self.path, name), uid, uid)
        # Run by root before the caller's setpriv: into the cgroup.
        self.enter = ["sh", "-c", 'echo $$ >"$0/cgroup.procs" && exec "$@"',
                      self.path]

    def state(self):
        if self.kind == "v2":
            with open(os.path.join(self.path, "cgroup.events")) as f:
                return "cgroup.events: " + f.read().replace("\n", " ")
        with open(self.freeze) as f:
            return "freezer.state: " + f.read().strip()

    def frozen(self):
        return "frozen 1" in self.state() or "FROZEN" in self.state()

    def remove(self):
        with open(self.freeze, "w") as f:
            f.write(self.off)
        os.rmdir(self.path)


def user_cgroups(user):
    """The cgroups that can be delegated to user here (v2, v1 freezer),
    and why some cannot."""
    out, why = [], []
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            root, point = pre.split()[3:5]
            fstype, _, opts = post.split()[:3]
            if root != "/":
                continue
            if fstype == "cgroup2":
                mounts.setdefault(True, point)
            elif fstype == "cgroup" and "freezer" in opts.split(","):
                mounts.setdefault(False, point)
    for v2 in (True, False):
        if v2 not in mounts:
            why.append("no %s hierarchy" % ("cgroup2" if v2 else
                                             "v1 freezer"))
            continue
        try:
            out.append(UserCgroup(mounts[v2], v2, user))
        except OSError as e:
            why.append("%s: %s" % (mounts[v2], e))
    return out, why


CGROUPS, NO_CGROUP = user_cgroups("ivan")
for cg in CGROUPS:
    let_in("control: gina, su, ocsp=soft, in a user's %s cgroup, no "
           "attack: logs in" % cg.kind,
           drive(GOOD["su"], "soft", outer=cg.enter), GOOD["su"],
           source=True)
    for d in DOORS:
        for mode in MODES:
            a = Attack("freeze", cgroup=cg)
            attacked("%s, ocsp=%s: %s" % (d, mode, a.describe()),
                     REVOKED[d], mode, a, outer=cg.enter)
if not CGROUPS:
    tap.skip("cgroup freezer attacks", "no cgroup could be delegated "
             "here: " + "; ".join(NO_CGROUP))
elif NO_CGROUP:
    tap.diag("cgroup freezer attacks left out: " + "; ".join(NO_CGROUP))
tap.diag("cgroups done at %.1f s" % (time.monotonic() - T0))

# ------------------------------------------------------------ environment

def sh(script):
    return ["sh", "-c", script, "e2e"]


def py(code):
    """The door exec'd by a python of the caller's that ran code first."""
    return ["python3", "-c", "import os, signal, sys\n" + code +
            "\nos.execvp(sys.argv[1], sys.argv[1:])"]


ENVIRONMENTS = [
    ("stderr closed", sh("exec \"$@\" 2>&-")),
    ("stdout closed", sh("exec \"$@\" >&-")),
    ("stdin closed", sh("exec \"$@\" <&-")),
    ("stdin, stdout and stderr closed", sh("exec \"$@\" <&- >&- 2>&-")),
    ("umask 0", sh("umask 0; exec \"$@\"")),
    ("working directory of mode 0", sh("d=$HOME/dark$$; mkdir \"$d\" && "
                                       "cd \"$d\" && chmod 0 . && "
                                       "exec \"$@\"")),
    ("working directory removed", sh("d=$HOME/gone$$; mkdir \"$d\" && "
                                     "cd \"$d\" && rmdir \"$d\" && "
                                     "exec \"$@\"")),
    ("SIGCHLD ignored (kept across exec)",
     py("signal.signal(signal.SIGCHLD, signal.SIG_IGN)")),
    ("every signal blocked (the mask is kept across exec)",
     py("signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())")),
]
for mode in MODES:
    for label, wrap in ENVIRONMENTS:
        for d in DOORS:
            name = "%s, ocsp=%s: %s" % (d, mode, label)
            if not wanted(name):
                continue
            umask0 = label == "umask 0"
            r = drive(REVOKED[d], mode, url=URL, wrap=wrap,
                      make_cache=not umask0)
            refused(name, r, REVOKED[d])
            if umask0:
                loose = []
                for root, dirs, files in os.walk(r.cache):
                    for f in [root] + [os.path.join(root, x) for x in files]:
                        st = os.lstat(f)
                        if st.st_mode & 0o022 or st.st_uid != 0:
                            loose.append("%s %o uid %d" % (f, st.st_mode,
                                                           st.st_uid))
                tap.ok(os.path.isdir(r.cache) and not loose,
                       name + ": the OCSP cache the module made is root's "
                       "and not writable by group or others",
                       "\n".join(loose) or "no cache directory was made")

# ------------------------------------------------------------ agent mode
#
# sudo with agent=only and agent=try (no OCSP; ivan's certificate is
# revoked in the CRL the module reads), answered by a real ssh-agent of
# the caller's holding the caller's key: ivan's must never get in, gina's
# gets in or is refused cleanly.  Under every condition: no hang, no
# signal the caller did not send, never a fallback to the conversation
# (a real agent is there: whatever fails is a fault, not its absence,
# docs/PROTOCOL.md "Agent mode"), and no process of the caller's (the
# module's connecting child runs as the caller) left once sudo ended.

AGENT_TTL = 2           # challenge_ttl of the agent stacks: the deadline
AGENT_DIR = lib.MNT + "/agents"
AGENT_LINE = "the answer comes from the ssh-agent at"
FALLBACK = "asking through the conversation"
AGENT_MODES = ("only", "try")
AGENTS = {}


def configure_agent(mode):
    """The stacks with agent=mode, the CRL that revokes ivan, no OCSP;
    returns a cache path for Attack.prepare (nothing is cached)."""
    SERIAL[0] += 1
    stack = ("auth required pam_certauth.so agent=%s challenge_ttl=%d "
             "crl=leaf crl_file=%s/crl.pem nodelay\n"
             "account required pam_permit.so\n"
             "session required pam_permit.so\n"
             "password required pam_deny.so\n"
             % (mode, AGENT_TTL, doors.CERTDIR))
    for name in ("su", "sudo", SERVICE):
        doors.write(os.path.join(lib.PAMD, name), stack)
    return "%s/agent-%03d" % (CACHES, SERIAL[0])


def start_user_agent(user, cert):
    d = os.path.join(AGENT_DIR, user)
    lib.make_dir(d, 0o700)
    os.chown(d, USERS[user].uid, USERS[user].uid)
    a = keys.Agent(os.path.join(d, "sock"), run_as=doors.as_user(user))
    CLEANUP.append(a.stop)
    a.load(cert, lib.MNT)
    return a


class AgentAttack(Attack):
    """SIGSTOP, and SIGCONT HOLD seconds later, sent with the caller's
    uid: to sudo as soon as it runs ("door"), or to the module's
    connecting child, which runs as the caller ("child")."""

    def __init__(self, target, user):
        Attack.__init__(self, "stop", "answer", user)
        self.target = target
        self.caller_name = user

    def describe(self):
        if self.target == "door":
            return "STOP/CONT %.1f s of sudo as it starts" % HOLD
        return ("STOP/CONT %.1f s of the connecting child (the caller's "
                "own uid)" % HOLD)

    def _child(self, door):
        uid = USERS[self.caller_name].uid

        def probe():
            for p in sorted(pids() - self.baseline):
                # Every uid the caller's: the connecting child after
                # its privilege drop, not one of sudo's own processes
                # (the caller's real uid, root's effective one).
                if p != door and door in ancestors(p) and \
                        all_uids(p) == [uid] * 4 and \
                        (stat(p) or "Z")[0] != "Z":
                    return p
            return None
        return self._until(probe, step=0.0002)

    def _run(self):
        door = self._door()
        if door is None:
            self.problem = "no sudo process was seen"
            return
        self.door = door
        self.note("door: pid %d" % door)
        target = door if self.target == "door" else self._child(door)
        if target is None:
            # Not a failure of the module: the child lives a few ms.
            self.landed = "the connecting child was not caught"
            self.note(self.landed)
            return
        self._stop(target, "pid %d seen" % target)


def agent_ok(name, r, door, good):
    """ivan: refused (two TAP lines, as refused()); gina: let in by the
    module, or refused: with a reason once the module has run (sudo may
    give up before, under the tightest limits).  Then one line: no
    fallback, no stray process."""
    if good:
        log = module_lines(r.logs)
        sent = r.attack.sent if r.attack else set()
        reasons = [m.group(2) for m in map(REASON.search, log) if m]
        problems = []
        if r.error:
            problems.append(r.error)
        if r.signal and r.signal not in sent:
            problems.append("sudo killed by %s" %
                            signal.Signals(r.signal).name)
        if not authenticated(r, door) and (
                r.status == 0 or (log and not reasons)):
            problems.append("neither let in nor refused with a reason")
        tap.ok(not problems, name + ": let in, or refused (with a reason "
               "once the module ran)", details(r, problems))
        tap.diag("outcome: " + outcome(r, door))
    else:
        refused(name, r, door)
    problems = []
    if any(FALLBACK in l for l in module_lines(r.logs)):
        problems.append("it fell back to the conversation")
    if r.strays:
        problems.append("left: " + ", ".join(r.strays))
    tap.ok(not problems, name + ": no fallback to the conversation, no "
           "process of the caller's left", details(r, problems))


if shutil.which("ssh-agent") and shutil.which("ssh-add"):
    lib.make_dir(AGENT_DIR)
    AGENTS = {"ivan": start_user_agent("ivan", IVAN),
              "gina": start_user_agent("gina", GINA)}
    AGENT_DOORS = ((REVOKED["sudo"], False), (GOOD["sudo"], True))
    for mode in AGENT_MODES:
        for door, good in AGENT_DOORS:
            r = drive(door, None, agent=mode)
            text = "\n".join(module_lines(r.logs))
            who = door.caller
            if good:
                let_in("control: agent=%s: gina's agent answers sudo" % mode,
                       r, door)
            else:
                refused("control: agent=%s: ivan's agent answers sudo, no "
                        "attack" % mode, r, door)
            tap.ok(AGENT_LINE in text and FALLBACK not in text and
                   (good or re.search(r"refused: certificate revoked "
                                      r"\(CRL\)", text)),
                   "control: agent=%s, %s: the answer came from the agent%s"
                   % (mode, who, "" if good else ", refused as revoked "
                      "(CRL)"), details(r, []))
    AGENT_CASES = [("prlimit --nofile=%d" % n,
                    dict(wrap=["prlimit", "--nofile=%d" % n]))
                   for n in (3, 4, 5, 6, 8, 12)]
    AGENT_CASES += [("prlimit --nproc=%d" % n,
                     dict(wrap=["prlimit", "--nproc=%d" % n]))
                    for n in (0, 1)]
    AGENT_CASES += [("prlimit --as=64MiB",
                     dict(wrap=["prlimit", "--as=%d" % (64 * MIB)])),
                    ("prlimit --fsize=0", dict(wrap=["prlimit",
                                                     "--fsize=0"]))]
    AGENT_CASES += [(label, dict(wrap=wrap)) for label, wrap in ENVIRONMENTS
                    if label != "umask 0"]
    for mode in AGENT_MODES:
        for door, good in AGENT_DOORS:
            for label, kw in AGENT_CASES:
                name = "agent=%s, sudo, %s: %s" % (
                    mode, "gina" if good else "ivan", label)
                if wanted(name):
                    agent_ok(name, drive(door, None, agent=mode, **kw),
                             door, good)
            for target in ("door", "child"):
                a = AgentAttack(target, door.caller)
                name = "agent=%s, sudo, %s: %s" % (
                    mode, "gina" if good else "ivan", a.describe())
                if not wanted(name):
                    continue
                r = drive(door, None, agent=mode, attack=a)
                agent_ok(name, r, door, good)
                tap.diag("attack: %s" % (a.landed or a.problem or "made"))
    tap.diag("agent mode done at %.1f s" % (time.monotonic() - T0))
else:
    tap.skip("agent mode under attack", "no ssh-agent or ssh-add "
             "(openssh-client)")

# ------------------------------------------------------------ LDAP bindings
#
# su and sudo with bindings=ldap: the accounts' certificates come from a
# real slapd on a loopback address of the private network namespace,
# through certauth-ldap-fetch; ivan's (and ops's) is revoked in the CRL,
# gina's (and gops's) is good; every case has a new, empty LDAP cache
# (ldap_cache_dir), so that the directory is asked and the answer
# written.  ivan never gets in; gina gets in or is refused with a reason
# once the module ran; no hang, no signal the caller did not send; and
# the directory, which is up, is never reported as unreachable: a fault
# of the caller's making is not "cannot reach LDAP directory".

LDAP_TIMEOUT_MS = 1500  # ldap_timeout_ms of the LDAP stacks
LDAP_HOLD = 0.3         # seconds the directory is held in the STOP case
UNREACHABLE = re.compile(r"cannot reach LDAP directory|not taken as the "
                         r"directory's")
LDAP_SOURCE = re.compile(r"authenticated .*bound by ldap ldaps://")
DIRECTORY = None


def der(cert):
    return subprocess.run(["openssl", "x509", "-in", cert.cert, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def configure_ldap(cache):
    """The stacks with bindings=ldap against DIRECTORY, the CRL that
    revokes ivan, no OCSP.  cache "none" turns the LDAP cache off; any
    other value gives a new, empty root-owned cache directory.  Returns
    the cache's path."""
    SERIAL[0] += 1
    path = "%s/ldap-%03d" % (CACHES, SERIAL[0])
    if cache != "none":
        lib.make_dir(path, 0o700)
    stack = ("auth required pam_certauth.so bindings=ldap ldap_uri=%s "
             "ldap_base=%s ldap_ca_file=%s ldap_timeout_ms=%d "
             "ldap_cache_dir=%s crl=leaf crl_file=%s/crl.pem nodelay\n"
             "account required pam_permit.so\n"
             "session required pam_permit.so\n"
             "password required pam_deny.so\n"
             % (DIRECTORY.uri, DIRECTORY.base, DIRECTORY.ca_file,
                LDAP_TIMEOUT_MS, path if cache != "none" else "none",
                doors.CERTDIR))
    for name in ("su", "sudo", SERVICE):
        doors.write(os.path.join(lib.PAMD, name), stack)
    return path


class LdapAttack(Attack):
    """The directory held (SIGSTOP to slapd) from the moment the answer
    is typed for LDAP_HOLD seconds, so that certauth-ldap-fetch waits on
    it; once the helper is seen, SIGSTOP to the door, and SIGCONT HOLD
    seconds later, both sent with the caller's uid.  The directory
    answers well within ldap_timeout_ms."""

    def __init__(self, user):
        Attack.__init__(self, "stop", "helper", user)
        self.lock = threading.Lock()
        self.held = False

    def describe(self):
        return ("STOP/CONT %.1f s while certauth-ldap-fetch runs (the "
                "directory held %.1f s)" % (HOLD, LDAP_HOLD))

    def before_answer(self):
        Attack.before_answer(self)
        DIRECTORY.pause()
        self.held = True
        self.note("directory paused")
        threading.Timer(LDAP_HOLD, self.release).start()

    def release(self):
        with self.lock:
            if self.held:
                DIRECTORY.resume()
                self.held = False
                self.note("directory resumed")

    def finish(self):
        self.release()
        Attack.finish(self)


def decided(r, door, good):
    """gina let in on the directory's answer; ivan refused as revoked."""
    text = "\n".join(module_lines(r.logs))
    if good:
        return r.status == 0 and r.printed(door.output) and \
            LDAP_SOURCE.search(text)
    return re.search(r"refused: certificate revoked \(CRL\)", text)


def ldap_ok(name, r, door, good):
    """ivan: refused (as refused()); gina: let in, or refused with a
    reason once the module ran.  Then: no refusal that names the
    directory, which was up, unreachable."""
    if good:
        log = module_lines(r.logs)
        sent = r.attack.sent if r.attack else set()
        reasons = [m.group(2) for m in map(REASON.search, log) if m]
        problems = []
        if r.error:
            problems.append(r.error)
        if r.signal and r.signal not in sent:
            problems.append("%s killed by %s" % (
                door.name, signal.Signals(r.signal).name))
        if not authenticated(r, door) and (
                r.status == 0 or (log and not reasons)):
            problems.append("neither let in nor refused with a reason")
        tap.ok(not problems, name + ": let in, or refused (with a reason "
               "once the module ran)", details(r, problems))
        tap.diag("outcome: " + outcome(r, door))
    else:
        refused(name, r, door)
    bad = [l for l in module_lines(r.logs) if UNREACHABLE.search(l)]
    tap.ok(not bad, name + ": not reported as an unreachable directory "
           "(it was up)", details(r, bad))
    for l in module_lines(r.logs):
        if REASON.search(l) or "LDAP" in l:
            tap.diag("log: " + l.split(": ", 1)[-1])


LDAP_WHY = None
if not NETNS:
    LDAP_WHY = "no private network namespace for slapd"
elif not os.path.exists(LDAP_HELPER):
    LDAP_WHY = "no LDAP helper at %s" % LDAP_HELPER
else:
    import slapd  # noqa: E402
    LDAP_WHY = " ".join(slapd.missing_tools()) or None
    if LDAP_WHY:
        LDAP_WHY = "missing: " + LDAP_WHY
if LDAP_WHY:
    tap.skip("bindings=ldap under attack", LDAP_WHY)
else:
    DIRECTORY = slapd.Slapd(lib.MNT + "/slapd", pki)
    DIRECTORY.start()
    CLEANUP.append(DIRECTORY.stop)
    for user, cert in (("ivan", IVAN), ("ops", IVAN), ("gina", GINA),
                       ("gops", GINA)):
        DIRECTORY.add_user(user, [der(cert)])
    LDAP_DOORS = [(REVOKED[d], False) for d in DOORS] + \
        [(GOOD[d], True) for d in DOORS]
    for door, good in LDAP_DOORS:
        r = drive(door, None, ldap="fresh")
        who = "%s, %s" % (door.name, door.caller)
        text = "\n".join(module_lines(r.logs))
        if good:
            let_in("control: ldap, %s: logs in through the directory" % who,
                   r, door)
            tap.ok(LDAP_SOURCE.search(text) and
                   os.listdir(r.cache) != [],
                   "control: ldap, %s: the success line names the "
                   "directory, whose answer is cached" % who,
                   details(r, []))
        else:
            refused("control: ldap, %s, no attack" % who, r, door)
            tap.ok(re.search(r"refused: certificate revoked \(CRL\)", text)
                   and not UNREACHABLE.search(text),
                   "control: ldap, %s: refused as revoked (CRL), the "
                   "directory reached" % who, details(r, []))
        for l in module_lines(r.logs):
            tap.diag("log: " + l.split(": ", 1)[-1])
    LDAP_CASES = [("prlimit --nofile=%d" % n,
                   dict(wrap=["prlimit", "--nofile=%d" % n]))
                  for n in (3, 4, 5, 6, 8, 12, 16)]
    LDAP_CASES += [("prlimit --nproc=%d" % n,
                    dict(wrap=["prlimit", "--nproc=%d" % n]))
                   for n in (0, 1)]
    LDAP_CASES += [("prlimit --as=%dMiB" % n,
                    dict(wrap=["prlimit", "--as=%d" % (n * MIB)]))
                   for n in (32, 64)]
    LDAP_CASES += [("prlimit --fsize=%d (the cache write fails)" % n,
                    dict(wrap=["prlimit", "--fsize=%d" % n]))
                   for n in (0, 512)]
    LDAP_CASES += [(label, dict(wrap=wrap)) for label, wrap in ENVIRONMENTS
                   if "closed" in label]
    for door, good in LDAP_DOORS:
        for label, kw in LDAP_CASES:
            name = "ldap, %s, %s: %s" % (door.name, door.caller, label)
            if not wanted(name):
                continue
            r = drive(door, None, ldap="fresh", **kw)
            ldap_ok(name, r, door, good)
            if "fsize" in label:
                text = "\n".join(module_lines(r.logs))
                tap.ok(re.search(r"cannot cache the LDAP answer .*"
                                 r"RLIMIT_FSIZE", text) and
                       decided(r, door, good),
                       name + ": the failed cache write is logged and the "
                       "login decided on the directory's answer",
                       details(r, []))
        a = LdapAttack(door.caller)
        name = "ldap, %s, %s: %s" % (door.name, door.caller, a.describe())
        if wanted(name):
            r = drive(door, None, ldap="fresh", attack=a)
            ldap_ok(name, r, door, good)
            tap.ok(decided(r, door, good), name + ": the verdict is the "
                   "directory's answer (it answered within %d ms)"
                   % LDAP_TIMEOUT_MS, details(r, []))
            tap.ok(a.problem is None and a.landed,
                   name + ": the attack was made",
                   details(r, [a.problem or "did not land"]))
            tap.diag("attack: %s" % (a.landed or a.problem))
    DIRECTORY.stop()
    tap.diag("ldap done at %.1f s" % (time.monotonic() - T0))

out = ossl_status(IVAN)
tap.ok("%s: revoked" % IVAN.cert in out, "the responder still answers at "
       "the end", out)
tap.diag("hostile run took %.1f s" % (time.monotonic() - T0))
sys.exit(tap.done())
