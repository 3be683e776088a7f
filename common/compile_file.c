/* compile_file.c: file and link rules -> one minimized DFA per profile,
 * whose accept states carry the merged permissions: deny wins, owner rules
 * apart, an exact path's exec mode beats a glob's, two exec modes on one
 * path are an error (upstream's rules). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"

struct frule {
	bool literal; /* no glob characters: its exec mode beats globs' */
	uint32_t perms, qual;
	int prio;
	struct xtrans x;
	struct loc loc;
};

struct cctx {
	struct diags *d;
	struct frule *rules;
	size_t nrules;
	struct file_perms *perms;
	size_t nperms, capperms;
	const char *pname;
	bool reported;
};

/* ---- file permissions ---- */

static bool xt_equal(const struct xtrans *a, const struct xtrans *b)
{
	/* while compiling, targets are interned offsets (add_string): equal
	 * strings have equal offsets */
	return a->type == b->type && a->flags == b->flags && a->target == b->target;
}

static bool fp_equal(const struct file_perms *a, const struct file_perms *b)
{
	return a->allow == b->allow && a->owner_allow == b->owner_allow &&
	       a->deny == b->deny && a->audit == b->audit &&
	       a->quiet == b->quiet && xt_equal(&a->x, &b->x) &&
	       xt_equal(&a->owner_x, &b->owner_x);
}

static int merge_x(struct cctx *c, struct xtrans *into, const struct frule *r)
{
	if (into->type == XT_NONE) {
		*into = r->x;
		return 0;
	}
	if (xt_equal(into, &r->x))
		return 0;
	if (!c->reported)
		diag_add(c->d, &r->loc, 0,
			 "profile %s has merged rule with conflicting x modifiers",
			 c->pname);
	c->reported = true;
	return -EINVAL;
}

/* dfa_combine_fn: the merged permissions of every rule matching a path.
 * Upstream's priority= makes higher-priority rules hide lower ones. */
static int64_t combine_file(void *ctx, const uint32_t *ids, size_t n)
{
	struct cctx *c = ctx;
	struct file_perms fp = { 0 };
	int top = -100000;
	bool lit_x = false;
	for (size_t i = 0; i < n; i++) {
		if (c->rules[ids[i]].prio > top)
			top = c->rules[ids[i]].prio;
		if (c->rules[ids[i]].literal && (c->rules[ids[i]].perms & PERM_EXEC) &&
		    !(c->rules[ids[i]].qual & Q_DENY))
			lit_x = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct frule *r = &c->rules[ids[i]];
		if (r->prio != top)
			continue;
		if (r->qual & Q_DENY) {
			fp.deny |= r->perms;
			if (r->qual & Q_AUDIT)
				fp.audit |= r->perms;
			else
				fp.quiet |= r->perms;
			continue;
		}
		/* upstream: an exact path's exec mode overrides a glob's */
		bool use_x = (r->perms & PERM_EXEC) && (!lit_x || r->literal);
		if (r->qual & Q_OWNER) {
			fp.owner_allow |= r->perms;
			if (use_x && merge_x(c, &fp.owner_x, r) < 0)
				return -EINVAL;
		} else {
			fp.allow |= r->perms;
			if (use_x && merge_x(c, &fp.x, r) < 0)
				return -EINVAL;
		}
		if (r->qual & Q_AUDIT)
			fp.audit |= r->perms;
		if (r->qual & Q_QUIET)
			fp.quiet |= r->perms;
	}
	/* owner rules add to what everyone gets; an owner exec mode that
	 * differs from the general one is upstream's conflict too */
	if (fp.x.type && fp.owner_x.type && !xt_equal(&fp.x, &fp.owner_x)) {
		if (!c->reported)
			diag_add(c->d, &c->rules[ids[n - 1]].loc, 0,
				 "profile %s has merged rule with conflicting x modifiers",
				 c->pname);
		c->reported = true;
		return -EINVAL;
	}
	fp.allow &= ~fp.deny;
	fp.owner_allow &= ~fp.deny;
	if (!(fp.allow & PERM_EXEC))
		memset(&fp.x, 0, sizeof(fp.x));
	if (!(fp.owner_allow & PERM_EXEC))
		memset(&fp.owner_x, 0, sizeof(fp.owner_x));
	if (!fp.allow && !fp.owner_allow && !fp.deny && !fp.audit)
		return 0;
	for (size_t i = 1; i < c->nperms; i++)
		if (fp_equal(&c->perms[i], &fp))
			return (int64_t)i;
	if (c->nperms == c->capperms) {
		size_t nc = c->capperms ? c->capperms * 2 : 16;
		struct file_perms *nv = realloc(c->perms, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->perms = nv;
		c->capperms = nc;
	}
	if (c->nperms == 0) {
		memset(&c->perms[0], 0, sizeof(c->perms[0]));
		c->nperms = 1;
	}
	c->perms[c->nperms] = fp;
	return (int64_t)c->nperms++;
}

/* Collapses runs of '/' (upstream's filter_slashes), except an escaped one. */
static void filter_slashes(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '\\' && r[1]) {
			*w++ = *r++;
			*w++ = *r;
			continue;
		}
		if (*r == '/' && w > s && w[-1] == '/')
			continue;
		*w++ = *r;
	}
	*w = '\0';
}

