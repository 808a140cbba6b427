/*
 * test_bindings.c - the bindings store (docs/PROTOCOL.md, "Bindings
 * store"): path encoding, the safe-file rules, the PEM parser with
 * hostile input, and the atomic writer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bindings.h"
#include "certauth.h"
#include "pki.h"
#include "safefile.h"
#include "safewrite.h"
#include "testutil.h"

/* cert1: "alice laptop" (P-256) from the PKI's CA; cert2: "alice token"
 * (Ed25519), self-signed and without key usages. */
struct fixture {
	struct tu_pki pki;
	X509 *cert1, *cert2;
	char *pem1, *pem2;
};

struct state {
	struct fixture *fx;
	char *dir;		/* safe scratch dir, NULL when unavailable */
};

static struct fixture *fixture;

static int
group_setup(void **unused)
{
	const struct tu_pki_opts pki = { .ca_cn = "Bindings CA",
	    .user_cn = "alice laptop", .other_key_type = "ED25519" };
	struct tu_cert_opts token = { "alice token", -1, 365, 0, NULL, NULL,
	    0 };

	(void)unused;
	fixture = calloc(1, sizeof(*fixture));
	if (fixture == NULL)
		return -1;
	tu_pki_make(&fixture->pki, &pki);
	fixture->cert1 = fixture->pki.user;
	fixture->cert2 = tu_make_cert(fixture->pki.other_key, &token, NULL,
	    NULL);
	fixture->pem1 = tu_pem_text(fixture->cert1);
	fixture->pem2 = tu_pem_text(fixture->cert2);
	return 0;
}

static int
group_teardown(void **unused)
{
	(void)unused;
	tu_pki_free(&fixture->pki);
	X509_free(fixture->cert2);
	free(fixture->pem1);
	free(fixture->pem2);
	free(fixture);
	return 0;
}

static int
setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	st->fx = fixture;
	if (geteuid() == 0)
		st->dir = tu_safe_tmpdir();
	*ctx = st;
	return 0;
}

static int
teardown(void **ctx)
{
	struct state *st = *ctx;

	tu_remove_tree(st->dir);
	free(st->dir);
	free(st);
	return 0;
}

/* Tests that need root-owned files skip when they cannot have them. */
#define NEED_SAFE_DIR(st) do {						\
	if ((st)->dir == NULL) {					\
		print_message("# no safe scratch directory (not root?)\n"); \
		skip();							\
	}								\
} while (0)

static int
same_cert(X509 *a, X509 *b)
{
	return X509_cmp(a, b) == 0;
}

static char *
concat(const char *a, const char *b, const char *c, const char *d,
    const char *e)
{
	char *s = NULL;

	assert_true(asprintf(&s, "%s%s%s%s%s", a, b, c, d, e) >= 0);
	return s;
}

