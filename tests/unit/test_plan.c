/* test_plan.c: the launcher's pure parts: the sandbox plan (cg_plan.h)
 * for hand-written profiles, cgroup label escaping and instance ids
 * (cg_cgroup.h), and the list Px/Cx/Ux scrub. Exits non-zero on failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "policy.h"
#include "capgate/cg_cgroup.h"
#include "capgate/cg_plan.h"

#include "check.h"

static struct policy *compile(const char *text)
{
	struct diags d = { 0 };
	struct policy *p = NULL;
	const char *inc[] = { NULL };
	int r = policy_compile_mem("test", text, strlen(text), inc, &d, &p);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  %s:%d:%d: %s\n", d.v[i].file ? d.v[i].file : "?",
			d.v[i].line, d.v[i].col, d.v[i].msg);
	diags_free(&d);
	CHECK(r == 0 && p, "compile failed: %d", r);
	return p;
}

/* Index of the first mount op `op` at `dst`, or -1. */
static int find(const struct cg_plan *p, enum cg_mop op, const char *dst)
{
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].op == op && strcmp(p->mounts[i].dst, dst) == 0)
			return (int)i;
	return -1;
}

static void test_plan_minimal(void)
{
	struct policy *pol = compile("profile p { /dev/null rw, }\n");
	if (!pol)
		return;
	const struct profile *pr = policy_find(pol, "p");
	struct cg_plan_in in = { .uid = 0 };
	struct cg_plan plan;
	CHECK(cg_plan_build(pr, &in, &plan) == 0, "build");
	/* the order the apply step relies on */
	int keep = find(&plan, MOP_KEEP, "/dev/shm"), proc = find(&plan, MOP_PROC, "/proc");
	int tmpfs = find(&plan, MOP_TMPFS, "/dev"), restore = find(&plan, MOP_RESTORE, "/dev/shm");
	int ro = find(&plan, MOP_REMOUNT_RO, "/dev");
	CHECK(keep >= 0 && keep < tmpfs, "keep /dev/shm before the tmpfs on /dev");
	CHECK(tmpfs < restore && restore < ro, "restore, then read-only /dev");
	CHECK(proc >= 0 && find(&plan, MOP_RO_SELF, "/proc/sys") > proc, "/proc/sys ro after /proc");
	CHECK(find(&plan, MOP_RO_BIND, "/sys") >= 0, "/sys read-only");
	CHECK(find(&plan, MOP_DEV, "/dev/null") > tmpfs, "/dev/null granted");
	CHECK(find(&plan, MOP_DEV, "/dev/zero") < 0, "/dev/zero not granted");
	CHECK(find(&plan, MOP_DEV, "/dev/tty") < 0, "/dev/tty not granted");
	CHECK(find(&plan, MOP_DEVPTS, "/dev/pts") < 0, "no devpts without /dev/ptmx");
	CHECK(find(&plan, MOP_SYMLINK, "/dev/fd") >= 0, "/dev/fd link");
	CHECK(find(&plan, MOP_SOCKET, "/run/x") < 0, "no notify socket");
	CHECK(plan.drop_caps && plan.caps == 0, "no capability kept");
	CHECK(!plan.userns && !plan.complain, "userns, complain");
	CHECK(plan.nrlimits == 0, "no rlimit");
	policy_free(pol);
}

static void test_plan_rules(void)
{
	struct policy *pol = compile(
		"profile q {\n"
		"  capability chown,\n"
		"  capability net_bind_service,\n"
		"  deny capability sys_admin,\n"
		"  userns,\n"
		"  set rlimit nofile <= 100,\n"
		"  /dev/{zero,urandom} r,\n"
		"  owner /dev/tty rw,\n"
		"  /dev/ptmx rw,\n"
		"}\n"
		"profile c flags=(complain) { }\n");
	if (!pol)
		return;
	struct cg_plan plan;
	struct cg_plan_in in = { .uid = 0, .notify_socket = "/run/systemd/notify" };
	CHECK(cg_plan_build(policy_find(pol, "q"), &in, &plan) == 0, "build");
	CHECK(plan.caps == ((1ull << 0) | (1ull << 10)), "caps %llx", (unsigned long long)plan.caps);
	CHECK(plan.userns, "userns allowed");
	CHECK(plan.nrlimits == 1 && plan.rlimits[0].resource == RLIMIT_NOFILE &&
	      plan.rlimits[0].value == 100, "rlimit nofile 100");
	CHECK(find(&plan, MOP_DEV, "/dev/zero") >= 0 && find(&plan, MOP_DEV, "/dev/urandom") >= 0,
	      "zero, urandom");
	CHECK(find(&plan, MOP_DEV, "/dev/tty") >= 0, "owner rule counts for root");
	CHECK(find(&plan, MOP_DEVPTS, "/dev/pts") >= 0 && find(&plan, MOP_SYMLINK, "/dev/ptmx") >= 0,
	      "devpts and ptmx");
	CHECK(find(&plan, MOP_SOCKET, "/run/systemd/notify") >= 0, "notify socket bound");
	in.uid = 1000;
	in.notify_socket = "@abstract";
	CHECK(cg_plan_build(policy_find(pol, "q"), &in, &plan) == 0, "build");
	CHECK(find(&plan, MOP_DEV, "/dev/tty") < 0, "owner rule does not count for uid 1000");
	CHECK(find(&plan, MOP_SOCKET, "@abstract") < 0, "abstract sockets need no bind");
	in.uid = 0;
	in.complain = true;
	CHECK(cg_plan_build(policy_find(pol, "q"), &in, &plan) == 0, "build");
	CHECK(plan.complain && !plan.drop_caps && plan.userns, "--complain drops nothing");
	in.complain = false;
	CHECK(cg_plan_build(policy_find(pol, "c"), &in, &plan) == 0, "build");
	CHECK(plan.complain && !plan.drop_caps, "flags=(complain)");
	policy_free(pol);
}

