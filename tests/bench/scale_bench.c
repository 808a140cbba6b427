/*
 * scale_bench.c - the module's time per login as what it reads grows.
 *
 * One PKI (P-256 throughout): root -> intermediate -> user.  Each
 * configuration below gets its own service file (pam_start_confdir) and
 * its own fixtures in a scratch directory under the build tree, and is
 * timed against a small baseline of the same kind:
 *
 *   1. bindings_dir with 10 users against 100,000 users;
 *   2. a user with 1 bound certificate against 20 (the matching one last);
 *   3. 1 trust anchor against 150 as a ca_file bundle and as a hashed
 *      ca_dir (the user's root last in the bundle);
 *   4. a CRL (crl_file, crl=leaf) of 10 serials against 100,000 serials,
 *      and a login whose certificate is listed in the big one (refused);
 *      the CRL's read, parse, signature check and lookup are also timed
 *      on their own, so one can see what the growth is made of;
 *   5. ocsp=hard: a warm cache of 10 entries against 100,000 entries,
 *      and a cold login (the entry removed before each login) against a
 *      real `openssl ocsp` responder started here on 127.0.0.1.
 *
 * The module's time is pam_authenticate minus the time spent inside the
 * conversation callback (the client's signing), as in login_bench.  The
 * configurations of one group take turns, one login each per round in
 * an order shuffled for each round, so that drift of a shared machine
 * and the traces one login leaves for the next hit them all alike.
 *
 * Figures only: nothing here asserts anything about time.  Every login's
 * outcome is checked, though (success, or refusal for the revoked
 * certificate; cache hits stay hits, cold logins reach the responder):
 * a wrong outcome is counted, printed, and makes the exit status 1.
 * Run as root (the module's safe-path rules), by `make bench` or
 * directly; scratch files go under $top_builddir/tests/tmp and are
 * removed at the end.
 *
 *   scale_bench [--n N] [--warmup W]
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <security/pam_appl.h>

#include "anchors.h"
#include "benchutil.h"
#include "conv.h"
#include "testutil.h"

#define SERVICE		"certauth-scale"
#define KEY_TYPE	"P-256"
#define BIG		100000	/* users, CRL serials, OCSP cache entries */
#define SMALL_USERS	10
#define MANY_BOUND	20
#define MANY_CAS	150
#define SMALL_CRL	10
#define SMALL_CACHE	10
#define STEP_RUNS	20	/* runs of each step timed on its own */
#define LINKS_PER_COPY	50000	/* ext4 allows 65,000 links to one inode */
#define SERIAL_BYTES	16	/* CRL serials as long as real CAs use */
#define AUTH_LEVEL	2	/* CHAIN_AUTH_LEVEL of src/chain.c */
#define LISTEN_WAIT_MS	10000

#ifndef CERTAUTH_OCSP_HELPER
#error "CERTAUTH_OCSP_HELPER must name the helper the module runs"
#endif

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
pathf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		bench_die("out of memory");
	return p;
}

/* -------------------------------------------- scratch space and cleanup */

static char *scratch;		/* everything this program writes */
static pid_t responder_pid = -1;
static volatile sig_atomic_t interrupted;

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

static void
remove_tree(const char *dir)
{
	(void)nftw(dir, remove_entry, 64, FTW_DEPTH | FTW_PHYS);
}

static void
stop_responder(void)
{
	if (responder_pid <= 0)
		return;
	(void)kill(responder_pid, SIGTERM);
	(void)waitpid(responder_pid, NULL, 0);
	responder_pid = -1;
}

static void
cleanup(void)
{
	stop_responder();
	if (scratch != NULL) {
		remove_tree(scratch);
		free(scratch);
		scratch = NULL;
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
check_interrupt(void)
{
	if (interrupted)
		bench_die("interrupted");
}

static void
make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 || chmod(path, mode) != 0)
		bench_die("mkdir %s: %s", path, strerror(errno));
}

/* Create (or replace) path with exactly these bytes and mode. */
static void
write_bytes(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0 || fchmod(fd, mode) != 0 ||
	    (len > 0 && write(fd, buf, len) != (ssize_t)len) || close(fd) != 0)
		bench_die("write %s: %s", path, strerror(errno));
}

/* One new file in an open directory. */
static void
write_at(int dirfd, const char *dir, const char *name, const void *buf,
    size_t len, mode_t mode)
{
	int fd;

	if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) < 0 || (len > 0 && write(fd, buf, len) != (ssize_t)len) ||
	    close(fd) != 0)
		bench_die("write %s/%s: %s", dir, name, strerror(errno));
}

/*
 * The name of an entry in an open directory of many: the first of every
 * LINKS_PER_COPY names is written, the others are hard links to it.
 * The directory is what it would be with that many copies (one entry
 * per name, each a root-owned regular file of the same bytes), and
 * creating it takes a fraction of the time.
 */
static void
write_many_at(int dirfd, const char *dir, long i, const char *name,
    char *copy, size_t copylen, const void *buf, size_t len, mode_t mode)
{
	if (i % LINKS_PER_COPY == 0) {
		write_at(dirfd, dir, name, buf, len, mode);
		snprintf(copy, copylen, "%s", name);
		return;
	}
	if (linkat(dirfd, copy, dirfd, name, 0) != 0)
		bench_die("link %s/%s: %s", dir, name, strerror(errno));
}

