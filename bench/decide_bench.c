/* decide_bench.c: path decisions per second for profiles of 10, 1,000 and
 * 10,000 file rules, side by side in one run. The decision walks one DFA,
 * so the rate should stay flat as rules grow (only cache effects remain).
 * Build and run: see bench/README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A profile of n rules in the shapes real profiles use. */
static char *make_profile(int n)
{
	size_t cap = (size_t)n * 64 + 256, len = 0;
	char *s = malloc(cap);
	len += (size_t)sprintf(s + len, "profile b {\n");
	for (int i = 0; i < n; i++) {
		switch (i % 4) {
		case 0: len += (size_t)sprintf(s + len, "  /srv/d%d/** r,\n", i); break;
		case 1: len += (size_t)sprintf(s + len, "  /usr/lib/lib%d.so* mr,\n", i); break;
		case 2: len += (size_t)sprintf(s + len, "  owner /home/*/f%d rw,\n", i); break;
		default: len += (size_t)sprintf(s + len, "  deny /etc/s%d/{a,b}/* w,\n", i); break;
		}
	}
	sprintf(s + len, "}\n");
	return s;
}

int main(void)
{
	static const int sizes[] = { 10, 1000, 10000 };
	static const char *paths[] = { "/srv/d4/x/y/z.txt", "/usr/lib/lib5.so.1",
		"/home/u/f6", "/etc/s7/a/q", "/nowhere/at/all/deep/path/name",
		"/srv/d9996/file", "/usr/lib/lib9997.so", "/etc/passwd" };
	printf("%8s %12s %14s %16s\n", "rules", "compile ms", "decisions/s", "ns/decision");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char *text = make_profile(sizes[k]);
		struct diags d = { 0 };
		struct policy *p = NULL;
		double t0 = now();
		if (policy_compile_mem("bench", text, strlen(text), NULL, &d, &p) < 0) {
			fprintf(stderr, "compile failed: %s\n", d.n ? d.v[0].msg : "?");
			return 1;
		}
		double tc = now() - t0;
		const struct profile *pr = policy_find(p, "b");
		long iters = 4000000;
		unsigned sink = 0;
		struct file_perms fp;
		t0 = now();
		for (long i = 0; i < iters; i++) {
			decide_file(pr, paths[i & 7], &fp);
			sink += fp.allow;
		}
		double td = now() - t0;
		printf("%8d %12.1f %14.0f %16.1f%s\n", sizes[k], tc * 1e3, iters / td,
		       td / iters * 1e9, sink == 42 ? " " : "");
		policy_free(p);
		diags_free(&d);
		free(text);
	}
	return 0;
}