/* The direct subtree planned at dst: its attrs, or -1. */
static int op_at(const struct cg_plan *p, const char *dst)
{
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].op == MOP_DIRECT && strcmp(p->mounts[i].dst, dst) == 0)
			return (int)p->mounts[i].attrs;
	return -1;
}

enum { RO = 0, RO_NOEXEC = CG_DIRECT_NOEXEC, RW = CG_DIRECT_RW,
       RW_NOEXEC = CG_DIRECT_RW | CG_DIRECT_NOEXEC };

static void plan_cwd(const char *text, const char *name, bool direct, const char *cwd,
		     struct cg_plan *plan, struct policy **pol)
{
	*pol = compile(text);
	memset(plan, 0, sizeof *plan);
	if (!*pol)
		return;
	struct cg_plan_in in = { .uid = 0, .direct = direct, .cwd = cwd };
	CHECK(cg_plan_build(policy_find(*pol, name), &in, plan) == 0, "build %s", name);
}

static void plan_for(const char *text, const char *name, bool direct, struct cg_plan *plan,
		     struct policy **pol)
{
	plan_cwd(text, name, direct, "/", plan, pol);
}

/* Direct subtrees: only where every path below gets one verdict that a
 * read-only bind gives exactly (cg_plan.h). */
static void test_plan_direct(void)
{
	struct policy *pol;
	struct cg_plan p;
	plan_for("profile d {\n"
		 "  /usr/lib/** mrix,\n"              /* not /usr/lib/ itself */
		 "  /usr/include/{,**} r,\n"          /* the whole tree: noexec */
		 "  /usr/share/{,**} r,\n"
		 "  deny /usr/share/zoneinfo/** r,\n" /* a hole: /usr/share stays */
		 "  /usr/share/locale/{,**} r,\n"
		 "  /usr/local/{,**} mr,\n"           /* m without x: stays */
		 "  /opt/{,**} rw,\n"                 /* read-write */
		 "  /lib64/{,**} ra,\n"               /* append-only: stays */
		 "  /usr/share/i18n/{,**} r,\n"
		 "  owner /usr/share/i18n/** w,\n"    /* an owner grant: stays */
		 "  /etc/ssl/{,**} r,\n"
		 "  audit /usr/lib/git-core/{,**} r,\n" /* audited: stays */
		 "}\n", "d", true, &p, &pol);
	CHECK(op_at(&p, "/usr") < 0 && op_at(&p, "/usr/lib") < 0, "not uniform at the top");
	CHECK(op_at(&p, "/usr/lib/x86_64-linux-gnu") == RO, "below the glob: direct, exec");
	CHECK(op_at(&p, "/usr/lib/gcc") == RO, "/usr/lib/gcc direct");
	CHECK(op_at(&p, "/usr/include") == RO_NOEXEC, "r only: noexec");
	CHECK(op_at(&p, "/usr/include/linux") < 0, "covered by its parent");
	CHECK(op_at(&p, "/usr/share") < 0, "a deny below: not uniform");
	CHECK(op_at(&p, "/usr/share/locale") == RO_NOEXEC, "a uniform child");
	CHECK(op_at(&p, "/usr/share/zoneinfo") < 0, "nothing granted: stays in fsgate");
	CHECK(op_at(&p, "/usr/local") < 0, "m without x stays");
	CHECK(op_at(&p, "/opt") == RW_NOEXEC, "rw: read-write");
	CHECK(op_at(&p, "/lib64") < 0, "append-only stays");
	CHECK(op_at(&p, "/usr/share/i18n") < 0, "owner grants stay");
	CHECK(op_at(&p, "/etc/ssl") == RO_NOEXEC, "/etc/ssl");
	CHECK(op_at(&p, "/usr/lib/git-core") < 0, "audit stays");
	CHECK(p.direct && p.lock_check, "writes and locks go to the supervisor");
	/* the direct mounts come before the tmpfs on /dev and friends */
	CHECK(find(&p, MOP_DIRECT, "/usr/lib/x86_64-linux-gnu") > find(&p, MOP_REMOUNT_RO, "/dev"),
	      "direct mounts last");
	policy_free(pol);

	/* k everywhere: no lock checks; px anywhere: nothing direct */
	plan_for("profile k { /usr/include/{,**} rk, }\n", "k", true, &p, &pol);
	CHECK(op_at(&p, "/usr/include") == RO_NOEXEC && !p.lock_check, "rk: no lock check");
	policy_free(pol);
	/* read-write with l: the supervisor has nothing to answer */
	plan_for("profile w { /opt/{,**} rwlk, }\n", "w", true, &p, &pol);
	CHECK(op_at(&p, "/opt") == RW_NOEXEC && !p.direct && !p.lock_check, "rwlk: no checks");
	policy_free(pol);
	plan_for("profile w { /opt/{,**} rwk, }\n", "w", true, &p, &pol);
	CHECK(op_at(&p, "/opt") == RW_NOEXEC && p.direct, "rw without l: links checked");
	policy_free(pol);
	plan_for("profile l { /opt/{,**} rl, }\n", "l", true, &p, &pol);
	CHECK(op_at(&p, "/opt") < 0, "l without w: a read-only mount could not link");
	policy_free(pol);
	/* the working directory: its shallowest uniform ancestor */
	static const char wp[] = "profile c { /home/ r, /home/** rwlk, deny /home/u/x/{,**} wl, "
				 "/dev/shm/** rwl, /proc/** r, /usr/include/{,**} r, }\n";
	plan_cwd(wp, "c", true, "/home/u/src/lib", &p, &pol);
	CHECK(op_at(&p, "/home") < 0 && op_at(&p, "/home/u") < 0, "not uniform above");
	CHECK(op_at(&p, "/home/u/src") == RW_NOEXEC, "the cwd's uniform ancestor");
	CHECK(op_at(&p, "/home/u/src/lib") < 0, "only one");
	policy_free(pol);
	plan_cwd(wp, "c", true, "/home/u/x", &p, &pol);
	CHECK(op_at(&p, "/home/u/x") == RO_NOEXEC, "the cwd itself, read-only");
	policy_free(pol);
	plan_cwd(wp, "c", true, "/dev/shm/b", &p, &pol);
	CHECK(op_at(&p, "/dev/shm") < 0 && op_at(&p, "/dev/shm/b") == RW_NOEXEC, "below /dev/shm");
	policy_free(pol);
	plan_cwd(wp, "c", true, "/proc/1", &p, &pol);
	CHECK(op_at(&p, "/proc/1") < 0, "not in /proc");
	policy_free(pol);
	plan_cwd("profile r { /run/{,**} rw, }\n", "r", true, "/run/capgate", &p, &pol);
	CHECK(op_at(&p, "/run") < 0 && op_at(&p, "/run/capgate") < 0,
	      "not in /run (its sockets stay out of reach)");
	policy_free(pol);
	plan_cwd(wp, "c", true, "/usr/include/linux", &p, &pol);
	CHECK(op_at(&p, "/usr/include") == RO_NOEXEC && op_at(&p, "/usr/include/linux") < 0,
	      "covered by a system candidate");
	policy_free(pol);
	plan_cwd("profile a { /{,**} rw, }\n", "a", true, "/", &p, &pol);
	CHECK(op_at(&p, "/") < 0, "never / itself");
	policy_free(pol);
	plan_cwd("profile o { /usr/{,**} rw, }\n", "o", true, "/usr", &p, &pol);
	CHECK(op_at(&p, "/usr") == RW_NOEXEC, "/usr itself");
	policy_free(pol);
	plan_for("profile t { /usr/include/{,**} r, /bin/foo px, }\n", "t", true, &p, &pol);
	CHECK(op_at(&p, "/usr/include") < 0 && !p.direct, "a profile with transitions");
	policy_free(pol);
	plan_for("profile u { /usr/include/{,**} r, /usr/bin/** Ux, }\n", "u", true, &p, &pol);
	CHECK(op_at(&p, "/usr/include") < 0, "ux: an unconfined child would find it read-only");
	policy_free(pol);
	/* not asked (fsgate off, CAPGATE_DIRECT=0), complain mode, flags */
	plan_for("profile n { /usr/include/{,**} r, }\n", "n", false, &p, &pol);
	CHECK(op_at(&p, "/usr/include") < 0, "not asked");
	policy_free(pol);
	plan_for("profile c flags=(complain) { /usr/include/{,**} r, }\n", "c", true, &p, &pol);
	CHECK(op_at(&p, "/usr/include") < 0, "complain");
	policy_free(pol);
	plan_for("profile a flags=(audit) { /usr/include/{,**} r, }\n", "a", true, &p, &pol);
	CHECK(op_at(&p, "/usr/include") < 0, "audit");
	policy_free(pol);
	/* ix is the only exec mode a direct subtree may carry */
	plan_for("profile x { /usr/lib/gcc/{,**} mrix, /usr/libexec/{,**} rix, "
		 "audit /usr/libexec/foo ix, }\n", "x", true, &p, &pol);
	CHECK(op_at(&p, "/usr/lib/gcc") == RO, "ix");
	CHECK(op_at(&p, "/usr/libexec") < 0, "an audited exec below");
	policy_free(pol);
}

