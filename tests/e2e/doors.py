"""The real front doors: the machinery shared by the sshd, su, login and
sudo end-to-end tests.

Inside the private mount namespace of lib.Namespace, System makes the
host look as an administrator leaves it after `make install` and the
README's set-up, without changing the host itself:

- the PAM module directory (where pam_unix.so is) is a private copy that
  also holds the built pam_certauth.so, so pam.d files name the module
  without a path, exactly as the files in pam.d-examples/ do;
- /etc/security is a private copy holding pam_certauth.conf and
  certauth/ (trust anchors, CRL, bindings) at their default paths;
- /etc/pam.d holds Debian's default common-* stacks and, per test, a
  service file made from pam.d-examples/;
- /run and /var/log are private tmpfs (sshd's privilege separation
  directory, sudo's timestamps; wtmp, btmp and lastlog).

Session drives a real program on a pty the way a person would: it answers
every certificate challenge and every password prompt, and types shell
commands once a shell is up.
"""

import os
import re
import shutil
import socket
import subprocess
import time

import lib

SECURITY = "/etc/security"
CONF = SECURITY + "/pam_certauth.conf"
CERTDIR = SECURITY + "/certauth"
BINDINGS = CERTDIR + "/bindings"
EXAMPLES = os.path.join(lib.srcdir(), "pam.d-examples")

# Debian 12's stacks as pam-auth-update writes them with only pam_unix
# enabled (no pam_systemd: no systemd runs here).
COMMON = {
    "common-auth":
        "auth [success=1 default=ignore] pam_unix.so nullok\n"
        "auth requisite pam_deny.so\n"
        "auth required pam_permit.so\n",
    "common-account":
        "account [success=1 new_authtok_reqd=done default=ignore] "
        "pam_unix.so\n"
        "account requisite pam_deny.so\n"
        "account required pam_permit.so\n",
    "common-session":
        "session [default=1] pam_permit.so\n"
        "session requisite pam_deny.so\n"
        "session required pam_permit.so\n"
        "session required pam_unix.so\n",
    "common-password":
        "password [success=1 default=ignore] pam_unix.so obscure yescrypt\n"
        "password requisite pam_deny.so\n"
        "password required pam_permit.so\n",
}
COMMON["common-session-noninteractive"] = COMMON["common-session"]

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "TERM": "dumb", "LANG": "C.UTF-8"}
# Passed on to a program that loads the module, so that a sanitizer build
# of it finds its runtime (scripts/test preloads it for the suite).
SANITIZER_ENV = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


def pam_module_dir():
    """The directory that holds pam_unix.so."""
    for d in ("/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/"
              "security", "/lib64/security", "/usr/lib64/security",
              "/lib/security", "/usr/lib/security"):
        if os.path.exists(os.path.join(d, "pam_unix.so")):
            return d
    out = subprocess.run(["sh", "-c", "cc -print-multiarch"],
                         capture_output=True, text=True).stdout.strip()
    raise lib.SkipAll("no pam_unix.so found (multiarch %r)" % out)


def _private_copy(path, ignore=()):
    """Bind a copy of directory path over it; returns the copy."""
    copy = lib.MNT + "/private" + path
    shutil.copytree(path, copy, symlinks=True,
                    ignore=shutil.ignore_patterns(*ignore))
    st = os.stat(path)
    os.chown(copy, st.st_uid, st.st_gid)
    os.chmod(copy, st.st_mode & 0o7777)
    lib.mount("--bind", copy, path)
    return copy


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, 0, 0)
    os.chmod(path, mode)


def private_run(build):
    """A /run of the test's own (sshd's privilege separation directory
    in it), keeping the OCSP and LDAP helpers of a build tree that
    scripts/build placed under /run in sight."""
    # A build tree below a world-writable or private directory has
    # its OCSP helper under /run (scripts/build): it stays in sight.
    helper_dir = os.path.dirname(os.path.realpath(
        lib.ocsp_helper(build)))
    kept = helper_dir.startswith("/run/")
    if kept:
        lib.make_dir(lib.MNT + "/.helper")
        lib.mount("--bind", helper_dir, lib.MNT + "/.helper")
    lib.mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev",
              "certauth-run", "/run")
    if kept:
        os.makedirs(helper_dir, 0o755)
        lib.mount("--bind", lib.MNT + "/.helper", helper_dir)
    lib.make_dir("/run/sshd")


