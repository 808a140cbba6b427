#!/usr/bin/python3
"""End-to-end: CRL upkeep.  A CRL past its nextUpdate refuses the login at
LOG_ERR, naming its file, issuer and nextUpdate in full; crl_grace keeps
it in use with a warning; a CRL about to expire is warned of, at login
and by certauth-enroll check alike.  The refresh script of
pam_certauth.conf(5), "CRL UPKEEP", taken from the manual page as
written, fetches a fresh CRL from a loopback HTTP server and puts it in
place, after which the same login succeeds without any reload; a
download signed by the wrong CA, garbage or a missing file leaves the
installed CRL as it was.  Prints TAP.
"""

import functools
import http.server
import os
import re
import shutil
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

USERS = {"alice": 2801}
TRUST = "/mnt/trust"
SERVE = "/mnt/www"
BIND = "/mnt/bindings"
CRL = TRUST + "/crl.pem"
SCRIPT = "/mnt/certauth-crl-refresh"
SVC = "certauth-crl"

build, ns, tap = lib.start(USERS, tools=("openssl", "mount", "pamtester",
                                         "curl"))
if not lib.private_network():
    tap.diag("no private network namespace: the CRL server listens on the "
             "host's loopback")
HOST = socket.gethostname()
LOG_ERR, LOG_WARNING, LOG_INFO = 3, 4, 6


def man_script():
    """The refresh script: the .EX block of pam_certauth.conf(5), CRL
    UPKEEP, that starts with #!/bin/sh, its roff escapes undone."""
    with open(os.path.join(lib.srcdir(), "man", "pam_certauth.conf.5")) as f:
        text = f.read()
    m = re.search(r"(?ms)^\.SH CRL UPKEEP\n(.*?)^\.SH ", text)
    if m is None:
        return None
    for block in re.findall(r"(?ms)^\.EX\n(.*?)^\.EE", m.group(1)):
        if block.startswith("#!/bin/sh\n"):
            return block.replace("\\-", "-").replace("\\e", "\\")
    return None


