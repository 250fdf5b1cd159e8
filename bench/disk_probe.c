/* disk_probe: what the disk under a directory allows for durable mail storage.
 *
 * Purpose: gives the physical limits against which the MTA figures in bench/ are
 * read. Three patterns, each with messages of SIZE octets (default 5120):
 *   1. write + fdatasync per message, appending to one file (one sync per message:
 *      the ceiling of a server that syncs every message on its own);
 *   2. create + write + fsync + rename + fsync(dir) per message (the Maildir and
 *      Postfix queue-file pattern);
 *   3. append with one fdatasync per batch of BATCH messages (group commit: the
 *      ceiling of a spool that batches syncs).
 * Each pattern runs for about SECONDS seconds and prints messages/s and syncs/s.
 *
 * Trust: benchmark tool; writes only inside a fresh subdirectory of DIR, removed at exit.
 * Usage: disk_probe DIR [SECONDS=2] [SIZE=5120] [BATCH=100]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void write_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        buf += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: disk_probe DIR [SECONDS] [SIZE] [BATCH]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    size_t size = argc > 3 ? (size_t)atol(argv[3]) : 5120;
    int batch = argc > 4 ? atoi(argv[4]) : 100;
    char base[4096];
    snprintf(base, sizeof base, "%s/disk-probe-%d", argv[1], (int)getpid());
    if (mkdir(base, 0700) != 0) die("mkdir");
    char *msg = malloc(size);
    memset(msg, 'x', size);

    /* 1. append + fdatasync per message */
    char path[4200];
    snprintf(path, sizeof path, "%s/log1", base);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (fd < 0) die("open log1");
    long n = 0;
    double t0 = now(), t;
    do {
        write_all(fd, msg, size);
        if (fdatasync(fd) != 0) die("fdatasync");
        ++n;
    } while ((t = now()) - t0 < seconds);
    close(fd);
    unlink(path);
    printf("write+fdatasync per message: %.0f msg/s (%.0f syncs/s, %.3f ms per sync)\n",
           n / (t - t0), n / (t - t0), 1000.0 * (t - t0) / n);

    /* 2. create + write + fsync + rename + fsync(dir) per message */
    char tmpd[4200], newd[4200];
    snprintf(tmpd, sizeof tmpd, "%s/tmp", base);
    snprintf(newd, sizeof newd, "%s/new", base);
    if (mkdir(tmpd, 0700) != 0 || mkdir(newd, 0700) != 0) die("mkdir tmp/new");
    int dfd = open(newd, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) die("open new");
    n = 0;
    t0 = now();
    do {
        char a[4300], b[4300];
        snprintf(a, sizeof a, "%s/%ld", tmpd, n);
        snprintf(b, sizeof b, "%s/%ld", newd, n);
        int f = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (f < 0) die("open msg");
        write_all(f, msg, size);
        if (fsync(f) != 0) die("fsync");
        close(f);
        if (rename(a, b) != 0) die("rename");
        if (fsync(dfd) != 0) die("fsync dir");
        ++n;
    } while ((t = now()) - t0 < seconds);
    close(dfd);
    printf("create+write+fsync+rename+dir-fsync per message: %.0f msg/s (%.3f ms per message)\n",
           n / (t - t0), 1000.0 * (t - t0) / n);
    for (long i = 0; i < n; ++i) {
        char b[4300];
        snprintf(b, sizeof b, "%s/%ld", newd, i);
        unlink(b);
    }
    rmdir(tmpd);
    rmdir(newd);

    /* 3. append, one fdatasync per batch (group commit) */
    snprintf(path, sizeof path, "%s/log3", base);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (fd < 0) die("open log3");
    n = 0;
    long syncs = 0;
    t0 = now();
    do {
        for (int i = 0; i < batch; ++i) write_all(fd, msg, size);
        if (fdatasync(fd) != 0) die("fdatasync");
        n += batch;
        ++syncs;
    } while ((t = now()) - t0 < seconds);
    close(fd);
    unlink(path);
    printf("append, one fdatasync per %d messages: %.0f msg/s (%.0f syncs/s, %.1f MB/s)\n", batch,
           n / (t - t0), syncs / (t - t0), n * (double)size / (t - t0) / 1e6);
    rmdir(base);
    free(msg);
    return 0;
}
