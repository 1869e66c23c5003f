/*
 * Device models without KVM: the 16550 as Linux's 8250 probe and console use it, and
 * the IOAPIC turning pin changes into MSIs.
 */
#include <string.h>

#include "tests/unit/unit.h"
#include "devices/ioapic_model.h"
#include "devices/uart16550.h"
#include "devices/uart16550_model.h"

static struct uart16550 td_uart;
static char td_out[64];
static unsigned td_nout;
static int td_irq_level = -1, td_irq_changes;

static void td_tx(void *ctx, uint8_t ch)
{
	ck_assert_ptr_eq(ctx, &td_uart);
	ck_assert_uint_lt(td_nout, sizeof(td_out) - 1);
	td_out[td_nout++] = (char)ch;
}

static void td_irq(void *ctx, bool level)
{
	(void)ctx;
	td_irq_level = level;
	td_irq_changes++;
}

static void td_uart_setup(void)
{
	memset(td_out, 0, sizeof(td_out));
	td_nout = 0;
	td_irq_level = -1;
	td_irq_changes = 0;
	uart16550_init(&td_uart, td_tx, td_irq, &td_uart);
}

START_TEST(uart_transmit)
{
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
	    UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_LSR) & UART_LSR_DR, 0);
	uart16550_write(&td_uart, UART_THR, 'o');
	uart16550_write(&td_uart, UART_THR, 'k');
	ck_assert_str_eq(td_out, "ok");
	/* Transmit is instant: THR is empty again at once. */
	ck_assert_uint_ne(uart16550_read(&td_uart, UART_LSR) & UART_LSR_THRE, 0);
	/* No data: RBR reads 0 and IIR says nothing pending. */
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_RBR), 0);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	ck_assert_int_eq(td_irq_changes, 0);
}
END_TEST

START_TEST(uart_divisor_latch)
{
	uart16550_write(&td_uart, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	uart16550_write(&td_uart, UART_DLL, 1);
	uart16550_write(&td_uart, UART_DLM, 0x02);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_DLL), 1);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_DLM), 0x02);
	ck_assert_uint_eq(td_nout, 0);          /* divisor writes are not output */
	uart16550_write(&td_uart, UART_LCR, UART_LCR_WLEN8);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IER), 0);  /* IER, not DLM */
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_LCR), UART_LCR_WLEN8);
}
END_TEST

/* The checks serial8250's autoconfig makes. */
START_TEST(uart_linux_probe)
{
	uart16550_write(&td_uart, UART_SCR, 0xa5);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_SCR), 0xa5);
	uart16550_write(&td_uart, UART_IER, 0);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IER), 0);
	uart16550_write(&td_uart, UART_IER, 0x0f);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IER), 0x0f);
	uart16550_write(&td_uart, UART_IER, 0);
	/* Loopback with RTS and OUT2: MSR shows CTS and DCD. */
	uart16550_write(&td_uart, UART_MCR, UART_MCR_LOOP | 0x0a);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_MSR) & 0xf0,
	    UART_MSR_CTS | UART_MSR_DCD);
	uart16550_write(&td_uart, UART_MCR, 0);
	/* FIFOs: both IIR top bits set when enabled. */
	uart16550_write(&td_uart, UART_FCR, UART_FCR_ENABLE);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & UART_IIR_FIFO_ON,
	    UART_IIR_FIFO_ON);
	uart16550_write(&td_uart, UART_FCR, 0);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & UART_IIR_FIFO_ON, 0);
	/* Out of loopback, an idle line is present. */
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_MSR) & (UART_MSR_DCD | UART_MSR_CTS),
	    UART_MSR_DCD | UART_MSR_CTS);
}
END_TEST