static unsigned char *
read_all(const char *path, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		bench_die("open %s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		bench_die("out of memory");
	if ((n = read(fd, buf, (size_t)st.st_size)) != (ssize_t)st.st_size)
		bench_die("read %s: %s", path, n < 0 ? strerror(errno) : "short");
	close(fd);
	*len = (size_t)n;
	return buf;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The certificates as PEM text, malloc'd. */
static char *
certs_pem(X509 *const *certs, int n, size_t *len)
{
	BIO *bio;
	char *data = NULL, *out;
	long m;
	int i;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		bench_die("BIO_new");
	for (i = 0; i < n; i++)
		if (!PEM_write_bio_X509(bio, certs[i]))
			bench_die("PEM_write_bio_X509");
	if ((m = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (out = malloc((size_t)m + 1)) == NULL)
		bench_die("PEM text");
	memcpy(out, data, (size_t)m);
	out[m] = '\0';
	*len = (size_t)m;
	BIO_free(bio);
	return out;
}

/* ------------------------------------------------------------ figures */

static double
median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return bench_pct(v, n, 0.50);
}

/* What the tables print, collected as the groups run. */
struct login_row {
	char label[96];
	char base[96];
	long n, bad;
	double p50, p99, r50, r99;
};

struct fixture_row {
	char label[112];
	long entries;
	long bytes;		/* of one file; -1: not shown */
	double build_s, remove_s;
};

/* One step of a login timed alone, for the baseline and the big case. */
struct step_row {
	char label[112];
	double small, big;
};

#define MAX_ROWS	32
static struct login_row login_rows[MAX_ROWS];
static struct fixture_row fixture_rows[MAX_ROWS];
static struct step_row step_rows[MAX_ROWS];
static char notes[8][640];
static int nlogin_rows, nfixture_rows, nstep_rows, nnotes;
static long wrong_outcomes;
static char first_wrong[320];

static struct fixture_row *
add_fixture(const char *label, long entries, long bytes, double build_us)
{
	struct fixture_row *f;

	if (nfixture_rows == MAX_ROWS)
		bench_die("too many fixture rows");
	f = &fixture_rows[nfixture_rows++];
	snprintf(f->label, sizeof(f->label), "%s", label);
	f->entries = entries;
	f->bytes = bytes;
	f->build_s = build_us / 1e6;
	f->remove_s = -1;
	return f;
}

/* Remove a fixture directory and note how long that took. */
static void
remove_fixture(struct fixture_row *f, const char *dir)
{
	double t0 = bench_now_us();

	remove_tree(dir);
	if (f != NULL)
		f->remove_s = (bench_now_us() - t0) / 1e6;
}

static void
add_step(const char *label, double small, double big)
{
	struct step_row *r;

	if (nstep_rows == MAX_ROWS)
		bench_die("too many step rows");
	r = &step_rows[nstep_rows++];
	snprintf(r->label, sizeof(r->label), "%s", label);
	r->small = small;
	r->big = big;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
note(const char *fmt, ...)
{
	va_list ap;

	if (nnotes == (int)(sizeof(notes) / sizeof(notes[0])))
		bench_die("too many notes");
	va_start(ap, fmt);
	vsnprintf(notes[nnotes++], sizeof(notes[0]), fmt, ap);
	va_end(ap);
}

/* The summary of a configuration that has run. */
static const struct login_row *
row_of(const char *label)
{
	int i;

	for (i = 0; i < nlogin_rows; i++)
		if (strcmp(login_rows[i].label, label) == 0)
			return &login_rows[i];
	bench_die("no figures for %s", label);
}

static void
wrong(const char *label, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
wrong(const char *label, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (wrong_outcomes++ == 0)
		snprintf(first_wrong, sizeof(first_wrong), "%s: %s", label, why);
}

/* ------------------------------------------------------------ the PKI */

struct pki {
	EVP_PKEY *root_key, *int_key, *user_key;
	X509 *root, *inter, *user;
	char *root_path, *chain_path, *int_key_path, *empty_conf;
	char *bindings1;	/* a bindings_dir holding the user alone */
	char *user_pem;
	size_t user_pem_len;
};

static const struct tu_cert_opts user_opts = { "bench user", -1, 365, 0,
    "critical,digitalSignature", "clientAuth", 0 };

static void
write_key(const char *path, EVP_PKEY *key)
{
	FILE *f;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0 || (f = fdopen(fd, "w")) == NULL)
		bench_die("open %s: %s", path, strerror(errno));
	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) != 0)
		bench_die("write %s", path);
}

/* A bindings_dir whose only file is the user's, holding pem. */
static void
bindings_for(const char *dir, const char *user, const char *pem, size_t len)
{
	char *file;

	make_dir(dir, 0755);
	file = pathf("%s/%s", dir, user);
	write_bytes(file, pem, len, 0644);
	free(file);
}

static void
make_pki(struct pki *p, const char *user)
{
	struct tu_cert_opts root_opts = { "Bench Root", -1, 3650, 1, NULL,
	    NULL, 0 };
	struct tu_cert_opts int_opts = { "Bench Intermediate", -1, 3650, 1,
	    NULL, NULL, 0 };
	memset(p, 0, sizeof(*p));
	p->root_key = tu_keygen(KEY_TYPE);
	p->int_key = tu_keygen(KEY_TYPE);
	p->user_key = tu_keygen(KEY_TYPE);
	p->root = tu_make_cert(p->root_key, &root_opts, NULL, NULL);
	p->inter = tu_make_cert(p->int_key, &int_opts, p->root, p->root_key);
	p->user = tu_make_cert(p->user_key, &user_opts, p->inter, p->int_key);
	p->root_path = pathf("%s/root.pem", scratch);
	p->chain_path = pathf("%s/intermediate.pem", scratch);
	p->int_key_path = pathf("%s/intermediate.key", scratch);
	p->empty_conf = pathf("%s/pam_certauth.conf", scratch);
	tu_write_certs(p->root_path, &p->root, 1, 0644);
	tu_write_certs(p->chain_path, &p->inter, 1, 0644);
	write_key(p->int_key_path, p->int_key);
	/* An explicit empty config: the system's file must not take part. */
	write_bytes(p->empty_conf, "# empty on purpose\n", 19, 0644);
	p->user_pem = certs_pem(&p->user, 1, &p->user_pem_len);
	p->bindings1 = pathf("%s/bindings-1", scratch);
	bindings_for(p->bindings1, user, p->user_pem, p->user_pem_len);
}

static void
free_pki(struct pki *p)
{
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->int_key);
	EVP_PKEY_free(p->user_key);
	X509_free(p->root);
	X509_free(p->inter);
	X509_free(p->user);
	free(p->root_path);
	free(p->chain_path);
	free(p->int_key_path);
	free(p->empty_conf);
	free(p->bindings1);
	free(p->user_pem);
}

/* ------------------------------------------------ logins through libpam */

struct bcase;
/* Run around a login, outside its timing; nonzero from after is a
 * wrong outcome, described in why. */
typedef void (*before_fn)(const struct bcase *);
typedef int (*after_fn)(const struct bcase *, char *why, size_t whylen);

struct bcase {
	const char *label;
	int baseline;		/* index in the group; itself for a baseline */
	char *confdir;
	EVP_PKEY *key;		/* signs the challenge */
	int expect;		/* PAM_SUCCESS, or PAM_AUTH_ERR */
	before_fn before;
	after_fn after;
	const void *arg;	/* for the hooks */
	double *t;		/* module µs of each timed login */
};

/* One login of case c; the module's µs in *module_us.  Returns 1 when
 * the outcome is the expected one, else 0 with why. */
static int
one_login(const struct bcase *c, const char *user, double *module_us,
    char *why, size_t whylen)
{
	struct tu_conv cs = { .key = c->key };
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *pamh = NULL;
	double t0, t1;
	int rc, ok;

	if (c->before != NULL)
		c->before(c);
	if (tu_pam_start(SERVICE, user, c->confdir, &conv, NULL, &pamh) !=
	    PAM_SUCCESS)
		bench_die("pam_start_confdir failed");
	t0 = bench_now_us();
	rc = pam_authenticate(pamh, PAM_SILENT);
	t1 = bench_now_us();
	*module_us = (t1 - t0) - cs.inside_us;
	/* One challenge: a refusal comes after the signature verified. */
	ok = rc == c->expect && cs.calls == 1;
	if (!ok)
		snprintf(why, whylen, "pam_authenticate: %s (%d), %d "
		    "challenge%s; expected %s", pam_strerror(pamh, rc), rc,
		    cs.calls, cs.calls == 1 ? "" : "s",
		    pam_strerror(pamh, c->expect));
	if (pam_end(pamh, rc) != PAM_SUCCESS)
		bench_die("pam_end failed");
	if (ok && c->after != NULL && c->after(c, why, whylen) != 0)
		ok = 0;
	return ok;
}

/* The service file of a case: the module with these options. */
static void
case_init(struct bcase *c, const struct pki *p, const char *groupdir, int idx,
    const char *label, int baseline, EVP_PKEY *key, int expect,
    const char *opts)
{
	char *service, *text;

	memset(c, 0, sizeof(*c));
	c->label = label;
	c->baseline = baseline;
	c->key = key;
	c->expect = expect;
	c->confdir = pathf("%s/pam.d-%d", groupdir, idx);
	make_dir(c->confdir, 0755);
	service = pathf("%s/" SERVICE, c->confdir);
	text = pathf("auth required %s config=%s hostname=bench-host nodelay "
	    "%s\n", MODULE_PATH, p->empty_conf, opts);
	write_bytes(service, text, strlen(text), 0644);
	free(text);
	free(service);
}

static void
case_free(struct bcase *c)
{
	free(c->confdir);
	free(c->t);
}

