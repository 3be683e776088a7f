/* test_parse_other.c: the rule classes capgate checks but does not enforce
 * (common/parse_other.c, parse_oread.c, parse_classes.c, parse_mount.c).
 *
 * Each case is a small profile parsed with parse_mem(): accepted or
 * rejected, and for a rejection the line:col of the first error (the
 * offending token). Then the AST of accepted rules: the PX_* bits the
 * launcher maps are set for allow rules only, and a failing rule is dropped
 * from its profile. Exits non-zero and prints each failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

#include "check.h"

struct pcase {
	const char *rule; /* placed on line 3, column 3 of a profile */
	int col;          /* column of the first error on line 3; 0: accept */
};

/* Rules start at column 3 ("  " indent): the column of a token is 3 plus
 * its offset in the rule string. */
static const struct pcase cases[] = {
	/* signal */
	{ "signal,", 0 },
	{ "signal (send, receive) set=(hup, int) peer=foo,", 0 },
	{ "signal (r send,,,, receive,write,rw),", 0 },
	{ "signal set=rtmin+32 set=(rtmin+001),", 0 },
	{ "signal send set=nohup,", 19 },
	{ "signal set=rtmin+33,", 14 },
	{ "signal send peer=foo peer=bar,", 24 },
	{ "signal send receive,", 15 },
	{ "signal peer=(label=foo),", 10 },
	{ "signal (send, frob),", 17 },
	{ "owner signal,", 3 },
	{ "deny audit signal,", 8 },
	/* ptrace */
	{ "ptrace (read, readby, trace, tracedby, r, w, rw),", 0 },
	{ "ptrace tracedby peer=/usr/bin/gdb,", 0 },
	{ "ptrace send,", 10 },
	{ "ptrace peer=/a peer=/b,", 18 },
	/* dbus */
	{ "dbus send bus=session path=/a interface=b member=c peer=(name=d label=e),", 0 },
	{ "dbus bind bus=session name=org.foo,", 0 },
	{ "dbus eavesdrop bus=system,", 0 },
	{ "dbus bind bus=session member=blort,", 8 },
	{ "dbus send name=org.foo,", 8 },
	{ "dbus eavesdrop interface=wat,", 8 },
	{ "dbus send bus=(session, system),", 27 },
	{ "dbus send bus=session bus=system,", 25 },
	{ "dbus send label=foo,", 13 },
	{ "dbus send peer=(name=foolabel=bar),", 32 },
	{ "dbus send path=/a/{b,c peer=(label=x),", 18 },
	{ "dbus bind name=abcd]efg,", 18 },
	{ "dbus send xattrs=(a=b),", 13 },
	/* unix */
	{ "unix (send, receive, connect) type=stream peer=(addr=@foo label=bar),", 0 },
	{ "unix bind addr=@sock,", 0 },
	{ "unix listen peer=(label=x),", 8 },
	{ "unix bind label=foo,", 13 },
	{ "unix send type=stream type=dgram,", 25 },
	{ "unix send addr=/tmp/sock,", 18 },
	{ "unix send type=(stream, dgram),", 27 },
	{ "unix send protocol=1,", 13 },
	/* mqueue */
	{ "mqueue (create, write) type=posix label=baz /bar,", 0 },
	{ "mqueue (open, delete) type=sysv 1234,", 0 },
	{ "mqueue type=sysv /queue,", 20 },
	{ "mqueue type=posix 1234,", 21 },
	{ "mqueue type=posixfoo,", 15 },
	{ "mqueue 1234foo,", 10 },
	{ "mqueue /a /b,", 13 },
	/* io_uring, userns, all */
	{ "io_uring (sqpoll override_creds) label = /bar,", 0 },
	{ "io_uring sqpoll,", 0 },
	{ "io_uring r,", 12 },
	{ "io_uring peer=foo,", 12 },
	{ "userns create,", 0 },
	{ "userns (create),", 10 },
	{ "all,", 0 },
	{ "all foo,", 7 },
	{ "owner all,", 3 },
	/* mount */
	{ "mount,", 0 },
	{ "mount options=(ro, nosuid) fstype=ext4 /dev/sda1 -> /mnt/,", 0 },
	{ "mount options in (ro, rw) -> /foo,", 0 },
	{ "mount options=(rbind) /a -> /b,", 0 },
	{ "mount options=(private) -> /b,", 0 },
	{ "remount options=(ro) /mnt/,", 0 },
	{ "umount /mnt/**,", 0 },
	{ "mount options=(rw, ro) -> /foo,", 9 },
	{ "mount options=(XXX) /a -> /1,", 18 },
	{ "mount options=(private) /a -> /1,", 3 },
	{ "mount options=(remount) /a -> /1,", 3 },
	{ "mount options=(bind) fstype=ext4 /a -> /1,", 3 },
	{ "mount foo=bar /a,", 9 },
	{ "mount /a -> fstype=ext4 /b,", 15 },
	{ "mount /a -> ,", 15 },
	{ "mount /a{b -> /c,", 9 },
	{ "owner mount,", 3 },
	{ "pivot_root oldroot=/mnt/old/ /mnt/ -> child,", 0 },
	{ "pivot_root,", 0 },
	{ "pivot_root foo=/x /mnt/,", 14 },
	/* change_profile */
	{ "change_profile,", 0 },
	{ "change_profile -> foo,", 0 },
	{ "change_profile safe /usr/bin/bar -> safe,", 0 },
	{ "change_profile unsafe /usr/bin/bar,", 0 },
	{ "change_profile @{HOME}/bin/x -> :ns:prof,", 0 },
	{ "change_profile safe,", 18 },
	{ "change_profile unsafe -> baz,", 18 },
	{ "change_profile bin/foo -> bar,", 18 },
	{ "change_profile -> ,", 18 },
	{ "change_profile /a -> b c,", 26 },
	{ "owner change_profile,", 3 },
	{ "deny audit change_profile,", 8 },
	{ "audit deny change_profile -> /bin/*,", 0 },
};

