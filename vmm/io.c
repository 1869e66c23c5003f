/*
 * The I/O buses: which device answers which port or MMIO address. Unclaimed ones read
 * as all ones (a floating bus) and swallow writes; -v reports how many there were.
 * There is no PIC: its ports are unclaimed, so a guest masking it is harmless.
 */
#include <string.h>

#include "devices/hostcall.h"
#include "devices/uart16550.h"
#include "vmm/machine.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

static uint32_t io_value(const uint8_t *data, unsigned size)
{
	uint32_t v = 0;

	memcpy(&v, data, size <= 4 ? size : 4);
	return v;
}

static int io_unknown(struct machine *mc, uint16_t port, bool out, unsigned size,
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
	if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_NR_PORTS && size == 1) {
		if (out)
			uart16550_write(&mc->mc_uart, port - UART_COM1_BASE, data[0]);
		else
			data[0] = uart16550_read(&mc->mc_uart, port - UART_COM1_BASE);
		return VCPU_CONTINUE;
	}
	if (port == HC_PORT) {
		if (!out) {
			uint32_t v = hostcall_in(&mc->mc_hc, size);
			memcpy(data, &v, size <= 4 ? size : 4);
			return VCPU_CONTINUE;
		}
		switch (hostcall_out(&mc->mc_hc, size, io_value(data, size))) {
		case HOSTCALL_STOP:
			return VMM_EXIT_GUEST;
		case HOSTCALL_USAGE:
			return VMM_EXIT_USAGE;
		default:
			return VCPU_CONTINUE;
		}
	}
	if (port == EXIT_PORT && out) {
		uint32_t status = io_value(data, size);
		TRACE("guest wrote exit status %u to port 0x%x", status, EXIT_PORT);
		return (int)(status & 0xff);
	}
	return io_unknown(mc, port, out, size, data);
}

int io_mmio(struct machine *mc, uint64_t gpa, bool write, unsigned len, uint8_t *data)
{
	if (gpa >= IOAPIC_BASE && gpa - IOAPIC_BASE < IOAPIC_SIZE) {
		if (write) {
			ioapic_mmio_write(&mc->mc_ioapic, gpa - IOAPIC_BASE, len,
			    io_value(data, len));
		} else {
			uint32_t v = ioapic_mmio_read(&mc->mc_ioapic, gpa - IOAPIC_BASE, len);
			memset(data, 0xff, len);
			memcpy(data, &v, len <= 4 ? len : 4);
		}
		return VCPU_CONTINUE;
	}
	if (!write)
		memset(data, 0xff, len);
	if (mc->mc_unknown_mmio++ == 0)
		mc->mc_unknown_mmio_first = gpa;
	mc->mc_exit_unclaimed = true;
	return VCPU_CONTINUE;
}
