/* ast.h: the parsed profile set, before variable expansion and compilation.
 * Every node carries its source location. Strings are owned by the node. */
#ifndef CAPGATE_AST_H
#define CAPGATE_AST_H

#include <stdbool.h>
#include <stdint.h>
#include "policy.h"
#include "scan.h"

enum rule_kind {
	R_FILE,           /* path perms [-> target] */
	R_LINK,           /* link [subset] a -> b */
	R_CAP,            /* capability [names] */
	R_NET,            /* network ... */
	R_RLIMIT,         /* set rlimit r <= v */
	R_CHANGE_PROFILE, /* change_profile [exec] [-> target] */
	R_OTHER,          /* dbus, mount, signal, ptrace, unix, ... (validated, not enforced here) */
	R_KIND_MAX
};

enum {
	Q_AUDIT = 1u << 0,
	Q_DENY = 1u << 1,
	Q_ALLOW = 1u << 2,
	Q_OWNER = 1u << 3,
	Q_OTHER = 1u << 4, /* "other": non-owner */
	Q_QUIET = 1u << 5,
	Q_PRIORITY = 1u << 6,
	Q_COMPLAIN = 1u << 7, /* rule-level complain (4.x) */
};

struct rule {
	enum rule_kind kind;
	struct loc loc;
	uint32_t qual;   /* Q_* */
	int priority;
	/* R_FILE: path, perms, x; R_LINK: path, path2, subset */
	char *path;
	char *path2;
	uint32_t perms;
	struct xtrans x; /* target owned (cast away const) */
	bool subset;
	bool bare;       /* `file,` with no path */
	/* R_CAP */
	uint64_t caps;   /* all caps for bare `capability,` */
	/* R_NET */
	struct net_rule net;
	/* R_RLIMIT */
	struct rlimit_rule rlimit;
	/* R_OTHER: which class ("mount", "dbus", ...); extra bits for PX_* */
	const char *klass;
	uint32_t extra;
};

struct ast_profile {
	char *name;   /* short name (hat or child: its own name) */
	char *attach; /* attachment glob, or NULL */
	struct loc loc;
	uint32_t flags; /* PF_* */
	bool is_hat;
	bool attach_from_name; /* "/path {": the name is the attachment */
	bool keyword;          /* declared with 'profile' */
	struct rule *rules;
	size_t nrules, caprules;
	struct ast_profile **kids;
	size_t nkids;
	struct ast_profile *parent;
	uint32_t warned; /* bit per class warned about (once per profile) */
};

struct var {
	char *name; /* without @{ } or $ */
	char **vals;
	size_t nvals;
	bool is_bool, bval;
	struct loc loc;
};

struct alias {
	char *from, *to;
};

struct ast {
	struct ast_profile **profiles;
	size_t nprofiles;
	struct var *vars;
	size_t nvars;
	struct alias *aliases;
	size_t naliases;
	struct scanner **scanners; /* kept alive: locations point into them */
	size_t nscanners;
};

struct ast_profile *ast_profile_new(void);
void ast_profile_free(struct ast_profile *p);
void ast_free(struct ast *a);
struct rule *ast_add_rule(struct ast_profile *p);
struct var *ast_find_var(struct ast *a, const char *name, bool is_bool);

/* Parse one file (and what it includes) into `a`, appending profiles and
 * variables. Errors go to d; returns 0 or -EINVAL. */
int parse_file(struct ast *a, const char *path, const char *const *incdirs,
	       struct diags *d, unsigned char digest[32]);
int parse_mem(struct ast *a, const char *name, const char *buf, size_t len,
	      const char *const *incdirs, struct diags *d);

#endif
