#!/usr/bin/python3
"""End-to-end: accounts bound by certificate mapping rules (bindings=rules).

No certificate is enrolled: the answer offers the user's certificate
after the signature (docs/PROTOCOL.md, "The response"), the rules file
maps it to an account, and the module checks the signature with its key,
then the chain and the CRL, as for an enrolled one.  pamtester logs in
through the built module; the answers are made with stock openssl.
Covered: a certificate mapped by its CN and by its e-mail address; one
that maps to another account; no certificate offered; a certificate
that is not DER, or not base64; one the key did not sign with; one from
outside the CA (self-signed) and a revoked one; two rules naming two
accounts; the order bindings=files,rules (the files decide for an
enrolled account) and the refusals of bindings=rules,files, of
trust=pinned and of a missing rules file; nouserok; an answer over the
length limit; the real sshd through certauth-askpass (with_cert = yes),
and an answer cut at the 1023 characters ssh reads.  Prints TAP, and
each refusal's log line as a diagnostic.
"""

import base64
import os
import re
import socket
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import doors  # noqa: E402

USERS = {"alice": lib.Account(2951), "bob": 2952, "carol": 2953, "dave": 2954,
         "erin": 2955}
RULES = "/mnt/certauth-rules"
BIND = "/mnt/rules-bindings"

build, ns, tap = lib.start(USERS)
HOST = socket.gethostname()

pki = lib.standard_pki()
with open(pki.cnf, "a") as f:
    f.write("\n[v3_mail]\nbasicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature\n"
            "extendedKeyUsage = clientAuth\n"
            "subjectAltName = email:dave@corp.example\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
alice = pki.issue("alice", "p256")
alice_rsa = pki.issue("alice-rsa", "rsa2048", cn="alice")
bob = pki.issue("bob", "p256")
carol_files = pki.issue("carol-files", "p256", cn="carol")
carol_rule = pki.issue("carol-rule", "p256", cn="carol")
dave_mail = pki.issue("dave-mail", "p256", ext="v3_mail", cn="dave")
smith = pki.issue("smith", "p256", ext="v3_mail", cn="Dave Smith")
two_names = pki.issue("two-names", "p256", ext="v3_mail", cn="alice")
erin_revoked = pki.issue("erin-revoked", "p256", cn="erin")
pki.revoke(erin_revoked)
pki.gencrl()
alice_self = pki.self_signed("alice-self", "p256")
lib.bind(BIND, "carol", carol_files)

lib.make_dir("/mnt")
ISSUER = subprocess.run(
    ["openssl", "x509", "-in", pki.certs["p256"].cert, "-noout", "-issuer",
     "-nameopt", "RFC2253"], capture_output=True, text=True,
    check=True).stdout.strip()[len("issuer="):]


def ere_escape(text):
    """text as a POSIX extended regular expression matching itself."""
    return "".join("\\" + c if c in "^.[$()|*+?{\\" else c for c in text)


def write_rules(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.chown(path, 0, 0)
    return path


# Rules an administrator coming from SSSD would paste: the CN of a
# certificate from the test CA, and the local part of an e-mail address.
write_rules(RULES, """# certificates of the e2e CA map to the account named by their CN
[by-cn]
matchrule = &&<ISSUER>^%s$<EKU>clientAuth
maprule = LDAPU1:{subject_dn_component.cn}

[by-mail]
matchrule = <SAN:rfc822Name>@corp\\.example$
maprule = {subject_rfc822_name.short_name}
""" % ere_escape(ISSUER))

BASE = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
        "crl_file=" + pki.crl, "bindings_dir=" + BIND]


def svc(name, *args, bindings="rules", rules=RULES):
    return lib.service("certauth-rules-" + name, build.module,
                       BASE + ["bindings=" + bindings, "rules_file=" + rules]
                       + list(args))


def der_b64(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert.cert, "-outform",
                          "DER"], capture_output=True, check=True).stdout
    return base64.b64encode(der).decode()


def offering(key_cert, offered, tail=None):
    """Stock openssl's answer with key_cert's key, then '.' and the
    base64 DER of offered (or the text tail, or nothing)."""
    sign = lib.ossl_sign(key_cert.key, key_cert.kind)

    def answer(c):
        r = sign(c)
        if tail is not None:
            return r + tail
        return r if offered is None else r + "." + der_b64(offered)
    return answer


def login(service, user, answer):
    r = lib.pamtester(ns, service, user, answer, timeout=30)
    r.lines = lib.module_lines(r.logs)
    return r


