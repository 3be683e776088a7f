/* dfa_bench.c: build time and match rate of the AARE -> DFA compiler.
 *
 * Rule sets: 10, 1,000 and 10,000 mixed rules ("/srv/dN/" "**",
 * "/usr/lib/libN.so*", per-home and {a,b} rules), plus a
 * profile-like set of a few hundred patterns in the style of
 * /etc/apparmor.d/abstractions (** and nested {a,b,} alternations), plus
 * optionally a file of patterns, one per line (variables expanded).
 * combine() gives permission-like accept ids (OR of per-rule bits), so
 * states merge the way a real policy's do; the "distinct" rows give every
 * rule its own accept id instead (least merging). "+cls" rows also tell
 * dfa_build() which rules are interchangeable (dfa_set_class(), as the
 * policy compiler does for rules with equal permissions). "exploding" is
 * AppArmor's simple_tests/profile/exploding_profile.sd: without classes
 * it must fail fast (the work limit). Printed side by side.
 *
 * Build and run by hand (see bench/README.md):
 *   make build/lib/libcommon.a
 *   cc -O2 -Icommon -o build/dfa_bench bench/dfa_bench.c build/lib/libcommon.a
 *   build/dfa_bench [patterns.txt]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfa.h"

#define NPATHS 200000

struct set {
	char **pat;
	size_t n, cap;
};

static void add(struct set *s, const char *p)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->pat = realloc(s->pat, s->cap * sizeof(*s->pat));
		if (!s->pat)
			exit(1);
	}
	s->pat[s->n++] = strdup(p);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t perms(void *ctx, const uint32_t *ids, size_t n)
{
	uint32_t m = 0;

	(void)ctx;
	while (n--)
		m |= 1u << (ids[n] % 7);
	return m;
}

/* Every rule its own accept id (the worst case for merging states). */
static int64_t distinct(void *ctx, const uint32_t *ids, size_t n)
{
	(void)ctx;
	(void)n;
	return (int64_t)ids[0] + 1;
}

static void mixed(struct set *s, int n)
{
	char p[128];
	int i;

	for (i = 0; i < n; i++) {
		switch (i % 4) {
		case 0:
			snprintf(p, sizeof(p), "/srv/d%d/**", i);
			break;
		case 1:
			snprintf(p, sizeof(p), "/usr/lib/lib%d.so*", i);
			break;
		case 2:
			snprintf(p, sizeof(p), "/home/*/proj%d/{src,doc}/**",
				 i);
			break;
		default:
			snprintf(p, sizeof(p), "/etc/app%d/*.conf", i);
			break;
		}
		add(s, p);
	}
}