/* A fixed pseudo-random sequence (xorshift64), so runs are alike. */
static uint64_t
next_random(void)
{
	static uint64_t x = 0x5ca1ab1e0ddba11ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/*
 * W warm-up rounds, then N timed rounds; each round runs one login of
 * every case, in an order shuffled anew for each round: whatever a login
 * leaves behind (a forked helper, a freed heap) then falls on every case
 * alike.  Every login's outcome is checked.
 */
static void
run_group(const char *title, struct bcase *cases, int ncases, const char *user,
    long n, long warmup)
{
	double t0 = bench_now_us(), us, *v;
	char why[256];
	long round, bad[16] = { 0 };
	int k, j, tmp, order[16];

	if (ncases > 16)
		bench_die("too many cases");
	printf("  %s: %ld warm-up + %ld timed rounds of %d logins ...",
	    title, warmup, n, ncases);
	fflush(stdout);
	for (k = 0; k < ncases; k++)
		if ((cases[k].t = calloc((size_t)n, sizeof(double))) == NULL)
			bench_die("out of memory");
	for (k = 0; k < ncases; k++)
		order[k] = k;
	for (round = 0; round < warmup + n; round++) {
		for (k = ncases - 1; k > 0; k--) {
			j = (int)(next_random() % (uint64_t)(k + 1));
			tmp = order[k];
			order[k] = order[j];
			order[j] = tmp;
		}
		for (j = 0; j < ncases; j++) {
			k = order[j];
			check_interrupt();
			why[0] = '\0';
			if (!one_login(&cases[k], user, &us, why,
			    sizeof(why))) {
				bad[k]++;
				wrong(cases[k].label, "%s", why);
			}
			if (round >= warmup)
				cases[k].t[round - warmup] = us;
		}
	}
	printf(" %.1f s\n", (bench_now_us() - t0) / 1e6);
	for (k = 0; k < ncases; k++) {
		struct login_row *r;

		if (nlogin_rows == MAX_ROWS)
			bench_die("too many rows");
		r = &login_rows[nlogin_rows++];
		v = cases[k].t;
		qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
		snprintf(r->label, sizeof(r->label), "%s", cases[k].label);
		r->n = n;
		r->bad = bad[k];
		r->p50 = bench_pct(v, n, 0.50);
		r->p99 = bench_pct(v, n, 0.99);
	}
	/* Ratios once every case of the group is summarised. */
	for (k = 0; k < ncases; k++) {
		struct login_row *r = &login_rows[nlogin_rows - ncases + k];
		const struct login_row *b =
		    &login_rows[nlogin_rows - ncases + cases[k].baseline];

		r->r50 = r->p50 / b->p50;
		r->r99 = r->p99 / b->p99;
		snprintf(r->base, sizeof(r->base), "%s",
		    cases[k].baseline == k ? "baseline" : b->label);
	}
}

/* One untimed login whose outcome must be the expected one. */
static void
check_once(const struct bcase *c, const char *user)
{
	char why[256] = "";
	double us;

	if (!one_login(c, user, &us, why, sizeof(why)))
		wrong(c->label, "%s", why);
}

/* --------------------------------------------- 1. users in bindings_dir */

/* A bindings_dir of count files: the user's own, and count - 1 others
 * with the same certificate. */
static struct fixture_row *
fill_bindings(const char *dir, long count, const char *user, const char *pem,
    size_t len, const char *label)
{
	double t0 = bench_now_us();
	char name[32], copy[32];
	long i;
	int dfd;

	make_dir(dir, 0755);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		bench_die("open %s: %s", dir, strerror(errno));
	write_at(dfd, dir, user, pem, len, 0644);
	for (i = 1; i < count; i++) {
		snprintf(name, sizeof(name), "user%06ld", i);
		write_many_at(dfd, dir, i - 1, name, copy, sizeof(copy), pem,
		    len, 0644);
		if ((i & 1023) == 0)
			check_interrupt();
	}
	close(dfd);
	return add_fixture(label, count, (long)len, bench_now_us() - t0);
}

static void
group_users(const struct pki *p, const char *user, long n, long warmup)
{
	char *g = pathf("%s/users", scratch);
	char *small = pathf("%s/bindings-10", g), *big = pathf("%s/bindings-100k", g);
	struct fixture_row *fs, *fb;
	struct bcase c[2];
	char *opts;

	make_dir(g, 0755);
	fs = fill_bindings(small, SMALL_USERS, user, p->user_pem,
	    p->user_pem_len, "bindings_dir: 10 user files");
	fb = fill_bindings(big, BIG, user, p->user_pem, p->user_pem_len,
	    "bindings_dir: 100,000 user files");
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s", p->root_path,
	    p->chain_path, small);
	case_init(&c[0], p, g, 0, "bindings_dir, 10 users", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s", p->root_path,
	    p->chain_path, big);
	case_init(&c[1], p, g, 1, "bindings_dir, 100,000 users", 0,
	    p->user_key, PAM_SUCCESS, opts);
	free(opts);
	run_group("1 bindings_dir", c, 2, user, n, warmup);
	note("bindings_dir: 100,000 users against 10: p50 %.2fx, p99 %.2fx "
	    "(issue target: at most 1.10x).",
	    row_of("bindings_dir, 100,000 users")->r50,
	    row_of("bindings_dir, 100,000 users")->r99);
	case_free(&c[0]);
	case_free(&c[1]);
	remove_fixture(fb, big);
	remove_fixture(fs, small);
	remove_tree(g);
	free(small);
	free(big);
	free(g);
}

/* ------------------------------------- 2. certificates bound to one user */

/* PEM certificates of a buffer, read one by one as the module does. */
static STACK_OF(X509) *
parse_pem_certs(const void *buf, size_t len)
{
	STACK_OF(X509) *sk;
	BIO *bio;
	X509 *x;

	if ((sk = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		bench_die("out of memory");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x))
			bench_die("out of memory");
	ERR_clear_error();
	BIO_free(bio);
	return sk;
}

/* Three steps over a list of certificates, p50 µs of STEP_RUNS runs. */
struct cert_steps {
	double parse, use, release;
};

/*
 * A bindings file alone: parse it, try the signature with each key (one
 * matches), free it.  The message has the size of a challenge.
 */
static void
time_bound(const char *pem, size_t len, EVP_PKEY *key, struct cert_steps *out)
{
	static const char msg[] = "certauth:v1:bench-host:" SERVICE ":root:"
	    "1700000000:0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
	unsigned char sig[256];
	size_t siglen = sizeof(sig);
	double v[3][STEP_RUNS], t0;
	STACK_OF(X509) *sk;
	EVP_MD_CTX *m;
	int r, i, ok;

	if ((m = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(m, sig, &siglen, (const unsigned char *)msg,
	    strlen(msg)) != 1)
		bench_die("signing");
	EVP_MD_CTX_free(m);
	for (r = 0; r < STEP_RUNS; r++) {
		t0 = bench_now_us();
		sk = parse_pem_certs(pem, len);
		v[0][r] = bench_now_us() - t0;
		t0 = bench_now_us();
		for (i = ok = 0; i < sk_X509_num(sk); i++) {
			if ((m = EVP_MD_CTX_new()) == NULL ||
			    EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL,
			    X509_get0_pubkey(sk_X509_value(sk, i))) != 1)
				bench_die("verify init");
			ok += EVP_DigestVerify(m, sig, siglen,
			    (const unsigned char *)msg, strlen(msg)) == 1;
			EVP_MD_CTX_free(m);
		}
		v[1][r] = bench_now_us() - t0;
		if (ok != 1)
			bench_die("%d bound keys verify the signature, not 1", ok);
		ERR_clear_error();
		t0 = bench_now_us();
		sk_X509_pop_free(sk, X509_free);
		v[2][r] = bench_now_us() - t0;
	}
	out->parse = median(v[0], STEP_RUNS);
	out->use = median(v[1], STEP_RUNS);
	out->release = median(v[2], STEP_RUNS);
}

/* What parsing one certificate costs, and how much of it is its key. */
static void
time_one_cert(X509 *cert)
{
	double v[2][STEP_RUNS * 10], t0;
	unsigned char *der = NULL, *pk = NULL;
	const unsigned char *q;
	X509_PUBKEY *xpk;
	X509 *x;
	int n, m, r;

	if ((n = i2d_X509(cert, &der)) <= 0 ||
	    (m = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &pk)) <= 0)
		bench_die("i2d");
	for (r = 0; r < STEP_RUNS * 10; r++) {
		q = der;
		t0 = bench_now_us();
		if ((x = d2i_X509(NULL, &q, n)) == NULL)
			bench_die("d2i_X509");
		v[0][r] = bench_now_us() - t0;
		X509_free(x);
		q = pk;
		t0 = bench_now_us();
		if ((xpk = d2i_X509_PUBKEY(NULL, &q, m)) == NULL)
			bench_die("d2i_X509_PUBKEY");
		v[1][r] = bench_now_us() - t0;
		X509_PUBKEY_free(xpk);
	}
	note("One P-256 certificate takes %.0f us to parse (d2i_X509, p50 of "
	    "%d), %.0f us of it decoding its public key (d2i_X509_PUBKEY).",
	    median(v[0], STEP_RUNS * 10), STEP_RUNS * 10,
	    median(v[1], STEP_RUNS * 10));
	OPENSSL_free(der);
	OPENSSL_free(pk);
}

