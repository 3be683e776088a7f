/* dfa_reduce.c: the position graph shrunk by bisimulation before the
 * subset construction.
 *
 * Why: k rules like "/a/p_i/" "**" with the same permissions each own a
 * trailing '**' loop. A path under several p_i puts several such loops in
 * one DFA state, so the subset construction enumerates up to 2^k sets of
 * loops that the minimization merges again afterwards; AppArmor's
 * exploding_profile.sd needs over a million raw states that way. Upstream
 * avoids it by optimizing its expression tree first (libapparmor_re's
 * factoring of alternations, one accept node per permission set). We get
 * the same effect on the Glushkov positions:
 *
 * 1. Forward: p ~ q when they read the same byte set and their followers
 *    lie in the same blocks of ~; accept positions are keyed by rule class
 *    (dfa_set_class(), else the rule id). The quotient keeps what every
 *    set of positions matches (a forward bisimulation quotient of an NFA
 *    preserves each state's language), and the end markers of all rules of
 *    a class become one, carrying the class's smallest rule id. Equal
 *    loops of equal classes thus become one loop: no more 2^k.
 * 2. Backward: on that result, positions with the same byte set and start
 *    flag whose predecessors lie in the same blocks merge (followers
 *    united); a backward bisimulation quotient preserves the strings
 *    reaching each position. Common prefixes ("/usr/lib/" in 100 rules)
 *    become one chain, so DFA states hold far fewer positions.
 *
 * Each is a coarsest stable partition (Kanellakis & Smolka): start from
 * the keys, split every block by "has an edge into splitter B", and make
 * both halves of every split splitters again (in an NFA a position can
 * have edges into both halves, so Hopcroft's "smaller half" alone is not
 * enough). Paige & Tarjan's O(m log n) version (edge counts per compound
 * block) was tried: same partitions, but twice as slow on rule sets like
 * Debian's and on long chains, where taking the smallest waiting splitter
 * first (below) already avoids the quadratic case. The steps are counted
 * against the build's work budget; a reduction that would cost too much
 * is skipped, the unreduced graph being just as correct.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dfa_int.h"

/* Of the build's work budget, the share the reduction may spend. */
#define REDUCE_BUDGET (DFA_MAX_WORK / 8)

struct rkey {
	uint64_t k1, k2;
	uint32_t p;
};

/* Refinable partition of positions 0..n-1 (as in dfa_min.c). Waiting
 * splitters sit in buckets by log2 of their size, smallest taken first:
 * a large block then tends to be split many times while it waits and is
 * walked once, instead of being walked after each split. */
#define NBUCKET 32
struct rpart {
	uint32_t *elems, *loc, *blk, *first, *end, *mid;
	uint32_t *touched, *wnext, *snap;
	uint32_t whead[NBUCKET];
	uint8_t *inw;
	uint32_t n, nb, ntouched, nw;
};

#define NONE UINT32_MAX

static void wpush(struct rpart *P, uint32_t b)
{
	uint32_t size = P->end[b] - P->first[b], k = 0;

	while (k + 1 < NBUCKET && size >> (k + 1))
		k++;
	P->inw[b] = 1;
	P->wnext[b] = P->whead[k];
	P->whead[k] = b;
	P->nw++;
}

static uint32_t wpop(struct rpart *P)
{
	uint32_t k = 0, b;

	while (P->whead[k] == NONE)
		k++;
	b = P->whead[k];
	P->whead[k] = P->wnext[b];
	P->inw[b] = 0;
	P->nw--;
	return b;
}

static void rpart_free(struct rpart *P)
{
	free(P->elems);
	free(P->loc);
	free(P->blk);
	free(P->first);
	free(P->end);
	free(P->mid);
	free(P->touched);
	free(P->wnext);
	free(P->snap);
	free(P->inw);
	memset(P, 0, sizeof(*P));
}

static int cmp_rkey(const void *x, const void *y)
{
	const struct rkey *a = x, *b = y;

	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	return (a->p > b->p) - (a->p < b->p);
}

/* Sorts keys: a counting sort for the many with k1 < 2 and a small k2
 * (byte-set positions), qsort for the rest (one per pattern or fewer). */
