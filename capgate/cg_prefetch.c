/* cg_prefetch.c: warm the sandbox's FUSE root (see cg_prefetch.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capgate/cg_elf.h"
#include "capgate/cg_prefetch.h"

#define MAX_BYTES (4L << 20)  /* read no more of one file than this */
#define MAX_DEPTH 3           /* script -> interpreter -> ELF interpreter */

/* Open a regular file for reading without opening anything else: an
 * O_PATH open (a lookup), fstat, then a re-open of that inode. */
static int open_regular(const char *path)
{
	int p = open(path, O_PATH | O_CLOEXEC);
	if (p < 0)
		return -1;
	struct stat st;
	int fd = -1;
	if (fstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", p);
		fd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	close(p);
	return fd;
}

/* The ELF interpreter (PT_INTERP) or a script's "#!" interpreter named in
 * the file's first bytes, or "". */
static void interpreter(int fd, const char *head, size_t n, char *out, size_t len)
{
	out[0] = '\0';
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		const char *p = head + 2;
		while (p < head + n && (*p == ' ' || *p == '\t'))
			p++;
		size_t k = 0;
		while (p + k < head + n && k + 1 < len && p[k] != ' ' && p[k] != '\t' &&
		       p[k] != '\n' && p[k] != '\0')
			k++;
		memcpy(out, p, k);
		out[k] = '\0';
		return;
	}
	if (cg_elf_interp_head(fd, head, n, out, len) <= 0) /* the head we have */
		out[0] = '\0';
}

/* The head is read (for the interpreter's name), the rest only asked for
 * (readahead into the page cache): no buffer to fill, whose fresh pages
 * would cost faults. */
static void prefetch(const char *path, int depth)
{
	char head[4096];
	int fd = open_regular(path);
	if (fd < 0)
		return;
	char interp[PATH_MAX] = "";
	ssize_t k = read(fd, head, sizeof head);
	if (k > 0 && depth < MAX_DEPTH)
		interpreter(fd, head, (size_t)k, interp, sizeof interp);
	posix_fadvise(fd, 0, MAX_BYTES, POSIX_FADV_WILLNEED);
	close(fd);
	if (interp[0] == '/')
		prefetch(interp, depth + 1);
}

void cg_prefetch_exec(const char *prog)
{
	char cand[PATH_MAX];
	if (strchr(prog, '/')) {
		prefetch(prog, 0);
	} else {
		const char *path = getenv("PATH");
		if (!path)
			path = "/usr/local/bin:/usr/bin:/bin";
		while (*path) {
			size_t n = strcspn(path, ":");
			if (n && snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, prog) <
					 (int)sizeof cand && access(cand, X_OK) == 0) {
				prefetch(cand, 0);
				break;
			}
			path += n + (path[n] == ':');
		}
	}
	int fd = open_regular("/etc/ld.so.cache");
	if (fd >= 0) {
		posix_fadvise(fd, 0, MAX_BYTES, POSIX_FADV_WILLNEED);
		close(fd);
	}
}
