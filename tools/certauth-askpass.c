/*
 * certauth-askpass - the SSH_ASKPASS and SUDO_ASKPASS program that
 * answers a pam_certauth challenge by itself.  ssh runs it with the
 * prompt as its one argument and sends what it prints; sudo -A does the
 * same.  A prompt that holds a certauth challenge is signed only when the
 * challenge is for the account, the host and a service the person is
 * logging in to, and was issued just now (src/signer.c judges it); every
 * other prompt (a password, a host key question, a passphrase) goes to
 * the next askpass program or the terminal.  A challenge never does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ui.h>

#include "certauth.h"
#include "digest.h"
#include "keysrc.h"
#include "log.h"
#include "safefile.h"
#include "signer.h"

#define PROG	     "certauth-askpass"
#define PROMPT_MAX   8192  /* longer prompts are refused */
#define CONF_MAX     65536 /* the configuration file */
#define ANSWER_MAX   65536 /* what the next program may print */
#define LIST_MAX     16	   /* services, local_services */
#define HOSTS_MAX    64	   /* the host's name and its aliases */
#define WORDS_MAX    4096  /* words of all "host" lines together */
#define SECRET_MAX   1024
#define DEFAULT_NEXT "/usr/bin/ssh-askpass"
#define DEPTH_ENV    "CERTAUTH_ASKPASS_DEPTH"
#define INFO_TEXT    "certauth challenge: "
#define PROMPT_TEXT  "certauth response: "
#define CONF_REL     "certauth/askpass.conf"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* The per-user configuration (certauth-askpass(1), "CONFIGURATION"). */
struct conf {
	char *path; /* where it was looked for */
	char *text; /* the file, cut into the words below */
	char *key;  /* key =, or NULL */
	char *cert; /* cert =, or NULL */
	char *next; /* next =, or NULL */
	const char *services[LIST_MAX];
	int nservices;
	const char *local_services[LIST_MAX];
	int nlocal;
	long max_age;
	int with_cert; /* with_cert = yes: offer cert after the signature */
	/* "host NAME = ALIAS...": word i of words belongs to line owner[i],
	 * whose NAME is words[first of that line]. */
	const char *words[WORDS_MAX];
	int is_name[WORDS_MAX];
	int nwords;
};

/* What the prompt says of the login: from its "(user@host) " prefix, or
 * for a prompt without one the local user and host. */
struct login {
	char user[256];
	char host[256];
	int local; /* no prefix */
};

/* ---------------------------------------------------------------- config */

/* The configuration's path, malloc'd: CERTAUTH_ASKPASS_CONFIG, else
 * $XDG_CONFIG_HOME/certauth/askpass.conf, else ~/.config/... */
static char *
conf_path(int *explicit)
{
	const char *env = getenv("CERTAUTH_ASKPASS_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char *out = NULL;

	*explicit = env != NULL && env[0] != '\0';
	if (*explicit)
		return strdup(env);
	if (xdg != NULL && xdg[0] == '/') {
		if (asprintf(&out, "%s/" CONF_REL, xdg) < 0)
			return NULL;
		return out;
	}
	if ((home == NULL || home[0] != '/') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || asprintf(&out, "%s/.config/" CONF_REL, home) < 0)
		return NULL;
	return out;
}

/*
 * Open the configuration as a file that decides what gets signed: a
 * regular file, no link, owned by the user, writable by nobody else.
 * Returns the descriptor, -2 when it does not exist, or -1 (said why).
 */
static int
conf_open(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) <
	    0) {
		if (errno == ENOENT)
			return -2;
		log_err(NULL, PROG ": cannot open %s: %s%s", path,
		    strerror(errno),
		    errno == ELOOP ? " (a symbolic link is not followed)" : "");
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		log_err(NULL, PROG ": refusing %s: not a regular file", path);
	else if (st.st_uid != getuid())
		log_err(NULL,
		    PROG
		    ": refusing %s: it is owned by uid %ld, not by you "
		    "(uid %ld), and it decides what gets signed",
		    path, (long)st.st_uid, (long)getuid());
	else if (st.st_mode & 022)
		log_err(NULL,
		    PROG
		    ": refusing %s: it is group- or world-writable, and "
		    "it decides what gets signed (chmod go-w %s)",
		    path, path);
	else
		return fd;
	close(fd);
	return -1;
}

