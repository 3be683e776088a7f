/* test_policy.c: decisions of compiled profiles against hand-written
 * expectations, and clear errors (never a crash) for malformed input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#include "check.h"

static char dir[] = "/dev/shm/capgate-test-policy.XXXXXX";

static char *write_file(const char *name, const char *text, size_t len)
{
	char *path;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		exit(2);
	FILE *f = fopen(path, "w");
	if (!f)
		exit(2);
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

/* Compiles text; returns the policy or NULL, with the diagnostics. */
static struct policy *compile(const char *text, size_t len, struct diags *d)
{
	char *path = write_file("profile", text, len);
	const char *files[] = { path };
	const char *inc[] = { dir, NULL };
	struct policy *p = NULL;
	memset(d, 0, sizeof(*d));
	policy_compile_files(files, 1, inc, d, &p);
	free(path);
	return p;
}

static void expect_mode(const struct profile *pr, const char *path,
			const char *want)
{
	struct file_perms fp;
	char buf[128];
	decide_file(pr, path, &fp);
	perms_to_string(fp.allow, &fp.x, buf, sizeof(buf));
	CHECK(!strcmp(buf, want), "%s: got '%s', want '%s'", path, buf, want);
}

static void expect_error(const char *text, size_t len, int line,
			 const char *needle)
{
	struct diags d;
	struct policy *p = compile(text, len, &d);
	CHECK(p == NULL, "accepted bad input: %.60s", text);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].warning && (line == 0 || d.v[i].line == line) &&
		    d.v[i].msg && strstr(d.v[i].msg, needle))
			found = true;
	if (!found) {
		fprintf(stderr, "  diagnostics were:\n");
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "    %d:%d %s\n", d.v[i].line, d.v[i].col,
				d.v[i].msg);
	}
	CHECK(found, "no error '%s' on line %d for: %.60s", needle, line, text);
	diags_free(&d);
	policy_free(p);
}

static void test_decisions(void)
{
	const char *text =
		"@{HOME} = /home/*/ /root/\n"
		"profile t /usr/bin/t {\n"
		"  /etc/** r,\n"
		"  deny /etc/shadow r,\n"
		"  /srv/{a,b}/** rw,\n"
		"  owner @{HOME}.cache/** rwk,\n"
		"  @{HOME}/.config/** r,\n"
		"  /usr/lib/**.so* mr,\n"
		"  /usr/bin/helper Px -> helper,\n"
		"  /usr/bin/* ix,\n"
		"  /var/log/t.log a,\n"
		"  audit /data/** r,\n"
		"  capability chown,\n"
		"  network inet stream,\n"
		"  deny network inet6,\n"
		"  set rlimit nofile <= 1024,\n"
		"  ^hat { /hat/** r, }\n"
		"  profile kid /usr/bin/k* { }\n"
		"  profile kid2 /usr/bin/kk { }\n"
		"}\n"
		"profile helper { unix, }\n"
		"profile everything { all, deny network inet6, }\n";
	struct diags d;
	struct policy *p = compile(text, strlen(text), &d);
	CHECK(p != NULL, "sample profile rejected");
	if (!p) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "  %d:%d %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
		diags_free(&d);
		return;
	}
	diags_free(&d);
	const struct profile *pr = policy_find(p, "t");
	CHECK(pr != NULL, "profile t missing");
	expect_mode(pr, "/etc/passwd", "r");
	expect_mode(pr, "/etc/ssl/certs/x", "r");
	expect_mode(pr, "/etc/shadow", "-");   /* deny wins */
	expect_mode(pr, "/etc", "-");          /* ** needs a character after / */
	expect_mode(pr, "/srv/a/x/y", "rw");
	expect_mode(pr, "/srv/c/x", "-");
	expect_mode(pr, "/usr/lib/libc.so.6", "mr");
	expect_mode(pr, "/usr/bin/ls", "ix");
	expect_mode(pr, "/usr/bin/helper", "Px -> helper"); /* exact beats glob */
	expect_mode(pr, "/var/log/t.log", "a");
	expect_mode(pr, "/home/u/.cache/x", "-"); /* owner only */
	/* @{HOME}/x: no doubled slash where a value meets the text */
	expect_mode(pr, "/home/u/.config/a", "r");
	expect_mode(pr, "/root/.config/a", "r");

	struct file_perms fp;
	decide_file(pr, "/home/u/.cache/x", &fp);
	CHECK(file_perms_granted(&fp, true) == (PERM_READ | PERM_WRITE | PERM_LOCK),
	      "owner rule: got %#x", file_perms_granted(&fp, true));
	decide_file(pr, "/etc/shadow", &fp);
	CHECK((fp.deny & PERM_READ) && (fp.quiet & PERM_READ), "deny is quiet");
	decide_file(pr, "/data/x", &fp);
	CHECK(fp.audit & PERM_READ, "audit rule sets audit");

	bool audit;
	CHECK(decide_cap(pr, 0, &audit) == 0, "chown allowed");
	CHECK(decide_cap(pr, 1, &audit) == -EPERM, "dac_override denied");
	CHECK(decide_socket(pr, AF_INET, SOCK_STREAM, 0, &audit) == 0, "inet stream");
	CHECK(decide_socket(pr, AF_INET, SOCK_DGRAM, 0, &audit) == -EACCES, "inet dgram");
	CHECK(decide_socket(pr, AF_INET6, SOCK_STREAM, 0, &audit) == -EACCES, "inet6");
	CHECK(decide_socket(pr, AF_UNIX, SOCK_STREAM, 0, &audit) == -EACCES, "no unix rule");
	const struct rlimit_rule *rl;
	CHECK(profile_rlimits(pr, &rl) == 1 && rl[0].value == 1024, "rlimit");
	CHECK(policy_find(p, "t//hat") != NULL, "hat by full name");
	CHECK(profile_child_attach(pr, "/usr/bin/kx") == policy_find(p, "t//kid"),
	      "child by attachment");
	CHECK(profile_child_attach(pr, "/usr/bin/kk") == policy_find(p, "t//kid2"),
	      "most specific child attachment");
	CHECK(profile_child_attach(pr, "/usr/bin/x") == NULL, "no child attachment");
	const struct profile *h = policy_find(p, "helper");
	CHECK(h && decide_socket(h, AF_UNIX, SOCK_DGRAM, 0, &audit) == 0, "unix rule: unix sockets");
	CHECK(h && decide_socket(h, AF_INET, SOCK_DGRAM, 0, &audit) == -EACCES, "unix rule: no inet");
	const struct profile *e = policy_find(p, "everything");
	CHECK(e && decide_socket(e, AF_NETLINK, SOCK_RAW, 0, &audit) == 0, "all: any socket");
	CHECK(e && decide_socket(e, AF_INET6, SOCK_STREAM, 0, &audit) == -EACCES, "all: deny wins");
	CHECK(e && decide_cap(e, 21, &audit) == 0, "all: capabilities");
	if (e)
		expect_mode(e, "/etc/shadow", "mrwlkix");
	CHECK(policy_find_attach(p, "/usr/bin/t") == pr, "attachment");
	CHECK(policy_find_attach(p, "/usr/bin/u") == NULL, "no attachment");
	policy_free(p);
}

