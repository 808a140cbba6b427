#!/usr/bin/python3
"""End-to-end: the certificate mapping rules (rules_file, pam_certauth.conf(5)
"RULES FILE") evaluated by `certauth-enroll map` against SSSD's own
evaluator, `sssctl cert-eval-rule`, on a table of certificates and rules:
the same match verdict and the same mapped name, except where this project
differs on purpose, which each such row states and asserts.  Then rules
files of several rules (ambiguous mappings refused) and hostile rules files.
Prints TAP; the verdict table goes to tests/e2e/certmap-verdicts.txt in the
build directory and into the TAP output as diagnostics.

sssctl is /usr/sbin/sssctl when installed, else the copy scripts/deps
unpacks under /opt/pam_certauth-deps/sssd.  It runs inside this
test's mount namespace, over a copy of /etc that holds a minimal
sssd.conf and a private /var/lib: the host's files never change.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/certmap.py
"""

import base64
import datetime
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import (ExtendedKeyUsageOID, NameOID,
                                       ObjectIdentifier)
except ImportError:
    lib.skip_all("python3-cryptography not installed")

ORACLE_DIR = "/opt/pam_certauth-deps/sssd"
SSSD_CONF = ("[sssd]\nservices = nss\ndomains = test\n[domain/test]\n"
             "id_provider = proxy\nproxy_lib_name = files\n")


def find_sssctl():
    """(program, environment additions) or None."""
    if os.access("/usr/sbin/sssctl", os.X_OK):
        return "/usr/sbin/sssctl", {}
    prog = ORACLE_DIR + "/usr/sbin/sssctl"
    if not os.access(prog, os.X_OK):
        return None
    arch = ORACLE_DIR + "/usr/lib/x86_64-linux-gnu"
    return prog, {
        "LD_LIBRARY_PATH": arch + "/sssd",
        "LDB_MODULES_PATH": arch + "/samba/ldb:"
                            "/usr/lib/x86_64-linux-gnu/samba/ldb",
    }


ORACLE = find_sssctl()
if ORACLE is None:
    lib.skip_all("sssctl not found (install sssd-tools, or run "
                 "scripts/deps as root to unpack it)")

build, ns, tap = lib.start({}, tools=("openssl", "mount"))
DIR = "/mnt/certmap"
lib.make_dir(DIR)
EMPTY_CONF = DIR + "/empty.conf"
open(EMPTY_CONF, "w").close()
# The rules alone: map never looks at the chain policy.
BASE = ["--config=" + EMPTY_CONF, "--trust=pinned"]

# ------------------------------------------------------- certificates

CN = NameOID.COMMON_NAME
O = NameOID.ORGANIZATION_NAME  # noqa: E741
OU = NameOID.ORGANIZATIONAL_UNIT_NAME
C = NameOID.COUNTRY_NAME
UID = NameOID.USER_ID
UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
PKINIT = ObjectIdentifier("1.3.6.1.5.2.2")
EKU = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    "KPClientAuth": ObjectIdentifier("1.3.6.1.5.2.3.4"),
    "pkinit": ObjectIdentifier("1.3.6.1.5.2.3.5"),
    "msScLogin": ObjectIdentifier("1.3.6.1.4.1.311.20.2.2"),
}
KU_BITS = ("digital_signature", "content_commitment", "key_encipherment",
           "data_encipherment", "key_agreement", "key_cert_sign",
           "crl_sign", "encipher_only", "decipher_only")
KEY = ec.generate_private_key(ec.SECP256R1())


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    elif n < 0x100:
        head = bytes([0x81, n])
    else:
        head = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + head + body


def upn(name):
    return x509.OtherName(UPN, tlv(0x0c, name.encode()))


def pkinit(principal):
    """A KRB5PrincipalName (RFC 4556): name-type 1, GeneralStrings."""
    name, realm = principal.rsplit("@", 1)
    parts = b"".join(tlv(0x1b, p.encode()) for p in name.split("/"))
    pname = tlv(0x30, tlv(0xa0, tlv(0x02, b"\x01")) +
                tlv(0xa1, tlv(0x30, parts)))
    return x509.OtherName(PKINIT, tlv(0x30, tlv(0xa0, tlv(
        0x1b, realm.encode())) + tlv(0xa1, pname)))