/* The words of s (NUL-separated in place) into w, at most max.  Count,
 * or -1 when there are more. */
static int
split_words(char *s, const char **w, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return n;
		if (n == max)
			return -1;
		w[n++] = s;
		s += strcspn(s, " \t");
		if (*s != '\0')
			*s++ = '\0';
	}
}

/* One "host NAME = ALIAS..." line (after "host").  0 or -1. */
static int
conf_host(struct conf *c, char *rest, const char **why)
{
	const char *w[HOSTS_MAX + 2];
	int n, i;

	if ((n = split_words(rest, w, HOSTS_MAX + 2)) < 0) {
		*why = "too many aliases";
		return -1;
	}
	if (n < 3 || strcmp(w[1], "=") != 0 || strcmp(w[0], "=") == 0) {
		*why = "write host NAME = ALIAS [ALIAS...]";
		return -1;
	}
	if (c->nwords + n - 1 > WORDS_MAX) {
		*why = "too many host lines";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (i == 1)
			continue;
		c->is_name[c->nwords] = i == 0;
		c->words[c->nwords++] = w[i];
	}
	return 0;
}

/* A list of names ("services = sshd sudo").  0 or -1. */
static int
conf_list(char *value, const char **list, int *n, const char **why)
{
	if ((*n = split_words(value, list, LIST_MAX)) <= 0) {
		*why = *n < 0 ? "too many names" : "needs at least one name";
		*n = 0;
		return -1;
	}
	return 0;
}

/* A number of seconds, 0 to INT_MAX.  0 or -1. */
static int
conf_seconds(const char *s, long *out, const char **why)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' ||
	    v > INT_MAX) {
		*why =
		    "max_age must be a number of seconds from 0 to 2147483647";
		return -1;
	}
	*out = v;
	return 0;
}

/* yes or no.  0 or -1. */
static int
conf_bool(const char *s, int *out, const char *why_text, const char **why)
{
	if (strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0)
		*out = 0;
	else {
		*why = why_text;
		return -1;
	}
	return 0;
}

