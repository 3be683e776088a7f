/* dfa_min.c: minimization of the subset-construction DFA, and its
 * canonical dense table.
 *
 * 1. States that cannot reach a nonzero accept id are the dead state (an
 *    accept id of 0 means "no permissions", so such states are no better
 *    than no match).
 * 2. Hopcroft's partition refinement on the remaining, partial DFA
 *    (Valmari & Lehtinen, "Efficient minimization of DFAs with partial
 *    transition functions", 2008): blocks start as "same accept id"; every
 *    initial block is a splitter (with missing edges the complement trick
 *    of the total-DFA version does not hold); after a split the smaller
 *    half becomes a splitter. O(m log n) for m live edges, so the many
 *    edges into the dead state cost nothing.
 * 3. Classes with identical columns merge; classes are numbered by their
 *    smallest byte and states in breadth-first order from the start,
 *    visiting classes in order. The minimal DFA being unique up to
 *    isomorphism, equal languages with equal accept ids thus give
 *    byte-identical tables (and dfa_save() blobs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfa_int.h"

#define NONE UINT32_MAX

/* Refinable partition over raw state ids (live states only). */
struct part {
	uint32_t *elems, *loc, *blk;
	uint32_t *first, *end, *mid;
	uint32_t nblocks;
	uint32_t *touched;
	uint32_t ntouched;
	uint32_t *w;    /* splitter stack */
	uint32_t nw;
	uint8_t *inw;
};

/* Working state of one minimization. */
struct mini {
	const struct dfa_raw *r;
	uint32_t *roff, *rsrc; /* reverse edges, grouped by target */
	uint8_t *rcls;
	uint32_t *live;        /* live[s]: s can reach a nonzero accept id */
	uint32_t *order;       /* the live states */
	uint32_t nl;
	struct part P;
	/* columns of the quotient: per class, (block, target block) pairs */
	uint32_t *colcnt, *col;
	uint32_t ncls[256], k2; /* merged class of each class, their count */
};