/* Steps and their note for a pair of configurations. */
static void
cert_steps(const char *what, const char *small_label, const char *big_label,
    const char *parse_label, const char *use_label, const char *free_label,
    const char *use_word, const struct cert_steps *s,
    const struct cert_steps *b)
{
	const struct login_row *rs = row_of(small_label), *rb = row_of(big_label);
	double grow = rb->p50 - rs->p50;
	double sum = (b->parse - s->parse) + (b->use - s->use) +
	    (b->release - s->release);

	add_step(parse_label, s->parse, b->parse);
	add_step(use_label, s->use, b->use);
	add_step(free_label, s->release, b->release);
	note("%s: the module's p50 grows by %.0f us (%.2fx). Timed alone, "
	    "parsing them grows by %.0f us, %s by %.0f us, freeing by %.0f "
	    "us; the module's growth is %.0f%% of their sum.", what, grow,
	    rb->r50, b->parse - s->parse, use_word, b->use - s->use,
	    b->release - s->release, sum > 0 ? 100 * grow / sum : 0);
}

static void
group_bound(const struct pki *p, const char *user, long n, long warmup)
{
	struct tu_cert_opts o = user_opts;
	char *g = pathf("%s/bound", scratch), *dir, *pem, *opts;
	X509 *certs[MANY_BOUND];
	EVP_PKEY *key;
	struct cert_steps s1, s20;
	struct bcase c[2];
	double t0;
	size_t len;
	int i;

	make_dir(g, 0755);
	t0 = bench_now_us();
	for (i = 0; i < MANY_BOUND - 1; i++) {
		key = tu_keygen(KEY_TYPE);
		o.cn = "another bound certificate";
		certs[i] = tu_make_cert(key, &o, p->inter, p->int_key);
		EVP_PKEY_free(key);
	}
	certs[MANY_BOUND - 1] = p->user;	/* the matching one last */
	pem = certs_pem(certs, MANY_BOUND, &len);
	dir = pathf("%s/bindings-20", g);
	bindings_for(dir, user, pem, len);
	add_fixture("bindings file: 20 certificates, other keys, the "
	    "user's last", MANY_BOUND, (long)len, bench_now_us() - t0);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s", p->root_path,
	    p->chain_path, p->bindings1);
	case_init(&c[0], p, g, 0, "1 bound certificate", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s", p->root_path,
	    p->chain_path, dir);
	case_init(&c[1], p, g, 1, "20 bound certificates, match last", 0,
	    p->user_key, PAM_SUCCESS, opts);
	free(opts);
	run_group("2 bound certificates", c, 2, user, n, warmup);
	time_one_cert(p->user);
	time_bound(p->user_pem, p->user_pem_len, p->user_key, &s1);
	time_bound(pem, len, p->user_key, &s20);
	cert_steps("20 bound certificates", "1 bound certificate",
	    "20 bound certificates, match last",
	    "bindings file: parse (1 / 20 certificates)",
	    "bindings file: signature check with each key",
	    "bindings file: free the certificates", "the signature checks",
	    &s1, &s20);
	case_free(&c[0]);
	case_free(&c[1]);
	for (i = 0; i < MANY_BOUND - 1; i++)
		X509_free(certs[i]);
	free(pem);
	free(dir);
	remove_tree(g);
	free(g);
}

/* --------------------------------------------------- 3. trust anchors */

/* A hashed directory as `openssl rehash` makes it: <hash>.<k> links. */
static void
hashed_dir(const char *dir, X509 *const *cas, int n)
{
	char *file, *lnk;
	int i, k;

	make_dir(dir, 0755);
	for (i = 0; i < n; i++) {
		file = pathf("%s/ca-%03d.pem", dir, i);
		tu_write_certs(file, (X509 **)&cas[i], 1, 0644);
		for (k = 0; ; k++) {
			lnk = pathf("%s/%08lx.%d", dir,
			    X509_subject_name_hash(cas[i]), k);
			if (symlink(file + strlen(dir) + 1, lnk) == 0)
				break;
			if (errno != EEXIST)
				bench_die("symlink %s: %s", lnk, strerror(errno));
			free(lnk);
		}
		free(lnk);
		free(file);
	}
}

/* A ca_file alone: parse it, put every certificate in a new store, free
 * the store and the certificates. */
static void
time_bundle(const char *path, struct cert_steps *out)
{
	double v[3][STEP_RUNS], t0;
	STACK_OF(X509) *sk;
	X509_STORE *st;
	unsigned char *buf;
	size_t len;
	int r, i;

	buf = read_all(path, &len);
	for (r = 0; r < STEP_RUNS; r++) {
		t0 = bench_now_us();
		sk = parse_pem_certs(buf, len);
		v[0][r] = bench_now_us() - t0;
		t0 = bench_now_us();
		if ((st = X509_STORE_new()) == NULL)
			bench_die("X509_STORE_new");
		for (i = 0; i < sk_X509_num(sk); i++)
			if (!X509_STORE_add_cert(st, sk_X509_value(sk, i)))
				bench_die("X509_STORE_add_cert");
		v[1][r] = bench_now_us() - t0;
		t0 = bench_now_us();
		X509_STORE_free(st);
		sk_X509_pop_free(sk, X509_free);
		v[2][r] = bench_now_us() - t0;
	}
	free(buf);
	out->parse = median(v[0], STEP_RUNS);
	out->use = median(v[1], STEP_RUNS);
	out->release = median(v[2], STEP_RUNS);
}

/*
 * What a fresh process pays for a ca_file now: indexing it by subject
 * (anchors.h), without parsing a certificate (p50 of STEP_RUNS, µs).
 */
static double
time_index(const char *path)
{
	struct certauth_anchor_index *idx = NULL;
	double v[STEP_RUNS], t0;
	unsigned char *buf;
	size_t len;
	int r, bad = 0;

	buf = read_all(path, &len);
	for (r = 0; r < STEP_RUNS; r++) {
		t0 = bench_now_us();
		if (certauth_anchor_index_build((const char *)buf, len, &idx,
		    &bad) != 0)
			bench_die("cannot index %s (block %d)", path, bad);
		v[r] = bench_now_us() - t0;
		certauth_anchor_index_free(idx);
	}
	free(buf);
	return median(v, STEP_RUNS);
}

static void
group_trust(const struct pki *p, const char *user, long n, long warmup)
{
	char *g = pathf("%s/trust", scratch), *bundle, *dir1, *dir150, *opts;
	char cn[64];
	X509 *cas[MANY_CAS];
	EVP_PKEY *key;
	struct cert_steps s1, s150;
	struct bcase c[4];
	double t0;
	int i;

	make_dir(g, 0755);
	t0 = bench_now_us();
	for (i = 0; i < MANY_CAS - 1; i++) {
		struct tu_cert_opts o = { cn, -1, 3650, 1, NULL, NULL, 0 };

		snprintf(cn, sizeof(cn), "Bench Other Root %03d", i + 1);
		key = tu_keygen(KEY_TYPE);
		cas[i] = tu_make_cert(key, &o, NULL, NULL);
		EVP_PKEY_free(key);
	}
	cas[MANY_CAS - 1] = p->root;	/* the user's root last */
	bundle = pathf("%s/ca-bundle-150.pem", g);
	tu_write_certs(bundle, cas, MANY_CAS, 0644);
	add_fixture("ca_file: bundle of 150 CAs, the user's root last",
	    MANY_CAS, file_size(bundle), bench_now_us() - t0);
	t0 = bench_now_us();
	dir150 = pathf("%s/ca-dir-150", g);
	hashed_dir(dir150, cas, MANY_CAS);
	dir1 = pathf("%s/ca-dir-1", g);
	hashed_dir(dir1, &cas[MANY_CAS - 1], 1);
	add_fixture("ca_dir: the same 150 CAs, hashed (and one of 1)",
	    MANY_CAS + 1, -1, bench_now_us() - t0);

	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s", p->root_path,
	    p->chain_path, p->bindings1);
	case_init(&c[0], p, g, 0, "ca_file, 1 CA", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s", bundle,
	    p->chain_path, p->bindings1);
	case_init(&c[1], p, g, 1, "ca_file, 150 CAs", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_dir=%s chain_file=%s bindings_dir=%s", dir1,
	    p->chain_path, p->bindings1);
	case_init(&c[2], p, g, 2, "ca_dir, 1 CA", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_dir=%s chain_file=%s bindings_dir=%s", dir150,
	    p->chain_path, p->bindings1);
	case_init(&c[3], p, g, 3, "ca_dir, 150 CAs", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	run_group("3 trust anchors", c, 4, user, n, warmup);
	time_bundle(p->root_path, &s1);
	time_bundle(bundle, &s150);
	cert_steps("ca_file of 150 CAs", "ca_file, 1 CA", "ca_file, 150 CAs",
	    "ca_file: parse (1 / 150 certificates)",
	    "ca_file: add each to a new X509_STORE",
	    "ca_file: free the store and certificates", "the store",
	    &s1, &s150);
	add_step("ca_file: index by subject, no parse (1 / 150)",
	    time_index(p->root_path), time_index(bundle));
	for (i = 0; i < 4; i++)
		case_free(&c[i]);
	for (i = 0; i < MANY_CAS - 1; i++)
		X509_free(cas[i]);
	free(bundle);
	free(dir1);
	free(dir150);
	remove_tree(g);
	free(g);
}