static void run_case(const struct pcase *c)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "@{HOME}=/home/a\nprofile t {\n  %s\n}\n", c->rule);
	struct ast a = { 0 };
	struct diags d = { 0 };
	int rc = parse_mem(&a, "t", buf, strlen(buf), NULL, &d);
	if (!c->col) {
		CHECK(rc == 0 && d.nerrors == 0, "'%s' rejected: %s", c->rule,
		      d.n ? d.v[0].msg : "(no message)");
	} else {
		const struct diag *e = NULL;
		for (size_t i = 0; i < d.n && !e; i++)
			if (!d.v[i].warning)
				e = &d.v[i];
		CHECK(rc != 0 && e, "'%s' accepted", c->rule);
		if (e)
			CHECK(e->line == 3 && e->col == c->col,
			      "'%s': error at %d:%d, want 3:%d (%s)", c->rule,
			      e->line, e->col, c->col, e->msg);
		if (e)
			CHECK(e->msg && e->msg[0], "'%s': empty message", c->rule);
	}
	ast_free(&a);
	diags_free(&d);
}

/* PX_* bits: allow rules grant them, deny rules do not; a failing rule is
 * dropped (never half-applied) and the rules around it stay. */
static void test_ast(void)
{
	static const char prof[] =
		"profile t {\n"
		"  io_uring,\n"
		"  deny mount,\n"
		"  dbus bind bus=session member=x,\n"
		"  userns create,\n"
		"  change_profile -> foo,\n"
		"  audit pivot_root,\n"
		"}\n";
	struct ast a = { 0 };
	struct diags d = { 0 };
	int rc = parse_mem(&a, "t", prof, strlen(prof), NULL, &d);
	CHECK(rc != 0 && d.nerrors == 1, "one bad rule: rc %d, %zu errors", rc, d.nerrors);
	CHECK(a.nprofiles == 1, "profile kept");
	if (a.nprofiles != 1)
		goto out;
	const struct ast_profile *p = a.profiles[0];
	CHECK(p->nrules == 5, "the dbus rule is dropped: %zu rules", p->nrules);
	if (p->nrules != 5)
		goto out;
	CHECK(p->rules[0].kind == R_OTHER && p->rules[0].extra == PX_IO_URING &&
	      !strcmp(p->rules[0].klass, "io_uring"), "io_uring grants PX_IO_URING");
	CHECK(p->rules[1].kind == R_OTHER && p->rules[1].extra == 0,
	      "deny mount grants nothing");
	CHECK(p->rules[2].extra == PX_USERNS_CREATE, "userns create");
	CHECK(p->rules[3].kind == R_CHANGE_PROFILE &&
	      p->rules[3].extra == PX_CHANGE_PROFILE && p->rules[3].path2 &&
	      !strcmp(p->rules[3].path2, "foo"), "change_profile target kept");
	CHECK(p->rules[4].extra == PX_PIVOT_ROOT, "audit pivot_root");
out:
	ast_free(&a);
	diags_free(&d);
}

/* safe and unsafe change_profile for the same exec and target conflict */
static void test_cp_conflict(void)
{
	static const char bad[] = "profile t {\n"
		"  change_profile /onexec -> /bin/foo,\n"
		"  change_profile unsafe /onexec -> /bin/foo,\n"
		"}\n";
	static const char ok[] = "profile t {\n"
		"  change_profile safe /onexec -> /bin/foo,\n"
		"  change_profile /onexec -> /bin/foo,\n"
		"  change_profile unsafe /onexec -> /bin/bar,\n"
		"}\n";
	struct ast a = { 0 };
	struct diags d = { 0 };
	CHECK(parse_mem(&a, "t", bad, strlen(bad), NULL, &d) != 0 && d.n &&
	      d.v[0].line == 3 && d.v[0].col == 3, "safe/unsafe conflict reported at 3:3");
	ast_free(&a);
	diags_free(&d);
	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	CHECK(parse_mem(&a, "t", ok, strlen(ok), NULL, &d) == 0, "no conflict: %s",
	      d.n ? d.v[0].msg : "");
	ast_free(&a);
	diags_free(&d);
}

/* Hostile input: deep lists, long values, unbalanced parens never crash. */
static void test_hostile(void)
{
	size_t n = 200000;
	char *buf = malloc(n + 64);
	if (!buf)
		return;
	strcpy(buf, "profile t {\n  dbus send path=");
	size_t l = strlen(buf);
	memset(buf + l, '{', n / 2);
	l += n / 2;
	strcpy(buf + l, ",\n  signal set=(");
	l = strlen(buf);
	for (int i = 0; i < 400; i++)
		l += (size_t)sprintf(buf + l, "hup ");
	strcpy(buf + l, "),\n  unix peer=((((,\n}\n");
	struct ast a = { 0 };
	struct diags d = { 0 };
	CHECK(parse_mem(&a, "t", buf, strlen(buf), NULL, &d) != 0, "hostile input rejected");
	ast_free(&a);
	diags_free(&d);
	free(buf);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_ast();
	test_cp_conflict();
	test_hostile();
	printf("test_parse_other: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
