/* policy_cmds.c: `capgate check`, `capgate query`, `capgate show`: the
 * policy compiler's front end, for users writing and debugging profiles. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ast.h"
#include "audit.h"
#include "parse_int.h"
#include "policy.h"
#include "policy_cmds.h"


/* Errors first, then warnings, as `file:line:col: error: message`. */
static void print_diags(const struct diags *d)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->n; i++) {
			const struct diag *g = &d->v[i];
			if (g->warning != pass)
				continue;
			fprintf(stderr, "%s:%d:%d: %s: %s\n", g->file, g->line, g->col,
				g->warning ? "warning" : "error",
				g->msg ? g->msg : "out of memory");
		}
}

static char *dir_of(const char *path)
{
	char *d = strdup(path);
	char *s = d ? strrchr(d, '/') : NULL;
	if (!d)
		return NULL;
	if (!s) {
		free(d);
		return strdup(".");
	}
	if (s == d)
		s[1] = '\0';
	else
		*s = '\0';
	return d;
}

int cmd_check(int argc, char **argv)
{
	const char *inc[65];
	size_t ninc = 0;
	char **files = NULL;
	size_t nfiles = 0;
	char *owned_inc = NULL;
	int c;
	static const struct option opts[] = { { "include", required_argument, 0, 'I' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+I:h", opts, NULL)) != -1) {
		if (c == 'I' && ninc < 64)
			inc[ninc++] = optarg;
		else if (c == 'h') {
			printf("usage: capgate check [-I DIR]... FILE|DIR...\n");
			return 0;
		} else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: capgate check [-I DIR]... FILE|DIR...\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			char **l;
			size_t n;
			if (policy_list_dir(argv[i], &l, &n) == 0) {
				char **nv = realloc(files, (nfiles + n) * sizeof(*nv));
				if (nv) {
					files = nv;
					memcpy(files + nfiles, l, n * sizeof(*l));
					nfiles += n;
				}
				free(l);
			}
			if (!ninc && !owned_inc)
				owned_inc = strdup(argv[i]);
		} else {
			char **nv = realloc(files, (nfiles + 1) * sizeof(*nv));
			if (nv) {
				files = nv;
				files[nfiles++] = strdup(argv[i]);
			}
			if (!ninc && !owned_inc)
				owned_inc = dir_of(argv[i]);
		}
	}
	if (!ninc && owned_inc)
		inc[ninc++] = owned_inc;
	inc[ninc] = NULL;

	/* Each file on its own, like apparmor_parser: two files may define
	 * the same profile (a policy directory may not: policy_load_dir). */
	struct diags d = { 0 };
	int rc = 0;
	for (size_t i = 0; i < nfiles; i++) {
		struct policy *p = NULL;
		const char *one[] = { files[i] };
		if (policy_compile_files(one, 1, inc, &d, &p) < 0)
			rc = 1;
		policy_free(p);
	}
	print_diags(&d);
	if (d.nerrors)
		rc = 1;
	diags_free(&d);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(owned_inc);
	return rc;
}

struct qopts {
	const char *policy, *profile, *network;
};

static int load(const struct qopts *o, struct policy **p,
		const struct profile **pr)
{
	struct diags d = { 0 };
	int r = policy_load_dir(o->policy, NULL, &d, p);
	print_diags(&d);
	diags_free(&d);
	if (r < 0) {
		fprintf(stderr, "capgate: cannot compile policy %s\n", o->policy);
		return 125;
	}
	*pr = policy_find(*p, o->profile);
	if (!*pr) {
		fprintf(stderr, "capgate: no profile named '%s' in %s\n", o->profile,
			o->policy);
		return 125;
	}
	return 0;
}

static const char *default_policy(void)
{
	struct stat st;
	if (stat("/etc/capgate", &st) == 0)
		return "/etc/capgate";
	return "policies";
}

/* --policy DIR --profile NAME [--network DOMAIN]; optind is left at the
 * first operand. */
static int parse_qopts(int argc, char **argv, bool network, struct qopts *o)
{
	static const struct option opts[] = { { "policy", required_argument, 0, 'p' },
					      { "profile", required_argument, 0, 'n' },
					      { "network", required_argument, 0, 'N' },
					      { 0, 0, 0, 0 } };
	int c;
	*o = (struct qopts){ default_policy(), NULL, NULL };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p')
			o->policy = optarg;
		else if (c == 'n')
			o->profile = optarg;
		else if (c == 'N' && network)
			o->network = optarg;
		else
			return -EINVAL;
	}
	return 0;
}

int cmd_query(int argc, char **argv)
{
	struct qopts o;
	if (parse_qopts(argc, argv, true, &o) < 0)
		return 125;
	if (!o.profile || (!o.network && optind != argc - 1)) {
		fprintf(stderr, "usage: capgate query --policy DIR --profile NAME PATH\n"
				"       capgate query --policy DIR --profile NAME --network DOMAIN [TYPE]\n");
		return 125;
	}
	struct policy *p;
	const struct profile *pr;
	int r = load(&o, &p, &pr);
	if (r)
		return r;
	if (o.network) {
		int fam = net_domain_from_name(o.network);
		int type = optind < argc ? net_type_from_name(argv[optind]) : SOCK_STREAM;
		if (fam < 0 || type < 0) {
			fprintf(stderr, "capgate: unknown network domain or type\n");
			policy_free(p);
			return 125;
		}
		bool audit = false;
		r = decide_socket(pr, fam, type, 0, &audit);
		printf("%s%s\n", r == 0 ? "allow" : "deny", audit ? " audit" : "");
		policy_free(p);
		return 0;
	}
	struct file_perms fp;
	char buf[4200];
	decide_file(pr, argv[optind], &fp);
	perms_to_string(fp.allow, &fp.x, buf, sizeof(buf));
	if (fp.owner_allow & ~fp.allow) {
		char ob[4200];
		perms_to_string(fp.owner_allow | fp.allow, &fp.owner_x, ob, sizeof(ob));
		printf("%s owner:%s\n", buf, ob);
	} else {
		printf("%s\n", buf);
	}
	policy_free(p);
	return 0;
}

