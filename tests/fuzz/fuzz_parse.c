/* fuzz_parse.c: libFuzzer target for the profile compiler. Any input must
 * give a policy or errors, never a crash, a leak or undefined behaviour;
 * a policy it gives must answer decisions. Build and run: make fuzz. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* includes resolve against a directory that holds nothing useful */
	const char *inc[] = { "/nonexistent-capgate-fuzz", NULL };
	struct diags d = { 0 };
	struct policy *p = NULL;
	if (policy_compile_mem("fuzz", (const char *)data, size, inc, &d, &p) == 0) {
		for (size_t i = 0; i < policy_count(p); i++) {
			const struct profile *pr = policy_at(p, i);
			struct file_perms fp;
			char buf[64];
			decide_file(pr, "/etc/passwd", &fp);
			perms_to_string(fp.allow, &fp.x, buf, sizeof(buf));
			decide_link(pr, "/tmp/a", "/etc/shadow", true, false);
			bool audit;
			decide_socket(pr, AF_INET, SOCK_STREAM, 0, &audit);
			decide_cap(pr, 21, &audit);
		}
		policy_find_attach(p, "/usr/bin/foo");
	}
	policy_free(p);
	diags_free(&d);
	return 0;
}
