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
 * smaller part gets a new block id and becomes a splitter. */
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

/* Builds the canonical dense table from the final partition. */
static int emit(const struct dfa_raw *r, struct part *P, struct dfa **out,
		char *err, size_t errlen)
{
	uint32_t nb = P->nblocks, k = r->nclasses, k2 = 0, b, c, e, i, j;
	uint32_t *colcnt = NULL, *coloff = NULL, *col = NULL, *T = NULL;
	uint32_t *newid = NULL, *queue = NULL, grp[256], gid[256], ncls[256];
	uint64_t h[256];
	uint32_t head = 0, tail = 0;
	struct dfa *d = NULL;
	int rc = -ENOMEM;

	colcnt = calloc(k + 1, sizeof(*colcnt));
	if (!colcnt)
		goto out;
	/* columns: per class, (block, target block) for each block's rep */
	for (b = 0; b < nb; b++) {
		uint32_t s = P->elems[P->first[b]];

		for (e = r->eoff[s]; e < r->eoff[s + 1]; e++)
			if (P->blk[r->eto[e]] != NONE)
				colcnt[r->ecls[e] + 1] += 2;
	}
	for (c = 1; c <= k; c++)
		colcnt[c] += colcnt[c - 1];
	coloff = malloc((k + 1) * sizeof(*coloff));
	col = malloc((colcnt[k] + 1) * sizeof(*col));
	if (!coloff || !col)
		goto out;
	memcpy(coloff, colcnt, (k + 1) * sizeof(*coloff));
	for (b = 0; b < nb; b++) {
		uint32_t s = P->elems[P->first[b]];

		for (e = r->eoff[s]; e < r->eoff[s + 1]; e++) {
			uint32_t t = P->blk[r->eto[e]];

			if (t == NONE)
				continue;
			col[coloff[r->ecls[e]]++] = b;
			col[coloff[r->ecls[e]]++] = t;
		}
	}
	/* colcnt[c] .. colcnt[c + 1] is column c; group equal columns */
	for (c = 0; c < k; c++) {
		uint32_t n = colcnt[c + 1] - colcnt[c];

		h[c] = n;
		for (i = colcnt[c]; i < colcnt[c + 1]; i++)
			h[c] = (h[c] ^ col[i]) * 0x9e3779b97f4a7c15ull;
		grp[c] = c;
		for (j = 0; j < c; j++)
			if (grp[j] == j && h[j] == h[c] &&
			    colcnt[j + 1] - colcnt[j] == n &&
			    !memcmp(col + colcnt[j], col + colcnt[c],
				    n * sizeof(*col))) {
				grp[c] = j;
				break;
			}
	}
	for (c = 0; c < k; c++)
		gid[c] = NONE;
	for (i = 0; i < 256; i++) {
		c = grp[r->cls[i]];
		if (gid[c] == NONE)
			gid[c] = k2++;
	}
	for (c = 0; c < k; c++)
		ncls[c] = gid[grp[c]];
	if ((uint64_t)(nb + 1) * k2 > DFA_MAX_CELLS) {
		seterr(err, errlen, "automaton table too large");
		rc = -E2BIG;
		goto out;
	}
	T = malloc((size_t)nb * k2 * sizeof(*T));
	newid = calloc(nb, sizeof(*newid));
	queue = malloc(nb * sizeof(*queue));
	d = calloc(1, sizeof(*d));
	if (!T || !newid || !queue || !d)
		goto out;
	for (i = 0; i < nb * k2; i++)
		T[i] = NONE;
	for (c = 0; c < k; c++)
		for (i = colcnt[c]; i < colcnt[c + 1]; i += 2)
			T[col[i] * k2 + ncls[c]] = col[i + 1];
	/* breadth-first numbering; 0 is the dead state */
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
		if (!newid[b]) {
			newid[b] = tail + 1;
			queue[tail++] = b;
		}
	d->nstates = nb + 1;
	d->nclasses = k2;
	d->start = 1;
	for (i = 0; i < 256; i++)
		d->cls[i] = (uint8_t)ncls[r->cls[i]];
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
	free(colcnt);
	free(coloff);
	free(col);
	free(T);
	free(newid);
	free(queue);
	dfa_free(d);
	return rc;
}