def crl_field(path, field):
    """issuer (RFC 2253) or nextUpdate ("YYYY-MM-DD HH:MM:SS UTC") of a
    CRL, as the openssl command line reads it."""
    if field == "issuer":
        out = lib.run(["openssl", "crl", "-in", path, "-noout", "-issuer",
                       "-nameopt", "RFC2253"]).stdout
        return out.split("=", 1)[1].strip()
    out = lib.run(["openssl", "crl", "-in", path, "-noout",
                   "-nextupdate"]).stdout
    t = time.strptime(out.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y GMT")
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", t)


def gencrl(out, *period):
    """A CRL of the intermediate, PEM, valid for the given period."""
    lib.run(["openssl", "ca", "-config", pki.cnf, "-gencrl"] + list(period)
            + ["-out", out])
    return out


def install(src):
    shutil.copy(src, CRL)
    os.chown(CRL, 0, 0)
    os.chmod(CRL, 0o644)


def login(svc=SVC):
    """pamtester, and the module's syslog entries as (level, text)."""
    mark = ns.mark()
    r = lib.pamtester(ns, svc, "alice", lib.tool_sign(build, alice.key,
                                                      host=HOST))
    r.entries = [(pri & 7, body) for pri, body in ns.log.entries_since(mark)
                 if "pam_certauth(" in body]
    return r


def logged(r, svc, level, text):
    """Whether the login logged exactly text at level."""
    tail = "pam_certauth(%s:auth): %s" % (svc, text)
    return any(l == level and b.endswith(tail) for l, b in r.entries)


def diag(r, extra=""):
    lines = ["syslog <%d>: %s" % e for e in r.entries] or ["(no line)"]
    return lib.LogDiag("\n".join(lines + [extra]))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    handler = functools.partial(Quiet, directory=directory)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def refresh(name):
    """The script as written, fetching http://127.0.0.1:<port>/<name>."""
    env = dict(os.environ, CRL_URL="http://127.0.0.1:%d/%s" % (PORT, name),
               CRL_ISSUER=pki.int, CRL_FILE=CRL)
    p = lib.run([SCRIPT], check=False, env=env)
    p.diag = lib.LogDiag("exit %d\nstdout: %s\nstderr: %s"
                         % (p.returncode, p.stdout.strip(),
                            p.stderr.strip()))
    return p


def contents(path):
    with open(path, "rb") as f:
        return f.read()


def leftovers():
    return [n for n in os.listdir(TRUST) if n.startswith(".crl-refresh")]


# ---------------------------------------------------------------- set up

pki = lib.PKI()
alice = pki.issue("alice", "p256")
lib.make_dir(TRUST)
lib.make_dir(SERVE)
for src, name in ((pki.ca, "ca.pem"), (pki.chain, "chain.pem")):
    shutil.copy(src, os.path.join(TRUST, name))
lib.bind(BIND, "alice", alice)
ARGS = ["ca_file=" + TRUST + "/ca.pem", "chain_file=" + TRUST + "/chain.pem",
        "crl_file=" + CRL, "bindings_dir=" + BIND]
lib.service(SVC, build.module, ARGS)
lib.service(SVC + "-grace", build.module, ARGS + ["crl_grace=3600"])

script = man_script()
tap.ok(script is not None and "mv -f" in script and
       not re.search(r"\\[-e&|(]", script),
       "pam_certauth.conf(5), CRL UPKEEP, shows the refresh script",
       script)
if script is None:
    sys.exit(tap.done())
with open(SCRIPT, "w") as f:
    f.write(script)
os.chmod(SCRIPT, 0o755)

srv = serve(SERVE)
PORT = srv.server_address[1]

# ------------------------------------------------- an expired CRL refuses

expired = gencrl(pki.dir + "/expired.pem", "-crlsec", "1")
# The CRL the CA publishes next (a higher CRL number): DER, as
# distribution points serve it.
fresh = gencrl(pki.dir + "/fresh.pem", "-crldays", "30")
lib.run(["openssl", "crl", "-in", fresh, "-outform", "DER", "-out",
         SERVE + "/int.crl"])
install(expired)
time.sleep(2)
ISSUER = crl_field(expired, "issuer")
NEXT = crl_field(expired, "nextUpdate")
refusal = ("user alice refused: CRL in crl_file %s (issuer %s) expired at "
           "%s (its nextUpdate), beyond crl_grace=0; install a newer CRL "
           "from that CA, or check this host's clock" % (CRL, ISSUER, NEXT))
r = login()
tap.ok(not r.ok and logged(r, SVC, LOG_ERR, refusal),
       "a CRL past its nextUpdate refuses the login at LOG_ERR, naming "
       "file, issuer and nextUpdate", diag(r, "expected <3>: " + refusal))

r = login(SVC + "-grace")
late = re.compile(
    r"pam_certauth\(%s-grace:auth\): CRL in crl_file %s \(issuer %s\) "
    r"expired at %s \(its nextUpdate\), \d+ seconds? ago; still used under "
    r"crl_grace=3600, so revocations published since are not seen: "
    r"install a newer CRL from that CA$"
    % (SVC, re.escape(CRL), re.escape(ISSUER), NEXT))
tap.ok(r.ok and any(l == LOG_WARNING and late.search(b)
                    for l, b in r.entries),
       "crl_grace=3600: the same CRL is used, with a warning at "
       "LOG_WARNING", diag(r))

# ------------------------------------------------------ the refresh script

before = contents(CRL)
p = refresh("int.crl")
st = os.stat(CRL)
tap.ok(p.returncode == 0 and contents(CRL) == contents(SERVE + "/int.crl")
       and st.st_uid == 0 and st.st_mode & 0o7777 == 0o644
       and not leftovers(),
       "the script installs the fresh CRL, root-owned 0644, no temporary "
       "file left", p.diag)
r = login()
tap.ok(r.ok and logged(r, SVC, LOG_INFO, "user alice authenticated with "
                       "certificate SHA256:%s %s" % (alice.fingerprint,
                                                     alice.subject)),
       "the login refused with the expired CRL now succeeds, no reload",
       diag(r))
installed = contents(CRL)

# A CRL of a CA with the intermediate's very name, but another key.
imp = pki.dir + "/impostor"
os.makedirs(imp + "/db", exist_ok=True)
open(imp + "/db/index.txt", "w").close()
with open(imp + "/db/crlnumber", "w") as f:
    f.write("01\n")
with open(imp + "/ca.cnf", "w") as f:
    f.write("[ca]\ndefault_ca = x\n[x]\ndatabase = %s/db/index.txt\n"
            "crlnumber = %s/db/crlnumber\ndefault_md = sha256\n"
            % (imp, imp))
lib.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", imp + "/ca.key",
         "-out", imp + "/ca.pem", "-days", "30", "-subj",
         "/O=certauth e2e/CN=Test Intermediate CA"])
