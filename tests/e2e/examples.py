#!/usr/bin/python3
"""End-to-end: every EXAMPLES (EXAMPLE) block of the five manual pages
runs as written.

The roff source of each page is read, the .EX ... .EE blocks of its
EXAMPLES section are taken with their roff escapes undone, and each
block is run by the handler whose pattern it matches (HANDLERS below).
A block that no handler matches is a failed case ("not run by any
test"), and so is a page whose number of blocks is not the expected one,
so that no example can go untested.

Kinds of blocks and how they run, in a private mount namespace set up by
doors.System (the built module at its default paths), a private network
with only loopback, a private /etc/hosts that maps ocsp.example.org,
proxy.example.org and server to 127.0.0.1, and a private UTS namespace
whose host name is host1, the name the examples use:

- shell sessions: lines starting "# " (root) or "$ " (the user alice, in
  her home directory) are commands, "\\" continuation lines joined; the
  other lines are the shown output.  The commands of one block run one
  after the other in one `sh -c` on a terminal, so that `$?` and
  variables carry over, with the build's tools first on PATH; each must
  exit 0 (or with the status a following `echo $?` shows), and what it
  prints (standard output and error, as a terminal shows them) must have
  the shape of the shown output, line for line.  `...` is a wildcard;
  the illustrative values are matched loosely, each allowance in SHAPES.
  Input lines are typed: a "certauth challenge: " line after the paste
  hint is pasted with the real challenge, a "certauth response: " line
  is answered with certauth-sign.  Where an example takes the challenge
  from the variable C, C is a real one: shown by a pamtester login on a
  service of the named kind on host1, which the printed answer then
  completes.  A session of ssh with certauth-askpass runs with no
  terminal at all (a new session, standard input /dev/null) against the
  real sshd on 127.0.0.1:22 (the server), whose host key alice's
  known_hosts holds, with alice's key in her home.
- pam.d stacks: installed as /etc/pam.d/<service> and logged in through
  with the real pamtester (alice bound, nick unbound with a password).
- sshd_config lines: `sshd -t` and `sshd -T -C` for alice and for root.
- the configuration file of pam_certauth.conf(5): installed as written,
  with the files it names, and logged in through.

Real `openssl ocsp` responders of the intermediate and of the root CA
answer behind http://ocsp.example.org/ (port 80), which hands each
request to the responder of the CA it names, as one CA's OCSP service
does; the certificates carry that URL in their authorityInfoAccess.
Prints TAP.
"""

import atexit
import base64
import ctypes
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

PASSWORDS = {"alice": "alice-s3cret-pw", "nick": "nick-s3cret-pw"}
USERS = {"alice": lib.Account(2801, PASSWORDS["alice"]),
         "bob": lib.Account(2802),
         "nick": lib.Account(2803, PASSWORDS["nick"])}
HOST = "host1"
OCSP_URL = "http://ocsp.example.org/"
PAGES = ("certauth-enroll.8", "certauth-sign.1", "pam_certauth.8",
         "pam_certauth.conf.5", "certauth-askpass.1")
CLONE_NEWUTS = 0x04000000
SUCCESS = "pamtester: successfully authenticated"

# ------------------------------------------------------------ the pages

ESCAPES = [("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\(lq", '"'),
           ("\\(rq", '"'), ("\\&", ""), ("\\|", ""), ("\\^", ""),
           ("\\~", " "), ("\\ ", " "), ("\\fB", ""), ("\\fI", ""),
           ("\\fR", ""), ("\\fP", ""), ("\\e", "\\"), ("\\(rs", "\\")]


def unescape(line):
    """A line of an .EX block as it renders.  Returns (text, problem):
    a roff request or an escape not listed in ESCAPES is a problem, so
    that a new construct is not run mangled."""
    if line.startswith((".", "'")):
        return line, "roff request %r inside .EX" % line
    out, i = "", 0
    while i < len(line):
        if line[i] != "\\":
            out += line[i]
            i += 1
            continue
        for esc, text in ESCAPES:
            if line.startswith(esc, i):
                out += text
                i += len(esc)
                break
        else:
            return out, "unknown roff escape %r" % line[i:i + 4]
    return out, None


