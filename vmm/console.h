/*
 * The guest console's host end: bytes the guest sends on COM1, buffered and written to
 * stdout at each newline, when the buffer fills, and at exit.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdatomic.h>
#include <stdint.h>

#define CONSOLE_BUF_SIZE    4096

struct console {
	int cons_fd;
	unsigned cons_len;
	/* The run's stop signal: non-zero once the run is being stopped (a signal): a
	 * write blocked on a full pipe then gives up (EINTR) and nothing more is written,
	 * so the stop is prompt whoever is (not) reading stdout. When the reader goes away
	 * (EPIPE: `vmm run ... | head`) the console stores SIGPIPE there: the run ends as
	 * a writer to a closed pipe does, 141, quietly. NULL: never. */
	_Atomic int *cons_stop;
	/* Output that could not be written for another reason: a full disk, a closed or
	 * bad stdout. The run reports it at the end. */
	int cons_errno;
	uint64_t cons_lost;
	char cons_buf[CONSOLE_BUF_SIZE];
};

void console_init(struct console *c, int fd, _Atomic int *stop);
void console_putc(struct console *c, uint8_t ch);
void console_flush(struct console *c);

#endif /* VMM_CONSOLE_H */
