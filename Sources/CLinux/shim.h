// Linux-specific system calls and constants that Swift's Glibc module hides behind _GNU_SOURCE.
// Declared here by hand (defining _GNU_SOURCE would make these headers' types differ from Glibc's).
#ifndef TUSFS_CLINUX_SHIM_H
#define TUSFS_CLINUX_SHIM_H
#include <fcntl.h>
#include <sys/types.h>
#include <sys/xattr.h>

static const int tusfs_O_PATH = 010000000;
static const int tusfs_AT_EMPTY_PATH = 0x1000;
static const unsigned int tusfs_RENAME_NOREPLACE = 1;
static const long tusfs_UTIME_NOW = ((1l << 30) - 1l);
static const long tusfs_UTIME_OMIT = ((1l << 30) - 2l);
static const unsigned int tusfs_RENAME_EXCHANGE = 2;

static const short tusfs_POSIX_SPAWN_SETSID = 0x80;

#include <spawn.h>
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
extern int fallocate(int fd, int mode, off_t offset, off_t len);
static const unsigned int tusfs_SYNC_FILE_RANGE_WRITE = 2;
static const int tusfs_SCHED_IDLE = 5;
extern int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags);

/// openat(2) with a mode, which Swift's import of the variadic function cannot pass.
static inline int tusfs_openat(int dirfd, const char *path, int flags, mode_t mode) {
    return openat(dirfd, path, flags, mode);
}
#endif
