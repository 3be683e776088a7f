/* cg_bpfsys.c: bpf(2) calls and a ring buffer reader (cg_bpfsys.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capgate/cg_bpfsys.h"

static int sys_bpf(int cmd, union bpf_attr *a)
{
	long r = syscall(SYS_bpf, cmd, a, sizeof *a);
	return r < 0 ? -errno : (int)r;
}

static void set_name(char dst[BPF_OBJ_NAME_LEN], const char *name)
{
	if (name)
		strncpy(dst, name, BPF_OBJ_NAME_LEN - 1);
}

int cg_bpf_map_create(enum bpf_map_type type, const char *name, uint32_t key_size,
		      uint32_t value_size, uint32_t max_entries)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = type;
	a.key_size = key_size;
	a.value_size = value_size;
	a.max_entries = max_entries;
	set_name(a.map_name, name);
	return sys_bpf(BPF_MAP_CREATE, &a);
}

int cg_bpf_map_update(int map, const void *key, const void *value)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = (uint32_t)map;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

int cg_bpf_prog_load(enum bpf_prog_type type, const char *name, const struct bpf_insn *insns,
		     size_t n, enum bpf_attach_type expected, uint32_t attach_btf_id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = type;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL"; /* some tracing helpers need it */
	a.expected_attach_type = expected;
	a.attach_btf_id = attach_btf_id;
	set_name(a.prog_name, name);
	return sys_bpf(BPF_PROG_LOAD, &a);
}

int cg_bpf_raw_tp_open(const char *tracepoint, int prog)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.raw_tracepoint.name = (uint64_t)(uintptr_t)tracepoint;
	a.raw_tracepoint.prog_fd = (uint32_t)prog;
	return sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
}

int cg_bpf_link_create(int prog, enum bpf_attach_type type)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.attach_type = type;
	return sys_bpf(BPF_LINK_CREATE, &a);
}

/* ---- the ring buffer (kernel/bpf/ringbuf.c's layout) ----
 * mmap offset 0: one page, the consumer position (read-write);
 * offset page: one page, the producer position, then the data pages
 * mapped twice in a row (read-only), so a record never wraps for us.
 * Each record: a u32 length with the BUSY (still being written) and
 * DISCARD bits, a u32 page offset, then the data, rounded up to 8. */

int cg_ringbuf_open(struct cg_ringbuf *rb, int map, size_t size, cg_ringbuf_fn *fn, void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	memset(rb, 0, sizeof *rb);
	rb->fd = map;
	rb->size = size;
	rb->fn = fn;
	rb->arg = arg;
	rb->consumer = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, map, 0);
	if (rb->consumer == MAP_FAILED) {
		rb->consumer = NULL;
		return -errno;
	}
	rb->producer = mmap(NULL, (size_t)page + 2 * size, PROT_READ, MAP_SHARED, map, page);
	if (rb->producer == MAP_FAILED) {
		int e = errno;
		munmap(rb->consumer, (size_t)page);
		rb->consumer = rb->producer = NULL;
		return -e;
	}
	return 0;
}

void cg_ringbuf_consume(struct cg_ringbuf *rb)
{
	if (!rb->consumer)
		return;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t *cpos = rb->consumer, *ppos = rb->producer;
	const uint8_t *data = (const uint8_t *)rb->producer + page;
	uint64_t cons = __atomic_load_n(cpos, __ATOMIC_ACQUIRE);
	for (;;) {
		uint64_t prod = __atomic_load_n(ppos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			const uint32_t *hdr = (const uint32_t *)(data + (cons & (rb->size - 1)));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT)
				return; /* the next record is still being written */
			bool discarded = len & BPF_RINGBUF_DISCARD_BIT;
			len &= ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			cons += ((uint64_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
			if (!discarded && len <= rb->size)
				rb->fn(rb->arg, (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, len);
			__atomic_store_n(cpos, cons, __ATOMIC_RELEASE);
		}
	}
}

void cg_ringbuf_close(struct cg_ringbuf *rb)
{
	long page = sysconf(_SC_PAGESIZE);
	if (rb->consumer)
		munmap(rb->consumer, (size_t)page);
	if (rb->producer)
		munmap(rb->producer, (size_t)page + 2 * rb->size);
	rb->consumer = rb->producer = NULL;
}
