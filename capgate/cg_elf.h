/* cg_elf.h: the ELF interpreter (PT_INTERP) a program names. */
#ifndef CAPGATE_CG_ELF_H
#define CAPGATE_CG_ELF_H

#include <stddef.h>

/* From the open file fd (read with pread): 1 and the interpreter's name
 * in out, 0 when the ELF file names none (a static program), -ENOEXEC
 * when fd is not a 64-bit ELF file or its interpreter does not fit. */
int cg_elf_interp(int fd, char *out, size_t len);

/* The same, given the file's first hlen bytes (head): the header, the
 * program headers and the name are read from it when they lie in it, as
 * they do in a file of this size from the usual linkers (one read for
 * all). */
#define CG_ELF_HEAD 1024
int cg_elf_interp_head(int fd, const void *head, size_t hlen, char *out, size_t len);

#endif
