/* scan_src.c: the scanner's sources: reading profile files (with size and
 * NUL checks), the include stack and its cycles, include directories,
 * the digest of what was read, and diagnostics. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan_int.h"

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

int scan_push_file(struct scanner *s, const char *path, const struct loc *at)
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
	int r = scan_push_file(s, path, &l);
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
			r = scan_push_file(s, names[i], at);
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
int scan_do_include(struct scanner *s, const char *name, bool quoted,
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
				r = scan_push_file(s, cands[i], at);
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
