/* cache.c: the compiled policy as a binary cache file, so daemons start
 * fast and a profile set is compiled once.
 *
 * Layout (little endian):
 *   "CAPGATEP" | u32 version | u32 struct sizes | u8 source digest[32] |
 *   u64 payload length | payload | u64 checksum of the payload
 * A cache from other sources, another version or another build's struct
 * layout is -ESTALE (rebuilt); a truncated or corrupt one is -EBADMSG. Every
 * length and index read back is checked; nothing in a cache is trusted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_int.h"

#define CACHE_MAGIC "CAPGATEP"
#define CACHE_VERSION 2u /* 2: PX_TRANSITIONS */
#define CACHE_MAX (1ull << 31)
#define CACHE_MAX_DEPTH 64

static uint32_t layout_sizes(void)
{
	return (uint32_t)(sizeof(struct net_rule) << 16 | sizeof(struct rlimit_rule) << 8 |
			  sizeof(struct link_perms));
}

static uint64_t checksum(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h ^ n;
}

/* ---- writing ---- */

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	int err;
};

static void put(struct wbuf *w, const void *v, size_t n)
{
	if (w->err)
		return;
	if (w->n + n > w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 4096;
		while (nc < w->n + n)
			nc *= 2;
		uint8_t *np = realloc(w->p, nc);
		if (!np) {
			w->err = -ENOMEM;
			return;
		}
		w->p = np;
		w->cap = nc;
	}
	memcpy(w->p + w->n, v, n);
	w->n += n;
}

static void put32(struct wbuf *w, uint32_t v) { put(w, &v, 4); }
static void put64(struct wbuf *w, uint64_t v) { put(w, &v, 8); }

static void put_str(struct wbuf *w, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) + 1 : 0;
	put32(w, n);
	if (n)
		put(w, s, n);
}

static void put_dfa(struct wbuf *w, const struct dfa *d)
{
	uint8_t *b = NULL;
	size_t n = 0;
	if (!d) {
		put64(w, 0);
		return;
	}
	if (dfa_save(d, &b, &n) < 0) {
		w->err = -ENOMEM;
		return;
	}
	put64(w, n);
	put(w, b, n);
	free(b);
}

static void put_profile(struct wbuf *w, const struct profile *pr)
{
	put_str(w, pr->name);
	put_str(w, pr->attach);
	put32(w, pr->flags);
	put32(w, pr->extra);
	put(w, &pr->caps, sizeof(pr->caps));
	put32(w, (uint32_t)pr->nnet);
	put(w, pr->net, pr->nnet * sizeof(*pr->net));
	put32(w, (uint32_t)pr->nrl);
	put(w, pr->rl, pr->nrl * sizeof(*pr->rl));
	put64(w, pr->nstrings);
	put(w, pr->strings, pr->nstrings);
	put32(w, (uint32_t)pr->nperms);
	for (size_t i = 0; i < pr->nperms; i++) {
		const struct file_perms *fp = &pr->perms[i];
		put32(w, fp->allow);
		put32(w, fp->owner_allow);
		put32(w, fp->deny);
		put32(w, fp->audit);
		put32(w, fp->quiet);
		const struct xtrans *xs[2] = { &fp->x, &fp->owner_x };
		for (int k = 0; k < 2; k++) {
			put32(w, xs[k]->type | (uint32_t)xs[k]->flags << 8);
			/* targets as offsets into the strings table, +1; 0 = none */
			put64(w, xs[k]->target ? (uint64_t)(xs[k]->target - pr->strings) + 1 : 0);
		}
	}
	put_dfa(w, pr->file);
	put32(w, (uint32_t)pr->nlperms);
	put(w, pr->lperms, pr->nlperms * sizeof(*pr->lperms));
	put_dfa(w, pr->link);
	put32(w, (uint32_t)pr->nkids);
	for (size_t i = 0; i < pr->nkids; i++)
		put_profile(w, pr->kids[i]);
}

