#!/usr/bin/python3
"""End-to-end: the Debian packages, built, installed, enabled with
pam-auth-update, logged in through and purged, in a throwaway root.

- Build: the source tree (the files git tracks or would add, as they are
  in the working tree; the whole tree less its builds where there is no
  git) is copied into a tmpfs of the test's private mount namespace and
  `dpkg-buildpackage -us -uc -b` builds it there with
  DEB_BUILD_OPTIONS="nocheck parallel=2": the unit tests that
  dh_auto_test runs in a normal build run elsewhere in the suite.  The
  source tree is never written.  The packages' contents and dependencies
  are checked, and lintian must find no error and no warning.
- Throwaway root: /etc, /usr and /var become overlays whose upper layers
  live in that tmpfs, /tmp and /run are tmpfs of their own, so dpkg's
  database, the PAM stacks and pam-auth-update's state change only here.
- dpkg -i; `pam-auth-update --enable certauth`; logins with the real
  pamtester through a service that is only `@include common-auth`,
  answered by the packaged certauth-sign, OCSP checked by the packaged
  helper against `openssl ocsp` on a private loopback; the stack
  pam-auth-update wrote, with pam_debug standing in for pam_certauth and
  pam_unix, for every pair of results they can return;
  `pam-auth-update --remove certauth` and `dpkg --purge`: the PAM stacks
  and pam-auth-update's state are back byte for byte, the caches gone.
  Then install, enable and purge once more without --remove: the prerm
  takes the profile out.
Prints TAP; the time of each step as comments.
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

T0 = time.time()
SRC = lib.srcdir()
WORK = lib.MNT + "/deb"         # the copy, the build and the packages
TREE = WORK + "/src"
PACKAGES = ("libpam-certauth", "certauth-client")
SERVICE = "certauth-deb"        # only "@include common-auth"
CACHE = "/var/cache/pam_certauth"
CONF = doors.CONF
BINDINGS = doors.BINDINGS
SIGN = "/usr/bin/certauth-sign"
ENROLL = "/usr/sbin/certauth-enroll"
# What installing, enabling, removing and purging may change only for a
# while: the PAM stacks and pam-auth-update's record of the profiles.
STATE = ["/etc/pam.d/common-" + n for n in (
    "auth", "account", "session", "session-noninteractive", "password")]
STATE += ["/var/lib/pam/" + n for n in (
    "auth", "account", "session", "session-noninteractive", "password",
    "seen")]
USERS = {"alice": lib.Account(2701, "alice-Pw-7431"),     # bound
         "carol": lib.Account(2702, "carol-Pw-2287"),     # no binding
         "ivan": lib.Account(2703, "ivan-Pw-9924")}       # bound, revoked
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
       "HOME": WORK, "DEBIAN_FRONTEND": "noninteractive"}
# pam_debug's names for the PAM return codes, every one of them.
CODES = ("success open_err symbol_err service_err system_err buf_err "
         "perm_denied auth_err cred_insufficient authinfo_unavail "
         "user_unknown maxtries new_authtok_reqd acct_expired session_err "
         "cred_unavail cred_expired cred_err no_module_data conv_err "
         "authtok_err authtok_recover_err authtok_lock_busy "
         "authtok_disable_aging try_again ignore abort authtok_expired "
         "module_unknown bad_item conv_again incomplete").split()


def preflight():
    if os.geteuid() != 0:
        lib.skip_all("not root: dpkg -i and the overlays need root")
    if not os.path.isfile(os.path.join(SRC, "debian", "control")):
        lib.skip_all("no debian/ in %s" % SRC)
    for tool, pkg in (("dpkg-buildpackage", "dpkg-dev"),
                      ("dh", "debhelper"), ("lintian", "lintian"),
                      ("pam-auth-update", "libpam-runtime"),
                      ("pamtester", "pamtester"), ("openssl", "openssl"),
                      ("mount", "mount")):
        if shutil.which(tool) is None:
            lib.skip_all("%s not installed (package %s; scripts/deps "
                         "installs it)" % (tool, pkg))
    try:
        lib.preflight()
    except lib.SkipAll as e:
        lib.skip_all(str(e))


def run(argv, **kw):
    """argv with the test's environment; never raises on failure."""
    kw.setdefault("env", ENV)
    return lib.run(argv, check=False, stdin=subprocess.DEVNULL, **kw)


