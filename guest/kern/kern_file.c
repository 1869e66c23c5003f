/*
 * File descriptors and pipes (kern/proc.h): a per-process table of PROC_NFD slots
 * holding references to open files. The console is one file (fds 0, 1 and 2 at exec:
 * reads see end of file, writes go to COM1 and the message buffer); a pipe is two files,
 * a read end and a write end, over one ring buffer.
 *
 * Pipes as Linux has them: reads block while the pipe is empty and a writer exists, and
 * return what is there (at most what was asked); end of file once every writer has
 * closed. Writes of at most PIPE_BUF bytes are atomic; a write blocks while there is no
 * room; with no reader left it fails with EPIPE and the writer gets SIGPIPE. O_NONBLOCK
 * makes the blocking cases EAGAIN. Each pipe has a mutex; sleepers wait on the pipe
 * through msleep, interruptibly: a signal ends a blocked read or write with
 * -ERESTARTSYS (EINTR, or the call again under SA_RESTART), or with the count of bytes
 * a write already moved.
 *
 * Lock order: a pipe's mutex, then the VM's (copyin/copyout may fault pages in).
 */
#include "kern/console.h"
#include "kern/kerrno.h"
#include "kern/ksignal.h"
#include "kern/proc.h"
#include "kern/systm.h"
#include "kern/thread.h"

#include "vm/malloc.h"
#include "vm/vm_platform.h"

MALLOC_DEFINE(M_FILE, "file");

#define PIPE_SIZE       16384
#define PIPE_BUF        4096
#define O_NONBLOCK      04000
#define O_CLOEXEC       02000000
#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_SETFL         4


enum file_type { FT_CONSOLE, FT_PIPE_R, FT_PIPE_W };

struct pipe {
	struct mtx pi_mtx;
	uint32_t pi_readers, pi_writers;        /* M: open ends */
	uint32_t pi_head, pi_count;             /* M: ring buffer */
	uint8_t pi_buf[PIPE_SIZE];
};

struct file {
	uint32_t f_ref;                         /* A: fd slots holding it */
	enum file_type f_type;                  /* C */
	int f_flags;                            /* O_NONBLOCK (F_SETFL) */
	struct pipe *f_pipe;                    /* C */
};

static struct file file_console = { .f_ref = 1, .f_type = FT_CONSOLE };

static void file_ref(struct file *f)
{
	__atomic_fetch_add(&f->f_ref, 1, __ATOMIC_RELAXED);
}

static void file_release(struct file *f)
{
	if (__atomic_sub_fetch(&f->f_ref, 1, __ATOMIC_ACQ_REL) != 0 || f == &file_console)
		return;
	struct pipe *pi = f->f_pipe;
	mtx_lock(&pi->pi_mtx);
	if (f->f_type == FT_PIPE_R)
		pi->pi_readers--;
	else
		pi->pi_writers--;
	bool last = pi->pi_readers == 0 && pi->pi_writers == 0;
	vm_wakeup(pi);          /* readers see EOF, writers EPIPE */
	mtx_unlock(&pi->pi_mtx);
	if (last) {
		mtx_destroy(&pi->pi_mtx);
		kfree(pi, M_FILE);
	}
	kfree(f, M_FILE);
}

void proc_fd_init(struct proc *p)
{
	for (int fd = 0; fd < 3; fd++) {
		file_ref(&file_console);
		p->p_fd[fd] = &file_console;
	}
}

void proc_fd_fork(struct proc *child, const struct proc *parent)
{
	for (int fd = 0; fd < PROC_NFD; fd++) {
		if ((child->p_fd[fd] = parent->p_fd[fd]) != NULL)
			file_ref(child->p_fd[fd]);
	}
}

void proc_fd_close_all(struct proc *p)
{
	for (int fd = 0; fd < PROC_NFD; fd++) {
		if (p->p_fd[fd] != NULL) {
			file_release(p->p_fd[fd]);
			p->p_fd[fd] = NULL;
		}
	}
}