def example_blocks(page):
    """[(text, problem)] of the .EX blocks of page's EXAMPLES section."""
    with open(os.path.join(lib.srcdir(), "man", page)) as f:
        lines = f.read().split("\n")
    blocks, cur, inside = [], None, False
    for line in lines:
        if line.startswith(".SH"):
            inside = re.match(r'\.SH\s+"?EXAMPLES?"?\s*$', line) is not None
            continue
        if not inside:
            continue
        if line.startswith(".EX"):
            cur = []
        elif line.startswith(".EE") and cur is not None:
            texts = [unescape(l) for l in cur]
            problems = [p for _, p in texts if p]
            blocks.append(("\n".join(t for t, _ in texts) + "\n",
                           "; ".join(problems) or None))
            cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


# ------------------------------------------------------ shell sessions


class Command:
    def __init__(self, prompt, text):
        self.prompt = prompt        # "#" or "$"
        self.text = text
        self.shown = []             # the output lines shown after it
        self.status = 0             # the exit status it must have


def parse_session(text):
    """[Command] of a shell session block, or None if it is not one."""
    cmds, cont = [], False
    for line in text.rstrip("\n").split("\n"):
        if cont:
            cmds[-1].text += "\n" + line
        elif line[:2] in ("# ", "$ "):
            cmds.append(Command(line[0], line[2:]))
        elif cmds:
            cmds[-1].shown.append(line)
        else:
            return None
        cont = line.endswith("\\")
    for a, b in zip(cmds, cmds[1:]):
        if b.text.strip() == "echo $?" and len(b.shown) == 1 and \
                b.shown[0].isdigit():
            a.status = int(b.shown[0])
    return cmds or None


# The shown output is matched as a pattern: these illustrative values
# stand for any real one of their kind (in this order; `...` last).
SHAPES = [
    # A challenge: host, service and user as shown; its time (1790000000
    # in the pages) and its nonce ("Q2h...") are the login's own.
    (r"certauth:v1:([^:\s]+):([^:\s]+):([^:\s]+):\d+:[A-Za-z0-9_-]*\.\.\.",
     lambda m: "certauth:v1:%s:%s:%s:[0-9]+:[A-Za-z0-9_-]{43}"
     % tuple(re.escape(g) for g in m.groups())),
    # A time in UTC: the challenge's or a certificate's own.
    (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
     lambda m: r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC"),
    # A fingerprint shown by its first hex digits ("3f1c..."): the
    # certificate's own, 64 hex digits.
    (r"\b[0-9a-f]{4}\.\.\.", lambda m: "[0-9a-f]{64}"),
    # A signature shown by its first base64 characters ("MEUCIQ...",
    # "sha512:MIGIAk..."): random bytes, so any base64 after the prefix.
    (r"\b(sha(?:256|384|512):)?[A-Za-z0-9+/]{5,}\.\.\.",
     lambda m: re.escape(m.group(1) or "") + "[A-Za-z0-9+/]+={0,2}"),
    (r"\.\.\.", lambda m: ".*"),
    # Tabs (list) and runs of blanks: any run of blanks.
    (r"[ \t]+", lambda m: "[ \t]+"),
]


def shape(line):
    """The regular expression that line of shown output stands for."""
    out, i = "", 0
    while i < len(line):
        for pat, rep in SHAPES:
            m = re.compile(pat).match(line, i)
            if m:
                out += rep(m)
                i = m.end()
                break
        else:
            out += re.escape(line[i])
            i += 1
    return out


def mismatch(shown, got):
    """None when the lines got have the shape of the lines shown, else
    what differs."""
    if len(shown) != len(got):
        return "%d lines shown, %d printed" % (len(shown), len(got))
    for s, g in zip(shown, got):
        if not re.fullmatch(shape(s), g):
            return "printed %r, shown %r" % (g, s)
    return None


PASTE_HINT = "certauth-sign: paste the challenge line, then Enter"


class Session:
    """The context a session block runs in: who runs it, where, and the
    variables and answers it needs."""

    def __init__(self, user="root", cwd=None, env=None, answer=None,
                 paste=None, after=(), tty=True):
        self.user, self.cwd, self.tty = user, cwd, tty
        self.env = dict(env or {})
        self.answer = answer      # the answer to a challenge seen
        self.paste = paste        # the challenge pasted at the hint
        self.after = list(after)  # test-only commands after the block


def run_session(cmds, ctx):
    """Run cmds in one sh on a pty; returns ([(output lines, status)]
    of each command then of each ctx.after command, error)."""
    import pexpect
    # With no terminal: a session of its own, which has none to open,
    # and nothing to read (the pty only carries the output).
    script = ["__s=0"] if ctx.tty else ["exec </dev/null; __s=0"]
    all_cmds = [c.text for c in cmds] + list(ctx.after)
    for i, c in enumerate(all_cmds):
        script += ["printf '@@cmd %d@@\\n'" % i, "(exit $__s); " + c,
                   "__s=$?; printf '\\n@@end %d %%d@@\\n' \"$__s\"" % i]
    argv = ["sh", "-c", "\n".join(script)]
    if ctx.user != "root":
        argv = ["setpriv", "--reuid=" + ctx.user, "--regid=" + ctx.user,
                "--init-groups"] + argv
    if not ctx.tty:
        argv = ["setsid", "--wait"] + argv
    env = dict(doors.ENV,
               PATH=lib.user_bin(build) + ":" + doors.ENV["PATH"],
               HOME=os.path.expanduser("~" + ctx.user))
    env.update(ctx.env)
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=ctx.cwd,
                          encoding="utf-8", timeout=30,
                          codec_errors="replace")
    child.delaybeforesend = None
    results, error = [], None
    try:
        for i, text in enumerate(all_cmds):
            child.expect_exact("@@cmd %d@@\r\n" % i)
            shown = cmds[i].shown if i < len(cmds) else []
            out = ""        # what it printed so far
            for k, line in enumerate(shown):
                if line.startswith("certauth challenge: ") and \
                        PASTE_HINT in shown[:k]:
                    child.expect_exact(PASTE_HINT)
                    out += child.before + child.after
                    lib.send_line(child, "certauth challenge: " + ctx.paste)
                elif line.startswith("certauth response: "):
                    child.expect_exact("certauth response: ")
                    out += child.before + child.after
                    c = re.search(r"certauth:v1:\S+", out)
                    lib.send_line(child, ctx.answer(c.group(0) if c
                                                    else ""))
            child.expect(r"@@end %d (\d+)@@" % i)
            out = (out + child.before).replace("\r\n", "\n")
            results.append(([l.rstrip() for l in out.strip("\n").split(
                "\n")] if out.strip() else [], int(child.match.group(1))))
        child.expect(pexpect.EOF)
    except pexpect.TIMEOUT:
        error = "timeout; last output %r" % child.before[-300:]
    except pexpect.EOF:
        error = "the shell ended early; last output %r" % child.before[-300:]
    child.close(force=True)
    return results, error


