/* test_capaudit.c: which capability checks get a line (cg_capaudit.h), and
 * the in-kernel filter's mask, for hand-written profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "policy.h"
#include "capgate/cg_capaudit.h"

#include "check.h"

static struct policy *compile(const char *text)
{
	struct diags d = { 0 };
	struct policy *p = NULL;
	const char *inc[] = { NULL };
	int r = policy_compile_mem("test", text, strlen(text), inc, &d, &p);
	diags_free(&d);
	CHECK(r == 0 && p, "compile failed: %d", r);
	if (!p)
		exit(1);
	return p;
}

enum { CHOWN = 0, DAC = 1, FOWNER = 3, KILL = 5, NET_RAW = 13, SYS_ADMIN = 21 };
#define NONE (-1)

int main(void)
{
	struct policy *pol = compile(
		"profile p {\n"
		"  capability chown,\n"
		"  audit capability fowner,\n"
		"  deny capability kill,\n"
		"  audit deny capability net_raw,\n"
		"}\n"
		"profile c flags=(complain) { capability chown, }\n"
		"profile a flags=(audit) { capability chown, deny capability kill, }\n"
		"profile u flags=(unconfined) { }\n");
	const struct profile *p = policy_find(pol, "p");
	const struct profile *c = policy_find(pol, "c");
	const struct profile *a = policy_find(pol, "a");
	const struct profile *u = policy_find(pol, "u");
	CHECK(p && c && a && u, "profiles");
	struct { const struct profile *pr; int complain, cap, ret, uid, want; } t[] = {
		/* enforce: refusals of what the profile lacks */
		{ p, 0, SYS_ADMIN, -1, 0, AUDIT_DENIED },
		{ p, 0, DAC, -1, 0, AUDIT_DENIED },
		{ p, 0, DAC, -1, 1000, NONE },      /* not root: the kernel's own */
		{ p, 0, CHOWN, -1, 0, NONE },       /* allowed: not AppArmor's refusal */
		{ p, 0, CHOWN, 0, 0, NONE },
		{ p, 0, KILL, -1, 0, NONE },        /* deny is quiet */
		{ p, 0, NET_RAW, -1, 0, AUDIT_DENIED }, /* audit deny is not */
		{ p, 0, FOWNER, 0, 0, AUDIT_AUDIT },
		{ p, 0, FOWNER, 0, 1000, AUDIT_AUDIT },
		{ p, 0, FOWNER, -1, 0, NONE },
		/* complain (--complain or flags): nothing dropped */
		{ p, 1, DAC, 0, 0, AUDIT_ALLOWED },
		{ p, 1, DAC, -1, 0, NONE },
		{ p, 1, KILL, 0, 0, NONE },
		{ p, 1, NET_RAW, 0, 0, AUDIT_ALLOWED },
		{ p, 1, CHOWN, 0, 0, NONE },
		{ p, 1, FOWNER, 0, 0, AUDIT_AUDIT },
		{ c, 0, DAC, 0, 0, AUDIT_ALLOWED },
		{ c, 0, CHOWN, 0, 0, NONE },
		/* flags=(audit): every use, and no quiet */
		{ a, 0, CHOWN, 0, 0, AUDIT_AUDIT },
		{ a, 0, KILL, -1, 0, AUDIT_DENIED },
		/* unconfined: never */
		{ u, 0, DAC, -1, 0, NONE },
		{ u, 1, DAC, 0, 0, NONE },
		{ p, 0, 64, -1, 0, NONE },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int k = cg_capaudit_kind(t[i].pr, t[i].complain, t[i].cap, t[i].ret,
					 (uint32_t)t[i].uid);
		CHECK(k == t[i].want, "case %zu: cap %d ret %d: %d, want %d", i, t[i].cap,
		      t[i].ret, k, t[i].want);
	}
	/* the kernel's mask agrees: a success is sent iff it gets a line */
	const struct profile *all[] = { p, c, a, u };
	for (size_t i = 0; i < 4; i++)
		for (int complain = 0; complain < 2; complain++) {
			uint64_t m = cg_capaudit_success_mask(all[i], complain);
			for (int cap = 0; cap < 64; cap++) {
				int k = cg_capaudit_kind(all[i], complain, cap, 0, 0);
				CHECK(((m >> cap) & 1) == (k >= 0), "profile %zu complain %d cap %d",
				      i, complain, cap);
			}
		}
	policy_free(pol);
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
