/*
 * A SQLite VFS shim (registered as STORE_SQLITE_VFS, never as the
 * default) that gives each commit's WAL frames to the file in one
 * write instead of two per frame.
 *
 * SQLite's WAL writer calls xWrite twice per frame: the 24-byte frame
 * header, then the page.  A commit of 10 pages is 20 pwrite() calls; on
 * the server's VM one pwrite of the same 41 KiB costs a tenth of that.
 * The shim wraps the default VFS (the unix one): every file other than a
 * WAL, and every method other than the WAL's xWrite, goes straight
 * through.  A WAL's writes are gathered in a buffer while they extend it
 * (or land inside it), and the buffer is written at once:
 *
 *  - by the xWrite that completes a commit frame (a frame header whose
 *    "database size after commit" field, bytes 4..7, is nonzero, and the
 *    page after it), inside that call, so that call returns the write's
 *    error exactly as the unix VFS would (SQLITE_IOERR_WRITE, SQLITE_FULL);
 *  - before any xRead, xSync, xTruncate, xFileSize, xFileControl, xFetch
 *    and xClose of the WAL; before a write that is neither inside nor
 *    right after the buffered bytes; when it would pass
 *    LIMIT_STORE_WAL_BUF bytes.
 *
 * Why nothing can see a buffered byte (SQLite's sqlite3WalFrames, the
 * only writer of a WAL):
 *  - A writer writes the WAL header (32 bytes at offset 0, at a restart)
 *    and syncs it when synchronous is not OFF (xSync flushes), then the
 *    frames, then, for a commit, rewrites the checksums of frames it
 *    overwrote earlier in the same transaction (walRewriteChecksums: it
 *    reads each frame back, xRead flushes, and rewrites its header at an
 *    offset the file already has, which the shim passes through), then
 *    pads and syncs under synchronous = FULL (xSync flushes; the padding
 *    frames are commit frames, each flushed; one split at the sector
 *    boundary completes its frame with the part written after the sync),
 *    then may truncate (xFileSize, xTruncate flush).  Only then does it
 *    publish the frames in the wal-index (walIndexAppend, and for a commit
 *    walIndexWriteHdr: shared memory, not this file).  So when another
 *    connection (the checkpointer's) or a restarted process can learn of
 *    a commit, its frames are in the file.
 *  - Frames of a transaction not yet committed (a cache spill) may stay
 *    buffered: no other connection reads past the last commit, and the
 *    writer's own reads of them go through xRead, which flushes.  A crash
 *    loses them, as it loses an uncommitted transaction anyway.
 *  - Durability: with synchronous = FULL SQLite syncs through xSync,
 *    which flushes first.  The server's syncer fdatasync()s the WAL
 *    through its own descriptor after COMMIT has returned, when the
 *    commit's write has been made; the checkpointer syncs and copies only
 *    committed frames.  The bytes written are the same bytes, at the same
 *    offsets, as without the shim: only fewer calls.
 *
 * A file object belongs to one connection, which SQLite uses from one
 * thread at a time.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "limits.h"
#include "sqlite_int.h"

/* The part of a WAL frame before its page (SQLite's file format). */
#define VFS_FRAME_HDR	24
#define VFS_PAGE_MIN	512
#define VFS_PAGE_MAX	65536

struct vfs_file {
	sqlite3_file base;	/* pMethods: one of vfs_io[] */
	sqlite3_file *real;	/* the wrapped file, after this struct */
	int wal;		/* opened with SQLITE_OPEN_WAL: buffered */
	unsigned char *buf;	/* file bytes [start, start + len) */
	size_t len, cap;
	sqlite3_int64 start;
	sqlite3_int64 hw;	/* end of what reached the file since the
				 * last write at offset 0 (a restart) */
	sqlite3_int64 hdr_off;	/* the last buffered frame header, or -1 */
	int hdr_commit;		/* ... is a commit frame's */
	sqlite3_int64 commit_end; /* a buffered commit frame ends here: 0 none */
	unsigned pgsz;		/* the WAL's page size, once seen */
};

static sqlite3_vfs *vfs_real;
static sqlite3_vfs vfs_shim;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int vfs_ok;

static sqlite3_file *
vfs_real_file(sqlite3_file *f)
{
	return ((struct vfs_file *)f)->real;
}

static int
vfs_real_write(struct vfs_file *p, const void *b, int n, sqlite3_int64 off)
{
	int rc;

	rc = p->real->pMethods->xWrite(p->real, b, n, off);
	if (rc == SQLITE_OK && off + n > p->hw)
		p->hw = off + n;
	return rc;
}

