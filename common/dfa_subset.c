/* dfa_subset.c: the subset construction (Dragon book 3.9.5 over
 * followpos), from the builder's positions (reduced by dfa_reduce() when
 * rules have classes) to a raw DFA with sparse edges, then dfa_minimize().
 * Its steps are counted: past DFA_MAX_WORK it gives up with -E2BIG.
 *
 * Bytes are first split into equivalence classes (two bytes share a class
 * iff every leaf accepts both or neither), so a state has at most one
 * edge per class. A DFA state is a sorted set of positions, interned in a
 * hash set; its accept id comes from combine() on the rule ids of the
 * accept positions it holds, asked once per distinct rule set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfa_int.h"

/* LSD radix sort, 8 bits a pass, as many passes as the largest value
 * needs, for the large position and rule id sets. Sorted input (rule ids
 * usually are) returns at once. */
static void radix32(uint32_t *v, uint32_t *tmp, size_t n)
{
	size_t cnt[256], i, sh;
	uint32_t *src = v, *dst = tmp, *sw, max = 0;
	int sorted = 1;

	for (i = 0; i < n; i++) {
		if (v[i] > max)
			max = v[i];
		if (i && v[i] < v[i - 1])
			sorted = 0;
	}
	if (sorted)
		return;
	for (sh = 0; sh < 32 && (sh == 0 || max >> sh); sh += 8) {
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> sh) & 255]++;
		for (i = 1; i < 256; i++)
			cnt[i] += cnt[i - 1];
		for (i = n; i-- > 0;)
			dst[--cnt[(src[i] >> sh) & 255]] = src[i];
		sw = src;
		src = dst;
		dst = sw;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/* Insertion sort for short lists, radix sort (scratch tmp) otherwise. */