def session_case(name, text, ctx):
    """One TAP line per command of a session block: its status and its
    output's shape.  Returns the results (with those of ctx.after)."""
    cmds = parse_session(text)
    if cmds is None:
        tap.ok(False, name + ": a shell session", text)
        return []
    results, error = run_session(cmds, ctx)
    for i, c in enumerate(cmds):
        label = "%s: %s %s" % (name, c.prompt, c.text.replace("\\\n", ""))
        label = re.sub(r"\s+", " ", label)
        if i >= len(results):
            tap.ok(False, label, "did not run: %s" % error)
            continue
        lines, status = results[i]
        problems = []
        if status != c.status:
            problems.append("exit status %d, expected %d"
                            % (status, c.status))
        diff = mismatch(c.shown, lines)
        if diff:
            problems.append(diff)
        tap.ok(not problems, label, lib.LogDiag(
            "problem: %s\nprinted:\n%s" % ("; ".join(problems),
                                           "\n".join(lines)))
            if problems else None)
    return results


def last_line(results, i):
    lines = results[i][0] if i < len(results) else []
    return lines[-1] if lines else ""


# ---------------------------------------------------------- the world

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "pamtester",
                                         "setpriv", "faillock", "sshd",
                                         "ssh-keygen", "ssh"))
check = doors.Checks(tap)
lib.need_ocsp_helper()
T0 = time.time()
if not lib.private_network():
    lib.skip_all("no private network namespace: the examples' OCSP "
                 "responder needs port 80 of a loopback of its own")
_libc = ctypes.CDLL(None, use_errno=True)
if _libc.unshare(CLONE_NEWUTS) != 0 or \
        _libc.sethostname(HOST.encode(), len(HOST)) != 0:
    lib.skip_all("cannot set the host name %s in a UTS namespace" % HOST)

SERVERS = []


@atexit.register
def _stop_all():
    for s in SERVERS:
        s.stop()


# The host names of the examples, on this namespace's loopback only.
doors.write(lib.MNT + "/hosts", "127.0.0.1 localhost %s ocsp.example.org "
            "proxy.example.org server\n::1 localhost\n" % HOST)
lib.mount("--bind", lib.MNT + "/hosts", "/etc/hosts")

pki = lib.PKI(int_aia=OCSP_URL)
alice = pki.issue("alice", "p256", aia=OCSP_URL,
                  subject="/O=Example/CN=alice")
