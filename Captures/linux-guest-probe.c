/* The system calls that busybox has no applet for, run by the Linux guest of Captures/linux-guest.sh
 * (its `calls` workload) on a 9P mount: byte-range and flock locks that another process waits for,
 * xattrs, a shared writable mmap with msync, fsync and fdatasync, O_DIRECT, and reading and writing a
 * file after its name was removed. Built static by the script (cc -static). Each command prints what
 * the program got, one line a result, errors as strerror's text.
 *
 *   probe locks FILE OTHER   FILE and OTHER are the same file through two mounts (two connections):
 *                            a write lock on FILE, tested, refused and then waited for through OTHER;
 *                            then the same with flock(2)
 *   probe xattr FILE         set (XATTR_CREATE), get, set again (EEXIST), list, remove, get (ENODATA)
 *   probe mmap FILE          ftruncate to 8192, write two strings through a shared mapping, msync, unmap
 *   probe fsync FILE         write, fsync, write, fdatasync
 *   probe direct FILE        O_DIRECT: write 8192 aligned bytes, read them back
 *   probe unlinked FILE      open, unlink, write, read back, fstat's link count
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int opened(const char *path, int flags) {
    int fd = open(path, flags, 0644);
    if (fd < 0) { printf("open %s: %s\n", path, strerror(errno)); fflush(stdout); exit(1); }
    return fd;
}

static void said(const char *what, int r) {
    if (r < 0) printf("%s: %s\n", what, strerror(errno)); else printf("%s: ok\n", what);
    fflush(stdout);
}

static int setlk(int fd, int cmd, short type) {
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    return fcntl(fd, cmd, &fl);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* The parent holds the lock for two seconds while the child, through the other mount, tests it, is
 * refused it and then waits for it. */
static int locks(const char *file, const char *other) {
    int fd = opened(file, O_RDWR | O_CREAT);
    said("setlk", setlk(fd, F_SETLK, F_WRLCK));
    pid_t child = fork();
    if (child == 0) {
        int ofd = opened(other, O_RDWR);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
        if (fcntl(ofd, F_GETLK, &fl) < 0) printf("getlk: %s\n", strerror(errno));
        else printf("getlk: %s\n", fl.l_type == F_WRLCK ? "write-locked" : fl.l_type == F_UNLCK ? "unlocked" : "read-locked");
        said("other setlk", setlk(ofd, F_SETLK, F_WRLCK));
        double t = now();
        said("other setlkw", setlk(ofd, F_SETLKW, F_WRLCK));
        printf("other waited: %s\n", now() - t >= 1 ? "yes" : "no");
        said("other unlock", setlk(ofd, F_SETLK, F_UNLCK));
        close(ofd);
        _exit(0);
    }
    sleep(2);
    said("unlock", setlk(fd, F_SETLK, F_UNLCK));
    waitpid(child, NULL, 0);

    said("flock", flock(fd, LOCK_EX));
    child = fork();
    if (child == 0) {
        int ofd = opened(other, O_RDWR);
        said("other flock nb", flock(ofd, LOCK_EX | LOCK_NB));
        double t = now();
        said("other flock", flock(ofd, LOCK_EX));
        printf("other waited: %s\n", now() - t >= 1 ? "yes" : "no");
        said("other funlock", flock(ofd, LOCK_UN));
        close(ofd);
        _exit(0);
    }
    sleep(2);
    said("funlock", flock(fd, LOCK_UN));
    waitpid(child, NULL, 0);
    close(fd);
    return 0;
}