/* One "key = value" line, cut in place.  0 or -1 with *why. */
static int
conf_line(struct conf *c, char *line, const char **why)
{
	char *eq, *key, *value, *end;

	line += strspn(line, " \t");
	if (strncmp(line, "host", 4) == 0 &&
	    (line[4] == ' ' || line[4] == '\t'))
		return conf_host(c, line + 4, why);
	if ((eq = strchr(line, '=')) == NULL) {
		*why = "expected key = value";
		return -1;
	}
	key = line;
	for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	value = eq + 1 + strspn(eq + 1, " \t");
	for (end = value + strlen(value);
	     end > value && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	if (value[0] == '\0') {
		*why = "the value is missing";
		return -1;
	}
	if (strcmp(key, "key") == 0)
		c->key = value;
	else if (strcmp(key, "cert") == 0)
		c->cert = value;
	else if (strcmp(key, "next") == 0)
		c->next = value;
	else if (strcmp(key, "services") == 0)
		return conf_list(value, c->services, &c->nservices, why);
	else if (strcmp(key, "local_services") == 0)
		return conf_list(value, c->local_services, &c->nlocal, why);
	else if (strcmp(key, "max_age") == 0)
		return conf_seconds(value, &c->max_age, why);
	else if (strcmp(key, "with_cert") == 0)
		return conf_bool(value, &c->with_cert,
		    "with_cert must be yes or no", why);
	else {
		*why =
		    "unknown key (key, cert, next, services, local_services, "
		    "max_age, with_cert, host)";
		return -1;
	}
	return 0;
}

/* Every line of c->text.  0 or -1 (said which line and why). */
static int
conf_parse(struct conf *c)
{
	char *line = c->text, *nl;
	const char *why = NULL;
	int lineno = 0;

	for (; line != NULL; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (line[strspn(line, " \t")] == '#' ||
		    line[strspn(line, " \t")] == '\0')
			continue;
		if (conf_line(c, line, &why) != 0) {
			log_err(NULL, PROG ": %s line %d: %s", c->path, lineno,
			    why);
			return -1;
		}
	}
	return 0;
}

/* The defaults, then the file if there is one.  0 or -1 (said why). */
static int
conf_load(struct conf *c)
{
	size_t len = 0;
	int explicit = 0, fd = -1, r = -1;

	memset(c, 0, sizeof(*c));
	c->services[c->nservices++] = "sshd";
	c->local_services[c->nlocal++] = "sudo";
	c->max_age = certauth_signer_default_max_age();
	if ((c->path = conf_path(&explicit)) == NULL) {
		log_err(NULL, PROG ": cannot find the home directory");
		goto out;
	}
	if ((fd = conf_open(c->path)) == -2 && !explicit) {
		r = 0;
		goto out;
	}
	if (fd == -2)
		log_err(NULL,
		    PROG ": %s (CERTAUTH_ASKPASS_CONFIG) does not exist",
		    c->path);
	if (fd < 0)
		goto out;
	if ((r = certauth_read_fd(fd, CONF_MAX, &c->text, &len)) != 0) {
		log_err(NULL, PROG ": cannot read %s: %s", c->path,
		    r == CERTAUTH_ERR_TOO_LONG ? "too large" : strerror(errno));
		r = -1;
		goto out;
	}
	if (conf_parse(c) != 0) {
		r = -1;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static void
conf_free(struct conf *c)
{
	free(c->path);
	free(c->text);
}

/* ------------------------------------------------------- asking further */

/*
 * The next askpass program: CERTAUTH_ASKPASS_NEXT, next =, or
 * DEFAULT_NEXT when it exists.  NULL: none.
 */
static const char *
next_program(const struct conf *c)
{
	const char *env = getenv("CERTAUTH_ASKPASS_NEXT");

	if (env != NULL && env[0] != '\0')
		return env;
	if (c->next != NULL)
		return c->next;
	if (access(DEFAULT_NEXT, X_OK) == 0)
		return DEFAULT_NEXT;
	return NULL;
}

/* The child side of run_next: stdout to the pipe, then exec. */
static void
exec_next(const char *prog, const char *prompt, int out)
{
	if (dup2(out, STDOUT_FILENO) < 0 || setenv(DEPTH_ENV, "1", 1) != 0)
		_exit(127);
	execl(prog, prog, prompt, (char *)NULL);
	fprintf(stderr, PROG ": cannot run %s: %s\n", prog, strerror(errno));
	_exit(127);
}

/*
 * Run prog with prompt as its argument; *out (malloc'd, *len bytes and a
 * NUL) is what it printed.  Returns its exit status, or -1 (said why).
 */
static int
run_next(const char *prog, const char *prompt, char **out, size_t *len)
{
	int fds[2] = { -1, -1 }, st = 0, r = -1, rd;
	pid_t pid;

	*out = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_err(NULL, PROG ": pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_err(NULL, PROG ": fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_next(prog, prompt, fds[1]);
	close(fds[1]);
	fds[1] = -1;
	rd = certauth_read_fd(fds[0], ANSWER_MAX, out, len);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rd != 0) {
		log_err(NULL, PROG ": cannot read what %s printed%s", prog,
		    rd == CERTAUTH_ERR_TOO_LONG ? ": too long" : "");
		goto out;
	}
	r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
out:
	if (r < 0 && *out != NULL) {
		certauth_freezero(*out, *len);
		*out = NULL;
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return r;
}

/* Ask on the terminal (echo only for a yes/no question).  Length of
 * the answer in buf, or -1 (said why in why). */
static int
ask_tty(const char *prompt, char *buf, size_t size, struct certauth_reason *why)
{
	int echo = strstr(prompt, "yes/no") != NULL, fd, r = -1;
	UI *ui = NULL;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		certauth_reason_set(why, "no terminal");
		return -1;
	}
	close(fd);
	if ((ui = UI_new()) == NULL || size > INT_MAX ||
	    UI_add_input_string(ui, prompt, echo ? UI_INPUT_FLAG_ECHO : 0, buf,
		0, (int)size - 1) < 0 ||
	    UI_process(ui) != 0) {
		certauth_reason_set(why, "nothing read on the terminal");
		goto out;
	}
	r = (int)strlen(buf);
out:
	UI_free(ui);
	return r;
}

/*
 * Ask for a secret (a key's passphrase, a token's PIN) the way other
 * prompts are answered: the next program, else the terminal.  The
 * answer's last line ending is dropped.  Length, or -1 with why set.
 */
static int
ask_secret(void *arg, const char *prompt, char *buf, size_t size,
    struct certauth_reason *why)
{
	const char *prog = next_program(arg);
	char *out = NULL;
	size_t len = 0;
	int st;

	if (prog == NULL)
		return ask_tty(prompt, buf, size, why);
	if ((st = run_next(prog, prompt, &out, &len)) != 0) {
		certauth_reason_set(why, "%s gave no answer to \"%s\"", prog,
		    prompt);
		if (out != NULL)
			certauth_freezero(out, len);
		return -1;
	}
	if (len > 0 && out[len - 1] == '\n')
		len--;
	if (len > 0 && out[len - 1] == '\r')
		len--;
	if (len >= size) {
		certauth_reason_set(why, "the answer of %s is too long", prog);
		certauth_freezero(out, len);
		return -1;
	}
	memcpy(buf, out, len);
	buf[len] = '\0';
	certauth_freezero(out, len);
	return (int)len;
}

/* A prompt that is not a challenge: the next program answers, else the
 * terminal.  Returns the exit status. */
static int
pass_on(const struct conf *c, const char *prompt)
{
	const char *prog = next_program(c);
	char buf[SECRET_MAX];
	struct certauth_reason why;
	char *out = NULL;
	size_t len = 0;
	int st, n;

	if (prog != NULL) {
		if ((st = run_next(prog, prompt, &out, &len)) < 0)
			return EXIT_REFUSED;
		if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)
			st = EXIT_REFUSED;
		certauth_freezero(out, len);
		return st;
	}
	if ((n = ask_tty(prompt, buf, sizeof(buf), &why)) < 0) {
		log_err(NULL,
		    PROG
		    ": no next askpass program and %s to answer \"%s\" "
		    "on: set CERTAUTH_ASKPASS_NEXT, or next = in %s",
		    why.text, prompt, c->path);
		return EXIT_REFUSED;
	}
	st = printf("%s\n", buf) < 0 || fflush(stdout) != 0 ? EXIT_REFUSED : 0;
	explicit_bzero(buf, sizeof(buf));
	return st;
}

/* ----------------------------------------------------------- the prompt */

/* Whether prompt is about pam_certauth at all: never passed on then. */
static int
is_certauth(const char *prompt)
{
	return strstr(prompt, "certauth") != NULL;
}

/* Count of s in text. */
static int
count_of(const char *text, const char *s)
{
	int n = 0;

	for (; (text = strstr(text, s)) != NULL; text += strlen(s))
		n++;
	return n;
}

/* ssh's "(user@host) " at the start of p into l; *rest after it.
 * Returns 1 found, 0 absent, -1 malformed. */
static int
prefix_of(const char *p, struct login *l, const char **rest)
{
	const char *end, *at;
	size_t ul, hl;

	if (p[0] != '(')
		return 0;
	if ((end = strstr(p, ") ")) == NULL)
		return -1;
	for (at = end; at > p && *at != '@'; at--)
		;
	ul = (size_t)(at - p - 1);
	hl = (size_t)(end - at - 1);
	if (at == p || ul == 0 || hl == 0 || ul >= sizeof(l->user) ||
	    hl >= sizeof(l->host))
		return -1;
	memcpy(l->user, p + 1, ul);
	l->user[ul] = '\0';
	memcpy(l->host, at + 1, hl);
	l->host[hl] = '\0';
	*rest = end + 2;
	return 1;
}

/* The name of the process that started us ("sudo", "ssh"). */
static void
parent_name(char *buf, size_t size)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)getppid());
	if ((f = fopen(path, "re")) == NULL)
		return;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* The local user and host: what stands in for a missing prefix. */