/* ------------------------------------------------------------ 4. CRLs */

/* Serial number i of the CRLs: 16 bytes, scattered, positive. */
static ASN1_INTEGER *
crl_serial(long i)
{
	unsigned char b[SERIAL_BYTES];
	uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ULL + 0x5CA1AB1EULL;
	ASN1_INTEGER *a;
	BIGNUM *bn;
	int k;

	b[0] = 0x3c;
	for (k = 1; k < 8; k++)
		b[k] = (unsigned char)(0xa5 ^ (k * 29));
	for (k = 0; k < 8; k++)
		b[8 + k] = (unsigned char)(x >> (56 - 8 * k));
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (a = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		bench_die("serial");
	BN_free(bn);
	return a;
}

/* A CRL of the intermediate listing serials 0 .. count-1, built entry by
 * entry (no certificates are made for them). */
static X509_CRL *
make_big_crl(const struct pki *p, long count)
{
	X509_CRL *crl;
	X509_REVOKED *rev;
	ASN1_TIME *last, *next, *when;
	ASN1_INTEGER *serial, *num;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	long i;

	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(p->inter)) ||
	    (last = X509_time_adj_ex(NULL, -1, 0, NULL)) == NULL ||
	    (next = X509_time_adj_ex(NULL, 30, 0, NULL)) == NULL ||
	    (when = X509_time_adj_ex(NULL, -2, 0, NULL)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, last) ||
	    !X509_CRL_set1_nextUpdate(crl, next))
		bench_die("CRL header");
	for (i = 0; i < count; i++) {
		serial = crl_serial(i);
		if ((rev = X509_REVOKED_new()) == NULL ||
		    !X509_REVOKED_set_serialNumber(rev, serial) ||
		    !X509_REVOKED_set_revocationDate(rev, when) ||
		    !X509_CRL_add0_revoked(crl, rev))
			bench_die("CRL entry %ld", i);
		ASN1_INTEGER_free(serial);
	}
	X509V3_set_ctx(&ctx, p->inter, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, ext, -1))
		bench_die("CRL authorityKeyIdentifier");
	X509_EXTENSION_free(ext);
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(num, 1) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		bench_die("CRL number");
	ASN1_INTEGER_free(num);
	if (!X509_CRL_sort(crl) ||
	    X509_CRL_sign(crl, p->int_key, EVP_sha256()) <= 0)
		bench_die("X509_CRL_sign");
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_TIME_free(when);
	return crl;
}

static void
write_crl(const char *path, X509_CRL *crl)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL)
		bench_die("%s: %s", path, strerror(errno));
	if (!PEM_write_X509_CRL(f, crl) || fclose(f) != 0)
		bench_die("cannot write %s", path);
}

/* The CRL steps of one login, each timed on its own (p50, µs). */
struct crl_parts {
	double read, pem, der, sig, first_lookup, next_lookup, release, verify;
};

static void
set_verify_params(X509_STORE_CTX *ctx, STACK_OF(ASN1_OBJECT) *policies)
{
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);

	/* What src/chain.c sets for trust=ca, crl=leaf. */
	X509_VERIFY_PARAM_set_time(param, time(NULL));
	X509_VERIFY_PARAM_set_auth_level(param, AUTH_LEVEL);
	if (!X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_POLICY_CHECK | X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS) ||
	    !X509_VERIFY_PARAM_set1_policies(param, policies))
		bench_die("verify parameters");
}

static X509_CRL *
parse_der(const unsigned char *der, size_t len)
{
	const unsigned char *q = der;
	X509_CRL *crl;

	if ((crl = d2i_X509_CRL(NULL, &q, (long)len)) == NULL)
		bench_die("d2i_X509_CRL");
	return crl;
}

static void
time_crl_parts(const struct pki *p, const char *path, const ASN1_INTEGER *listed,
    struct crl_parts *out)
{
	double v[8][STEP_RUNS], t0, t1;
	unsigned char *buf, *der = NULL;
	X509_CRL *crl, *fresh;
	X509_REVOKED *rev;
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *untrusted;
	STACK_OF(X509_CRL) *crls;
	STACK_OF(ASN1_OBJECT) *policies;
	EVP_PKEY *ipub = X509_get0_pubkey(p->inter);
	BIO *bio;
	size_t len;
	int r, derlen = 0;