static void test_labels(void)
{
	char b[300];
	CHECK(cg_label_escape("foo", b, sizeof b) == 3 && !strcmp(b, "foo"), "plain");
	CHECK(cg_label_escape("foo//bar", b, sizeof b) > 0 && !strcmp(b, "foo%2f%2fbar"), "%s", b);
	CHECK(cg_label_escape("/usr/bin/x", b, sizeof b) > 0 && !strcmp(b, "%2fusr%2fbin%2fx"), "%s", b);
	CHECK(cg_label_escape("50%", b, sizeof b) > 0 && !strcmp(b, "50%25"), "%s", b);
	CHECK(cg_label_escape("..", b, sizeof b) == -EINVAL, "..");
	CHECK(cg_label_escape("", b, sizeof b) == -EINVAL, "empty");
	char big[200];
	memset(big, '/', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(cg_label_escape(big, b, sizeof b) == -ENAMETOOLONG, "over 255 bytes");

	pid_t pid;
	unsigned long long st;
	CHECK(cg_parse_id("123-456", &pid, &st) == 0 && pid == 123 && st == 456, "id");
	CHECK(cg_parse_id("123-456.ux", &pid, &st) == 0 && pid == 123, "ux sibling");
	CHECK(cg_parse_id("123-", &pid, &st) < 0, "no start");
	CHECK(cg_parse_id("x-1", &pid, &st) < 0, "not a pid");
	CHECK(cg_parse_id("12-3x", &pid, &st) < 0, "junk");
	CHECK(cg_parse_id("cgroup.procs", &pid, &st) < 0, "kernel file");
	char id[64];
	CHECK(cg_instance_id(getpid(), id, sizeof id) == 0 &&
	      cg_parse_id(id, &pid, &st) == 0 && pid == getpid(), "own id %s", id);
	/* the start time is field 22 of /proc/self/stat (a stable number; a
	 * wrong field such as vsize changes as the process allocates, and
	 * another launcher would take a live instance for a stale one) */
	FILE *f = fopen("/proc/self/stat", "r");
	char sbuf[1024] = "";
	if (f) {
		if (!fgets(sbuf, sizeof sbuf, f))
			sbuf[0] = '\0';
		fclose(f);
	}
	char *rp = strrchr(sbuf, ')');
	unsigned long long want = 0;
	CHECK(rp && sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			   "%*d %*d %*d %*d %*d %*d %llu", &want) == 1, "parse stat");
	CHECK(st == want, "start time %llu, want field 22 = %llu", st, want);
	void *grow = malloc(64 << 20);
	if (grow)
		memset(grow, 1, 1 << 20);
	char id2[64];
	CHECK(cg_instance_id(getpid(), id2, sizeof id2) == 0 && strcmp(id, id2) == 0,
	      "the id does not change as memory grows: %s vs %s", id, id2);
	free(grow);
}

static void test_scrub(void)
{
	size_t n = 0;
	for (const char *const *p = cg_env_scrub; *p; p++)
		n++;
	CHECK(n == 21, "the seeds' list has 21 names, got %zu", n);
	CHECK(cg_env_is_unsafe("LD_PRELOAD=/x.so"), "LD_PRELOAD");
	CHECK(cg_env_is_unsafe("TMPDIR=/tmp"), "TMPDIR");
	CHECK(cg_env_is_unsafe("TZDIR"), "name only");
	CHECK(!cg_env_is_unsafe("LD_PRELOADX=1"), "prefix only");
	CHECK(!cg_env_is_unsafe("PATH=/bin"), "PATH kept");
	CHECK(!cg_env_is_unsafe("GLIBC_TUNABLES=x"), "not in the seeds' list");
}

int main(void)
{
	test_plan_minimal();
	test_plan_rules();
	test_plan_direct();
	test_labels();
	test_scrub();
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
