#!/usr/bin/python3
"""Conformance: NIST PKITS through the module's chain policy.

Every PKITS test whose policy inputs are the defaults (initial policy set
anyPolicy; explicit policy, policy mapping inhibit and anyPolicy inhibit
not set) becomes one login with the real pamtester: the trust anchor is
ca_file, the intermediates chain_file, all the test's CRLs crl_file with
crl=chain, the target certificate is bound to a test user, and the
challenge is signed with the target's key (from its PKCS#12) by stock
`openssl dgst -sha256 -sign`.  The module's verdict must equal
should_validate; its syslog line is the diagnostic of each case.

Prints TAP, one test per PKITS case.  Needs the test list
(pkits_tests.json: $PKITS_JSON, or pkits/ in $CERTAUTH_CONFORMANCE, by
default shared/conformance/ beside the source tree) and the PKITS files of Debian's python3-cryptography-vectors; skips without them.

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/e2e/pkits.py
"""

import base64
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import LogDiag  # noqa: E402

USER = "pkits"
USERS = {USER: 2101}
ROOT = "/mnt/pkits"
POLICY_INPUTS = ("initial_policy_set", "initial_explicit_policy",
                 "initial_policy_mapping_inhibit",
                 "initial_inhibit_any_policy")

# Disagreements by design or by an OpenSSL limit: the case id, what the
# module's syslog line must say, and why.  They are reported as TODO, so
# a change of verdict shows up as an unexpected pass.
KNOWN = {
    "4.6.4": (r"Basic Constraints of CA cert not marked critical",
              "by design: X509_V_FLAG_X509_STRICT refuses a CA whose "
              "basicConstraints is not critical (RFC 5280 4.2.1.9 MUST)"),
    "4.14.30": (r"CRL path validation error",
                "OpenSSL limit: the cRLIssuer's own certificate points to "
                "the very CRL it signs, a loop OpenSSL's CRL path check "
                "refuses"),
}

# A refusal of the key itself: DSA, or a DSA key whose parameters are
# inherited from the issuer and so cannot be read alone.
DSA_REFUSAL = re.compile(r"DSA|no public key|no usable key")

# Failures that say nothing about the path: the harness, not the chain.
NOT_A_PATH_VERDICT = re.compile(
    r"signature does not verify|no response|response arrived after|"
    r"unknown user|no certificate bound|not authenticated:", re.I)


def find_tests():
    # The expected verdicts are data of the project's shared folder, which
    # sits beside the checkout (and beside CI's clone), not in the tree.
    # CERTAUTH_CONFORMANCE names it for a checkout elsewhere.
    conformance = (os.environ.get("CERTAUTH_CONFORMANCE") or
                   os.path.join(lib.srcdir(), "..", "shared", "conformance"))
    cands = [os.environ.get("PKITS_JSON"),
             os.path.join(conformance, "pkits", "pkits_tests.json")]
    for c in cands:
        if c and os.path.isfile(c):
            return c
    return None


def find_data():
    try:
        import cryptography_vectors
    except ImportError:
        return None
    d = os.path.join(cryptography_vectors.__path__[0], "x509", "PKITS_data")
    return d if os.path.isdir(os.path.join(d, "certs")) else None


def pem_of(der, label):
    """PEM armour around DER bytes, without parsing them: what the module
    reads is exactly what PKITS ships."""
    b64 = base64.b64encode(der).decode()
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, body, label)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def is_default(case, defaults):
    return all(case[k] == defaults[k] for k in POLICY_INPUTS)