alice521 = pki.issue("alice521", "p521", aia=OCSP_URL)
other = pki.issue("other", "ed25519", aia=OCSP_URL)   # bound to nobody
pki.gencrl()
ROOT_CRL = pki.root_crl("root")
system = doors.System(build, pki)
CERTS = doors.CERTDIR
# crl.pem: the CRLs of the intermediate and of the root (crl=chain).
doors.write(CERTS + "/crl.pem", open(pki.crl).read() + open(ROOT_CRL).read())
# pam_certauth.conf(5)'s files: intermediates.pem and crl.d/.
shutil.copy(pki.chain, CERTS + "/intermediates.pem")
lib.make_dir(CERTS + "/crl.d")
shutil.copy(pki.crl, CERTS + "/crl.d/intermediate.pem")
shutil.copy(ROOT_CRL, CERTS + "/crl.d/root.pem")

# The OCSP cache at its default path (under the build's localstatedir):
# private and empty.
with open(os.path.join(lib.builddir(), "Makefile")) as f:
    _m = re.search(r"(?m)^localstatedir = (.*)$", f.read())
CACHE_ROOT = _m.group(1).strip() + "/cache/pam_certauth"
os.makedirs(CACHE_ROOT, 0o755, exist_ok=True)
lib.mount("-t", "tmpfs", "-o", "mode=0755", "certauth-cache", CACHE_ROOT)


def clear_cache():
    for d in os.listdir(CACHE_ROOT):
        shutil.rmtree(os.path.join(CACHE_ROOT, d))


# The responders: one for each CA, behind one URL.
R_INT = lib.OpensslOcsp(pki.dir + "/index.txt", lib.free_port(), pki.int,
                        pki.int, pki.int_key)
R_ROOT = lib.OpensslOcsp(pki.root_index, lib.free_port(), pki.root,
                         pki.root, pki.root_key)
SERVERS += [R_INT, R_ROOT]


def name_hashes(cert):
    """SHA-1 and SHA-256 of the DER subject of cert: the issuerNameHash
    of a CertID for a certificate cert issued."""
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform",
                          "DER"], capture_output=True, check=True).stdout

    def tlv(i):
        n = der[i + 1]
        if n & 0x80:
            k = n & 0x7f
            return i + 2 + k, i + 2 + k + int.from_bytes(der[i + 2:i + 2 + k],
                                                         "big")
        return i + 2, i + 2 + n
    start, _ = tlv(0)               # Certificate
    i, _ = tlv(start)               # TBSCertificate: its fields
    fields = []
    while len(fields) < 6:
        s, e = tlv(i)
        fields.append((i, e))
        i = e
    if der[fields[0][0]] != 0xa0:   # no explicit version: v1
        fields.insert(0, None)
    a, b = fields[5]
    return hashlib.sha1(der[a:b]).digest(), hashlib.sha256(der[a:b]).digest()


ROUTES = [(h, R_ROOT.port) for h in name_hashes(pki.root)] + \
    [(h, R_INT.port) for h in name_hashes(pki.int)]


def ocsp_service(srv, conn):
    """http://ocsp.example.org/: each request goes to the responder of
    the CA whose name hash it carries."""
    try:
        line, headers, body = lib.read_http_request(conn)
    except (EOFError, ValueError, OSError):
        conn.close()
        return
    srv.requests.append(line)
    port = next((p for h, p in ROUTES if h in body), None)
    if port is None:
        lib.http_reply(conn, 500)
        return
    up = socket.create_connection(("127.0.0.1", port), timeout=10)
    up.sendall(("POST / HTTP/1.0\r\nContent-Type: application/ocsp-request"
                "\r\nContent-Length: %d\r\n\r\n" % len(body)).encode() + body)
    answer = b""
    while True:
        chunk = up.recv(65536)
        if not chunk:
            break
        answer += chunk
    up.close()
    conn.sendall(answer)
    conn.close()


for r in (R_INT, R_ROOT):
    r.start()
FRONT = lib.TcpServer(ocsp_service, port=80)
SERVERS.append(FRONT)

# The configuration the pages other than pam_certauth.conf(5) assume:
# the trust anchors and the intermediates, nothing else (certauth-enroll
# (8) names CRLs and OCSP on its command lines; pinned trust refuses
# them in the file).
EXAMPLES_CONF = ("ca_file = %s/ca.pem\nchain_file = %s/chain.pem\n"
                 % (CERTS, CERTS))
README_CONF = EXAMPLES_CONF + "crl_file = %s/crl.pem\n" % CERTS
system.configure(EXAMPLES_CONF)