def out(p):
    return "exit %d\n%s%s" % (p.returncode, p.stdout[-3000:],
                              p.stderr[-3000:])


def step(name, since):
    tap.diag("%s: %.1f s" % (name, time.time() - since))
    return time.time()


# ------------------------------------------------------------- the build

def source_files():
    """The source tree's files as a clone of it would hold them (what git
    tracks or would add, as they are now), or None without git."""
    p = subprocess.run(["git", "-C", SRC, "ls-files", "-z", "--cached",
                        "--others", "--exclude-standard"],
                       capture_output=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0 or not p.stdout:
        return None
    return sorted({f.decode() for f in p.stdout.split(b"\0") if f})


def copy_source():
    files = source_files()
    if files is None:
        # No git (a release tarball): everything but builds.
        def ignore(d, names):
            return [n for n in names if n in (".git", "autom4te.cache") or
                    n.startswith("pam_certauth-") or os.path.exists(
                        os.path.join(d, n, "config.status"))]
        shutil.copytree(SRC, TREE, symlinks=True, ignore=ignore,
                        dirs_exist_ok=True)
        return
    for f in files:
        src = os.path.join(SRC, f)
        if not os.path.lexists(src):
            continue                    # deleted, not yet committed
        dst = os.path.join(TREE, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


def build():
    os.makedirs(TREE, 0o755)
    copy_source()
    # Only now: the source tree may be below /tmp.
    lib.mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "certauth-deb",
              "/tmp")
    env = dict(ENV, DEB_BUILD_OPTIONS="nocheck parallel=2")
    p = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=TREE, env=env,
            timeout=900)
    with open(WORK + "/build.log", "w") as f:
        f.write(p.stdout + p.stderr)
    return p


def deb(name):
    found = [f for f in os.listdir(WORK)
             if f.startswith(name + "_") and f.endswith(".deb")]
    return os.path.join(WORK, found[0]) if len(found) == 1 else None


def contents(path):
    """The paths dpkg -c lists, without the leading '.', directories with
    their trailing '/'."""
    p = run(["dpkg-deb", "-c", path])
    return [l.split(None, 5)[5].split(" -> ")[0][1:]
            for l in p.stdout.splitlines() if len(l.split(None, 5)) == 6]


def field(path, name):
    return run(["dpkg-deb", "-f", path, name]).stdout.strip()


def check_packages(multiarch):
    debs = {n: deb(n) for n in PACKAGES}
    files = {n: contents(d) if d else [] for n, d in debs.items()}
    lib_files, client_files = files["libpam-certauth"], files[
        "certauth-client"]
    moddir = "/lib/%s/security" % multiarch
    want_lib = [moddir + "/pam_certauth.so",
                "/usr/libexec/certauth-ocsp-fetch",
                "/usr/libexec/certauth-ldap-fetch",
                "/usr/sbin/certauth-enroll",
                "/usr/share/pam-configs/certauth",
                "/usr/share/man/man8/pam_certauth.8.gz",
                "/usr/share/man/man5/pam_certauth.conf.5.gz",
                "/usr/share/man/man8/certauth-enroll.8.gz",
                "/usr/share/doc/libpam-certauth/copyright",
                "/usr/share/doc/libpam-certauth/pam_certauth.conf.example",
                "/usr/share/doc/libpam-certauth/pam.d-examples/sshd"]
    want_client = ["/usr/bin/certauth-sign", "/usr/bin/certauth-askpass",
                   "/usr/share/man/man1/certauth-sign.1.gz",
                   "/usr/share/man/man1/certauth-askpass.1.gz",
                   "/usr/share/doc/certauth-client/copyright"]
    missing = [f for f in want_lib if f not in lib_files] + [
        f for f in want_client if f not in client_files]
    # Nothing under /etc (the administrator's), no libtool archive, no
    # program in both.
    stray = [f for f in lib_files + client_files
             if f.startswith("/etc/") or f.endswith(".la")]
    both = set(f for f in lib_files if not f.endswith("/")) & set(
        client_files)
    tap.ok(all(debs.values()) and not missing and not stray and not both,
           "libpam-certauth holds the module (in %s), the OCSP and LDAP "
           "helpers in /usr/libexec, certauth-enroll, the pam-auth-update "
           "profile, the manual pages and documentation; certauth-client "
           "certauth-sign and certauth-askpass; nothing under /etc" % moddir,
           "debs: %r\nmissing: %r\nstray: %r\nin both: %r\n"
           "libpam-certauth: %s\ncertauth-client: %s"
           % (debs, missing, stray, sorted(both), " ".join(lib_files),
              " ".join(client_files)))
    if not all(debs.values()):
        return debs
    dep_lib = field(debs["libpam-certauth"], "Depends")
    dep_client = field(debs["certauth-client"], "Depends")

    def needs(depends, *libs):
        """Whether depends names a package starting with each of libs
        (libssl3, libcurl4, libldap-2.5-0: their names carry sonames)."""
        names = [x.split()[0] for x in re.split(r"[,|]", depends)
                 if x.strip()]
        return all(any(n.startswith(l) for n in names) for l in libs)
    tap.ok("$" not in dep_lib + dep_client and
           needs(dep_lib, "libc6", "libpam0g", "libssl", "libcurl",
                 "libldap", "libp11-kit", "libpam-runtime") and
           needs(dep_client, "libc6", "libssl", "libp11-kit") and
           not needs(dep_client, "libpam"),
           "Depends from ${shlibs:Depends} (libpam0g, libssl, libcurl and "
           "libldap for the helpers, libp11-kit) and libpam-runtime for "
           "pam-auth-update; the client needs no libpam",
           "libpam-certauth: %s\ncertauth-client: %s" % (dep_lib, dep_client))
    return debs