def dn(*rdns):
    """A name written most specific first, as in RFC 4514; an RDN is
    (oid, value) or a list of them (multi-valued)."""
    out = []
    for rdn in reversed(rdns):
        attrs = rdn if isinstance(rdn, list) else [rdn]
        out.append(x509.RelativeDistinguishedName(
            [x509.NameAttribute(o, v) for o, v in attrs]))
    return x509.Name(out)


CORP_CA = dn((CN, "Corp Users CA"), (O, "Corp"))


def cert(subject, issuer=CORP_CA, san=None, ku=("digital_signature",),
         eku=("clientAuth",)):
    """ku/eku None: no such extension."""
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(KEY.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(datetime.datetime(2024, 1, 1))
         .not_valid_after(datetime.datetime(2034, 1, 1)))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), False)
    if ku is not None:
        b = b.add_extension(x509.KeyUsage(**{k: k in ku for k in KU_BITS}),
                            True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([EKU[e] for e in eku]),
                            False)
    return b.sign(KEY, hashes.SHA256())


def mail(*addrs):
    return [x509.RFC822Name(a) for a in addrs]


CERTS = {
    "plain": cert(dn((CN, "alice"), (O, "Corp"), (C, "DE"))),
    "cn_only": cert(dn((CN, "alice"))),
    "mail1": cert(dn((CN, "Alice Example"), (O, "Corp")),
                  san=mail("alice@corp.example")),
    "mail2diff": cert(dn((CN, "Alice Example"), (O, "Corp")),
                      san=mail("alice@corp.example", "bob@corp.example")),
    "mail2same": cert(dn((CN, "Alice Example"), (O, "Corp")),
                      san=mail("alice@corp.example",
                               "alice@mail.corp.example")),
    "upn": cert(dn((CN, "alice"), (O, "Corp")),
                san=[upn("alice@CORP.EXAMPLE")]),
    "pkinit": cert(dn((CN, "alice"), (O, "Corp")),
                   san=[pkinit("alice@CORP.EXAMPLE")],
                   eku=("clientAuth", "KPClientAuth")),
    "pkinit_admin": cert(dn((CN, "alice"), (O, "Corp")),
                         san=[pkinit("alice/admin@CORP.EXAMPLE")]),
    "upn_pkinit": cert(dn((CN, "alice"), (O, "Corp")),
                       san=[upn("alice@CORP.EXAMPLE"),
                            pkinit("bob@CORP.EXAMPLE")]),
    "dns": cert(dn((CN, "alice"), (O, "Corp")),
                san=[x509.DNSName("host1.corp.example")]),
    "noku": cert(dn((CN, "alice"), (O, "Corp")), ku=None),
    "noeku": cert(dn((CN, "alice"), (O, "Corp")), eku=None),
    "server": cert(dn((CN, "www"), (O, "Corp")),
                   ku=("key_encipherment",), eku=("serverAuth", "pkinit")),
    "dsnr": cert(dn((CN, "alice"), (O, "Corp")),
                 ku=("digital_signature", "content_commitment"),
                 eku=("clientAuth", "emailProtection", "msScLogin")),
    "allbits": cert(dn((CN, "alice"), (O, "Corp")), ku=KU_BITS,
                    eku=tuple(EKU)),
    "other_ca": cert(dn((CN, "carol"), (O, "Corp")),
                     issuer=dn((CN, "Other CA"), (O, "Elsewhere")),
                     san=mail("carol@corp.example")),
    "multi_rdn": cert(dn([(CN, "alice"), (UID, "al")], (OU, "Staff"),
                         (O, "Corp"), (C, "DE"))),
    "escaped": cert(dn((CN, "Smith, John"), (O, "A+B"), (C, "DE")),
                    san=mail("jsmith@corp.example")),
    "utf8": cert(dn((CN, "J\u00fcrgen"), (O, "Corp")),
                 san=mail("juergen@corp.example")),
    "two_cn": cert(dn((CN, "alice"), (CN, "bob"), (O, "Corp"))),
    "bad_dash": cert(dn((CN, "x"), (O, "Corp")),
                     san=mail("-alice@corp.example")),
    "bad_digits": cert(dn((CN, "x"), (O, "Corp")),
                       san=mail("12345@corp.example")),
    "bad_long": cert(dn((CN, "x"), (O, "Corp")),
                     san=mail("a" * 40 + "@corp.example")),
}
CERT_FILES = {}
for name, c in CERTS.items():
    path = "%s/%s.pem" % (DIR, name)
    with open(path, "wb") as f:
        f.write(c.public_bytes(Encoding.PEM))
    CERT_FILES[name] = path

