/*
 * Console output buffering. Write errors (a closed pipe) drop the output: the guest's
 * run must not depend on anyone reading it; what was lost other than to a reader that
 * left is counted and reported at the end; a reader that left ends the run. A full pipe blocks the writes (the output is
 * the user's and is not dropped for being slow) until the run is stopped.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "vmm/console.h"

void console_init(struct console *c, int fd, _Atomic int *stop)
{
	c->cons_fd = fd;
	c->cons_len = 0;
	c->cons_stop = stop;
	c->cons_errno = 0;
	c->cons_lost = 0;
}

static bool console_stopping(const struct console *c)
{
	return c->cons_stop != NULL && atomic_load(c->cons_stop) != 0;
}

void console_flush(struct console *c)
{
	unsigned off = 0;

	while (off < c->cons_len && !console_stopping(c)) {
		ssize_t n = write(c->cons_fd, c->cons_buf + off, c->cons_len - off);
		if (n < 0 && errno == EINTR)
			continue;       /* the loop's test drops the rest if it was a stop */
		if (n <= 0) {
			if (n < 0 && errno == EPIPE && c->cons_stop != NULL) {
				int none = 0;
				atomic_compare_exchange_strong(c->cons_stop, &none, SIGPIPE);
			} else if (n < 0 && errno != EPIPE) {
				if (c->cons_errno == 0)
					c->cons_errno = errno;
				c->cons_lost += c->cons_len - off;
			}
			break;
		}
		off += (unsigned)n;
	}
	c->cons_len = 0;
}

void console_putc(struct console *c, uint8_t ch)
{
	c->cons_buf[c->cons_len++] = (char)ch;
	if (ch == '\n' || c->cons_len == CONSOLE_BUF_SIZE)
		console_flush(c);
}