def check_lintian():
    changes = [os.path.join(WORK, f) for f in os.listdir(WORK)
               if f.endswith(".changes")]
    p = run(["lintian", "--pedantic", "-I", "--show-overrides"] +
            changes[:1] if changes else ["false"], timeout=300)
    tags = [l for l in p.stdout.splitlines() if re.match(r"[EW]: ", l)]
    tap.ok(changes and p.returncode == 0 and not tags,
           "lintian on the packages: no error, no warning (the overrides "
           "say why)", out(p))
    tap.diag("lintian: " + (p.stdout.strip().replace("\n", "\n  ") or
                            "(nothing to say)"))


# ---------------------------------------------------- the throwaway root

def throwaway_root():
    """Overlays over /etc, /usr and /var with their upper layers in the
    test's tmpfs, their roots owned and moded like the directories they
    cover (the module checks every directory above its files)."""
    for d in ("/etc", "/usr", "/var"):
        top = WORK + "/overlay" + d
        os.makedirs(top + "/upper")
        os.makedirs(top + "/work")
        st = os.stat(d)
        os.chown(top + "/upper", st.st_uid, st.st_gid)
        os.chmod(top + "/upper", stat.S_IMODE(st.st_mode))
        lib.mount("-t", "overlay", "certauth-deb", "-o",
                  "lowerdir=%s,upperdir=%s/upper,workdir=%s/work"
                  % (d, top, top), d)
    lib.mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "certauth-deb",
              "/run")


class Syslog:
    """What lib.pamtester and doors.session ask of a namespace."""

    def __init__(self):
        lib._setup_dev()
        self.log = lib.SyslogCollector("/dev/log")

    def mark(self):
        return self.log.mark()

    def logs_since(self, mark):
        return self.log.since(mark)


def snapshot():
    state = {}
    for path in STATE:
        try:
            with open(path, "rb") as f:
                state[path] = f.read()
        except FileNotFoundError:
            state[path] = None
    return state


def differs(before):
    now = snapshot()
    return [p for p in STATE if now[p] != before[p]]


def auth_lines():
    """The auth lines of common-auth, as [control, module, args...]."""
    with open("/etc/pam.d/common-auth") as f:
        text = f.read()
    lines = []
    for l in text.splitlines():
        l = l.strip()
        if l.startswith("auth"):
            m = re.match(r"auth\s+(\[[^]]*\]|\S+)\s+(\S+)\s*(.*)$", l)
            lines.append([m.group(1), m.group(2)] + m.group(3).split())
    return lines, text


def jump(control):
    m = re.search(r"success=(\d+)", control)
    return int(m.group(1)) if m else None


