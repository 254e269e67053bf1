// The parts of libfuse3's low-level API that Swift cannot import directly (macros, bitfields,
// versioned symbol aliases), wrapped in small static inline functions.
#ifndef TUSFS_CFUSE_SHIM_H
#define TUSFS_CFUSE_SHIM_H

#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <fcntl.h>
#include <stddef.h>
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

#endif