class System:
    """The installed module at its default paths (see the module doc)."""

    def __init__(self, build, pki):
        if lib.default_config() != CONF:
            lib.skip_all("the module's default configuration is %s; these "
                         "tests need a build configured with --sysconfdir=/etc "
                         "(scripts/build)" % lib.default_config())
        self.build = build
        self.pki = pki
        self.moddir = pam_module_dir()
        _private_copy(self.moddir)
        shutil.copy(build.module, os.path.join(self.moddir,
                                               "pam_certauth.so"))
        os.chmod(os.path.join(self.moddir, "pam_certauth.so"), 0o644)
        # The host's own pam_certauth set-up, if any, stays out.
        _private_copy(SECURITY, ignore=("pam_certauth.conf", "certauth"))
        lib.make_dir(CERTDIR)
        for name, src in (("ca.pem", pki.ca), ("chain.pem", pki.chain)):
            self._install(src, name)
        self.update_crl()
        for name, text in COMMON.items():
            write(os.path.join(lib.PAMD, name), text)
        private_run(build)
        # login, sshd and pam_lastlog record logins and failures here.
        lib.mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev",
                  "certauth-log", "/var/log")
        for name in ("wtmp", "btmp", "lastlog"):
            write("/var/log/" + name, "", 0o600 if name == "btmp" else 0o644)

    def _install(self, src, name):
        dst = os.path.join(CERTDIR, name)
        shutil.copy(src, dst)
        os.chmod(dst, 0o644)

    def update_crl(self):
        """A fresh CRL from the PKI, installed as certauth/crl.pem."""
        self._install(self.pki.gencrl(), "crl.pem")

    def configure(self, text):
        """Write /etc/security/pam_certauth.conf."""
        write(CONF, text)

    def enroll(self, user, cert):
        """certauth-enroll add, with the default configuration."""
        return lib.run([self.build.enroll, "add", user, cert.cert])

    def install_example(self, name, variant=None, service=None):
        """/etc/pam.d/<service> from pam.d-examples/<name> with auth
        variant number `variant` active (None: as shipped)."""
        text = example(name, variant)
        write(os.path.join(lib.PAMD, service or name), text)
        return text


# --------------------------------------------------- example variants
#
# Every file in pam.d-examples/ writes its auth choices as numbered
# blocks: a line "# N. ..." opens one, a blank line ends it, and its
# "auth"/"@include" lines are active or commented out with a leading "#".

BLOCK = re.compile(r"^# (\d)\. ")
STACK_LINE = re.compile(r"^(#?)(auth\s|@include\s)")


def _blocks(text):
    """[(number, [line index, ...] of its stack lines)] of text."""
    out, cur = [], None
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = BLOCK.match(line)
        if m:
            cur = (int(m.group(1)), [])
            out.append(cur)
        elif line.strip() == "":
            cur = None
        elif cur is not None and STACK_LINE.match(line):
            cur[1].append(i)
    return out, lines


def active_variants(text):
    """Numbers of the blocks whose stack lines are all uncommented."""
    blocks, lines = _blocks(text)
    return [n for n, idx in blocks
            if idx and all(not lines[i].startswith("#") for i in idx)]


def variants(name):
    blocks, _ = _blocks(example(name))
    return [n for n, idx in blocks if idx]


def example(name, variant=None):
    with open(os.path.join(EXAMPLES, name)) as f:
        text = f.read()
    if variant is None:
        return text
    blocks, lines = _blocks(text)
    if variant not in [n for n, _ in blocks]:
        raise ValueError("%s has no variant %d" % (name, variant))
    for n, idx in blocks:
        for i in idx:
            bare = lines[i].lstrip("#")
            lines[i] = bare if n == variant else "#" + bare
    return "\n".join(lines)


# ------------------------------------------------------------ sessions

CHALLENGE = r"certauth challenge: (\S+)"
RESPONSE = "certauth response: "
PASSWORD = r"[Pp]assword[^\r\n]*: ?"
PIN = r"PIN for token '([^'\r\n]*)': "
SHELL_PROMPT = "e2e-shell$ "
PROFILE = "PS1='%s'\n" % SHELL_PROMPT


def shell_profile(user, uid):
    """~/.profile with a prompt that Session can recognise."""
    path = "%s/home/%s/.profile" % (lib.MNT, user)
    write(path, PROFILE)
    os.chown(path, uid, uid)


