/*
 * The device table (kvmtool's way): each device registers the port and MMIO ranges it
 * answers with a handler, and, if it has a life of its own (a thread, counters), an
 * entry that stops it and reports it at exit. The vCPU loop looks an exit's address up
 * here and calls the handler; nothing else knows which device sits where.
 *
 * A range is matched by the access's first byte, as the hardware decodes; a handler
 * that does not take the access (wrong width, a read of a write-only port) answers
 * IO_UNCLAIMED and the access counts as unclaimed (floating bus: reads as all ones).
 * Registered before the vCPU runs, read-only after: no lock.
 */
#ifndef VMM_DEVTAB_H
#define VMM_DEVTAB_H

#include <stdbool.h>
#include <stdint.h>

/* An exit handler's verdict: run on, or stop the VM with this exit status (>= 0). */
#define VCPU_CONTINUE   (-1)
/* A device handler's: not mine after all (the access is unclaimed). */
#define IO_UNCLAIMED    (-2)

/* A guest access at offset off of a range: len bytes of data, little-endian. For a read
 * the handler fills data[0 .. len). => VCPU_CONTINUE, IO_UNCLAIMED or an exit status. */
typedef int io_handler_fn(void *dev, uint64_t off, bool write, unsigned len, uint8_t *data);

struct io_range {
	uint64_t ir_base, ir_len;
	io_handler_fn *ir_fn;
	void *ir_dev;
	const char *ir_name;
};

#define IO_BUS_MAX  8

struct io_bus {
	unsigned ib_n;
	struct io_range ib_ranges[IO_BUS_MAX];
};

/* A device with a life beyond its registers. */
struct vmm_device {
	const char *vd_name;
	void *vd_dev;
	void (*vd_stop)(void *dev);     /* at exit, before the VM goes: end its thread */
	void (*vd_report)(void *dev);   /* after stop, with -v: its counters */
};

#define DEVTAB_MAX  8

struct devtab {
	struct io_bus dt_pio, dt_mmio;
	unsigned dt_ndev;
	struct vmm_device dt_dev[DEVTAB_MAX];
};

/* Claim [base, base + len) on a bus. => 0, or -1 when it overlaps a range or the bus
 * is full (a VMM bug: the layout is fixed). */
int io_bus_register(struct io_bus *b, uint64_t base, uint64_t len, io_handler_fn *fn,
    void *dev, const char *name);

/* The range holding addr, or NULL. */
const struct io_range *io_bus_find(const struct io_bus *b, uint64_t addr);

/* Add a device to stop and report at exit. => 0, or -1 when the table is full. */
int devtab_add(struct devtab *dt, const struct vmm_device *d);

/* Stop every device, the last added first (each stop is done once). */
void devtab_stop_all(struct devtab *dt);

/* Each device's report (-v), after they stopped. */
void devtab_report_all(const struct devtab *dt);

/* Little-endian access data as a number, and back. */
uint64_t io_data_get(const uint8_t *data, unsigned len);
void io_data_put(uint8_t *data, unsigned len, uint64_t v);

#endif /* VMM_DEVTAB_H */
