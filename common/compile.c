/* compile.c: AST -> compiled policy. Variables are expanded, file rules
 * become one minimized DFA per profile whose accept states carry the
 * merged permissions (deny wins, like upstream), link rules a pair DFA,
 * and the other classes small tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"

#define MAX_RULES 200000 /* per profile */
#define MAX_PROFILES 100000
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
	dfa_free(pr->kid_attach);
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
		case R_FILE:
			if (!(r->qual & Q_DENY) && (r->x.type == XT_PROFILE ||
			    r->x.type == XT_CHILD || r->x.type == XT_UNCONFINED))
				pr->extra |= PX_TRANSITIONS;
			break;
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
			if ((r->extra & PX_ALL) && !(r->qual & Q_DENY)) {
				/* `all,`: every capability and all network too */
				pr->caps.allow = ~0ull;
				struct net_rule *nv = realloc(pr->net, (pr->nnet + 1) * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				pr->net = nv;
				memset(&pr->net[pr->nnet], 0, sizeof(*nv));
				pr->net[pr->nnet].access = NET_ALL;
				pr->net[pr->nnet].local.port_hi = pr->net[pr->nnet].peer.port_hi = 65535;
				pr->net[pr->nnet].audit = !!(r->qual & Q_AUDIT);
				pr->nnet++;
			}
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
		pr->attach = compile_expand_path(a, ap, ap->attach, &ap->loc, d, false);
		if (pr->attach && ap->attach_from_name && pr->attach[0] != '/') {
			/* profile @{X} {: a name, not a path, when X is no path */
			free(pr->attach);
			pr->attach = NULL;
		} else if (pr->attach && pr->attach[0] != ':' && !compile_all_absolute(pr->attach)) {
			diag_add(d, &ap->loc, 0, "attachment '%s' must be an absolute path",
				 pr->attach);
		}
	}
	if (ap->nrules > MAX_RULES)
		diag_add(d, &ap->loc, 0, "profile %s has too many rules (limit %d)",
			 pr->name ? pr->name : "?", MAX_RULES);
	else {
		compile_file_rules(a, ap, pr, d);
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

/* One DFA over the attachments of v[0..n): accept = 1 + index of the most
 * specific profile; *out stays NULL when none has an attachment. */
static int build_attach_dfa(struct profile *const *v, size_t n, struct dfa **out,
			    struct diags *d)
{
	struct dfa_builder *b = dfa_builder_new();
	struct actx c = { calloc(n + 1, sizeof(int)) };
	char err[256];
	size_t col;
	bool any = false;
	*out = NULL;
	if (!b || !c.spec) {
		dfa_builder_free(b);
		free(c.spec);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *at = v[i]->attach;
		if (!at || at[0] == ':')
			continue;
		c.spec[i] = literal_chars(at);
		if (dfa_add(b, at, strlen(at), (uint32_t)i, err, sizeof(err), &col) == 0)
			any = true;
	}
	int rc = 0;
	if (any && dfa_build(b, combine_attach, &c, out, err, sizeof(err)) < 0) {
		diag_add(d, NULL, 0, "attachments: %s", err);
		rc = -EINVAL;
	}
	dfa_builder_free(b);
	free(c.spec);
	return rc;
}

/* The attachment DFAs of the top-level profiles and of every profile's
 * children (for cx without a name); also run after loading a cache. */
static int build_kid_attach(struct profile *pr, struct diags *d)
{
	int rc = pr->nkids ? build_attach_dfa(pr->kids, pr->nkids, &pr->kid_attach, d) : 0;
	for (size_t i = 0; rc == 0 && i < pr->nkids; i++)
		rc = build_kid_attach(pr->kids[i], d);
	return rc;
}

int policy_build_attach(struct policy *p, struct diags *d)
{
	int rc = build_attach_dfa(p->profiles, p->nprofiles, &p->attach, d);
	for (size_t i = 0; rc == 0 && i < p->nprofiles; i++)
		rc = build_kid_attach(p->profiles[i], d);
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
