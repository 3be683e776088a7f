/* scan.c: the profile lexer, with include splicing. See scan.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"

struct src {
	const char *name; /* interned */
	char *buf;
	size_t len, pos;
	int line, col;
	dev_t dev;
	ino_t ino;
};

struct scanner {
	struct src stack[SCAN_MAX_DEPTH + 1];
	int depth; /* -1 when done */
	const char *const *incdirs;
	struct diags *d;
	char **names;
	size_t nnames;
	size_t nfiles;
	uint64_t digest[4];
	struct token tok;
	char *tbuf;
	size_t tcap;
	bool have_unget;
	bool nl_pending;
	enum tok_type last_type; /* of the last token made */
};

/* ---- diagnostics ---- */

void diag_add(struct diags *d, const struct loc *at, int warning,
	      const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!d)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct diag *nv = realloc(d->v, ncap * sizeof(*nv));
		if (!nv) {
			free(msg);
			d->nerrors += !warning;
			return;
		}
		d->v = nv;
		d->cap = ncap;
	}
	d->v[d->n].file = strdup(at && at->file ? at->file : "<input>");
	d->v[d->n].line = at ? at->line : 0;
	d->v[d->n].col = at ? at->col : 0;
	d->v[d->n].warning = warning;
	d->v[d->n].msg = msg;
	d->n++;
	if (!warning)
		d->nerrors++;
}