# -------------------------------------------------------------- rules

T_MAIL = "{subject_rfc822_name}"
T_MAIL_S = "{subject_rfc822_name.short_name}"
T_NT = "{subject_nt_principal}"
T_NT_S = "{subject_nt_principal.short_name}"
T_PR = "{subject_principal}"
T_PR_S = "{subject_principal.short_name}"
T_CN = "LDAPU1:{subject_dn_component.cn}"
ALL_KU = ("digitalSignature,nonRepudiation,keyEncipherment,"
          "dataEncipherment,keyAgreement,keyCertSign,cRLSign,encipherOnly")
ALL_EKU = ",".join(EKU)

# Verdicts: "match NAME", "match, no value" (the rule matches, the
# certificate has nothing for the template), "no match", "rejected" (the
# rule itself), and for certauth "refused" (mapping refused).
# Rows: (rule id, matchrule or None for the default, maprule, [(cert,
# expected certauth verdict when it differs from sssctl on purpose, why)]).
# A cert given as a plain string must get the same verdict from both.
AMBIG = "two values of the template name different accounts: refused " \
        "(sssctl takes one of them)"
INVALID = "not a valid account name: refused (sssctl returns it as an " \
          "LDAP filter value)"
RULES = [
    ("subject_exact", "<SUBJECT>^CN=alice,O=Corp,C=DE$", T_CN,
     ["plain", "cn_only", "multi_rdn"]),
    ("subject_prefix", "<SUBJECT>^CN=alice", T_CN,
     ["plain", "cn_only", "upn", ("two_cn", "refused", AMBIG), "escaped"]),
    ("subject_inner", "<SUBJECT>O=Corp", T_CN, ["plain", "cn_only"]),
    ("subject_whole", "<SUBJECT>^CN=alice$", T_CN, ["cn_only", "plain"]),
    ("subject_rdns", "<SUBJECT>^UID=al,CN=alice,OU=Staff,O=Corp,C=DE$",
     T_CN, ["multi_rdn", "plain"]),
    ("subject_plus", "<SUBJECT>CN=alice\\+UID=al", T_CN, ["multi_rdn"]),
    ("subject_comma", "<SUBJECT>^CN=Smith\\\\, John,O=A\\\\\\+B,C=DE$",
     T_MAIL_S, ["escaped", "plain"]),
    ("subject_comma_cn", "<SUBJECT>^CN=Smith\\\\,", T_CN,
     [("escaped", "refused", INVALID)]),
    ("subject_utf8", "<SUBJECT>^CN=J\\\\C3\\\\BCrgen,O=Corp$", T_MAIL_S,
     ["utf8", "plain"]),
    ("subject_utf8_raw", "<SUBJECT>^CN=J\u00fcrgen", T_MAIL_S, ["utf8"]),
    ("subject_case", "<SUBJECT>^cn=alice", T_CN, ["plain"]),
    ("issuer", "<ISSUER>^CN=Corp Users CA,O=Corp$", T_MAIL_S,
     ["mail1", "other_ca"]),
    ("issuer_other", "<ISSUER>Elsewhere$", T_MAIL_S, ["other_ca", "mail1"]),
    ("ku", "<KU>digitalSignature", T_CN, ["plain", "noku", "server"]),
    ("ku_two", "<KU>digitalSignature,nonRepudiation", T_CN,
     ["dsnr", "plain"]),
    ("ku_spaced", "<KU>DigitalSignature, nonRepudiation,", T_CN,
     ["dsnr", "plain"]),
    ("ku_keyenc", "<KU>keyEncipherment", T_CN, ["server", "plain"]),
    ("ku_all", "<KU>" + ALL_KU, T_CN, ["allbits", "dsnr"]),
    ("ku_decipher", "<KU>decipherOnly", T_CN, ["allbits", "noku"]),
    ("eku", "<EKU>clientAuth", T_CN, ["plain", "noeku", "server"]),
    ("eku_three", "<EKU>clientAuth,emailProtection,msScLogin", T_CN,
     ["dsnr", "plain"]),
    ("eku_oid", "<EKU>1.3.6.1.5.5.7.3.1", T_CN, ["server", "plain"]),
    ("eku_case", "<EKU>CLIENTAUTH", T_CN, ["plain", "server"]),
    ("eku_kpclient", "<EKU>KPClientAuth", T_PR_S, ["pkinit", "plain"]),
    # pkinit names the client's EKU (KPClientAuth), not the KDC's.
    ("eku_pkinit", "<EKU>pkinit", T_CN, ["pkinit", "server", "plain"]),
    ("eku_kdc", "<EKU>1.3.6.1.5.2.3.5", T_CN, ["server", "pkinit"]),
    ("eku_all", "<EKU>" + ALL_EKU, T_CN, ["allbits", "dsnr"]),
    ("mail", "<SAN:rfc822Name>^alice@corp\\.example$", T_MAIL,
     ["mail1", "mail2same", "plain"]),
    ("mail_short", "<SAN:rfc822Name>@corp\\.example$", T_MAIL_S,
     ["mail1", ("mail2diff", "refused", AMBIG), "mail2same", "plain"]),
    ("mail_every", "<SAN:rfc822Name>^alice@", T_MAIL_S,
     ["mail2same", "mail2diff"]),
    ("mail_case", "<SAN:RFC822NAME>corp", T_MAIL_S, ["mail1"]),
    ("nt", "<SAN:ntPrincipalName>^alice@CORP\\.EXAMPLE$", T_NT,
     ["upn", "pkinit", "upn_pkinit"]),
    ("nt_short", "<SAN:ntPrincipalName>CORP", T_NT_S,
     ["upn", "upn_pkinit", "mail1"]),
    ("principal", "<SAN:Principal>@CORP\\.EXAMPLE$", T_PR,
     ["upn", "pkinit", ("pkinit_admin", "refused", INVALID),
      ("upn_pkinit", "refused", AMBIG),
      "dns"]),
    ("san", "<SAN>^alice", T_PR_S,
     ["upn", "pkinit", ("pkinit_admin", "refused", INVALID), "upn_pkinit",
      "dns"]),
    ("dns", "<SAN:dNSName>^host1\\.corp\\.example$", T_CN, ["dns", "plain"]),
    ("and", "&&<ISSUER>Corp<SAN:rfc822Name>corp", T_MAIL_S,
     ["mail1", "other_ca", "plain"]),
    ("and_plain", "<SUBJECT>alice<SUBJECT>^CN=alice,O=Corp", T_CN,
     ["upn", "plain"]),
    ("or", "||<SAN:ntPrincipalName>.<SAN:rfc822Name>.", T_CN,
     ["upn", "other_ca", "plain"]),
    ("krb5", "KRB5:<SUBJECT>^CN=alice$", T_CN, ["cn_only", "plain"]),
    ("krb5_or", "KRB5:||<EKU>KPClientAuth<SUBJECT>^CN=www,", T_CN,
     ["server", "pkinit", "plain"]),
    ("default", None, T_CN, ["plain", "noku", "noeku", "server"]),
    ("no_value_nt", "<SUBJECT>alice", T_NT, ["plain"]),
    ("no_value_mail", "<SUBJECT>alice", T_MAIL_S, ["upn"]),
    ("no_value_pr", "<SUBJECT>alice", T_PR, ["dns"]),
    ("cn_case", "<SUBJECT>alice", "LDAPU1:{subject_dn_component.CN}",
     ["plain"]),
    ("invalid_dash", "<SAN:rfc822Name>.", T_MAIL_S,
     [("bad_dash", "refused", INVALID), ("bad_digits", "refused", INVALID),
      ("bad_long", "refused", INVALID)]),
    # Rules that both refuse.
    ("cn_no_prefix", "<SUBJECT>alice", "{subject_dn_component.cn}",
     ["plain"]),
    ("ku_number", "<KU>128", T_CN, ["plain"]),
    ("bad_regex", "<SUBJECT>(", T_CN, ["plain"]),
    ("unterminated", "<SUBJECT", T_CN, ["plain"]),
    ("keyword_case", "<subject>alice", T_CN, ["plain"]),
    ("eku_unknown", "<EKU>foo", T_CN, ["plain"]),
    ("x400", "<SAN:x400Address>x", T_CN, ["plain"]),
    ("empty_regex", "<SUBJECT>", T_CN, ["plain"]),
    # Rules that sssctl takes and this project refuses, on purpose.
    ("no_component", "&&", T_CN,
     [("plain", "rejected", "a rule without a component never matches "
       "(sssctl takes it): refused as the mistake it is")]),
    ("filter_text", "<SUBJECT>Alice", "uid=" + T_MAIL_S,
     [("mail1", "rejected", "a maprule is one template that names an "
       "account, not an LDAP filter: text around it is refused")]),
    ("uri", "<SAN:uniformResourceIdentifier>x", T_CN,
     [("plain", "rejected", "SAN types beyond rfc822Name, "
       "ntPrincipalName, Principal and dNSName are refused by name")]),
    ("dn_template", "<SUBJECT>alice", "{subject_dn}",
     [("plain", "rejected", "a whole DN is never an account name: "
       "{subject_dn} is refused")]),
]