/* Patterns shaped like the abstractions' (our own list, same idioms). */
static void profile_like(struct set *s)
{
	static const char *const base[] = {
		"/{usr/,}lib{,32,64}/**.so*",
		"/{usr/,}lib{,32,64}/ld-*.so",
		"/{usr/,}lib/x86_64-linux-gnu/**.so*",
		"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d/{,*.conf}",
		"/etc/locale/**", "/etc/locale.alias", "/etc/localtime",
		"/usr/share/locale{,-langpack}/**", "/usr/share/zoneinfo{,-icu}/{,**}",
		"/usr/lib/locale/**", "/usr/lib/gconv/*.so", "/dev/null", "/dev/zero",
		"/dev/full", "/dev/{,u}random", "/dev/log", "/dev/tty",
		"/proc/sys/kernel/{ngroups_max,pid_max,osrelease}",
		"/proc/[0-9]*/{maps,stat,status,cmdline,fd/}",
		"/proc/[0-9]*/task/[0-9]*/{stat,comm}", "/sys/devices/system/cpu/{,online,possible}",
		"/run/systemd/journal/{socket,dev-log}", "/etc/nsswitch.conf",
		"/etc/{passwd,group,shadow}", "/etc/host.conf", "/etc/hosts",
		"/etc/resolv.conf", "/run/{resolvconf,systemd/resolve}/{,stub-}resolv.conf",
		"/etc/gai.conf", "/etc/services", "/etc/protocols",
		"/home/*/.config/fontconfig/**", "/home/*/.cache/fontconfig/**",
		"/usr/share/fonts/**", "/var/cache/fontconfig/**",
		"/etc/fonts/**", "/usr/share/{icons,pixmaps,themes}/**",
		"/home/*/.{local/share,config}/mimeapps.list",
		"/home/*/.local/share/{applications,mime}/{,**}",
		"/usr/share/applications/{,**}", "/etc/ssl/certs/**",
		"/usr/share/ca-certificates/**", "/etc/ssl/openssl.cnf",
		"/usr/lib/ssl/openssl.cnf", "/etc/pki/tls/**",
		"/tmp/**", "/var/tmp/**", "/run/user/[0-9]*/{,bus,pulse/native}",
		"/home/*/", "/home/*/[^.]*", "/home/*/.[^c]*/**",
		"/home/*/Downloads/{,**}", "/home/*/Documents/**.{pdf,txt,md}",
		"/usr/bin/{bash,sh,dash}", "/usr/{,s}bin/*", "/{usr/,}bin/{ls,cat,grep}",
		"/var/lib/dbus/machine-id", "/etc/machine-id",
		"/dev/shm/**", "/dev/dri/{,card*,renderD*}", "/sys/class/drm/**",
		"/sys/devices/pci[0-9]*/**/{vendor,device,subsystem_*,config,revision}",
		"/usr/share/glib-2.0/schemas/gschemas.compiled",
		"/home/*/.local/share/recently-used.xbel*",
		"/etc/{,opensc/}opensc.conf", "/etc/gss/mech{,.d/,.d/*}",
		"/etc/krb5.conf", "/etc/krb5.conf.d/{,*}",
	};
	char p[160];
	size_t i;
	int k;

	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		add(s, base[i]);
	/* per-application rules, as profiles add them */
	for (k = 0; k < 60; k++) {
		snprintf(p, sizeof(p), "/home/*/.config/app%d/{,**}", k);
		add(s, p);
		snprintf(p, sizeof(p), "/usr/share/app%d/**", k);
		add(s, p);
		snprintf(p, sizeof(p), "/var/{cache,lib,log}/app%d/**", k);
		add(s, p);
	}
}

static void from_file(struct set *s, const char *path)
{
	char line[8192];
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			add(s, line);
	}
	fclose(f);
}

/* Paths: half built from the rules (likely matches), half random-ish. */
static char **make_paths(const struct set *s, size_t *total)
{
	char **p = malloc(NPATHS * sizeof(*p));
	uint64_t r = 88172645463325252ull;
	size_t i, len = 0;

	for (i = 0; i < NPATHS; i++) {
		char buf[256], *o = buf;
		const char *q;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		q = s->pat[r % s->n];
		if (i % 2) {
			o += snprintf(buf, sizeof(buf), "/usr/lib/x86_64/"
				      "lib%llu.so.%llu",
				      (unsigned long long)(r >> 20) % 20000,
				      (unsigned long long)(r >> 40) % 9);
		} else {
			/* take the rule's literal bytes, fill wildcards */
			for (; *q && o < buf + 200; q++) {
				if (*q == '*' || *q == '?' || *q == '[')
					o += snprintf(o, 8, "x%llu",
						      (unsigned long long)(r >> 50) % 97);
				if (*q == '[')
					q += strcspn(q, "]") ? strcspn(q, "]") : 0;
				else if (*q != '*' && *q != '?' && *q != '{' &&
					 *q != '}' && *q != ',')
					*o++ = *q;
				if (!*q)
					break;
			}
			*o = '\0';
		}
		p[i] = strdup(buf);
		len += strlen(buf);
	}
	*total = len;
	return p;
}