/* Read user's bindings from st->dir; returns the code, frees the stack. */
static int
read_user(struct state *st, const char *user, struct certauth_reason *why,
    int *count)
{
	STACK_OF(X509) *certs = NULL;
	int r;

	memset(why, 0, sizeof(*why));
	r = certauth_bindings_read(st->dir, user, NULL, &certs, why);
	if (r == 0)
		assert_non_null(certs);
	else
		assert_null(certs);
	if (count != NULL)
		*count = certs != NULL ? sk_X509_num(certs) : 0;
	sk_X509_pop_free(certs, X509_free);
	return r;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* ------------------------------------------------------------ paths */

static void
test_path_encoding(void **ctx)
{
	char *p = NULL;

	(void)ctx;
	assert_int_equal(certauth_bindings_path("/b", "alice", &p), 0);
	assert_string_equal(p, "/b/alice");
	free(p);
	assert_int_equal(certauth_bindings_path("/b", "a.b_c-d@e+f", &p), 0);
	assert_string_equal(p, "/b/a.b_c-d@e+f");
	free(p);
	assert_int_equal(certauth_bindings_path("/b", "ALICE smith:x", &p), 0);
	assert_string_equal(p, "/b/ALICE%20smith%3Ax");
	free(p);
	/* No user name can climb out of the directory. */
	assert_int_equal(certauth_bindings_path("/b", "../etc/shadow", &p), 0);
	assert_string_equal(p, "/b/..%2Fetc%2Fshadow");
	free(p);
	assert_int_equal(certauth_bindings_path("/b", "\xc3\xa9\n", &p), 0);
	assert_string_equal(p, "/b/%C3%A9%0A");
	free(p);
	p = (char *)1;
	assert_int_equal(certauth_bindings_path("/b", "..", &p),
	    CERTAUTH_ERR_FORMAT);
	assert_null(p);
	assert_int_equal(certauth_bindings_path("/b", ".", &p),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_bindings_path("/b", "", &p),
	    CERTAUTH_ERR_FORMAT);
}

/* ------------------------------------------------------------ reading */

static void
test_read_good_with_comments(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = NULL;
	char *path, *text;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "alice");
	text = concat("# alice's laptop\n", st->fx->pem1,
	    "\n# her token, enrolled 2024-01-01\n-----BEGIN NOTHING-----\n",
	    st->fx->pem2, "trailing words without newline");
	tu_write_file(path, text, 0644);
	assert_int_equal(certauth_bindings_read(st->dir, "alice", NULL, &certs,
	    &why), 0);
	assert_int_equal(sk_X509_num(certs), 2);
	assert_true(same_cert(sk_X509_value(certs, 0), st->fx->cert1));
	assert_true(same_cert(sk_X509_value(certs, 1), st->fx->cert2));
	sk_X509_pop_free(certs, X509_free);
	free(text);
	free(path);
}

static void
test_read_encoded_user(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path;
	int n = 0;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "DOMAIN%5Cbob");
	tu_write_certs(path, &st->fx->cert1, 1, 0644);
	assert_int_equal(read_user(st, "DOMAIN\\bob", &why, &n), 0);
	assert_int_equal(n, 1);
	/* The raw name is a different file, which does not exist. */
	assert_int_equal(read_user(st, "DOMAIN%5Cbob", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	free(path);
}

static void
test_read_symlink_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *target, *link;

	NEED_SAFE_DIR(st);
	target = tu_path(st->dir, "real");
	link = tu_path(st->dir, "alice");
	tu_write_certs(target, &st->fx->cert1, 1, 0644);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "bindings file");
	assert_contains(why.text, "is a symbolic link");
	/* The target itself is fine. */
	assert_int_equal(read_user(st, "real", &why, NULL), 0);
	free(target);
	free(link);
}

static void
check_mode_refused(struct state *st, int mode, const char *problem)
{
	struct certauth_reason why;
	char *path = tu_path(st->dir, "alice"), *expect = NULL;

	tu_write_certs(path, &st->fx->cert1, 1, mode);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_UNSAFE);
	assert_true(asprintf(&expect, "bindings file %s %s", path,
	    problem) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	free(path);
}

static void
test_read_group_writable_refused(void **ctx)
{
	NEED_SAFE_DIR((struct state *)*ctx);
	check_mode_refused(*ctx, 0664, "is group-writable");
}

static void
test_read_other_writable_refused(void **ctx)
{
	NEED_SAFE_DIR((struct state *)*ctx);
	check_mode_refused(*ctx, 0646, "is writable by others");
}

static void
test_read_not_root_owned_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *expect = NULL;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "alice");
	tu_write_certs(path, &st->fx->cert1, 1, 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL), 0);
	assert_int_equal(chown(path, 1234, 1234), 0);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_UNSAFE);
	assert_true(asprintf(&expect, "bindings file %s is not owned by root "
	    "(uid 1234)", path) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	free(path);
}

static void
test_read_not_regular_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "alice");
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not a regular file");
	assert_int_equal(rmdir(path), 0);
	/* A FIFO must be refused, not block the login. */
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not a regular file");
	free(path);
}