START_TEST(uart_loopback_receive)
{
	uart16550_write(&td_uart, UART_MCR, UART_MCR_LOOP);
	uart16550_write(&td_uart, UART_THR, 'x');
	uart16550_write(&td_uart, UART_THR, 'y');
	ck_assert_uint_eq(td_nout, 0);          /* looped back, not sent */
	ck_assert_uint_ne(uart16550_read(&td_uart, UART_LSR) & UART_LSR_DR, 0);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_RBR), 'x');
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_RBR), 'y');
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_LSR) & UART_LSR_DR, 0);
	/* Overrun: the 17th byte is lost and OE is reported once. */
	for (unsigned i = 0; i < UART_RX_FIFO; i++)
		ck_assert(uart16550_receive(&td_uart, (uint8_t)i));
	ck_assert(!uart16550_receive(&td_uart, 0xee));
	ck_assert_uint_ne(uart16550_read(&td_uart, UART_LSR) & UART_LSR_OE, 0);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_LSR) & UART_LSR_OE, 0);
	for (unsigned i = 0; i < UART_RX_FIFO; i++)
		ck_assert_uint_eq(uart16550_read(&td_uart, UART_RBR), i);
	/* FCR clears the receiver. */
	uart16550_receive(&td_uart, 'z');
	uart16550_write(&td_uart, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(uart_interrupts)
{
	/* Enabling THRI with THR empty raises it; reading IIR acknowledges it. */
	uart16550_write(&td_uart, UART_IER, UART_IER_THRI);
	ck_assert_int_eq(td_irq_level, 1);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & 0x0f, UART_IIR_THRI);
	ck_assert_int_eq(td_irq_level, 0);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Each transmitted byte raises it again. */
	uart16550_write(&td_uart, UART_THR, 'a');
	ck_assert_int_eq(td_irq_level, 1);
	/* Received data outranks THR empty and is cleared by reading RBR. */
	uart16550_write(&td_uart, UART_IER, UART_IER_THRI | UART_IER_RDI);
	uart16550_receive(&td_uart, 'r');
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & 0x0f, UART_IIR_RDI);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_RBR), 'r');
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & 0x0f, UART_IIR_THRI);
	ck_assert_uint_eq(uart16550_read(&td_uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	ck_assert_int_eq(td_irq_level, 0);
	uart16550_write(&td_uart, UART_IER, 0);
	uart16550_write(&td_uart, UART_THR, 'b');
	ck_assert_int_eq(td_irq_level, 0);
}
END_TEST

static struct ioapic td_io;
static uint64_t td_msi_addr[8];
static uint32_t td_msi_data[8];
static unsigned td_nmsi;

static int td_msi(void *ctx, uint64_t addr, uint32_t data)
{
	ck_assert_ptr_eq(ctx, &td_io);
	ck_assert_uint_lt(td_nmsi, 8);
	td_msi_addr[td_nmsi] = addr;
	td_msi_data[td_nmsi++] = data;
	return 0;
}

static void td_io_setup(void)
{
	td_nmsi = 0;
	ioapic_init(&td_io, td_msi, &td_io);
}

static void td_io_write(uint32_t idx, uint32_t val)
{
	ioapic_mmio_write(&td_io, IOAPIC_REG_SELECT, 4, idx);
	ioapic_mmio_write(&td_io, IOAPIC_REG_WINDOW, 4, val);
}

static uint32_t td_io_read(uint32_t idx)
{
	ioapic_mmio_write(&td_io, IOAPIC_REG_SELECT, 4, idx);
	return ioapic_mmio_read(&td_io, IOAPIC_REG_WINDOW, 4);
}

START_TEST(ioapic_registers)
{
	ck_assert_uint_eq(td_io_read(IOAPIC_IDX_VER), (IOAPIC_NPINS - 1) << 16 | 0x20);
	for (unsigned pin = 0; pin < IOAPIC_NPINS; pin++)
		ck_assert_uint_ne(td_io_read(IOAPIC_IDX_REDTBL + 2 * pin) & IOAPIC_RTE_MASKED, 0);
	td_io_write(IOAPIC_IDX_ID, 0x05000000);
	ck_assert_uint_eq(td_io_read(IOAPIC_IDX_ID), 0x05000000);
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 3 + 1, 0x02000000);
	ck_assert_uint_eq(td_io_read(IOAPIC_IDX_REDTBL + 2 * 3 + 1), 0x02000000);
	/* Read-only bits stay clear whatever the guest writes. */
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 3, 0x10000 | IOAPIC_RTE_DELIVS |
	    IOAPIC_RTE_REMOTE_IRR | 0x41);
	ck_assert_uint_eq(td_io_read(IOAPIC_IDX_REDTBL + 2 * 3), 0x10041);
	ck_assert_uint_eq(ioapic_mmio_read(&td_io, IOAPIC_REG_WINDOW, 2), 0xffffffffu);
	ck_assert_uint_eq(ioapic_mmio_read(&td_io, 0x20, 4), 0xffffffffu);
	ck_assert_uint_eq(td_io_read(0x10 + 2 * IOAPIC_NPINS), 0xffffffffu);
}
END_TEST