static struct file *fd_get(int fd)
{
	return fd >= 0 && fd < PROC_NFD ? curproc->p_fd[fd] : NULL;
}

/* The lowest free slot at or above min. */
static int fd_alloc(struct proc *p, int min, struct file *f)
{
	for (int fd = min; fd < PROC_NFD; fd++) {
		if (p->p_fd[fd] == NULL) {
			p->p_fd[fd] = f;
			return fd;
		}
	}
	return -EMFILE;
}

long sys_close(int fd)
{
	struct file *f = fd_get(fd);

	if (f == NULL)
		return -EBADF;
	curproc->p_fd[fd] = NULL;
	file_release(f);
	return 0;
}

long sys_dup(int fd)
{
	struct file *f = fd_get(fd);

	if (f == NULL)
		return -EBADF;
	file_ref(f);
	int nfd = fd_alloc(curproc, 0, f);
	if (nfd < 0)
		file_release(f);
	return nfd;
}

long sys_dup3(int fd, int nfd, int flags, bool dup2)
{
	struct file *f = fd_get(fd);

	if (f == NULL || nfd < 0 || nfd >= PROC_NFD)
		return -EBADF;
	if ((flags & ~O_CLOEXEC) != 0 || (!dup2 && fd == nfd))
		return -EINVAL;
	if (fd == nfd)
		return nfd;             /* dup2 of a descriptor onto itself */
	file_ref(f);
	struct file *old = curproc->p_fd[nfd];
	curproc->p_fd[nfd] = f;
	if (old != NULL)
		file_release(old);
	return nfd;
}

long sys_pipe2(uint64_t ufds, int flags)
{
	struct proc *p = curproc;

	if ((flags & ~(O_NONBLOCK | O_CLOEXEC)) != 0)
		return -EINVAL;
	struct pipe *pi = kmalloc(sizeof(*pi), M_FILE, M_WAITOK | M_ZERO);
	struct file *r = kmalloc(sizeof(*r), M_FILE, M_WAITOK | M_ZERO);
	struct file *w = kmalloc(sizeof(*w), M_FILE, M_WAITOK | M_ZERO);
	mtx_init(&pi->pi_mtx, "pipe");
	pi->pi_readers = pi->pi_writers = 1;
	*r = (struct file){ .f_ref = 1, .f_type = FT_PIPE_R, .f_pipe = pi,
	    .f_flags = flags & O_NONBLOCK };
	*w = (struct file){ .f_ref = 1, .f_type = FT_PIPE_W, .f_pipe = pi,
	    .f_flags = flags & O_NONBLOCK };
	int fds[2] = { fd_alloc(p, 0, r), -1 };
	if (fds[0] >= 0)
		fds[1] = fd_alloc(p, 0, w);
	if (fds[1] < 0 || copyout(fds, (void *)(uintptr_t)ufds, sizeof(fds)) != 0) {
		long err = fds[1] < 0 ? -EMFILE : -EFAULT;
		if (fds[0] >= 0)
			p->p_fd[fds[0]] = NULL;
		if (fds[1] >= 0)
			p->p_fd[fds[1]] = NULL;
		file_release(r);
		file_release(w);
		return err;
	}
	return 0;
}

static long pipe_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct pipe *pi = f->f_pipe;
	long rv;

	if (len == 0)
		return 0;
	mtx_lock(&pi->pi_mtx);
	int slept = SLEEPQ_WOKEN;
	while (pi->pi_count == 0 && pi->pi_writers > 0) {
		if ((f->f_flags & O_NONBLOCK) != 0) {
			mtx_unlock(&pi->pi_mtx);
			return -EAGAIN;
		}
		/* Data that came with the signal wins: the condition is checked first. */
		if (slept == SLEEPQ_INTR) {
			mtx_unlock(&pi->pi_mtx);
			return -ERESTARTSYS;
		}
		slept = msleep(pi, &pi->pi_mtx, SLEEPQ_CATCH, "piperd", 0);
	}
	uint64_t n = MIN(len, (uint64_t)pi->pi_count), done = 0;
	while (done < n) {
		uint32_t chunk = (uint32_t)MIN(n - done, (uint64_t)(PIPE_SIZE - pi->pi_head));
		if (copyout(pi->pi_buf + pi->pi_head, (void *)(uintptr_t)(ubuf + done),
		    chunk) != 0)
			break;
		pi->pi_head = (pi->pi_head + chunk) % PIPE_SIZE;
		pi->pi_count -= chunk;
		done += chunk;
	}
	rv = done > 0 || n == 0 ? (long)done : -EFAULT;
	if (done > 0)
		vm_wakeup(pi);          /* room for writers */
	mtx_unlock(&pi->pi_mtx);
	return rv;
}