def answer_with(cert, host=HOST, **kw):
    return lib.tool_sign(build, cert.key, host=host, **kw)


def bound(user, *certs):
    """Exactly certs bound to user (none: no bindings file)."""
    path = os.path.join(doors.BINDINGS, user)
    if certs:
        lib.bind(doors.BINDINGS, user, *certs)
    elif os.path.exists(path):
        os.unlink(path)


class Pending:
    """A pamtester login waiting at the response prompt: its challenge is
    real, and the answer an example prints can complete it."""

    def __init__(self, svc, user):
        import pexpect
        self.child = pexpect.spawn("pamtester", ["-v", svc, user,
                                                 "authenticate"],
                                   env=doors.ENV, encoding="utf-8",
                                   timeout=20, codec_errors="replace")
        self.child.expect(r"certauth challenge: (\S+)")
        self.challenge = self.child.match.group(1)
        self.child.expect_exact("certauth response: ")

    def finish(self, answer):
        """Type answer; True when the login succeeded."""
        import pexpect
        lib.send_line(self.child, answer)
        try:
            self.child.expect(pexpect.EOF)
        except pexpect.TIMEOUT:
            pass
        out = self.child.before
        self.child.close(force=True)
        return self.child.exitstatus == 0 and SUCCESS in out


tap.diag("PKI, responders and namespace ready in %.1f s" % (time.time() - T0))

# ------------------------------------------------- certauth-enroll(8)

ENROLL_DIR = lib.MNT + "/examples/enroll"
lib.make_dir(ENROLL_DIR)
shutil.copy(alice.cert, ENROLL_DIR + "/alice.pem")
ROOT_SESSION = Session(cwd=ENROLL_DIR)


def enroll_add_list_check(name, text):
    bound("alice")
    session_case(name, text, ROOT_SESSION)


def enroll_remove(name, text):
    bound("alice", alice)
    session_case(name, text, ROOT_SESSION)
    tap.ok(not os.path.exists(os.path.join(doors.BINDINGS, "alice")),
           name + ": alice's bindings file is gone")


def enroll_check(name, text):
    bound("alice", alice)
    session_case(name, text, ROOT_SESSION)


def enroll_ocsp(name, text):
    bound("alice", alice)
    clear_cache()
    before = len(FRONT.requests)
    session_case(name, text, ROOT_SESSION)
    tap.ok(len(FRONT.requests) - before == 2,
           name + ": the responders were asked twice (alice and the "
           "intermediate), then the cache answered",
           "%d requests" % (len(FRONT.requests) - before))


def enroll_pinned(name, text):
    # Under the README's configuration, whose crl_file pinned trust
    # cannot use: the example unsets it for its run.
    bound("alice", alice)
    system.configure(README_CONF)
    try:
        session_case(name, text, ROOT_SESSION)
        p = lib.run([build.enroll, "--trust=pinned", "check", "alice"],
                    check=False)
        tap.ok(p.returncode != 0 and "crl_file" in p.stderr,
               name + ": without --crl_file= the configuration's CRL is "
               "refused, so the example shows the way out", p.stderr)
    finally:
        system.configure(EXAMPLES_CONF)


# ------------------------------------------------- certauth-sign(1)

HOME = os.path.expanduser("~alice")
KEYDIR = HOME + "/.certauth"
os.makedirs(KEYDIR, 0o700)
shutil.copy(alice.key, KEYDIR + "/key.pem")
ENC_KEY, PASS_FILE = pki.encrypt_key(alice521, "correct horse battery")
shutil.copy(ENC_KEY, HOME + "/key.pem")
shutil.copy(PASS_FILE, KEYDIR + "/pass")
for p in (KEYDIR, KEYDIR + "/key.pem", KEYDIR + "/pass", HOME + "/key.pem"):
    os.chown(p, 2801, 2801)
# Services on host1 whose logins show the challenges the examples sign.
for svc in ("sshd", "su"):
    doors.write(os.path.join(lib.PAMD, svc),
                "auth required pam_certauth.so nodelay\n")


def sign_paste(name, text):
    bound("alice", alice, alice521)
    login = Pending("sshd", "alice")
    res = session_case(name, text, Session(user="alice", cwd=HOME,
                                           paste=login.challenge))
    tap.ok(login.finish(last_line(res, 0)),
           name + ": the printed answer logs alice in to sshd")


def sign_refused(name, text):
    login = Pending("su", "root")
    session_case(name, text, Session(user="alice", cwd=HOME,
                                     env={"C": login.challenge}))
    login.child.close(force=True)