# ------------------------------------------------------------- oracle

def oracle_setup():
    """A copy of /etc with a minimal sssd.conf over /etc, and an empty
    /var/lib, in this test's mount namespace."""
    etc = "/mnt/sssd-etc"
    lib.run(["cp", "-a", "/etc", etc])
    os.makedirs(etc + "/sssd", 0o755, exist_ok=True)
    with open(etc + "/sssd/sssd.conf", "w") as f:
        f.write(SSSD_CONF)
    os.chmod(etc + "/sssd/sssd.conf", 0o600)
    lib.mount("--bind", etc, "/etc")
    lib.mount("-t", "tmpfs", "-o", "mode=0755", "certmap-varlib", "/var/lib")
    os.makedirs("/var/lib/sss/db", 0o700)


def der_b64(name):
    return base64.b64encode(CERTS[name].public_bytes(Encoding.DER)).decode()


def sssctl(cert_name, match, maprule):
    prog, extra = ORACLE
    argv = [prog, "cert-eval-rule", der_b64(cert_name), "--map=" + maprule]
    if match is not None:
        argv.append("--match=" + match)
    env = dict(os.environ)
    env.update(extra)
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=60)
    out = p.stdout + p.stderr
    if "Failed to add mapping and matching rules" in out:
        v = "rejected"
    elif "Certificate does not match rule." in out:
        v = "no match"
    elif "Certificate matches rule." in out:
        if "Failed to generate mapping filter" in out:
            v = "match, no value"
        else:
            lines = p.stdout.split("Mapping filter:", 1)[1].strip()
            v = "match " + lines.splitlines()[0].strip() if lines else \
                "match (empty)"
    else:
        v = "unknown"
    return v, "exit %d: %s" % (p.returncode, out.strip())