	if ((store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, p->root) ||
	    (untrusted = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(untrusted, p->inter) ||
	    (policies = sk_ASN1_OBJECT_new_null()) == NULL ||
	    !sk_ASN1_OBJECT_push(policies, OBJ_nid2obj(NID_any_policy)))
		bench_die("store");
	for (r = 0; r < STEP_RUNS; r++) {
		check_interrupt();
		/* The file as the module reads it (page cache warm). */
		t0 = bench_now_us();
		buf = read_all(path, &len);
		v[0][r] = bench_now_us() - t0;
		/* PEM: base64 decoding and the DER parse. */
		t0 = bench_now_us();
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
		    (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL)
			bench_die("PEM_read_bio_X509_CRL %s", path);
		BIO_free(bio);
		v[1][r] = bench_now_us() - t0;
		free(buf);
		if (der == NULL && (derlen = i2d_X509_CRL(crl, &der)) <= 0)
			bench_die("i2d_X509_CRL");
		X509_CRL_free(crl);
		/* The DER parse alone. */
		t0 = bench_now_us();
		crl = parse_der(der, (size_t)derlen);
		v[2][r] = bench_now_us() - t0;
		t0 = bench_now_us();
		if (X509_CRL_verify(crl, ipub) != 1)
			bench_die("X509_CRL_verify");
		v[3][r] = bench_now_us() - t0;
		/* A freshly parsed CRL sorts its entries on the first
		 * lookup; the next one only searches. */
		t0 = bench_now_us();
		if (X509_CRL_get0_by_serial(crl, &rev,
		    (ASN1_INTEGER *)listed) != 1)
			bench_die("listed serial not found");
		t1 = bench_now_us();
		v[4][r] = t1 - t0;
		if (X509_CRL_get0_by_serial(crl, &rev,
		    (ASN1_INTEGER *)listed) != 1)
			bench_die("listed serial not found");
		v[5][r] = bench_now_us() - t1;
		t0 = bench_now_us();
		X509_CRL_free(crl);
		v[7][r] = bench_now_us() - t0;
		/* X509_verify_cert of the user with a freshly parsed CRL, as
		 * the module runs it: signature check and lookup included. */
		fresh = parse_der(der, (size_t)derlen);
		if ((crls = sk_X509_CRL_new_null()) == NULL ||
		    !sk_X509_CRL_push(crls, fresh) ||
		    (ctx = X509_STORE_CTX_new()) == NULL ||
		    X509_STORE_CTX_init(ctx, store, p->user, untrusted) != 1)
			bench_die("verify context");
		X509_STORE_CTX_set0_crls(ctx, crls);
		set_verify_params(ctx, policies);
		t0 = bench_now_us();
		if (X509_verify_cert(ctx) != 1)
			bench_die("X509_verify_cert with %s: %s", path,
			    X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
		v[6][r] = bench_now_us() - t0;
		X509_STORE_CTX_free(ctx);
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
	}
	out->read = median(v[0], STEP_RUNS);
	out->pem = median(v[1], STEP_RUNS);
	out->der = median(v[2], STEP_RUNS);
	out->sig = median(v[3], STEP_RUNS);
	out->first_lookup = median(v[4], STEP_RUNS);
	out->next_lookup = median(v[5], STEP_RUNS);
	out->verify = median(v[6], STEP_RUNS);
	out->release = median(v[7], STEP_RUNS);
	OPENSSL_free(der);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	sk_ASN1_OBJECT_free(policies);
	ERR_clear_error();
}

#define CRL_DER_LABEL	"CRL of 100,000 serials, DER file"

/* The steps of both CRLs in the steps table, and what they explain. */
static void
crl_steps(const struct crl_parts *s, const struct crl_parts *b)
{
	const struct login_row *r10 = row_of("CRL of 10 serials");
	const struct login_row *rbig = row_of("CRL of 100,000 serials");
	const struct login_row *rder = row_of(CRL_DER_LABEL);
	double grow = rbig->p50 - r10->p50;
	double read, parse, b64, verify, release, sum;

	add_step("CRL: read the file (10 / 100,000 serials)", s->read,
	    b->read);
	add_step("CRL: PEM decode and parse (PEM_read_bio_X509_CRL)", s->pem,
	    b->pem);
	add_step("CRL: of which the DER parse (d2i_X509_CRL)", s->der,
	    b->der);
	add_step("CRL: signature check (X509_CRL_verify)", s->sig, b->sig);
	add_step("CRL: first serial lookup (sorts the entries)",
	    s->first_lookup, b->first_lookup);
	add_step("CRL: next serial lookup (sorted)", s->next_lookup,
	    b->next_lookup);
	add_step("CRL: X509_verify_cert with the parsed CRL", s->verify,
	    b->verify);
	add_step("CRL: free the parsed CRL (X509_CRL_free)", s->release,
	    b->release);
	read = b->read - s->read;
	parse = b->pem - s->pem;
	b64 = parse - (b->der - s->der);
	verify = b->verify - s->verify;
	release = b->release - s->release;
	sum = read + parse + verify + release;
	if (sum <= 0)
		sum = 1;
	note("CRL: the module's p50 grows by %.0f us from 10 to 100,000 "
	    "serials (%.2fx); with a DER crl_file it is %.0f us (%.2fx). "
	    "Timed alone, reading, parsing, checking and freeing the CRL grow "
	    "by %.0f us, and the module's growth is %.0f%% of that. Of those "
	    "steps: PEM decode and parse %.0f%% (the base64 decoding alone "
	    "%.0f%%), freeing %.0f%%, X509_verify_cert %.0f%% (its sort of "
	    "the entries %.0f%%, the signature check over the whole list "
	    "%.0f%%), reading the file %.0f%%. The serial lookup itself is "
	    "%.0f us.", grow, rbig->r50, rder->p50 - r10->p50, rder->r50, sum,
	    100 * grow / sum, 100 * parse / sum, 100 * b64 / sum,
	    100 * release / sum, 100 * verify / sum,
	    100 * (b->first_lookup - s->first_lookup) / sum,
	    100 * (b->sig - s->sig) / sum, 100 * read / sum, b->next_lookup);
}

static void
group_crl(const struct pki *p, const char *user, long n, long warmup)
{
	char *g = pathf("%s/crl", scratch), *small, *big, *bigder, *revdir;
	char *opts;
	unsigned char *der = NULL;
	int derlen;
	ASN1_INTEGER *listed_small, *listed_big;
	struct crl_parts ps, pb;
	X509_CRL *crl;
	X509 *revoked;
	struct bcase c[4], pre;
	double t0;
	size_t len;
	char *pem;

	make_dir(g, 0755);
	small = pathf("%s/crl-10.pem", g);
	big = pathf("%s/crl-100k.pem", g);
	bigder = pathf("%s/crl-100k.der", g);
	t0 = bench_now_us();
	crl = make_big_crl(p, SMALL_CRL);
	write_crl(small, crl);
	X509_CRL_free(crl);
	add_fixture("crl_file: CRL of 10 serials (PEM)", SMALL_CRL,
	    file_size(small), bench_now_us() - t0);
	t0 = bench_now_us();
	crl = make_big_crl(p, BIG);
	write_crl(big, crl);
	if ((derlen = i2d_X509_CRL(crl, &der)) <= 0)
		bench_die("i2d_X509_CRL");
	write_bytes(bigder, der, (size_t)derlen, 0644);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	add_fixture("crl_file: CRL of 100,000 serials (PEM, and DER)", BIG,
	    file_size(big), bench_now_us() - t0);

	/* The user's key in a certificate whose serial the big CRL lists
	 * (and the small one does not). */
	listed_big = crl_serial(BIG / 2);
	listed_small = crl_serial(SMALL_CRL / 2);
	revoked = tu_make_cert(p->user_key, &user_opts, p->inter, p->int_key);
	if (!X509_set_serialNumber(revoked, listed_big) ||
	    X509_sign(revoked, p->int_key, EVP_sha256()) <= 0)
		bench_die("revoked certificate");
	pem = certs_pem(&revoked, 1, &len);
	revdir = pathf("%s/bindings-revoked", g);
	bindings_for(revdir, user, pem, len);
	free(pem);

	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s crl_file=%s "
	    "crl=leaf", p->root_path, p->chain_path, p->bindings1, small);
	case_init(&c[0], p, g, 0, "CRL of 10 serials", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s crl_file=%s "
	    "crl=leaf", p->root_path, p->chain_path, p->bindings1, big);
	case_init(&c[1], p, g, 1, "CRL of 100,000 serials", 0, p->user_key,
	    PAM_SUCCESS, opts);
	free(opts);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s crl_file=%s "
	    "crl=leaf", p->root_path, p->chain_path, revdir, big);
	case_init(&c[2], p, g, 2, "CRL of 100,000, user revoked (refused)", 0,
	    p->user_key, PAM_AUTH_ERR, opts);
	free(opts);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s crl_file=%s "
	    "crl=leaf", p->root_path, p->chain_path, p->bindings1, bigder);
	case_init(&c[3], p, g, 4, CRL_DER_LABEL, 0, p->user_key, PAM_SUCCESS,
	    opts);
	free(opts);
	/* The refusal is the CRL's doing: the same certificate passes with
	 * the small CRL, which does not list it. */
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s crl_file=%s "
	    "crl=leaf", p->root_path, p->chain_path, revdir, small);
	case_init(&pre, p, g, 3, "revoked certificate, CRL of 10 not "
	    "listing it", 3, p->user_key, PAM_SUCCESS, opts);
	free(opts);
	check_once(&pre, user);
	case_free(&pre);

	run_group("4 CRL", c, 4, user, n, warmup);
	printf("  4 CRL: the CRL steps alone, %d runs each ...",
	    STEP_RUNS);
	fflush(stdout);
	t0 = bench_now_us();
	time_crl_parts(p, small, listed_small, &ps);
	time_crl_parts(p, big, listed_big, &pb);
	printf(" %.1f s\n", (bench_now_us() - t0) / 1e6);
	crl_steps(&ps, &pb);

	case_free(&c[0]);
	case_free(&c[1]);
	case_free(&c[2]);
	case_free(&c[3]);
	ASN1_INTEGER_free(listed_big);
	ASN1_INTEGER_free(listed_small);
	X509_free(revoked);
	free(small);
	free(big);
	free(bigder);
	free(revdir);
	remove_tree(g);
	free(g);
}

/* ------------------------------------------------------------ 5. OCSP */

/* What the cache hooks look at. */
struct cache_check {
	char *entry;		/* <dir>/<hex of the CertID> */
	char *lock;		/* <dir>/.lock.<hex> */
	ino_t ino;		/* the warm entry's inode */
};

static const char hexdigits[] = "0123456789abcdef";

