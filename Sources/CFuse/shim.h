// The parts of libfuse3's low-level API that Swift cannot import directly (macros, bitfields,
// versioned symbol aliases), wrapped in small static inline functions.
#ifndef TUSFS_CFUSE_SHIM_H
#define TUSFS_CFUSE_SHIM_H

#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <errno.h>

/// fuse_session_loop_mt is a macro onto fuse_session_loop_mt_312.
static inline int tusfs_session_loop_mt(struct fuse_session *se, struct fuse_loop_config *config) {
    return fuse_session_loop_mt(se, config);
}

/// Replies to a read with `size` bytes of file descriptor `fd` at `offset`, letting libfuse
/// splice them from the file to /dev/fuse without a copy through user space when it can.
static inline int tusfs_reply_fd_data(fuse_req_t req, int fd, size_t size, off_t offset) {
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = fd;
    buf.buf[0].pos = offset;
    return fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/// Copies the data of a write request (which may still sit in a pipe from /dev/fuse) into
/// file descriptor `fd` at `offset`. Returns the bytes written or -errno.
static inline ssize_t tusfs_write_buf_to_fd(struct fuse_bufvec *in, int fd, off_t offset) {
    struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
    out.buf[0].flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    out.buf[0].fd = fd;
    out.buf[0].pos = offset;
    return fuse_buf_copy(&out, in, (enum fuse_buf_copy_flags)0);
}

/// splice(2) (declared by hand: glibc hides it behind _GNU_SOURCE).
extern ssize_t splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len, unsigned int flags);

static ssize_t tusfs_io_splice(int fdin, off_t *offin, int fdout, off_t *offout, size_t len, unsigned int flags,
                               void *userdata) {
    (void)userdata;
    return splice(fdin, offin, fdout, offout, len, flags);
}

/// Gives a custom I/O the splice hooks: libfuse offers splice to the kernel only when the custom I/O has
/// them (`splice_send` for replies carrying file data, `splice_receive` for requests such as writes).
static inline void tusfs_io_set_splice(struct fuse_custom_io *io, int send, int receive) {
    io->splice_send = send ? tusfs_io_splice : NULL;
    io->splice_receive = receive ? tusfs_io_splice : NULL;
}

/// Bitfields of fuse_file_info, which Swift does not reliably import.
static inline void tusfs_fi_set_direct_io(struct fuse_file_info *fi, int on) { fi->direct_io = on ? 1 : 0; }
static inline void tusfs_fi_set_keep_cache(struct fuse_file_info *fi, int on) { fi->keep_cache = on ? 1 : 0; }
static inline void tusfs_fi_set_noflush(struct fuse_file_info *fi, int on) { fi->noflush = on ? 1 : 0; }
static inline void tusfs_fi_set_cache_readdir(struct fuse_file_info *fi, int on) { fi->cache_readdir = on ? 1 : 0; }

/// Builds an argument vector for fuse_session_new (FUSE_ARGS_INIT is a macro).
static inline struct fuse_args tusfs_args_init(int argc, char **argv) {
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    return args;
}

// MARK: FUSE passthrough (kernel 6.9+), which libfuse 3.14 does not know yet.
// With it, reads and writes of an open file go straight from the kernel to the backing file: native speed,
// and a write() that returned is in the backing file. tusfs adds it through libfuse's custom I/O hooks: the
// INIT reply asks for it, and an open reply names the backing file registered with an ioctl.

struct tusfs_backing_map { int32_t fd; uint32_t flags; uint64_t padding; };
extern int ioctl(int fd, unsigned long request, ...);

/// FUSE_DEV_IOC_BACKING_OPEN: registers `fd` as a backing file; returns its id, or -1 with errno.
static inline int tusfs_backing_open(int device, int fd) {
    struct tusfs_backing_map map = { fd, 0, 0 };
    return ioctl(device, 0x4010E501UL, &map);
}

/// FUSE_DEV_IOC_BACKING_CLOSE.
static inline int tusfs_backing_close(int device, int backing_id) {
    uint32_t id = (uint32_t)backing_id;
    return ioctl(device, 0x4004E502UL, &id);
}

/// The opcode and unique id of a request read from /dev/fuse (fuse_in_header), or 0 when too short.
static inline uint32_t tusfs_request_opcode(const void *buffer, ssize_t length) {
    return length >= 40 ? ((const uint32_t *)buffer)[1] : 0;
}
static inline uint64_t tusfs_request_unique(const void *buffer) { return *(const uint64_t *)((const char *)buffer + 8); }

/// The unique id of a reply (fuse_out_header in the first iovec).
static inline uint64_t tusfs_reply_unique(const struct iovec *iov) {
    return iov[0].iov_len >= 16 ? *(const uint64_t *)((const char *)iov[0].iov_base + 8) : 0;
}

/// Asks for passthrough in the INIT reply (fuse_init_out): FUSE_INIT_EXT, FUSE_PASSTHROUGH in flags2, and
/// a backing stack depth of 1.
static inline void tusfs_request_passthrough(struct iovec *iov, int count) {
    if (count < 2 || iov[1].iov_len < 40) return;
    char *out = (char *)iov[1].iov_base;
    *(uint32_t *)(out + 12) |= (1u << 30);
    *(uint32_t *)(out + 32) |= (1u << 5);
    *(uint32_t *)(out + 36) = 1;
}

/// The fuse_open_out of an OPEN (16-byte) or CREATE (entry + open) reply, or NULL.
static inline char *tusfs_open_reply(struct iovec *iov, int count) {
    if (count < 2) return 0;
    if (iov[1].iov_len == 16) return (char *)iov[1].iov_base;
    if (iov[1].iov_len == 144) return (char *)iov[1].iov_base + 128;
    return 0;
}
static inline uint64_t tusfs_open_reply_handle(const char *open_out) { return *(const uint64_t *)open_out; }
/// Marks an open reply FOPEN_PASSTHROUGH with the backing id. The kernel refuses passthrough combined with
/// any open flag but DIRECT_IO, NOFLUSH and PARALLEL_DIRECT_WRITES (KEEP_CACHE is dropped: the page cache
/// is the backing file's own then).
static inline void tusfs_open_reply_passthrough(char *open_out, int backing_id) {
    uint32_t *flags = (uint32_t *)(open_out + 8);
    *flags = (*flags & ((1u << 0) | (1u << 5) | (1u << 6))) | (1u << 7);
    *(int32_t *)(open_out + 12) = backing_id;
}

#endif