lib.run(["openssl", "ca", "-config", imp + "/ca.cnf", "-gencrl", "-keyfile",
         imp + "/ca.key", "-cert", imp + "/ca.pem", "-crldays", "30",
         "-out", imp + "/crl.pem"])
lib.run(["openssl", "crl", "-in", imp + "/crl.pem", "-outform", "DER",
         "-out", SERVE + "/impostor.crl"])
# And one of the root, whose signature the intermediate's cannot match.
lib.run(["openssl", "crl", "-in", pki.root_crl("root"), "-outform", "DER",
         "-out", SERVE + "/root.crl"])
with open(SERVE + "/garbage.crl", "w") as f:
    f.write("<html>503 Service Unavailable</html>\n")

for name, what in (("impostor.crl", "a CRL signed by another key under the "
                    "CA's name"),
                   ("root.crl", "a CRL of another CA"),
                   ("garbage.crl", "a garbage download"),
                   ("missing.crl", "a download that fails (404)")):
    p = refresh(name)
    tap.ok(p.returncode != 0 and contents(CRL) == installed
           and not leftovers(),
           "%s: the script fails and leaves the installed CRL in place"
           % what, p.diag)
r = login()
tap.ok(r.ok, "the installed CRL still serves", diag(r))

# A replay: a CRL of the right CA, in date, but older (a lower CRL
# number) than the one in place, which it would undo.
with open(pki.dir + "/crlnumber") as f:
    next_number = f.read()
with open(pki.dir + "/crlnumber", "w") as f:
    f.write("01\n")
lib.run(["openssl", "crl", "-in", gencrl(pki.dir + "/older.pem", "-crldays",
                                         "30"),
         "-outform", "DER", "-out", SERVE + "/older.crl"])
with open(pki.dir + "/crlnumber", "w") as f:
    f.write(next_number)
p = refresh("older.crl")
tap.ok(p.returncode == 1 and contents(CRL) == installed and not leftovers()
       and re.search(r"its CRL number \(1\) is below that of %s \([0-9A-F]+\)"
                     % re.escape(CRL), p.stderr),
       "an older CRL of the same CA (a replay): the script fails and "
       "leaves the installed CRL in place", p.diag)
p = refresh("int.crl")
tap.ok(p.returncode == 0 and contents(CRL) == installed and not leftovers()
       and not p.stderr,
       "the CRL in place is already the latest: nothing changes, exit 0",
       p.diag)

# ------------------------------------------------ a CRL about to expire

soon = gencrl(pki.dir + "/soon.pem", "-crlhours", "2")
install(soon)
NEXT = crl_field(soon, "nextUpdate")
warning = re.compile(
    r"CRL in crl_file %s \(issuer %s\) expires at %s \(its nextUpdate\), "
    r"in \d+ seconds \(about \d+ (minutes|hours)\); install a newer CRL "
    r"from that "
    r"CA before then$" % (re.escape(CRL), re.escape(ISSUER), NEXT))
r = login()
tap.ok(r.ok and any(l == LOG_WARNING and warning.search(b)
                    for l, b in r.entries),
       "a CRL that expires within crl_warn: a warning at LOG_WARNING, the "
       "login succeeds", diag(r))
p = lib.run([build.enroll] + ["--" + a for a in ARGS] + ["check", "alice"],
            check=False)
lines = p.stderr.splitlines()
tap.ok(p.returncode == 0 and "%s ok" % alice.fingerprint in p.stdout
       and len(lines) == 1 and warning.match(lines[0]),
       "certauth-enroll check prints the same warning",
       lib.LogDiag("exit %d\nstdout: %s\nstderr: %s"
                   % (p.returncode, p.stdout, p.stderr)))

srv.shutdown()
sys.exit(tap.done())