static void
hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigits[b[i] >> 4];
		out[2 * i + 1] = hexdigits[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* The cache's name for the user's answer, as include/ocsp.h describes it:
 * SHA-256 of the DER CertID (SHA-1 CertID, ocsp_digest's default). */
static void
cache_name(const struct pki *p, char *out)
{
	OCSP_CERTID *id;
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n;

	if ((id = OCSP_cert_to_id(EVP_sha1(), p->user, p->inter)) == NULL ||
	    (n = i2d_OCSP_CERTID(id, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
		bench_die("CertID");
	hex(md, mdlen, out);
	OPENSSL_free(der);
	OCSP_CERTID_free(id);
}

static void
cache_check_init(struct cache_check *cc, const char *dir, const char *name)
{
	cc->entry = pathf("%s/%s", dir, name);
	cc->lock = pathf("%s/.lock.%s", dir, name);
	cc->ino = 0;
}

/* Cold: no answer and no lock before the login ... */
static void
empty_cache(const struct bcase *c)
{
	const struct cache_check *cc = c->arg;

	(void)unlink(cc->entry);
	(void)unlink(cc->lock);
}

/* ... and the responder's answer stored after it. */
static int
answer_stored(const struct bcase *c, char *why, size_t whylen)
{
	const struct cache_check *cc = c->arg;
	struct stat st;

	if (stat(cc->entry, &st) == 0)
		return 0;
	snprintf(why, whylen, "no answer cached after a cold login: the "
	    "responder was not asked");
	return 1;
}

/* Warm: the entry is the one put there, and no fetch was ever started
 * (a miss takes the fetch lock, which creates the lock file). */
static int
still_warm(const struct bcase *c, char *why, size_t whylen)
{
	const struct cache_check *cc = c->arg;
	struct stat st;

	if (stat(cc->lock, &st) == 0 || stat(cc->entry, &st) != 0 ||
	    st.st_ino != cc->ino) {
		snprintf(why, whylen, "cache miss: a warm login went to the "
		    "responder");
		return 1;
	}
	return 0;
}

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int s, port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) != 0)
		bench_die("free port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/*
 * Does a socket listen on TCP port?  Read from /proc/net/tcp{,6}: a test
 * connection would be taken by `openssl ocsp` for a request, and one
 * that sends nothing leaves it waiting on that connection for good.
 */
static int
port_listens(int port)
{
	static const char *const tables[] = { "/proc/net/tcp",
	    "/proc/net/tcp6" };
	char line[512], addr[64];
	unsigned int lport, state;
	size_t i;
	FILE *f;
	int found = 0;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]) && !found; i++) {
		if ((f = fopen(tables[i], "re")) == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*s %x",
			    addr, &lport, &state) == 3 &&
			    lport == (unsigned int)port && state == 0x0A;
		fclose(f);
	}
	return found;
}

static void
print_tail(const char *path)
{
	unsigned char *buf;
	size_t len;

	if (access(path, R_OK) != 0)
		return;
	buf = read_all(path, &len);
	fprintf(stderr, "--- %s (last bytes)\n%.*s\n", path,
	    (int)(len > 2000 ? 2000 : len),
	    (const char *)buf + (len > 2000 ? len - 2000 : 0));
	free(buf);
}

/* `openssl ocsp` answering for the intermediate, signing as the
 * intermediate itself, until stop_responder(). */
static void
start_responder(const struct pki *p, const char *db, int port,
    const char *logpath)
{
	char portstr[16];
	double t0 = bench_now_us();
	pid_t pid;
	int fd, status;

	snprintf(portstr, sizeof(portstr), "%d", port);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Never outlive the benchmark. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
		    dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		if ((fd = open("/dev/null", O_RDONLY)) < 0 ||
		    dup2(fd, STDIN_FILENO) < 0)
			_exit(127);
		execlp("openssl", "openssl", "ocsp", "-index", db,
		    "-port", portstr, "-CA", p->chain_path, "-rsigner",
		    p->chain_path, "-rkey", p->int_key_path, "-ndays", "1",
		    "-ignore_err", (char *)NULL);
		_exit(127);
	}
	responder_pid = pid;
	while (!port_listens(port)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			responder_pid = -1;
			print_tail(logpath);
			bench_die("openssl ocsp exited before listening on port %d",
			    port);
		}
		if (bench_now_us() - t0 > LISTEN_WAIT_MS * 1e3) {
			print_tail(logpath);
			bench_die("openssl ocsp does not listen on port %d", port);
		}
		check_interrupt();
		usleep(20000);
	}
}

/* The responder's database: the user's certificate, valid. */
static void
write_index(const struct pki *p, const char *path)
{
	const ASN1_TIME *na = X509_get0_notAfter(p->user);
	BIGNUM *bn;
	char *serial, *subject, *line;
	struct tm tm;
	char when[32];

	if (ASN1_TIME_to_tm(na, &tm) != 1 ||
	    snprintf(when, sizeof(when), "%02d%02d%02d%02d%02d%02dZ",
	    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec) != 13 ||
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(p->user),
	    NULL)) == NULL || (serial = BN_bn2hex(bn)) == NULL ||
	    (subject = X509_NAME_oneline(X509_get_subject_name(p->user), NULL,
	    0)) == NULL)
		bench_die("index line");
	line = pathf("V\t%s\t\t%s\tunknown\t%s\n", when, serial, subject);
	write_bytes(path, line, strlen(line), 0644);
	free(line);
	OPENSSL_free(serial);
	OPENSSL_free(subject);
	BN_free(bn);
}

/* A cache directory of count entries: the real answer and count - 1
 * others of the same size, named like entries (64 hex digits). */
static struct fixture_row *
fill_cache(const char *dir, long count, const char *name,
    const unsigned char *answer, size_t len, struct cache_check *cc,
    const char *label)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char seed[32], other[2 * EVP_MAX_MD_SIZE + 1];
	char copy[2 * EVP_MAX_MD_SIZE + 1];
	double t0 = bench_now_us();
	unsigned int mdlen;
	struct stat st;
	long i;
	int dfd;

	make_dir(dir, 0700);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		bench_die("open %s: %s", dir, strerror(errno));
	write_at(dfd, dir, name, answer, len, 0600);
	for (i = 1; i < count; i++) {
		snprintf(seed, sizeof(seed), "other entry %ld", i);
		if (EVP_Digest(seed, strlen(seed), md, &mdlen, EVP_sha256(),
		    NULL) != 1)
			bench_die("EVP_Digest");
		hex(md, mdlen, other);
		write_many_at(dfd, dir, i - 1, other, copy, sizeof(copy),
		    answer, len, 0600);
		if ((i & 1023) == 0)
			check_interrupt();
	}
	close(dfd);
	cache_check_init(cc, dir, name);
	if (stat(cc->entry, &st) != 0)
		bench_die("stat %s: %s", cc->entry, strerror(errno));
	cc->ino = st.st_ino;
	return add_fixture(label, count, (long)len, bench_now_us() - t0);
}