def said(r, pattern):
    return any(re.search(pattern, l) for l in r.lines)


def refused(r, name, pattern):
    tap.ok(not r.ok and said(r, pattern), name, r.diag())
    for l in r.lines:
        tap.diag(l)


rules = svc("plain")

r = login(rules, "alice", offering(alice, alice))
tap.ok(r.ok and said(r, r"user alice authenticated .*bound by rules"),
       "rules: alice's certificate, offered and mapped by its CN, logs in",
       r.diag())
r = login(rules, "alice", offering(alice_rsa, alice_rsa))
tap.ok(r.ok, "rules: a second certificate of alice (RSA) logs in too, "
       "with nothing enrolled", r.diag())
r = login(rules, "dave", offering(dave_mail, dave_mail))
tap.ok(r.ok, "rules: a certificate that both rules map to dave (by its CN "
       "and by its e-mail address) logs in", r.diag())
refused(login(rules, "dave", offering(smith, smith)),
        "rules: a certificate one rule maps to no valid account ('Dave "
        "Smith') is refused, though the other maps it to dave",
        r"by-cn.*not a valid account name")

refused(login(rules, "alice", offering(bob, bob)),
        "rules: bob's certificate, signed with bob's key, does not log in "
        "as alice", r"refused: .*bob")
refused(login(rules, "alice", offering(alice, None)),
        "rules: an answer without a certificate is refused, and says how "
        "to offer one", r"offers no certificate \(certauth-sign --with-cert\)")
refused(login(rules, "alice", offering(alice, None,
                                       tail="." + base64.b64encode(
                                           b"not a certificate").decode())),
        "rules: base64 that is not a DER certificate is refused",
        r"not one DER certificate")
refused(login(rules, "alice", offering(alice, None, tail=".%%%")),
        "rules: a certificate part that is not base64 is refused",
        r"certificate after the signature is not valid base64")
refused(login(rules, "alice", offering(alice, None, tail="." + der_b64(alice)
                                       + "." + der_b64(alice))),
        "rules: two certificate parts are refused",
        r"more than one certificate part")
refused(login(rules, "alice", offering(bob, alice)),
        "rules: alice's certificate offered with a signature by bob's key "
        "is refused", r"signature does not verify")
refused(login(rules, "alice", offering(alice_self, alice_self)),
        "rules: a self-signed certificate named alice maps to nothing (the "
        "rule wants the CA as issuer)", r"no mapping rule matches")
anyone = write_rules("/mnt/certauth-rules-any", """[any-cn]
matchrule = <EKU>clientAuth
maprule = LDAPU1:{subject_dn_component.cn}
""")
refused(login(svc("any", rules=anyone), "alice",
              offering(alice_self, alice_self)),
        "rules: a rule that matches any issuer still needs the chain: the "
        "self-signed certificate is refused", r"refused: .*(chain|issuer|"
        r"self.signed|unable to get)")
refused(login(rules, "erin", offering(erin_revoked, erin_revoked)),
        "rules: a revoked certificate that the rules map is refused",
        r"revoked")
refused(login(rules, "alice", offering(two_names, two_names)),
        "rules: two rules that map one certificate to two accounts (CN "
        "alice, address dave@) refuse", r"by-cn.*by-mail|by-mail.*by-cn")
big = offering(alice, None, tail="." + "A" * 4096)
# pamtester's conversation cuts a line at 4095 characters, so the module
# sees a cut answer; test_response covers the limit itself.
refused(login(rules, "alice", big),
        "rules: an answer over 4096 characters is refused",
        r"over the 4096 limit|not one DER certificate")

# The order of the sources: the files decide for an enrolled account.
both = svc("files-rules", bindings="files,rules")
r = login(both, "carol", offering(carol_files, None))
tap.ok(r.ok and said(r, r"user carol authenticated") and
       not said(r, "bound by rules"),
       "files,rules: carol is enrolled, and her enrolled certificate logs "
       "in without offering it", r.diag())
refused(login(both, "carol", offering(carol_rule, carol_rule)),
        "files,rules: the files know carol, so a certificate the rules "
        "would map to her is not hers", r"signature does not verify")
r = login(both, "alice", offering(alice, alice))
tap.ok(r.ok and said(r, "bound by rules"),
       "files,rules: alice, not enrolled, logs in by the rules", r.diag())