def sign_encrypted(name, text):
    bound("alice", alice, alice521)
    login = Pending("su", "alice")
    res = session_case(name, text, Session(user="alice", cwd=HOME,
                                           env={"C": login.challenge}))
    tap.ok(login.finish(last_line(res, 0)),
           name + ": the printed sha512 answer logs alice in to su")


def sign_old(name, text):
    nonce = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    c = "certauth:v1:%s:sshd:alice:%d:%s" % (HOST, int(time.time()) - 3600,
                                             nonce)
    res = session_case(name, text, Session(
        user="alice", cwd=HOME, env={"C": c},
        after=["printf '%s\\n' \"$resp\""]))
    sig = last_line(res, 1)
    ok = False
    try:
        with open(lib.MNT + "/resp.sig", "wb") as f:
            f.write(base64.b64decode(sig, validate=True))
        pub = lib.run(["openssl", "x509", "-in", alice.cert, "-noout",
                       "-pubkey"]).stdout
        with open(lib.MNT + "/alice.pub", "w") as f:
            f.write(pub)
        ok = lib.run(["openssl", "dgst", "-sha256", "-verify",
                      lib.MNT + "/alice.pub", "-signature",
                      lib.MNT + "/resp.sig"], input=c,
                     check=False).returncode == 0
    except ValueError:
        pass
    tap.ok(ok, name + ": $resp holds a signature of the hour-old "
           "challenge by alice's key", "resp=%r" % sig)


# ------------------------------------------------- pam_certauth(8)

def pamtester(svc, user, answer=None, password=None):
    return doors.session(ns, ["pamtester", "-v", svc, user, "authenticate"],
                         answer=answer, password=password)


def install_stack(name, text):
    svc = "example-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    doors.write(os.path.join(lib.PAMD, svc), text)
    return svc


def stack_cert_only(name, text):
    svc = install_stack(name, text)
    check.logged_in(name + ": alice's good answer logs in", pamtester(
        svc, "alice", answer_with(alice)), "alice", output=SUCCESS,
        fingerprint=alice.fingerprint)


def stack_cert_or_password(name, text):
    svc = install_stack(name, text)
    check.logged_in(name + ": alice's good answer logs in, no password "
                    "asked", pamtester(svc, "alice", answer_with(alice)),
                    "alice", output=SUCCESS)
    check.logged_in(name + ": nick (no binding) logs in with his password, "
                    "no challenge", pamtester(svc, "nick", None,
                                              PASSWORDS["nick"]),
                    "nick", output=SUCCESS, challenges=0, passwords=1)


def stack_cert_and_password(name, text):
    svc = install_stack(name, text)
    check.logged_in(name + ": alice's good answer and password log in",
                    pamtester(svc, "alice", answer_with(alice),
                              PASSWORDS["alice"]),
                    "alice", output=SUCCESS, passwords=1)


def stack_faillock(name, text):
    svc = install_stack(name, text)
    check.logged_in(name + ": alice's good answer logs in", pamtester(
        svc, "alice", answer_with(alice)), "alice", output=SUCCESS)
    for i in range(3):
        check.refused(name + ": failure %d of 3 (wrong key, wrong password)"
                      % (i + 1), pamtester(svc, "alice", answer_with(other),
                                           "wrong password"),
                      output=SUCCESS, passwords=1,
                      reason="signature does not verify")
    check.refused(name + ": locked: a good answer gets no challenge and is "
                  "refused", pamtester(svc, "alice", answer_with(alice),
                                       PASSWORDS["alice"]),
                  output=SUCCESS, challenges=0, passwords=0)
    lib.run(["faillock", "--user", "alice", "--reset"])


def stack_options(name, text):
    svc = install_stack(name, text)
    r = pamtester(svc, "alice", answer_with(alice, host="host1.example.org"))
    check.logged_in(name + ": alice's answer for host1.example.org logs in",
                    r, "alice", output=SUCCESS)
    f = r.challenges[0].split(":") if r.challenges else []
    tap.ok(f[2:3] == ["host1.example.org"],
           name + ": the challenge is for host1.example.org", r.diag())


def stack_ocsp_hard(name, text):
    svc = install_stack(name, text)
    clear_cache()
    r = pamtester(svc, "alice", answer_with(alice))
    check.logged_in(name + ": alice logs in", r, "alice", output=SUCCESS)
    tap.ok("; OCSP good from %s" % OCSP_URL in r.module_log(),
           name + ": syslog says OCSP good from %s" % OCSP_URL, r.diag())