static int sort_keys(struct rkey *keys, uint32_t n)
{
	struct rkey *tmp = malloc((n + 1) * sizeof(*tmp));
	uint32_t *cnt, i, nsmall = 0, top = 0, k;

	if (!tmp)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (keys[i].k1 < 2 && keys[i].k2 < n && keys[i].k2 + 1 > top)
			top = (uint32_t)keys[i].k2 + 1;
	cnt = calloc(2 * (size_t)top + 1, sizeof(*cnt));
	if (!cnt) {
		free(tmp);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (keys[i].k1 < 2 && keys[i].k2 < n) {
			cnt[keys[i].k1 * top + keys[i].k2 + 1]++;
			nsmall++;
		}
	for (k = 1; k <= 2 * top; k++)
		cnt[k] += cnt[k - 1];
	for (i = 0, k = nsmall; i < n; i++)
		if (keys[i].k1 < 2 && keys[i].k2 < n)
			tmp[cnt[keys[i].k1 * top + keys[i].k2]++] = keys[i];
		else
			tmp[k++] = keys[i];
	qsort(tmp + nsmall, n - nsmall, sizeof(*tmp), cmp_rkey);
	memcpy(keys, tmp, n * sizeof(*keys));
	free(cnt);
	free(tmp);
	return 0;
}

/* Blocks of equal keys, all of them splitters. keys is sorted here. */
static int rpart_init(struct rpart *P, struct rkey *keys, uint32_t n)
{
	uint32_t i, m = n ? n : 1;

	memset(P, 0, sizeof(*P));
	P->n = n;
	P->elems = malloc(m * sizeof(*P->elems));
	P->loc = malloc(m * sizeof(*P->loc));
	P->blk = malloc(m * sizeof(*P->blk));
	P->first = malloc(m * sizeof(*P->first));
	P->end = malloc(m * sizeof(*P->end));
	P->mid = malloc(m * sizeof(*P->mid));
	P->touched = malloc(m * sizeof(*P->touched));
	P->wnext = malloc(m * sizeof(*P->wnext));
	P->snap = malloc(m * sizeof(*P->snap));
	P->inw = calloc(m, 1);
	if (!P->elems || !P->loc || !P->blk || !P->first || !P->end ||
	    !P->mid || !P->touched || !P->wnext || !P->snap || !P->inw)
		return -ENOMEM;
	if (sort_keys(keys, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint32_t p = keys[i].p;

		if (i == 0 || keys[i].k1 != keys[i - 1].k1 ||
		    keys[i].k2 != keys[i - 1].k2) {
			P->first[P->nb] = P->mid[P->nb] = i;
			P->nb++;
		}
		P->end[P->nb - 1] = i + 1;
		P->elems[i] = p;
		P->loc[p] = i;
		P->blk[p] = P->nb - 1;
	}
	for (i = 0; i < NBUCKET; i++)
		P->whead[i] = NONE;
	for (i = 0; i < P->nb; i++)
		wpush(P, i);
	return 0;
}

static void mark(struct rpart *P, uint32_t s)
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

/* Splits each touched block into marked and unmarked parts; the new block
 * and, unless it still waits, the old one become splitters. */
static void split(struct rpart *P)
{
	uint32_t t, b, z, i;

	for (t = 0; t < P->ntouched; t++) {
		b = P->touched[t];
		if (P->mid[b] == P->end[b]) {
			P->mid[b] = P->first[b];
			continue;
		}
		z = P->nb++; /* the marked part [first, mid) */
		P->first[z] = P->mid[z] = P->first[b];
		P->end[z] = P->mid[b];
		P->first[b] = P->mid[b];
		for (i = P->first[z]; i < P->end[z]; i++)
			P->blk[P->elems[i]] = z;
		wpush(P, z);
		if (!P->inw[b])
			wpush(P, b);
	}
	P->ntouched = 0;
}

/* Refines until stable: a splitter B splits blocks by "holds an
 * adj-neighbour of B". adj is the reverse edges for a forward
 * bisimulation, the edges themselves for a backward one. */
static int refine(struct rpart *P, const uint32_t *off, const uint32_t *adj,
		  uint64_t *work, uint64_t budget)
{
	uint32_t B, ns, i, q, e;

	while (P->nw) {
		B = wpop(P);
		/* marking may reorder B itself: walk a copy */
		ns = P->end[B] - P->first[B];
		memcpy(P->snap, P->elems + P->first[B], ns * sizeof(*P->snap));
		for (i = 0; i < ns; i++) {
			q = P->snap[i];
			*work += 1 + off[q + 1] - off[q];
			for (e = off[q]; e < off[q + 1]; e++)
				mark(P, adj[e]);
		}
		split(P);
		if (*work > budget)
			return -E2BIG;
	}
	return 0;
}

void dfa_graph_free(struct dfa_graph *g)
{
	if (g->owned) {
		free(g->set);
		free(g->rule);
		free(g->fol_off);
		free(g->fol);
		free(g->starts);
	}
	memset(g, 0, sizeof(*g));
}

static int graph_alloc(struct dfa_graph *g, uint32_t npos, size_t nfol,
		       uint32_t nstarts)
{
	memset(g, 0, sizeof(*g));
	g->owned = 1;
	g->npos = npos;
	g->set = malloc((npos + 1) * sizeof(*g->set));
	g->rule = malloc((npos + 1) * sizeof(*g->rule));
	g->fol_off = calloc(npos + 1, sizeof(*g->fol_off));
	g->fol = malloc((nfol + 1) * sizeof(*g->fol));
	g->starts = malloc((nstarts + 1) * sizeof(*g->starts));
	if (!g->set || !g->rule || !g->fol_off || !g->fol || !g->starts)
		return -ENOMEM;
	return 0;
}

/* The quotient of g by the partition P: one position per block, its set
 * and rule from its members (rule: the smallest), its followers the
 * blocks of its members' followers (all members' for a backward
 * bisimulation; one member's suffice for a forward one, but taking all
 * costs little). stamp: scratch of P->nb entries, zeroed. */
static int quotient(const struct dfa_graph *g, const struct rpart *P,
		    uint32_t *stamp, struct dfa_graph *out)
{
	uint32_t b, i, p, e, t, gen = 0, n = 0;

	if (graph_alloc(out, P->nb, g->fol_off[g->npos], g->nstarts))
		return -ENOMEM;
	for (b = 0; b < P->nb; b++) {
		p = P->elems[P->first[b]];
		out->set[b] = g->set[p];
		out->rule[b] = g->rule[p];
		gen++;
		for (i = P->first[b]; i < P->end[b]; i++) {
			p = P->elems[i];
			if (g->rule[p] < out->rule[b])
				out->rule[b] = g->rule[p];
			for (e = g->fol_off[p]; e < g->fol_off[p + 1]; e++) {
				t = P->blk[g->fol[e]];
				if (stamp[t] != gen) {
					stamp[t] = gen;
					out->fol[n++] = t;
				}
			}
		}
		out->fol_off[b + 1] = n;
	}
	gen++;
	for (i = 0; i < g->nstarts; i++) {
		t = P->blk[g->starts[i]];
		if (stamp[t] != gen) {
			stamp[t] = gen;
			out->starts[out->nstarts++] = t;
		}
	}
	return 0;
}

static int cmp_klass(const void *x, const void *y)
{
	const struct dfa_klass *a = x, *b = y;

	if (a->rule != b->rule)
		return a->rule < b->rule ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* The class of rule r in the sorted list k (the last call wins). */
static int klass_of(const struct dfa_klass *k, size_t n, uint32_t r,
		    uint64_t *out)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* first entry with rule > r */
		size_t mid = lo + (hi - lo) / 2;

		if (k[mid].rule <= r)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || k[lo - 1].rule != r)
		return 0;
	*out = k[lo - 1].klass;
	return 1;
}

/* Step 1 on the builder's graph g. */
static int forward(const struct dfa_builder *b, const struct dfa_graph *g,
		   struct dfa_graph *out, uint64_t *work)
{
	struct dfa_klass *k = NULL;
	struct rkey *keys = NULL;
	uint32_t *roff = NULL, *radj = NULL, *stamp = NULL, p, e;
	uint32_t n = g->npos, nf = g->fol_off[n];
	struct rpart P;
	uint64_t kl;
	int rc = -ENOMEM;

	memset(&P, 0, sizeof(P));
	k = malloc((b->nklass + 1) * sizeof(*k));
	keys = malloc((n + 1) * sizeof(*keys));
	roff = calloc(n + 2, sizeof(*roff));
	radj = malloc((nf + 1) * sizeof(*radj));
	if (!k || !keys || !roff || !radj)
		goto out;
	if (b->nklass)
		memcpy(k, b->klass, b->nklass * sizeof(*k));
	qsort(k, b->nklass, sizeof(*k), cmp_klass);
	for (p = 0; p < n; p++) {
		keys[p].p = p;
		if (g->set[p] != POS_ACCEPT) {
			keys[p].k1 = 0;
			keys[p].k2 = g->set[p];
		} else if (klass_of(k, b->nklass, g->rule[p], &kl)) {
			keys[p].k1 = 1;
			keys[p].k2 = kl;
		} else {
			keys[p].k1 = 2;
			keys[p].k2 = g->rule[p];
		}
	}
	/* reverse edges, counting sort by target */
	for (e = 0; e < nf; e++)
		roff[g->fol[e] + 2]++;
	for (p = 2; p <= n + 1; p++)
		roff[p] += roff[p - 1];
	for (p = 0; p < n; p++)
		for (e = g->fol_off[p]; e < g->fol_off[p + 1]; e++)
			radj[roff[g->fol[e] + 1]++] = p;
	*work += (uint64_t)n + nf;
	if ((rc = rpart_init(&P, keys, n)) ||
	    (rc = refine(&P, roff, radj, work, REDUCE_BUDGET)))
		goto out;
	stamp = calloc(P.nb + 1, sizeof(*stamp));
	rc = stamp ? quotient(g, &P, stamp, out) : -ENOMEM;
out:
	rpart_free(&P);
	free(k);
	free(keys);
	free(roff);
	free(radj);
	free(stamp);
	return rc;
}

/* Step 2 on the forward quotient g. */
static int backward(const struct dfa_graph *g, struct dfa_graph *out,
		    uint64_t *work)
{
	struct rkey *keys = malloc((g->npos + 1) * sizeof(*keys));
	uint32_t *stamp = NULL, p;
	struct rpart P;
	int rc = -ENOMEM;

	memset(&P, 0, sizeof(P));
	if (!keys)
		goto out;
	for (p = 0; p < g->npos; p++) {
		keys[p].p = p;
		keys[p].k1 = 0;
		keys[p].k2 = g->set[p];
		if (g->set[p] == POS_ACCEPT) { /* stays itself */
			keys[p].k1 = 2;
			keys[p].k2 = p;
		}
	}
	for (p = 0; p < g->nstarts; p++)
		if (keys[g->starts[p]].k1 == 0)
			keys[g->starts[p]].k1 = 1;
	if ((rc = rpart_init(&P, keys, g->npos)) ||
	    (rc = refine(&P, g->fol_off, g->fol, work, REDUCE_BUDGET)))
		goto out;
	stamp = calloc(P.nb + 1, sizeof(*stamp));
	rc = stamp ? quotient(g, &P, stamp, out) : -ENOMEM;
out:
	rpart_free(&P);
	free(keys);
	free(stamp);
	return rc;
}

int dfa_reduce(const struct dfa_builder *b, struct dfa_graph *g,
	       uint64_t *work)
{
	struct dfa_graph fw, bw;
	int rc;

	memset(&fw, 0, sizeof(fw));
	memset(&bw, 0, sizeof(bw));
	memset(g, 0, sizeof(*g));
	g->npos = (uint32_t)b->pos_set.n;
	g->nstarts = (uint32_t)b->starts.n;
	g->set = b->pos_set.v;
	g->rule = b->pos_rule.v;
	g->fol_off = b->fol_off.v;
	g->fol = b->fol.v;
	g->starts = b->starts.v;
	/* Without classes, rules' end markers all differ and little merges:
	 * on 10,000 unrelated rules the reduction costs more than it saves,
	 * so such builders (link pairs, attachments) keep the plain path. */
	if (!g->npos || !b->nklass)
		return 0;
	rc = forward(b, g, &fw, work);
	if (rc) {
		dfa_graph_free(&fw);
		return rc == -E2BIG ? 0 : rc;
	}
	*g = fw;
	rc = backward(&fw, &bw, work);
	if (rc) {
		dfa_graph_free(&bw);
		return rc == -E2BIG ? 0 : rc;
	}
	dfa_graph_free(&fw);
	*g = bw;
	return 0;
}