void diags_free(struct diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- sources ---- */

const char *scan_intern(struct scanner *s, const char *name)
{
	for (size_t i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->names[i];
	char **nv = realloc(s->names, (s->nnames + 1) * sizeof(*nv));
	if (!nv)
		return "<oom>";
	s->names = nv;
	s->names[s->nnames] = strdup(name);
	if (!s->names[s->nnames])
		return "<oom>";
	return s->names[s->nnames++];
}

static void digest_mix(struct scanner *s, const char *p, size_t n)
{
	for (int k = 0; k < 4; k++) {
		uint64_t h = s->digest[k] ^ (0x9e3779b97f4a7c15ull * (k + 1));
		for (size_t i = 0; i < n; i++) {
			h ^= (unsigned char)p[i];
			h *= 0x100000001b3ull + 2 * (uint64_t)k;
		}
		h ^= n;
		s->digest[k] = h;
	}
}

void scan_digest(const struct scanner *s, unsigned char out[32])
{
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 8; i++)
			out[k * 8 + i] = (unsigned char)(s->digest[k] >> (8 * i));
}

static int push_buf(struct scanner *s, const char *name, char *buf,
		    size_t len, dev_t dev, ino_t ino, const struct loc *at)
{
	if (s->depth + 1 > SCAN_MAX_DEPTH) {
		diag_add(s->d, at, 0, "includes nested too deeply (more than %d)",
			 SCAN_MAX_DEPTH);
		free(buf);
		return -ELOOP;
	}
	if (memchr(buf, '\0', len)) {
		struct loc l = { scan_intern(s, name), 1, 1 };
		size_t off = (size_t)((char *)memchr(buf, '\0', len) - buf);
		for (size_t i = 0; i < off; i++) {
			if (buf[i] == '\n') {
				l.line++;
				l.col = 1;
			} else {
				l.col++;
			}
		}
		diag_add(s->d, &l, 0, "NUL byte in profile text (binary file?)");
		free(buf);
		return -EINVAL;
	}
	digest_mix(s, name, strlen(name));
	digest_mix(s, buf, len);
	struct src *src = &s->stack[++s->depth];
	memset(src, 0, sizeof(*src));
	src->name = scan_intern(s, name);
	src->buf = buf;
	src->len = len;
	src->line = 1;
	src->col = 1;
	src->dev = dev;
	src->ino = ino;
	return 0;
}

/* Reads a regular file, refusing huge ones. */
static int read_file(const char *path, char **out, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return -EISDIR;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st->st_size > SCAN_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	size_t cap = (size_t)st->st_size + 1, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap - 1) {
			if (cap > SCAN_MAX_FILE) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int push_file(struct scanner *s, const char *path, const struct loc *at)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	if (++s->nfiles > SCAN_MAX_FILES) {
		diag_add(s->d, at, 0, "too many files included (more than %d)",
			 SCAN_MAX_FILES);
		return -E2BIG;
	}
	int r = read_file(path, &buf, &len, &st);
	if (r == -EFBIG) {
		diag_add(s->d, at, 0, "%s: file too large (limit %u bytes)", path,
			 SCAN_MAX_FILE);
		return r;
	}
	if (r < 0)
		return r;
	for (int i = 0; i <= s->depth; i++) {
		if (s->stack[i].dev != st.st_dev || s->stack[i].ino != st.st_ino)
			continue;
		free(buf);
		if (i == 0) {
			diag_add(s->d, at, 0, "include cycle: %s includes itself",
				 path);
			return -ELOOP;
		}
		/* an include file that includes itself again: upstream
		 * reads it once; say so, without failing */
		diag_add(s->d, at, 1, "include cycle: %s already included, skipped",
			 path);
		return 0;
	}
	return push_buf(s, path, buf, len, st.st_dev, st.st_ino, at);
}

static struct scanner *scanner_new(const char *const *incdirs, struct diags *d)
{
	struct scanner *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->depth = -1;
	s->incdirs = incdirs;
	s->d = d;
	return s;
}

struct scanner *scan_open(const char *path, const char *const *incdirs,
			  struct diags *d)
{
	struct scanner *s = scanner_new(incdirs, d);
	if (!s)
		return NULL;
	struct loc l = { scan_intern(s, path), 0, 0 };
	int r = push_file(s, path, &l);
	if (r < 0 && r != -ELOOP && r != -EINVAL && r != -EFBIG && r != -E2BIG)
		diag_add(d, &l, 0, "cannot read: %s", strerror(-r));
	return s;
}

struct scanner *scan_open_mem(const char *name, const char *buf, size_t len,
			      const char *const *incdirs, struct diags *d)
{
	struct scanner *s = scanner_new(incdirs, d);
	if (!s)
		return NULL;
	char *copy = malloc(len + 1);
	if (!copy) {
		free(s);
		return NULL;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (len > SCAN_MAX_FILE) {
		struct loc l = { scan_intern(s, name), 1, 1 };
		diag_add(d, &l, 0, "input too large (limit %u bytes)", SCAN_MAX_FILE);
		free(copy);
		return s;
	}
	push_buf(s, name, copy, len, 0, 0, NULL);
	return s;
}

void scan_free(struct scanner *s)
{
	if (!s)
		return;
	for (int i = 0; i <= s->depth; i++)
		free(s->stack[i].buf);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->tbuf);
	free(s);
}

/* ---- characters ---- */

static int peekc(struct scanner *s, size_t ahead)
{
	struct src *src = &s->stack[s->depth];
	if (src->pos + ahead >= src->len)
		return -1;
	return (unsigned char)src->buf[src->pos + ahead];
}

static int getc_(struct scanner *s)
{
	struct src *src = &s->stack[s->depth];
	if (src->pos >= src->len)
		return -1;
	int c = (unsigned char)src->buf[src->pos++];
	if (c == '\n') {
		src->line++;
		src->col = 1;
	} else {
		src->col++;
	}
	return c;
}

static struct loc here(struct scanner *s)
{
	struct src *src = &s->stack[s->depth];
	struct loc l = { src->name, src->line, src->col };
	return l;
}

static int tput(struct scanner *s, size_t *n, int c)
{
	if (*n + 2 > s->tcap) {
		size_t ncap = s->tcap ? s->tcap * 2 : 256;
		if (ncap > SCAN_MAX_TOKEN + 2)
			return -E2BIG;
		char *nb = realloc(s->tbuf, ncap);
		if (!nb)
			return -ENOMEM;
		s->tbuf = nb;
		s->tcap = ncap;
	}
	s->tbuf[(*n)++] = (char)c;
	s->tbuf[*n] = '\0';
	return 0;
}

/* Skips blanks and comments; sets nl_pending on newlines. A '#' starts a
 * comment only where a token could start, and "#include" is a directive. */
static void skip_space(struct scanner *s)
{
	for (;;) {
		int c = peekc(s, 0);
		if (c == '\n') {
			s->nl_pending = true;
			getc_(s);
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
			   c == '\v') {
			getc_(s);
		} else if (c == '#') {
			struct src *src = &s->stack[s->depth];
			if (src->len - src->pos >= 8 &&
			    strncmp(src->buf + src->pos, "#include", 8) == 0 &&
			    (src->pos + 8 >= src->len ||
			     isspace((unsigned char)src->buf[src->pos + 8]) ||
			     src->buf[src->pos + 8] == '<' ||
			     src->buf[src->pos + 8] == '"'))
				return;
			while ((c = peekc(s, 0)) != -1 && c != '\n')
				getc_(s);
		} else {
			return;
		}
	}
}

/* "@{NAME}" or "$NAME" / "${NAME}": a word that can be assigned to */
static bool is_var_ref(const char *w, size_t n)
{
	if (n >= 1 && w[0] == '$')
		return true;
	return n >= 3 && w[0] == '@' && w[1] == '{' && w[n - 1] == '}' &&
	       memchr(w + 2, '}', n - 3) == NULL;
}

static bool is_word_stop(int c)
{
	return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\f' || c == '\v' || c == ',' || c == '(' || c == ')' ||
	       c == '=' || c == '{' || c == '}';
}

/* ---- includes ---- */

static bool ignored_include_name(const char *n)
{
	/* upstream skips dotfiles and package-manager leftovers in include
	 * directories (parser/lib.c's dirat_for_each callers). */
	static const char *const suffix[] = { ".dpkg-new", ".dpkg-old",
		".dpkg-dist", ".dpkg-bak", ".dpkg-remove", ".pacsave",
		".pacnew", ".rpmnew", ".rpmsave", ".orig", ".rej", "~", NULL };
	size_t l = strlen(n);
	if (n[0] == '.')
		return true;
	for (int i = 0; suffix[i]; i++) {
		size_t k = strlen(suffix[i]);
		if (l >= k && strcmp(n + l - k, suffix[i]) == 0)
			return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pushes every file of a directory, in reverse order so that they are
 * scanned in sorted order (the stack pops the last pushed first). */
static int push_dir(struct scanner *s, const char *dir, const struct loc *at)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return -errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(dh))) {
		if (ignored_include_name(de->d_name))
			continue;
		char *p;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		struct stat st;
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				free(p);
				r = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n++] = p;
	}
	closedir(dh);
	if (r == 0) {
		qsort(names, n, sizeof(*names), cmp_str);
		for (size_t i = n; i-- > 0 && r == 0;) {
			r = push_file(s, names[i], at);
			if (r == -ENOENT || r == -EISDIR)
				r = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Resolves and pushes an include. quoted: "x" (relative to the working
 * directory, then the including file's directory); else <x> along the
 * search path. */
static int do_include(struct scanner *s, const char *name, bool quoted,
		      bool if_exists, const struct loc *at)
{
	char *cands[64];
	size_t nc = 0;
	int r = -ENOENT;

	if (name[0] == '\0') {
		diag_add(s->d, at, 0, "empty include name");
		return -EINVAL;
	}
	if (name[0] == '/' || quoted) {
		cands[nc++] = strdup(name);
		if (name[0] != '/') {
			char *dir = strdup(at->file), *sl = strrchr(dir, '/');
			if (sl) {
				*sl = '\0';
				if (asprintf(&cands[nc], "%s/%s", dir, name) >= 0)
					nc++;
			}
			free(dir);
		}
	} else {
		for (size_t i = 0; s->incdirs && s->incdirs[i] && nc < 63; i++)
			if (asprintf(&cands[nc], "%s/%s", s->incdirs[i], name) >= 0)
				nc++;
	}
	for (size_t i = 0; i < nc; i++) {
		struct stat st;
		if (r == -ENOENT && cands[i] && stat(cands[i], &st) == 0) {
			if (S_ISDIR(st.st_mode))
				r = push_dir(s, cands[i], at);
			else
				r = push_file(s, cands[i], at);
		}
		free(cands[i]);
	}
	if (r == -ENOENT && if_exists)
		return 0;
	if (r == -ENOENT)
		diag_add(s->d, at, 0, "could not open '%s': no such file or directory",
			 name);
	else if (r == -EACCES || r == -EIO || r == -ENOMEM)
		diag_add(s->d, at, 0, "could not open '%s': %s", name, strerror(-r));
	return r < 0 ? r : 0;
}

/* Parses the directive after "include" / "#include": [if exists] then
 * <name>, "name" or a bare path, up to the end of the line. */
static int scan_include(struct scanner *s, const struct loc *at)
{
	bool if_exists = false;
	size_t n = 0;
	int c;

	while ((c = peekc(s, 0)) == ' ' || c == '\t')
		getc_(s);
	struct src *src = &s->stack[s->depth];
	if (src->len - src->pos >= 2 && strncmp(src->buf + src->pos, "if", 2) == 0 &&
	    (src->buf[src->pos + 2] == ' ' || src->buf[src->pos + 2] == '\t')) {
		getc_(s);
		getc_(s);
		while ((c = peekc(s, 0)) == ' ' || c == '\t')
			getc_(s);
		if (src->len - src->pos < 6 ||
		    strncmp(src->buf + src->pos, "exists", 6) != 0) {
			diag_add(s->d, at, 0, "expected 'exists' after 'include if'");
			return -EINVAL;
		}
		for (int i = 0; i < 6; i++)
			getc_(s);
		if_exists = true;
		while ((c = peekc(s, 0)) == ' ' || c == '\t')
			getc_(s);
	}
	c = getc_(s);
	int close = c == '<' ? '>' : c == '"' ? '"' : 0;
	bool quoted = c == '"';
	if (!close) {
		if (c == -1 || c == '\n') {
			diag_add(s->d, at, 0, "include without a file name");
			return -EINVAL;
		}
		/* bare: include /path or include name, to blank or line end */
		if (tput(s, &n, c) < 0)
			return -E2BIG;
		while ((c = peekc(s, 0)) != -1 && !isspace(c))
			if (tput(s, &n, getc_(s)) < 0)
				return -E2BIG;
		quoted = true;
	} else {
		s->tbuf ? (void)0 : (void)0;
		if (tput(s, &n, 'x') < 0)
			return -E2BIG;
		n = 0;
		s->tbuf[0] = '\0';
		while ((c = getc_(s)) != close) {
			if (c == -1 || c == '\n') {
				diag_add(s->d, at, 0, "unterminated include name");
				return -EINVAL;
			}
			if (tput(s, &n, c) < 0)
				return -E2BIG;
		}
	}
	/* <"name"> is <name> */
	if (close == '>' && n >= 2 && s->tbuf[0] == '"' && s->tbuf[n - 1] == '"') {
		memmove(s->tbuf, s->tbuf + 1, n - 2);
		s->tbuf[n - 2] = '\0';
	}
	char *name = strdup(s->tbuf);
	if (!name)
		return -ENOMEM;
	int r = do_include(s, name, quoted, if_exists, at);
	free(name);
	return r;
}

/* ---- tokens ---- */

static const struct token *make(struct scanner *s, enum tok_type t,
				 struct loc l, size_t n)
{
	s->tok.type = t;
	s->tok.text = s->tbuf;
	s->tok.len = n;
	s->tok.loc = l;
	s->tok.nl_before = s->nl_pending;
	s->nl_pending = false;
	s->last_type = t;
	return &s->tok;
}

static const struct token *lex(struct scanner *s)
{
	size_t n = 0;
	int c;

	for (;;) {
		if (s->depth < 0) {
			if (tput(s, &n, 'x') == 0)
				n = 0, s->tbuf[0] = '\0';
			struct loc l = { NULL, 0, 0 };
			return make(s, T_EOF, l, 0);
		}
		skip_space(s);
		if (peekc(s, 0) != -1)
			break;
		/* end of this file: pop back to the includer */
		free(s->stack[s->depth].buf);
		s->stack[s->depth].buf = NULL;
		s->depth--;
		s->nl_pending = true;
	}

	struct loc l = here(s);
	if (tput(s, &n, 'x') < 0)
		return make(s, T_ERROR, l, 0);
	n = 0;
	s->tbuf[0] = '\0';
	c = peekc(s, 0);

	/* directives */
	struct src *src = &s->stack[s->depth];
	const char *p = src->buf + src->pos;
	size_t left = src->len - src->pos;
	size_t kw = 0;
	if (left >= 8 && strncmp(p, "#include", 8) == 0)
		kw = 8;
	else if (left >= 8 && strncmp(p, "include", 7) == 0 &&
		 (p[7] == ' ' || p[7] == '\t'))
		kw = 7;
	if (kw) {
		for (size_t i = 0; i < kw; i++)
			getc_(s);
		bool nl = s->nl_pending;
		if (scan_include(s, &l) < 0 && s->d && s->d->nerrors == 0)
			diag_add(s->d, &l, 0, "bad include");
		s->nl_pending = nl;
		return lex(s);
	}

	/* key={a,b}: a value that starts with an alternation is a word */
	bool value_glob = c == '{' && s->last_type == T_EQ;
	switch (value_glob ? 0 : c) {
	case '{': getc_(s); tput(s, &n, c); return make(s, T_LBRACE, l, n);
	case '}': getc_(s); tput(s, &n, c); return make(s, T_RBRACE, l, n);
	case '(': getc_(s); tput(s, &n, c); return make(s, T_LPAREN, l, n);
	case ')': getc_(s); tput(s, &n, c); return make(s, T_RPAREN, l, n);
	case ',': getc_(s); tput(s, &n, c); return make(s, T_COMMA, l, n);
	case '=': getc_(s); tput(s, &n, c); return make(s, T_EQ, l, n);
	case '+':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, '+'); tput(s, &n, '=');
			return make(s, T_PLUSEQ, l, n);
		}
		break;
	case ':':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, ':'); tput(s, &n, '=');
			return make(s, T_COLONEQ, l, n);
		}
		break;
	case '?':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, '?'); tput(s, &n, '=');
			return make(s, T_QEQ, l, n);
		}
		break;
	case '-':
		if (peekc(s, 1) == '>') {
			getc_(s); getc_(s);
			tput(s, &n, '-'); tput(s, &n, '>');
			return make(s, T_ARROW, l, n);
		}
		break;
	case '<':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, '<'); tput(s, &n, '=');
			return make(s, T_LE, l, n);
		}
		/* <name with spaces> (abi and include names) is one word */
		for (size_t k = 1; peekc(s, k) != -1 && peekc(s, k) != '\n'; k++) {
			if (peekc(s, k) != '>')
				continue;
			for (size_t m = 0; m <= k; m++)
				if (tput(s, &n, getc_(s)) < 0)
					goto toolong;
			return make(s, T_WORD, l, n);
		}
		break;
	case '"':
		getc_(s);
		for (;;) {
			c = getc_(s);
			if (c == -1) {
				diag_add(s->d, &l, 0, "unterminated quoted string");
				return make(s, T_ERROR, l, n);
			}
			if (c == '"')
				break;
			if (c == '\\' && peekc(s, 0) != -1) {
				/* keep escapes for the glob compiler, except \" */
				int d2 = getc_(s);
				if (d2 != '"' && tput(s, &n, '\\') < 0)
					goto toolong;
				c = d2;
			}
			if (tput(s, &n, c) < 0)
				goto toolong;
		}
		return make(s, T_STRING, l, n);
	}

	/* A word: up to a blank or punctuation, but braces and commas inside a
	 * glob's {a,b} alternation and @{var} references belong to the word. */
	int depth = 0;
	bool path = c == '/' || c == '@' || c == '^';
	bool after_eq = s->last_type == T_EQ; /* key=a,b: one value */
	for (;;) {
		c = peekc(s, 0);
		if (c == '\\' && peekc(s, 1) != -1 && peekc(s, 1) != '\n') {
			if (tput(s, &n, getc_(s)) < 0 || tput(s, &n, getc_(s)) < 0)
				goto toolong;
			continue;
		}
		if (c == '{' && (n > 0 || value_glob)) {
			depth++;
		} else if (c == '}' && depth > 0) {
			depth--;
		} else if (c == '}' && path && n > 0) {
			/* a brace closing an alternation opened by a variable's
			 * value (@{V}={a,b then /x/@{V},c} r,) */
		} else if (depth > 0 && c != -1 && c != '\n' && c != ' ' &&
			   c != '\t' && c != '\r') {
			/* inside an alternation: anything but blanks */
		} else if ((c == '+' || c == '?' || c == ':') && peekc(s, 1) == '=' &&
			   is_var_ref(s->tbuf, n)) {
			break;
		} else if ((c == '"' || c == '<') && n > 0 && depth == 0) {
			break; /* abi<x>, abi"x": the name is a token of its own */
		} else if (c == '-' && peekc(s, 1) == '>' && n > 0) {
			break;
		} else if (c == '=' && path && n > 0 && !is_var_ref(s->tbuf, n)) {
			/* '=' inside a path is literal */
		} else if (c == ',' && (path || after_eq) && !is_word_stop(peekc(s, 1)) &&
			   peekc(s, 1) != '#') {
			/* upstream's lexer: a comma followed by more path
			 * characters belongs to the path (/foo,bar) */
		} else if (is_word_stop(c)) {
			break;
		}
		if (tput(s, &n, getc_(s)) < 0)
			goto toolong;
	}
	if (n == 0) {
		/* a lone character that starts nothing: report and skip it */
		getc_(s);
		tput(s, &n, c);
		return make(s, T_WORD, l, n);
	}
	return make(s, T_WORD, l, n);