def uses_dsa(data, case):
    """True when a certificate of the path has a DSA key (or DSA
    parameters inherited from its issuer, which cryptography cannot load
    on their own)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa
    for name in case["intermediates"] + [case["target"]]:
        cert = x509.load_der_x509_certificate(
            read("%s/certs/%s.crt" % (data, name)))
        try:
            if isinstance(cert.public_key(), dsa.DSAPublicKey):
                return True
        except ValueError:
            return True
    return False


def setup_case(data, case, module):
    """Write the case's trust files, binding, key and service; returns
    (service name, key path, whether DSA is involved)."""
    d = os.path.join(ROOT, case["id"])
    lib.make_dir(d)
    cert = lambda n: read("%s/certs/%s.crt" % (data, n))  # noqa: E731
    args = ["ca_file=" + write(d + "/ca.pem", pem_of(
        cert(case["trust_anchor"]), "CERTIFICATE"))]
    if case["intermediates"]:
        args.append("chain_file=" + write(d + "/chain.pem", "".join(
            pem_of(cert(n), "CERTIFICATE") for n in case["intermediates"])))
    crls = "".join(pem_of(read("%s/crls/%s.crl" % (data, n)), "X509 CRL")
                   for n in case["crls"])
    args += ["crl_file=" + write(d + "/crls.pem", crls), "crl=chain"]
    target = write(d + "/target.pem", pem_of(cert(case["target"]),
                                             "CERTIFICATE"))
    bindings = d + "/bindings"
    lib.bind(bindings, USER, target)
    args.append("bindings_dir=" + bindings)
    # The openssl command is four times as fast here as cryptography's
    # pkcs12 loader, which matters over two hundred keys.
    keyfile = d + "/target.key"
    lib.run(["openssl", "pkcs12", "-in", "%s/pkcs12/%s.p12"
             % (data, case["target"]), "-passin", "pass:password",
             "-nocerts", "-nodes", "-out", keyfile])
    os.chmod(keyfile, 0o600)
    svc = lib.service("pkits-" + case["id"], module, args)
    return svc, keyfile, uses_dsa(data, case)


def reason_of(r):
    lines = lib.module_lines(r.logs)
    return lines[-1] if lines else "(no pam_certauth line)"


def judge(case, r, dsa):
    """(verdict, directive, problem) of one login: directive is None,
    ("SKIP", why) when the case proves nothing about the path, or
    ("TODO", why) for a known disagreement; problem is None on agreement."""
    reason = reason_of(r)
    if r.challenge is None or r.error:
        return "error", None, "no login happened: %s" % (r.error or
                                                        "no challenge")
    valid = r.ok
    verdict = "accepted" if valid else "refused"
    if dsa and not valid and DSA_REFUSAL.search(reason):
        return verdict, ("SKIP", "DSA keys are refused by design"), None
    if not valid and NOT_A_PATH_VERDICT.search(reason):
        return verdict, None, "failed for a reason outside the path"
    known = KNOWN.get(case["id"])
    if known is not None:
        # Expected to disagree; an agreement is an unexpected pass.
        if valid == case["should_validate"]:
            return verdict, ("TODO", known[1]), None
        if re.search(known[0], reason):
            return verdict, ("TODO", known[1]), "PKITS says %s" % (
                "valid" if case["should_validate"] else "invalid")
    if valid != case["should_validate"]:
        return verdict, None, "PKITS says %s" % (
            "valid" if case["should_validate"] else "invalid")
    return verdict, None, None


def main():
    tests_json, data = find_tests(), find_data()
    if tests_json is None:
        lib.skip_all("pkits_tests.json not found (set PKITS_JSON or "
                     "CERTAUTH_CONFORMANCE)")
    if data is None:
        lib.skip_all("python3-cryptography-vectors (PKITS_data) "
                     "not installed")
    with open(tests_json) as f:
        spec = json.load(f)
    build, ns, tap = lib.start(USERS)
    t0 = time.time()
    cases = [c for c in spec["tests"] if is_default(c, spec["defaults"])]
    tap.diag("%d PKITS cases, %d with default policy inputs"
             % (len(spec["tests"]), len(cases)))
    lib.make_dir(ROOT)
    prepared = [(c,) + setup_case(data, c, build.module) for c in cases]
    tap.diag("%d cases set up in %.1f s" % (len(prepared), time.time() - t0))

    agree, skipped, known, disagree = 0, {}, [], []
    for case, svc, key, dsa in prepared:
        r = lib.pamtester(ns, svc, USER, lib.ossl_sign(key, "rsa"))
        verdict, directive, problem = judge(case, r, dsa)
        name = "%s %s: %s, module %s" % (
            case["id"], case["title"],
            "valid" if case["should_validate"] else "invalid", verdict)
        d = LogDiag("syslog: " + reason_of(r))
        if directive and directive[0] == "SKIP":
            skipped[directive[1]] = skipped.get(directive[1], 0) + 1
            tap.skip(name, directive[1], d)
            continue
        if problem:
            d = LogDiag(d + "\nproblem: " + problem)
            (known if directive else disagree).append(case["id"])
        else:
            agree += 1
        tap.ok(problem is None, name, d,
               todo=directive[1] if directive else None)

    run = len(prepared) - sum(skipped.values())
    tap.diag("PKITS agreement: %d of %d run (%d skipped: %s)" % (
        agree, run, sum(skipped.values()),
        "; ".join("%s, %d" % kv for kv in sorted(skipped.items()))
        or "none"))
    if known:
        tap.diag("known disagreements (TODO): " + " ".join(known))
    if disagree:
        tap.diag("disagreements: " + " ".join(disagree))
    tap.diag("%.1f s in all" % (time.time() - t0))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