/* Two spellings of one policy decide the same. */
static void test_equivalence(void)
{
	const char *a = "profile e { /x/{a,b} r, /x/c rw, }\n";
	const char *b = "profile e { /x/a r,\n /x/b r,\n rw /x/c, }\n";
	struct diags d;
	struct policy *pa = compile(a, strlen(a), &d);
	diags_free(&d);
	struct policy *pb = compile(b, strlen(b), &d);
	diags_free(&d);
	CHECK(pa && pb, "equivalence profiles compile");
	const char *paths[] = { "/x/a", "/x/b", "/x/c", "/x/d", "/x/" };
	for (size_t i = 0; pa && pb && i < 5; i++) {
		struct file_perms fa, fb;
		decide_file(policy_find(pa, "e"), paths[i], &fa);
		decide_file(policy_find(pb, "e"), paths[i], &fb);
		CHECK(fa.allow == fb.allow, "%s differs", paths[i]);
	}
	policy_free(pa);
	policy_free(pb);
}

static void test_errors(void)
{
	expect_error("profile x { /a rw\n", 18, 0, "missing '}'");
	expect_error("profile x { /a/{b,c r, }\n", 25, 1, "unclosed '{'");
	expect_error("profile x { /a rq, }\n", 21, 1, "Invalid mode");
	expect_error("profile x { /a wa, }\n", 21, 1, "mutually exclusive");
	expect_error("profile x { /a x, }\n", 20, 1, "exec qualifier");
	expect_error("profile x { /a @{NOPE} r, }\n", 27, 1, "Invalid mode");
	expect_error("profile x { @{NOPE}/a r, }\n", 26, 1, "never declared");
	expect_error("profile x { /a ix, /a px, }\n", 27, 1, "conflicting x");
	expect_error("profile x { capability frobnicate, }\n", 36, 1, "capability");
	expect_error("profile x { network inet port=70000, }\n", 38, 1, "port");
	expect_error("profile x { set rlimit nofile <= lots, }\n", 40, 1, "rlimit");
	expect_error("network,\n", 9, 1, "outside");
	expect_error("profile x { /a r,\0 }\n", 21, 1, "NUL");
	/* the top file including itself is a cycle (an include file that
	 * includes itself again is read once, like upstream) */
	char text[256];
	int n = snprintf(text, sizeof(text), "profile s { include <profile> }\n");
	expect_error(text, (size_t)n, 1, "include cycle");
	/* binary garbage */
	char bin[4096];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7919u >> 3);
	expect_error(bin, sizeof(bin), 0, "NUL byte");
	/* a huge file is refused with a clear error, not read */
	size_t big = (16u << 20) + 10;
	char *huge = malloc(big);
	if (huge) {
		memset(huge, '#', big);
		expect_error(huge, big, 0, "too large");
		free(huge);
	}
}