# Configurations the module refuses.
for name, args, pattern in (
        ("rules-first", ["bindings=rules,files"],
         r"rules must be the last binding source"),
        ("pinned", ["bindings=rules", "trust=pinned", "crl_file=",
                    "chain_file="],
         r"bindings=rules cannot be used with trust=pinned")):
    service = lib.service("certauth-rules-" + name, build.module,
                          BASE + ["rules_file=" + RULES] + args)
    r = login(service, "alice", offering(alice, alice))
    tap.ok(not r.ok and (r.pam_says("PAM_SERVICE_ERR") or
                         r.pam_says("PAM_AUTHINFO_UNAVAIL"))
           and said(r, pattern),
           "configuration: %s is refused (%s)" % (name, pattern), r.diag())
refused(login(svc("missing", rules="/mnt/no-such-rules"), "alice",
              offering(alice, alice)),
        "a missing rules file refuses every login, naming it",
        r"rules file /mnt/no-such-rules does not exist")
unsafe = write_rules("/mnt/certauth-rules-unsafe",
                     open(RULES).read(), mode=0o666)
refused(login(svc("unsafe", rules=unsafe), "alice", offering(alice, alice)),
        "a world-writable rules file refuses every login",
        r"certauth-rules-unsafe")

# nouserok: the rules may bind anyone, so nobody is passed over.
r = login(svc("nouserok", "nouserok"), "bob", offering(bob, bob))
tap.ok(r.ok, "nouserok: bob, not enrolled, is asked and logs in by the "
       "rules (not passed over)", r.diag())

# The real sshd with bindings=rules: alice's ssh, no terminal, answered
# by certauth-askpass with with_cert = yes.  A P-256 certificate fits
# the 1023 characters ssh reads of an answer; an RSA-2048 one does not,
# and the cut answer is refused.
doors.private_run(build)
lib.service("sshd", build.module, BASE + ["bindings=rules",
                                         "rules_file=" + RULES])
with open(os.path.join(lib.PAMD, "sshd"), "a") as f:
    f.write("session required pam_permit.so\n")
sshd = doors.Sshd(lib.MNT + "/ssh", lib.free_port())
home = lib.MNT + "/home/alice"
askpass = os.path.join(lib.user_bin(build), "certauth-askpass")


def alice_file(name, text, mode=0o600):
    path = os.path.join(home, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    d = path
    while d != home:
        os.chown(d, 2951, 2951)
        d = os.path.dirname(d)
    os.chmod(path, mode)
    return path


def ssh_with(cert):
    key = alice_file(cert.name + ".key", open(cert.key).read())
    pem = alice_file(cert.name + ".pem", open(cert.cert).read(), 0o644)
    alice_file(".config/certauth/askpass.conf",
               "key = %s\ncert = %s\nwith_cert = yes\nhost server = %s\n"
               % (key, pem, HOST))
    os.chmod(home + "/.config", 0o700)
    os.chmod(home + "/.config/certauth", 0o700)
    mark = ns.mark()
    p = subprocess.run(doors.as_user("alice") + [
        "env", "SSH_ASKPASS=" + askpass, "SSH_ASKPASS_REQUIRE=force",
        "DISPLAY=", "HOME=" + home, "ssh", "-F", "/dev/null", "-p",
        str(sshd.port), "-o", "HostKeyAlias=server", "-o",
        "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-o", "NumberOfPasswordPrompts=1",
        "alice@127.0.0.1", "id -un"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, start_new_session=True, timeout=60)
    p.lines = lib.module_lines(ns.logs_since(mark))
    p.diag = "exit %d\nstdout: %r\nstderr: %s\n%s" % (
        p.returncode, p.stdout, p.stderr.strip(), "\n".join(p.lines))
    return p


p = ssh_with(alice)
tap.ok(sshd.ok and p.returncode == 0 and p.stdout == "alice\n" and
       any("bound by rules" in l for l in p.lines),
       "the real sshd: ssh alice@... id -un, answered by certauth-askpass "
       "offering her P-256 certificate, logs in by the rules", p.diag)
p = ssh_with(alice_rsa)
tap.ok(p.returncode != 0 and p.stdout == "" and
       "ssh and sudo read at most 1023 characters" in p.stderr and
       any("the answer is 1023 characters, where ssh and sudo cut a longer"
           in l for l in p.lines),
       "the real sshd: an answer with an RSA-2048 certificate is over the "
       "1023 characters ssh reads; askpass warns, the cut answer is "
       "refused", p.diag)
for l in p.lines:
    tap.diag(l)
sshd.stop()

tap.done()