static void
test_read_unsafe_parent_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = NULL;
	char *sub, *deep, *path, *expect = NULL;

	NEED_SAFE_DIR(st);
	sub = tu_path(st->dir, "sub");
	deep = tu_path(sub, "bindings");
	path = tu_path(deep, "alice");
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(mkdir(deep, 0755), 0);
	tu_write_certs(path, &st->fx->cert1, 1, 0644);
	assert_int_equal(certauth_bindings_read(deep, "alice", NULL, &certs, &why),
	    0);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;

	/* The directory holding the file, then one further up. */
	assert_int_equal(chmod(deep, 0775), 0);
	assert_int_equal(certauth_bindings_read(deep, "alice", NULL, &certs, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_true(asprintf(&expect, "directory %s is group-writable",
	    deep) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	assert_int_equal(chmod(deep, 0755), 0);

	assert_int_equal(chmod(sub, 0757), 0);
	assert_int_equal(certauth_bindings_read(deep, "alice", NULL, &certs, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_true(asprintf(&expect, "directory %s is writable by others",
	    sub) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	assert_int_equal(chmod(sub, 0755), 0);

	assert_int_equal(chown(sub, 1234, 0), 0);
	assert_int_equal(certauth_bindings_read(deep, "alice", NULL, &certs, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not owned by root (uid 1234)");
	assert_null(certs);
	free(path);
	free(deep);
	free(sub);
}

static void
test_read_symlinked_dir_into_unsafe_tree(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = NULL;
	char *user_dir, *real, *link, *path;

	NEED_SAFE_DIR(st);
	/* A root-owned directory inside a user-owned one, reached through
	 * a root-owned symlink: the user could swap the whole subtree. */
	user_dir = tu_path(st->dir, "home");
	real = tu_path(user_dir, "store");
	link = tu_path(st->dir, "bindings");
	path = tu_path(real, "alice");
	assert_int_equal(mkdir(user_dir, 0755), 0);
	assert_int_equal(mkdir(real, 0755), 0);
	tu_write_certs(path, &st->fx->cert1, 1, 0644);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(certauth_bindings_read(link, "alice", NULL, &certs, &why),
	    0);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
	assert_int_equal(chown(user_dir, 1234, 1234), 0);
	assert_int_equal(certauth_bindings_read(link, "alice", NULL, &certs, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "home is not owned by root (uid 1234)");
	free(path);
	free(link);
	free(real);
	free(user_dir);
}

/* The same, with the link one level up: the bindings directory itself
 * is a real directory, reached through a symlinked parent. */
static void
test_read_symlinked_parent_into_unsafe_tree(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = NULL;
	char *user_dir, *real, *sub, *link, *via_sub, *path;

	NEED_SAFE_DIR(st);
	user_dir = tu_path(st->dir, "home");
	real = tu_path(user_dir, "store");
	sub = tu_path(real, "bindings");
	link = tu_path(st->dir, "via");
	via_sub = tu_path(link, "bindings");
	path = tu_path(sub, "alice");
	assert_int_equal(mkdir(user_dir, 0755), 0);
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	tu_write_certs(path, &st->fx->cert1, 1, 0644);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(certauth_bindings_read(via_sub, "alice", NULL, &certs,
	    &why), 0);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
	assert_int_equal(chown(user_dir, 1234, 1234), 0);
	assert_int_equal(certauth_bindings_read(via_sub, "alice", NULL, &certs,
	    &why), CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "home is not owned by root (uid 1234)");
	free(path);
	free(via_sub);
	free(link);
	free(sub);
	free(real);
	free(user_dir);
}

static void
test_read_empty_and_missing(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path;

	NEED_SAFE_DIR(st);
	assert_int_equal(read_user(st, "nobody-here", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_contains(why.text, "does not exist");
	path = tu_path(st->dir, "alice");
	tu_write_file(path, "", 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_contains(why.text, "holds no certificate");
	tu_write_file(path, "# only a comment\n-----BEGIN PUBLIC KEY-----\n"
	    "AAAA\n-----END PUBLIC KEY-----\n", 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	/* "." and ".." name directories, never bindings. */
	assert_int_equal(read_user(st, "..", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(read_user(st, ".", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	free(path);
}

static void
test_read_garbage_between_blocks(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *text;
	int n = 0, fd;
	static const char junk[] = "\x01\x02\xff\xfe binary -----END "
	    "CERTIFICATE----- stray end marker\r\n-----BEGIN CERTIFICATE";

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "alice");
	text = concat("\x7f" "ELF junk\n", st->fx->pem1, junk + 0, "X\n",
	    st->fx->pem2);
	/* "-----BEGIN CERTIFICATE" without its dashes is not a block. */
	tu_write_file(path, text, 0644);
	assert_int_equal(read_user(st, "alice", &why, &n), 0);
	assert_int_equal(n, 2);
	free(text);

	/* NUL bytes between blocks do not end the scan. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, st->fx->pem1, strlen(st->fx->pem1)),
	    (ssize_t)strlen(st->fx->pem1));
	assert_int_equal(write(fd, "\0\0\0", 3), 3);
	assert_int_equal(write(fd, st->fx->pem2, strlen(st->fx->pem2)),
	    (ssize_t)strlen(st->fx->pem2));
	close(fd);
	assert_int_equal(read_user(st, "alice", &why, &n), 0);
	assert_int_equal(n, 2);
	free(path);
}

static void
test_read_corrupt_block(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *text, *expect = NULL, *bad;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "alice");
	/* Damage the base64 in the middle of the second certificate. */
	bad = strdup(st->fx->pem2);
	assert_non_null(bad);
	bad[strlen("-----BEGIN CERTIFICATE-----\n") + 10] = '*';
	text = concat("# two\n", st->fx->pem1, "\n", bad, "");
	tu_write_file(path, text, 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_FORMAT);
	assert_true(asprintf(&expect, "bindings file %s: certificate 2 does "
	    "not parse", path) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	free(text);

	/* A block that never ends. */
	text = concat(st->fx->pem1, "-----BEGIN CERTIFICATE-----\nMIIB\n",
	    "", "", "");
	tu_write_file(path, text, 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_FORMAT);
	assert_contains(why.text, "certificate 2 does not parse");
	free(text);
	free(bad);
	free(path);
}

static void
test_read_too_large(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *big;
	size_t len = CERTAUTH_BINDINGS_MAX + 1;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "alice");
	big = malloc(len + 1);
	assert_non_null(big);
	memcpy(big, st->fx->pem1, strlen(st->fx->pem1));
	memset(big + strlen(st->fx->pem1), '#', len - strlen(st->fx->pem1));
	big[len] = '\0';
	tu_write_file(path, big, 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL),
	    CERTAUTH_ERR_TOO_LONG);
	assert_contains(why.text, "larger than");
	/* Exactly at the limit is still read. */
	big[len - 1] = '\0';
	tu_write_file(path, big, 0644);
	assert_int_equal(read_user(st, "alice", &why, NULL), 0);
	free(big);
	free(path);
}

/* ------------------------------------------------------------ parser */

static void
test_parse_hostile(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = NULL;
	char *text;

	static const char *const bad[] = {
		"-----BEGIN CERTIFICATE-----",
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
		("-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"
		    "\n-----END CERTIFICATE-----\n"),
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		certs = NULL;
		assert_int_equal(certauth_bindings_parse(bad[i],
		    strlen(bad[i]), &certs, &why), CERTAUTH_ERR_FORMAT);
		assert_null(certs);
		assert_string_equal(why.text,
		    "bindings file: certificate 1 does not parse");
	}
	/* Length is honoured: the certificate after len is not seen. */
	text = concat("# head\n", st->fx->pem1, "", "", "");
	assert_int_equal(certauth_bindings_parse(text, 7, &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(certauth_bindings_parse(text, strlen(text) - 30,
	    &certs, &why), CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_bindings_parse(text, strlen(text), &certs,
	    &why), 0);
	assert_int_equal(sk_X509_num(certs), 1);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
	free(text);
	text = calloc(1, CERTAUTH_BINDINGS_MAX + 1);
	assert_non_null(text);
	assert_int_equal(certauth_bindings_parse(text,
	    CERTAUTH_BINDINGS_MAX + 1, &certs, &why), CERTAUTH_ERR_TOO_LONG);
	assert_null(certs);
	free(text);
}

/*
 * A block with PEM encryption headers fails to parse without asking for a
 * pass phrase (found by fuzz_bindings: OpenSSL's default callback wrote
 * "Enter PEM pass phrase:" to the terminal and read the answer from it,
 * so a login through su or sudo would wait on the user's terminal).  The
 * parse runs in a child without a controlling terminal, where OpenSSL
 * would prompt on stderr and read stdin: stdin is a pipe that stays open
 * and empty, stderr another pipe that must stay silent.  The prompt
 * catches the alarm itself, so the alarm only bounds the wait.
 */
static void
test_parse_encrypted_never_prompts(void **ctx)
{
	static const char enc[] =
	    "-----BEGIN CERTIFICATE-----\n"
	    "Proc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n"
	    "\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	    "-----END CERTIFICATE-----\n";
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why;
	int in[2], err[2], status = 0, r;
	char said[256];
	ssize_t n;
	pid_t pid;

	(void)ctx;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(err), 0);
	if ((pid = fork()) == 0) {
		alarm(5);
		if (setsid() < 0 || dup2(in[0], 0) < 0 || dup2(err[1], 2) < 0)
			_exit(3);
		r = certauth_bindings_parse(enc, strlen(enc), &certs, &why);
		_exit(r == CERTAUTH_ERR_FORMAT && certs == NULL ? 0 : 4);
	}
	assert_true(pid > 0);
	close(in[0]);
	close(err[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = read(err[0], said, sizeof(said) - 1);
	close(in[1]);
	close(err[0]);
	said[n > 0 ? n : 0] = '\0';
	assert_string_equal(said, "");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------------------ writing */

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * A caller of su who lowers RLIMIT_FSIZE: the writer refuses before it
 * writes, so no SIGXFSZ ends this process and no file appears.
 */
static void
test_write_over_fsize_limit(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct rlimit saved, low;
	unsigned char data[4096];
	char *path, *tmpl;

	NEED_SAFE_DIR(st);
	memset(data, 'x', sizeof(data));
	path = tu_path(st->dir, "big");
	tmpl = tu_path(st->dir, ".tmp.XXXXXX");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	low = saved;
	low.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	why.text[0] = '\0';
	assert_int_equal(certauth_write_atomic(st->dir, path, tmpl, data,
	    sizeof(data), 0600, &why), CERTAUTH_ERR_IO);
	/* At the limit is fine. */
	assert_int_equal(certauth_write_atomic(st->dir, path, tmpl, data, 100,
	    0600, NULL), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	assert_contains(why.text, "RLIMIT_FSIZE (100 bytes)");
	assert_int_equal(count_entries(st->dir), 1);
	free(tmpl);
	free(path);
}

static void
test_write_round_trip(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = sk_X509_new_null(), *back = NULL;
	struct stat sb;
	char *path;

	NEED_SAFE_DIR(st);
	assert_non_null(certs);
	assert_true(sk_X509_push(certs, st->fx->cert1));
	assert_true(sk_X509_push(certs, st->fx->cert2));
	assert_int_equal(certauth_bindings_write(st->dir, "alice smith", certs,
	    &why), 0);
	path = tu_path(st->dir, "alice%20smith");
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0644);
	assert_int_equal(sb.st_uid, 0);
	/* Nothing but the file itself: no temporary left behind. */
	assert_int_equal(count_entries(st->dir), 1);

	assert_int_equal(certauth_bindings_read(st->dir, "alice smith", NULL, &back,
	    &why), 0);
	assert_int_equal(sk_X509_num(back), 2);
	assert_true(same_cert(sk_X509_value(back, 0), st->fx->cert1));
	assert_true(same_cert(sk_X509_value(back, 1), st->fx->cert2));
	sk_X509_pop_free(back, X509_free);
	back = NULL;

	/* Replacing shrinks it to one. */
	(void)sk_X509_pop(certs);
	assert_int_equal(certauth_bindings_write(st->dir, "alice smith", certs,
	    &why), 0);
	assert_int_equal(certauth_bindings_read(st->dir, "alice smith", NULL, &back,
	    &why), 0);
	assert_int_equal(sk_X509_num(back), 1);
	assert_true(same_cert(sk_X509_value(back, 0), st->fx->cert1));
	sk_X509_pop_free(back, X509_free);
	back = NULL;
	assert_int_equal(count_entries(st->dir), 1);

	/* An empty stack removes the file; removing twice is fine. */
	(void)sk_X509_pop(certs);
	assert_int_equal(certauth_bindings_write(st->dir, "alice smith", certs,
	    &why), 0);
	assert_int_equal(lstat(path, &sb), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(certauth_bindings_write(st->dir, "alice smith", certs,
	    &why), 0);
	assert_int_equal(read_user(st, "alice smith", &why, NULL),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(count_entries(st->dir), 0);
	sk_X509_free(certs);
	free(path);
}

static void
test_write_creates_dir(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = sk_X509_new_null(), *back = NULL;
	struct stat sb;
	char *top, *dir;
	mode_t old = umask(077);

	NEED_SAFE_DIR(st);
	top = tu_path(st->dir, "etc");
	dir = tu_path(top, "bindings");
	assert_true(sk_X509_push(certs, st->fx->cert2));
	assert_int_equal(certauth_bindings_write(dir, "bob", certs, &why), 0);
	umask(old);
	assert_int_equal(stat(top, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	assert_int_equal(certauth_bindings_read(dir, "bob", NULL, &back, &why), 0);
	assert_int_equal(sk_X509_num(back), 1);
	sk_X509_pop_free(back, X509_free);
	sk_X509_free(certs);
	free(dir);
	free(top);
}

static void
test_write_unsafe_dir_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *certs = sk_X509_new_null();
	char *dir;

	NEED_SAFE_DIR(st);
	dir = tu_path(st->dir, "bindings");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_true(sk_X509_push(certs, st->fx->cert1));
	assert_int_equal(certauth_bindings_write(dir, "alice", certs, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "group-writable");
	assert_int_equal(count_entries(dir), 0);
	assert_int_equal(certauth_bindings_write(dir, "..", certs, &why),
	    CERTAUTH_ERR_FORMAT);
	sk_X509_free(certs);
	free(dir);
}

/* ------------------------------------------------------------ safefile */

static void
test_read_fd_limits(void **ctx)
{
	struct state *st = *ctx;
	char *path, *buf = NULL;
	size_t len = 0;
	int fd;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "f");
	tu_write_file(path, "0123456789", 0644);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(certauth_read_fd(fd, 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(certauth_read_fd(fd, 9, &buf, &len),
	    CERTAUTH_ERR_TOO_LONG);
	assert_null(buf);
	close(fd);
	tu_write_file(path, "", 0644);
	fd = open(path, O_RDONLY);
	assert_int_equal(certauth_read_fd(fd, 9, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	close(fd);
	free(path);
}

static void
test_open_safely_relative(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char cwd[4096];
	int fd = -1;

	NEED_SAFE_DIR(st);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(st->dir), 0);
	tu_write_file("rel", "data", 0644);
	assert_int_equal(certauth_open_safely("rel", "test file", &fd, &why),
	    0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod("rel", 0666), 0);
	assert_int_equal(certauth_open_safely("rel", "test file", &fd, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_int_equal(fd, -1);
	/* The reason names the absolute path. */
	assert_contains(why.text, st->dir);
	assert_int_equal(chdir(cwd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_path_encoding),
		T(test_read_good_with_comments),
		T(test_read_encoded_user),
		T(test_read_symlink_refused),
		T(test_read_group_writable_refused),
		T(test_read_other_writable_refused),
		T(test_read_not_root_owned_refused),
		T(test_read_not_regular_refused),
		T(test_read_unsafe_parent_refused),
		T(test_read_symlinked_dir_into_unsafe_tree),
		T(test_read_symlinked_parent_into_unsafe_tree),
		T(test_read_empty_and_missing),
		T(test_read_garbage_between_blocks),
		T(test_read_corrupt_block),
		T(test_read_too_large),
		T(test_parse_hostile),
		T(test_parse_encrypted_never_prompts),
		T(test_write_round_trip),
		T(test_write_over_fsize_limit),
		T(test_write_creates_dir),
		T(test_write_unsafe_dir_refused),
		T(test_read_fd_limits),
		T(test_open_safely_relative),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
