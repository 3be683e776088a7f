/* dfa_run.c: matching, walking, and the cache blob of a compiled DFA.
 *
 * Blob format (all integers little-endian):
 *   8  magic "capgDFA1"
 *   4  nstates (>= 1, state 0 is the dead state)
 *   4  nclasses (1 .. 256)
 *   4  start state
 *   256 byte -> class
 *   4 * nstates           accept ids
 *   4 * nstates*nclasses  transitions, row-major, plain state ids
 *   8  FNV-1a 64 of everything before it
 * dfa_load() checks the length, the checksum (a flipped accept bit must
 * not grant a permission), and every index, so a loaded table can never
 * be walked out of bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dfa_int.h"

#define MAGIC "capgDFA1"
#define HDR (8 + 4 + 4 + 4 + 256)

uint32_t dfa_match(const struct dfa *d, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;
	const uint32_t *T;
	uint32_t o;

	if (!d || !d->start)
		return 0;
	T = d->trans;
	o = d->start * d->nclasses;
	while (p < end) {
		o = T[o + d->cls[*p++]];
		if (!o) /* the dead state: no suffix can match */
			return 0;
	}
	return d->accept[o / d->nclasses];
}

uint32_t dfa_start(const struct dfa *d)
{
	return d && d->start ? d->start : DFA_DEAD;
}

uint32_t dfa_step(const struct dfa *d, uint32_t state, const char *s,
		  size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t o;

	if (!d || state == 0 || state >= d->nstates)
		return DFA_DEAD;
	o = state * d->nclasses;
	while (len--) {
		o = d->trans[o + d->cls[*p++]];
		if (!o)
			return DFA_DEAD;
	}
	return o / d->nclasses;
}

int dfa_uniform(const struct dfa *d, uint32_t state, int after_slash)
{
	if (!d || state >= d->nstates)
		return 0;
	/* one byte of each class, '/' apart (it may not follow a '/') */
	unsigned char rep[256];
	size_t nrep = 0;
	uint8_t seen_cls[256] = { 0 };
	for (unsigned c = 1; c < 256; c++)
		if (c != '/' && !seen_cls[d->cls[c]]) {
			seen_cls[d->cls[c]] = 1;
			rep[nrep++] = (unsigned char)c;
		}
	size_t n = (size_t)d->nstates * 2; /* (state, last byte was '/') */
	uint8_t *seen = calloc(n, 1);
	uint32_t *q = malloc(n * sizeof *q);
	if (!seen || !q) {
		free(seen);
		free(q);
		return -ENOMEM;
	}
	uint32_t a0 = d->accept[state];
	size_t head = 0, tail = 0;
	uint32_t x = state * 2 + (after_slash ? 1 : 0);
	seen[x] = 1;
	q[tail++] = x;
	int r = 1;
	while (head < tail && r) {
		x = q[head++];
		uint32_t st = x / 2;
		if (d->accept[st] != a0) {
			r = 0;
			break;
		}
		const uint32_t *row = d->trans + (size_t)st * d->nclasses;
		for (size_t i = 0; i <= nrep; i++) {
			unsigned c = i < nrep ? rep[i] : '/';
			if (c == '/' && (x & 1))
				continue;
			uint32_t y = row[d->cls[c]] / d->nclasses * 2 + (c == '/');
			if (!seen[y]) {
				seen[y] = 1;
				q[tail++] = y;
			}
		}
	}
	free(seen);
	free(q);
	return r;
}

uint32_t dfa_accept(const struct dfa *d, uint32_t state)
{
	if (!d || state >= d->nstates)
		return 0;
	return d->accept[state];
}

size_t dfa_states(const struct dfa *d)
{
	return d ? d->nstates : 0;
}

void dfa_free(struct dfa *d)
{
	if (!d)
		return;
	free(d->trans);
	free(d->accept);
	free(d);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int dfa_save(const struct dfa *d, uint8_t **buf, size_t *len)
{
	size_t cells, n, i;
	uint64_t h;
	uint8_t *b, *p;

	if (!d || !buf || !len)
		return -EINVAL;
	cells = (size_t)d->nstates * d->nclasses;
	n = HDR + 4 * (size_t)d->nstates + 4 * cells + 8;
	b = malloc(n);
	if (!b)
		return -ENOMEM;
	memcpy(b, MAGIC, 8);
	p = put32(b + 8, d->nstates);
	p = put32(p, d->nclasses);
	p = put32(p, d->start);
	memcpy(p, d->cls, 256);
	p += 256;
	for (i = 0; i < d->nstates; i++)
		p = put32(p, d->accept[i]);
	for (i = 0; i < cells; i++)
		p = put32(p, d->trans[i] / d->nclasses);
	h = fnv1a(b, (size_t)(p - b));
	p = put32(p, (uint32_t)h);
	put32(p, (uint32_t)(h >> 32));
	*buf = b;
	*len = n;
	return 0;
}

int dfa_load(const uint8_t *buf, size_t len, struct dfa **out)
{
	uint32_t ns, nc, start, i, t;
	const uint8_t *p;
	size_t cells;
	uint64_t h;
	struct dfa *d;

	if (!buf || !out)
		return -EINVAL;
	*out = NULL;
	if (len < HDR + 8 || memcmp(buf, MAGIC, 8))
		return -EBADMSG;
	ns = get32(buf + 8);
	nc = get32(buf + 12);
	start = get32(buf + 16);
	if (ns < 1 || ns > DFA_MAX_STATES || nc < 1 || nc > 256 ||
	    (uint64_t)ns * nc > DFA_MAX_CELLS || start >= ns)
		return -EBADMSG;
	cells = (size_t)ns * nc;
	if (len != HDR + 4 * (size_t)ns + 4 * cells + 8)
		return -EBADMSG;
	h = fnv1a(buf, len - 8);
	if (get32(buf + len - 8) != (uint32_t)h ||
	    get32(buf + len - 4) != (uint32_t)(h >> 32))
		return -EBADMSG;
	for (i = 0; i < 256; i++)
		if (buf[20 + i] >= nc)
			return -EBADMSG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->nstates = ns;
	d->nclasses = nc;
	d->start = start;
	memcpy(d->cls, buf + 20, 256);
	d->accept = malloc(ns * sizeof(*d->accept));
	d->trans = malloc(cells * sizeof(*d->trans));
	if (!d->accept || !d->trans) {
		dfa_free(d);
		return -ENOMEM;
	}
	p = buf + HDR;
	for (i = 0; i < ns; i++, p += 4)
		d->accept[i] = get32(p);
	for (i = 0; i < cells; i++, p += 4) {
		t = get32(p);
		/* every target in range; state 0 must be the dead state */
		if (t >= ns || (i < nc && t != 0)) {
			dfa_free(d);
			return -EBADMSG;
		}
		d->trans[i] = t * nc;
	}
	if (d->accept[0]) {
		dfa_free(d);
		return -EBADMSG;
	}
	*out = d;
	return 0;
}
