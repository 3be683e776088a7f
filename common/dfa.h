/* dfa.h: AppArmor globs (AARE) compiled to one minimized DFA.
 *
 * A builder collects patterns, each tagged with a rule id. dfa_build() turns
 * them into a DFA over bytes whose accepting states carry an "accept id":
 * for every distinct set of rule ids that can match a string together, the
 * caller's combine() callback is asked once and returns the accept id (0 for
 * "no permissions"). Minimization then merges states with equal accept ids,
 * so equal permissions compile to equal automata whatever the rule order.
 *
 * Matching is a full-string match, O(length), independent of rule count.
 * Pure code: no I/O, no logging; errors are -errno plus a message.
 */
#ifndef CAPGATE_DFA_H
#define CAPGATE_DFA_H

#include <stddef.h>
#include <stdint.h>

struct dfa_builder;
struct dfa;

/* Limits on user-controlled sizes. */
#define DFA_MAX_PATTERN 8192    /* bytes of one pattern */
#define DFA_MAX_STATES (1u << 20)
#define DFA_MAX_WORK (1ull << 29) /* steps of dfa_build: 1-3 s */

struct dfa_builder *dfa_builder_new(void);
void dfa_builder_free(struct dfa_builder *b);

/* Add an AARE pattern (variables already expanded), AppArmor semantics:
 *   *    any run of characters except '/', ** any run including '/';
 *        after a '/', * and ** need at least one character, and that first
 *        character is not '/' (so "/a/" + "*" does not match /a/, nor "/a/" + "**"
 *        match /a/ itself), as upstream's parse_regex does;
 *   ?    one character except '/';
 *   [abc] [^abc] [a-z]  character classes;
 *   {a,b,{c,d}}  alternation, nested, empty alternatives allowed;
 *   \x   escape: x literally (\\ \* \{ ...), \NNN octal, \xHH hex, \dNNN dec;
 * a trailing '/' is literal (it names a directory). Returns 0, or -EINVAL
 * with a message in err (size errlen) and *col set to the 0-based offset of
 * the problem. */
int dfa_add(struct dfa_builder *b, const char *aare, size_t len,
	    uint32_t rule_id, char *err, size_t errlen, size_t *col);

/* Add the pair pattern `a` NUL `b` (a link rule: newpath, NUL, target). */
int dfa_add_pair(struct dfa_builder *b, const char *a, size_t alen,
		 const char *c, size_t clen, uint32_t rule_id, char *err,
		 size_t errlen, size_t *col);

/* Optional: put rule_id in class klass (for every pattern of that rule,
 * added before or after this call; the last call for a rule wins). Rules
 * in one class must be interchangeable for combine(): for any set of ids,
 * adding or removing a rule whose class is already represented in the set
 * must not change the result (e.g. klass is a hash of the rule's complete
 * payload, and combine() merges payloads idempotently). dfa_build() then
 * treats positions of such rules as one (two "/x/" "**" rules' trailing
 * '**' become one loop), which keeps many-'**' profiles from exploding,
 * and passes combine() only the smallest rule id of each class present.
 * A rule without a class is its own class (dfa_add alone behaves as if
 * this function did not exist), so a failed call (-EINVAL, -ENOMEM) costs
 * speed, never correctness. Returns 0 or -errno. */
int dfa_set_class(struct dfa_builder *b, uint32_t rule_id, uint64_t klass);

/* combine(ctx, ids, n): the accept id for this set of matching rule ids
 * (sorted, no duplicates, n >= 1; with classes, one id per class: the
 * class's smallest); < 0 aborts the build with that error. */
typedef int64_t (*dfa_combine_fn)(void *ctx, const uint32_t *ids, size_t n);

/* Build the minimized DFA. The builder may be freed afterwards.
 * Bounded: an automaton over DFA_MAX_STATES states, or a subset
 * construction doing more than DFA_MAX_WORK steps (a few seconds), fails
 * with -E2BIG and a message, long before memory runs out. */
int dfa_build(struct dfa_builder *b, dfa_combine_fn combine, void *ctx,
	      struct dfa **out, char *err, size_t errlen);

/* Accept id for the whole string (0: no match / no permissions). */
uint32_t dfa_match(const struct dfa *d, const char *s, size_t len);

/* Walk: state after the bytes, for pair matching and prefix checks.
 * DFA_DEAD means no string with this prefix can match. */
#define DFA_DEAD UINT32_MAX
uint32_t dfa_start(const struct dfa *d);
uint32_t dfa_step(const struct dfa *d, uint32_t state, const char *s,
		  size_t len);
uint32_t dfa_accept(const struct dfa *d, uint32_t state);
/* Is the accept id the same after every continuation of the walk at
 * `state`: every string of bytes 1-255 with no "//" in it (nor a leading
 * '/' when after_slash, the walk having ended in one)? 1 yes, 0 no,
 * -ENOMEM. O(states * classes). For a directory walked with its trailing
 * '/', yes means every path below it gets the directory's verdict. */
int dfa_uniform(const struct dfa *d, uint32_t state, int after_slash);

size_t dfa_states(const struct dfa *d);

/* Serialization for the policy cache: a flat little-endian blob.
 * dfa_load() validates every index (a corrupt cache is rejected with
 * -EBADMSG, never trusted). */
int dfa_save(const struct dfa *d, uint8_t **buf, size_t *len);
int dfa_load(const uint8_t *buf, size_t len, struct dfa **out);

void dfa_free(struct dfa *d);

#endif