/* Applies alias rules: a path under `from` is also matched under `to`. */
static char *apply_aliases(struct ast *a, char *p)
{
	for (size_t i = 0; i < a->naliases; i++) {
		size_t n = strlen(a->aliases[i].from);
		if (strncmp(p, a->aliases[i].from, n) == 0) {
			char *q;
			if (asprintf(&q, "{%s,%s%s}", p, a->aliases[i].to, p + n) < 0)
				return p;
			free(p);
			return q;
		}
	}
	return p;
}

/* Does every alternative of a glob start with '/'? ({/a,b} does not.) */
bool compile_all_absolute(const char *g)
{
	if (g[0] != '{')
		return g[0] == '/';
	int depth = 0;
	const char *close = NULL;
	for (const char *p = g; *p && !close; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			close = p;
	}
	if (!close)
		return false;
	const char *start = g + 1;
	depth = 0;
	for (const char *p = g + 1; p <= close; p++) {
		if (*p == '\\' && p < close) {
			p++;
			continue;
		}
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		else if ((*p == ',' && depth == 0) || p == close) {
			char buf[4096];
			int n = snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - start), start, close + 1);
			if (n < 0 || (size_t)n >= sizeof(buf) || !compile_all_absolute(buf))
				return false;
			start = p + 1;
		}
	}
	return true;
}

char *compile_expand_path(struct ast *a, const struct ast_profile *ap,
			 const char *in, const struct loc *at, struct diags *d,
			 bool need_abs)
{
	char *p = vars_expand(a, ap, in, at, d);
	if (!p)
		return NULL;
	filter_slashes(p);
	if (need_abs && p[0] != '/' && p[0] != '{' && p[0] != '*') {
		diag_add(d, at, 0, "file rule '%s' must start with '/'", p);
		free(p);
		return NULL;
	}
	return p;
}

static int add_string(struct profile *pr, const char *s, const char **out)
{
	/* Targets are referenced by offset until the table is final;
	 * equal strings share one offset. */
	size_t n = strlen(s) + 1;
	for (size_t off = 0; off < pr->nstrings; off += strlen(pr->strings + off) + 1)
		if (!strcmp(pr->strings + off, s)) {
			*out = (const char *)(uintptr_t)(off + 1);
			return 0;
		}
	char *ns = realloc(pr->strings, pr->nstrings + n);
	if (!ns)
		return -ENOMEM;
	pr->strings = ns;
	memcpy(pr->strings + pr->nstrings, s, n);
	*out = (const char *)(uintptr_t)(pr->nstrings + 1); /* offset+1 */
	pr->nstrings += n;
	return 0;
}

/* Offsets into pr->strings become pointers once the table is final. */
static void fix_targets(struct profile *pr)
{
	for (size_t i = 0; i < pr->nperms; i++) {
		struct xtrans *xs[2] = { &pr->perms[i].x, &pr->perms[i].owner_x };
		for (int k = 0; k < 2; k++)
			if (xs[k]->target)
				xs[k]->target = pr->strings + ((uintptr_t)xs[k]->target - 1);
	}
}

/* Link pairs: any deny wins; else the least restrictive allow. */
static int64_t combine_link(void *ctx, const uint32_t *ids, size_t n)
{
	const struct link_perms *lp = ctx;
	uint32_t best = ids[0];
	for (size_t i = 0; i < n; i++) {
		if (lp[ids[i]].deny)
			return ids[i];
		if (!lp[ids[i]].subset)
			best = ids[i];
	}
	return best;
}

/* Rules with equal payloads are interchangeable for combine_file(), so
 * the DFA builder may merge their positions (exploding_profile.sd:
 * thousands of states instead of over a million). The class is exact: the
 * index of the first rule with the same payload (x.target is an interned
 * offset here, see add_string), found by sorting. */
static int frule_cmp(const void *x, const void *y, void *ctx)
{
	const struct frule *rs = ctx;
	const struct frule *a = &rs[*(const uint32_t *)x], *b = &rs[*(const uint32_t *)y];
#define CMP(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
	CMP(perms); CMP(qual); CMP(prio); CMP(x.type); CMP(x.flags);
	CMP(x.target); CMP(literal);
#undef CMP
	return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

static void set_classes(struct dfa_builder *b, const struct frule *rs, size_t n)
{
	uint32_t *idx = malloc(n * sizeof(*idx));
	if (!idx)
		return; /* without classes the rules are merely not merged */
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, n, sizeof(*idx), frule_cmp, (void *)rs);
	uint32_t first = 0;
	for (size_t i = 0; i < n; i++) {
		const struct frule *a = &rs[idx[i]], *p = i ? &rs[idx[i - 1]] : NULL;
		if (!p || a->perms != p->perms || a->qual != p->qual || a->prio != p->prio ||
		    a->x.type != p->x.type || a->x.flags != p->x.flags ||
		    a->x.target != p->x.target || a->literal != p->literal)
			first = idx[i]; /* sorted by index within a group: the smallest */
		(void)dfa_set_class(b, idx[i], first);
	}
	free(idx);
}