def rules_text(rules):
    """rules: [(name, match or None, maprule)]"""
    out = ["# written by tests/e2e/certmap.py"]
    for name, match, maprule in rules:
        out.append("[%s]" % name)
        if match is not None:
            out.append("matchrule = " + match)
        out.append("maprule = " + maprule)
    return "\n".join(out) + "\n"


def write_rules(text, path=DIR + "/rules", mode=0o644):
    data = text.encode() if isinstance(text, str) else text
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def enroll_map(cert_name, rules_file=DIR + "/rules", cert_path=None):
    argv = [build.enroll] + BASE + ["--rules_file=" + rules_file, "map",
                                    cert_path or CERT_FILES[cert_name]]
    p = lib.run(argv, check=False)
    p.diag = LogDiag("$ certauth-enroll map %s\nexit %d\nstdout: %s\n"
                     "stderr: %s" % (cert_name, p.returncode,
                                     p.stdout.strip(), p.stderr.strip()))
    return p


def certauth(cert_name, match, maprule):
    write_rules(rules_text([("r", match, maprule)]))
    p = enroll_map(cert_name)
    out = p.stdout.strip()
    if p.returncode == 2:
        v = "rejected"
    elif p.returncode == 0:
        v = "match " + out.split("\t")[0]
    elif out.startswith("refused:"):
        v = "refused"
    elif "which has no" in out:
        v = "match, no value"
    elif out.startswith("not mapped:"):
        v = "no match"
    else:
        v = "unknown"
    return v, p.diag


# -------------------------------------------------------------- table

