/* exec_preload.so: says so when ld.so preloaded it (tests/exec.bats). */
#include <unistd.h>
__attribute__((constructor)) static void hello(void)
{
	static const char m[] = "PRELOADED\n";
	if (write(2, m, sizeof m - 1) < 0) {}
}
