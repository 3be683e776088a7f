/* test_dfa.c: the AARE -> DFA compiler (common/dfa.h).
 *
 * Hand-written cases per operator and error, then a differential test: a
 * tiny backtracking matcher over the glob text (braces substituted one at
 * a time, then a recursive walk) against the DFA over thousands of random
 * patterns and strings, single rules, rule sets and pairs; minimization
 * equivalences; save/load round trips and a load() fuzz.
 * Exits non-zero and prints each failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfa.h"

#include "check.h"

/* Deterministic PRNG (xorshift64*), fixed seed. */
static uint64_t rng_state = 0x5eed1234abcdull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 33) % n;
}

/* ---- combine callbacks ---- */

static int64_t comb_one(void *ctx, const uint32_t *ids, size_t n)
{
	(void)ctx;
	(void)ids;
	(void)n;
	return 1;
}

/* Bitmask of rule ids (ids < 31), checking the contract on the way:
 * sorted, no duplicates, n >= 1, and each set asked only once. */
struct comb_log {
	uint32_t seen[4096];
	size_t nseen;
	int bad;
};

static int64_t comb_mask(void *ctx, const uint32_t *ids, size_t n)
{
	struct comb_log *log = ctx;
	uint32_t m = 0;
	size_t i;

	if (n < 1)
		log->bad = 1;
	for (i = 0; i < n; i++) {
		if (ids[i] >= 31 || (i && ids[i] <= ids[i - 1]))
			log->bad = 1;
		m |= 1u << (ids[i] & 31);
	}
	for (i = 0; i < log->nseen; i++)
		if (log->seen[i] == m)
			log->bad = 2; /* asked twice for one set */
	if (log->nseen < 4096)
		log->seen[log->nseen++] = m;
	return m;
}

/* Like comb_mask, but rule 0 is "no permissions": any set holding it
 * gives 0 (states reaching only such sets must become dead). */
static int64_t comb_deny0(void *ctx, const uint32_t *ids, size_t n)
{
	uint32_t m = 0;
	size_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		if (ids[i] == 0)
			return 0;
		m |= 1u << ids[i];
	}
	return m;
}

static int64_t comb_fail(void *ctx, const uint32_t *ids, size_t n)
{
	(void)ctx;
	(void)ids;
	(void)n;
	return -EIO;
}

static int64_t comb_huge(void *ctx, const uint32_t *ids, size_t n)
{
	(void)ctx;
	(void)ids;
	(void)n;
	return (int64_t)UINT32_MAX + 1;
}

/* ---- helpers ---- */

static struct dfa *build1(const char *pat)
{
	struct dfa_builder *b = dfa_builder_new();
	struct dfa *d = NULL;
	char err[200];
	size_t col;
	int rc;

	rc = dfa_add(b, pat, strlen(pat), 0, err, sizeof(err), &col);
	CHECK(rc == 0, "dfa_add(\"%s\") = %d: %s at %zu", pat, rc, err, col);
	if (!rc) {
		rc = dfa_build(b, comb_one, NULL, &d, err, sizeof(err));
		CHECK(rc == 0, "dfa_build(\"%s\") = %d: %s", pat, rc, err);
	}
	dfa_builder_free(b);
	return d;
}

static void expect(const char *pat, const char *s, int want)
{
	struct dfa *d = build1(pat);
	uint32_t got;

	if (!d)
		return;
	got = dfa_match(d, s, strlen(s));
	CHECK(got == (uint32_t)want, "\"%s\" vs \"%s\": got %u want %d", pat,
	      s, got, want);
	dfa_free(d);
}

static void expect_err(const char *pat, size_t len, size_t wantcol,
		       const char *wantmsg)
{
	struct dfa_builder *b = dfa_builder_new();
	char err[200] = "";
	size_t col = 12345;
	int rc;

	rc = dfa_add(b, pat, len, 0, err, sizeof(err), &col);
	CHECK(rc == -EINVAL, "\"%.40s\": want -EINVAL, got %d", pat, rc);
	CHECK(col == wantcol, "\"%.40s\": error col %zu, want %zu (%s)", pat,
	      col, wantcol, err);
	CHECK(strstr(err, wantmsg), "\"%.40s\": message \"%s\" lacks \"%s\"",
	      pat, err, wantmsg);
	dfa_builder_free(b);
}

/* ---- hand-written cases ---- */

/* dfa_uniform(): the same accept id after every continuation of `prefix`
 * (no "//"), for one pattern. */
static void expect_uniform(const char *pat, const char *prefix, int want)
{
	struct dfa *d = build1(pat);
	if (!d)
		return;
	uint32_t st = dfa_step(d, dfa_start(d), prefix, strlen(prefix));
	size_t l = strlen(prefix);
	int got = st == DFA_DEAD ? -1 : dfa_uniform(d, st, l && prefix[l - 1] == '/');
	CHECK(got == want, "uniform(\"%s\" after \"%s\"): got %d want %d", pat, prefix,
	      got, want);
	dfa_free(d);
}

static void test_uniform(void)
{
	expect_uniform("/a/{,**}", "/a/", 1);
	expect_uniform("/a/{,**}", "/a/b/", 1);
	expect_uniform("/a/**", "/a/", 0);   /* /a/ itself is not matched */
	expect_uniform("/a/**", "/a/b/", 1); /* everything below /a/b/ is */
	expect_uniform("/a/*", "/a/", 0);    /* not /a/b/c */
	expect_uniform("/a/{,**}", "/a", 0); /* "/a" + "x" is another name */
	expect_uniform("/a/{,b/**}", "/a/", 0);
	expect_uniform("/a/{,[^.]**}", "/a/", 0); /* dotfiles excluded */
	expect_uniform("/a/**", "/b/", -1);  /* dead: nothing can match */
}