oracle_setup()
table = []
for rid, match, maprule, certs in RULES:
    for entry in certs:
        cname, want, why = (entry if isinstance(entry, tuple)
                            else (entry, None, None))
        s, sdiag = sssctl(cname, match, maprule)
        c, cdiag = certauth(cname, match, maprule)
        rule = "%s / %s" % ("(default)" if match is None else match, maprule)
        diag = "rule %s: %s\ncert %s\nsssctl: %s\n%s" % (
            rid, rule, cname, sdiag, cdiag)
        if want is None:
            tap.ok(s == c and s != "unknown",
                   "%s x %s: sssctl and certauth agree (%s)" % (rid, cname, s),
                   diag)
            note = ""
        else:
            tap.ok(c == want and s != want and s != "unknown",
                   "%s x %s: certauth %s where sssctl says %s, on purpose"
                   % (rid, cname, want, s), diag + "\nwhy: " + why)
            note = why
        table.append((cname, rid, rule, s, c, note))

lines = ["%-13s %-17s %-22s %-22s %s" % ("certificate", "rule", "sssctl",
                                         "certauth", "matchrule / maprule")]
for cname, rid, rule, s, c, note in table:
    lines.append("%-13s %-17s %-22s %-22s %s%s" % (
        cname, rid, s, c, rule, ("  [differs: %s]" % note) if note else ""))
out_dir = os.path.join(lib.builddir(), "tests", "e2e")
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "certmap-verdicts.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
tap.diag("verdict table (%d rows), also in %s/certmap-verdicts.txt"
         % (len(table), out_dir))
for line in lines:
    tap.diag(line)
same = sum(1 for r in table if r[3] == r[4])
tap.diag("%d rows agree, %d differ on purpose" % (same, len(table) - same))

# --------------------------------------------------------- ambiguity

MAIL_RULE = ("by_mail", "<SAN:rfc822Name>@corp\\.example$", T_MAIL_S)
CN_RULE = ("by_cn", "<SUBJECT>^CN=", T_CN)
CERTS_EXTRA = {
    "carol_alice": cert(dn((CN, "carol"), (O, "Corp")),
                        san=mail("alice@corp.example")),
    "alice_alice": cert(dn((CN, "alice"), (O, "Corp")),
                        san=mail("alice@corp.example")),
}
for name, c in CERTS_EXTRA.items():
    CERT_FILES[name] = "%s/%s.pem" % (DIR, name)
    with open(CERT_FILES[name], "wb") as f:
        f.write(c.public_bytes(Encoding.PEM))

write_rules(rules_text([MAIL_RULE, CN_RULE]))
p = enroll_map("carol_alice")
tap.ok(p.returncode == 1 and p.stdout.startswith("refused:")
       and "by_mail" in p.stdout and "by_cn" in p.stdout
       and "alice" in p.stdout and "carol" in p.stdout,
       "two rules mapping one certificate to alice and carol: refused, "
       "naming both rules", p.diag)
p = enroll_map("alice_alice")
tap.ok(p.returncode == 0 and p.stdout == "alice\tby_mail\n",
       "two rules mapping one certificate to alice alike: alice, by the "
       "first rule", p.diag)
p = enroll_map("plain")
tap.ok(p.returncode == 0 and p.stdout == "alice\tby_cn\n",
       "only the second rule matches: alice by it", p.diag)
write_rules(rules_text([("to_alice", "<SUBJECT>.", T_CN),
                        ("dash", "<SAN:rfc822Name>.", T_MAIL_S)]))
p = enroll_map("bad_dash")
tap.ok(p.returncode == 1 and p.stdout.startswith("refused:")
       and "dash" in p.stdout and "not a valid account name" in p.stdout,
       "one rule of two maps to an invalid name: refused, naming it", p.diag)
p = enroll_map("other_ca")
tap.ok(p.returncode == 0 and p.stdout == "carol\tto_alice\n",
       "a valid mapping by both rules agrees: carol", p.diag)
write_rules("")
p = enroll_map("plain")
tap.ok(p.returncode == 1 and p.stdout.startswith("not mapped:"),
       "an empty rules file maps nothing (exit 1)", p.diag)
write_rules(rules_text([("cn", "<SUBJECT>x", T_CN)]))
p = enroll_map("plain", cert_path=DIR + "/nope.pem")
tap.ok(p.returncode == 1 and "nope.pem" in p.stderr,
       "a certificate file that does not exist: exit 1, named", p.diag)
der = DIR + "/plain.der"
with open(der, "wb") as f:
    f.write(CERTS["plain"].public_bytes(Encoding.DER))
write_rules(rules_text([("cn", "<SUBJECT>alice", T_CN)]))
p = enroll_map("plain", cert_path=der)
tap.ok(p.returncode == 0 and p.stdout == "alice\tcn\n",
       "a DER certificate maps as its PEM form does", p.diag)