static void seterr(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

static int dead_only(struct dfa **out)
{
	struct dfa *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->nstates = 1;
	d->nclasses = 1;
	d->start = 0;
	d->trans = calloc(1, sizeof(*d->trans));
	d->accept = calloc(1, sizeof(*d->accept));
	if (!d->trans || !d->accept) {
		dfa_free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

static void mark(struct part *P, uint32_t s)
{
	uint32_t b = P->blk[s], i = P->loc[s], j = P->mid[b], o;

	if (i < j)
		return; /* already marked */
	o = P->elems[j];
	P->elems[j] = s;
	P->loc[s] = j;
	P->elems[i] = o;
	P->loc[o] = i;
	if (P->mid[b]++ == P->first[b])
		P->touched[P->ntouched++] = b;
}

/* Splits every touched block into its marked and unmarked parts; the
 * smaller part gets a new block id and becomes a splitter (if the old
 * block still waits in W, both halves are then in W, as Hopcroft wants;
 * if not, the smaller one suffices). */
static void split(struct part *P)
{
	uint32_t t, b, z, i;

	for (t = 0; t < P->ntouched; t++) {
		b = P->touched[t];
		if (P->mid[b] == P->end[b]) { /* all marked: no split */
			P->mid[b] = P->first[b];
			continue;
		}
		z = P->nblocks++;
		if (P->mid[b] - P->first[b] <= P->end[b] - P->mid[b]) {
			P->first[z] = P->first[b];
			P->end[z] = P->mid[b];
			P->first[b] = P->mid[b];
		} else {
			P->first[z] = P->mid[b];
			P->end[z] = P->end[b];
			P->end[b] = P->mid[b];
		}
		P->mid[b] = P->first[b];
		P->mid[z] = P->first[z];
		for (i = P->first[z]; i < P->end[z]; i++)
			P->blk[P->elems[i]] = z;
		P->inw[z] = 1;
		P->w[P->nw++] = z;
	}
	P->ntouched = 0;
}

static int cmp64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* Reverse edges (counting sort by target), then the live states: those
 * from which a nonzero accept id is reachable. */
static int find_live(struct mini *m)
{
	const struct dfa_raw *r = m->r;
	uint32_t n = r->nstates, E = r->eoff[n], s, e, i;

	m->roff = calloc(n + 1, sizeof(*m->roff));
	m->rsrc = malloc((E + 1) * sizeof(*m->rsrc));
	m->rcls = malloc(E + 1);
	m->live = calloc(n, sizeof(*m->live));
	m->order = malloc(n * sizeof(*m->order));
	if (!m->roff || !m->rsrc || !m->rcls || !m->live || !m->order)
		return -ENOMEM;
	for (e = 0; e < E; e++)
		m->roff[r->eto[e] + 1]++;
	for (s = 1; s <= n; s++)
		m->roff[s] += m->roff[s - 1];
	for (s = 0; s < n; s++)
		for (e = r->eoff[s]; e < r->eoff[s + 1]; e++) {
			uint32_t t = r->eto[e];

			m->rsrc[m->roff[t]] = s;
			m->rcls[m->roff[t]++] = r->ecls[e];
		}
	for (s = n; s > 0; s--)
		m->roff[s] = m->roff[s - 1];
	m->roff[0] = 0;
	/* breadth-first over reverse edges, order[] as the queue */
	for (s = 0; s < n; s++)
		if (r->accept[s]) {
			m->live[s] = 1;
			m->order[m->nl++] = s;
		}
	for (i = 0; i < m->nl; i++)
		for (e = m->roff[m->order[i]]; e < m->roff[m->order[i] + 1];
		     e++)
			if (!m->live[m->rsrc[e]]) {
				m->live[m->rsrc[e]] = 1;
				m->order[m->nl++] = m->rsrc[e];
			}
	return 0;
}

/* Initial partition: live states with equal accept ids; all in W. */
static int part_init(struct mini *m)
{
	struct part *P = &m->P;
	uint32_t n = m->r->nstates, nl = m->nl, i, s, b;
	uint64_t *keys = malloc(nl * sizeof(*keys));

	P->elems = malloc(nl * sizeof(*P->elems));
	P->loc = malloc(n * sizeof(*P->loc));
	P->blk = malloc(n * sizeof(*P->blk));
	P->first = malloc(nl * sizeof(*P->first));
	P->end = malloc(nl * sizeof(*P->end));
	P->mid = malloc(nl * sizeof(*P->mid));
	P->touched = malloc(nl * sizeof(*P->touched));
	P->w = malloc(nl * sizeof(*P->w));
	P->inw = calloc(nl, 1);
	if (!keys || !P->elems || !P->loc || !P->blk || !P->first ||
	    !P->end || !P->mid || !P->touched || !P->w || !P->inw) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < nl; i++)
		keys[i] = (uint64_t)m->r->accept[m->order[i]] << 32 |
			  m->order[i];
	qsort(keys, nl, sizeof(*keys), cmp64);
	for (s = 0; s < n; s++)
		P->blk[s] = NONE;
	for (i = 0; i < nl; i++) {
		s = (uint32_t)keys[i];
		if (i == 0 || keys[i] >> 32 != keys[i - 1] >> 32) {
			b = P->nblocks++;
			P->first[b] = P->mid[b] = i;
			P->inw[b] = 1;
			P->w[P->nw++] = b;
		}
		P->end[P->nblocks - 1] = i + 1;
		P->elems[i] = s;
		P->loc[s] = i;
		P->blk[s] = P->nblocks - 1;
	}
	free(keys);
	return 0;
}

/* Hopcroft's loop: take a splitter block, and for each class split every
 * block by "has a transition on this class into the splitter". */
static int refine(struct mini *m)
{
	struct part *P = &m->P;
	uint32_t E = m->r->eoff[m->r->nstates], cnt[257], touched[256];
	uint32_t *sp = malloc(m->nl * sizeof(*sp));
	uint32_t *bucket = malloc((E + 1) * sizeof(*bucket));
	uint32_t i, e, c, k;

	if (!sp || !bucket) {
		free(sp);
		free(bucket);
		return -ENOMEM;
	}
	while (P->nw) {
		uint32_t B = P->w[--P->nw], ns = 0, nt = 0;

		P->inw[B] = 0;
		/* a copy: marking reorders elems, splits may shrink B */
		for (i = P->first[B]; i < P->end[B]; i++)
			sp[ns++] = P->elems[i];
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < ns; i++)
			for (e = m->roff[sp[i]]; e < m->roff[sp[i] + 1]; e++)
				if (cnt[m->rcls[e] + 1]++ == 0)
					touched[nt++] = m->rcls[e];
		for (c = 1; c <= m->r->nclasses; c++)
			cnt[c] += cnt[c - 1];
		for (i = 0; i < ns; i++)
			for (e = m->roff[sp[i]]; e < m->roff[sp[i] + 1]; e++)
				bucket[cnt[m->rcls[e]]++] = m->rsrc[e];
		for (k = 0; k < nt; k++) {
			c = touched[k];
			for (e = c ? cnt[c - 1] : 0; e < cnt[c]; e++)
				if (P->blk[bucket[e]] != NONE) /* always live */
					mark(P, bucket[e]);
			split(P);
		}
	}
	free(sp);
	free(bucket);
	return 0;
}

/* Columns of the quotient automaton, and classes merged when their
 * columns are equal, numbered by their smallest byte. */
static int merge_classes(struct mini *m)
{
	const struct dfa_raw *r = m->r;
	const struct part *P = &m->P;
	uint32_t k = r->nclasses, b, c, e, i, j, grp[256], gid[256];
	uint32_t *off = malloc((k + 1) * sizeof(*off));
	uint64_t h[256];

	m->colcnt = calloc(k + 1, sizeof(*m->colcnt));
	if (!off || !m->colcnt) {
		free(off);
		return -ENOMEM;
	}
	for (b = 0; b < P->nblocks; b++) {
		uint32_t s = P->elems[P->first[b]]; /* any member will do */

		for (e = r->eoff[s]; e < r->eoff[s + 1]; e++)
			if (P->blk[r->eto[e]] != NONE)
				m->colcnt[r->ecls[e] + 1] += 2;
	}
	for (c = 1; c <= k; c++)
		m->colcnt[c] += m->colcnt[c - 1];
	m->col = malloc((m->colcnt[k] + 1) * sizeof(*m->col));
	if (!m->col) {
		free(off);
		return -ENOMEM;
	}
	memcpy(off, m->colcnt, (k + 1) * sizeof(*off));
	for (b = 0; b < P->nblocks; b++) {
		uint32_t s = P->elems[P->first[b]];

		for (e = r->eoff[s]; e < r->eoff[s + 1]; e++) {
			uint32_t t = P->blk[r->eto[e]];

			if (t == NONE)
				continue;
			m->col[off[r->ecls[e]]++] = b;
			m->col[off[r->ecls[e]]++] = t;
		}
	}
	free(off);
	for (c = 0; c < k; c++) {
		const uint32_t *cc = m->col + m->colcnt[c];
		uint32_t n = m->colcnt[c + 1] - m->colcnt[c];

		h[c] = n;
		for (i = 0; i < n; i++)
			h[c] = (h[c] ^ cc[i]) * 0x9e3779b97f4a7c15ull;
		grp[c] = c;
		for (j = 0; j < c; j++)
			if (grp[j] == j && h[j] == h[c] &&
			    m->colcnt[j + 1] - m->colcnt[j] == n &&
			    !memcmp(m->col + m->colcnt[j], cc,
				    n * sizeof(*cc))) {
				grp[c] = j;
				break;
			}
	}
	for (c = 0; c < k; c++)
		gid[c] = NONE;
	m->k2 = 0;
	for (i = 0; i < 256; i++) {
		c = grp[r->cls[i]];
		if (gid[c] == NONE)
			gid[c] = m->k2++;
	}
	for (c = 0; c < k; c++)
		m->ncls[c] = gid[grp[c]];
	return 0;
}

/* The dense table, states numbered breadth-first from the start (1),
 * visiting classes in order; 0 is the dead state. */
static int emit(struct mini *m, struct dfa **out)
{
	const struct dfa_raw *r = m->r;
	const struct part *P = &m->P;
	uint32_t nb = P->nblocks, k2 = m->k2, b, c, i, head = 0, tail = 0;
	uint32_t *T = malloc((size_t)nb * k2 * sizeof(*T));
	uint32_t *newid = calloc(nb, sizeof(*newid));
	uint32_t *queue = malloc(nb * sizeof(*queue));
	struct dfa *d = calloc(1, sizeof(*d));
	int rc = -ENOMEM;

	if (!T || !newid || !queue || !d)
		goto out;
	for (i = 0; i < nb * k2; i++)
		T[i] = NONE;
	for (c = 0; c < r->nclasses; c++)
		for (i = m->colcnt[c]; i < m->colcnt[c + 1]; i += 2)
			T[m->col[i] * k2 + m->ncls[c]] = m->col[i + 1];
	b = P->blk[r->start];
	newid[b] = 1;
	queue[tail++] = b;
	while (head < tail) {
		b = queue[head++];
		for (c = 0; c < k2; c++) {
			uint32_t t = T[b * k2 + c];

			if (t != NONE && !newid[t]) {
				newid[t] = tail + 1;
				queue[tail++] = t;
			}
		}
	}
	for (b = 0; b < nb; b++) /* unreachable: cannot happen, be safe */
		if (!newid[b])
			newid[b] = ++tail;
	d->nstates = nb + 1;
	d->nclasses = k2;
	d->start = 1;
	for (i = 0; i < 256; i++)
		d->cls[i] = (uint8_t)m->ncls[r->cls[i]];
	d->trans = calloc((size_t)(nb + 1) * k2, sizeof(*d->trans));
	d->accept = calloc(nb + 1, sizeof(*d->accept));
	if (!d->trans || !d->accept)
		goto out;
	for (b = 0; b < nb; b++) {
		uint32_t *row = d->trans + (size_t)newid[b] * k2;

		for (c = 0; c < k2; c++) {
			uint32_t t = T[b * k2 + c];

			row[c] = t == NONE ? 0 : newid[t] * k2;
		}
		d->accept[newid[b]] = r->accept[P->elems[P->first[b]]];
	}
	*out = d;
	d = NULL;
	rc = 0;
out:
	free(T);
	free(newid);
	free(queue);
	dfa_free(d);
	return rc;
}

int dfa_minimize(const struct dfa_raw *r, struct dfa **out, char *err,
		 size_t errlen)
{
	struct mini m;
	int rc;

	if (!r->nstates || r->start == NONE)
		return dead_only(out);
	memset(&m, 0, sizeof(m));
	m.r = r;
	if ((rc = find_live(&m)))
		goto out;
	if (!m.live[r->start]) {
		rc = dead_only(out);
		goto out;
	}
	if ((rc = part_init(&m)) || (rc = refine(&m)) ||
	    (rc = merge_classes(&m)))
		goto out;
	if ((uint64_t)(m.P.nblocks + 1) * m.k2 > DFA_MAX_CELLS) {
		seterr(err, errlen, "automaton table too large");
		rc = -E2BIG;
		goto out;
	}
	rc = emit(&m, out);
out:
	if (rc == -ENOMEM)
		seterr(err, errlen, "out of memory");
	free(m.roff);
	free(m.rsrc);
	free(m.rcls);
	free(m.live);
	free(m.order);
	free(m.P.elems);
	free(m.P.loc);
	free(m.P.blk);
	free(m.P.first);
	free(m.P.end);
	free(m.P.mid);
	free(m.P.touched);
	free(m.P.w);
	free(m.P.inw);
	free(m.colcnt);
	free(m.col);
	return rc;
}
