/*
 * libFuzzer target: what else a hostile guest controls besides the hostcall port.
 * The input is a script of guest actions: page-table bytes the VMM walks when it
 * reports an emulation failure (gva_read over CR3/CR4/EFER the guest chose), and
 * port/MMIO accesses of any size and offset to the COM1 UART and the IOAPIC models.
 * The host must touch only guest RAM (ASan) and never crash or loop.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioapic_model.h"
#include "devices/uart16550.h"
#include "devices/uart16550_model.h"
#include "vmm/guest_mem.h"
#include "vmm/gva.h"

#define FUZZ_RAM    (2u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_tx(void *ctx, uint8_t ch)
{
	(void)ctx;
	(void)ch;
}

static void fuzz_irq(void *ctx, bool level)
{
	ioapic_set_irq(ctx, UART_COM1_IRQ, level);
}

static int fuzz_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	/* The MSI an IOAPIC sends always targets the local APICs' window. */
	if ((addr & ~0xfffffull) != MSI_ADDR_BASE)
		abort();
	return (data & 1) ? -1 : 0;
}

static uint64_t fuzz_u64(const uint8_t **d, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;

	memcpy(&v, *d, k);
	*d += k;
	*n -= k;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	struct ioapic io;
	struct uart16550 u;

	if (gm.gm_base == NULL && guest_mem_init(&gm, FUZZ_RAM) != 0)
		abort();
	if (size < 40)
		return 0;

	/* The page walk: paging state and the address from the input, the tables from
	 * the rest of it, laid at guest-physical 0 (a CR3 of 0 walks them). */
	struct gva_paging pg = {
		.gp_cr0 = fuzz_u64(&data, &size), .gp_cr3 = fuzz_u64(&data, &size) % (4 * FUZZ_RAM),
		.gp_cr4 = fuzz_u64(&data, &size), .gp_efer = fuzz_u64(&data, &size),
	};
	uint64_t gva = fuzz_u64(&data, &size);
	memset(gm.gm_base, 0, 4 * 4096);
	guest_mem_write(&gm, 0, data, size < 4 * 4096 ? size : 4 * 4096);
	uint8_t insn[15];
	if (gva_read(&gm, &pg, gva, insn, sizeof(insn)) > sizeof(insn))
		abort();

	/* Device accesses: each 4 input bytes are one (kind, offset, size, value); IOAPIC
	 * offsets cover the whole window in 16-byte steps, where its registers are. */
	ioapic_init(&io, fuzz_msi, NULL);
	uart16550_init(&u, fuzz_tx, fuzz_irq, &io);
	for (size_t i = 0; i + 4 <= size; i += 4) {
		const uint8_t *a = data + i;
		unsigned len = 1u << (a[0] >> 6);           /* 1, 2, 4, 8 */
		uint32_t val = (uint32_t)a[2] * 0x01010101u ^ a[3];

		switch (a[0] & 3) {
		case 0:
			uart16550_write(&u, a[1] % UART_NR_PORTS, a[2]);
			break;
		case 1:
			(void)uart16550_read(&u, a[1] % UART_NR_PORTS);
			break;
		case 2:
			ioapic_mmio_write(&io, (uint64_t)a[1] << 4, len, val);
			break;
		default:
			(void)ioapic_mmio_read(&io, (uint64_t)a[1] << 4, len);
			if (a[2] & 1)
				ioapic_eoi(&io, a[3]);
			else
				(void)uart16550_receive(&u, a[3]);
			break;
		}
		if (u.u_rx_count > UART_RX_FIFO || u.u_rx_head >= UART_RX_FIFO)
			abort();
	}
	return 0;
}
