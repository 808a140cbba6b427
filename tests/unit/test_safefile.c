/*
 * test_safefile.c - certauth_read_safely, the reader of every file the
 * module trusts, against hostile files: oversized, FIFOs, directories,
 * links refused, and with CERTAUTH_SAFE_FOLLOW links whose target, the
 * target's directory or the link's own directory would not pass.
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
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "certauth.h"
#include "safefile.h"
#include "testutil.h"

#define WHAT		"test file"
#define CONTENT		"-----BEGIN CERTIFICATE-----\nnot really\n"
#define MAX		4096

struct state {
	char *dir;		/* safe scratch dir, NULL when unavailable */
};

static int
setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
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

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* Read path; on success check it holds CONTENT.  Returns the code. */
static int
read_it(const char *path, int flags, struct certauth_reason *why)
{
	char *buf = (char *)"unset";
	size_t len = 1;
	int r;

	certauth_reason_set(why, "%s", "");
	r = certauth_read_safely(path, WHAT, MAX, flags, NULL, &buf, &len, why);
	if (r != 0) {
		assert_null(buf);
		assert_int_equal(len, 0);
		assert_true(why->text[0] != '\0');
		return r;
	}
	assert_int_equal(len, strlen(CONTENT));
	assert_string_equal(buf, CONTENT);
	free(buf);
	return 0;
}

/* A directory under st->dir made with mode (chmod'ed, umask aside). */
static char *
make_dir(struct state *st, const char *name, int mode)
{
	char *dir = tu_path(st->dir, name);

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, (mode_t)mode), 0);
	return dir;
}

/* The link dir/name pointing at target; the caller frees the path. */
static char *
make_link(const char *dir, const char *name, const char *target)
{
	char *link = tu_path(dir, name);

	assert_int_equal(symlink(target, link), 0);
	return link;
}

static void
test_good_file(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *buf = NULL;
	size_t len = 0;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "good.pem");
	tu_write_file(path, CONTENT, 0644);
	assert_int_equal(read_it(path, 0, &why), 0);
	assert_int_equal(read_it(path, CERTAUTH_SAFE_FOLLOW, &why), 0);
	/* An empty file is an empty, terminated buffer. */
	tu_write_file(path, "", 0600);
	assert_int_equal(certauth_read_safely(path, WHAT, MAX, 0, NULL, &buf, &len,
	    &why), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], '\0');
	free(buf);
	free(path);
}

static void
test_too_large(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *big, *buf = NULL, *expect = NULL;
	size_t len = 0;
	int flags;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "big.pem");
	big = malloc(MAX + 2);
	assert_non_null(big);
	memset(big, 'A', MAX + 1);
	big[MAX + 1] = '\0';
	tu_write_file(path, big, 0644);
	assert_true(asprintf(&expect, WHAT " %s is larger than %d bytes",
	    path, MAX) >= 0);
	for (flags = 0; flags <= CERTAUTH_SAFE_FOLLOW; flags++) {
		assert_int_equal(certauth_read_safely(path, WHAT, MAX, flags, NULL,
		    &buf, &len, &why), CERTAUTH_ERR_TOO_LONG);
		assert_null(buf);
		assert_string_equal(why.text, expect);
	}
	/* Exactly max bytes is still read. */
	big[MAX] = '\0';
	tu_write_file(path, big, 0644);
	assert_int_equal(certauth_read_safely(path, WHAT, MAX, 0, NULL, &buf, &len,
	    &why), 0);
	assert_int_equal(len, MAX);
	assert_int_equal(buf[MAX], '\0');
	free(buf);
	free(expect);
	free(big);
	free(path);
}

static void
test_fifo_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *link;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "fifo");
	assert_int_equal(mkfifo(path, 0644), 0);
	/* No writer: a blocking open would hang here. */
	assert_int_equal(read_it(path, 0, &why), CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not a regular file");
	link = make_link(st->dir, "to-fifo", "fifo");
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not a regular file");
	free(link);
	free(path);
}

static void
test_directory_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *dir, *link;

	NEED_SAFE_DIR(st);
	dir = make_dir(st, "certs", 0755);
	assert_int_equal(read_it(dir, 0, &why), CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not a regular file");
	link = make_link(st->dir, "to-dir", dir);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not a regular file");
	free(link);
	free(dir);
}

