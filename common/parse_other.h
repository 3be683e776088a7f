/* parse_other.h: shared by the parsers of the rule classes capgate checks
 * but does not enforce (parse_other.c, parse_classes.c, parse_mount.c).
 *
 * Upstream's lexer switches into a per-class mode after the class keyword
 * (parser_lex.l: DBUS_MODE, MOUNT_MODE, ...), where a rule reads
 *     CLASS [PERMS] [key=value | key=(v v) | key in (v v)]... [ID] [-> ...]
 * Our scanner is context free, so orule_read() rebuilds that shape from the
 * rule's tokens (gluing tokens that touch, as upstream's longer tokens do)
 * into a struct orule, which a per-class check then validates. Nothing in
 * here is enforced; the checks only decide accept/reject and report. */
#ifndef CAPGATE_PARSE_OTHER_H
#define CAPGATE_PARSE_OTHER_H

#include "parse_int.h"

#define OR_MAX_CONDS 64   /* conditionals in one rule */
#define OR_MAX_VALS 256   /* values in one (list) */

/* Permission bits, upstream's numbering where it matters for checks. */
enum {
	OP_WRITE = 1u << 1, /* w, write, send, trace */
	OP_READ = 1u << 2,  /* r, read, receive */
};

struct pword {
	const char *word;
	uint32_t bits;
};

enum ocmp { OC_NONE, OC_EQ, OC_IN };

struct ocond {
	char *name;
	struct loc loc;
	enum ocmp cmp;
	bool list;   /* values were given in (...) */
	bool peer;   /* inside the trailing key=( ... ) group */
	char **vals;
	struct loc *vlocs;
	size_t nvals;
};

struct oid {
	char *text;
	struct loc loc;
};

struct klass;

/* A rule of one of these classes, in upstream's shape. */
struct orule {
	const struct klass *k;
	struct loc kwloc;      /* the class keyword */
	bool has_perms;
	uint32_t perms;        /* 0 with has_perms: "()" or io_uring words */
	struct loc perm_loc;
	struct ocond conds[OR_MAX_CONDS];
	size_t nconds;
	bool has_group;        /* key=( conds ) */
	char *group;           /* its key */
	struct loc group_loc;
	struct oid id;         /* positional id (mount source, mqueue name...) */
	bool has_id;
	bool arrow;
	struct loc arrow_loc;
	size_t ndst_conds;     /* conditionals after '->' (mount) */
	struct loc dst_loc;
	struct oid target;     /* after '->' */
	bool has_target;
};

/* Lexing and grammar of one class; `check` validates the read rule. */
struct klass {
	const char *name;
	uint32_t px;                /* PX_* for the launcher (allow rules) */
	const struct pword *perms;  /* perm words; NULL: the class takes none */
	bool rw_modes;              /* r w rw wr (and [rRwW]+ in lists) */
	bool paren_perms;           /* takes a (perm list) */
	bool list_unknown_ok;       /* io_uring: unknown list words are ignored */
	bool group;                 /* takes one trailing key=(conds) group */
	bool conds;                 /* takes key=value conditionals */
	bool id;                    /* takes one positional id */
	int arrow;                  /* 0: no '->'; 1: mount (conds + id); 2: id */
	int (*check)(struct parser *P, struct orule *o, struct rule *r);
};

/* A cursor over a rule's tokens (parse_oread.c). */
struct cur {
	struct parser *P;
	struct toks *t;
	size_t i;
	const char *klass; /* for messages */
};
struct ptok *cur_peek(struct cur *c, size_t ahead); /* NULL past the end */
/* Reports "unexpected" at tk (or the rule's end); returns -EINVAL. */
int cur_unexpected(struct cur *c, const struct ptok *tk);
/* One value: a string, or a word with the words and '=' touching it. */
int cur_value(struct cur *c, bool in_group, char **out, struct loc *at);

int orule_read(struct parser *P, const struct klass *k, struct toks *t,
	       size_t i, struct orule *o);
void orule_free(struct orule *o);

/* Upstream's regex syntax check (parser_regex.c convert_aaregex_to_pcre):
 * unbalanced [] or {}, "{x}" without a ',', a trailing '\'. @{VAR}
 * references are skipped (they are expanded later). Reports at `at`
 * and returns -EINVAL on error. */
int glob_check(struct parser *P, const char *what, const char *s,
	       const struct loc *at);

/* Conditional helpers for the class checks. */
int cond_single(struct parser *P, const char *klass, const struct ocond *c);
int cond_eq_only(struct parser *P, const char *klass, const struct ocond *c);

const struct klass *klass_find(const char *name);

int check_mount(struct parser *P, struct orule *o, struct rule *r);
int check_pivot_root(struct parser *P, struct orule *o, struct rule *r);

#endif