class Result:
    def __init__(self):
        self.challenges = []
        self.answers = []
        self.passwords = 0
        self.pins = []       # the token labels whose PIN was asked
        self.transcript = ""
        self.output = ""     # what the program printed after the last answer
        self.status = None
        self.logs = []
        self.error = None
        self.elapsed = 0.0

    def printed(self, line):
        """True when `line` is a whole line of the output."""
        return re.search(r"(?m)^%s\r?$" % re.escape(line),
                         self.output) is not None

    def module_log(self):
        return "\n".join(lib.module_lines(self.logs))

    def diag(self, extra=""):
        lines = ["syslog: " + l for l in lib.module_lines(self.logs)] or [
            "syslog: (no pam_certauth line)"]
        lines.append("challenges: %d, password prompts: %d, PIN prompts: "
                     "%d, exit %s" % (len(self.challenges), self.passwords,
                                      len(self.pins), self.status))
        tail = self.transcript.replace("\r", "").strip().splitlines()[-6:]
        lines += ["tty: " + l for l in tail]
        if self.error:
            lines.append("driver: " + self.error)
        if extra:
            lines.append("problem: " + extra)
        return lib.LogDiag("\n".join(lines))


def session(ns, argv, answer=None, password=None, commands=None,
            stop=None, timeout=30, module_host=True, pin=None,
            extra_env=None):
    """Run argv on a new pty until it exits.  Each challenge is answered
    by answer(C) (None: an empty line); each password prompt with
    password (None: an empty line); each token PIN prompt with pin
    (None: an empty line); when a shell prompt appears,
    commands is typed (then the shell should exit).  A match of the
    regex stop ends the session early (login asking for a name again).
    module_host: argv loads the module itself (pamtester, login, su,
    sudo), not a client of a program that does (ssh).  extra_env:
    more variables for argv's environment.  Returns a Result."""
    import pexpect
    res = Result()
    mark = ns.mark()
    t0 = time.time()
    env = dict(ENV)
    if module_host:
        env.update((k, os.environ[k]) for k in SANITIZER_ENV
                   if k in os.environ)
    env.update(extra_env or {})
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8",
                          timeout=timeout, codec_errors="replace")
    child.delaybeforesend = None
    pats = [CHALLENGE, re.escape(RESPONSE), PASSWORD,
            re.escape(SHELL_PROMPT), PIN, stop or r"(?!x)x", pexpect.EOF]
    after = 0
    try:
        while True:
            i = child.expect(pats)
            res.transcript += child.before + (
                child.after if isinstance(child.after, str) else "")
            if i == 0:
                res.challenges.append(child.match.group(1))
            elif i == 1:
                c = res.challenges[-1] if res.challenges else None
                res.answers.append(answer(c) if answer and c else "")
                lib.send_line(child, res.answers[-1])
                after = len(res.transcript)
            elif i == 2:
                res.passwords += 1
                lib.send_line(child, password or "")
                after = len(res.transcript)
            elif i == 3:
                if commands is None:
                    res.error = "a shell started and nothing was typed"
                    break
                lib.send_line(child, commands)
                after = len(res.transcript)
            elif i == 4:
                res.pins.append(child.match.group(1))
                lib.send_line(child, pin or "")
                after = len(res.transcript)
            else:
                break
    except pexpect.TIMEOUT:
        res.error = "timeout after %d s" % timeout
    except Exception as e:      # the answer function failed, for instance
        res.error = "%s: %s" % (type(e).__name__, e)
    child.close(force=True)
    res.elapsed = time.time() - t0
    res.output = res.transcript[after:]
    res.status = child.exitstatus if child.exitstatus is not None else (
        128 + (child.signalstatus or 0))
    res.logs = ns.logs_since(mark)
    return res


def as_user(user):
    """argv prefix that runs a command as user, like a login of theirs
    would (setpriv keeps set-uid programs working)."""
    return ["setpriv", "--reuid=" + user, "--regid=" + user,
            "--init-groups", "--reset-env"]


class Sshd:
    """The real OpenSSH server in the foreground on 127.0.0.1:port, its
    Ed25519 host key and configuration made in directory d: PAM's
    keyboard-interactive the only method (the service's /etc/pam.d/sshd
    decides the rest); extra: more sshd_config lines, after these (for
    sshd the first value of a keyword wins).  Its log: d/sshd.log.  ok: it
    listens."""

    BINARY = "/usr/sbin/sshd"

    def __init__(self, d, port, extra=""):
        lib.make_dir(d)
        self.port, self.log_path = port, d + "/sshd.log"
        self.hostkey = d + "/ssh_host_ed25519_key"
        lib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                 self.hostkey])
        self.config = d + "/sshd_config"
        write(self.config, "ListenAddress 127.0.0.1:%d\nHostKey %s\n"
              "PidFile none\nUseDNS no\nUsePAM yes\n"
              "KbdInteractiveAuthentication yes\n"
              "AuthenticationMethods keyboard-interactive\n"
              "PasswordAuthentication no\nPrintMotd no\n%s"
              % (port, self.hostkey, extra))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.BINARY, "-D", "-e", "-f",
                                      self.config],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)
        self.ok = lib.wait_port(port, True)

    def known_hosts_line(self, name):
        """The line of a known_hosts file that names this server's host
        key for the name the client is given."""
        with open(self.hostkey + ".pub") as f:
            kind, key = f.read().split()[:2]
        host = name if self.port == 22 else "[%s]:%d" % (name, self.port)
        return "%s %s %s\n" % (host, kind, key)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-2000:]

    def stop(self):
        lib.terminate(self.proc)
        self._log.close()


