/* cg_bpfsys.h: the bpf(2) calls the capability lines need, and a reader
 * of a BPF ring buffer, without libbpf. libbpf probes the kernel's
 * features with a test program on its first call (~0.3 ms of every
 * start on our VMs) and reads rings through an epoll set of its own;
 * the launcher needs neither. Every call returns an fd / 0, or -errno.
 */
#ifndef CAPGATE_CG_BPFSYS_H
#define CAPGATE_CG_BPFSYS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

int cg_bpf_map_create(enum bpf_map_type type, const char *name, uint32_t key_size,
		      uint32_t value_size, uint32_t max_entries);
int cg_bpf_map_update(int map, const void *key, const void *value);
/* attach_btf_id 0: none */
int cg_bpf_prog_load(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns,
		     size_t n, enum bpf_attach_type expected, uint32_t attach_btf_id);
int cg_bpf_raw_tp_open(const char *tracepoint, int prog);
int cg_bpf_link_create(int prog, enum bpf_attach_type type);

/* A BPF_MAP_TYPE_RINGBUF's consumer side. Its fd polls readable when
 * records wait. */
typedef void cg_ringbuf_fn(void *arg, const void *data, size_t size);
struct cg_ringbuf {
	int fd;
	size_t size;          /* data bytes, a power of 2 */
	void *consumer;       /* page: consumer position, ours to write */
	void *producer;       /* page: producer position, then data twice */
	cg_ringbuf_fn *fn;
	void *arg;
};
int cg_ringbuf_open(struct cg_ringbuf *rb, int map, size_t size, cg_ringbuf_fn *fn, void *arg);
/* Hands every complete record to fn, in order; skips discarded ones. */
void cg_ringbuf_consume(struct cg_ringbuf *rb);
void cg_ringbuf_close(struct cg_ringbuf *rb);

#endif