static void
test_missing(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *path, *expect = NULL;

	NEED_SAFE_DIR(st);
	path = tu_path(st->dir, "missing.pem");
	assert_true(asprintf(&expect, WHAT " %s does not exist", path) >= 0);
	assert_int_equal(read_it(path, 0, &why), CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(why.text, expect);
	assert_int_equal(read_it(path, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(why.text, expect);
	free(expect);
	free(path);
}

static void
test_link_refused_without_flag(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *target, *link;

	NEED_SAFE_DIR(st);
	target = tu_path(st->dir, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	link = make_link(st->dir, "abcd1234.0", "real.pem");
	assert_int_equal(read_it(link, 0, &why), CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, WHAT " ");
	assert_contains(why.text, "is a symbolic link");
	free(link);
	free(target);
}

static void
test_follow_good_links(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *sub, *target, *rel, *abs, *hop, *via_hop;

	NEED_SAFE_DIR(st);
	/* As openssl rehash makes them: relative, next to the file. */
	target = tu_path(st->dir, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	rel = make_link(st->dir, "abcd1234.0", "real.pem");
	assert_int_equal(read_it(rel, CERTAUTH_SAFE_FOLLOW, &why), 0);
	/* As /etc/ssl/certs has them: absolute, into another directory,
	 * and one link leading to another. */
	sub = make_dir(st, "certs", 0755);
	abs = make_link(sub, "real.pem", target);
	assert_int_equal(read_it(abs, CERTAUTH_SAFE_FOLLOW, &why), 0);
	hop = make_link(sub, "abcd1234.0", "real.pem");
	assert_int_equal(read_it(hop, CERTAUTH_SAFE_FOLLOW, &why), 0);
	/* A link reached through a safe symlinked directory. */
	via_hop = make_link(st->dir, "certs-link", "certs");
	free(via_hop);
	via_hop = tu_path(st->dir, "certs-link/abcd1234.0");
	assert_int_equal(read_it(via_hop, CERTAUTH_SAFE_FOLLOW, &why), 0);
	free(via_hop);
	free(hop);
	free(abs);
	free(sub);
	free(rel);
	free(target);
}

static void
test_follow_target_group_writable(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *target, *link, *expect = NULL;

	NEED_SAFE_DIR(st);
	target = tu_path(st->dir, "real.pem");
	tu_write_file(target, CONTENT, 0664);
	link = make_link(st->dir, "abcd1234.0", "real.pem");
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	/* The reason names the link and what it leads to. */
	assert_true(asprintf(&expect, WHAT " %s -> %s is group-writable",
	    link, target) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	assert_int_equal(chmod(target, 0646), 0);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is writable by others");
	free(link);
	free(target);
}

static void
test_follow_target_not_root_owned(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *target, *link;

	NEED_SAFE_DIR(st);
	target = tu_path(st->dir, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	assert_int_equal(chown(target, 1234, 1234), 0);
	link = make_link(st->dir, "abcd1234.0", target);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not owned by root (uid 1234)");
	free(link);
	free(target);
}

static void
test_follow_target_in_unsafe_dir(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *bad, *target, *link, *expect = NULL;

	NEED_SAFE_DIR(st);
	bad = make_dir(st, "drop", 0775);
	target = tu_path(bad, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	link = make_link(st->dir, "abcd1234.0", target);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_true(asprintf(&expect, "directory %s is group-writable",
	    bad) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	/* A directory owned by someone else is no better. */
	assert_int_equal(chmod(bad, 0755), 0);
	assert_int_equal(chown(bad, 1234, 1234), 0);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not owned by root (uid 1234)");
	free(link);
	free(target);
	free(bad);
}

static void
test_follow_link_in_unsafe_dir(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *bad, *target, *link, *expect = NULL;

	NEED_SAFE_DIR(st);
	/* The target is fine; whoever writes the link's directory could
	 * point the link elsewhere. */
	target = tu_path(st->dir, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	bad = make_dir(st, "rehashed", 0757);
	link = make_link(bad, "abcd1234.0", target);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_true(asprintf(&expect, "directory %s is writable by others",
	    bad) >= 0);
	assert_string_equal(why.text, expect);
	free(expect);
	free(link);
	free(target);
	free(bad);
}

static void
test_follow_hop_in_unsafe_dir(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *bad, *good, *target, *hop, *link, *via;

	NEED_SAFE_DIR(st);
	target = tu_path(st->dir, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	bad = make_dir(st, "user", 0755);
	assert_int_equal(chown(bad, 1234, 1234), 0);
	/* A second link in the user's directory: they choose the file. */
	hop = make_link(bad, "hop", target);
	link = make_link(st->dir, "abcd1234.0", hop);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not owned by root (uid 1234)");
	free(link);
	/* A target written through the user's directory link: they choose
	 * the directory, though the one it leads to today is safe. */
	good = make_dir(st, "certs", 0755);
	free(target);
	target = tu_path(good, "real.pem");
	tu_write_file(target, CONTENT, 0644);
	free(hop);
	hop = make_link(bad, "d", good);
	via = tu_path(hop, "real.pem");
	link = make_link(st->dir, "ef012345.0", via);
	assert_int_equal(read_it(via, 0, &why), CERTAUTH_ERR_UNSAFE);
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "is not owned by root (uid 1234)");
	free(via);
	free(link);
	free(hop);
	free(target);
	free(good);
	free(bad);
}

static void
test_follow_dangling_and_loop(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	char *link, *a, *b;

	NEED_SAFE_DIR(st);
	link = make_link(st->dir, "abcd1234.0", "gone.pem");
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_contains(why.text, WHAT " ");
	assert_contains(why.text, link);
	assert_contains(why.text, "does not exist");
	/* Without the flag it is still a link, refused as one. */
	assert_int_equal(read_it(link, 0, &why), CERTAUTH_ERR_UNSAFE);
	free(link);
	link = make_link(st->dir, "ef012345.0", "no-such-dir/gone.pem");
	assert_int_equal(read_it(link, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_contains(why.text, "does not exist");
	a = make_link(st->dir, "a", "b");
	b = make_link(st->dir, "b", "a");
	assert_int_equal(read_it(a, CERTAUTH_SAFE_FOLLOW, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "symbolic links in a row");
	free(b);
	free(a);
	free(link);
}

/*
 * A run's record of safe directories spares only the walk above a
 * directory it holds: a file below it in a directory that is not safe,
 * or one reached through a link, is still refused, and a directory
 * reached through a link is not recorded.
 */
static void
test_seen_record(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct certauth_seen seen;
	char *good, *bad, *dir, *link, *buf = NULL;
	size_t len = 0;
	int i, n;

	NEED_SAFE_DIR(st);
	memset(&seen, 0, sizeof(seen));
	good = tu_path(st->dir, "seen-good.pem");
	tu_write_file(good, CONTENT, 0644);
	assert_int_equal(certauth_read_safely(good, WHAT, MAX, 0, &seen, &buf,
	    &len, &why), 0);
	free(buf);
	/* The directory, then those above it, nearest first. */
	n = seen.n;
	assert_true(n >= 1);
	assert_string_equal(seen.dir[0], st->dir);
	dir = make_dir(st, "seen-open", 0777);
	bad = tu_path(dir, "file.pem");
	tu_write_file(bad, CONTENT, 0644);
	assert_int_equal(certauth_read_safely(bad, WHAT, MAX, 0, &seen, &buf,
	    &len, &why), CERTAUTH_ERR_UNSAFE);
	assert_contains(why.text, "seen-open");
	assert_int_equal(seen.n, n);
	/* Through a directory link: followed, checked, not recorded. */
	assert_int_equal(chmod(dir, 0755), 0);
	link = make_link(st->dir, "seen-link", dir);
	free(bad);
	bad = tu_path(link, "file.pem");
	assert_int_equal(certauth_read_safely(bad, WHAT, MAX, 0, &seen, &buf,
	    &len, &why), 0);
	free(buf);
	for (i = 0; i < seen.n; i++)
		assert_null(strstr(seen.dir[i], "seen-link"));
	certauth_seen_clear(&seen);
	assert_int_equal(seen.n, 0);
	free(link);
	free(bad);
	free(dir);
	free(good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_good_file),
		T(test_too_large),
		T(test_fifo_refused),
		T(test_directory_refused),
		T(test_missing),
		T(test_link_refused_without_flag),
		T(test_follow_good_links),
		T(test_follow_target_group_writable),
		T(test_follow_target_not_root_owned),
		T(test_follow_target_in_unsafe_dir),
		T(test_follow_link_in_unsafe_dir),
		T(test_follow_hop_in_unsafe_dir),
		T(test_follow_dangling_and_loop),
		T(test_seen_record),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