static long pipe_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct pipe *pi = f->f_pipe;
	uint64_t done = 0;

	mtx_lock(&pi->pi_mtx);
	int slept = SLEEPQ_WOKEN;
	while (done < len) {
		if (pi->pi_readers == 0) {
			mtx_unlock(&pi->pi_mtx);
			__atomic_fetch_or(&curthread->td_sigpending, sig_bit(SIGPIPE),
			    __ATOMIC_RELEASE);
			return done > 0 ? (long)done : -EPIPE;
		}
		uint32_t room = PIPE_SIZE - pi->pi_count;
		/* At most PIPE_BUF bytes go in whole or not at all. */
		if (room == 0 || (len - done <= PIPE_BUF && room < len - done)) {
			if ((f->f_flags & O_NONBLOCK) != 0) {
				mtx_unlock(&pi->pi_mtx);
				return done > 0 ? (long)done : -EAGAIN;
			}
			/* Interrupted: what went in stays written and is the result. */
			if (slept == SLEEPQ_INTR) {
				mtx_unlock(&pi->pi_mtx);
				return done > 0 ? (long)done : -ERESTARTSYS;
			}
			slept = msleep(pi, &pi->pi_mtx, SLEEPQ_CATCH, "pipewr", 0);
			continue;
		}
		uint32_t tail = (pi->pi_head + pi->pi_count) % PIPE_SIZE;
		uint32_t chunk = (uint32_t)MIN(MIN(len - done, (uint64_t)room),
		    (uint64_t)(PIPE_SIZE - tail));
		if (copyin((const void *)(uintptr_t)(ubuf + done), pi->pi_buf + tail,
		    chunk) != 0) {
			mtx_unlock(&pi->pi_mtx);
			return done > 0 ? (long)done : -EFAULT;
		}
		pi->pi_count += chunk;
		done += chunk;
		vm_wakeup(pi);          /* data for readers */
	}
	mtx_unlock(&pi->pi_mtx);
	return (long)done;
}

long sys_read(int fd, uint64_t ubuf, uint64_t len)
{
	struct file *f = fd_get(fd);

	if (f == NULL || f->f_type == FT_PIPE_W)
		return -EBADF;
	if (f->f_type == FT_CONSOLE)
		return 0;               /* the console has no input yet: end of file */
	return pipe_read(f, ubuf, len);
}

long sys_write(int fd, uint64_t ubuf, uint64_t len)
{
	struct file *f = fd_get(fd);

	if (f == NULL || f->f_type == FT_PIPE_R)
		return -EBADF;
	if (f->f_type == FT_CONSOLE)
		return console_write_user(ubuf, len);
	return pipe_write(f, ubuf, len);
}

long sys_fcntl(int fd, int cmd, uint64_t arg)
{
	struct file *f = fd_get(fd);

	if (f == NULL)
		return -EBADF;
	switch (cmd) {
	case F_GETFD:
	case F_SETFD:
		return 0;               /* FD_CLOEXEC: no exec yet */
	case F_GETFL:
		return f->f_flags | (f->f_type == FT_PIPE_W ? 1 : f->f_type == FT_CONSOLE ? 2 : 0);
	case F_SETFL:
		f->f_flags = (int)(arg & O_NONBLOCK);
		return 0;
	default:
		return -EINVAL;
	}
}
