/* exec_lat.c: start-up latency of a command, run N times one at a time
 * with a pause between runs (so that each run finds the kernel idle, as a
 * user's single start does), and back to back. Prints the median and mean
 * wall time of one run, fork to reap, in milliseconds.
 *   exec_lat N GAP_MS -- CMD [ARGS...]
 * (bench/exec_bench.sh compiles and runs it; stdout/stderr to /dev/null.) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double run(char **argv)
{
	double t0 = now_ms();
	pid_t p = fork();
	if (p == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	return now_ms() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: exec_lat N GAP_MS -- CMD [ARGS...]\n");
		return 2;
	}
	int n = atoi(argv[1]), gap = atoi(argv[2]);
	if (n < 1 || n > 100000 || gap < 0)
		return 2;
	double *v = calloc((size_t)n, sizeof *v), sum = 0;
	if (!v)
		return 1;
	for (int i = 0; i < 3; i++)
		run(argv + 4);
	for (int i = 0; i < n; i++) {
		if (gap) {
			struct timespec ts = { gap / 1000, (long)(gap % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		v[i] = run(argv + 4);
		sum += v[i];
	}
	qsort(v, (size_t)n, sizeof *v, cmp);
	printf("%.2f %.2f\n", v[n / 2], sum / n);
	free(v);
	return 0;
}
