// SPDX-License-Identifier: GPL-2.0
/*
 * The block device: an image file mapped MAP_SHARED, requests executed
 * synchronously in the exit of the OUT that submits them (see guest_abi.h),
 * and a bitmap of the blocks written, for the move's disk pre-copy.
 *
 * The image is mapped rather than read and written so that a move can hand
 * it to /dev/vmmig as a region: the module pins its pages and sends the
 * dirty ones like RAM. The kernel pins file pages for the long term only
 * where they need no writeback (tmpfs, hugetlbfs): see Documentation/vmm.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm.h"

/* The block count travels in 32 bits (guest_info.disk_blocks). */
#define DISK_MAX_BYTES	(0xffffffffULL * GUEST_BLOCK_SIZE)

int disk_open(struct disk *d, const char *path, u64 create_bytes, bool excl)
{
	int flags = O_RDWR | O_CLOEXEC;
	struct stat st;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (strlen(path) >= sizeof(d->path)) {
		vmm_log("disk image path too long");
		return -ENAMETOOLONG;
	}
	memcpy(d->path, path, strlen(path) + 1);
	if (create_bytes)
		flags |= O_CREAT | (excl ? O_EXCL : 0);
	d->fd = open(path, flags, 0600);
	if (d->fd < 0) {
		ret = -errno;
		vmm_log("disk image %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(d->fd, &st))
		goto err_errno;
	if (!S_ISREG(st.st_mode)) {
		vmm_log("disk image %s: not a regular file", path);
		ret = -EINVAL;
		goto err;
	}
	if (!st.st_size && create_bytes) {
		if (ftruncate(d->fd, create_bytes))
			goto err_errno;
		st.st_size = create_bytes;
	}
	d->bytes = st.st_size;
	if (!d->bytes || d->bytes % GUEST_BLOCK_SIZE || d->bytes > DISK_MAX_BYTES) {
		vmm_log("disk image %s: %llu bytes; it must be a non-zero multiple of %u",
			path, d->bytes, GUEST_BLOCK_SIZE);
		ret = -EINVAL;
		goto err;
	}
	d->blocks = d->bytes / GUEST_BLOCK_SIZE;
	/*
	 * Allocate every block now: a write to a hole of a full tmpfs would
	 * be SIGBUS in the VMM instead of an error here.
	 */
	ret = posix_fallocate(d->fd, 0, d->bytes);
	if (ret) {
		vmm_log("disk image %s: allocating %llu bytes: %s", path,
			d->bytes, strerror(ret));
		ret = -ret;
		goto err;
	}
	d->map = mmap(NULL, d->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (d->map == MAP_FAILED) {
		d->map = NULL;
		goto err_errno;
	}
	d->dirty = calloc(bitmap_longs(d->blocks), sizeof(long));
	if (!d->dirty) {
		ret = -ENOMEM;
		goto err;
	}
	return 0;

err_errno:
	ret = -errno;
	vmm_log("disk image %s: %s", path, strerror(errno));
err:
	disk_close(d);
	return ret;
}

void disk_close(struct disk *d)
{
	if (d->map)
		munmap(d->map, d->bytes);
	if (d->fd >= 0)
		close(d->fd);
	free(d->dirty);
	d->map = NULL;
	d->dirty = NULL;
	d->fd = -1;
}

int disk_flush(struct disk *d)
{
	if (d->fd < 0)
		return 0;
	if (msync(d->map, d->bytes, MS_SYNC) || fdatasync(d->fd))
		return -errno;
	return 0;
}

static u32 disk_do(struct vm *vm, const struct guest_blk_req *r)
{
	struct disk *d = &vm->disk;
	u64 bytes = (u64)r->count * GUEST_BLOCK_SIZE;
	u8 *buf;

	if (d->fd < 0)
		return GUEST_BLK_EINVAL;
	if (r->op == GUEST_BLK_FLUSH)
		return disk_flush(d) ? GUEST_BLK_EIO : GUEST_BLK_OK;
	if (r->block > d->blocks || r->count > d->blocks - r->block || !r->count)
		return GUEST_BLK_EINVAL;
	buf = vm_gpa(vm, r->buf, bytes);
	if (!buf)
		return GUEST_BLK_EINVAL;

	switch (r->op) {
	case GUEST_BLK_READ:
		memcpy(buf, d->map + r->block * GUEST_BLOCK_SIZE, bytes);
		/* KVM does not see the VMM's writes to guest RAM: log them here. */
		vm_mark_ram_dirty(vm, r->buf, bytes);
		return GUEST_BLK_OK;
	case GUEST_BLK_WRITE:
		memcpy(d->map + r->block * GUEST_BLOCK_SIZE, buf, bytes);
		/* Data first, then the bit: a take that misses the bit misses no data. */
		bitmap_set_range_atomic(d->dirty, r->block, r->count);
		return GUEST_BLK_OK;
	}
	return GUEST_BLK_EINVAL;
}

void disk_request(struct vm *vm, u32 req_gpa)
{
	struct guest_blk_req *gr = req_gpa % 8 ? NULL : vm_gpa(vm, req_gpa, sizeof(*gr));
	struct guest_blk_req r;
	u32 status;

	if (!gr)
		return;		/* no request there: nowhere to say so either */
	memcpy(&r, gr, sizeof(r));
	status = disk_do(vm, &r);
	__atomic_store_n(&gr->status, status, __ATOMIC_RELEASE);
	vm_mark_ram_dirty(vm, req_gpa, sizeof(*gr));
}