def signer(build):
    """An answer maker: sign(cert) answers with certauth-sign for this
    host, as the user of cert would."""
    host = socket.gethostname()
    return lambda cert: lib.tool_sign(build, cert.key, host=host)


class Checks:
    """The assertions every front-door test makes on a Result."""

    def __init__(self, tap):
        self.tap = tap
        self.results = []

    def shipped(self, system, name, active, count=3):
        """pam.d-examples/<name> has auth variants 1 to count with
        `active` the active one; installs it as shipped."""
        got, have = active_variants(example(name)), variants(name)
        self.tap.ok(got == [active] and have == list(range(1, count + 1)),
                    "pam.d-examples/%s: variants 1-%d, %s active"
                    % (name, count, TITLES[active]),
                    "active: %s, variants: %s" % (got, have))
        system.install_example(name)

    def no_secrets(self):
        """No nonce and no answer of any checked login in any log line."""
        leaks = []
        for r in self.results:
            secrets = [c.rsplit(":", 1)[-1] for c in r.challenges]
            secrets += [a for a in r.answers if len(a) >= 16]
            leaks += [l for l in r.logs for s in secrets if s in l]
        return self.tap.ok(
            not leaks and self.results,
            "no nonce or answer in syslog (%d logins)" % len(self.results),
            "\n".join(leaks[:5]))

    def logged_in(self, name, r, user, fingerprint=None, output=None,
                  challenges=1, passwords=0):
        self.results.append(r)
        problems = []
        if r.error:
            problems.append(r.error)
        if r.status != 0:
            problems.append("exit status %s" % r.status)
        if not r.printed(output or user):
            problems.append("%r not printed" % (output or user))
        if len(r.challenges) != challenges:
            problems.append("%d challenges, expected %d"
                            % (len(r.challenges), challenges))
        if r.passwords != passwords:
            problems.append("%d password prompts, expected %d"
                            % (r.passwords, passwords))
        log = r.module_log()
        if fingerprint and not (
                "user %s authenticated with certificate" % user in log and
                fingerprint in log.lower().replace(":", "")):
            problems.append("no success line with the fingerprint")
        return self.tap.ok(not problems, name, r.diag("; ".join(problems)))

    def refused(self, name, r, reason=None, output=None, challenges=1,
                passwords=None, says=None):
        self.results.append(r)
        problems = []
        if says and not re.search(says, r.transcript):
            problems.append("the program did not say /%s/" % says)
        if r.error and "timeout" in r.error:
            problems.append(r.error)
        if r.status == 0:
            problems.append("exit status 0")
        if output and r.printed(output):
            problems.append("%r was printed: the login went through"
                            % output)
        if challenges is not None and len(r.challenges) != challenges:
            problems.append("%d challenges, expected %d"
                            % (len(r.challenges), challenges))
        if passwords is not None and r.passwords != passwords:
            problems.append("%d password prompts, expected %d"
                            % (r.passwords, passwords))
        if reason and not re.search(reason, r.module_log(), re.I):
            problems.append("syslog reason does not match /%s/" % reason)
        return self.tap.ok(not problems, name, r.diag("; ".join(problems)))


# ------------------------------------------------------------- README

