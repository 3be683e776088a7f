/* cg_elf.c: the ELF interpreter a program names (cg_elf.h). */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "capgate/cg_elf.h"

/* len bytes at off: from head when they are in it, else from fd. */
static int at(int fd, const char *head, size_t hlen, void *out, size_t len, uint64_t off)
{
	if (off <= hlen && len <= hlen - off) {
		memcpy(out, head + off, len);
		return 0;
	}
	return pread(fd, out, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

int cg_elf_interp_head(int fd, const void *head, size_t hlen, char *out, size_t len)
{
	Elf64_Ehdr eh;
	if (at(fd, head, hlen, &eh, sizeof eh, 0) < 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
		return -ENOEXEC;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (at(fd, head, hlen, &ph, sizeof ph, eh.e_phoff + i * sizeof ph) < 0)
			return -ENOEXEC;
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz < 2 || ph.p_filesz > len ||
		    at(fd, head, hlen, out, ph.p_filesz, ph.p_offset) < 0 ||
		    out[ph.p_filesz - 1] != '\0')
			return -ENOEXEC;
		return 1;
	}
	return 0;
}

int cg_elf_interp(int fd, char *out, size_t len)
{
	char head[CG_ELF_HEAD];
	ssize_t n = pread(fd, head, sizeof head, 0);
	return cg_elf_interp_head(fd, head, n > 0 ? (size_t)n : 0, out, len);
}
