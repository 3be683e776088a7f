/* aare.c: AppArmor glob (AARE) text -> regex syntax tree.
 *
 * Follows upstream's convert_aaregex_to_pcre() (parser/parser_regex.c),
 * which rewrites an AARE into a PCRE-like regex that libapparmor_re's
 * parse.y then reads, with file rules using glob_default (no wildcard
 * matches NUL). We build the tree directly instead of going through text.
 *
 *   *      [^/\0]*   (any run inside one path component)
 *   **     [^\0]*    (any run, '/' included); a third '*' is a new '*'
 *   ?      [^/\0]
 *   '/' then a run of '*' that is followed by '/' or by the end of the
 *          pattern: one [^/\0] is required first, so "/a/" plus "*" or
 *          "**" does not match /a/, and a '*' between two slashes needs one
 *          byte. Upstream tests the last byte it emitted, so this only
 *          applies right after a literal '/' (or "\/"): not after '{' or
 *          ',' ({*,x} is plain) and not when the run is followed by
 *          anything else ("/a/" "*b" matches /a/b).
 *   [..]   class; [^..] negated (may match '/', as upstream's
 *          NotCharSetNode does, but never NUL); a-z ranges, a reversed
 *          range is swapped (parse.y's insert_char_range); '-' first or
 *          last is literal; ']' always closes (convert_aaregex ends the
 *          class there), so [] and [^] are errors; '{' '}' ',' '*' '?' '['
 *          are literal inside (upstream leaves braces and commas alone
 *          there; its output for '*'/'?' inside a class is garbage, we
 *          take them literally).
 *   {a,b}  alternation, nested up to 49 deep (MAX_ALT_DEPTH 50, error at
 *          depth >= 50); empty alternatives allowed ({,x}); a group
 *          without ',' is an error ("Invalid number of items between {}").
 *   \      escapes as lib.c's strn_escseq: \NNN octal (up to 3 digits, at
 *          most 255), \xHH hex (1-2 digits), \dNNN decimal (1-3, <= 255),
 *          \a \e \f \n \r \t; any other \c is c itself (upstream warns
 *          "quoted unnecessarily" and keeps c). Differences, on purpose:
 *          \x, \d without digits are errors (upstream keeps the letter),
 *          an escape inside a class is always literal ([a\-z] is three
 *          bytes), and an escape giving NUL is an error (paths never
 *          contain NUL; dfa_add_pair uses it as the separator).
 *   ']' or '}' without an opener, an unclosed '[' or '{', a trailing '\'
 *          are errors, as upstream. Anything else is a literal byte
 *          (upstream escapes . + | ( ) ^ $ for PCRE; they are literal).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfa_int.h"

#define AARE_MAX_DEPTH 49 /* upstream: ingrouping >= MAX_ALT_DEPTH (50) */

struct aare_parser {
	struct aare_tree *t;
	const unsigned char *s;
	size_t len, i;
	char *err;
	size_t errlen;
	size_t *col;
	int prev_slash; /* the last item was a literal '/' (or "\/") */
	struct aare_bset notslash, notnul;
};

