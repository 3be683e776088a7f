/* compile.c: AST -> compiled policy. Variables are expanded, file rules
 * become one minimized DFA per profile whose accept states carry the
 * merged permissions (deny wins, like upstream), link rules a pair DFA,
 * and the other classes small tables. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse_int.h"
#include "policy_int.h"

#define MAX_RULES 200000 /* per profile */
#define MAX_PROFILES 100000

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

/* ---- profiles ---- */

struct profile *profile_alloc(void)
{
	return calloc(1, sizeof(struct profile));
}

void profile_free(struct profile *pr)
{
	if (!pr)
		return;
	free(pr->name);
	free(pr->attach);
	free(pr->net);
	free(pr->rl);
	dfa_free(pr->file);
	free(pr->perms);
	dfa_free(pr->link);
	free(pr->lperms);
	free(pr->strings);
	for (size_t i = 0; i < pr->nkids; i++)
		profile_free(pr->kids[i]);
	free(pr->kids);
	free(pr);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nprofiles; i++)
		profile_free(p->profiles[i]);
	free(p->profiles);
	dfa_free(p->attach);
	free(p);
}

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
static bool all_absolute(const char *g)
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
			if (n < 0 || (size_t)n >= sizeof(buf) || !all_absolute(buf))
				return false;
			start = p + 1;
		}
	}
	return true;
}

