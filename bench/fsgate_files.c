/* fsgate_files: the small-file and random-read workloads of fsgate-bench.
 *   fsgate_files PHASE DIR N      create, stat, open+read or unlink N files
 *   fsgate_files randread FILE N  N random 4 KiB preads
 * Prints "phase seconds" lines. Built by bench/fsgate-bench with cc. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what, const char *p)
{
	perror(p ? p : what);
	exit(1);
}

/* One phase over the files DIR/f000000.. of the N: create (100 bytes
 * each), stat, open+read or unlink. */
static int files(const char *phase, const char *dir, int n)
{
	char p[4096], buf[256];
	struct stat st;
	int ph = !strcmp(phase, "create") ? 0 : !strcmp(phase, "stat") ? 1 :
		 !strcmp(phase, "open+read") ? 2 : !strcmp(phase, "unlink") ? 3 : -1;
	if (ph < 0)
		fail("phase", phase);
	memset(buf, 'x', 100);
	double t = now();
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/f%06d", dir, i);
		int fd;
		switch (ph) {
		case 0:
			fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd < 0 || write(fd, buf, 100) != 100 || close(fd) < 0)
				fail("create", p);
			break;
		case 1:
			if (stat(p, &st) < 0 || st.st_size != 100)
				fail("stat", p);
			break;
		case 2:
			fd = open(p, O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof buf) != 100 || close(fd) < 0)
				fail("read", p);
			break;
		default:
			if (unlink(p) < 0)
				fail("unlink", p);
		}
	}
	printf("%s %.4f\n", phase, now() - t);
	return 0;
}

static int randread(const char *file, int n)
{
	char buf[4096];
	struct stat st;
	int fd = open(file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		fail("open", file);
	long blocks = st.st_size / 4096;
	unsigned seed = 42;
	double t = now();
	for (int i = 0; i < n; i++) {
		off_t off = (off_t)(rand_r(&seed) % blocks) * 4096;
		if (pread(fd, buf, sizeof buf, off) != (ssize_t)sizeof buf)
			fail("pread", file);
	}
	printf("randread %.4f\n", now() - t);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "randread") == 0)
		return randread(argv[2], atoi(argv[3]));
	if (argc == 4)
		return files(argv[1], argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: fsgate_files create|stat|open+read|unlink DIR N | randread FILE N\n");
	return 2;
}