def stack_ocsp_soft(name, text):
    svc = install_stack(name, text)
    clear_cache()
    before = len(FRONT.requests)
    r = pamtester(svc, "alice", answer_with(alice))
    check.logged_in(name + ": alice logs in with no proxy listening", r,
                    "alice", output=SUCCESS)
    tap.ok(re.search(r"OCSP responder for CN=alice,O=Example unreachable, "
                     r"accepted \(ocsp=soft\)", r.module_log()) and
           len(FRONT.requests) == before,
           name + ": syslog warns that the responder was unreachable "
           "(nothing asked directly)", r.diag())


def sshd_config(name, text):
    d = lib.MNT + "/ssh"
    lib.make_dir(d)
    hostkey = d + "/ssh_host_ed25519_key"
    if not os.path.exists(hostkey):
        lib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                 hostkey])
    doors.write(d + "/certauth.conf", text)
    config = d + "/sshd_config"
    doors.write(config, "Include %s/certauth.conf\nHostKey %s\n"
                "PidFile none\n" % (d, hostkey))
    p = lib.run(["/usr/sbin/sshd", "-t", "-f", config], check=False)
    tap.ok(p.returncode == 0, name + ": sshd -t accepts it",
           p.stdout + p.stderr)

    def effective(user):
        p = lib.run(["/usr/sbin/sshd", "-T", "-f", config, "-C",
                     "user=%s,host=client,addr=127.0.0.1" % user],
                    check=False)
        return dict(l.split(" ", 1) for l in p.stdout.splitlines()
                    if " " in l), p.stderr
    eff, err = effective("alice")
    want = {"usepam": "yes", "kbdinteractiveauthentication": "yes",
            "authenticationmethods": "keyboard-interactive",
            "passwordauthentication": "no"}
    tap.ok(all(eff.get(k) == v for k, v in want.items()),
           name + ": sshd -T for alice: keyboard-interactive only",
           " ".join("%s=%s" % (k, eff.get(k)) for k in want) + err)
    eff, err = effective("root")
    tap.ok(eff.get("authenticationmethods") == "any" and
           eff.get("pubkeyauthentication") == "yes",
           name + ": sshd -T for root: authenticationmethods any, public "
           "keys still on", "authenticationmethods=%s pubkey=%s %s"
           % (eff.get("authenticationmethods"),
              eff.get("pubkeyauthentication"), err))


def pamtester_session(name, text):
    system.install_example("certauth-test")
    session_case(name, text, Session(cwd=lib.MNT,
                                     answer=answer_with(alice)))


# --------------------------------------------- pam_certauth.conf(5)

def conf_file(name, text):
    bound("alice", alice)
    system.configure(text)
    clear_cache()
    svc = install_stack(name, "auth required pam_certauth.so\n")
    r = pamtester(svc, "alice", answer_with(alice, host="host1.example.org"))
    check.logged_in(name + ": installed as written, alice logs in", r,
                    "alice", output=SUCCESS)
    f = r.challenges[0].split(":") if r.challenges else []
    tap.ok(f[2:3] == ["host1.example.org"] and
           "; OCSP good from %s" % OCSP_URL in r.module_log(),
           name + ": challenge for host1.example.org, OCSP good from "
           "the responder", r.diag())


def conf_override(name, text):
    svc = install_stack(name, text)
    r = pamtester(svc, "alice", answer_with(alice, host="host1.example.org"))
    check.logged_in(name + ": alice logs in, answered by certauth-sign "
                    "for host1.example.org", r, "alice", output=SUCCESS)


def conf_check(name, text):
    session_case(name, text, Session(cwd=lib.MNT))


# ------------------------------------------------- certauth-askpass(1)