toolong:
	diag_add(s->d, &l, 0, "token too long (limit %u bytes)", SCAN_MAX_TOKEN);
	while ((c = peekc(s, 0)) != -1 && !isspace(c))
		getc_(s);
	return make(s, T_ERROR, l, 0);
}

const struct token *scan_next(struct scanner *s)
{
	if (s->have_unget) {
		s->have_unget = false;
		return &s->tok;
	}
	return lex(s);
}

const struct token *scan_peek(struct scanner *s)
{
	const struct token *t = scan_next(s);
	s->have_unget = true;
	return t;
}

void scan_unget(struct scanner *s)
{
	s->have_unget = true;
}

char *scan_rest_of_line(struct scanner *s)
{
	if (s->depth < 0 || s->have_unget)
		return strdup("");
	struct src *src = &s->stack[s->depth];
	size_t start = src->pos, end = start;
	bool inq = false;
	while (end < src->len && src->buf[end] != '\n') {
		char c = src->buf[end];
		if (c == '"')
			inq = !inq;
		else if (c == '\\' && end + 1 < src->len)
			end++; /* an escape, or a line continuation */
		else if (c == '#' && !inq &&
			 (end == start || isspace((unsigned char)src->buf[end - 1])))
			break;
		end++;
	}
	char *r = strndup(src->buf + start, end - start);
	while (src->pos < end)
		getc_(s);
	return r;
}