/* Write the buffer.  Whatever the outcome it is empty afterwards: a
 * failed write is reported once, like a failed pwrite, and SQLite rolls
 * the transaction back. */
static int
vfs_flush(struct vfs_file *p)
{
	int rc;

	if (p->len == 0)
		return SQLITE_OK;
	rc = vfs_real_write(p, p->buf, (int)p->len, p->start);
	p->len = 0;
	return rc;
}

/* Room for the buffer to reach `need` bytes; 0 if it would pass the
 * limit or memory is short (the caller flushes or writes through). */
static int
vfs_reserve(struct vfs_file *p, size_t need)
{
	size_t cap;
	unsigned char *nb;

	if (need > LIMIT_STORE_WAL_BUF)
		return 0;
	if (need <= p->cap)
		return 1;
	cap = p->cap != 0 ? p->cap : 64 * 1024;
	while (cap < need)
		cap *= 2;
	if (cap > LIMIT_STORE_WAL_BUF)
		cap = LIMIT_STORE_WAL_BUF;
	if ((nb = realloc(p->buf, cap)) == NULL)
		return 0;
	p->buf = nb;
	p->cap = cap;
	return 1;
}

/* Put the write into the buffer if it starts inside or right after it
 * (or the buffer is empty); 0 if it does not fit there. */
static int
vfs_absorb(struct vfs_file *p, const void *b, int n, sqlite3_int64 off)
{
	size_t at, end;

	if (p->len == 0) {
		/* Bytes the file already has (a checksum rewrite, a page
		 * overwritten in its frame) go through; a write at offset 0
		 * is a restart: the WAL begins again. */
		if (off != 0 && off < p->hw)
			return 0;
		if (off == 0)
			p->hw = 0;
		if (!vfs_reserve(p, (size_t)n))
			return 0;
		p->start = off;
	} else if (off < p->start || off > p->start + (sqlite3_int64)p->len) {
		return 0;
	}
	at = (size_t)(off - p->start);
	end = at + (size_t)n;
	if (end > p->len && !vfs_reserve(p, end))
		return 0;
	memcpy(p->buf + at, b, (size_t)n);
	if (end > p->len)
		p->len = end;
	return 1;
}

static int
vfs_pgsz_ok(uint32_t n)
{
	return n >= VFS_PAGE_MIN && n <= VFS_PAGE_MAX && (n & (n - 1)) == 0;
}

/* Note a frame header, and the page that follows it: the page size (also
 * in the WAL header), and where a commit frame ends, unless the file
 * already has all of it (a checksum rewrite). */
static void
vfs_track(struct vfs_file *p, const unsigned char *b, int n,
    sqlite3_int64 off)
{
	uint32_t v;

	if (off == 0 && n == 32) {
		v = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 |
		    (uint32_t)b[10] << 8 | b[11];
		if (vfs_pgsz_ok(v))
			p->pgsz = v;
	}
	if (n == VFS_FRAME_HDR && off >= 32) {
		p->hdr_off = off;
		p->hdr_commit = (b[4] | b[5] | b[6] | b[7]) != 0;
		if (p->hdr_commit && p->pgsz != 0 &&
		    off + VFS_FRAME_HDR + p->pgsz > p->hw)
			p->commit_end = off + VFS_FRAME_HDR + p->pgsz;
		return;
	}
	if (p->hdr_off >= 0 && off == p->hdr_off + VFS_FRAME_HDR) {
		if (p->pgsz == 0 && vfs_pgsz_ok((uint32_t)n))
			p->pgsz = (unsigned)n;
		if (p->hdr_commit && p->commit_end == 0)
			p->commit_end = p->pgsz != 0 ?
			    p->hdr_off + VFS_FRAME_HDR + p->pgsz : off + n;
	}
	p->hdr_off = -1;
}

static int
vfs_wal_write(struct vfs_file *p, const void *b, int n, sqlite3_int64 off)
{
	int rc = SQLITE_OK, buffered;

	if (!(buffered = vfs_absorb(p, b, n, off))) {
		if ((rc = vfs_flush(p)) != SQLITE_OK)
			return rc;
		buffered = vfs_absorb(p, b, n, off);
	}
	vfs_track(p, b, n, off);
	if (!buffered && (rc = vfs_real_write(p, b, n, off)) != SQLITE_OK)
		return rc;
	/* The write that completes a commit frame puts the commit on the
	 * file before SQLite publishes it. */
	if (p->commit_end != 0 && off + n >= p->commit_end) {
		p->commit_end = 0;
		rc = vfs_flush(p);
	}
	return rc;
}

/* The io methods: through, but for a WAL's writes. */