def askpass_ssh(name, text):
    """The real sshd on 127.0.0.1:22 (server in /etc/hosts), certificate
    only; alice's key in her home, the server's host key in her
    known_hosts; the block run as alice with no terminal."""
    bound("alice", alice)
    system.configure(EXAMPLES_CONF)
    pamd = os.path.join(lib.PAMD, "sshd")
    before = open(pamd).read()
    system.install_example("sshd", 1)
    sshd = doors.Sshd(lib.MNT + "/ssh-askpass", 22)
    try:
        if not sshd.ok:
            tap.ok(False, name + ": sshd listens on 127.0.0.1:22", sshd.log())
            return
        for path, data, mode in (
                (HOME + "/alice.key", open(alice.key).read(), 0o600),
                (HOME + "/.ssh/known_hosts", sshd.known_hosts_line("server"),
                 0o644)):
            os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
            doors.write(path, data, mode)
            for p in (os.path.dirname(path), path):
                os.chown(p, USERS["alice"].uid, USERS["alice"].uid)
        mark = ns.mark()
        res = session_case(name, text, Session(
            user="alice", cwd=HOME, tty=False,
            after=["if (true </dev/tty) 2>/dev/null; then echo tty; else "
                   "echo none; fi"]))
        tap.ok(last_line(res, len(res) - 1) == "none",
               name + ": the commands ran with no terminal to open", res)
        log = "\n".join(lib.module_lines(ns.logs_since(mark)))
        tap.ok("user alice authenticated with certificate" in log and
               alice.fingerprint in log.lower().replace(":", ""),
               name + ": the module logged alice in with her certificate",
               log + "\nsshd:\n" + sshd.log())
    finally:
        sshd.stop()
        doors.write(pamd, before)


# ------------------------------------------------------------ the run

# Per page: (pattern a block matches, handler), in the order of the page.
# A block is run by the first unused handler whose pattern it matches.
HANDLERS = {
    "certauth-enroll.8": [
        (r"^# certauth-enroll add alice alice\.pem", enroll_add_list_check),
        (r"certauth-enroll remove alice", enroll_remove),
        (r"--crl=chain check alice", enroll_check),
        (r"--ocsp=hard --ocsp_scope=chain check alice", enroll_ocsp),
        (r"--trust=pinned --crl_file= check alice", enroll_pinned),
    ],
    "certauth-sign.1": [
        (r"paste the challenge line", sign_paste),
        (r"challenge is for service su, not sshd", sign_refused),
        (r"--pass-file[\s\S]*--digest sha512", sign_encrypted),
        (r"--max-age 0 \"\$C\"", sign_old),
    ],
    "pam_certauth.8": [
        (r"\Aauth\s+required\s+pam_certauth\.so\s*\Z", stack_cert_only),
        (r"\Aauth\s+sufficient\s+pam_certauth\.so nouserok\n"
         r"@include common-auth\n\Z", stack_cert_or_password),
        (r"\Aauth\s+required\s+pam_certauth\.so\n@include common-auth\n\Z",
         stack_cert_and_password),
        (r"pam_faillock\.so preauth", stack_faillock),
        (r"\Aauth\s+required\s+pam_certauth\.so challenge_ttl=60 "
         r"hostname=host1\.example\.org\n\Z", stack_options),
        (r"\Aauth\s+required\s+pam_certauth\.so ocsp=hard ocsp_scope=chain"
         r"\n\Z", stack_ocsp_hard),
        (r"\Aauth\s+required\s+pam_certauth\.so ocsp=soft .*"
         r"ocsp_proxy=http://proxy\.example\.org:3128/\n\Z",
         stack_ocsp_soft),
        (r"\AUsePAM yes\n", sshd_config),
        (r"\A# pamtester -v certauth-test alice authenticate\n",
         pamtester_session),
    ],
    "pam_certauth.conf.5": [
        (r"\A# /etc/security/pam_certauth\.conf\n", conf_file),
        (r"\Aauth\s+required\s+pam_certauth\.so challenge_ttl=60\n\Z",
         conf_override),
        (r"\A# certauth-enroll check alice\n", conf_check),
    ],
    "certauth-askpass.1": [
        (r"^\$ SSH_ASKPASS=certauth-askpass SSH_ASKPASS_REQUIRE=force ssh "
         r"alice@server id -un$", askpass_ssh),
    ],
}

for page in PAGES:
    blocks = example_blocks(page)
    handlers = list(HANDLERS[page])
    tap.ok(len(blocks) == len(handlers),
           "%s: %d EXAMPLES blocks, as this test expects"
           % (page, len(handlers)), "found %d" % len(blocks))
    for n, (text, problem) in enumerate(blocks, 1):
        name = "%s EXAMPLES block %d" % (page, n)
        if problem:
            tap.ok(False, name + ": roff source understood", problem)
            continue
        h = next((h for h in handlers if re.search(h[0], text, re.M)),
                 None)
        if h is None:
            tap.ok(False, "EXAMPLES block %d of page %s is not run by any "
                   "test" % (n, page), text)
            continue
        handlers.remove(h)
        h[1](name, text)
    for pat, fn in handlers:
        tap.ok(False, "%s: no EXAMPLES block for %s (/%s/)"
               % (page, fn.__name__, pat))

check.no_secrets()
tap.diag("all examples run in %.1f s" % (time.time() - T0))
sys.exit(tap.done())