int dfa_minimize(const struct dfa_raw *r, struct dfa **out, char *err,
		 size_t errlen)
{
	uint32_t n = r->nstates, E, s, e, i, nl = 0, b, c;
	uint32_t *roff = NULL, *rsrc = NULL, *live = NULL, *order = NULL;
	uint64_t *keys = NULL;
	uint32_t *sp = NULL, *bucket = NULL, cnt[257], touched[256];
	uint8_t *rcls = NULL;
	struct part P;
	int rc = -ENOMEM;

	memset(&P, 0, sizeof(P));
	if (!n || r->start == NONE)
		return dead_only(out);
	E = r->eoff[n];
	roff = calloc(n + 1, sizeof(*roff));
	rsrc = malloc((E + 1) * sizeof(*rsrc));
	rcls = malloc(E + 1);
	live = calloc(n, sizeof(*live));
	order = malloc(n * sizeof(*order));
	if (!roff || !rsrc || !rcls || !live || !order)
		goto out;
	/* reverse edges, by target */
	for (e = 0; e < E; e++)
		roff[r->eto[e] + 1]++;
	for (s = 1; s <= n; s++)
		roff[s] += roff[s - 1];
	for (s = 0; s < n; s++)
		for (e = r->eoff[s]; e < r->eoff[s + 1]; e++) {
			uint32_t t = r->eto[e];

			rsrc[roff[t]] = s;
			rcls[roff[t]++] = r->ecls[e];
		}
	for (s = n; s > 0; s--)
		roff[s] = roff[s - 1];
	roff[0] = 0;
	/* co-reachability of a nonzero accept id (order[] as the queue) */
	for (s = 0; s < n; s++)
		if (r->accept[s]) {
			live[s] = 1;
			order[nl++] = s;
		}
	for (i = 0; i < nl; i++)
		for (e = roff[order[i]]; e < roff[order[i] + 1]; e++)
			if (!live[rsrc[e]]) {
				live[rsrc[e]] = 1;
				order[nl++] = rsrc[e];
			}
	if (!live[r->start]) {
		rc = dead_only(out);
		goto out;
	}
	P.elems = malloc(nl * sizeof(*P.elems));
	P.loc = malloc(n * sizeof(*P.loc));
	P.blk = malloc(n * sizeof(*P.blk));
	P.first = malloc(nl * sizeof(*P.first));
	P.end = malloc(nl * sizeof(*P.end));
	P.mid = malloc(nl * sizeof(*P.mid));
	P.touched = malloc(nl * sizeof(*P.touched));
	P.w = malloc(nl * sizeof(*P.w));
	P.inw = calloc(nl, 1);
	sp = malloc(nl * sizeof(*sp));
	keys = malloc(nl * sizeof(*keys));
	bucket = malloc((E + 1) * sizeof(*bucket));
	if (!P.elems || !P.loc || !P.blk || !P.first || !P.end || !P.mid ||
	    !P.touched || !P.w || !P.inw || !sp || !bucket || !keys)
		goto out;
	/* initial blocks: equal accept ids */
	for (i = 0; i < nl; i++)
		keys[i] = (uint64_t)r->accept[order[i]] << 32 | order[i];
	qsort(keys, nl, sizeof(*keys), cmp64);
	for (i = 0; i < nl; i++)
		order[i] = (uint32_t)keys[i];
	for (s = 0; s < n; s++)
		P.blk[s] = NONE;
	for (i = 0; i < nl; i++) {
		s = order[i];
		if (i == 0 || r->accept[s] != r->accept[order[i - 1]]) {
			b = P.nblocks++;
			P.first[b] = P.mid[b] = i;
			P.inw[b] = 1;
			P.w[P.nw++] = b;
		}
		P.end[P.nblocks - 1] = i + 1;
		P.elems[i] = s;
		P.loc[s] = i;
		P.blk[s] = P.nblocks - 1;
	}
	while (P.nw) {
		uint32_t B = P.w[--P.nw], ns = 0, nt = 0, k;

		P.inw[B] = 0;
		for (i = P.first[B]; i < P.end[B]; i++)
			sp[ns++] = P.elems[i];
		/* in-edges of the splitter, bucketed by class */
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < ns; i++)
			for (e = roff[sp[i]]; e < roff[sp[i] + 1]; e++)
				if (cnt[rcls[e] + 1]++ == 0)
					touched[nt++] = rcls[e];
		for (c = 1; c <= r->nclasses; c++)
			cnt[c] += cnt[c - 1];
		for (i = 0; i < ns; i++)
			for (e = roff[sp[i]]; e < roff[sp[i] + 1]; e++)
				bucket[cnt[rcls[e]]++] = rsrc[e];
		for (k = 0; k < nt; k++) {
			c = touched[k];
			for (e = c ? cnt[c - 1] : 0; e < cnt[c]; e++)
				if (P.blk[bucket[e]] != NONE) /* always live */
					mark(&P, bucket[e]);
			split(&P);
		}
	}
	rc = emit(r, &P, out, err, errlen);
out:
	if (rc == -ENOMEM)
		seterr(err, errlen, "out of memory");
	free(roff);
	free(rsrc);
	free(rcls);
	free(live);
	free(order);
	free(sp);
	free(bucket);
	free(keys);
	free(P.elems);
	free(P.loc);
	free(P.blk);
	free(P.first);
	free(P.end);
	free(P.mid);
	free(P.touched);
	free(P.w);
	free(P.inw);
	return rc;
}
