#!/bin/sh
# Make the fuzzers' fixed certificates (tests/fuzz/fixtures.h) and their
# seed corpora (tests/fuzz/corpus/<target>/) with the openssl CLI.  Run
# once and commit the output: the seeds are signed by the keys made here,
# which are thrown away, so fixtures.h and the corpora only make sense
# together.  Rerunning replaces both.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A challenge in the shape of docs/PROTOCOL.md, "The challenge", signed
# by the seeds.
challenge='certauth:v1:fuzz.example:sshd:alice:1790000000:Zm96em5vbmNlZnV6em5vbmNlZnV6em5vbmNlZnV6emE'
# Every certificate below is valid from now for 100 years; the policy
# target checks at a fixed time one day from now.
now=$(($(date +%s) + 86400))

ext() {
	printf '%s\n' "$@" >"$work/ext.cnf"
	echo "$work/ext.cnf"
}

key() {	# key FILE ALG [OPT]
	if [ $# -gt 2 ]; then
		openssl genpkey -algorithm "$2" -pkeyopt "$3" -out "$1" 2>/dev/null
	else
		openssl genpkey -algorithm "$2" -out "$1" 2>/dev/null
	fi
}

cert() {	# cert NAME SUBJECT ISSUER|self EXTENSION-LINES...
	name=$1 subj=$2 issuer=$3
	shift 3
	openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
	if [ "$issuer" = self ]; then
		openssl x509 -req -in "$name.csr" -signkey "$name.key" \
		    -days 36500 -sha256 -set_serial "0x$(openssl rand -hex 8)" \
		    -extfile "$(ext "$@")" -out "$name.pem" 2>/dev/null
	else
		openssl x509 -req -in "$name.csr" -CA "$issuer.pem" \
		    -CAkey "$issuer.key" -days 36500 -sha256 \
		    -set_serial "0x$(openssl rand -hex 8)" \
		    -extfile "$(ext "$@")" -out "$name.pem" 2>/dev/null
	fi
	openssl x509 -in "$name.pem" -outform DER -out "$name.der"
}

ca_ext='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash'
leaf_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'

key anchor.key EC ec_paramgen_curve:P-256
key inter.key EC ec_paramgen_curve:P-256
key leaf_ec.key EC ec_paramgen_curve:P-256
key leaf_rsa.key RSA rsa_keygen_bits:2048
key leaf_ed.key ED25519
key delegate.key EC ec_paramgen_curve:P-256
key rogue.key EC ec_paramgen_curve:P-256
key rogue_leaf.key EC ec_paramgen_curve:P-256
key plain.key EC ec_paramgen_curve:P-256
key server.key EC ec_paramgen_curve:P-256
key revoked.key EC ec_paramgen_curve:P-256

cert anchor "/O=certauth fuzz/CN=Fuzz Anchor" self "$ca_ext"
cert inter "/O=certauth fuzz/CN=Fuzz Intermediate" anchor "$ca_ext"
cert leaf_ec "/O=certauth fuzz/CN=alice ec" anchor "$leaf_ext"
cert leaf_rsa "/O=certauth fuzz/CN=alice rsa" inter "$leaf_ext"
cert leaf_ed "/O=certauth fuzz/CN=alice ed25519" anchor "$leaf_ext"
cert delegate "/O=certauth fuzz/CN=Fuzz OCSP delegate" anchor \
    'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=OCSPSigning'
# An impostor with the anchor's name but its own key, and its leaf: what
# the policy must never accept.
cert rogue "/O=certauth fuzz/CN=Fuzz Anchor" self "$ca_ext"
cert rogue_leaf "/O=certauth fuzz/CN=mallory" rogue "$leaf_ext"
# A leaf without keyUsage or extendedKeyUsage, and one for servers only.
cert plain "/O=certauth fuzz/CN=plain" anchor 'basicConstraints=CA:FALSE'
cert server "/O=certauth fuzz/CN=server" anchor 'extendedKeyUsage=serverAuth'
# A leaf that the anchor's CRL revokes.
cert revoked "/O=certauth fuzz/CN=alice revoked" anchor "$leaf_ext"
mkdir ca
: >ca/index.txt
echo 01 >ca/crlnumber
printf '%s\n' '[ca]' 'default_ca = fuzz' '[fuzz]' \
    "database = $work/ca/index.txt" "crlnumber = $work/ca/crlnumber" \
    'default_md = sha256' 'default_crl_days = 36500' >ca.cnf
openssl ca -config ca.cnf -keyfile anchor.key -cert anchor.pem \
    -revoke revoked.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -keyfile anchor.key -cert anchor.pem -gencrl \
    -out anchor.crl 2>/dev/null

rm -rf "$corpus"
mkdir -p "$corpus/response" "$corpus/options" "$corpus/bindings" \
    "$corpus/challenge" "$corpus/ocsp" "$corpus/policy" "$corpus/rules"

# ---- rules: mapping rules files (pam_certauth.conf(5), "RULES FILE").
printf '# mapping rules\n[mail]\nmatchrule = <ISSUER>^CN=Corp Users CA,O=Corp$\nmaprule = {subject_rfc822_name.short_name}\n[cn]\nmaprule = LDAPU1:{subject_dn_component.cn}\n' \
    >"$corpus/rules/two-rules"
printf '[all]\nmatchrule = KRB5:||<SUBJECT>^CN=a<KU>digitalSignature,nonRepudiation<EKU>clientAuth,1.2.3<SAN>x<SAN:ntPrincipalName>y<SAN:rfc822Name>z<SAN:dNSName>w<SAN:Principal>v\nmaprule = {subject_principal.short_name}\n' \
    >"$corpus/rules/every-keyword"
printf '[anyone]\nmatchrule = <SUBJECT>.\nmaprule = LDAPU1:{subject_dn_component.cn}\n' \
    >"$corpus/rules/any-cn"
printf '[bad]\nmatchrule = <SUBJECT\nmaprule = {subject_nt_principal}\n' \
    >"$corpus/rules/unterminated"

# ---- sshagent: an agent's signature blobs; the first byte picks the
# key (0 RSA, 1 P-256, 2 Ed25519) and, divided by 3, the sign flags.
be32() {	# a 32-bit big-endian number
	printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))"
	printf "\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"
}
bytes() {	# bytes N OCTAL: N times the byte
	head -c "$1" /dev/zero | tr '\0' "\\$2"
}
name() { be32 ${#1}; printf '%s' "$1"; }
blob() {	# blob OUT SELECTOR FORMAT: the signature string on stdin
	sig=$(mktemp)
	cat >"$sig"
	{ printf "\\$(printf %03o "$2")"; name "$3"
	  be32 "$(wc -c <"$sig")"; cat "$sig"; } >"$corpus/sshagent/$1"
	rm -f "$sig"
}
mkdir -p "$corpus/sshagent"
bytes 64 021 | blob ed25519 2 ssh-ed25519
bytes 63 021 | blob ed25519-short 2 ssh-ed25519
bytes 256 042 | blob rsa-sha2-256 3 rsa-sha2-256
bytes 255 042 | blob rsa-sha2-512 6 rsa-sha2-512
bytes 256 042 | blob rsa-wrong-type 3 ssh-rsa
{ be32 32; bytes 32 001; be32 33; printf '\000\201'; bytes 31 002; } |
    blob ec-p256 1 ecdsa-sha2-nistp256
{ be32 32; bytes 32 201; be32 1; printf '\001'; } |
    blob ec-negative 1 ecdsa-sha2-nistp256
bytes 64 021 | blob trailing 2 ssh-ed25519
printf '\000' >>"$corpus/sshagent/trailing"

# ---- response: answers to the challenge, as clients would send them.
printf '%s' "$challenge" >c.txt
sign() {	# sign OUT DIGEST KEY [PREFIX] [sigopt...]
	out=$1 md=$2 k=$3 prefix=${4:-}
	shift 3; [ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	printf '%s%s' "$prefix" "$(openssl dgst "-$md" -sign "$k" "$@" c.txt |
	    openssl base64 -A)" >"$corpus/response/$out"
}
sign ec-sha256 sha256 leaf_ec.key
sign ec-sha384 sha384 leaf_ec.key sha384:
sign ec-sha512 sha512 leaf_ec.key sha512:
sign rsa-pkcs1 sha256 leaf_rsa.key
sign rsa-pss sha256 leaf_rsa.key sha256: -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:32
printf '%s' "$(openssl pkeyutl -sign -rawin -inkey leaf_ed.key -in c.txt |
    openssl base64 -A)" >"$corpus/response/ed25519"
# URL-safe alphabet without padding, and wrapped with whitespace.
tr '+/' '-_' <"$corpus/response/rsa-pkcs1" | tr -d '=' \
    >"$corpus/response/rsa-urlsafe"
openssl dgst -sha256 -sign leaf_ec.key c.txt | openssl base64 |
    sed 's/^/ /' >"$corpus/response/ec-wrapped"
printf 'sha1:%s' "$(cat "$corpus/response/ec-sha256")" >"$corpus/response/sha1"
printf 'AAAA====' >"$corpus/response/bad-padding"
# The signer's certificate offered after a '.', and offered twice.
leaf=$(openssl x509 -in leaf_ec.pem -outform DER | openssl base64 -A)
printf '%s.%s' "$(cat "$corpus/response/ec-sha256")" "$leaf" \
    >"$corpus/response/ec-with-cert"
printf '%s.%s' "$(cat "$corpus/response/ec-sha384")" "$leaf" \
    >"$corpus/response/ec-sha384-with-cert"
printf '%s.%s.%s' "$(cat "$corpus/response/ec-sha256")" "$leaf" "$leaf" \
    >"$corpus/response/two-certs"

# ---- options: configuration files (one option per line).
printf '%s\n' '# a comment' 'trust = ca' 'ca_file = /etc/security/certauth/ca.pem' \
    'chain_file = /etc/security/certauth/chain.pem' \
    'crl_file = /etc/security/certauth/crl.pem' 'crl = chain' \
    'challenge_ttl = 120' 'hostname = host1.example.org' 'debug' \
    >"$corpus/options/ca"
printf '%s\n' 'trust=pinned' 'bindings_dir=/etc/security/certauth/bindings' \
    'nouserok' 'debug=no' >"$corpus/options/pinned"
printf '%s\n' 'ca_dir = /etc/ssl/certs' 'ocsp = hard' \
    'ocsp_url = http://127.0.0.1:8888/' 'ocsp_timeout_ms = 60000' \
    'ocsp_cache_dir = /var/cache/pam_certauth/ocsp' 'ocsp_scope = chain' \
    'ocsp_nonce = yes' 'ocsp_digest = sha256' \
    'ocsp_proxy = https://proxy.example:3128/' \
    'ocsp_responder_cert = /etc/security/certauth/responder.pem' \
    'ocsp_skew = 86400' 'ocsp_max_age = 2592000' >"$corpus/options/ocsp"
printf '%s\n' 'ocsp_skew = -1' 'challenge_ttl = 99999999999999999999' \
    'config = /etc/x' 'ca_file = relative' 'unknown = 1' \
    >"$corpus/options/bad"

# ---- bindings: PEM files as certauth-enroll writes them, with comments.
{ echo '# alice'; cat leaf_ec.pem; echo 'text between blocks'; cat leaf_rsa.pem
} >"$corpus/bindings/two"
cat leaf_ed.pem >"$corpus/bindings/one"
{ cat leaf_ec.pem; sed '$d' leaf_rsa.pem; } >"$corpus/bindings/truncated"
printf '# nothing here\n' >"$corpus/bindings/empty"
# Encryption headers: must fail to parse, never ask for a pass phrase.
printf '%s\n' '-----BEGIN CERTIFICATE-----' 'Proc-Type: 4,ENCRYPTED' \
    'DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF' '' \
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
    '-----END CERTIFICATE-----' >"$corpus/bindings/encrypted"

# ---- challenge: 32 nonce bytes, 8 time bytes, host NUL service NUL user.
printf 'Zm96em5vbmNlZnV6em5vbmNlZnV6em5vbmNl\000\000\000\000j\255\316\000host1.example.org\000sshd\000alice' \
    >"$corpus/challenge/plain"
printf '0123456789abcdef0123456789abcdef\377\377\377\377\377\377\377\377h\303\251ll%%o:x\000su\000DOMAIN\\b\tob\n' \
    >"$corpus/challenge/odd"
# The challenge itself, for the reader of the whole input as one.
printf '%s' "$challenge" >"$corpus/challenge/text"

# ---- ocsp: answers about leaf_ec from the anchor, a delegate and the
# impostor; good, revoked and unknown; with and without the nonce of the
# fixed request below.
serial=$(openssl x509 -in leaf_ec.pem -noout -serial | sed 's/.*=//')
subj=$(openssl x509 -in leaf_ec.pem -noout -subject -nameopt compat | sed 's/^subject=//')
printf 'V\t491231235959Z\t\t%s\tunknown\t%s\n' "$serial" "$subj" >good.idx
printf 'R\t491231235959Z\t250101000000Z,keyCompromise\t%s\tunknown\t%s\n' \
    "$serial" "$subj" >revoked.idx
: >unknown.idx
openssl ocsp -issuer anchor.pem -cert leaf_ec.pem -no_nonce -reqout plain.req
openssl ocsp -issuer anchor.pem -cert leaf_ec.pem -nonce -reqout nonce.req
respond() {	# respond OUT INDEX REQUEST SIGNER [options...]
	out=$1 idx=$2 req=$3 signer=$4
	shift 4
	openssl ocsp -index "$idx" -CA anchor.pem -rsigner "$signer.pem" \
	    -rkey "$signer.key" -reqin "$req" -ndays 36500 \
	    -respout "$corpus/ocsp/$out" "$@" >/dev/null 2>&1
}
respond good good.idx plain.req anchor
respond good-nonce good.idx nonce.req anchor
respond revoked revoked.idx plain.req anchor
respond unknown unknown.idx plain.req anchor
respond delegate good.idx nonce.req delegate
respond keyid good.idx plain.req anchor -resp_key_id -resp_no_certs
respond rogue good.idx plain.req rogue
# No nextUpdate: fresh for ocsp_max_age from thisUpdate.
openssl ocsp -index good.idx -CA anchor.pem -rsigner anchor.pem \
    -rkey anchor.key -reqin plain.req -respout "$corpus/ocsp/no-next" \
    >/dev/null 2>&1
# An unsuccessful responseStatus (internalError) by hand.
printf '\060\003\012\001\002' >"$corpus/ocsp/internal-error"

# ---- policy: DER leaf, optionally followed by a DER intermediate.
cp leaf_ec.der "$corpus/policy/leaf-ec"
cp leaf_ed.der "$corpus/policy/leaf-ed"
cp leaf_rsa.der "$corpus/policy/leaf-rsa"
cat leaf_rsa.der inter.der >"$corpus/policy/leaf-rsa+inter"
cp rogue_leaf.der "$corpus/policy/rogue-leaf"
cat rogue_leaf.der rogue.der >"$corpus/policy/rogue-leaf+rogue"
cp plain.der "$corpus/policy/plain"
cp server.der "$corpus/policy/server"
cp anchor.der "$corpus/policy/anchor"
cp revoked.der "$corpus/policy/revoked"

# ---- the fixtures every target compiles in.
pem_c() {	# pem_c NAME FILE: a C string literal
	printf 'static const char %s[] =\n' "$1"
	sed 's/.*/    "&\\n"/' "$2"
	printf '    ;\n\n'
}
{
	printf '/* fixtures.h - made by tests/fuzz/make-corpus.sh; do not edit.\n'
	printf ' * The certificates the seed corpora were made against. */\n'
	printf '#ifndef CERTAUTH_FUZZ_FIXTURES_H\n#define CERTAUTH_FUZZ_FIXTURES_H\n\n'
	printf '#define FUZZ_NOW\t%sL\t/* a time inside every validity */\n' "$now"
	printf '#define FUZZ_CHALLENGE\t"%s"\n\n' "$challenge"
	pem_c fx_anchor_pem anchor.pem
	pem_c fx_inter_pem inter.pem
	pem_c fx_leaf_ec_pem leaf_ec.pem
	pem_c fx_leaf_rsa_pem leaf_rsa.pem
	pem_c fx_leaf_ed_pem leaf_ed.pem
	pem_c fx_anchor_crl_pem anchor.crl
	openssl base64 -in nonce.req >nonce.b64
	pem_c fx_nonce_req_b64 nonce.b64
	printf '#endif /* CERTAUTH_FUZZ_FIXTURES_H */\n'
} >"$here/fixtures.h"
du -sh "$corpus"