int policy_write_cache(const struct policy *p, const char *path)
{
	struct wbuf w = { 0 };
	put32(&w, (uint32_t)p->nprofiles);
	for (size_t i = 0; i < p->nprofiles; i++)
		put_profile(&w, p->profiles[i]);
	if (w.err) {
		free(w.p);
		return w.err;
	}
	char *tmp;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		free(w.p);
		return -ENOMEM;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;
	if (fd < 0) {
		rc = -errno;
	} else {
		struct wbuf h = { 0 };
		put(&h, CACHE_MAGIC, 8);
		put32(&h, CACHE_VERSION);
		put32(&h, layout_sizes());
		put(&h, p->digest, 32);
		put64(&h, w.n);
		uint64_t sum = checksum(w.p, w.n);
		if (h.err || write(fd, h.p, h.n) != (ssize_t)h.n ||
		    write(fd, w.p, w.n) != (ssize_t)w.n ||
		    write(fd, &sum, 8) != 8 || fsync(fd) < 0)
			rc = h.err ? h.err : -EIO;
		free(h.p);
		if (close(fd) < 0 && rc == 0)
			rc = -errno;
		/* atomic: readers see the old cache or the new one */
		if (rc == 0 && rename(tmp, path) < 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	free(w.p);
	return rc;
}

/* ---- reading ---- */

struct rbuf {
	const uint8_t *p;
	size_t n, off;
	int err;
};

static const void *get(struct rbuf *r, size_t n)
{
	if (r->err || n > r->n - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	const void *v = r->p + r->off;
	r->off += n;
	return v;
}

static uint32_t get32(struct rbuf *r)
{
	uint32_t v = 0;
	const void *p = get(r, 4);
	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(struct rbuf *r)
{
	uint64_t v = 0;
	const void *p = get(r, 8);
	if (p)
		memcpy(&v, p, 8);
	return v;
}

static char *get_str(struct rbuf *r)
{
	uint32_t n = get32(r);
	if (n == 0)
		return NULL;
	const char *s = get(r, n);
	if (!s || s[n - 1] != '\0' || memchr(s, '\0', n - 1)) {
		r->err = -EBADMSG;
		return NULL;
	}
	return strdup(s);
}

static void *get_array(struct rbuf *r, size_t count, size_t size)
{
	if (count == 0)
		return NULL;
	if (count > CACHE_MAX / size) {
		r->err = -EBADMSG;
		return NULL;
	}
	const void *p = get(r, count * size);
	void *v = p ? malloc(count * size) : NULL;
	if (p && !v)
		r->err = -ENOMEM;
	if (v)
		memcpy(v, p, count * size);
	return v;
}

static struct dfa *get_dfa(struct rbuf *r)
{
	uint64_t n = get64(r);
	if (n == 0 || r->err)
		return NULL;
	const uint8_t *b = get(r, n);
	struct dfa *d = NULL;
	if (b && dfa_load(b, n, &d) < 0)
		r->err = -EBADMSG;
	return d;
}

static struct profile *get_profile(struct rbuf *r, struct profile *parent, int depth)
{
	struct profile *pr = profile_alloc();
	if (!pr) {
		r->err = -ENOMEM;
		return NULL;
	}
	if (depth > CACHE_MAX_DEPTH)
		r->err = -EBADMSG;
	pr->parent = parent;
	pr->name = get_str(r);
	pr->attach = get_str(r);
	pr->flags = get32(r);
	pr->extra = get32(r);
	const void *caps = get(r, sizeof(pr->caps));
	if (caps)
		memcpy(&pr->caps, caps, sizeof(pr->caps));
	pr->nnet = get32(r);
	pr->net = get_array(r, pr->nnet, sizeof(*pr->net));
	pr->nrl = get32(r);
	pr->rl = get_array(r, pr->nrl, sizeof(*pr->rl));
	pr->nstrings = get64(r);
	pr->strings = get_array(r, pr->nstrings, 1);
	if (pr->nstrings && pr->strings && pr->strings[pr->nstrings - 1] != '\0')
		r->err = -EBADMSG;
	pr->nperms = get32(r);
	if (!r->err && pr->nperms)
		pr->perms = calloc(pr->nperms, sizeof(*pr->perms));
	for (size_t i = 0; !r->err && i < pr->nperms && pr->perms; i++) {
		struct file_perms *fp = &pr->perms[i];
		fp->allow = get32(r);
		fp->owner_allow = get32(r);
		fp->deny = get32(r);
		fp->audit = get32(r);
		fp->quiet = get32(r);
		struct xtrans *xs[2] = { &fp->x, &fp->owner_x };
		for (int k = 0; k < 2; k++) {
			uint32_t tf = get32(r);
			uint64_t off = get64(r);
			xs[k]->type = (uint8_t)tf;
			xs[k]->flags = (uint8_t)(tf >> 8);
			if (xs[k]->type >= XT_MAX || off > pr->nstrings)
				r->err = -EBADMSG;
			else if (off)
				xs[k]->target = pr->strings + off - 1;
		}
	}
	pr->file = get_dfa(r);
	pr->nlperms = get32(r);
	pr->lperms = get_array(r, pr->nlperms, sizeof(*pr->lperms));
	pr->link = get_dfa(r);
	uint32_t nk = get32(r);
	if (!r->err && nk > 100000)
		r->err = -EBADMSG;
	if (!r->err && nk)
		pr->kids = calloc(nk, sizeof(*pr->kids));
	for (uint32_t i = 0; !r->err && pr->kids && i < nk; i++) {
		struct profile *k = get_profile(r, pr, depth + 1);
		if (k)
			pr->kids[pr->nkids++] = k;
	}
	/* accept ids index the perms tables: checked when deciding too, but a
	 * cache must describe a policy that compile could have made */
	if (!r->err && !pr->name)
		r->err = -EBADMSG;
	if (r->err) {
		profile_free(pr);
		return NULL;
	}
	return pr;
}


int policy_read_cache(const char *path, const uint8_t src_digest[32],
		      struct policy **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > CACHE_MAX ||
	    st.st_size < 8 + 4 + 4 + 32 + 8 + 8) {
		close(fd);
		return -EBADMSG;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len);
	size_t got = 0;
	while (buf && got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != len) {
		free(buf);
		return buf ? -EBADMSG : -ENOMEM;
	}
	struct rbuf r = { buf, len, 0, 0 };
	const void *magic = get(&r, 8);
	uint32_t ver = get32(&r), sizes = get32(&r);
	const uint8_t *dg = get(&r, 32);
	uint64_t plen = get64(&r);
	int rc = 0;
	if (r.err || memcmp(magic, CACHE_MAGIC, 8) != 0)
		rc = -EBADMSG;
	else if (ver != CACHE_VERSION || sizes != layout_sizes() ||
		 memcmp(dg, src_digest, 32) != 0)
		rc = -ESTALE;
	else if (plen != len - r.off - 8)
		rc = -EBADMSG;
	else {
		uint64_t sum;
		memcpy(&sum, buf + len - 8, 8);
		if (sum != checksum(buf + r.off, plen))
			rc = -EBADMSG;
	}
	struct policy *p = rc ? NULL : calloc(1, sizeof(*p));
	if (!rc && !p)
		rc = -ENOMEM;
	if (!rc) {
		memcpy(p->digest, src_digest, 32);
		struct rbuf pr = { buf + r.off, plen, 0, 0 };
		uint32_t np = get32(&pr);
		if (np > 100000)
			pr.err = -EBADMSG;
		p->profiles = pr.err || !np ? NULL : calloc(np, sizeof(*p->profiles));
		for (uint32_t i = 0; !pr.err && p->profiles && i < np; i++) {
			struct profile *x = get_profile(&pr, NULL, 0);
			if (x)
				p->profiles[p->nprofiles++] = x;
		}
		if (!pr.err && pr.off != pr.n)
			pr.err = -EBADMSG;
		rc = pr.err;
		if (!rc) {
			struct diags d = { 0 };
			rc = policy_build_attach(p, &d) < 0 ? -EBADMSG : 0;
			diags_free(&d);
		}
		if (rc) {
			policy_free(p);
			p = NULL;
		}
	}
	free(buf);
	*out = p;
	return rc;
}

/* ---- the sources' digest ---- */

static void digest_tree(const char *dir, const char *rel, uint64_t h[4], int depth)
{
	DIR *dh = depth < 16 ? opendir(dir) : NULL;
	if (!dh)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		char **nv = realloc(names, (n + 1) * sizeof(*nv));
		if (!nv)
			break;
		names = nv;
		names[n++] = strdup(de->d_name);
	}
	closedir(dh);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (names[i] && names[j] && strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		char *path, *r2;
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0 ||
		    asprintf(&r2, "%s/%s", rel, names[i]) < 0)
			continue;
		struct stat st;
		int sr = stat(path, &st);
		if (sr == 0 && S_ISDIR(st.st_mode)) {
			digest_tree(path, r2, h, depth + 1);
		} else if (sr == 0 && S_ISREG(st.st_mode)) {
			/* name and content: any edit, addition or removal changes it */
			for (int k = 0; k < 4; k++)
				for (const char *c = r2; *c; c++)
					h[k] = (h[k] ^ (uint8_t)*c) * (0x100000001b3ull + 2u * k);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			uint8_t b[4096]; /* profiles are small; a larger buffer's
					  * untouched stack pages cost faults */
			ssize_t m;
			while (fd >= 0 && (m = read(fd, b, sizeof(b))) > 0)
				for (int k = 0; k < 4; k++)
					for (ssize_t q = 0; q < m; q++)
						h[k] = (h[k] ^ b[q]) * (0x100000001b3ull + 2u * k);
			if (fd >= 0)
				close(fd);
			for (int k = 0; k < 4; k++)
				h[k] = (h[k] ^ (uint64_t)st.st_size) * 0x9e3779b97f4a7c15ull;
		}
		free(path);
		free(r2);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void policy_dir_digest(const char *dir, uint8_t out[32])
{
	uint64_t h[4] = { 0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull,
			  0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull };
	digest_tree(dir, "", h, 0);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 8; i++)
			out[k * 8 + i] = (uint8_t)(h[k] >> (8 * i));
}