START_TEST(ioapic_edge)
{
	ioapic_set_irq(&td_io, 4, true);        /* masked: nothing */
	ioapic_set_irq(&td_io, 4, false);
	ck_assert_uint_eq(td_nmsi, 0);
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 4 + 1, 0x01000000);    /* destination APIC 1 */
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 4, 0x31);
	ioapic_set_irq(&td_io, 4, true);
	ck_assert_uint_eq(td_nmsi, 1);
	ck_assert_uint_eq(td_msi_addr[0], 0xfee01000);
	ck_assert_uint_eq(td_msi_data[0], 0x31);
	ioapic_set_irq(&td_io, 4, true);        /* still high: no new edge */
	ck_assert_uint_eq(td_nmsi, 1);
	ioapic_set_irq(&td_io, 4, false);
	ioapic_set_irq(&td_io, 4, true);
	ck_assert_uint_eq(td_nmsi, 2);
	ioapic_set_irq(&td_io, IOAPIC_NPINS, true);     /* no such pin: ignored */
	ck_assert_uint_eq(td_nmsi, 2);
}
END_TEST

START_TEST(ioapic_level)
{
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 5, 0x42 | IOAPIC_RTE_LEVEL);
	ioapic_set_irq(&td_io, 5, true);
	ck_assert_uint_eq(td_nmsi, 1);
	ck_assert_uint_eq(td_msi_data[0], 0x42 | 1u << 15 | 1u << 14);
	ck_assert_uint_ne(td_io_read(IOAPIC_IDX_REDTBL + 2 * 5) & IOAPIC_RTE_REMOTE_IRR, 0);
	ioapic_set_irq(&td_io, 5, true);        /* not acknowledged yet */
	ck_assert_uint_eq(td_nmsi, 1);
	ioapic_eoi(&td_io, 0x41);               /* another vector */
	ck_assert_uint_eq(td_nmsi, 1);
	ioapic_eoi(&td_io, 0x42);               /* still asserted: fires again */
	ck_assert_uint_eq(td_nmsi, 2);
	ioapic_set_irq(&td_io, 5, false);
	ioapic_mmio_write(&td_io, IOAPIC_REG_EOI, 4, 0x42);
	ck_assert_uint_eq(td_io_read(IOAPIC_IDX_REDTBL + 2 * 5) & IOAPIC_RTE_REMOTE_IRR, 0);
	ck_assert_uint_eq(td_nmsi, 2);
	/* Unmasking an asserted level pin delivers it. */
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 6, 0x43 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
	ioapic_set_irq(&td_io, 6, true);
	ck_assert_uint_eq(td_nmsi, 2);
	td_io_write(IOAPIC_IDX_REDTBL + 2 * 6, 0x43 | IOAPIC_RTE_LEVEL);
	ck_assert_uint_eq(td_nmsi, 3);
	ck_assert_uint_eq(td_msi_data[2] & 0xff, 0x43);
}
END_TEST

START_TEST(ioapic_msi_format)
{
	uint64_t addr;
	uint32_t data;

	ioapic_rte_to_msi(0x31 | 1ull << 8 | IOAPIC_RTE_DESTLOG | 0x03ull << 56, &addr, &data);
	ck_assert_uint_eq(addr, 0xfee03004);
	ck_assert_uint_eq(data, 0x131);
}
END_TEST

static Suite *devices_suite(void)
{
	Suite *s = suite_create("vmm.devices");
	TCase *uart = tcase_create("uart16550");
	TCase *io = tcase_create("ioapic");

	tcase_add_checked_fixture(uart, td_uart_setup, NULL);
	tcase_add_test(uart, uart_transmit);
	tcase_add_test(uart, uart_divisor_latch);
	tcase_add_test(uart, uart_linux_probe);
	tcase_add_test(uart, uart_loopback_receive);
	tcase_add_test(uart, uart_interrupts);
	suite_add_tcase(s, uart);
	tcase_add_checked_fixture(io, td_io_setup, NULL);
	tcase_add_test(io, ioapic_registers);
	tcase_add_test(io, ioapic_edge);
	tcase_add_test(io, ioapic_level);
	tcase_add_test(io, ioapic_msi_format);
	suite_add_tcase(s, io);
	return s;
}
UNIT_SUITE(devices_suite);