/* The binary cache: a hit decides like the compile, an edit of the
 * sources makes it stale, and corrupt caches are rejected, never trusted. */
static void test_cache(void)
{
	char pdir[300], cdir[300], cfile[400] = "";
	snprintf(pdir, sizeof(pdir), "%s/pol", dir);
	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	mkdir(pdir, 0755);
	const char *t1 = "profile c { /a/** r, /b ix, }\n";
	char *f = write_file("pol/c", t1, strlen(t1));
	struct diags d = { 0 };
	struct policy *p1 = NULL, *p2 = NULL;
	int lr = policy_load_dir(pdir, cdir, &d, &p1);
	CHECK(lr == 0, "first load: %d %s", lr, d.n ? d.v[0].msg : "");
	CHECK(policy_load_dir(pdir, cdir, &d, &p2) == 0, "cached load");
	struct file_perms a, b;
	if (p1 && p2) {
		decide_file(policy_find(p1, "c"), "/a/x", &a);
		decide_file(policy_find(p2, "c"), "/a/x", &b);
		CHECK(a.allow == b.allow && a.allow == PERM_READ, "cache decides alike");
		decide_file(policy_find(p2, "c"), "/b", &b);
		CHECK(b.x.type == XT_INHERIT, "cache keeps exec modes");
	}
	policy_free(p1);
	policy_free(p2);
	/* find the cache file */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls %s/*.cache 2>/dev/null", cdir);
	FILE *ls = popen(cmd, "r");
	if (ls) {
		if (!fgets(cfile, sizeof(cfile), ls))
			cfile[0] = '\0';
		pclose(ls);
	}
	cfile[strcspn(cfile, "\n")] = '\0';
	CHECK(cfile[0], "a cache file was written");
	uint8_t zero[32] = { 0 };
	struct policy *p3 = NULL;
	CHECK(cfile[0] && policy_read_cache(cfile, zero, &p3) == -ESTALE,
	      "other sources: stale");
	policy_free(p3);
	/* corrupt copies: every single-byte flip is rejected or harmless */
	FILE *cf = cfile[0] ? fopen(cfile, "rb") : NULL;
	uint8_t *blob = malloc(1 << 20);
	size_t len = cf && blob ? fread(blob, 1, 1 << 20, cf) : 0;
	if (cf)
		fclose(cf);
	for (size_t i = 0; i < len; i += 1 + len / 300) {
		char *bad = write_file("bad.cache", (char *)blob, len);
		FILE *bf = fopen(bad, "r+b");
		if (bf) {
			fseek(bf, (long)i, SEEK_SET);
			fputc(blob[i] ^ 0x5a, bf);
			fclose(bf);
		}
		struct policy *px = NULL;
		int r = policy_read_cache(bad, zero, &px);
		CHECK(r < 0, "corrupt byte %zu accepted", i);
		policy_free(px);
		if (truncate(bad, (off_t)(i)) < 0)
			continue;
		r = policy_read_cache(bad, zero, &px);
		CHECK(r < 0, "truncated at %zu accepted", i);
		policy_free(px);
		free(bad);
	}
	free(blob);
	/* an edit makes the cache stale: the new rule is seen */
	const char *t2 = "profile c { /a/** rw, }\n";
	free(write_file("pol/c", t2, strlen(t2)));
	struct policy *p4 = NULL;
	CHECK(policy_load_dir(pdir, cdir, &d, &p4) == 0, "reload after edit");
	if (p4) {
		decide_file(policy_find(p4, "c"), "/a/x", &a);
		CHECK(a.allow == (PERM_READ | PERM_WRITE), "edit seen through the cache");
	}
	policy_free(p4);
	diags_free(&d);
	free(f);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_decisions();
	test_equivalence();
	test_errors();
	test_cache();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	else
		printf("test_policy: all passed\n");
	return failures ? 1 : 0;
}
