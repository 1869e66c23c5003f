/*
 * The I/O buses: an exit's port or MMIO address looked up in the device table
 * (vmm/devtab.h) and handed to the device there. Unclaimed accesses read as all ones (a
 * floating bus) and swallow writes; -v reports how many there were. There is no PIC:
 * its ports are unclaimed, so a guest masking it is harmless.
 *
 * The platform's own devices register here: the COM1 UART, the hostcall port, the exit
 * port and the IOAPIC. Others (the swap disk, vmm/swap.c) register themselves.
 */
#include <string.h>

#include "devices/hostcall.h"
#include "devices/uart16550.h"
#include "vmm/machine.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

static int io_unknown_pio(struct machine *mc, uint16_t port, bool out, unsigned size,
    uint8_t *data)
{
	if (!out)
		memset(data, 0xff, size);
	if (mc->mc_unknown_pio++ == 0)
		mc->mc_unknown_pio_first = port;
	mc->mc_exit_unclaimed = true;
	return VCPU_CONTINUE;
}

int io_port(struct machine *mc, uint16_t port, bool out, unsigned size, uint8_t *data)
{
	const struct io_range *r = io_bus_find(&mc->mc_devtab.dt_pio, port);
	int v = r != NULL ? r->ir_fn(r->ir_dev, port - r->ir_base, out, size, data) :
	    IO_UNCLAIMED;

	return v == IO_UNCLAIMED ? io_unknown_pio(mc, port, out, size, data) : v;
}

int io_mmio(struct machine *mc, uint64_t gpa, bool write, unsigned len, uint8_t *data)
{
	const struct io_range *r = io_bus_find(&mc->mc_devtab.dt_mmio, gpa);
	int v = r != NULL ? r->ir_fn(r->ir_dev, gpa - r->ir_base, write, len, data) :
	    IO_UNCLAIMED;

	if (v != IO_UNCLAIMED)
		return v;
	if (!write)
		memset(data, 0xff, len);
	if (mc->mc_unknown_mmio++ == 0)
		mc->mc_unknown_mmio_first = gpa;
	mc->mc_exit_unclaimed = true;
	return VCPU_CONTINUE;
}

/* ---- the platform's devices ---- */

static int io_uart(void *dev, uint64_t off, bool out, unsigned size, uint8_t *data)
{
	struct uart16550 *u = dev;

	if (size != 1)
		return IO_UNCLAIMED;
	if (out)
		uart16550_write(u, (unsigned)off, data[0]);
	else
		data[0] = uart16550_read(u, (unsigned)off);
	return VCPU_CONTINUE;
}

static int io_hostcall(void *dev, uint64_t off, bool out, unsigned size, uint8_t *data)
{
	struct hostcall *hc = dev;

	(void)off;
	if (!out) {
		io_data_put(data, size, hostcall_in(hc, size));
		return VCPU_CONTINUE;
	}
	switch (hostcall_out(hc, size, (uint32_t)io_data_get(data, size <= 4 ? size : 4))) {
	case HOSTCALL_STOP:
		return VMM_EXIT_GUEST;
	case HOSTCALL_USAGE:
		return VMM_EXIT_USAGE;
	default:
		return VCPU_CONTINUE;
	}
}

static int io_exit_port(void *dev, uint64_t off, bool out, unsigned size, uint8_t *data)
{
	(void)dev;
	(void)off;
	if (!out)
		return IO_UNCLAIMED;
	uint32_t status = (uint32_t)io_data_get(data, size <= 4 ? size : 4);
	TRACE("guest wrote exit status %u to port 0x%x", status, EXIT_PORT);
	return (int)(status & 0xff);
}

static int io_ioapic(void *dev, uint64_t off, bool write, unsigned len, uint8_t *data)
{
	struct ioapic *io = dev;

	if (write)
		ioapic_mmio_write(io, off, len, (uint32_t)io_data_get(data, len <= 4 ? len : 4));
	else {
		memset(data, 0xff, len);
		io_data_put(data, len <= 4 ? len : 4, ioapic_mmio_read(io, off, len));
	}
	return VCPU_CONTINUE;
}

void io_register_platform(struct machine *mc)
{
	struct devtab *dt = &mc->mc_devtab;
	int rc = io_bus_register(&dt->dt_pio, UART_COM1_BASE, UART_NR_PORTS, io_uart,
	    &mc->mc_uart, "uart") |
	    io_bus_register(&dt->dt_pio, HC_PORT, 1, io_hostcall, &mc->mc_hc, "hostcall") |
	    io_bus_register(&dt->dt_pio, EXIT_PORT, 1, io_exit_port, NULL, "exit") |
	    io_bus_register(&dt->dt_mmio, IOAPIC_BASE, IOAPIC_SIZE, io_ioapic, &mc->mc_ioapic,
	    "ioapic");

	KASSERT(rc == 0, ("%s: the platform's ranges overlap", __func__));
}