static void sort32(uint32_t *v, uint32_t *tmp, size_t n)
{
	size_t i, j;
	uint32_t x;

	if (n > 32) {
		radix32(v, tmp, n);
		return;
	}
	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* A hash set of uint32 lists stored back to back in `pool`: the DFA
 * states (position sets) and the combine() cache (rule id sets). */
struct listset {
	struct vec32 pool;
	struct vec32 off;   /* n + 1 */
	uint64_t *hash;     /* per list */
	size_t hashcap;
	uint32_t *ht;       /* list index + 1 */
	size_t htcap;
};

static void ls_free(struct listset *s)
{
	dfa_vfree(&s->pool);
	dfa_vfree(&s->off);
	free(s->hash);
	free(s->ht);
}

/* Finds list v[0..n) or appends it; *id is its index, *added whether new. */
static int ls_get(struct listset *s, const uint32_t *v, size_t n,
		  size_t maxpool, uint32_t *id, int *added)
{
	uint64_t h = dfa_hash32(v, n);
	size_t cnt = s->off.n ? s->off.n - 1 : 0, i, mask;

	if (!s->off.n && dfa_vpush(&s->off, 0))
		return -ENOMEM;
	if (cnt * 2 >= s->htcap) {
		size_t ncap = s->htcap ? s->htcap * 2 : 1024;
		uint32_t *ht = calloc(ncap, sizeof(*ht));

		if (!ht)
			return -ENOMEM;
		for (i = 0; i < cnt; i++) {
			size_t k = (size_t)s->hash[i];

			while (ht[k & (ncap - 1)])
				k++;
			ht[k & (ncap - 1)] = (uint32_t)i + 1;
		}
		free(s->ht);
		s->ht = ht;
		s->htcap = ncap;
	}
	mask = s->htcap - 1;
	for (i = (size_t)h;; i++) {
		uint32_t e = s->ht[i & mask];
		const uint32_t *w;

		if (!e)
			break;
		e--;
		w = s->pool.v + s->off.v[e];
		if (s->hash[e] == h && s->off.v[e + 1] - s->off.v[e] == n &&
		    !memcmp(w, v, n * sizeof(*v))) {
			*id = e;
			*added = 0;
			return 0;
		}
	}
	if (s->pool.n + n > maxpool)
		return -E2BIG;
	if (cnt == s->hashcap) {
		size_t ncap = s->hashcap ? s->hashcap * 2 : 1024;
		uint64_t *nh = realloc(s->hash, ncap * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		s->hash = nh;
		s->hashcap = ncap;
	}
	if (dfa_vreserve(&s->pool, s->pool.n + n) || dfa_vpush(&s->off, 0))
		return -ENOMEM;
	if (n)
		memcpy(s->pool.v + s->pool.n, v, n * sizeof(*v));
	s->pool.n += n;
	s->off.v[cnt + 1] = (uint32_t)s->pool.n;
	s->hash[cnt] = h;
	s->ht[i & mask] = (uint32_t)cnt + 1;
	*id = (uint32_t)cnt;
	*added = 1;
	return 0;
}

/* Scratch of the subset construction. */
struct subset {
	const struct dfa_builder *b;
	struct dfa_graph g;  /* the positions, reduced */
	uint64_t work;       /* steps so far, against DFA_MAX_WORK */
	uint32_t nclasses;
	uint32_t *set_coff;  /* per set id + 1: offsets into set_cls */
	uint8_t *set_cls;    /* class lists of each set */
	struct listset states;
	struct listset rules;
	struct vec32 rule_acc; /* accept id per rules list */
	uint32_t *stamp;     /* per position */
	uint32_t gen;
	struct vec32 src, tmp, tmp2, ids;
	dfa_combine_fn combine;
	void *ctx;
	struct dfa_raw raw;
	size_t ecap, nedges;
};

/* Byte classes: refine {all bytes} by every interned set, so two bytes
 * share a class iff every leaf accepts both or neither. */
static int make_classes(struct subset *S)
{
	const struct dfa_builder *b = S->b;
	uint16_t cls[256], map[256][2];
	uint32_t n = 1, i, c, k, tot = 0;

	memset(cls, 0, sizeof(cls));
	for (i = 0; i < b->nsets; i++) {
		uint32_t nn = 0;

		memset(map, 0xff, sizeof(map));
		for (c = 0; c < 256; c++) {
			int in = bset_has(&b->sets[i], c);

			if (map[cls[c]][in] == 0xffff)
				map[cls[c]][in] = (uint16_t)nn++;
			cls[c] = map[cls[c]][in];
		}
		n = nn;
	}
	S->nclasses = n;
	for (c = 0; c < 256; c++)
		S->raw.cls[c] = (uint8_t)cls[c];
	S->set_coff = calloc(b->nsets + 1, sizeof(*S->set_coff));
	S->set_cls = malloc((b->nsets ? b->nsets : 1) * 256);
	if (!S->set_coff || !S->set_cls)
		return -ENOMEM;
	for (i = 0; i < b->nsets; i++) {
		uint8_t seen[256];

		memset(seen, 0, sizeof(seen));
		for (c = 0; c < 256; c++) {
			k = cls[c];
			if (!seen[k] && bset_has(&b->sets[i], c))
				S->set_cls[tot++] = (uint8_t)k;
			seen[k] = 1;
		}
		S->set_coff[i + 1] = tot;
	}
	return 0;
}

/* The accept id of a state holding the accept positions' rules in ids. */
static int accept_of(struct subset *S, char *err, size_t errlen,
		     uint32_t *acc)
{
	uint32_t id, i, j;
	int added, rc;
	int64_t v;

	*acc = 0;
	if (!S->ids.n)
		return 0;
	sort32(S->ids.v, S->tmp2.v, S->ids.n);
	for (i = j = 1; i < S->ids.n; i++)
		if (S->ids.v[i] != S->ids.v[j - 1])
			S->ids.v[j++] = S->ids.v[i];
	S->ids.n = j;
	if ((rc = ls_get(&S->rules, S->ids.v, S->ids.n, DFA_MAX_POOL, &id,
			 &added))) {
		if (rc == -E2BIG)
			dfa_seterr(err, errlen, "too many distinct sets of "
			       "matching rules");
		return rc;
	}
	if (!added) {
		*acc = S->rule_acc.v[id];
		return 0;
	}
	v = S->combine(S->ctx, S->ids.v, S->ids.n);
	if (v < 0) {
		dfa_seterr(err, errlen, "combine() failed");
		return v < INT32_MIN ? -EINVAL : (int)v;
	}
	if (v > UINT32_MAX) {
		dfa_seterr(err, errlen, "combine() returned an accept id above "
		       "UINT32_MAX");
		return -ERANGE;
	}
	*acc = (uint32_t)v;
	return dfa_vpush(&S->rule_acc, *acc);
}

static int add_edge(struct subset *S, uint32_t cls, uint32_t to)
{
	struct dfa_raw *r = &S->raw;
	size_t n = S->nedges;

	if (n == S->ecap) {
		size_t ncap = S->ecap ? S->ecap * 2 : 4096;
		uint8_t *nc = realloc(r->ecls, ncap);
		uint32_t *nt;

		if (!nc)
			return -ENOMEM;
		r->ecls = nc;
		nt = realloc(r->eto, ncap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		r->eto = nt;
		S->ecap = ncap;
	}
	r->ecls[n] = (uint8_t)cls;
	r->eto[n] = to;
	S->nedges++;
	return 0;
}

/* Successors of state i: for each class, the union of followpos(p) over
 * the positions p of i whose set holds that class. */
static int expand(struct subset *S, uint32_t i, char *err, size_t errlen)
{
	const struct dfa_graph *g = &S->g;
	uint32_t cnt[257], touched[256], tscratch[256], nt = 0, k, c, id;
	const uint32_t *st;
	size_t m, j, q, stn;
	int added, rc;

	memset(cnt, 0, sizeof(cnt));
	S->ids.n = 0;
	stn = S->states.off.v[i];
	m = S->states.off.v[i + 1] - stn;
	st = S->states.pool.v + stn;
	for (j = 0; j < m; j++) {
		uint32_t sid = g->set[st[j]];

		if (sid == POS_ACCEPT) {
			if ((rc = dfa_vpush(&S->ids, g->rule[st[j]])))
				return rc;
			continue;
		}
		for (k = S->set_coff[sid]; k < S->set_coff[sid + 1]; k++)
			if (cnt[S->set_cls[k] + 1]++ == 0)
				touched[nt++] = S->set_cls[k];
	}
	if ((rc = accept_of(S, err, errlen, &S->raw.accept[i])))
		return rc;
	/* bucket the positions by class (counting sort) */
	for (c = 1; c <= S->nclasses; c++)
		cnt[c] += cnt[c - 1];
	if ((rc = dfa_vreserve(&S->src, cnt[S->nclasses])))
		return rc;
	st = S->states.pool.v + stn;
	for (j = 0; j < m; j++) {
		uint32_t sid = g->set[st[j]];

		if (sid == POS_ACCEPT)
			continue;
		for (k = S->set_coff[sid]; k < S->set_coff[sid + 1]; k++)
			S->src.v[cnt[S->set_cls[k]]++] = st[j];
	}
	/* cnt[c] is now the end of class c's bucket, cnt[c-1] its start */
	sort32(touched, tscratch, nt);
	for (k = 0; k < nt; k++) {
		c = touched[k];
		if (++S->gen == 0) {
			memset(S->stamp, 0, g->npos * sizeof(*S->stamp));
			S->gen = 1;
		}
		S->tmp.n = 0;
		/* tmp was reserved for every position: no bound checks */
		for (j = c ? cnt[c - 1] : 0; j < cnt[c]; j++) {
			uint32_t p = S->src.v[j];

			S->work += 1 + g->fol_off[p + 1] - g->fol_off[p];
			for (q = g->fol_off[p]; q < g->fol_off[p + 1]; q++) {
				uint32_t t = g->fol[q];

				if (S->stamp[t] != S->gen) {
					S->stamp[t] = S->gen;
					S->tmp.v[S->tmp.n++] = t;
				}
			}
		}
		if (S->work > DFA_MAX_WORK) {
			/* fail in seconds, not after minutes and gigabytes */
			snprintf(err, err ? errlen : 0, "automaton too complex: "
				 "gave up at %zu states, after the work limit "
				 "(%llu steps; patterns too ambiguous, e.g. many "
				 "'**' mixed with '*' or '?', with different "
				 "permissions)", (size_t)S->states.off.n - 1,
				 (unsigned long long)DFA_MAX_WORK);
			return -E2BIG;
		}
		if (!S->tmp.n)
			continue;
		S->work += S->tmp.n; /* sort, hash, compare, store */
		sort32(S->tmp.v, S->tmp2.v, S->tmp.n);
		rc = ls_get(&S->states, S->tmp.v, S->tmp.n, DFA_MAX_POOL, &id,
			    &added);
		if (rc == -E2BIG) {
			dfa_seterr(err, errlen, "automaton too large (position "
			       "sets of its states exceed the limit)");
			return rc;
		}
		if (rc)
			return rc;
		if (added && id + 2 > DFA_MAX_STATES) { /* + the dead state */
			snprintf(err, err ? errlen : 0, "automaton needs more "
				 "than %u states (patterns too ambiguous, e.g. "
				 "many '**' mixed with '*' or '?')",
				 DFA_MAX_STATES);
			return -E2BIG;
		}
		if ((rc = add_edge(S, c, id)))
			return rc;
	}
	return 0;
}

static void subset_free(struct subset *S)
{
	dfa_graph_free(&S->g);
	free(S->set_coff);
	free(S->set_cls);
	ls_free(&S->states);
	ls_free(&S->rules);
	dfa_vfree(&S->rule_acc);
	free(S->stamp);
	dfa_vfree(&S->src);
	dfa_vfree(&S->tmp);
	dfa_vfree(&S->tmp2);
	dfa_vfree(&S->ids);
	free(S->raw.eoff);
	free(S->raw.ecls);
	free(S->raw.eto);
	free(S->raw.accept);
}

int dfa_build(struct dfa_builder *b, dfa_combine_fn combine, void *ctx,
	      struct dfa **out, char *err, size_t errlen)
{
	struct subset S;
	size_t cap = 0, cnt;
	uint32_t id, i;
	int added, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!b || !combine || !out) {
		dfa_seterr(err, errlen, "invalid argument");
		return -EINVAL;
	}
	*out = NULL;
	memset(&S, 0, sizeof(S));
	S.b = b;
	S.combine = combine;
	S.ctx = ctx;
	S.raw.start = UINT32_MAX;
	if ((rc = make_classes(&S)))
		goto out;
	S.raw.nclasses = S.nclasses;
	if ((rc = dfa_reduce(b, &S.g, &S.work)))
		goto out;
	S.stamp = calloc(S.g.npos + 1, sizeof(*S.stamp));
	if (!S.stamp || dfa_vreserve(&S.tmp, S.g.npos + 1) ||
	    dfa_vreserve(&S.tmp2, S.g.npos + 1)) {
		rc = -ENOMEM;
		goto out;
	}
	if (S.g.nstarts) {
		memcpy(S.tmp.v, S.g.starts, S.g.nstarts * sizeof(*S.tmp.v));
		S.tmp.n = S.g.nstarts;
		sort32(S.tmp.v, S.tmp2.v, S.tmp.n);
		for (i = cnt = 1; i < S.tmp.n; i++)
			if (S.tmp.v[i] != S.tmp.v[cnt - 1])
				S.tmp.v[cnt++] = S.tmp.v[i];
		S.tmp.n = cnt;
		if ((rc = ls_get(&S.states, S.tmp.v, S.tmp.n, DFA_MAX_POOL,
				 &id, &added)))
			goto out;
		S.raw.start = 0;
	}
	/* states are numbered in discovery order; expand them in order.
	 * expand(i) writes accept[i] and the edges of i, then eoff[i + 1]. */
	for (i = 0; S.states.off.n && i < S.states.off.n - 1; i++) {
		if (i + 1 > cap) {
			void *ne, *na;

			cap = cap ? cap * 2 : 1024;
			ne = realloc(S.raw.eoff, (cap + 1) * sizeof(uint32_t));
			if (ne)
				S.raw.eoff = ne;
			na = realloc(S.raw.accept, cap * sizeof(uint32_t));
			if (na)
				S.raw.accept = na;
			if (!ne || !na) {
				rc = -ENOMEM;
				goto out;
			}
			S.raw.eoff[0] = 0;
		}
		if ((rc = expand(&S, i, err, errlen)))
			goto out;
		S.raw.eoff[i + 1] = (uint32_t)S.nedges;
	}
	S.raw.nstates = S.states.off.n ? (uint32_t)(S.states.off.n - 1) : 0;
	rc = dfa_minimize(&S.raw, out, err, errlen);
out:
	if (rc == -ENOMEM)
		dfa_seterr(err, errlen, "out of memory");
	subset_free(&S);
	return rc;
}