def check_stack():
    """common-auth as pam-auth-update wrote it: pam_certauth first of the
    Primary block, nouserok, every success jumping over pam_deny."""
    lines, text = auth_lines()
    mods = [l[1] for l in lines]
    ok = "pam_certauth.so" in mods and "pam_unix.so" in mods
    if ok:
        c, u = mods.index("pam_certauth.so"), mods.index("pam_unix.so")
        deny = mods.index("pam_deny.so") if "pam_deny.so" in mods else -1
        ok = (c < u < deny and
              lines[c][0] == "[success=%d default=ignore]" % (deny - c) and
              lines[c][2:] == ["nouserok"] and
              lines[u][0] == "[success=%d default=ignore]" % (deny - u) and
              lines[deny][0] == "requisite" and deny + 1 < len(lines) and
              lines[deny + 1][:2] == ["required", "pam_permit.so"])
    tap.ok(ok, "pam-auth-update --enable certauth: common-auth asks "
           "pam_certauth (nouserok) before pam_unix, each with "
           "[success=N default=ignore] whose success jumps over "
           "pam_deny to pam_permit", text)
    return lines


# ------------------------------------------------------------ the logins

def configure(pki, ocsp_url):
    lib.make_dir(doors.CERTDIR)
    for src, name in ((pki.ca, "ca.pem"), (pki.chain, "chain.pem")):
        shutil.copy(src, os.path.join(doors.CERTDIR, name))
        os.chmod(os.path.join(doors.CERTDIR, name), 0o644)
    conf = ("trust = ca\nca_file = %s/ca.pem\nchain_file = %s/chain.pem\n"
            % (doors.CERTDIR, doors.CERTDIR))
    if ocsp_url:
        conf += "ocsp = hard\nocsp_url = %s\n" % ocsp_url
    doors.write(CONF, conf)
    doors.write("/etc/pam.d/" + SERVICE, "@include common-auth\n")


def sign_with(key):
    """An answer function: the packaged certauth-sign with key."""
    class Packaged:
        sign = SIGN
    return lib.tool_sign(Packaged, key, host=socket.gethostname())


def login(user, answer=None, password=None):
    return doors.session(ns, ["pamtester", "-v", SERVICE, user,
                              "authenticate"], answer=answer,
                         password=password)


def logged_in(r):
    return r.status == 0 and "successfully authenticated" in r.transcript


def logins(pki, ocsp):
    alice, ivan, other = (pki.certs["alice"], pki.certs["ivan"],
                          pki.certs["other"])
    pw = {u: USERS[u].password for u in USERS}
    r = login("alice", sign_with(alice.key))
    tap.ok(logged_in(r) and len(r.challenges) == 1 and r.passwords == 0 and
           re.search(r"user alice authenticated with certificate",
                     r.module_log()),
           "bound user: the certificate answer from the packaged "
           "certauth-sign logs in, no password asked", r.diag())
    if ocsp:
        tap.ok(re.search(r"OCSP good", r.module_log()) and
               "from cache" not in r.module_log(),
               "... after the packaged OCSP helper (/usr/libexec) got a "
               "good answer", r.diag())
        cached = [f for f in os.listdir(CACHE + "/ocsp")
                  if not f.startswith(".")]
        st = [os.stat(os.path.join(CACHE, "ocsp", f)) for f in cached]
        tap.ok(len(cached) == 1 and all(s.st_uid == 0 and
                                        stat.S_IMODE(s.st_mode) == 0o600
                                        for s in st),
               "... and cached it in %s/ocsp, the directory the postinst "
               "made (root's, 0600)" % CACHE, repr(cached))
    r = login("carol", password=pw["carol"])
    tap.ok(logged_in(r) and not r.challenges and r.passwords == 1,
           "user with no binding: no challenge (nouserok), pam_unix's "
           "password logs in", r.diag())
    r = login("carol", password="not-" + pw["carol"])
    tap.ok(not logged_in(r) and r.status != 0 and r.passwords == 1,
           "user with no binding, wrong password: refused", r.diag())
    r = login("alice", sign_with(other.key), pw["alice"])
    tap.ok(logged_in(r) and len(r.challenges) == 1 and r.passwords == 1 and
           re.search(r"user alice refused: signature does not verify",
                     r.module_log()),
           "bound user, wrong answer (another key's signature), then the "
           "right password: logs in (certificate or password)", r.diag())
    r = login("alice", None, pw["alice"])
    tap.ok(logged_in(r) and len(r.challenges) == 1 and r.passwords == 1,
           "bound user, empty answer, then the right password: logs in",
           r.diag())
    r = login("alice", sign_with(other.key), "not-" + pw["alice"])
    tap.ok(not logged_in(r) and r.status != 0 and len(r.challenges) == 1
           and r.passwords == 1,
           "bound user, wrong answer and wrong password: refused", r.diag())
    r = login("nosuchuser", password="whatever")
    tap.ok(not logged_in(r) and r.status != 0 and not r.challenges,
           "no such account: no challenge, refused", r.diag())
    if ocsp:
        r = login("ivan", sign_with(ivan.key), "not-" + pw["ivan"])
        tap.ok(not logged_in(r) and r.status != 0 and
               re.search(r"revoked", r.module_log()),
               "bound user whose certificate is revoked (OCSP), signing "
               "rightly, wrong password: refused", r.diag())


