/* netgate: confine cgroups' network use with nftables.
 *
 *   netgate attach --policy DIR --cgroup PATH --profile NAME [...]
 *   netgate detach --cgroup PATH | --all
 *   netgate list
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "netgate.h"
#include "ng_cgroup.h"
#include "ng_nflog.h"
#include "ng_seccomp.h"
#include "ng_state.h"
#include "policy.h"

#define MAX_PAIRS NG_MAX_BINDINGS

static const char usage[] =
"usage: netgate attach --policy DIR --cgroup PATH --profile NAME\n"
"                      [--cgroup PATH --profile NAME]... [-v]\n"
"       netgate attach --policy DIR --from FILE [-v]   (lines: PATH NAME)\n"
"       netgate detach --cgroup PATH | --all\n"
"       netgate list [-v]\n"
"       netgate exec --policy DIR --profile NAME [--cgroup PATH] -- CMD [ARG]...\n"
"       netgate log [--log FILE]\n"
"\n"
"Confines the network use of every process in a cgroup v2 (and its\n"
"descendants) to a profile's network rules, with nftables.\n"
"\n"
"  The cgroup2 mount is found in /proc/self/mounts (/sys/fs/cgroup or\n"
"  /sys/fs/cgroup/unified); PATH is absolute under it or relative to it.\n"
"  All state lives in one table of our own, `inet capgate`, changed only\n"
"  in atomic batches; other tables are never touched. Packets find their\n"
"  profile through `socket cgroupv2 level N` and a verdict map keyed by\n"
"  cgroup id, so their cost does not grow with the number of profiles.\n"
"  attach replaces a cgroup's profile atomically; attach and detach are\n"
"  idempotent and drop bindings of cgroups that no longer exist; the table\n"
"  goes with the last binding.\n"
"\n"
"  A denied packet is refused at once: an outgoing TCP connection gets a\n"
"  reset (connect() fails with ECONNREFUSED), other outgoing packets are\n"
"  dropped (send() fails with EPERM), an incoming connection to a denied\n"
"  port gets a reset (TCP) or port unreachable (UDP); bind(2) to a port\n"
"  the profile denies fails with EPERM (cgroup sock_addr BPF programs,\n"
"  attached to the cgroup). Denials and audit\n"
"  rules log to nflog group 2718 with the prefix \"capgate DENIED|AUDIT\n"
"  <profile>\". socket(2) itself is controlled by the seccomp filter that\n"
"  `capgate exec` installs, and `netgate exec` for a service: it joins the\n"
"  cgroup when given, loads the filter (socket(2)/socketpair(2) of a kind\n"
"  the profile lacks and io_uring fail with EACCES), then runs CMD.\n"
"  `netgate log` turns the logged packets of this network namespace into\n"
"  AppArmor-format lines (apparmor=\"DENIED\" operation=\"connect\" ...) in\n"
"  FILE, or syslog; it runs until killed, one per namespace.\n"
"  See netgate(1).\n";

static void die(const char *fmt, const char *arg, int err)
{
	fprintf(stderr, "netgate: ");
	fprintf(stderr, fmt, arg);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

struct opts {
	const char *policy;
	const char *from;
	const char *log;
	const char **cgroups;
	const char **profiles;
	size_t ncg, npr;
	int all;
	int verbose;
};

static void load_pairs(struct opts *o)
{
	FILE *f = strcmp(o->from, "-") ? fopen(o->from, "r") : stdin;
	if (!f)
		die("%s", o->from, errno);
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL;
		char *cg = strtok_r(line, " \t\n", &save);
		char *pr = strtok_r(NULL, " \t\n", &save);
		if (!cg || cg[0] == '#')
			continue;
		if (!pr)
			die("%s: a line without a profile", o->from, 0);
		if (o->ncg >= MAX_PAIRS)
			die("%s: too many lines", o->from, 0);
		o->cgroups[o->ncg++] = strdup(cg);
		o->profiles[o->npr++] = strdup(pr);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

static struct policy *load_policy(const char *dir)
{
	struct diags d = { 0 };
	struct policy *pol = NULL;
	int r = policy_load_dir(dir, NULL, &d, &pol);
	if (r < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s:%d:%d: %s\n", d.v[i].file ? d.v[i].file : dir,
				d.v[i].line, d.v[i].col, d.v[i].msg);
		diags_free(&d);
		die("%s: cannot load the policy", dir, -r);
	}
	diags_free(&d);
	return pol;
}

static int cmd_attach(struct opts *o)
{
	if (!o->policy)
		die("attach needs --policy DIR%s", "", 0);
	if (o->from)
		load_pairs(o);
	if (o->ncg == 0 || o->ncg != o->npr)
		die("attach needs --cgroup PATH --profile NAME pairs%s", "", 0);
	struct policy *pol = load_policy(o->policy);
	int r;
	struct ng_target *t = calloc(o->ncg, sizeof *t);
	if (!t)
		die("%s", "memory", ENOMEM);
	for (size_t i = 0; i < o->ncg; i++) {
		t[i].cgroup = o->cgroups[i];
		t[i].pr = policy_find(pol, o->profiles[i]);
		if (!t[i].pr)
			die("no profile %s in the policy", o->profiles[i], 0);
	}
	struct ng_stats st = { 0 };
	r = ng_attach_many(t, o->ncg, &st);
	if (r < 0)
		die("attach %s", o->ncg == 1 ? o->cgroups[0] : "(several)", -r);
	if (o->verbose)
		fprintf(stderr,
			"netgate: %zu binding(s): read %ld us, plan+build %ld us, "
			"commit %ld us, %zu messages, %zu tries\n",
			o->ncg, st.read_us, st.build_us, st.commit_us, st.messages, st.tries);
	free(t);
	policy_free(pol);
	return 0;
}

static int cmd_detach(struct opts *o)
{
	int r;
	if (o->all) {
		r = ng_detach_all();
		if (r < 0)
			die("detach --all%s", "", -r);
		return 0;
	}
	if (o->ncg == 0)
		die("detach needs --cgroup PATH or --all%s", "", 0);
	for (size_t i = 0; i < o->ncg; i++)
		if ((r = ng_detach(o->cgroups[i])) < 0)
			die("detach %s", o->cgroups[i], -r);
	return 0;
}

static int cmd_list(struct opts *o)
{
	struct ng_state st = { 0 };
	int r = ng_list(&st);
	if (r < 0)
		die("list%s", "", -r);
	for (size_t i = 0; i < st.nb; i++) {
		const char *p = ng_state_profile(&st, st.b[i].hash);
		printf("%s\t%s\tid=%llu level=%d chains=p%016llx\n", st.b[i].path,
		       p ? p : "?", (unsigned long long)st.b[i].id, st.b[i].level,
		       (unsigned long long)st.b[i].hash);
	}
	if (o->verbose)
		fprintf(stderr, "netgate: table %s, %zu binding(s), %zu profile chain(s)\n",
			st.table ? "present" : "absent", st.nb, st.nc);
	ng_state_clear(&st);
	return 0;
}

static int cmd_exec(struct opts *o, char **cmd)
{
	if (!o->policy || o->npr != 1 || !cmd[0])
		die("exec needs --policy DIR --profile NAME -- CMD%s", "", 0);
	struct policy *pol = load_policy(o->policy);
	const struct profile *pr = policy_find(pol, o->profiles[0]);
	if (!pr)
		die("no profile %s in the policy", o->profiles[0], 0);
	if (o->ncg == 1) {
		char root[4096], path[4096 + NG_CGROUP_PATH_MAX + 32];
		struct ng_cgroup cg;
		int r = ng_cgroup_root(root, sizeof root);
		if (r == 0)
			r = ng_cgroup_resolve(root, o->cgroups[0], &cg);
		if (r < 0)
			die("cgroup %s", o->cgroups[0], -r);
		snprintf(path, sizeof path, "%s%s/cgroup.procs", root, cg.rel);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			die("join %s", path, errno);
		close(fd);
	}
	int r = ng_seccomp_load(pr);
	if (r < 0)
		die("seccomp filter for %s", o->profiles[0], -r);
	execvp(cmd[0], cmd);
	die("exec %s", cmd[0], errno);
	return 127;
}

static int cmd_log(struct opts *o)
{
	struct audit_sink *sink = audit_sink_open(o->log, 100);
	if (!sink)
		die("%s", o->log ? o->log : "syslog", errno);
	int r = ng_nflog_run(sink);
	audit_sink_close(sink);
	die("log: nflog group 2718%s", "", -r);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policy", required_argument, 0, 'P' },
		{ "cgroup", required_argument, 0, 'c' },
		{ "profile", required_argument, 0, 'p' },
		{ "from", required_argument, 0, 'f' },
		{ "log", required_argument, 0, 'l' },
		{ "all", no_argument, 0, 'a' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct opts o = { 0 };
	o.cgroups = calloc(MAX_PAIRS, sizeof *o.cgroups);
	o.profiles = calloc(MAX_PAIRS, sizeof *o.profiles);
	if (!o.cgroups || !o.profiles)
		die("%s", "memory", ENOMEM);
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	optind = 2;
	int c;
	while ((c = getopt_long(argc, argv, "+vh", lo, NULL)) != -1) {
		switch (c) {
		case 'P': o.policy = optarg; break;
		case 'c':
			if (o.ncg >= MAX_PAIRS)
				die("too many --cgroup%s", "", 0);
			o.cgroups[o.ncg++] = optarg;
			break;
		case 'p':
			if (o.npr >= MAX_PAIRS)
				die("too many --profile%s", "", 0);
			o.profiles[o.npr++] = optarg;
			break;
		case 'f': o.from = optarg; break;
		case 'l': o.log = optarg; break;
		case 'a': o.all = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!strcmp(cmd, "exec"))
		return cmd_exec(&o, argv + optind);
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(cmd, "attach"))
		return cmd_attach(&o);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(&o);
	if (!strcmp(cmd, "list"))
		return cmd_list(&o);
	if (!strcmp(cmd, "log"))
		return cmd_log(&o);
	fprintf(stderr, "netgate: unknown command %s\n", cmd);
	fputs(usage, stderr);
	return 2;
}