/* AppArmor's exploding_profile.sd, the rules of its profile. */
static void exploding(struct set *s)
{
	static const char *const r[] = {
		"/a/b/c/webdir/config.inc.php", "/a/b/c/**", "/a/b/c/upload/**",
		"/a/b/c/webdir/cms/files/**", "/a/b/c/webdir/content/**",
		"/a/b/c/webdir/mitarbeiter/**", "/a/b/c/webdir/newsletter/**",
		"/a/b/c/webdir/pnTemp/**",
		"/a/b/c/webdir/redaxo/include/generated/articles/**",
		"/a/b/c/webdir/typo3/ext/**", "/a/b/c/webdir/wiki/images/**",
		"/a/b/c/**.txt", "/a/b/c/**.log",
		"/a/b/c/webdir/**/com_docman/docman.config.php",
		"/a/b/c/webdir/**/settings.php", "/a/b/c/webdir/**.txt",
		"/a/b/c/webdir/upload/**{.jpg,.pdf,.ps,.gif,.png,.ppt,.doc,.txt,.rtf}",
		"/a/b/c/webdir/courses/uploaded_file*/**",
		"/a/b/c/webdir/**/conf*.php",
		"/a/b/c/**{cache,data,download,/ext,fileadmin,files,images,joomla,"
		"moodledata/sessions}/**",
		"/a/b/c/**log{,s}/**", "/a/b/c/**typo3{conf,temp}/**",
		"/a/b/c/webdir/**/components/**",
		"/a/b/c/webdir/content/**/conf/**", "/a/b/c/webdir/**/content/**",
		"/a/b/c/webdir/**/{pages,pictures,data,doc,files,languages,media}/**",
		"/a/b/c/webdir/**/{pages,pictures}/**",
		"/a/b/c/webdir/**/module{s,}/**",
		"/a/b/c/webdir/**/{templates_c,templates,temp,tmp}/**",
		"/a/b/c/webdir/**/upload/**", "/a/b/c/webdir/**count*/**",
		"/a/b/c/webdir/**/**uploads/**",
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		add(s, r[i]);
}

/* classes: rule i in class i % 7, valid for perms() (which only looks at
 * i % 7); not for distinct(). */
static void run(const char *name, struct set *s, dfa_combine_fn comb,
		int classes)
{
	struct dfa_builder *b = dfa_builder_new();
	struct dfa *d = NULL;
	char err[256], **paths;
	size_t i, col, total, blen = 0;
	double t0, tb, tm;
	uint64_t hits = 0;
	uint8_t *blob = NULL;
	int rc, rounds = 5, k;

	t0 = now();
	for (i = 0; i < s->n; i++)
		if (dfa_add(b, s->pat[i], strlen(s->pat[i]), (uint32_t)i, err,
			    sizeof(err), &col)) {
			fprintf(stderr, "%s: \"%s\": %s at %zu\n", name,
				s->pat[i], err, col);
			exit(1);
		}
	for (i = 0; classes && i < s->n; i++)
		dfa_set_class(b, (uint32_t)i, i % 7);
	rc = dfa_build(b, comb, NULL, &d, err, sizeof(err));
	tb = now() - t0;
	dfa_builder_free(b);
	if (rc) {
		printf("%-19s %7zu %10.1f  build failed: %.60s\n", name, s->n,
		       tb * 1e3, err);
		return;
	}
	dfa_save(d, &blob, &blen);
	free(blob);
	paths = make_paths(s, &total);
	t0 = now();
	for (k = 0; k < rounds; k++)
		for (i = 0; i < NPATHS; i++)
			hits += dfa_match(d, paths[i], strlen(paths[i])) != 0;
	tm = now() - t0;
	printf("%-19s %7zu %10.1f %9zu %9.0f %10.2f %8.1f %6.0f%%\n", name,
	       s->n, tb * 1e3, dfa_states(d), (double)blen / 1024,
	       (double)rounds * NPATHS / tm / 1e6, tm * 1e9 / rounds / NPATHS,
	       100.0 * (double)hits / rounds / NPATHS);
	(void)total;
	for (i = 0; i < NPATHS; i++)
		free(paths[i]);
	free(paths);
	dfa_free(d);
}

static void set_free(struct set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->pat[i]);
	free(s->pat);
	memset(s, 0, sizeof(*s));
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 10, 1000, 10000 };
	struct set s = { 0 };
	char name[32];
	size_t i;

	printf("%-19s %7s %10s %9s %9s %10s %8s %7s\n", "set", "rules",
	       "build ms", "states", "blob KiB", "Mmatch/s", "ns/match",
	       "hits");
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "mixed-%d", sizes[i]);
		mixed(&s, sizes[i]);
		run(name, &s, perms, 0);
		snprintf(name, sizeof(name), "mixed-%d+cls", sizes[i]);
		run(name, &s, perms, 1);
		set_free(&s);
	}
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "distinct-%d", sizes[i]);
		mixed(&s, sizes[i]);
		run(name, &s, distinct, 0);
		set_free(&s);
	}
	profile_like(&s);
	run("profile-like", &s, perms, 0);
	run("profile-like+cls", &s, perms, 1);
	set_free(&s);
	exploding(&s);
	run("exploding+cls", &s, perms, 1);
	run("exploding", &s, perms, 0);
	set_free(&s);
	if (argc > 1) {
		from_file(&s, argv[1]);
		run(argv[1], &s, perms, 0);
		set_free(&s);
	}
	return 0;
}