static void test_operators(void)
{
	static const struct {
		const char *pat, *s;
		int want;
	} t[] = {
		{ "/a/b", "/a/b", 1 }, { "/a/b", "/a/b/", 0 },
		{ "/a/b/", "/a/b/", 1 }, { "/a/b/", "/a/b", 0 },
		{ "/a/b", "/a/c", 0 }, { "/a/b", "/a/bc", 0 },
		{ "", "", 1 }, { "", "a", 0 },
		/* '*': one component; after '/' needs one byte */
		{ "/a/*", "/a/b", 1 }, { "/a/*", "/a/", 0 },
		{ "/a/*", "/a/b/c", 0 }, { "/a/*", "/a/.x", 1 },
		{ "/a/*", "/a/b/", 0 }, { "/a/*/", "/a/b/", 1 },
		{ "/a/*/", "/a//", 0 }, { "/a/*/c", "/a//c", 0 },
		{ "/a/*/c", "/a/b/c", 1 }, { "/a*", "/a", 1 },
		{ "/a*", "/abc", 1 }, { "/a*", "/a/", 0 },
		{ "/a/b*", "/a/b", 1 }, { "/a/*b", "/a/b", 1 },
		{ "/a/*b", "/a/xyb", 1 }, { "/a/*b", "/a/x/b", 0 },
		{ "*", "", 1 }, { "*", "abc", 1 }, { "*", "a/b", 0 },
		/* '**': crosses '/'; after '/' needs a first non-'/' byte */
		{ "/a/**", "/a/", 0 }, { "/a/**", "/a", 0 },
		{ "/a/**", "/a/b", 1 }, { "/a/**", "/a/b/c", 1 },
		{ "/a/**", "/a/b/", 1 }, { "/a/**", "/a//b", 0 },
		{ "/a/**/", "/a/b/", 1 }, { "/a/**/", "/a/b/c/", 1 },
		{ "/a/**/", "/a/", 0 }, { "/a/**/", "/a//", 0 },
		{ "/a/**/", "/a/b", 0 }, { "/a/**b", "/a/b", 1 },
		{ "/a/**b", "/a/x/yb", 1 }, { "/a**", "/a", 1 },
		{ "/a**", "/a/b/c", 1 }, { "**", "", 1 }, { "**", "/x/y", 1 },
		{ "/**", "/", 0 }, { "/**", "/x", 1 },
		{ "/***", "/", 0 }, { "/***", "/a", 1 }, { "/***", "/a/b", 1 },
		{ "/a/**/c", "/a/b/c", 1 }, { "/a/**/c", "/a/b/d/c", 1 },
		{ "/a/**/c", "/a/c", 0 },
		/* after '{' or ',' no prefix (upstream emits '(' / '|') */
		{ "/a/{*,x}", "/a/", 1 }, { "/a/{x,*}", "/a/", 1 },
		{ "/a/{*,x}", "/a/b", 1 }, { "/a/{*,x}", "/a/b/c", 0 },
		/* "\/" is emitted as '/', so the rule applies after it */
		{ "/a\\/*", "/a/", 0 }, { "/a\\/*", "/a/b", 1 },
		/* '?' */
		{ "/a/?", "/a/b", 1 }, { "/a/?", "/a/", 0 },
		{ "/a/?", "/a//", 0 }, { "/a/??", "/a/bc", 1 },
		{ "/a/??", "/a/b", 0 }, { "?", "/", 0 },
		/* alternation */
		{ "/a/{b,c}", "/a/b", 1 }, { "/a/{b,c}", "/a/c", 1 },
		{ "/a/{b,c}", "/a/d", 0 }, { "/a/{b,c}", "/a/", 0 },
		{ "/a/{b,}", "/a/", 1 }, { "/a/{b,}", "/a/b", 1 },
		{ "/a/{,b}c", "/a/c", 1 }, { "/a/{,b}c", "/a/bc", 1 },
		{ "/{a,b{c,d}}/x", "/bd/x", 1 }, { "/{a,b{c,d}}/x", "/b/x", 0 },
		{ "/{a,b{c,d}}/x", "/a/x", 1 }, { "{,}", "", 1 },
		{ "/usr/{lib,lib{32,64}}/**.so*", "/usr/lib64/x/y.so.1", 1 },
		{ "/usr/{lib,lib{32,64}}/**.so*", "/usr/lib6/y.so", 0 },
		{ "a,b", "a,b", 1 }, /* ',' outside braces is literal */
		/* classes */
		{ "/a/[bc]", "/a/b", 1 }, { "/a/[bc]", "/a/d", 0 },
		{ "[a-c]", "b", 1 }, { "[a-c]", "d", 0 },
		{ "[c-a]", "b", 1 }, /* reversed range swapped */
		{ "[^a]", "/", 1 }, /* negated classes match '/' (upstream) */
		{ "[^a]", "a", 0 }, { "[^a]", "b", 1 },
		{ "[-a]", "-", 1 }, { "[a-]", "-", 1 }, { "[a-]", "b", 0 },
		{ "[\\]]", "]", 1 }, { "[{,}]", ",", 1 }, { "[{,}]", "{", 1 },
		{ "[*]", "*", 1 }, { "[*]", "x", 0 }, { "[?]", "?", 1 },
		{ "[a\\-c]", "b", 0 }, { "[a\\-c]", "-", 1 },
		{ "[/]", "/", 1 }, { "[^^]", "^", 0 }, { "[^^]", "x", 1 },
		{ "[[]", "[", 1 }, { "[\\x41-\\x43]", "B", 1 },
		/* escapes */
		{ "\\*", "*", 1 }, { "\\*", "x", 0 }, { "\\?", "?", 1 },
		{ "\\{a,b\\}", "{a,b}", 1 }, { "\\{a,b\\}", "a", 0 },
		{ "\\[x\\]", "[x]", 1 }, { "\\\\", "\\", 1 },
		{ "\\101", "A", 1 }, { "\\x41", "A", 1 }, { "\\d65", "A", 1 },
		{ "\\n\\t", "\n\t", 1 }, { "\\q", "q", 1 }, { "\\,", ",", 1 },
		{ "\\x4g", "\x04g", 1 }, { "\\400", " 0", 1 },
		{ "\\d2556", "\xff" "6", 1 }, { "\\e", "\033", 1 },
		/* PCRE metacharacters are literal */
		{ "a.b+c(d)|e^f$", "a.b+c(d)|e^f$", 1 },
		{ "a.b", "axb", 0 },
		/* from upstream's convert_aaregex_to_pcre unit cases */
		{ "\\blort", "blort", 1 }, { "b[\\lor]t", "blt", 1 },
		{ "b[{a,b}]t", "b,t", 1 }, { "b[{a,b}]t", "bat", 1 },
		{ "{alpha,b[\\{a\\,b\\}]t,gamma}", "b,t", 1 },
		{ "{alpha,b[\\{a\\,b\\}]t,gamma}", "gamma", 1 },
		{ "{{a,b{c,d}}e,{f,{g,{h{i,j,k},l}m},n}o}", "bde", 1 },
		{ "{{a,b{c,d}}e,{f,{g,{h{i,j,k},l}m},n}o}", "hjmo", 1 },
		{ "{{a,b{c,d}}e,{f,{g,{h{i,j,k},l}m},n}o}", "no", 1 },
		{ "{{a,b{c,d}}e,{f,{g,{h{i,j,k},l}m},n}o}", "ho", 0 },
		{ "/foo/**.ext", "/foo/.ext", 1 }, { "/foo/*.ext", "/foo/.ext", 1 },
		{ "/foo/f**", "/foo/f", 1 }, { "\\\\?", "\\x", 1 },
		/* bytes above 127 */
		{ "/caf\xc3\xa9/*", "/caf\xc3\xa9/x", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect(t[i].pat, t[i].s, t[i].want);
}

static void test_errors(void)
{
	char deep[256], big[DFA_MAX_PATTERN + 2];
	int i;

	expect_err("/a/{b", 5, 3, "unclosed '{'");
	expect_err("/a/b}", 5, 4, "'}' without");
	expect_err("/a/{b}", 6, 3, "at least one ','");
	expect_err("/a/{}", 5, 3, "at least one ','");
	expect_err("/a/{b,{c}}", 10, 6, "at least one ','");
	expect_err("/a/{b,c", 7, 3, "unclosed '{'");
	expect_err("/a/[b", 5, 3, "unclosed character class");
	expect_err("/a/[]", 5, 3, "empty character class");
	expect_err("/a/[^]", 6, 3, "empty character class");
	expect_err("/a/[]b]", 7, 3, "empty character class");
	expect_err("/a/b]", 5, 4, "']' without");
	expect_err("/a/b\\", 5, 4, "trailing '\\'");
	expect_err("/a/[b\\", 6, 5, "trailing '\\'");
	expect_err("/a/\\x", 5, 3, "'\\x' needs");
	expect_err("/a/\\xg", 6, 3, "'\\x' needs");
	expect_err("/a/\\d", 5, 3, "'\\d' needs");
	/* escapes giving NUL are accepted (upstream too) and match no path */
	expect("/a/\\0", "/a/", 0);
	expect("/a/\\x00b", "/a/b", 0);
	expect_err("/a/\0b", 5, 3, "NUL byte");
	/* upstream's MY_REGEX_FAIL_TEST cases */
	expect_err("{{alpha,blort,nested}beta}", 26, 0, "at least one ','");
	expect_err("biz,be}ta", 9, 6, "'}' without");
	expect_err("\\\\[", 3, 2, "unclosed character class");
	expect_err("]blort", 6, 0, "']' without");
	expect_err("blo]rt", 6, 3, "']' without");
	/* 49 nested groups are fine, the 50th '{' is not (MAX_ALT_DEPTH) */
	for (i = 0; i < 49; i++) {
		deep[i] = '{';
		deep[49 + 2 * i] = ',';
		deep[50 + 2 * i] = '}';
	}
	deep[147] = '\0';
	{
		struct dfa *d = build1(deep);

		CHECK(d && dfa_match(d, "", 0) == 1, "49 nested groups");
		dfa_free(d);
	}
	memmove(deep + 1, deep, 148);
	deep[0] = '{';
	expect_err(deep, strlen(deep), 49, "nested more than 49");
	memset(big, 'a', sizeof(big));
	expect_err(big, DFA_MAX_PATTERN + 1, DFA_MAX_PATTERN, "longer than");
	{
		struct dfa *d;
		struct dfa_builder *b = dfa_builder_new();
		char err[200];
		size_t col;

		CHECK(dfa_add(b, big, DFA_MAX_PATTERN, 0, err, sizeof(err),
			      &col) == 0, "pattern of exactly the limit");
		CHECK(dfa_build(b, comb_one, NULL, &d, err, sizeof(err)) == 0,
		      "build of the long pattern: %s", err);
		CHECK(dfa_match(d, big, DFA_MAX_PATTERN) == 1, "long match");
		dfa_free(d);
		dfa_builder_free(b);
	}
}

static void test_pairs(void)
{
	struct dfa_builder *b = dfa_builder_new();
	struct dfa *d = NULL;
	char err[200];
	size_t col;
	uint32_t s;
	int rc;

	rc = dfa_add_pair(b, "/a/*", 4, "/b/**", 5, 3, err, sizeof(err),
			  &col);
	CHECK(rc == 0, "add_pair: %s", err);
	rc = dfa_add_pair(b, "/a/**", 5, "/c", 2, 4, err, sizeof(err), &col);
	CHECK(rc == 0, "add_pair 2: %s", err);
	rc = dfa_add_pair(b, "/a", 2, "/b{", 3, 5, err, sizeof(err), &col);
	CHECK(rc == -EINVAL && col == 5, "pair error col %zu (want 5)", col);
	rc = dfa_add_pair(b, "/a}", 3, "/b", 2, 5, err, sizeof(err), &col);
	CHECK(rc == -EINVAL && col == 2, "pair error col %zu (want 2)", col);
	struct comb_log log = { .nseen = 0 };
	rc = dfa_build(b, comb_mask, &log, &d, err, sizeof(err));
	CHECK(rc == 0 && !log.bad, "pair build: %s", err);
	dfa_builder_free(b);
	if (!d)
		return;
	CHECK(dfa_match(d, "/a/x\0/b/y", 9) == 1u << 3, "pair match");
	CHECK(dfa_match(d, "/a/x\0/b/", 8) == 0, "pair: /b/ needs a byte");
	CHECK(dfa_match(d, "/a/\0/b/y", 8) == 0, "pair: /a/ needs a byte");
	CHECK(dfa_match(d, "/a/x\0/c", 7) == 1u << 4, "pair 2");
	CHECK(dfa_match(d, "/a/x/y\0/c", 9) == 1u << 4, "pair 2 deep");
	/* wildcards never cross the NUL separator */
	CHECK(dfa_match(d, "/a/x\0/c\0/c", 10) == 0, "** crossed NUL");
	CHECK(dfa_match(d, "/a/x", 4) == 0, "first half alone");
	/* walking: first half, separator, second half */
	s = dfa_step(d, dfa_start(d), "/a/x", 4);
	CHECK(s != DFA_DEAD && dfa_accept(d, s) == 0, "walk first half");
	s = dfa_step(d, s, "", 1);
	CHECK(s != DFA_DEAD, "walk separator");
	CHECK(dfa_accept(d, dfa_step(d, s, "/b/q", 4)) == 1u << 3,
	      "walk second half");
	CHECK(dfa_accept(d, dfa_step(d, s, "/c", 2)) == 1u << 4, "walk /c");
	CHECK(dfa_step(d, dfa_start(d), "/x", 2) == DFA_DEAD, "dead prefix");
	CHECK(dfa_step(d, DFA_DEAD, "/a", 2) == DFA_DEAD, "dead stays dead");
	CHECK(dfa_accept(d, DFA_DEAD) == 0, "accept(DEAD)");
	CHECK(dfa_accept(d, 0xfffffff0u) == 0, "accept(out of range)");
	dfa_free(d);
}

static void test_build_edges(void)
{
	struct dfa_builder *b;
	struct dfa *d;
	char err[200];
	size_t col;
	int rc;

	/* nothing added: only the dead state */
	b = dfa_builder_new();
	rc = dfa_build(b, comb_one, NULL, &d, err, sizeof(err));
	CHECK(rc == 0 && dfa_states(d) == 1, "empty builder");
	CHECK(dfa_start(d) == DFA_DEAD && dfa_match(d, "", 0) == 0,
	      "empty DFA matches nothing");
	dfa_free(d);
	/* a failed add leaves the builder usable and unchanged */
	dfa_add(b, "/x{", 3, 1, err, sizeof(err), &col);
	dfa_add(b, "/y", 2, 2, err, sizeof(err), &col);
	struct comb_log log = { .nseen = 0 };
	rc = dfa_build(b, comb_mask, &log, &d, err, sizeof(err));
	CHECK(rc == 0 && dfa_match(d, "/y", 2) == 4 &&
	      dfa_match(d, "/x", 2) == 0, "builder after a failed add");
	dfa_free(d);
	rc = dfa_build(b, comb_fail, NULL, &d, err, sizeof(err));
	CHECK(rc == -EIO && d == NULL, "combine error aborts: %d", rc);
	rc = dfa_build(b, comb_huge, NULL, &d, err, sizeof(err));
	CHECK(rc == -ERANGE && d == NULL, "accept id > UINT32_MAX: %d", rc);
	dfa_builder_free(b);
	/* accept id 0 ("no permissions") prunes to the dead state */
	b = dfa_builder_new();
	dfa_add(b, "/a/**", 5, 0, err, sizeof(err), &col);
	dfa_add(b, "/a/b/**", 7, 1, err, sizeof(err), &col);
	dfa_add(b, "/c/**", 5, 2, err, sizeof(err), &col);
	rc = dfa_build(b, comb_deny0, NULL, &d, err, sizeof(err));
	CHECK(rc == 0, "deny0 build");
	CHECK(dfa_match(d, "/a/b/c", 6) == 0 && dfa_match(d, "/c/d", 4) == 4,
	      "deny0 matches");
	CHECK(dfa_step(d, dfa_start(d), "/a/", 3) == DFA_DEAD,
	      "deny0: /a/ prefix is dead");
	dfa_free(d);
	dfa_builder_free(b);
	/* the state cap: **a followed by 20 '?' needs 2^21 states */
	b = dfa_builder_new();
	dfa_add(b, "**a????????????????????", 23, 0, err, sizeof(err), &col);
	rc = dfa_build(b, comb_one, NULL, &d, err, sizeof(err));
	CHECK(rc == -E2BIG && d == NULL && strstr(err, "states"),
	      "state cap: %d %s", rc, err);
	dfa_builder_free(b);
}

/* Equal languages with equal accept ids give identical automata. */
static void same_dfa(const char *const *a, size_t na, const char *const *b,
		     size_t nb, const char *what)
{
	struct dfa *d[2] = { NULL, NULL };
	uint8_t *blob[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 }, i, k, col;
	char err[200];

	for (k = 0; k < 2; k++) {
		struct dfa_builder *bl = dfa_builder_new();
		const char *const *p = k ? b : a;

		for (i = 0; i < (k ? nb : na); i++)
			dfa_add(bl, p[i], strlen(p[i]), (uint32_t)i, err,
				sizeof(err), &col);
		dfa_build(bl, comb_one, NULL, &d[k], err, sizeof(err));
		dfa_builder_free(bl);
		dfa_save(d[k], &blob[k], &len[k]);
	}
	CHECK(dfa_states(d[0]) == dfa_states(d[1]),
	      "%s: %zu vs %zu states", what, dfa_states(d[0]),
	      dfa_states(d[1]));
	CHECK(len[0] == len[1] && !memcmp(blob[0], blob[1], len[0]),
	      "%s: blobs differ", what);
	for (k = 0; k < 2; k++) {
		dfa_free(d[k]);
		free(blob[k]);
	}
}

static void test_minimization(void)
{
	const char *a1[] = { "{a,b}" }, *b1[] = { "a", "b" };
	const char *a2[] = { "/a/[bc]/d" }, *b2[] = { "/a/{b,c}/d" };
	const char *a3[] = { "/x/**", "/x/*" }, *b3[] = { "/x/**" };
	const char *a4[] = { "/usr/lib/**", "/usr/{lib,share}/**" };
	const char *b4[] = { "/usr/share/**", "/usr/lib/**" };
	const char *a5[] = { "/{a,b,c}{a,b,c}" }, *b5[] = { "/[a-c][abc]" };
	const char *a6[] = { "/a/**", "/b/*" };
	const char *b6[] = { "/a/[^/]**", "/b/[^/]*" };
	const char *a7[] = { "/a/b", "/a/b", "/a/b" }, *b7[] = { "/a/b" };
	struct dfa *d;

	same_dfa(a1, 1, b1, 2, "{a,b} vs a + b");
	same_dfa(a2, 1, b2, 1, "[bc] vs {b,c}");
	same_dfa(a3, 2, b3, 1, "subsumed rule");
	same_dfa(a4, 2, b4, 2, "rule order and overlap");
	same_dfa(a5, 1, b5, 1, "classes vs braces");
	same_dfa(a6, 2, b6, 2, "slash rule vs [^/]");
	same_dfa(a7, 3, b7, 1, "duplicates");
	/* exact counts: "/a/" + "*" is start, /, a, /, x (loop), dead */
	d = build1("/a/*");
	CHECK(d && dfa_states(d) == 6, "/a/* has %zu states, want 6",
	      d ? dfa_states(d) : 0);
	dfa_free(d);
	d = build1("/{x,y}{x,y}{x,y}{x,y}{x,y}{x,y}");
	CHECK(d && dfa_states(d) == 9, "braces: %zu states, want 9",
	      d ? dfa_states(d) : 0);
	dfa_free(d);
}

/* Minimality through the public API only: collect the reachable states
 * (the dead one included) with dfa_step over every byte, refine them
 * naively (Moore) by accept id and successors; every state must end up
 * alone in its class. Small automata only (<= 256 states). */
static int is_minimal(const struct dfa *d)
{
	static uint32_t id[257], succ[257][256], cls[257], ncls[257];
	static uint32_t sig[257][257];
	uint32_t n = 0, i, j, c, k, classes = 0, prev;

	id[n++] = DFA_DEAD;
	if (dfa_start(d) != DFA_DEAD)
		id[n++] = dfa_start(d);
	for (i = 0; i < n; i++)
		for (c = 0; c < 256; c++) {
			char ch = (char)c;
			uint32_t t = dfa_step(d, id[i], &ch, 1);

			for (j = 0; j < n && id[j] != t; j++)
				;
			if (j == n) {
				if (n == 257)
					return -1;
				id[n++] = t;
			}
			succ[i][c] = j;
		}
	for (i = 0; i < n; i++)
		cls[i] = dfa_accept(d, id[i]);
	do {
		prev = classes;
		for (i = 0; i < n; i++) {
			sig[i][0] = cls[i];
			for (c = 0; c < 256; c++)
				sig[i][c + 1] = cls[succ[i][c]];
		}
		classes = 0;
		for (i = 0; i < n; i++) {
			for (j = 0; j < i; j++)
				if (!memcmp(sig[i], sig[j], sizeof(sig[i])))
					break;
			ncls[i] = j < i ? ncls[j] : classes++;
		}
		for (k = 0; k < n; k++)
			cls[k] = ncls[k];
	} while (classes != prev);
	return classes == n;
}

/* ---- reference matcher ---- */

enum { R_LIT, R_ANY, R_STAR, R_DSTAR, R_SET, R_OPEN, R_COMMA, R_CLOSE };

struct rtok {
	int k, first;
	unsigned char c;
	unsigned char set[32];
};

#define RMAX 160

/* Escape at g[*i] == '\\' (only forms the generator uses, plus octal). */
static unsigned char ref_escape(const char *g, size_t *i)
{
	unsigned v = 0;
	int n;

	(*i)++;
	if (g[*i] == 'x') {
		(*i)++;
		for (n = 0; n < 2 && strchr("0123456789abcdef", g[*i]) &&
			    g[*i]; n++, (*i)++)
			v = v * 16 + (unsigned)(g[*i] <= '9' ? g[*i] - '0' :
						g[*i] - 'a' + 10);
		return (unsigned char)v;
	}
	return (unsigned char)g[(*i)++];
}

/* Tokens of a glob; the slash rule as upstream states it: a run of '*'
 * right after a literal '/' and before '/' or the end needs one
 * non-'/' byte first. */
static int ref_tokens(const char *g, struct rtok *t)
{
	size_t i = 0, j;
	int n = 0, prev_slash = 0, depth = 0;

	while (g[i]) {
		struct rtok *k = &t[n++];

		memset(k, 0, sizeof(*k));
		if (n >= RMAX)
			return -1;
		switch (g[i]) {
		case '\\':
			prev_slash = g[i + 1] == '/';
			k->k = R_LIT;
			k->c = ref_escape(g, &i);
			continue;
		case '*':
			for (j = i; g[j] == '*'; j++)
				;
			k->first = prev_slash && (g[j] == '/' || !g[j]);
			k->k = g[i + 1] == '*' ? R_DSTAR : R_STAR;
			i += k->k == R_DSTAR ? 2 : 1;
			break;
		case '?':
			k->k = R_ANY;
			i++;
			break;
		case '[': {
			int neg = 0, b;
			unsigned lo, hi, c;

			i++;
			if (g[i] == '^') {
				neg = 1;
				i++;
			}
			k->k = R_SET;
			while (g[i] != ']') {
				lo = g[i] == '\\' ? ref_escape(g, &i) :
						    (unsigned char)g[i++];
				hi = lo;
				if (g[i] == '-' && g[i + 1] != ']') {
					i++;
					hi = g[i] == '\\' ? ref_escape(g, &i) :
							    (unsigned char)g[i++];
				}
				for (c = lo; c <= hi; c++)
					k->set[c / 8] |= (unsigned char)(1 << (c % 8));
			}
			i++;
			if (neg)
				for (b = 0; b < 32; b++)
					k->set[b] = (unsigned char)~k->set[b];
			break;
		}
		case '{':
			k->k = R_OPEN;
			depth++;
			i++;
			break;
		case '}':
			k->k = R_CLOSE;
			depth--;
			i++;
			break;
		case ',':
			k->k = depth ? R_COMMA : R_LIT;
			k->c = ',';
			i++;
			break;
		default:
			k->k = R_LIT;
			k->c = (unsigned char)g[i++];
			prev_slash = k->c == '/';
			continue;
		}
		prev_slash = 0;
	}
	return n;
}

/* Brace-free token list against s, by backtracking. */
static int ref_flat(const struct rtok *t, int n, const char *s, size_t sl)
{
	size_t k = 0;

	if (n == 0)
		return sl == 0;
	switch (t->k) {
	case R_LIT:
		return sl && (unsigned char)*s == t->c &&
		       ref_flat(t + 1, n - 1, s + 1, sl - 1);
	case R_ANY:
		return sl && *s != '/' && ref_flat(t + 1, n - 1, s + 1, sl - 1);
	case R_SET:
		return sl && (t->set[(unsigned char)*s / 8] >>
			      ((unsigned char)*s % 8) & 1) &&
		       ref_flat(t + 1, n - 1, s + 1, sl - 1);
	default: /* R_STAR, R_DSTAR */
		if (t->first) {
			if (!sl || *s == '/')
				return 0;
			k = 1;
		}
		for (;; k++) {
			if (ref_flat(t + 1, n - 1, s + k, sl - k))
				return 1;
			if (k >= sl || (t->k == R_STAR && s[k] == '/'))
				return 0;
		}
	}
}

/* Substitutes the first group by each of its alternatives in turn. */
static int ref_tokmatch(const struct rtok *t, int n, const char *s,
			size_t sl)
{
	struct rtok buf[RMAX];
	int i, j, close, start, depth = 0, m;

	for (i = 0; i < n && t[i].k != R_OPEN; i++)
		;
	if (i == n)
		return ref_flat(t, n, s, sl);
	for (close = i + 1;; close++) {
		if (t[close].k == R_OPEN)
			depth++;
		else if (t[close].k == R_CLOSE && depth-- == 0)
			break;
	}
	depth = 0;
	for (start = j = i + 1; j <= close; j++) {
		if (t[j].k == R_OPEN)
			depth++;
		else if (t[j].k == R_CLOSE && j != close)
			depth--;
		else if ((t[j].k == R_COMMA && !depth) || j == close) {
			m = 0;
			memcpy(buf, t, (size_t)i * sizeof(*t));
			m = i;
			memcpy(buf + m, t + start, (size_t)(j - start) * sizeof(*t));
			m += j - start;
			memcpy(buf + m, t + close + 1,
			       (size_t)(n - close - 1) * sizeof(*t));
			m += n - close - 1;
			if (ref_tokmatch(buf, m, s, sl))
				return 1;
			start = j + 1;
		}
	}
	return 0;
}

static int ref_match(const char *g, const char *s, size_t sl)
{
	struct rtok t[RMAX];
	int n = ref_tokens(g, t);

	return n >= 0 && ref_tokmatch(t, n, s, sl);
}

/* ---- random patterns and strings ---- */

static const char alphabet[] = "ab/.*{";

static void gen_seq(char *p, size_t *n, size_t max, int depth)
{
	static const char *const cls[] = { "[ab]", "[^a]", "[a-b]", "[^/]",
					   "[/a]", "[.*]", "[^b/]" };
	static const char *const esc[] = { "\\*", "\\{", "\\x61", "\\/",
					   "\\." };
	int items = (int)rnd(5), i, alts;
	const char *add;
	char lit[2] = { 0, 0 };

	for (i = 0; i < items && *n + 40 < max; i++) {
		uint32_t r = rnd(100);

		if (r < 28)
			lit[0] = "aab/"[rnd(4)], add = lit;
		else if (r < 45)
			add = "/";
		else if (r < 55)
			add = "*";
		else if (r < 63)
			add = "**";
		else if (r < 70)
			add = "?";
		else if (r < 78)
			add = ".";
		else if (r < 85)
			add = cls[rnd(7)];
		else if (r < 90)
			add = esc[rnd(5)];
		else if (depth < 2) {
			p[(*n)++] = '{';
			alts = 2 + (int)rnd(2);
			while (alts--) {
				gen_seq(p, n, max, depth + 1);
				p[(*n)++] = alts ? ',' : '}';
			}
			continue;
		} else
			add = "b";
		memcpy(p + *n, add, strlen(add));
		*n += strlen(add);
	}
	p[*n] = '\0';
}

/* Tokens of t[a..e) with every group replaced by one random alternative. */
static void flatten(const struct rtok *t, int a, int e, struct rtok *flat,
		    int *m)
{
	int i, j, close, depth, nalt, pick, start, cur;

	for (i = a; i < e; i++) {
		if (t[i].k != R_OPEN) {
			flat[(*m)++] = t[i];
			continue;
		}
		depth = 0;
		nalt = 1;
		for (close = i + 1;; close++) {
			if (t[close].k == R_OPEN)
				depth++;
			else if (t[close].k == R_CLOSE && depth-- == 0)
				break;
			else if (t[close].k == R_COMMA && depth == 0)
				nalt++;
		}
		pick = (int)rnd((uint32_t)nalt);
		depth = 0;
		cur = 0;
		for (start = j = i + 1; j <= close; j++) {
			if (t[j].k == R_OPEN)
				depth++;
			else if (t[j].k == R_CLOSE && j != close)
				depth--;
			else if ((t[j].k == R_COMMA && !depth) || j == close) {
				if (cur++ == pick)
					flatten(t, start, j, flat, m);
				start = j + 1;
			}
		}
		i = close;
	}
}

/* A string likely to match: braces resolved at random, wildcards filled
 * from the alphabet. */
static size_t sample(const char *g, char *out, size_t max)
{
	struct rtok t[RMAX], flat[RMAX];
	int n = ref_tokens(g, t), i, m = 0;
	size_t o = 0, k, len;

	if (n < 0)
		return 0;
	flatten(t, 0, n, flat, &m);
	for (i = 0; i < m && o + 8 < max; i++) {
		switch (flat[i].k) {
		case R_LIT:
			out[o++] = (char)flat[i].c;
			break;
		case R_ANY:
			out[o++] = "ab.*{"[rnd(5)];
			break;
		case R_SET:
			for (k = 0; k < 12; k++) {
				unsigned char c = (unsigned char)alphabet[rnd(6)];

				if (flat[i].set[c / 8] >> (c % 8) & 1) {
					out[o++] = (char)c;
					break;
				}
			}
			break;
		default:
			len = rnd(3) + (flat[i].first ? 1 : 0);
			for (k = 0; k < len; k++)
				out[o++] = flat[i].k == R_DSTAR && k ?
						   alphabet[rnd(6)] :
						   "ab.*{"[rnd(5)];
		}
	}
	return o;
}

static size_t rand_string(char *out, size_t max, const char *pat)
{
	size_t n, i;

	if (rnd(2))
		return sample(pat, out, max);
	n = rnd(9);
	for (i = 0; i < n && i < max; i++)
		out[i] = alphabet[rnd(6)];
	return i;
}

static void test_differential(void)
{
	char pats[6][256], s[64];
	int iter, k, npat, j, mism = 0, pos = 0, tot = 0;
	size_t n, sl, col;
	char err[200];

	for (iter = 0; iter < 3000 && mism < 20; iter++) {
		struct dfa_builder *b = dfa_builder_new();
		struct comb_log log = { .nseen = 0 };
		struct dfa *d = NULL, *d2 = NULL;
		uint8_t *blob = NULL;
		size_t blen;
		int pair = iter % 10 == 9;

		npat = iter < 1500 ? 1 : 2 + (int)rnd(4);
		for (k = 0; k < npat; k++) {
			n = 0;
			gen_seq(pats[k], &n, 200, 0);
		}
		if (pair) {
			npat = 2;
			CHECK(dfa_add_pair(b, pats[0], strlen(pats[0]),
					   pats[1], strlen(pats[1]), 7, err,
					   sizeof(err), &col) == 0,
			      "add_pair \"%s\" \"%s\": %s", pats[0], pats[1],
			      err);
		} else
			for (k = 0; k < npat; k++)
				CHECK(dfa_add(b, pats[k], strlen(pats[k]),
					      (uint32_t)k, err, sizeof(err),
					      &col) == 0,
				      "add \"%s\": %s at %zu", pats[k], err,
				      col);
		CHECK(dfa_build(b, comb_mask, &log, &d, err, sizeof(err)) == 0,
		      "build: %s", err);
		CHECK(!log.bad, "combine contract broken (%d)", log.bad);
		dfa_builder_free(b);
		if (!d)
			continue;
		if (iter % 5 == 0 && dfa_states(d) <= 200)
			CHECK(is_minimal(d) == 1, "not minimal: \"%s\" (+%d)",
			      pats[0], npat - 1);
		if (iter % 7 == 0) { /* also through save/load */
			CHECK(dfa_save(d, &blob, &blen) == 0, "save");
			CHECK(dfa_load(blob, blen, &d2) == 0, "load");
			free(blob);
		}
		for (j = 0; j < 40; j++) {
			uint32_t want = 0, got;

			if (pair) {
				size_t a = rand_string(s, 28, pats[0]);

				s[a] = '\0';
				sl = a + 1 + rand_string(s + a + 1, 28, pats[1]);
				if (ref_match(pats[0], s, a) &&
				    ref_match(pats[1], s + a + 1, sl - a - 1))
					want = 1u << 7;
			} else {
				sl = rand_string(s, 40,
						 pats[rnd((uint32_t)npat)]);
				for (k = 0; k < npat; k++)
					if (ref_match(pats[k], s, sl))
						want |= 1u << k;
			}
			got = dfa_match(d, s, sl);
			tot++;
			pos += want != 0;
			if (got != want && mism++ < 20) {
				fprintf(stderr, "  patterns:");
				for (k = 0; k < npat; k++)
					fprintf(stderr, " \"%s\"", pats[k]);
				fprintf(stderr, "\n  string \"%.*s\"\n",
					(int)sl, s);
			}
			CHECK(got == want, "differential: got %#x want %#x",
			      got, want);
			/* walking in two steps agrees with dfa_match */
			{
				size_t cut = sl ? rnd((uint32_t)sl + 1) : 0;
				uint32_t st = dfa_step(d, dfa_start(d), s, cut);

				st = dfa_step(d, st, s + cut, sl - cut);
				CHECK(dfa_accept(d, st) == got,
				      "walk disagrees with match");
			}
			if (d2)
				CHECK(dfa_match(d2, s, sl) == got,
				      "loaded DFA disagrees");
		}
		dfa_free(d);
		dfa_free(d2);
	}
	printf("differential: %d strings, %d matched some rule\n", tot, pos);
	CHECK(pos > tot / 5 && pos < tot - tot / 5, "differential is lopsided");
}

/* Random byte soup: every pattern parses or fails with a message and an
 * offset inside it; what parses builds and runs. */
static void test_parse_fuzz(void)
{
	static const char al[] = "{}[]^-,*?\\/ax0d";
	char p[16], err[200], s[16];
	size_t len, i, col;
	int iter, rc, ok = 0;

	for (iter = 0; iter < 20000; iter++) {
		struct dfa_builder *b = dfa_builder_new();
		struct dfa *d = NULL;

		len = rnd(13);
		for (i = 0; i < len; i++)
			p[i] = al[rnd(sizeof(al) - 1)];
		err[0] = '\0';
		col = 9999;
		rc = dfa_add(b, p, len, 1, err, sizeof(err), &col);
		CHECK(rc == 0 || (rc == -EINVAL && col < len && err[0]),
		      "\"%.*s\": rc %d col %zu err \"%s\"", (int)len, p, rc,
		      col, err);
		if (rc == 0 && iter % 4 == 0) {
			ok++;
			CHECK(dfa_build(b, comb_one, NULL, &d, err,
					sizeof(err)) == 0, "build: %s", err);
			for (i = 0; i < 8 && d; i++) {
				size_t sl = rnd(10), q;

				for (q = 0; q < sl; q++)
					s[q] = al[rnd(sizeof(al) - 1)];
				dfa_match(d, s, sl);
			}
			dfa_free(d);
		}
		dfa_builder_free(b);
	}
	CHECK(ok > 500, "parse fuzz: only %d patterns parsed", ok);
}

/* ---- save/load ---- */

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void fix_checksum(uint8_t *b, size_t len)
{
	uint64_t h;
	int i;

	if (len < 8)
		return;
	h = fnv1a(b, len - 8);
	for (i = 0; i < 8; i++)
		b[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void test_save_load(void)
{
	const char *pats[] = { "/etc/**", "/usr/{lib,lib64}/*.so*",
			       "/home/*/.cache/**", "/tmp/[a-z]?x" };
	struct dfa_builder *b = dfa_builder_new();
	struct comb_log log = { .nseen = 0 };
	struct dfa *d = NULL, *d2 = NULL;
	uint8_t *blob = NULL, *blob2 = NULL, *m;
	size_t len, len2, i, col, accepted = 0, rejected = 0;
	char err[200];
	int iter, rc;

	for (i = 0; i < 4; i++)
		dfa_add(b, pats[i], strlen(pats[i]), (uint32_t)i, err,
			sizeof(err), &col);
	rc = dfa_build(b, comb_mask, &log, &d, err, sizeof(err));
	dfa_builder_free(b);
	CHECK(rc == 0, "build for save: %s", err);
	if (rc)
		return;
	CHECK(dfa_save(d, &blob, &len) == 0, "save");
	CHECK(dfa_load(blob, len, &d2) == 0, "load");
	CHECK(dfa_save(d2, &blob2, &len2) == 0 && len2 == len &&
	      !memcmp(blob, blob2, len), "save(load(x)) == x");
	CHECK(dfa_states(d2) == dfa_states(d), "states after load");
	CHECK(dfa_match(d2, "/usr/lib64/libc.so.6", 20) == 2, "loaded match");
	free(blob2);
	dfa_free(d2);
	CHECK(dfa_load(blob, len - 1, &d2) == -EBADMSG && !d2, "truncated");
	CHECK(dfa_load(blob, 0, &d2) == -EBADMSG, "empty blob");
	m = malloc(len + 16);
	for (iter = 0; iter < 4000; iter++) {
		size_t mlen = len, nflip = 1 + rnd(4), k;
		int kind = (int)rnd(4);

		memcpy(m, blob, len);
		if (kind == 0) { /* truncate */
			mlen = rnd((uint32_t)len);
		} else if (kind == 1) { /* extend */
			mlen = len + 1 + rnd(15);
			for (k = len; k < mlen; k++)
				m[k] = (uint8_t)rnd(256);
		} else { /* flip bytes; kind 3 also fixes the checksum */
			for (k = 0; k < nflip; k++) {
				size_t at = rnd((uint32_t)len);

				m[at] ^= (uint8_t)(1 + rnd(255));
			}
			if (kind == 3)
				fix_checksum(m, mlen);
		}
		d2 = NULL;
		rc = dfa_load(m, mlen, &d2);
		if (kind < 3 && !(mlen == len && !memcmp(m, blob, len)))
			CHECK(rc == -EBADMSG, "corrupt blob accepted (kind %d)",
			      kind);
		if (rc == 0) {
			char s[32];

			accepted++;
			/* walk it: must stay in bounds (run under ASan) */
			for (k = 0; k < 50; k++) {
				size_t sl = rnd(30), q;

				for (q = 0; q < sl; q++)
					s[q] = (char)rnd(256);
				dfa_match(d2, s, sl);
				dfa_accept(d2, dfa_step(d2, dfa_start(d2), s,
							sl));
			}
			dfa_free(d2);
		} else {
			CHECK(rc == -EBADMSG && !d2, "load error %d", rc);
			rejected++;
		}
	}
	printf("load fuzz: %zu accepted (checksum fixed, indexes valid), "
	       "%zu rejected\n", accepted, rejected);
	free(m);
	free(blob);
	dfa_free(d);
}

/* Many rules: the trie-like case the policy compiler produces. */
static void test_many_rules(void)
{
	struct dfa_builder *b = dfa_builder_new();
	struct dfa *d = NULL;
	char p[64], err[200];
	size_t col;
	int i, rc;

	for (i = 0; i < 2000; i++) {
		int n = i % 2 ? snprintf(p, sizeof(p), "/srv/d%d/**", i) :
				snprintf(p, sizeof(p), "/usr/lib/lib%d.so*", i);

		dfa_add(b, p, (size_t)n, (uint32_t)i, err, sizeof(err), &col);
	}
	rc = dfa_build(b, comb_one, NULL, &d, err, sizeof(err));
	dfa_builder_free(b);
	CHECK(rc == 0, "2000 rules: %s", err);
	if (rc)
		return;
	CHECK(dfa_match(d, "/srv/d1999/x/y", 14) == 1, "/srv/d1999/x/y");
	CHECK(dfa_match(d, "/srv/d1998/x", 12) == 0, "/srv/d1998/x");
	CHECK(dfa_match(d, "/usr/lib/lib1998.so.1", 21) == 1, "lib1998");
	CHECK(dfa_match(d, "/usr/lib/lib1998.so/x", 21) == 0, "lib1998/x");
	CHECK(dfa_match(d, "/srv/d1/", 8) == 0, "/srv/d1/");
	printf("2000 rules: %zu states\n", dfa_states(d));
	dfa_free(d);
}

/* Every user-controlled size is bounded: patterns stop being accepted at
 * the position limit, with a message, and what was added still builds. */
static void test_size_limits(void)
{
	struct dfa_builder *b = dfa_builder_new();
	struct dfa *d = NULL;
	char *p = malloc(8001), err[200] = "";
	size_t col;
	int i, rc = 0;

	memset(p, 'a', 8000);
	for (i = 0; i < 1000 && rc == 0; i++) {
		p[i % 8000] = 'b';
		rc = dfa_add(b, p, 8000, (uint32_t)i, err, sizeof(err), &col);
	}
	CHECK(rc == -E2BIG && i > 100 && i < 1000, "limit: rc %d after %d", rc,
	      i);
	CHECK(strstr(err, "limit"), "limit message: %s", err);
	err[0] = '\0';
	rc = dfa_build(b, comb_one, NULL, &d, err, sizeof(err));
	CHECK(rc == 0 || (rc == -E2BIG && err[0]), "build after limit: %d %s",
	      rc, err);
	if (d) {
		p[0] = 'b';
		CHECK(dfa_match(d, p, 8000) == 1, "first pattern after limit");
	}
	dfa_free(d);
	dfa_builder_free(b);
	free(p);
}

/* ---- rule classes (dfa_set_class) ---- */

/* Rules 0..5 of a test; cls[i] < 0: no class. combine() may only depend
 * on the set of classes present, a rule without a class being its own. */
struct comb_cls {
	int cls[8];
	int bad;
};

static uint32_t cls_bit(const struct comb_cls *c, uint32_t id)
{
	return c->cls[id] >= 0 ? 1u << c->cls[id] : 1u << (4 + id);
}

static int64_t comb_cls(void *ctx, const uint32_t *ids, size_t n)
{
	struct comb_cls *c = ctx;
	uint32_t m = 0, j;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ids[i] >= 8 || (i && ids[i] <= ids[i - 1]))
			c->bad = 1;
		else if (m & cls_bit(c, ids[i]))
			c->bad = 2; /* two ids of one class */
		else if (c->cls[ids[i]] >= 0)
			for (j = 0; j < ids[i]; j++)
				if (c->cls[j] == c->cls[ids[i]])
					c->bad = 3; /* not the smallest */
		if (ids[i] < 8)
			m |= cls_bit(c, ids[i]);
	}
	return m;
}

/* ctx: int cls[]; the accept id is the set of classes present. */
static int64_t comb_cls6(void *ctx, const uint32_t *ids, size_t n)
{
	const int *cls = ctx;
	uint32_t m = 0;

	while (n--)
		m |= 1u << cls[ids[n]];
	return m;
}

/* Random rule sets with random classes: the DFA built with classes equals
 * (byte for byte, being minimal and canonical) the one built without, and
 * both agree with the reference matcher. */
static void test_classes(void)
{
	char pats[6][256], s[64], err[200];
	int iter, k, npat, j, mism = 0, merged = 0;
	size_t n, sl, col;

	for (iter = 0; iter < 1500 && mism < 20; iter++) {
		struct dfa_builder *b = dfa_builder_new(), *b0 = dfa_builder_new();
		struct comb_cls cc = { .bad = 0 }, cc0;
		struct dfa *d = NULL, *d0 = NULL;
		uint8_t *x = NULL, *x0 = NULL;
		size_t xl = 0, x0l = 0;

		npat = 2 + (int)rnd(5);
		for (k = 0; k < npat; k++) {
			n = 0;
			/* "**"-heavy tails, the case classes exist for */
			gen_seq(pats[k], &n, 200, 0);
			if (rnd(2))
				strcat(pats[k], rnd(2) ? "/**" : "**");
			cc.cls[k] = rnd(4) == 3 ? -1 : (int)rnd(3);
			if (cc.cls[k] >= 0 && rnd(4) == 0) /* the last call wins */
				dfa_set_class(b, (uint32_t)k, 7);
			CHECK(dfa_add(b, pats[k], strlen(pats[k]), (uint32_t)k, err,
				      sizeof(err), &col) == 0 &&
			      dfa_add(b0, pats[k], strlen(pats[k]), (uint32_t)k,
				      err, sizeof(err), &col) == 0,
			      "add \"%s\": %s", pats[k], err);
			if (cc.cls[k] >= 0)
				CHECK(dfa_set_class(b, (uint32_t)k,
						    (uint64_t)cc.cls[k] << 40) == 0,
				      "set_class");
		}
		for (k = 0; k < npat; k++)
			for (j = 0; j < k; j++)
				merged += cc.cls[k] >= 0 && cc.cls[k] == cc.cls[j];
		cc0 = cc;
		CHECK(dfa_build(b, comb_cls, &cc, &d, err, sizeof(err)) == 0,
		      "build with classes: %s", err);
		CHECK(dfa_build(b0, comb_cls, &cc0, &d0, err, sizeof(err)) == 0,
		      "build without: %s", err);
		CHECK(!cc.bad, "combine with classes got bad ids (%d)", cc.bad);
		dfa_builder_free(b);
		dfa_builder_free(b0);
		if (d && d0) {
			dfa_save(d, &x, &xl);
			dfa_save(d0, &x0, &x0l);
			CHECK(xl == x0l && !memcmp(x, x0, xl),
			      "classes changed the automaton (%zu vs %zu states)",
			      dfa_states(d), dfa_states(d0));
		}
		for (j = 0; j < 40 && d; j++) {
			uint32_t want = 0, got;

			sl = rand_string(s, 40, pats[rnd((uint32_t)npat)]);
			for (k = 0; k < npat; k++)
				if (ref_match(pats[k], s, sl))
					want |= cls_bit(&cc, (uint32_t)k);
			got = dfa_match(d, s, sl);
			if (got != want && mism++ < 20) {
				fprintf(stderr, "  patterns:");
				for (k = 0; k < npat; k++)
					fprintf(stderr, " \"%s\"/%d", pats[k],
						cc.cls[k]);
				fprintf(stderr, "\n  string \"%.*s\"\n", (int)sl,
					s);
			}
			CHECK(got == want, "classes: got %#x want %#x", got,
			      want);
		}
		free(x);
		free(x0);
		dfa_free(d);
		dfa_free(d0);
	}
	CHECK(merged > 500, "classes test merged too few rules (%d)", merged);
}

/* Profile-like rule sets (shared prefixes, "**" tails, alternations) with
 * random classes: with and without classes, the same automaton. */
static void test_classes_profile(void)
{
	static const char *const pats[] = {
		"/{usr/,}lib{,32,64}/**.so*", "/{usr/,}lib/x86_64-linux-gnu/**",
		"/etc/ld.so.cache", "/etc/ld.so.conf.d/{,*.conf}",
		"/usr/share/locale{,-langpack}/**", "/usr/share/zoneinfo{,-icu}/{,**}",
		"/dev/{,u}random", "/proc/[0-9]*/{maps,stat,status,cmdline,fd/}",
		"/proc/[0-9]*/task/[0-9]*/{stat,comm}", "/etc/{passwd,group}",
		"/home/*/.config/fontconfig/**", "/home/*/.cache/**",
		"/usr/share/fonts/**", "/usr/share/{icons,pixmaps,themes}/**",
		"/home/*/.local/share/{applications,mime}/{,**}", "/tmp/**",
		"/run/user/[0-9]*/{,bus,pulse/native}", "/home/*/", "/home/*/[^.]*",
		"/home/*/.[^c]*/**", "/home/*/Documents/**.{pdf,txt,md}",
		"/usr/{,s}bin/*", "/{usr/,}bin/{ls,cat,grep}", "/dev/shm/**",
		"/sys/devices/pci[0-9]*/**/{vendor,device,config}",
		"/var/{cache,lib,log}/app/**", "/home/*/.config/app/{,**}",
		"/usr/share/app/**", "/etc/app/*.conf", "/srv/www/**.php",
		"/srv/www/**/cache/**", "/srv/www/**/upload{,s}/**",
	};
	const size_t n = sizeof(pats) / sizeof(pats[0]);
	char err[200];
	int iter;
	size_t i, col;

	for (iter = 0; iter < 20; iter++) {
		struct dfa_builder *b = dfa_builder_new(), *b0 = dfa_builder_new();
		struct dfa *d = NULL, *d0 = NULL;
		uint8_t *x = NULL, *x0 = NULL;
		size_t xl = 0, x0l = 0;
		int cls[sizeof(pats) / sizeof(pats[0])];

		for (i = 0; i < n; i++) {
			cls[i] = (int)rnd(1 + (uint32_t)iter % 6);
			dfa_add(b, pats[i], strlen(pats[i]), (uint32_t)i, err,
				sizeof(err), &col);
			dfa_add(b0, pats[i], strlen(pats[i]), (uint32_t)i, err,
				sizeof(err), &col);
			dfa_set_class(b, (uint32_t)i, (uint64_t)cls[i]);
		}
		CHECK(dfa_build(b, comb_cls6, cls, &d, err, sizeof(err)) == 0 &&
		      dfa_build(b0, comb_cls6, cls, &d0, err, sizeof(err)) == 0,
		      "profile-like build: %s", err);
		if (d && d0) {
			dfa_save(d, &x, &xl);
			dfa_save(d0, &x0, &x0l);
			CHECK(xl == x0l && !memcmp(x, x0, xl),
			      "profile-like: classes changed the automaton "
			      "(%zu vs %zu states)", dfa_states(d),
			      dfa_states(d0));
		}
		free(x);
		free(x0);
		dfa_free(d);
		dfa_free(d0);
		dfa_builder_free(b);
		dfa_builder_free(b0);
	}
}

/* AppArmor's simple_tests/profile/exploding_profile.sd: without merging
 * rules of equal permissions the subset construction needs over a million
 * states (upstream: "about 3,000 states and a second or two"). */
static const char *const explode[] = {
	"/a/b/c/webdir/config.inc.php", "/a/b/c/**", "/a/b/c/upload/**",
	"/a/b/c/webdir/cms/files/**", "/a/b/c/webdir/content/**",
	"/a/b/c/webdir/mitarbeiter/**", "/a/b/c/webdir/newsletter/**",
	"/a/b/c/webdir/pnTemp/**",
	"/a/b/c/webdir/redaxo/include/generated/articles/**",
	"/a/b/c/webdir/typo3/ext/**", "/a/b/c/webdir/wiki/images/**",
	"/a/b/c/**.txt", "/a/b/c/**.log",
	"/a/b/c/webdir/**/com_docman/docman.config.php",
	"/a/b/c/webdir/**/settings.php", "/a/b/c/webdir/**.txt",
	"/a/b/c/webdir/upload/**{.jpg,.pdf,.ps,.gif,.png,.ppt,.doc,.txt,.rtf}",
	"/a/b/c/webdir/courses/uploaded_file*/**",
	"/a/b/c/webdir/**/conf*.php",
	"/a/b/c/**{cache,data,download,/ext,fileadmin,files,images,joomla,"
	"moodledata/sessions}/**",
	"/a/b/c/**log{,s}/**", "/a/b/c/**typo3{conf,temp}/**",
	"/a/b/c/webdir/**/components/**", "/a/b/c/webdir/content/**/conf/**",
	"/a/b/c/webdir/**/content/**",
	"/a/b/c/webdir/**/{pages,pictures,data,doc,files,languages,media}/**",
	"/a/b/c/webdir/**/{pages,pictures}/**",
	"/a/b/c/webdir/**/module{s,}/**",
	"/a/b/c/webdir/**/{templates_c,templates,temp,tmp}/**",
	"/a/b/c/webdir/**/upload/**", "/a/b/c/webdir/**count*/**",
	"/a/b/c/webdir/**/**uploads/**",
};
#define NEXPLODE (sizeof(explode) / sizeof(explode[0]))

/* Rule 1 is "r", rule 0 an exact "rw" path, the others glob "rw". */
static uint32_t explode_perm(uint32_t id)
{
	return id == 1 ? 1 : id == 0 ? 2 : 4;
}

static int64_t comb_explode(void *ctx, const uint32_t *ids, size_t n)
{
	uint32_t m = 0;

	(void)ctx;
	while (n--)
		m |= explode_perm(ids[n]);
	return m;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dfa *build_explode(int classes, int *rc, char *err,
				 size_t errlen, double *secs)
{
	struct dfa_builder *b = dfa_builder_new();
	struct dfa *d = NULL;
	size_t i, col;
	double t0;

	for (i = 0; i < NEXPLODE; i++) {
		CHECK(dfa_add(b, explode[i], strlen(explode[i]), (uint32_t)i,
			      err, errlen, &col) == 0, "add %s", explode[i]);
		if (classes)
			dfa_set_class(b, (uint32_t)i, explode_perm((uint32_t)i));
	}
	t0 = now_s();
	*rc = dfa_build(b, comb_explode, NULL, &d, err, errlen);
	*secs = now_s() - t0;
	dfa_builder_free(b);
	return d;
}

static void test_exploding(void)
{
	static const char comp[][12] = { "a", "b", "c", "webdir", "upload",
		"content", "x.txt", "conf", "log", "pages", "uploads", "y.php",
		"conf1.php", "typo3temp", "count", "modules", "z.log", "tmp" };
	char err[200], s[200];
	double secs;
	size_t i, k, sl;
	uint32_t want, got;
	int rc, pos = 0;
	struct dfa *d = build_explode(1, &rc, err, sizeof(err), &secs);

	CHECK(rc == 0, "exploding profile: %s", err);
	if (!d)
		return;
	printf("exploding profile: %zu states in %.3f s\n", dfa_states(d),
	       secs);
	CHECK(dfa_states(d) <= 3000, "exploding profile: %zu states",
	      dfa_states(d));
	CHECK(secs < 1.0, "exploding profile: %.3f s", secs);
	/* paths under /a/b/c built from the patterns' own words */
	for (i = 0; i < 3000; i++) {
		size_t depth = 1 + rnd(6);

		sl = (size_t)snprintf(s, sizeof(s), "/a/b/c%s",
				      rnd(2) ? "/webdir" : "");
		for (k = 0; k < depth && sl + 14 < sizeof(s); k++)
			sl += (size_t)snprintf(s + sl, sizeof(s) - sl, "/%s",
					       comp[rnd(sizeof(comp) /
							sizeof(comp[0]))]);
		if (rnd(8) == 0)
			s[sl++] = '/';
		want = 0;
		for (k = 0; k < NEXPLODE; k++)
			if (ref_match(explode[k], s, sl))
				want |= explode_perm((uint32_t)k);
		got = dfa_match(d, s, sl);
		pos += (want & 4) != 0;
		CHECK(got == want, "exploding \"%.*s\": got %u want %u",
		      (int)sl, s, got, want);
	}
	CHECK(pos > 300, "exploding: only %d paths got rw", pos);
	CHECK(dfa_match(d, "/a/b/c/webdir/config.inc.php", 28) == 3,
	      "config.inc.php");
	dfa_free(d);
}

/* Without classes the same rules blow up: dfa_build() must give up with
 * a clear error after its work limit (a few seconds), not grind on to the
 * state limit (about 20 s and 300 MB before the limit existed). */
static void test_fail_fast(void)
{
	char err[200] = "";
	double secs;
	int rc;
	struct dfa *d = build_explode(0, &rc, err, sizeof(err), &secs);

	printf("exploding profile without classes: %s after %.2f s\n",
	       rc ? "error" : "built", secs);
	CHECK(rc == -E2BIG && !d, "want -E2BIG, got %d", rc);
	CHECK(strstr(err, "too complex"), "message: %s", err);
	/* the message tells the work limit fired; the time is loose for
	 * sanitizer builds (about 1.5 s at -O2, 8 s under ASan) */
	CHECK(secs < 30, "gave up only after %.1f s", secs);
	dfa_free(d);
}

int main(void)
{
	test_operators();
	test_errors();
	test_pairs();
	test_build_edges();
	test_minimization();
	test_differential();
	test_parse_fuzz();
	test_save_load();
	test_many_rules();
	test_size_limits();
	test_uniform();
	test_classes();
	test_classes_profile();
	test_exploding();
	test_fail_fast();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