static int xattr(const char *file) {
    char buf[256];
    said("set", setxattr(file, "user.ninescope", "value-1", 7, XATTR_CREATE));
    ssize_t n = getxattr(file, "user.ninescope", buf, sizeof buf);
    if (n < 0) printf("get: %s\n", strerror(errno)); else printf("get: %.*s\n", (int)n, buf);
    said("create again", setxattr(file, "user.ninescope", "value-2", 7, XATTR_CREATE));
    said("replace", setxattr(file, "user.ninescope", "value-2", 7, XATTR_REPLACE));
    n = getxattr(file, "user.ninescope", buf, sizeof buf);
    if (n < 0) printf("get: %s\n", strerror(errno)); else printf("get: %.*s\n", (int)n, buf);
    n = listxattr(file, buf, sizeof buf);
    if (n < 0) printf("list: %s\n", strerror(errno));
    else for (char *p = buf; p < buf + n; p += strlen(p) + 1) if (strncmp(p, "user.", 5) == 0) printf("list: %s\n", p);
    said("remove", removexattr(file, "user.ninescope"));
    n = getxattr(file, "user.ninescope", buf, sizeof buf);
    if (n < 0) printf("get: %s\n", strerror(errno)); else printf("get: %.*s\n", (int)n, buf);
    said("remove again", removexattr(file, "user.ninescope"));
    fflush(stdout);
    return 0;
}

static int mapped(const char *file) {
    int fd = opened(file, O_RDWR | O_CREAT | O_TRUNC);
    said("ftruncate", ftruncate(fd, 8192));
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { printf("mmap: %s\n", strerror(errno)); return 0; }
    memcpy(p, "mapped-head", 11);
    memcpy(p + 5000, "mapped-tail", 11);
    said("msync", msync(p, 8192, MS_SYNC));
    said("munmap", munmap(p, 8192));
    close(fd);
    return 0;
}

static int synced(const char *file) {
    int fd = opened(file, O_WRONLY | O_CREAT | O_TRUNC);
    said("write", write(fd, "synced-1\n", 9) == 9 ? 0 : -1);
    said("fsync", fsync(fd));
    said("write", write(fd, "synced-2\n", 9) == 9 ? 0 : -1);
    said("fdatasync", fdatasync(fd));
    close(fd);
    return 0;
}

static int direct(const char *file) {
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
    if (fd < 0) { printf("open: %s\n", strerror(errno)); return 0; }
    void *w, *r;
    if (posix_memalign(&w, 4096, 8192) || posix_memalign(&r, 4096, 8192)) return 1;
    for (int i = 0; i < 8192; i++) ((unsigned char *)w)[i] = (unsigned char)(i * 7 + 3);
    ssize_t n = pwrite(fd, w, 8192, 0);
    if (n < 0) printf("pwrite: %s\n", strerror(errno)); else printf("pwrite: %zd\n", n);
    n = pread(fd, r, 8192, 0);
    if (n < 0) printf("pread: %s\n", strerror(errno)); else printf("pread: %zd %s\n", n, memcmp(w, r, 8192) ? "differs" : "same");
    close(fd);
    return 0;
}

static int unlinked(const char *file) {
    int fd = opened(file, O_RDWR | O_CREAT | O_TRUNC);
    said("unlink", unlink(file));
    said("write", pwrite(fd, "still-here\n", 11, 0) == 11 ? 0 : -1);
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) printf("read: %s\n", strerror(errno)); else printf("read: %s", buf);
    struct stat st;
    if (fstat(fd, &st) < 0) printf("fstat: %s\n", strerror(errno));
    else printf("fstat: size %lld links %lu\n", (long long)st.st_size, (unsigned long)st.st_nlink);
    said("ftruncate", ftruncate(fd, 5));
    said("close", close(fd));
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "locks") == 0) return locks(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "xattr") == 0) return xattr(argv[2]);
    if (argc == 3 && strcmp(argv[1], "mmap") == 0) return mapped(argv[2]);
    if (argc == 3 && strcmp(argv[1], "fsync") == 0) return synced(argv[2]);
    if (argc == 3 && strcmp(argv[1], "direct") == 0) return direct(argv[2]);
    if (argc == 3 && strcmp(argv[1], "unlinked") == 0) return unlinked(argv[2]);
    fprintf(stderr, "usage: probe locks FILE OTHER | xattr|mmap|fsync|direct|unlinked FILE\n");
    return 2;
}