static void
group_ocsp(const struct pki *p, const char *user, long n, long warmup)
{
	char *g = pathf("%s/ocsp", scratch), *db, *logpath, *url, *opts;
	char *cold, *warm10, *warm100k;
	char name[2 * EVP_MAX_MD_SIZE + 1];
	struct cache_check cc_cold, cc_small, cc_big;
	struct fixture_row *fs, *fb;
	struct bcase c[3];
	unsigned char *answer;
	size_t len;
	double t0;
	int port;

	if (access(CERTAUTH_OCSP_HELPER, X_OK) != 0)
		bench_die("the module's OCSP helper %s is missing: build it first "
		    "(make certauth-ocsp-fetch)", CERTAUTH_OCSP_HELPER);
	make_dir(g, 0755);
	db = pathf("%s/index.txt", g);
	logpath = pathf("%s/openssl-ocsp.log", g);
	write_index(p, db);
	port = free_port();
	url = pathf("http://127.0.0.1:%d/", port);
	t0 = bench_now_us();
	start_responder(p, db, port, logpath);
	printf("  5 OCSP: openssl ocsp (pid %ld) listens on %s after %.2f s\n",
	    (long)responder_pid, url, (bench_now_us() - t0) / 1e6);

	cache_name(p, name);
	cold = pathf("%s/cache-cold", g);
	warm10 = pathf("%s/cache-10", g);
	warm100k = pathf("%s/cache-100k", g);
	make_dir(cold, 0700);
	cache_check_init(&cc_cold, cold, name);
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s ocsp=hard "
	    "ocsp_url=%s ocsp_cache_dir=%s", p->root_path, p->chain_path,
	    p->bindings1, url, cold);
	case_init(&c[2], p, g, 2, "OCSP cold: cache emptied, responder asked",
	    0, p->user_key, PAM_SUCCESS, opts);
	free(opts);
	c[2].before = empty_cache;
	c[2].after = answer_stored;
	c[2].arg = &cc_cold;

	/* One cold login gives the real answer the warm caches hold. */
	check_once(&c[2], user);
	if (access(cc_cold.entry, R_OK) != 0) {
		print_tail(logpath);
		bench_die("the first OCSP login cached no answer (%s)",
		    first_wrong);
	}
	answer = read_all(cc_cold.entry, &len);
	fs = fill_cache(warm10, SMALL_CACHE, name, answer, len, &cc_small,
	    "ocsp_cache_dir: 10 entries");
	fb = fill_cache(warm100k, BIG, name, answer, len, &cc_big,
	    "ocsp_cache_dir: 100,000 entries");
	free(answer);

	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s ocsp=hard "
	    "ocsp_url=%s ocsp_cache_dir=%s", p->root_path, p->chain_path,
	    p->bindings1, url, warm10);
	case_init(&c[0], p, g, 0, "OCSP warm, cache of 10 entries", 0,
	    p->user_key, PAM_SUCCESS, opts);
	free(opts);
	c[0].after = still_warm;
	c[0].arg = &cc_small;
	opts = pathf("ca_file=%s chain_file=%s bindings_dir=%s ocsp=hard "
	    "ocsp_url=%s ocsp_cache_dir=%s", p->root_path, p->chain_path,
	    p->bindings1, url, warm100k);
	case_init(&c[1], p, g, 1, "OCSP warm, cache of 100,000 entries", 0,
	    p->user_key, PAM_SUCCESS, opts);
	free(opts);
	c[1].after = still_warm;
	c[1].arg = &cc_big;

	run_group("5 OCSP", c, 3, user, n, warmup);
	note("OCSP: a warm cache of 100,000 entries against 10: p50 %.2fx. "
	    "A cold login costs %.0f us more than a warm one at p50 (%.0f "
	    "more at p99); on top of a warm login it starts the helper, "
	    "waits for the responder, and writes the answer to the cache.",
	    row_of("OCSP warm, cache of 100,000 entries")->r50,
	    row_of("OCSP cold: cache emptied, responder asked")->p50 -
	    row_of("OCSP warm, cache of 10 entries")->p50,
	    row_of("OCSP cold: cache emptied, responder asked")->p99 -
	    row_of("OCSP warm, cache of 10 entries")->p99);
	stop_responder();
	if (wrong_outcomes > 0)
		print_tail(logpath);

	case_free(&c[0]);
	case_free(&c[1]);
	case_free(&c[2]);
	remove_fixture(fb, warm100k);
	remove_fixture(fs, warm10);
	free(cc_cold.entry);
	free(cc_cold.lock);
	free(cc_small.entry);
	free(cc_small.lock);
	free(cc_big.entry);
	free(cc_big.lock);
	free(cold);
	free(warm10);
	free(warm100k);
	free(db);
	free(logpath);
	free(url);
	remove_tree(g);
	free(g);
}

/* ------------------------------------------------------------- tables */

static void
print_tables(void)
{
	int i;

	printf("\nFixtures (built before their group, removed after it; "
	    "bytes: of one file):\n\n");
	printf("| fixture | entries | bytes | build s | remove s |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (i = 0; i < nfixture_rows; i++) {
		const struct fixture_row *f = &fixture_rows[i];
		char bytes[32] = "-", rm[32] = "-";

		if (f->bytes >= 0)
			snprintf(bytes, sizeof(bytes), "%ld", f->bytes);
		if (f->remove_s >= 0)
			snprintf(rm, sizeof(rm), "%.2f", f->remove_s);
		printf("| %s | %ld | %s | %.2f | %s |\n", f->label, f->entries,
		    bytes, f->build_s, rm);
	}

	printf("\nModule time per login, pam_authenticate minus the "
	    "conversation (µs); ratio to the baseline of its group:\n\n");
	printf("| configuration | N | p50 µs | p99 µs | p50 ratio | "
	    "p99 ratio | against | wrong |\n");
	printf("|---|---:|---:|---:|---:|---:|---|---:|\n");
	for (i = 0; i < nlogin_rows; i++) {
		const struct login_row *r = &login_rows[i];

		printf("| %s | %ld | %.0f | %.0f | %.2fx | %.2fx | %s | %ld |\n",
		    r->label, r->n, r->p50, r->p99, r->r50, r->r99, r->base,
		    r->bad);
	}

	printf("\nSteps of a login timed alone in this process, for the "
	    "baseline and the big case (p50 of %d runs, µs):\n\n", STEP_RUNS);
	printf("| step | baseline µs | big µs | growth µs |\n");
	printf("|---|---:|---:|---:|\n");
	for (i = 0; i < nstep_rows; i++) {
		const struct step_row *r = &step_rows[i];

		printf("| %s | %.0f | %.0f | %.0f |\n", r->label, r->small,
		    r->big, r->big - r->small);
	}

	printf("\nWhat grows:\n");
	for (i = 0; i < nnotes; i++)
		printf("- %s\n", notes[i]);
}

/* ------------------------------------------------------------- main */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa;
	struct utsname un;
	struct passwd *pw;
	struct pki p;
	char *user;
	long n = 300, warmup = 10;
	double t0;
	int ch;

	bench_name = "scale_bench";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': n = bench_number(optarg, 1000000); break;
		case 'w': warmup = bench_number(optarg, 1000000); break;
		default:
			fprintf(stderr, "usage: scale_bench [--n N] "
			    "[--warmup W]\n");
			return 2;
		}
	}
	if (optind != argc)
		bench_die("unexpected argument %s", argv[optind]);
	if (geteuid() != 0)
		bench_die("run as root: the module reads only root-owned files");
	/* Scratch directories go under the build tree's tests/tmp, never
	 * under whatever directory the program was started in. */
	if (setenv("top_builddir", BENCH_TOP_BUILDDIR, 0) != 0)
		bench_die("setenv: %s", strerror(errno));
	umask(022);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	if ((pw = getpwuid(geteuid())) == NULL || (user = strdup(pw->pw_name)) ==
	    NULL)
		bench_die("who am I?");
	if ((scratch = tu_safe_tmpdir()) == NULL)
		bench_die("no safe scratch directory: run as root, with "
		    "top_builddir under root-owned, not group/other-writable "
		    "directories");
	if (atexit(cleanup) != 0)
		bench_die("atexit");

	if (uname(&un) != 0)
		memset(&un, 0, sizeof(un));
	printf("scale_bench: %s, %s %s, %ld cores\n",
	    OpenSSL_version(OPENSSL_VERSION), un.sysname, un.release,
	    sysconf(_SC_NPROCESSORS_ONLN));
	printf("module %s\nOCSP helper %s\n", MODULE_PATH,
	    CERTAUTH_OCSP_HELPER);
	printf("%s keys; root -> intermediate -> user; trust=ca, chain_file; "
	    "no CRL or OCSP unless named\n", KEY_TYPE);
	printf("N=%ld timed logins per configuration after %ld warm-up; the "
	    "configurations of a group take turns, shuffled each round\n", n,
	    warmup);
	printf("module time = pam_authenticate minus the conversation "
	    "callback (the client's signing)\n\n");
	fflush(stdout);

	t0 = bench_now_us();
	make_pki(&p, user);
	group_users(&p, user, n, warmup);
	group_bound(&p, user, n, warmup);
	group_trust(&p, user, n, warmup);
	group_crl(&p, user, n, warmup);
	group_ocsp(&p, user, n, warmup);
	free_pki(&p);
	print_tables();
	printf("\nscale_bench: %.0f s in all\n", (bench_now_us() - t0) / 1e6);
	free(user);
	if (wrong_outcomes > 0) {
		fprintf(stderr, "scale_bench: %ld login%s with a wrong "
		    "outcome; first: %s\n", wrong_outcomes,
		    wrong_outcomes == 1 ? "" : "s", first_wrong);
		return 1;
	}
	printf("every login had the expected outcome\n");
	return 0;
}