void aare_tree_init(struct aare_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void aare_tree_reset(struct aare_tree *t)
{
	t->nnodes = t->nkids = t->nsets = t->nstack = 0;
}

void aare_tree_fini(struct aare_tree *t)
{
	free(t->nodes);
	free(t->kids);
	free(t->sets);
	free(t->stack);
	aare_tree_init(t);
}

/* Grows *p (of elements of size sz) to hold at least need elements. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * sz);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int aare_node_add(struct aare_tree *t, enum aare_op op, uint32_t a,
		  const uint32_t *kids, uint32_t n, uint32_t *out)
{
	struct aare_node *nd;

	if (grow((void **)&t->nodes, &t->nodecap, t->nnodes + 1,
		 sizeof(*t->nodes)))
		return -ENOMEM;
	if (op == AARE_CAT || op == AARE_ALT) {
		if (grow((void **)&t->kids, &t->kidcap, t->nkids + n,
			 sizeof(*t->kids)))
			return -ENOMEM;
		memcpy(t->kids + t->nkids, kids, n * sizeof(*kids));
		a = (uint32_t)t->nkids;
		t->nkids += n;
	}
	nd = &t->nodes[t->nnodes];
	nd->op = op;
	nd->a = a;
	nd->n = n;
	*out = (uint32_t)t->nnodes++;
	return 0;
}

int aare_set_add(struct aare_tree *t, const struct aare_bset *set,
		 uint32_t *out)
{
	if (grow((void **)&t->sets, &t->setcap, t->nsets + 1,
		 sizeof(*t->sets)))
		return -ENOMEM;
	t->sets[t->nsets] = *set;
	return aare_node_add(t, AARE_SET, (uint32_t)t->nsets++, NULL, 0, out);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct aare_parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	if (p->col)
		*p->col = at;
	return -EINVAL;
}

static int push(struct aare_parser *p, uint32_t node)
{
	struct aare_tree *t = p->t;

	if (grow((void **)&t->stack, &t->stackcap, t->nstack + 1,
		 sizeof(*t->stack)))
		return -ENOMEM;
	t->stack[t->nstack++] = node;
	return 0;
}

/* Replaces stack[base..] by one node of type op (CAT or ALT). */
static int reduce(struct aare_parser *p, size_t base, enum aare_op op,
		  uint32_t *out)
{
	struct aare_tree *t = p->t;
	uint32_t n = (uint32_t)(t->nstack - base);
	int r;

	if (n == 0)
		r = aare_node_add(t, AARE_EMPTY, 0, NULL, 0, out);
	else if (n == 1) {
		*out = t->stack[base];
		r = 0;
	} else
		r = aare_node_add(t, op, 0, t->stack + base, n, out);
	t->nstack = base;
	return r;
}

static int push_set(struct aare_parser *p, const struct aare_bset *set)
{
	uint32_t n;
	int r = aare_set_add(p->t, set, &n);

	return r ? r : push(p, n);
}

static int push_byte(struct aare_parser *p, unsigned c)
{
	struct aare_bset set = { { 0, 0, 0, 0 } };

	bset_add(&set, c);
	return push_set(p, &set);
}

static int digit(int c, int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < base ? v : -1;
}

/* Like upstream's strntol(): up to maxn digits, stopping before a digit
 * that would make the value exceed 255. Returns the digit count. */
static int number(struct aare_parser *p, int base, int maxn, unsigned *v)
{
	int n = 0, d;

	*v = 0;
	while (n < maxn && p->i < p->len &&
	       (d = digit(p->s[p->i], base)) >= 0 &&
	       *v * (unsigned)base + (unsigned)d <= 255) {
		*v = *v * (unsigned)base + (unsigned)d;
		p->i++;
		n++;
	}
	return n;
}

/* Decodes the escape at s[i] == '\\' into *v; *slash is set when it was
 * "\/" (which upstream emits as a plain '/'). */
static int escape(struct aare_parser *p, unsigned *v, int *slash)
{
	size_t at = p->i++;
	int c;

	*slash = 0;
	if (p->i >= p->len)
		return fail(p, at, "trailing '\\' escape character");
	c = p->s[p->i];
	if (c >= '0' && c <= '7') {
		number(p, 8, 3, v);
	} else if (c == 'x' || c == 'd') {
		p->i++;
		if (number(p, c == 'x' ? 16 : 10, c == 'x' ? 2 : 3, v) == 0)
			return fail(p, at, c == 'x' ?
				    "'\\x' needs 1 or 2 hex digits" :
				    "'\\d' needs 1 to 3 decimal digits (<= 255)");
	} else {
		p->i++;
		switch (c) {
		case 'a': *v = '\a'; break;
		case 'e': *v = 033; break;
		case 'f': *v = '\f'; break;
		case 'n': *v = '\n'; break;
		case 'r': *v = '\r'; break;
		case 't': *v = '\t'; break;
		default: *v = (unsigned)c; *slash = c == '/'; break;
		}
	}
	/* An escape giving NUL is accepted, as upstream does: no path
	 * contains NUL, so the pattern simply never matches there. */
	(void)at;
	return 0;
}

/* One member of a class: a byte or an escape. */
static int class_char(struct aare_parser *p, unsigned *v)
{
	int slash;

	if (p->s[p->i] == '\\')
		return escape(p, v, &slash);
	*v = p->s[p->i++];
	return 0;
}

static int parse_class(struct aare_parser *p)
{
	size_t at = p->i++;
	struct aare_bset set = { { 0, 0, 0, 0 } };
	unsigned lo, hi, c, n = 0;
	int neg = 0, r, k;

	if (p->i < p->len && p->s[p->i] == '^') {
		neg = 1;
		p->i++;
	}
	for (;;) {
		if (p->i >= p->len)
			return fail(p, at, "unclosed character class: "
				    "'[' without ']'");
		if (p->s[p->i] == ']') {
			if (n == 0)
				return fail(p, at, "empty character class");
			p->i++;
			break;
		}
		if ((r = class_char(p, &lo)))
			return r;
		hi = lo;
		if (p->i + 1 < p->len && p->s[p->i] == '-' &&
		    p->s[p->i + 1] != ']') {
			p->i++;
			if ((r = class_char(p, &hi)))
				return r;
			if (hi < lo) { /* parse.y swaps a reversed range */
				c = lo;
				lo = hi;
				hi = c;
			}
		}
		for (c = lo; c <= hi; c++)
			bset_add(&set, c);
		n++;
	}
	if (neg)
		for (k = 0; k < 4; k++)
			set.w[k] = ~set.w[k];
	set.w[0] &= ~1ull; /* never NUL */
	return push_set(p, &set);
}

/* '*' or '**' at s[i]; see the header comment for the rule after '/'. */
static int parse_star(struct aare_parser *p)
{
	size_t j = p->i;
	int dbl = p->i + 1 < p->len && p->s[p->i + 1] == '*';
	uint32_t leaf, star;
	int r;

	while (j < p->len && p->s[j] == '*')
		j++;
	if (p->prev_slash && (j == p->len || p->s[j] == '/'))
		if ((r = push_set(p, &p->notslash)))
			return r;
	if ((r = aare_set_add(p->t, dbl ? &p->notnul : &p->notslash, &leaf)))
		return r;
	if ((r = aare_node_add(p->t, AARE_STAR, leaf, NULL, 0, &star)))
		return r;
	p->i += dbl ? 2 : 1;
	return push(p, star);
}

static int parse_seq(struct aare_parser *p, int depth, int in_group,
		     uint32_t *out);

/* '{' at s[i]: alternatives up to the matching '}'. */
static int parse_group(struct aare_parser *p, int depth, uint32_t *out)
{
	size_t at = p->i++;
	size_t base = p->t->nstack;
	uint32_t alt;
	int r, nalt = 0;

	if (depth > AARE_MAX_DEPTH)
		return fail(p, at, "'{' nested more than %d deep",
			    AARE_MAX_DEPTH);
	for (;;) {
		p->prev_slash = 0;
		if ((r = parse_seq(p, depth, 1, &alt)) || (r = push(p, alt)))
			return r;
		nalt++;
		if (p->i >= p->len)
			return fail(p, at, "unclosed '{': expecting '}'");
		if (p->s[p->i++] == '}')
			break;
	}
	if (nalt < 2)
		return fail(p, at, "'{...}' needs at least one ',': invalid "
			    "number of items between {}");
	p->prev_slash = 0;
	return reduce(p, base, AARE_ALT, out);
}

static int parse_seq(struct aare_parser *p, int depth, int in_group,
		     uint32_t *out)
{
	size_t base = p->t->nstack;
	uint32_t n;
	unsigned v;
	int r = 0, slash = 0, c;

	while (p->i < p->len && !r) {
		c = p->s[p->i];
		if (in_group && (c == ',' || c == '}'))
			break;
		switch (c) {
		case '{':
			if (!(r = parse_group(p, depth + 1, &n)))
				r = push(p, n);
			slash = 0;
			break;
		case '}':
			return fail(p, p->i, "'}' without a matching '{'");
		case ']':
			return fail(p, p->i, "']' without a matching '['");
		case '[':
			r = parse_class(p);
			slash = 0;
			break;
		case '*':
			r = parse_star(p);
			slash = 0;
			break;
		case '?':
			p->i++;
			r = push_set(p, &p->notslash);
			slash = 0;
			break;
		case '\\':
			if (!(r = escape(p, &v, &slash)))
				r = push_byte(p, v);
			break;
		default:
			p->i++;
			r = push_byte(p, (unsigned)c);
			slash = c == '/';
			break;
		}
		p->prev_slash = slash;
	}
	return r ? r : reduce(p, base, AARE_CAT, out);
}

int aare_parse(struct aare_tree *t, const char *s, size_t len,
	       uint32_t *root, char *err, size_t errlen, size_t *col)
{
	struct aare_parser p;
	const char *z;
	size_t base = t->nstack;
	int r;

	memset(&p, 0, sizeof(p));
	p.t = t;
	p.s = (const unsigned char *)s;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	p.col = col;
	if (err && errlen)
		err[0] = '\0';
	if (len > DFA_MAX_PATTERN)
		return fail(&p, DFA_MAX_PATTERN, "pattern longer than %d bytes",
			    DFA_MAX_PATTERN);
	if (len && (z = memchr(s, '\0', len)))
		return fail(&p, (size_t)(z - s), "NUL byte in pattern");
	memset(&p.notnul, 0xff, sizeof(p.notnul));
	p.notnul.w[0] &= ~1ull;
	p.notslash = p.notnul;
	p.notslash.w['/' >> 6] &= ~(1ull << ('/' & 63));
	r = parse_seq(&p, 0, 0, root);
	t->nstack = base;
	return r;
}