def ignore_matrix(lines):
    """The stack pam-auth-update wrote, with pam_debug returning each
    pair of results in place of pam_certauth and pam_unix: only a success
    of one of them lets anyone in.  (PAM_INCOMPLETE from the first makes
    libpam return at once, so that the conversation can resume: a
    refusal too.)"""
    t = time.time()
    wrong, runs = [], 0
    for a in CODES:
        for b in CODES:
            text = ""
            for l in lines:
                if l[1] == "pam_certauth.so":
                    l = [l[0], "pam_debug.so", "auth=" + a]
                elif l[1] == "pam_unix.so":
                    l = [l[0], "pam_debug.so", "auth=" + b]
                text += "auth %s %s\n" % (l[0], " ".join(l[1:]))
            doors.write("/etc/pam.d/certauth-matrix", text)
            p = subprocess.run(["pamtester", "certauth-matrix", "alice",
                                "authenticate"], stdin=subprocess.DEVNULL,
                               capture_output=True)
            runs += 1
            granted = p.returncode == 0
            want = a == "success" or (b == "success" and a != "incomplete")
            if granted != want:
                wrong.append("certauth=%s unix=%s: %s" % (
                    a, b, "let in" if granted else "refused"))
    os.unlink("/etc/pam.d/certauth-matrix")
    tap.ok(runs == len(CODES) ** 2 and not wrong,
           "the generated stack for all %d pairs of results (pam_debug in "
           "place of pam_certauth and pam_unix): let in exactly when one of "
           "them succeeded; PAM_IGNORE, alone or twice, never lets in"
           % runs, "\n".join(wrong[:40]))
    step("result matrix (%d pamtester runs)" % runs, t)


# ------------------------------------------------------------ the run

def cache_dirs_made():
    bad = []
    for d in (CACHE, CACHE + "/ocsp", CACHE + "/ldap"):
        try:
            st = os.lstat(d)
        except FileNotFoundError:
            bad.append(d + ": missing")
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or \
                st.st_gid != 0 or stat.S_IMODE(st.st_mode) != 0o700:
            bad.append("%s: uid %d gid %d mode %o" % (
                d, st.st_uid, st.st_gid, st.st_mode))
    return bad


def installed(name):
    p = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", name])
    return p.stdout.strip() if p.returncode == 0 else ""


def purge(name_of_step):
    p = run(["dpkg", "--purge"] + list(PACKAGES))
    still = [n for n in PACKAGES if installed(n) not in ("", "un")]
    left = [f for f in ("/usr/share/pam-configs/certauth",
                        "/usr/libexec/certauth-ocsp-fetch",
                        "/usr/sbin/certauth-enroll", SIGN, CACHE)
            if os.path.lexists(f)]
    changed = differs(pristine)
    tap.ok(p.returncode == 0 and not still and not left and not changed,
           "%s: the PAM stacks and pam-auth-update's state are byte for "
           "byte as before the install, the cache directories and the "
           "packages' files gone" % name_of_step,
           out(p) + "\nstill installed: %r\nleft: %r\nchanged: %r%s" % (
               still, left, changed, "\n" + open(
                   "/etc/pam.d/common-auth").read() if changed else ""))


def install(name_of_step):
    p = run(["dpkg", "-i"] + [debs[n] for n in PACKAGES], timeout=300)
    seen = open("/var/lib/pam/seen").read().split()
    bad = cache_dirs_made()
    changed = differs(pristine)
    tap.ok(p.returncode == 0 and all(installed(n) == "ii" for n in PACKAGES)
           and "certauth" in seen and not bad and
           changed == ["/var/lib/pam/seen"],
           "%s: dpkg -i; the postinst registered the profile (Default: no: "
           "the PAM stacks unchanged) and made %s, ocsp/ and ldap/ "
           "root-owned, mode 0700" % (name_of_step, CACHE),
           out(p) + "\nseen: %r\ncache: %r\nchanged: %r" % (seen, bad,
                                                            changed))