static char *expand_path(struct ast *a, const struct ast_profile *ap,
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

/* dfa_set_class() key: rules with equal payloads are interchangeable for
 * combine_file() (it merges payloads idempotently), which lets dfa_build()
 * merge their positions (exploding_profile.sd: thousands of states instead
 * of over a million). x.target is an interned offset here (add_string). */
static uint64_t frule_class(const struct frule *r)
{
	const uint64_t f[] = { r->perms, r->qual, (uint64_t)(int64_t)r->prio,
			       r->x.type, r->x.flags,
			       (uint64_t)(uintptr_t)r->x.target, r->literal };
	uint64_t h = 0x243f6a8885a308d3ull;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		h = (h ^ f[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 31;
	}
	return h;
}

static int compile_files(struct ast *a, struct ast_profile *ap,
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
			char *p1 = expand_path(a, ap, r->path, &r->loc, d, true);
			char *p2 = p1 ? expand_path(a, ap, r->path2, &r->loc, d, true) : NULL;
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
		if (r->kind != R_FILE)
			continue;
		struct frule *fr = &c.rules[c.nrules];
		fr->perms = r->bare ? (PERM_ALL & ~PERM_APPEND) : r->perms;
		fr->qual = r->qual;
		fr->prio = r->priority;
		fr->loc = r->loc;
		fr->x = r->x;
		if (r->bare && !(r->qual & Q_DENY)) {
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
		char *p = r->bare ? strdup("/{**,}")
				  : expand_path(a, ap, r->path, &r->loc, d, true);
		if (!p) {
			rc = -EINVAL;
			continue;
		}
		fr->literal = !strpbrk(p, "*?[]"); /* {a,b} alone is still exact */
		p = apply_aliases(a, p);
		/* without its class (-ENOMEM) a rule is merely not merged */
		(void)dfa_set_class(b, (uint32_t)c.nrules, frule_class(fr));
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

/* ---- the other classes ---- */

static const char *const unenforced[] = { "dbus", "signal", "ptrace", "unix",
	"mqueue", "mount", "remount", "umount", "unmount", "pivot_root",
	"change_profile", NULL };

static int compile_rest(struct ast *a, struct ast_profile *ap, struct profile *pr,
			struct diags *d)
{
	int rc = 0;
	for (size_t i = 0; i < ap->nrules; i++) {
		struct rule *r = &ap->rules[i];
		switch (r->kind) {
		case R_CAP:
			if (r->qual & Q_DENY)
				pr->caps.deny |= r->caps;
			else
				pr->caps.allow |= r->caps;
			if (r->qual & Q_AUDIT)
				pr->caps.audit |= r->caps;
			break;
		case R_NET: {
			struct net_rule *nv = realloc(pr->net, (pr->nnet + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			pr->net = nv;
			pr->net[pr->nnet++] = r->net;
			break;
		}
		case R_RLIMIT: {
			size_t j;
			for (j = 0; j < pr->nrl; j++)
				if (pr->rl[j].resource == r->rlimit.resource)
					break;
			if (j < pr->nrl) {
				if (r->rlimit.value < pr->rl[j].value)
					pr->rl[j].value = r->rlimit.value;
				break;
			}
			struct rlimit_rule *nv = realloc(pr->rl, (pr->nrl + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			pr->rl = nv;
			pr->rl[pr->nrl++] = r->rlimit;
			break;
		}
		case R_CHANGE_PROFILE:
		case R_OTHER: {
			const char *k = r->kind == R_OTHER ? r->klass : "change_profile";
			if (!(r->qual & Q_DENY))
				pr->extra |= r->extra;
			for (int j = 0; unenforced[j]; j++) {
				if (strcmp(unenforced[j], k) || (ap->warned & (1u << j)))
					continue;
				ap->warned |= 1u << j;
				diag_add(d, &r->loc, 1,
					 "profile %s: %s rules are checked but not enforced by capgate",
					 pr->name, k);
			}
			if (r->kind == R_CHANGE_PROFILE && r->path) {
				char *p = vars_expand(a, ap, r->path, &r->loc, d);
				if (!p)
					rc = -EINVAL;
				free(p);
			}
			break;
		}
		default:
			break;
		}
	}
	pr->caps.allow &= ~pr->caps.deny;
	if (pr->extra & PX_ALL)
		pr->extra |= PX_ALL - 1;
	return rc;
}

static struct profile *compile_profile(struct ast *a, struct ast_profile *ap,
				       struct profile *parent, struct diags *d)
{
	struct profile *pr = profile_alloc();
	if (!pr)
		return NULL;
	size_t before = d->nerrors;
	pr->parent = parent;
	if (ap->name && strstr(ap->name, "@{profile_name}"))
		diag_add(d, &ap->loc, 0, "a profile's name cannot use @{profile_name}");
	char *nm = ap->name ? vars_expand(a, ap, ap->name, &ap->loc, d) : NULL;
	if (nm && ap->attach_from_name && !parent && ap->name[0] == '@' &&
	    ap->attach && !strcmp(ap->attach, ap->name) && nm[0] != '/' &&
	    !ap->is_hat && ap->loc.col >= 0 && !ap->keyword)
		diag_add(d, &ap->loc, 0,
			 "profile '%s' (from %s) needs the 'profile' keyword or an absolute path",
			 nm, ap->name);
	if (parent) {
		if (asprintf(&pr->name, "%s//%s", parent->name, nm ? nm : "") < 0)
			pr->name = NULL;
	} else {
		pr->name = nm ? strdup(nm) : NULL;
	}
	free(nm);
	pr->flags = ap->flags;
	if (ap->attach) {
		pr->attach = expand_path(a, ap, ap->attach, &ap->loc, d, false);
		if (pr->attach && ap->attach_from_name && pr->attach[0] != '/') {
			/* profile @{X} {: a name, not a path, when X is no path */
			free(pr->attach);
			pr->attach = NULL;
		} else if (pr->attach && pr->attach[0] != ':' && !all_absolute(pr->attach)) {
			diag_add(d, &ap->loc, 0, "attachment '%s' must be an absolute path",
				 pr->attach);
		}
	}
	if (ap->nrules > MAX_RULES)
		diag_add(d, &ap->loc, 0, "profile %s has too many rules (limit %d)",
			 pr->name ? pr->name : "?", MAX_RULES);
	else {
		compile_files(a, ap, pr, d);
		compile_rest(a, ap, pr, d);
	}
	if (ap->nkids) {
		pr->kids = calloc(ap->nkids, sizeof(*pr->kids));
		for (size_t i = 0; pr->kids && i < ap->nkids; i++) {
			for (size_t j = 0; j < i; j++)
				if (ap->kids[j]->name && ap->kids[i]->name &&
				    !strcmp(ap->kids[j]->name, ap->kids[i]->name)) {
					diag_add(d, &ap->kids[i]->loc, 0,
						 "profile %s//%s defined twice", pr->name,
						 ap->kids[i]->name);
				}
			struct profile *k = compile_profile(a, ap->kids[i], pr, d);
			if (k)
				pr->kids[pr->nkids++] = k;
		}
	}
	if (d->nerrors > before || !pr->name) {
		profile_free(pr);
		return NULL;
	}
	return pr;
}

/* ---- attachments ---- */

struct actx {
	struct policy *p;
	int *spec;
};

/* Most specific attachment wins: upstream prefers the longest literal
 * match; we rank by the number of literal characters in the glob. */
static int64_t combine_attach(void *ctx, const uint32_t *ids, size_t n)
{
	struct actx *c = ctx;
	uint32_t best = ids[0];
	for (size_t i = 1; i < n; i++)
		if (c->spec[ids[i]] > c->spec[best])
			best = ids[i];
	return (int64_t)best + 1;
}

static int literal_chars(const char *g)
{
	int n = 0;
	for (; *g; g++)
		if (!strchr("*?[]{}", *g))
			n++;
	return n;
}

int policy_build_attach(struct policy *p, struct diags *d);
int policy_build_attach(struct policy *p, struct diags *d)
{
	struct dfa_builder *b = dfa_builder_new();
	struct actx c = { p, calloc(p->nprofiles + 1, sizeof(int)) };
	char err[256];
	size_t col;
	bool any = false;
	if (!b || !c.spec) {
		dfa_builder_free(b);
		free(c.spec);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nprofiles; i++) {
		const char *at = p->profiles[i]->attach;
		if (!at || at[0] == ':')
			continue;
		c.spec[i] = literal_chars(at);
		if (dfa_add(b, at, strlen(at), (uint32_t)i, err, sizeof(err), &col) == 0)
			any = true;
	}
	int rc = 0;
	if (any && dfa_build(b, combine_attach, &c, &p->attach, err, sizeof(err)) < 0) {
		diag_add(d, NULL, 0, "attachments: %s", err);
		rc = -EINVAL;
	}
	dfa_builder_free(b);
	free(c.spec);
	return rc;
}

/* ---- entry points ---- */

static int add_profile(struct policy *p, struct profile *pr, struct diags *d,
		       const struct loc *at)
{
	for (size_t i = 0; i < p->nprofiles; i++)
		if (!strcmp(p->profiles[i]->name, pr->name)) {
			diag_add(d, at, 0, "profile %s defined twice", pr->name);
			profile_free(pr);
			return -EEXIST;
		}
	if (p->nprofiles >= MAX_PROFILES) {
		diag_add(d, at, 0, "too many profiles (limit %d)", MAX_PROFILES);
		profile_free(pr);
		return -E2BIG;
	}
	struct profile **nv = realloc(p->profiles, (p->nprofiles + 1) * sizeof(*nv));
	if (!nv) {
		profile_free(pr);
		return -ENOMEM;
	}
	p->profiles = nv;
	p->profiles[p->nprofiles++] = pr;
	return 0;
}

static void digest_fold(uint8_t acc[32], const uint8_t in[32])
{
	for (int i = 0; i < 32; i++)
		acc[i] = (uint8_t)((acc[i] * 31u) ^ in[i] ^ (i * 7u));
}

/* Compiles the profiles of one parsed file into p (nothing on errors). */
static void compile_ast(struct policy *p, struct ast *a, struct diags *d,
			size_t before)
{
	for (size_t i = 0; d->nerrors == before && i < a->nprofiles; i++) {
		struct profile *pr = compile_profile(a, a->profiles[i], NULL, d);
		if (pr)
			add_profile(p, pr, d, &a->profiles[i]->loc);
	}
	ast_free(a);
}

/* Attachments last; on any error nothing is returned (never half-applied). */
static int finish(struct policy *p, struct diags *d, size_t before,
		  struct policy **out)
{
	if (d->nerrors == before)
		policy_build_attach(p, d);
	if (d->nerrors > before) {
		policy_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

int policy_compile_files(const char *const *files, size_t nfiles,
			 const char *const *incdirs, struct diags *d,
			 struct policy **out)
{
	struct policy *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (!p)
		return -ENOMEM;
	size_t before = d->nerrors;
	for (size_t f = 0; f < nfiles; f++) {
		struct ast a = { 0 };
		uint8_t dg[32] = { 0 };
		parse_file(&a, files[f], incdirs, d, dg);
		digest_fold(p->digest, dg);
		compile_ast(p, &a, d, before);
	}
	return finish(p, d, before, out);
}

int policy_compile_mem(const char *name, const char *buf, size_t len,
		       const char *const *incdirs, struct diags *d,
		       struct policy **out)
{
	struct policy *p = calloc(1, sizeof(*p));
	struct ast a = { 0 };
	*out = NULL;
	if (!p)
		return -ENOMEM;
	size_t before = d->nerrors;
	parse_mem(&a, name, buf, len, incdirs, d);
	compile_ast(p, &a, d, before);
	return finish(p, d, before, out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Top-level profile files of a policy directory: regular files, not the
 * include-only directories, not package leftovers or dotfiles. */
int policy_list_dir(const char *dir, char ***out, size_t *n);
int policy_list_dir(const char *dir, char ***out, size_t *n)
{
	DIR *dh = opendir(dir);
	*out = NULL;
	*n = 0;
	if (!dh)
		return -errno;
	struct dirent *de;
	while ((de = readdir(dh))) {
		const char *nm = de->d_name;
		size_t l = strlen(nm);
		if (nm[0] == '.' || !strcmp(nm, "README") ||
		    (l > 9 && !strcmp(nm + l - 9, ".dpkg-new")) ||
		    (l > 9 && !strcmp(nm + l - 9, ".dpkg-old")) ||
		    (l > 1 && nm[l - 1] == '~'))
			continue;
		char *path;
		if (asprintf(&path, "%s/%s", dir, nm) < 0)
			break;
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		char **nv = realloc(*out, (*n + 1) * sizeof(*nv));
		if (!nv) {
			free(path);
			break;
		}
		*out = nv;
		(*out)[(*n)++] = path;
	}
	closedir(dh);
	qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

void policy_dir_digest(const char *dir, uint8_t out[32]);

int policy_load_dir(const char *dir, const char *cache_dir, struct diags *d,
		    struct policy **out)
{
	char **files;
	size_t n;
	*out = NULL;
	int r = policy_list_dir(dir, &files, &n);
	if (r < 0) {
		struct loc l = { dir, 0, 0 };
		diag_add(d, &l, 0, "cannot read policy directory: %s", strerror(-r));
		return r;
	}
	/* The cache is keyed by a digest of every file under the directory:
	 * any edit, addition or removal rebuilds it. */
	uint8_t dg[32];
	char *cpath = NULL;
	if (cache_dir) {
		policy_dir_digest(dir, dg);
		uint64_t h = 0xcbf29ce484222325ull;
		char *real = realpath(dir, NULL);
		for (const char *c = real ? real : dir; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		free(real);
		if (asprintf(&cpath, "%s/policy-%016llx.cache", cache_dir,
			     (unsigned long long)h) < 0)
			cpath = NULL;
		if (cpath && policy_read_cache(cpath, dg, out) == 0) {
			for (size_t i = 0; i < n; i++)
				free(files[i]);
			free(files);
			free(cpath);
			return 0;
		}
	}
	const char *inc[] = { dir, NULL };
	r = policy_compile_files((const char *const *)files, n, inc, d, out);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	if (r == 0 && cpath) {
		memcpy((*out)->digest, dg, 32);
		mkdir(cache_dir, 0755);
		policy_write_cache(*out, cpath); /* best effort: a cache is optional */
	}
	free(cpath);
	return r;
}
