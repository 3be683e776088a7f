/* dfa_int.h: private pieces of aare.c, dfa.c, dfa_reduce.c, dfa_subset.c,
 * dfa_min.c, dfa_run.c.
 *
 * Pipeline: AARE text -> syntax tree (aare.c) -> Glushkov positions with
 * followpos sets (dfa.c) -> positions merged by bisimulation, rule classes
 * collapsed (dfa_reduce.c) -> subset construction into a "raw" DFA with
 * sparse edges (dfa_subset.c) -> Hopcroft minimization on accept ids and a
 * canonical dense table (dfa_min.c) -> match/walk/save/load (dfa_run.c).
 */
#ifndef CAPGATE_DFA_INT_H
#define CAPGATE_DFA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dfa.h"

/* A set of bytes. */
struct aare_bset {
	uint64_t w[4];
};

static inline void bset_add(struct aare_bset *s, unsigned c)
{
	s->w[c >> 6] |= 1ull << (c & 63);
}

static inline int bset_has(const struct aare_bset *s, unsigned c)
{
	return (s->w[c >> 6] >> (c & 63)) & 1;
}

/* Syntax tree of one pattern. Leaves are byte sets (a literal is a set of
 * one byte); inner nodes are n-ary concatenation and alternation, and star. */
enum aare_op {
	AARE_EMPTY, /* matches the empty string */
	AARE_SET,   /* one byte out of sets[a] */
	AARE_CAT,   /* kids[a .. a+n) in sequence */
	AARE_ALT,   /* one of kids[a .. a+n) */
	AARE_STAR,  /* node a, zero or more times */
	AARE_OP_MAX
};

struct aare_node {
	uint32_t op; /* enum aare_op */
	uint32_t a, n;
};

/* An arena of nodes for one dfa_add() call; reset between calls. */
struct aare_tree {
	struct aare_node *nodes;
	size_t nnodes, nodecap;
	uint32_t *kids;
	size_t nkids, kidcap;
	struct aare_bset *sets;
	size_t nsets, setcap;
	uint32_t *stack; /* parser scratch: children being collected */
	size_t nstack, stackcap;
};

void aare_tree_init(struct aare_tree *t);
void aare_tree_reset(struct aare_tree *t);
void aare_tree_fini(struct aare_tree *t);

/* Appends a node; for CAT/ALT, kids[0..n) are copied. 0 or -ENOMEM. */
int aare_node_add(struct aare_tree *t, enum aare_op op, uint32_t a,
		  const uint32_t *kids, uint32_t n, uint32_t *out);
int aare_set_add(struct aare_tree *t, const struct aare_bset *set,
		 uint32_t *out);

/* Parses one AARE pattern into t; *root is its node. On -EINVAL, err holds
 * the message and *col the 0-based offset of the problem. */
int aare_parse(struct aare_tree *t, const char *s, size_t len,
	       uint32_t *root, char *err, size_t errlen, size_t *col);

/* ---- builder internals (dfa.c), used by dfa_subset.c ---- */

/* Limits beyond DFA_MAX_STATES: positions and followpos entries over all
 * patterns, position entries over all DFA states during the subset
 * construction. Debian's largest profiles use about 25k, 26k and 75k; the
 * limits keep a hostile profile under a few hundred MB. */
#define DFA_MAX_POS (1u << 21)
#define DFA_MAX_FOLLOW (1u << 23)
#define DFA_MAX_POOL (1u << 25)
#define POS_ACCEPT UINT32_MAX

struct vec32 {
	uint32_t *v;
	size_t n, cap;
};

struct dfa_builder {
	struct aare_tree tree;
	struct vec32 pos_set;  /* per position: set id, or POS_ACCEPT */
	struct vec32 pos_rule; /* per position: rule id (accept positions) */
	struct vec32 fol_off;  /* per position + 1: offsets into fol */
	struct vec32 fol;
	struct vec32 starts;   /* firstpos of every pattern */
	struct aare_bset *sets; /* distinct byte sets of all leaves */
	size_t nsets, setcap;
	uint32_t *set_ht;      /* open addressing: set id + 1, 0 = empty */
	size_t set_htcap;
	struct vec32 edges;    /* scratch of one dfa_add: (from, to) pairs */
	struct dfa_klass *klass; /* dfa_set_class() calls, in call order */
	size_t nklass, klasscap;
};

struct dfa_klass {
	uint64_t klass;
	uint32_t rule, seq;
};

/* A position graph, what the subset construction reads: the builder's
 * own (arrays borrowed) or a reduced copy (arrays owned). set[p] is a
 * set id or POS_ACCEPT; rule[p] the rule id of an accept position;
 * followpos(p) is fol[fol_off[p] .. fol_off[p + 1]). */
struct dfa_graph {
	uint32_t npos, nstarts;
	uint32_t *set, *rule, *fol_off, *fol, *starts;
	int owned;
};

void dfa_graph_free(struct dfa_graph *g);

/* The builder's graph reduced by bisimulation (dfa_reduce.c): positions
 * with the same future (same byte set, followers in the same classes;
 * accept positions: same rule class) merge, then positions with the same
 * past (same byte set, predecessors in the same classes) merge. Matches
 * are unchanged; accept positions of one class carry its smallest rule
 * id. *work counts steps, against DFA_MAX_WORK; if no rule has a class,
 * or the reduction would take too long, g is the builder's graph,
 * unreduced. 0 or -ENOMEM. */
int dfa_reduce(const struct dfa_builder *b, struct dfa_graph *g,
	       uint64_t *work);

int dfa_vpush(struct vec32 *v, uint32_t x);
int dfa_vreserve(struct vec32 *v, size_t need);
int dfa_vappend(struct vec32 *v, const struct vec32 *w);
void dfa_vfree(struct vec32 *v);
uint64_t dfa_hash32(const uint32_t *v, size_t n);
void dfa_seterr(char *err, size_t errlen, const char *msg);

/* Output of the subset construction: a DFA with sparse edges (missing
 * edges go to an implicit dead state). */
struct dfa_raw {
	uint32_t nstates, nclasses;
	uint32_t start;  /* UINT32_MAX: the language is empty */
	uint8_t cls[256];  /* byte -> class */
	uint32_t *eoff;  /* nstates + 1 offsets into ecls/eto */
	uint8_t *ecls;   /* edge class (nclasses <= 256) */
	uint32_t *eto;   /* edge target */
	uint32_t *accept; /* accept id per state */
};

/* Cells (states x classes) of a compiled table: 256 MiB. */
#define DFA_MAX_CELLS (1u << 26)

/* The compiled automaton. State 0 is the dead state (accept 0, all edges
 * to itself). trans is premultiplied: trans[s * nclasses + c] holds
 * target * nclasses, so matching needs no multiply per byte. */
struct dfa {
	uint32_t nstates, nclasses;
	uint32_t start; /* a state id; 0 when nothing can match */
	uint8_t cls[256];
	uint32_t *trans;
	uint32_t *accept;
};

/* Minimizes r (Hopcroft, partial transition function) into a canonical
 * dense DFA: equal languages with equal accept ids give identical tables. */
int dfa_minimize(const struct dfa_raw *r, struct dfa **out, char *err,
		 size_t errlen);

#endif