def enable():
    p = run(["pam-auth-update", "--enable", "certauth"])
    tap.ok(p.returncode == 0 and not p.stderr.strip(),
           "pam-auth-update --enable certauth", out(p))


preflight()
lib._unshare_mount_ns()
os.umask(0o022)
lib.mount("-t", "tmpfs", "-o", "mode=0755", "certauth-deb", lib.MNT)
# Out of the directory the test started in: it may be below /tmp, which
# the build hides.
os.chdir(lib.MNT)
tap = lib.Tap()
multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()

t = time.time()
p = build()
tap.ok(p.returncode == 0, "dpkg-buildpackage -us -uc -b from a copy of the "
       "source tree (nocheck parallel=2)", out(p))
t = step("build", t)
if p.returncode != 0:
    sys.exit(tap.done())
debs = check_packages(multiarch)
check_lintian()
t = step("contents and lintian", t)
if not all(debs.values()):
    sys.exit(tap.done())
tap.ok(doors.pam_module_dir() == "/lib/%s/security" % multiarch or
       os.path.realpath(doors.pam_module_dir()) == os.path.realpath(
           "/lib/%s/security" % multiarch),
       "the package's module directory is the one that holds pam_unix.so",
       doors.pam_module_dir())

throwaway_root()
lib._setup_accounts(USERS)
ns = Syslog()
NETNS = lib.private_network()
pristine = snapshot()
p = run(["pam-auth-update", "--package"])
if differs(pristine) or "Local modifications" in p.stderr:
    # A host whose stacks pam-auth-update would not touch: start, in the
    # throwaway root only, from the stacks it writes itself.
    tap.diag("the host's PAM stacks are not as pam-auth-update left them; "
             "the test starts from pam-auth-update --force's here")
    run(["pam-auth-update", "--package", "--force"])
    pristine = snapshot()
t = step("throwaway root", t)

install("install")
t = step("dpkg -i", t)
enable()
lines = check_stack()

pki = lib.PKI()
for name in ("alice", "ivan", "other"):
    pki.issue(name, "p256")
pki.revoke(pki.certs["ivan"])
responder = None
if NETNS:
    responder = lib.OpensslOcsp(pki.dir + "/index.txt", lib.free_port(),
                                pki.int, pki.int, pki.int_key).start()
else:
    tap.diag("no private network namespace: no OCSP responder, so no "
             "OCSP cases")
configure(pki, responder.url if responder else None)
p = run([ENROLL, "add", "alice", pki.certs["alice"].cert])
c = run([ENROLL, "check", "alice"])
tap.ok(p.returncode == 0 and c.returncode == 0,
       "the packaged certauth-enroll binds alice and checks the "
       "configuration", out(p) + out(c))
# ivan's certificate was bound before it was revoked (certauth-enroll
# would refuse it now).
lib.bind(BINDINGS, "ivan", pki.certs["ivan"])
# certauth-enroll's own OCSP answers go: the logins fetch theirs.
if os.path.isdir(CACHE + "/ocsp"):
    for f in os.listdir(CACHE + "/ocsp"):
        os.unlink(os.path.join(CACHE, "ocsp", f))
t = step("PKI and configuration", t)
logins(pki, responder is not None)
t = step("logins", t)
ignore_matrix(lines)
if responder:
    responder.stop()
t = time.time()

p = run(["pam-auth-update", "--remove", "certauth"])
changed = differs(pristine)
tap.ok(p.returncode == 0 and changed == [],
       "pam-auth-update --remove certauth: the PAM stacks and "
       "pam-auth-update's state as before the install",
       out(p) + "\nchanged: %r" % changed)
purge("dpkg --purge")
t = step("remove and purge", t)

# Once more, purged without pam-auth-update --remove first: the prerm
# takes the enabled profile out of the stacks before the module goes.
install("reinstall")
enable()
with open("/etc/pam.d/common-auth") as f:
    enabled = "pam_certauth.so" in f.read()
tap.ok(enabled, "enabled again: pam_certauth.so in common-auth")
purge("dpkg --purge with the profile enabled")
t = step("second install, enable and purge", t)
tap.diag("total: %.1f s" % (time.time() - T0))
sys.exit(tap.done())