static int
vfs_close(sqlite3_file *f)
{
	struct vfs_file *p = (struct vfs_file *)f;
	int rc, rc2;

	rc = vfs_flush(p);
	rc2 = p->real->pMethods->xClose(p->real);
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
	return rc != SQLITE_OK ? rc : rc2;
}

#define VFS_FLUSHED(p, call) do {					\
	int frc_;							\
	if ((p)->wal && (frc_ = vfs_flush(p)) != SQLITE_OK)		\
		return frc_;						\
	return (call);							\
} while (0)

static int
vfs_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	struct vfs_file *p = (struct vfs_file *)f;

	VFS_FLUSHED(p, p->real->pMethods->xRead(p->real, b, n, off));
}

static int
vfs_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	struct vfs_file *p = (struct vfs_file *)f;

	if (!p->wal)
		return p->real->pMethods->xWrite(p->real, b, n, off);
	return vfs_wal_write(p, b, n, off);
}

static int
vfs_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct vfs_file *p = (struct vfs_file *)f;
	int frc;

	if (p->wal && (frc = vfs_flush(p)) != SQLITE_OK)
		return frc;
	if (p->hw > size)
		p->hw = size;
	return p->real->pMethods->xTruncate(p->real, size);
}

static int
vfs_sync(sqlite3_file *f, int flags)
{
	struct vfs_file *p = (struct vfs_file *)f;

	VFS_FLUSHED(p, p->real->pMethods->xSync(p->real, flags));
}

static int
vfs_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct vfs_file *p = (struct vfs_file *)f;

	VFS_FLUSHED(p, p->real->pMethods->xFileSize(p->real, size));
}

static int
vfs_lock(sqlite3_file *f, int lk)
{
	return vfs_real_file(f)->pMethods->xLock(vfs_real_file(f), lk);
}

static int
vfs_unlock(sqlite3_file *f, int lk)
{
	return vfs_real_file(f)->pMethods->xUnlock(vfs_real_file(f), lk);
}

static int
vfs_check_lock(sqlite3_file *f, int *out)
{
	return vfs_real_file(f)->pMethods->xCheckReservedLock(
	    vfs_real_file(f), out);
}

static int
vfs_file_control(sqlite3_file *f, int op, void *arg)
{
	struct vfs_file *p = (struct vfs_file *)f;

	VFS_FLUSHED(p, p->real->pMethods->xFileControl(p->real, op, arg));
}

static int
vfs_sector_size(sqlite3_file *f)
{
	return vfs_real_file(f)->pMethods->xSectorSize(vfs_real_file(f));
}

static int
vfs_device_chars(sqlite3_file *f)
{
	return vfs_real_file(f)->pMethods->xDeviceCharacteristics(
	    vfs_real_file(f));
}

static int
vfs_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
    void volatile **out)
{
	return vfs_real_file(f)->pMethods->xShmMap(vfs_real_file(f), pg, pgsz,
	    extend, out);
}

static int
vfs_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return vfs_real_file(f)->pMethods->xShmLock(vfs_real_file(f), offset,
	    n, flags);
}

static void
vfs_shm_barrier(sqlite3_file *f)
{
	vfs_real_file(f)->pMethods->xShmBarrier(vfs_real_file(f));
}

static int
vfs_shm_unmap(sqlite3_file *f, int del)
{
	return vfs_real_file(f)->pMethods->xShmUnmap(vfs_real_file(f), del);
}

static int
vfs_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
	struct vfs_file *p = (struct vfs_file *)f;

	VFS_FLUSHED(p, p->real->pMethods->xFetch(p->real, off, n, out));
}

static int
vfs_unfetch(sqlite3_file *f, sqlite3_int64 off, void *ptr)
{
	return vfs_real_file(f)->pMethods->xUnfetch(vfs_real_file(f), off,
	    ptr);
}

/* One table per version of the wrapped file's methods: SQLite calls the
 * version-2 (shared memory) and version-3 (memory map) methods only of
 * a file whose methods say it has them. */
#define VFS_IO(v) {							\
	(v), vfs_close, vfs_read, vfs_write, vfs_truncate, vfs_sync,	\
	vfs_file_size, vfs_lock, vfs_unlock, vfs_check_lock,		\
	vfs_file_control, vfs_sector_size, vfs_device_chars,		\
	vfs_shm_map, vfs_shm_lock, vfs_shm_barrier, vfs_shm_unmap,	\
	vfs_fetch, vfs_unfetch }
static const sqlite3_io_methods vfs_io[3] = {
	VFS_IO(1), VFS_IO(2), VFS_IO(3)
};