/* ---- show ---- */

static void show_addr(const char *key, const struct net_addr *a)
{
	char ip[64] = "";
	if (a->has_ip == 2)
		strcpy(ip, "none");
	else if (a->has_ip)
		inet_ntop(a->ip_family, a->ip, ip, sizeof(ip));
	if (ip[0])
		printf(" %sip=%s", key, ip);
	if (a->port_lo == a->port_hi)
		printf(" %sport=%u", key, a->port_lo);
	else if (a->port_lo != 0 || a->port_hi != 65535)
		printf(" %sport=%u-%u", key, a->port_lo, a->port_hi);
}

static void show_net(const struct net_rule *n)
{
	static const char *const acc[] = { "create", "bind", "listen", "accept",
		"connect", "send", "receive", "shutdown", "getattr", "setattr",
		"getopt", "setopt" };
	printf("network");
	if (n->access != NET_ALL) {
		printf(" (");
		for (int i = 0, first = 1; i < 12; i++)
			if (n->access & (1u << i)) {
				printf("%s%s", first ? "" : ", ", acc[i]);
				first = 0;
			}
		printf(")");
	}
	if (n->family)
		printf(" %s", net_domain_name(n->family) ? net_domain_name(n->family) : "?");
	if (n->type)
		printf(" %s", net_type_name(n->type) ? net_type_name(n->type) : "?");
	if (n->protocol)
		printf(" %s", n->protocol == IPPROTO_TCP ? "tcp" :
			      n->protocol == IPPROTO_UDP ? "udp" : "icmp");
	show_addr("", &n->local);
	struct net_addr any = { 0 };
	any.port_hi = 65535;
	if (memcmp(&n->peer, &any, sizeof(any))) {
		printf(" peer=(");
		show_addr("", &n->peer);
		printf(" )");
	}
	printf(",\n");
}

static void show_profile(struct ast *a, struct ast_profile *ap, int ind,
			 struct diags *d)
{
	printf("%*sprofile %s", ind, "", ap->name);
	if (ap->attach) {
		char *x = vars_expand(a, ap, ap->attach, &ap->loc, d);
		printf(" %s", x ? x : ap->attach);
		free(x);
	}
	if (ap->flags & PF_COMPLAIN)
		printf(" flags=(complain)");
	printf(" {\n");
	for (size_t i = 0; i < ap->nrules; i++) {
		struct rule *r = &ap->rules[i];
		printf("%*s", ind + 2, "");
		if (r->qual & Q_AUDIT) printf("audit ");
		if (r->qual & Q_DENY) printf("deny ");
		if (r->qual & Q_OWNER) printf("owner ");
		char mode[64];
		switch (r->kind) {
		case R_FILE: {
			if (r->bare) {
				printf("file,\n");
				break;
			}
			char *x = vars_expand(a, ap, r->path, &r->loc, d);
			perms_to_string(r->perms, &r->x, mode, sizeof(mode));
			printf("%s %s,\n", x ? x : r->path, mode);
			free(x);
			break;
		}
		case R_LINK:
			printf("link %s%s -> %s,\n", r->subset ? "subset " : "", r->path, r->path2);
			break;
		case R_CAP:
			if (r->caps == ~0ull) {
				printf("capability,\n");
				break;
			}
			printf("capability");
			for (int c = 0; c < 64; c++)
				if (r->caps & (1ull << c))
					printf(" %s", capability_name(c));
			printf(",\n");
			break;
		case R_NET:
			show_net(&r->net);
			break;
		case R_RLIMIT:
			printf("set rlimit %d <= %llu,\n", r->rlimit.resource,
			       (unsigned long long)r->rlimit.value);
			break;
		case R_CHANGE_PROFILE:
			printf("change_profile%s%s%s%s,\n", r->path ? " " : "",
			       r->path ? r->path : "", r->path2 ? " -> " : "",
			       r->path2 ? r->path2 : "");
			break;
		default:
			printf("%s ...,\n", r->klass);
		}
	}
	for (size_t i = 0; i < ap->nkids; i++)
		show_profile(a, ap->kids[i], ind + 2, d);
	printf("%*s}\n", ind, "");
}

int cmd_show(int argc, char **argv)
{
	struct qopts o;
	if (parse_qopts(argc, argv, false, &o) < 0)
		return 125;
	if (!o.profile) {
		fprintf(stderr, "usage: capgate show --policy DIR --profile NAME\n");
		return 125;
	}
	char **files;
	size_t n;
	if (policy_list_dir(o.policy, &files, &n) < 0) {
		fprintf(stderr, "capgate: cannot read %s: %s\n", o.policy, strerror(errno));
		return 125;
	}
	const char *inc[] = { o.policy, NULL };
	int found = 0;
	struct diags d = { 0 };
	for (size_t i = 0; i < n; i++) {
		struct ast a = { 0 };
		if (parse_file(&a, files[i], inc, &d, NULL) == 0)
			for (size_t j = 0; j < a.nprofiles; j++)
				if (!strcmp(a.profiles[j]->name, o.profile)) {
					show_profile(&a, a.profiles[j], 0, &d);
					found = 1;
				}
		ast_free(&a);
		free(files[i]);
	}
	free(files);
	print_diags(&d);
	diags_free(&d);
	if (!found) {
		fprintf(stderr, "capgate: no profile named '%s' in %s\n", o.profile, o.policy);
		return 125;
	}
	return 0;
}