def readme_section(title):
    """The text of the README.md section headed `## title`."""
    with open(os.path.join(lib.srcdir(), "README.md")) as f:
        text = f.read()
    m = re.search(r"(?ms)^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text)
    return m.group(1) if m else ""


def heredocs(text):
    """{path: content} of every `cat > path <<'EOF'` in text, with the
    indentation of the Markdown list it stands in taken off."""
    out = {}
    for m in re.finditer(r"(?ms)^( *)cat > (\S+) <<'EOF'\n(.*?)\n\1EOF$",
                         text):
        ind = len(m.group(1))
        out[m.group(2)] = "".join(l[ind:] + "\n"
                                  for l in m.group(3).split("\n"))
    return out


WALKTHROUGH = "SSH certificate login in five minutes"


def readme_conf():
    """The pam_certauth.conf of the README's walkthrough."""
    return heredocs(readme_section(WALKTHROUGH)).get(CONF)


def installed(build, certs):
    """A PKI, the System, the README's pam_certauth.conf, and each
    certificate of certs ({user: key kind}) issued and enrolled with
    certauth-enroll.  Also issues "other", a valid certificate bound to
    nobody (a wrong key for everyone).  Returns (system, {name: Cert})."""
    pki = lib.PKI()
    out = {u: pki.issue(u, kind) for u, kind in certs.items()}
    out["other"] = pki.issue("other", "ed25519")
    pki.gencrl()
    system = System(build, pki)
    system.configure(readme_conf())
    for u in certs:
        system.enroll(u, out[u])
    return system, out


# ------------------------------------------------ the variant matrix

TITLES = {1: "certificate only", 2: "certificate or password",
          3: "certificate and password",
          4: "certificate from the ssh-agent, or password"}


class Door:
    """What the matrix needs to know of one front door.  run(user,
    answer, password) logs in once and returns a Result; output(user) is
    the line a successful login prints; tries is how many times the
    program asks again after a failure (sudo: 3); refusal, what it
    prints when it refuses."""

    def __init__(self, name, run, output, tries=1, refusal=None):
        self.name, self.run, self.output, self.tries = name, run, output, tries
        self.refusal = refusal     # a regex the program prints on refusal


def run_variants(check, system, door, order, user, nobody, good, wrong,
                 fingerprint, passwords):
    """Install each auth variant in order of pam.d-examples/<door> and
    log in through it with every combination that decides it (below)."""
    for variant in order:
        system.install_example(door.name, variant=variant)
        variant_matrix(check, door, variant, user, nobody, good, wrong,
                       fingerprint, passwords)


def variant_matrix(check, door, variant, user, nobody, good, wrong,
                   fingerprint, passwords):
    """Log in through auth variant `variant` of pam.d-examples/<door>
    (already installed) with every combination that decides it: a good
    or wrong answer, the right or a wrong password, and an account with no
    binding (nobody).  Variant 4 (sudo's agent=try) runs with no agent
    in reach: it must then do what variant 2 does.  passwords: {user:
    password}."""
    t = door.tries
    pre = "%s variant %d (%s)%s: " % (door.name, variant, TITLES[variant],
                                      ", no agent" if variant == 4 else "")
    pw, nobody_pw = passwords[user], passwords[nobody]
    out, nout = door.output(user), door.output(nobody)

    def ok(name, r, who=user, output=out, **kw):
        check.logged_in(pre + name, r, who, output=output, **kw)

    def no(name, r, output=out, **kw):
        check.refused(pre + name, r, output=output, says=door.refusal, **kw)

    if variant == 1:
        ok("good answer logs in, no password asked",
           door.run(user, good, pw), fingerprint=fingerprint)
        no("wrong key is refused", door.run(user, wrong, pw),
           reason="user %s refused: signature does not verify" % user,
           challenges=t, passwords=0)
        no("no binding: a challenge all the same, refused",
           door.run(nobody, wrong, nobody_pw), output=nout, challenges=t,
           passwords=0,
           reason="user %s refused: no certificate bound" % nobody)
    elif variant in (2, 4):
        r = door.run(user, good, pw)
        ok("good answer logs in, no password asked", r,
           fingerprint=fingerprint)
        if variant == 4:
            check.tap.ok(
                "user %s: agent mode: no SSH_AUTH_SOCK in the PAM or the "
                "process environment; asking through the conversation"
                % user in r.module_log(),
                pre + "agent=try logs why it asks the challenge", r.diag())
        ok("wrong answer falls back to the password",
           door.run(user, wrong, pw), passwords=1)
        ok("no binding (nouserok): no challenge, the password only",
           door.run(nobody, wrong, nobody_pw), who=nobody, output=nout,
           challenges=0, passwords=1)
        no("wrong answer and wrong password are refused",
           door.run(user, wrong, "wrong password"), challenges=t,
           passwords=t, reason="signature does not verify")
    elif variant == 3:
        ok("good answer and password log in", door.run(user, good, pw),
           passwords=1, fingerprint=fingerprint)
        no("good answer, wrong password is refused",
           door.run(user, good, "wrong password"), challenges=t,
           passwords=t)
        no("wrong answer, good password is refused (the password is "
           "still asked)", door.run(user, wrong, pw), challenges=t,
           passwords=t, reason="signature does not verify")
    else:
        raise ValueError("no login matrix for variant %d" % variant)