int compile_file_rules(struct ast *a, struct ast_profile *ap,
			 struct profile *pr, struct diags *d)
{
	struct cctx c = { .d = d, .pname = pr->name };
	struct dfa_builder *b = dfa_builder_new();
	struct dfa_builder *lb = NULL;
	int rc = 0;
	char err[256];
	size_t col;

	if (!b)
		return -ENOMEM;
	c.rules = calloc(ap->nrules + 1, sizeof(*c.rules));
	if (!c.rules) {
		dfa_builder_free(b);
		return -ENOMEM;
	}
	struct link_perms *lp = calloc(ap->nrules + 2, sizeof(*lp));
	size_t nlp = 1;
	for (size_t i = 0; i < ap->nrules; i++) {
		struct rule *r = &ap->rules[i];
		if (r->kind == R_LINK) {
			char *p1 = compile_expand_path(a, ap, r->path, &r->loc, d, true);
			char *p2 = p1 ? compile_expand_path(a, ap, r->path2, &r->loc, d, true) : NULL;
			if (!p1 || !p2) {
				free(p1);
				rc = -EINVAL;
				continue;
			}
			if (!lb)
				lb = dfa_builder_new();
			lp[nlp].allow = !(r->qual & Q_DENY);
			lp[nlp].deny = !!(r->qual & Q_DENY);
			lp[nlp].subset = r->subset;
			lp[nlp].audit = !!(r->qual & Q_AUDIT);
			if (!lb || dfa_add_pair(lb, p1, strlen(p1), p2, strlen(p2),
						(uint32_t)nlp, err, sizeof(err), &col) < 0) {
				diag_add(d, &r->loc, 0, "link rule: %s", lb ? err : "out of memory");
				rc = -EINVAL;
			}
			nlp++;
			free(p1);
			free(p2);
			continue;
		}
		/* `all,` (AppArmor 4) allows all file access, like `file,` */
		bool all = r->kind == R_OTHER && (r->extra & PX_ALL) && !(r->qual & Q_DENY);
		if (r->kind != R_FILE && !all)
			continue;
		bool bare = r->bare || all;
		struct frule *fr = &c.rules[c.nrules];
		fr->perms = bare ? (PERM_ALL & ~PERM_APPEND) : r->perms;
		fr->qual = r->qual;
		fr->prio = r->priority;
		fr->loc = r->loc;
		fr->x = r->x;
		if (bare && !(r->qual & Q_DENY)) {
			fr->x.type = XT_INHERIT;
			fr->x.flags = 0;
		}
		if (fr->x.target) {
			char *t = vars_expand(a, ap, fr->x.target, &r->loc, d);
			if (!t || add_string(pr, t, &fr->x.target) < 0) {
				free(t);
				rc = -EINVAL;
				continue;
			}
			free(t);
		}
		char *p = bare ? strdup("/{**,}")
				  : compile_expand_path(a, ap, r->path, &r->loc, d, true);
		if (!p) {
			rc = -EINVAL;
			continue;
		}
		fr->literal = !strpbrk(p, "*?[]"); /* {a,b} alone is still exact */
		p = apply_aliases(a, p);
		if (dfa_add(b, p, strlen(p), (uint32_t)c.nrules, err, sizeof(err),
			    &col) < 0) {
			struct loc l = r->loc;
			diag_add(d, &l, 0, "%s in '%s'", err, p);
			rc = -EINVAL;
		}
		free(p);
		c.nrules++;
	}
	if (rc == 0) {
		set_classes(b, c.rules, c.nrules);
		c.nperms = 1;
		c.capperms = 16;
		c.perms = calloc(c.capperms, sizeof(*c.perms));
		if (!c.perms ||
		    dfa_build(b, combine_file, &c, &pr->file, err, sizeof(err)) < 0) {
			if (!c.reported)
				diag_add(d, &ap->loc, 0, "profile %s: %s", pr->name,
					 c.perms ? err : "out of memory");
			rc = -EINVAL;
		}
		pr->perms = c.perms;
		pr->nperms = c.nperms;
		c.perms = NULL;
		fix_targets(pr);
	}
	if (rc == 0 && lb) {
		if (dfa_build(lb, combine_link, lp, &pr->link, err, sizeof(err)) < 0) {
			diag_add(d, &ap->loc, 0, "profile %s links: %s", pr->name, err);
			rc = -EINVAL;
		}
		pr->lperms = lp;
		pr->nlperms = nlp;
		lp = NULL;
	}
	free(lp);
	free(c.perms);
	free(c.rules);
	dfa_builder_free(b);
	dfa_builder_free(lb);
	return rc;
}