# ---------------------------------------------------- hostile files


def hostile(name, text, expect, mode=0o644, path=DIR + "/rules"):
    write_rules(text, path=path, mode=mode)
    p = enroll_map("plain", rules_file=path)
    tap.ok(p.returncode == 2 and "configuration error" in p.stderr
           and all(e in p.stderr for e in expect) and p.stdout == "",
           "hostile rules file, %s: exit 2, %s" % (name, " / ".join(expect)),
           p.diag)


R = DIR + "/rules"
hostile("unterminated <", "[a]\nmatchrule = <SUBJECT\nmaprule = " + T_CN,
        [R + " line 2", "unterminated '<'"])
hostile("bad regex", "[a]\nmatchrule = <ISSUER>([a-\nmaprule = " + T_CN,
        [R + " line 2", "bad regular expression"])
hostile("unsupported SAN type",
        "[a]\nmaprule = " + T_CN + "\nmatchrule = <SAN:ipAddress>1",
        [R + " line 3", "<SAN:ipAddress> is not supported"])
hostile("unknown key", "[a]\nmaprule = " + T_CN + "\nmapping = x",
        [R + " line 3", "unknown key 'mapping'"])
hostile("priority", "[a]\nmaprule = " + T_CN + "\npriority = 10",
        [R + " line 3", "priority is not supported"])
hostile("domains", "[a]\nmaprule = " + T_CN + "\ndomains = corp.example",
        [R + " line 3", "domains is not supported"])
hostile("duplicate key",
        "[a]\nmaprule = " + T_CN + "\n\n# again\nmaprule = " + T_CN,
        [R + " line 5", "maprule given twice"])
hostile("duplicate rule",
        "[a]\nmaprule = %s\n[b]\nmaprule = %s\n[a]\nmaprule = %s\n"
        % (T_CN, T_CN, T_CN),
        [R + " line 5", "rule a is already defined on line 1"])
hostile("line outside a rule", "maprule = " + T_CN + "\n[a]\n",
        [R + " line 1", "outside any [rule] section"])
hostile("no maprule", "[a]\nmatchrule = <SUBJECT>x\n[b]\nmaprule = " + T_CN,
        [R + " line 1", "rule a: no maprule"])
hostile("bad rule name", "[a b]\nmaprule = " + T_CN,
        [R + " line 1", "bad rule name"])
hostile("NUL byte", b"[a]\nmaprule = " + T_CN.encode() + b"\0\n",
        [R, "NUL byte"])
hostile("too many rules",
        "".join("[r%d]\nmaprule = %s\n" % (i, T_CN) for i in range(257)),
        [R + " line 513", "more than 256 rules"])
hostile("huge file", "#" * (256 * 1024 + 1) + "\n",
        [R, "larger than 262144 bytes"])
hostile("group-writable", "[a]\nmaprule = " + T_CN + "\n",
        [R, "group-writable"], mode=0o664)
hostile("writable by others", "[a]\nmaprule = " + T_CN + "\n",
        [R, "writable by others"], mode=0o646)
os.chmod(R, 0o644)
os.chown(R, 1, 1)
p = enroll_map("plain")
tap.ok(p.returncode == 2 and "not owned by root" in p.stderr,
       "hostile rules file, owned by another user: exit 2, named", p.diag)
os.chown(R, 0, 0)
lib.make_dir(DIR + "/open", 0o777)
hostile("directory writable by all", "[a]\nmaprule = " + T_CN + "\n",
        ["directory %s/open is group-writable" % DIR],
        path=DIR + "/open/rules")
os.symlink(R, DIR + "/link")
p = enroll_map("plain", rules_file=DIR + "/link")
tap.ok(p.returncode == 2 and "configuration error" in p.stderr,
       "hostile rules file, a symbolic link: exit 2", p.diag)
p = enroll_map("plain", rules_file=DIR + "/missing")
tap.ok(p.returncode == 2 and "does not exist" in p.stderr,
       "a rules file that does not exist: exit 2, said so", p.diag)
p = lib.run([build.enroll] + BASE + ["--rules_file=relative", "map",
                                     CERT_FILES["plain"]], check=False)
tap.ok(p.returncode == 2 and "not an absolute path" in p.stderr,
       "rules_file must be an absolute path", LogDiag(p.stderr))

sys.exit(tap.done())