static int
local_login(struct login *l)
{
	struct passwd *pw = getpwuid(getuid());
	char parent[64];

	parent_name(parent, sizeof(parent));
	if (strcmp(parent, "ssh") == 0) {
		log_err(NULL,
		    PROG
		    ": refused: ssh showed a challenge without its "
		    "(user@host) prefix, so the server it is for is "
		    "unknown; this ssh is too old to answer by itself");
		return -1;
	}
	if (pw == NULL || gethostname(l->host, sizeof(l->host)) != 0 ||
	    snprintf(l->user, sizeof(l->user), "%s", pw->pw_name) >=
		(int)sizeof(l->user)) {
		log_err(NULL, PROG ": cannot tell the local user and host");
		return -1;
	}
	l->host[sizeof(l->host) - 1] = '\0';
	l->local = 1;
	return 0;
}

/*
 * The challenge of a certauth prompt into *out (malloc'd) and the login
 * it must be for into l.  Only pam_certauth's own shape is taken:
 * [(user@host) ]certauth challenge: C\ncertauth response: .  Returns 0 or
 * -1 (said why).
 */
static int
challenge_of(const char *prompt, struct login *l, char **out)
{
	const char *body = prompt, *c, *p;
	size_t clen;
	int pre;

	*out = NULL;
	for (p = prompt; *p != '\0'; p++)
		if ((*p != '\n' && (unsigned char)*p < 0x20) || *p == 0x7f) {
			log_err(NULL,
			    PROG
			    ": refused: the prompt holds control "
			    "characters");
			return -1;
		}
	if ((pre = prefix_of(prompt, l, &body)) < 0) {
		log_err(NULL,
		    PROG
		    ": refused: the prompt starts with a "
		    "malformed (user@host) prefix");
		return -1;
	}
	if (count_of(prompt, CERTAUTH_SIGNER_PREFIX) > 1 ||
	    count_of(prompt, INFO_TEXT) > 1) {
		log_err(NULL,
		    PROG
		    ": refused: the prompt holds more than one "
		    "challenge");
		return -1;
	}
	if (strcmp(body, PROMPT_TEXT) == 0) {
		log_err(NULL,
		    PROG
		    ": refused: the prompt asks for a certauth response "
		    "but shows no challenge: the pam_certauth line of "
		    "this service needs the challenge_in_prompt option");
		return -1;
	}
	c = body + strlen(INFO_TEXT);
	clen = strcspn(c, " \t\n");
	if (strncmp(body, INFO_TEXT, strlen(INFO_TEXT)) != 0 ||
	    strncmp(c, CERTAUTH_SIGNER_PREFIX,
		strlen(CERTAUTH_SIGNER_PREFIX)) != 0 ||
	    strcmp(c + clen, "\n" PROMPT_TEXT) != 0) {
		log_err(NULL,
		    PROG
		    ": refused: the prompt mentions certauth but is not "
		    "pam_certauth's (\"" INFO_TEXT "C\\n" PROMPT_TEXT "\")");
		return -1;
	}
	if (pre == 0 && local_login(l) != 0)
		return -1;
	if ((*out = strndup(c, clen)) == NULL) {
		log_err(NULL, PROG ": %s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- signing */

struct advice_arg {
	const struct conf *c;
	const struct login *l;
};

/* How to go on after a host refusal: the configuration line to add. */
static void
host_advice(void *arg, const char *host, int plain, char *buf, size_t size)
{
	const struct advice_arg *a = arg;

	if (plain && certauth_signer_plain(a->l->host))
		snprintf(buf, size, "add the line 'host %s = %s' to %s.",
		    a->l->host, host, a->c->path);
	else
		snprintf(buf, size,
		    "its name cannot be listed in %s: have the server's "
		    "hostname= option set to a plain name.",
		    a->c->path);
}

/* The names the challenge's host may have: the login's host and every
 * alias the configuration lists for it.  Count. */
static int
hosts_of(const struct conf *c, const struct login *l, const char **hosts)
{
	int n = 0, i, mine = 0;

	hosts[n++] = l->host;
	for (i = 0; i < c->nwords; i++) {
		if (c->is_name[i])
			mine = certauth_signer_host_equal(c->words[i], l->host);
		else if (mine && n < HOSTS_MAX)
			hosts[n++] = c->words[i];
	}
	return n;
}

/* The judge of src/signer.c for this login.  0 or -1 (said why). */
static int
judge(const struct conf *c, const struct login *l, const char *challenge)
{
	const char *hosts[HOSTS_MAX];
	struct advice_arg aa = { c, l };
	struct certauth_signer s = { PROG, hosts, 0,
		l->local ? c->local_services : c->services,
		l->local ? c->nlocal : c->nservices, l->user, c->max_age,
		host_advice, &aa, NULL };
	char advice[PATH_MAX + 64];

	snprintf(advice, sizeof(advice), "max_age in %s sets the limit",
	    c->path);
	s.time_advice = advice;
	s.nhosts = hosts_of(c, l, hosts);
	return certauth_signer_check(&s, challenge);
}

/* Sign challenge with the configured key; print the answer.  Exit status. */
static int
sign(const struct conf *c, const char *challenge)
{
	struct certauth_keysrc_spec spec = { getenv("CERTAUTH_KEY"),
		getenv("CERTAUTH_CERT"), NULL, { ask_secret, (void *)c } };
	struct certauth_keysrc *k = NULL;
	struct certauth_reason why;
	char *resp = NULL;
	int r = EXIT_REFUSED, e;

	if (spec.key == NULL || spec.key[0] == '\0')
		spec.key = c->key;
	if (spec.cert_path == NULL || spec.cert_path[0] == '\0')
		spec.cert_path = c->cert;
	if (spec.key == NULL) {
		log_err(NULL, PROG ": no key: set CERTAUTH_KEY, or key = in %s",
		    c->path);
		goto out;
	}
	if (c->with_cert && spec.cert_path == NULL) {
		log_err(NULL,
		    PROG
		    ": with_cert = yes needs the certificate to offer: set "
		    "CERTAUTH_CERT, or cert = in %s",
		    c->path);
		goto out;
	}
	if ((e = certauth_keysrc_open(&spec, &k, &why)) != 0 ||
	    (e = certauth_keysrc_respond(k, CERTAUTH_DIGEST_DEFAULT, 0,
		 challenge, &resp, &why)) != 0 ||
	    (c->with_cert &&
		(e = certauth_keysrc_offer(k, spec.cert_path, challenge, &resp,
		     &why)) != 0)) {
		log_err(NULL, PROG ": %s",
		    e == CERTAUTH_ERR_NOMEM ? certauth_strerror(e) : why.text);
		goto out;
	}
	if (strlen(resp) > CERTAUTH_KEYSRC_SHORT_ANSWER)
		log_warn(NULL,
		    PROG
		    ": the answer is %zu characters: ssh and sudo read at "
		    "most %d characters of an answer and cut off the rest",
		    strlen(resp), CERTAUTH_KEYSRC_SHORT_ANSWER);
	if (printf("%s\n", resp) < 0 || fflush(stdout) != 0) {
		log_err(NULL, PROG ": cannot write the response: %s",
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(resp);
	certauth_keysrc_free(k);
	return r;
}

/* A certauth prompt: judged, then signed.  Exit status. */
static int
answer(const struct conf *c, const char *prompt)
{
	struct login l;
	char *challenge = NULL;
	int r = EXIT_REFUSED;

	memset(&l, 0, sizeof(l));
	if (challenge_of(prompt, &l, &challenge) != 0 ||
	    judge(c, &l, challenge) != 0)
		goto out;
	r = sign(c, challenge);
out:
	free(challenge);
	return r;
}

int
main(int argc, char **argv)
{
	const char *prompt = argc > 1 ? argv[1] : "";
	struct conf c;
	size_t len;
	int r = EXIT_REFUSED;

	if (argc > 2) {
		log_err(NULL, PROG ": usage: " PROG " [PROMPT]");
		return EXIT_USAGE;
	}
	if (getenv(DEPTH_ENV) != NULL) {
		log_err(NULL,
		    PROG
		    ": refused: started by its own next askpass program; "
		    "next = (or CERTAUTH_ASKPASS_NEXT) must name another "
		    "program");
		return EXIT_REFUSED;
	}
	if ((len = strlen(prompt)) > PROMPT_MAX) {
		log_err(NULL,
		    PROG
		    ": refused: the prompt is %zu bytes long, more than "
		    "the %d allowed",
		    len, PROMPT_MAX);
		return EXIT_REFUSED;
	}
	if (conf_load(&c) != 0)
		goto out;
	r = is_certauth(prompt) ? answer(&c, prompt) : pass_on(&c, prompt);
out:
	conf_free(&c);
	return r;
}
