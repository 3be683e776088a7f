/* dfa.c: AARE patterns -> Glushkov position automaton -> DFA.
 *
 * Each dfa_add() parses one pattern (aare.c) and turns its tree into
 * positions (one per byte-set leaf) with followpos sets, the Aho-Sethi-
 * Ullman construction (Dragon book 3.9): the pattern is concatenated with
 * an end marker, an "accept position" carrying the rule id. All patterns
 * share one position space; the start set is the union of their firstpos.
 *
 * dfa_build() (dfa_subset.c) reduces the positions (dfa_reduce.c), then
 * turns them into a DFA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfa_int.h"

/* The positions a subtree starts and ends with. */
struct gres {
	int nullable;
	struct vec32 first, last;
};

int dfa_vpush(struct vec32 *v, uint32_t x)
{
	uint32_t *nv;
	size_t ncap;

	if (v->n == v->cap) {
		ncap = v->cap ? v->cap * 2 : 16;
		nv = realloc(v->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = x;
	return 0;
}

int dfa_vreserve(struct vec32 *v, size_t need)
{
	uint32_t *nv;
	size_t ncap = v->cap ? v->cap : 16;

	if (need <= v->cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(v->v, ncap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	v->v = nv;
	v->cap = ncap;
	return 0;
}

int dfa_vappend(struct vec32 *v, const struct vec32 *w)
{
	if (dfa_vreserve(v, v->n + w->n))
		return -ENOMEM;
	if (w->n)
		memcpy(v->v + v->n, w->v, w->n * sizeof(*w->v));
	v->n += w->n;
	return 0;
}

void dfa_vfree(struct vec32 *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h = (h ^ x) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

uint64_t dfa_hash32(const uint32_t *v, size_t n)
{
	uint64_t h = n;

	while (n--)
		h = mix(h, *v++);
	return h;
}

void dfa_seterr(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

struct dfa_builder *dfa_builder_new(void)
{
	struct dfa_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	aare_tree_init(&b->tree);
	if (dfa_vpush(&b->fol_off, 0)) {
		free(b);
		return NULL;
	}
	return b;
}

void dfa_builder_free(struct dfa_builder *b)
{
	if (!b)
		return;
	aare_tree_fini(&b->tree);
	dfa_vfree(&b->pos_set);
	dfa_vfree(&b->pos_rule);
	dfa_vfree(&b->fol_off);
	dfa_vfree(&b->fol);
	dfa_vfree(&b->starts);
	dfa_vfree(&b->edges);
	free(b->sets);
	free(b->set_ht);
	free(b->klass);
	free(b);
}

/* Recorded as given; dfa_reduce() sorts them out (last call wins). */
int dfa_set_class(struct dfa_builder *b, uint32_t rule_id, uint64_t klass)
{
	if (!b)
		return -EINVAL;
	if (b->nklass == b->klasscap) {
		size_t ncap = b->klasscap ? b->klasscap * 2 : 64;
		struct dfa_klass *nk;

		if (ncap > UINT32_MAX)
			return -E2BIG;
		nk = realloc(b->klass, ncap * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		b->klass = nk;
		b->klasscap = ncap;
	}
	b->klass[b->nklass].klass = klass;
	b->klass[b->nklass].rule = rule_id;
	b->klass[b->nklass].seq = (uint32_t)b->nklass;
	b->nklass++;
	return 0;
}

/* Interns a byte set: equal leaves share one id (and one class list). */
static int set_intern(struct dfa_builder *b, const struct aare_bset *s,
		      uint32_t *id)
{
	size_t i, mask;
	uint32_t *ht;
	void *ns;

	if (b->nsets * 2 >= b->set_htcap) {
		size_t ncap = b->set_htcap ? b->set_htcap * 2 : 64;

		ht = calloc(ncap, sizeof(*ht));
		if (!ht)
			return -ENOMEM;
		for (i = 0; i < b->nsets; i++) {
			size_t h = dfa_hash32((const uint32_t *)&b->sets[i], 8);

			while (ht[h & (ncap - 1)])
				h++;
			ht[h & (ncap - 1)] = (uint32_t)i + 1;
		}
		free(b->set_ht);
		b->set_ht = ht;
		b->set_htcap = ncap;
	}
	mask = b->set_htcap - 1;
	for (i = dfa_hash32((const uint32_t *)s, 8);; i++) {
		uint32_t e = b->set_ht[i & mask];

		if (!e)
			break;
		if (!memcmp(&b->sets[e - 1], s, sizeof(*s))) {
			*id = e - 1;
			return 0;
		}
	}
	if (b->nsets == b->setcap) {
		size_t ncap = b->setcap ? b->setcap * 2 : 64;

		ns = realloc(b->sets, ncap * sizeof(*b->sets));
		if (!ns)
			return -ENOMEM;
		b->sets = ns;
		b->setcap = ncap;
	}
	b->sets[b->nsets] = *s;
	b->set_ht[i & mask] = (uint32_t)b->nsets + 1;
	*id = (uint32_t)b->nsets++;
	return 0;
}

static int new_pos(struct dfa_builder *b, uint32_t set, uint32_t rule,
		   uint32_t *p)
{
	if (b->pos_set.n >= DFA_MAX_POS)
		return -E2BIG;
	*p = (uint32_t)b->pos_set.n;
	if (dfa_vpush(&b->pos_set, set) || dfa_vpush(&b->pos_rule, rule))
		return -ENOMEM;
	return 0;
}

/* followpos(p) gains every q in `to`, for every p in `from`. */
static int link_all(struct dfa_builder *b, const struct vec32 *from,
		    const struct vec32 *to)
{
	size_t i, j;

	if (!from->n || !to->n)
		return 0;
	if (b->fol.n + b->edges.n / 2 + from->n * to->n > DFA_MAX_FOLLOW)
		return -E2BIG;
	if (dfa_vreserve(&b->edges, b->edges.n + 2 * from->n * to->n))
		return -ENOMEM;
	for (i = 0; i < from->n; i++)
		for (j = 0; j < to->n; j++) {
			b->edges.v[b->edges.n++] = from->v[i];
			b->edges.v[b->edges.n++] = to->v[j];
		}
	return 0;
}

static void gfree(struct gres *g)
{
	dfa_vfree(&g->first);
	dfa_vfree(&g->last);
}

/* nullable, firstpos, lastpos of a subtree; followpos edges as a side
 * effect (Dragon book rules for cat and star). Recursion depth is bounded
 * by the brace nesting limit. */
static int glu(struct dfa_builder *b, uint32_t node, struct gres *r)
{
	const struct aare_node nd = b->tree.nodes[node];
	struct gres *k = NULL;
	uint32_t i, j, p, sid;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	switch (nd.op) {
	case AARE_EMPTY:
		r->nullable = 1;
		return 0;
	case AARE_SET:
		if ((rc = set_intern(b, &b->tree.sets[nd.a], &sid)) ||
		    (rc = new_pos(b, sid, 0, &p)) ||
		    (rc = dfa_vpush(&r->first, p)) || (rc = dfa_vpush(&r->last, p)))
			return rc;
		return 0;
	case AARE_STAR:
		if ((rc = glu(b, nd.a, r)))
			return rc;
		r->nullable = 1;
		return link_all(b, &r->last, &r->first);
	case AARE_ALT:
	case AARE_CAT:
		break;
	default:
		return -EINVAL;
	}
	k = calloc(nd.n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (i = 0; i < nd.n && !rc; i++)
		rc = glu(b, b->tree.kids[nd.a + i], &k[i]);
	if (rc)
		goto out;
	if (nd.op == AARE_ALT) {
		for (i = 0; i < nd.n && !rc; i++) {
			r->nullable |= k[i].nullable;
			if (!(rc = dfa_vappend(&r->first, &k[i].first)))
				rc = dfa_vappend(&r->last, &k[i].last);
		}
		goto out;
	}
	r->nullable = 1;
	for (i = 0; i < nd.n; i++)
		r->nullable &= k[i].nullable;
	for (i = 0; i + 1 < nd.n && !rc; i++)
		for (j = i + 1; j < nd.n && !rc; j++) {
			rc = link_all(b, &k[i].last, &k[j].first);
			if (!k[j].nullable)
				break;
		}
	for (i = 0; i < nd.n && !rc; i++) {
		rc = dfa_vappend(&r->first, &k[i].first);
		if (!k[i].nullable)
			break;
	}
	for (i = nd.n; i-- > 0 && !rc;) {
		rc = dfa_vappend(&r->last, &k[i].last);
		if (!k[i].nullable)
			break;
	}
out:
	for (i = 0; i < nd.n; i++)
		gfree(&k[i]);
	free(k);
	return rc;
}

/* Turns tree root (plus an end marker for rule_id) into positions. */
static int add_tree(struct dfa_builder *b, uint32_t root, uint32_t rule_id,
		    char *err, size_t errlen)
{
	size_t base = b->pos_set.n, nfol = b->fol.n, nstarts = b->starts.n;
	size_t i, np;
	struct vec32 acc = { 0, 0, 0 };
	struct gres g;
	uint32_t a;
	int rc;

	b->edges.n = 0;
	rc = glu(b, root, &g);
	if (!rc && !(rc = new_pos(b, POS_ACCEPT, rule_id, &a)) &&
	    !(rc = dfa_vpush(&acc, a)) && !(rc = link_all(b, &g.last, &acc)) &&
	    !(rc = dfa_vappend(&b->starts, &g.first)) && g.nullable)
		rc = dfa_vpush(&b->starts, a);
	dfa_vfree(&acc);
	gfree(&g);
	np = b->pos_set.n - base;
	/* followpos into CSR: count per source, prefix sums, scatter */
	if (!rc && !(rc = dfa_vreserve(&b->fol_off, b->fol_off.n + np)) &&
	    !(rc = dfa_vreserve(&b->fol, nfol + b->edges.n / 2))) {
		uint32_t *off = b->fol_off.v + base; /* off[0] is set */

		for (i = 1; i <= np; i++)
			off[i] = 0;
		for (i = 0; i < b->edges.n; i += 2)
			off[b->edges.v[i] - base + 1]++;
		for (i = 1; i <= np; i++)
			off[i] += off[i - 1];
		for (i = 0; i < b->edges.n; i += 2)
			b->fol.v[off[b->edges.v[i] - base]++] =
				b->edges.v[i + 1];
		for (i = np; i > 0; i--)
			off[i] = off[i - 1];
		off[0] = (uint32_t)nfol;
		b->fol_off.n += np;
		b->fol.n = nfol + b->edges.n / 2;
	}
	b->edges.n = 0;
	if (b->edges.cap > (1u << 20)) /* do not keep a huge scratch */
		dfa_vfree(&b->edges);
	if (rc) { /* roll back this pattern */
		b->pos_set.n = b->pos_rule.n = base;
		b->fol_off.n = base + 1;
		b->fol.n = nfol;
		b->starts.n = nstarts;
		/* sets interned meanwhile stay: harmless */
		dfa_seterr(err, errlen, rc == -E2BIG ?
		       "pattern too complex, or all patterns together too "
		       "large (position or followpos limit)" :
		       "out of memory");
	}
	return rc;
}

int dfa_add(struct dfa_builder *b, const char *aare, size_t len,
	    uint32_t rule_id, char *err, size_t errlen, size_t *col)
{
	uint32_t root;
	int rc;

	if (col)
		*col = 0;
	if (!b || (!aare && len)) {
		dfa_seterr(err, errlen, "invalid argument");
		return -EINVAL;
	}
	aare_tree_reset(&b->tree);
	rc = aare_parse(&b->tree, aare ? aare : "", len, &root, err, errlen,
			col);
	if (rc == -ENOMEM)
		dfa_seterr(err, errlen, "out of memory");
	if (rc)
		return rc;
	return add_tree(b, root, rule_id, err, errlen);
}

/* `a` NUL `c`. On a syntax error in c, *col counts from the start of a,
 * as if the pair were one string (alen + 1 + offset in c). */
int dfa_add_pair(struct dfa_builder *b, const char *a, size_t alen,
		 const char *c, size_t clen, uint32_t rule_id, char *err,
		 size_t errlen, size_t *col)
{
	struct aare_bset nul = { { 1, 0, 0, 0 } };
	uint32_t kids[3];
	int rc;

	if (col)
		*col = 0;
	if (!b || (!a && alen) || (!c && clen)) {
		dfa_seterr(err, errlen, "invalid argument");
		return -EINVAL;
	}
	aare_tree_reset(&b->tree);
	rc = aare_parse(&b->tree, a ? a : "", alen, &kids[0], err, errlen,
			col);
	if (!rc) {
		rc = aare_parse(&b->tree, c ? c : "", clen, &kids[2], err,
				errlen, col);
		if (rc == -EINVAL && col)
			*col += alen + 1;
	}
	if (!rc && !(rc = aare_set_add(&b->tree, &nul, &kids[1])))
		rc = aare_node_add(&b->tree, AARE_CAT, 0, kids, 3, &kids[0]);
	if (rc == -ENOMEM)
		dfa_seterr(err, errlen, "out of memory");
	if (rc)
		return rc;
	return add_tree(b, kids[0], rule_id, err, errlen);
}