/* The wrapped file follows our struct, aligned for anything. */
#define VFS_HEAD	((sizeof(struct vfs_file) + 15) & ~(size_t)15)

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
    int flags, int *outflags)
{
	struct vfs_file *p = (struct vfs_file *)f;
	int rc, v;

	(void)vfs;
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)(void *)((char *)f + VFS_HEAD);
	p->hdr_off = -1;
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = vfs_real->xOpen(vfs_real, name, p->real, flags, outflags);
	if (p->real->pMethods == NULL) {
		p->base.pMethods = NULL;
		return rc;
	}
	if (rc != SQLITE_OK) {
		p->real->pMethods->xClose(p->real);
		p->base.pMethods = NULL;
		return rc;
	}
	v = p->real->pMethods->iVersion;
	p->base.pMethods = &vfs_io[(v < 1 ? 1 : v > 3 ? 3 : v) - 1];
	return SQLITE_OK;
}

/* The VFS methods but xOpen: the wrapped VFS's, called with itself. */

static int
vfs_delete(sqlite3_vfs *vfs, const char *name, int syncdir)
{
	(void)vfs;
	return vfs_real->xDelete(vfs_real, name, syncdir);
}

static int
vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return vfs_real->xAccess(vfs_real, name, flags, out);
}

static int
vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return vfs_real->xFullPathname(vfs_real, name, n, out);
}

static void *
vfs_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return vfs_real->xDlOpen(vfs_real, name);
}

static void
vfs_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	vfs_real->xDlError(vfs_real, n, out);
}

static void
(*vfs_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return vfs_real->xDlSym(vfs_real, h, sym);
}

static void
vfs_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	vfs_real->xDlClose(vfs_real, h);
}

static int
vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return vfs_real->xRandomness(vfs_real, n, out);
}

static int
vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return vfs_real->xSleep(vfs_real, us);
}

static int
vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return vfs_real->xCurrentTime(vfs_real, out);
}

static int
vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return vfs_real->xGetLastError(vfs_real, n, out);
}

static int
vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return vfs_real->xCurrentTimeInt64(vfs_real, out);
}

static int
vfs_set_syscall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr f)
{
	(void)vfs;
	return vfs_real->xSetSystemCall(vfs_real, name, f);
}

static sqlite3_syscall_ptr
vfs_get_syscall(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return vfs_real->xGetSystemCall(vfs_real, name);
}

static const char *
vfs_next_syscall(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return vfs_real->xNextSystemCall(vfs_real, name);
}

static void
vfs_init(void)
{
	sqlite3_vfs *r;

	if (sqlite3_initialize() != SQLITE_OK ||
	    (r = sqlite3_vfs_find(NULL)) == NULL)
		return;
	vfs_real = r;
	vfs_shim.iVersion = r->iVersion < 3 ? r->iVersion : 3;
	vfs_shim.szOsFile = (int)VFS_HEAD + r->szOsFile;
	vfs_shim.mxPathname = r->mxPathname;
	vfs_shim.zName = STORE_SQLITE_VFS;
	vfs_shim.xOpen = vfs_open;
	vfs_shim.xDelete = vfs_delete;
	vfs_shim.xAccess = vfs_access;
	vfs_shim.xFullPathname = vfs_full_pathname;
	vfs_shim.xDlOpen = r->xDlOpen != NULL ? vfs_dlopen : NULL;
	vfs_shim.xDlError = r->xDlError != NULL ? vfs_dlerror : NULL;
	vfs_shim.xDlSym = r->xDlSym != NULL ? vfs_dlsym : NULL;
	vfs_shim.xDlClose = r->xDlClose != NULL ? vfs_dlclose : NULL;
	vfs_shim.xRandomness = vfs_randomness;
	vfs_shim.xSleep = vfs_sleep;
	vfs_shim.xCurrentTime = vfs_current_time;
	vfs_shim.xGetLastError = vfs_last_error;
	if (vfs_shim.iVersion >= 2)
		vfs_shim.xCurrentTimeInt64 = vfs_current_time64;
	if (vfs_shim.iVersion >= 3) {
		vfs_shim.xSetSystemCall = vfs_set_syscall;
		vfs_shim.xGetSystemCall = vfs_get_syscall;
		vfs_shim.xNextSystemCall = vfs_next_syscall;
	}
	vfs_ok = sqlite3_vfs_register(&vfs_shim, 0) == SQLITE_OK;
}

const char *
store_sqlite_vfs(void)
{
	pthread_once(&vfs_once, vfs_init);
	return vfs_ok ? STORE_SQLITE_VFS : NULL;
}
