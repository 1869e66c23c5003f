/*
 * Device models without KVM: the 16550 as Linux's 8250 probe and console use it, the
 * IOAPIC turning pin changes into MSIs, the virtio-mmio transport's register state
 * machine over a stand-in device, and the VMM's device table.
 */
#include <string.h>

#include "tests/unit/unit.h"
#include "devices/ioapic_model.h"
#include "devices/uart16550.h"
#include "devices/uart16550_model.h"
#include "devices/virtio_mmio.h"
#include "vmm/devtab.h"
#include "vmm/guest_mem.h"

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

static unsigned td_rte_calls, td_rte_pin;
static uint64_t td_rte_val;

static void td_rte(void *ctx, unsigned pin, uint64_t rte)
{
	(void)ctx;
	td_rte_calls++;
	td_rte_pin = pin;
	td_rte_val = rte;
}

/* The hook irqfd routes follow (vmm/irq.c): told of each entry the guest writes. */
START_TEST(ioapic_rte_hook)
{
	td_rte_calls = 0;
	td_io.io_rte_changed = td_rte;
	ioapic_mmio_write(&td_io, IOAPIC_REG_SELECT, 4, IOAPIC_IDX_REDTBL + 2 * 5);
	ioapic_mmio_write(&td_io, IOAPIC_REG_WINDOW, 4, 0x31);
	ck_assert_uint_eq(td_rte_calls, 1);
	ck_assert_uint_eq(td_rte_pin, 5);
	ck_assert_uint_eq(td_rte_val & (IOAPIC_RTE_MASKED | IOAPIC_RTE_VECTOR), 0x31);
	ioapic_mmio_write(&td_io, IOAPIC_REG_SELECT, 4, IOAPIC_IDX_REDTBL + 2 * 5 + 1);
	ioapic_mmio_write(&td_io, IOAPIC_REG_WINDOW, 4, 0x01000000);
	ck_assert_uint_eq(td_rte_calls, 2);
	ck_assert_uint_eq(td_rte_val >> IOAPIC_RTE_DEST_SHIFT, 1);
}
END_TEST

/* ---- the virtio-mmio transport over a stand-in device ---- */

#define TV_RAM      (1u << 20)
static struct guest_mem tv_gm;
static struct virtio_mmio tv_tr;
static unsigned tv_starts, tv_resets, tv_notifies, tv_irqs, tv_notify_q;
static uint64_t tv_start_features;
static struct virtq *tv_start_vqs;
static const uint8_t tv_config[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void tv_start(void *dev, struct virtq *vqs, unsigned n, uint64_t features)
{
	(void)dev;
	ck_assert_uint_eq(n, 2);
	tv_starts++;
	tv_start_vqs = vqs;
	tv_start_features = features;
}

static void tv_reset(void *dev)
{
	(void)dev;
	tv_resets++;
}

static void tv_notify(void *dev, unsigned q)
{
	(void)dev;
	tv_notifies++;
	tv_notify_q = q;
}

static void tv_irq(void *ctx)
{
	(void)ctx;
	tv_irqs++;
}

static const struct virtio_dev_ops tv_ops = {
	.vdo_device_id = 42, .vdo_nqueues = 2, .vdo_queue_num_max = 16,
	.vdo_start = tv_start, .vdo_reset = tv_reset, .vdo_notify = tv_notify,
};

#define TV_FEATURE  (1ull << 3)

static void tv_setup(void)
{
	ck_assert_int_eq(guest_mem_init(&tv_gm, TV_RAM), 0);
	tv_starts = tv_resets = tv_notifies = tv_irqs = 0;
	virtio_mmio_init(&tv_tr, &tv_gm, &tv_ops, NULL, TV_FEATURE | 1ull << VIRTIO_F_EVENT_IDX,
	    tv_config, sizeof(tv_config), tv_irq, NULL);
}

static void tv_teardown(void)
{
	virtio_mmio_destroy(&tv_tr);
	guest_mem_destroy(&tv_gm);
}

static uint32_t tv_rd(uint64_t off)
{
	return (uint32_t)virtio_mmio_read(&tv_tr, off, 4);
}

static void tv_wr(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&tv_tr, off, 4, v);
}

#define TV_AD   (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
#define TV_FOK  (TV_AD | VIRTIO_STATUS_FEATURES_OK)

/* Accept features f; => the status read back. */
static uint32_t tv_negotiate(uint64_t f)
{
	tv_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tv_wr(VIRTIO_MMIO_STATUS, TV_AD);
	tv_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	tv_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	tv_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tv_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	tv_wr(VIRTIO_MMIO_STATUS, TV_FOK);
	return tv_rd(VIRTIO_MMIO_STATUS);
}

/* Queue q on rings at base (desc), base + 0x400 (avail), base + 0x800 (used). */
static void tv_queue(unsigned q, uint32_t num, uint64_t base)
{
	tv_wr(VIRTIO_MMIO_QUEUE_SEL, q);
	tv_wr(VIRTIO_MMIO_QUEUE_NUM, num);
	tv_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	tv_wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(base >> 32));
	tv_wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(base + 0x400));
	tv_wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((base + 0x400) >> 32));
	tv_wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(base + 0x800));
	tv_wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((base + 0x800) >> 32));
	tv_wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

START_TEST(vmmio_identity)
{
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_DEVICE_ID), 42);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_VENDOR_ID);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), 0);
	tv_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_DEVICE_FEATURES), TV_FEATURE |
	    1u << VIRTIO_F_EVENT_IDX);
	tv_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_DEVICE_FEATURES), 1);      /* VERSION_1 */
	tv_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	ck_assert_uint_eq(tv_tr.tr_nbad, 0);
}
END_TEST

START_TEST(vmmio_negotiation)
{
	/* Without VERSION_1 (a legacy driver): FEATURES_OK does not stick. */
	ck_assert_uint_eq(tv_negotiate(TV_FEATURE), TV_AD);
	/* A feature not offered: refused too. */
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tv_negotiate(1ull << VIRTIO_F_VERSION_1 | 1ull << 7), TV_AD);
	/* What was offered: accepted; DriverFeatures is frozen after FEATURES_OK. */
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tv_negotiate(1ull << VIRTIO_F_VERSION_1 | TV_FEATURE), TV_FOK);
	uint64_t bad = tv_tr.tr_nbad;
	tv_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	tv_wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	ck_assert_uint_eq(tv_tr.tr_nbad, bad + 1);
	ck_assert_uint_eq(tv_tr.tr_drv_features, 1ull << VIRTIO_F_VERSION_1 | TV_FEATURE);
	/* DRIVER_OK before FEATURES_OK is refused. */
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	tv_wr(VIRTIO_MMIO_STATUS, TV_AD | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), TV_AD);
	ck_assert_uint_eq(tv_starts, 0);
}
END_TEST

START_TEST(vmmio_queue_setup)
{
	ck_assert_uint_eq(tv_negotiate(1ull << VIRTIO_F_VERSION_1 |
	    1ull << VIRTIO_F_EVENT_IDX), TV_FOK);
	tv_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
	tv_wr(VIRTIO_MMIO_QUEUE_SEL, 2);                /* no such queue */
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	/* Too large, not a power of 2, rings outside RAM: the queue stays not ready. */
	tv_queue(0, 32, 0x1000);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	tv_queue(0, 12, 0x1000);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	tv_queue(0, 16, TV_RAM - 0x400);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	tv_queue(0, 16, 0x1000ull | 1ull << 40);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	/* A good one. */
	tv_queue(0, 16, 0x1000);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 1);
	ck_assert(tv_tr.tr_vq[0].vq_event_idx);
	/* Its addresses cannot change while it is ready. */
	uint64_t bad = tv_tr.tr_nbad;
	tv_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	tv_wr(VIRTIO_MMIO_QUEUE_NUM, 4);
	ck_assert_uint_eq(tv_tr.tr_nbad, bad + 2);
	ck_assert_uint_eq(tv_tr.tr_q[0].mq_desc, 0x1000);
	ck_assert_uint_eq(tv_tr.tr_vq[0].vq_num, 16);
	/* Queue 1 is selected separately. */
	tv_wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	/* Not ready again before DRIVER_OK is allowed. */
	tv_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	tv_wr(VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(tv_tr.tr_vq[0].vq_num, 0);
}
END_TEST

START_TEST(vmmio_start_notify_reset)
{
	/* Queues before FEATURES_OK are refused. */
	tv_wr(VIRTIO_MMIO_STATUS, TV_AD);
	tv_queue(0, 8, 0x1000);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tv_negotiate(1ull << VIRTIO_F_VERSION_1), TV_FOK);
	tv_queue(0, 8, 0x1000);
	/* A notification before DRIVER_OK goes nowhere. */
	tv_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(tv_notifies, 0);
	tv_wr(VIRTIO_MMIO_STATUS, TV_FOK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), TV_FOK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(tv_starts, 1);
	ck_assert_ptr_eq(tv_start_vqs, tv_tr.tr_vq);
	ck_assert_uint_eq(tv_start_vqs[0].vq_num, 8);
	ck_assert_uint_eq(tv_start_vqs[1].vq_num, 0);
	ck_assert(!tv_start_vqs[0].vq_event_idx);
	ck_assert_uint_eq(tv_start_features, 1ull << VIRTIO_F_VERSION_1);
	/* Setting it again starts nothing twice. */
	tv_wr(VIRTIO_MMIO_STATUS, TV_FOK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(tv_starts, 1);
	tv_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	ck_assert_uint_eq(tv_notifies, 1);
	ck_assert_uint_eq(tv_notify_q, 1);
	tv_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	ck_assert_uint_eq(tv_notifies, 1);
	/* Queue registers are frozen while the device runs. */
	tv_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	tv_wr(VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 1);
	/* Clearing a bit is not a reset. */
	tv_wr(VIRTIO_MMIO_STATUS, TV_AD);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), TV_FOK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(tv_resets, 0);
	/* Writing 0 is: the device stops first, then everything is as at power-on. */
	virtio_mmio_interrupt(&tv_tr, VIRTIO_MMIO_INT_VRING);
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tv_resets, 1);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(tv_tr.tr_drv_features, 0);
	/* A reset of a device that never started tells it nothing. */
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tv_resets, 1);
}
END_TEST

START_TEST(vmmio_config_space)
{
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG, 1), 1);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG + 1, 2), 0x0302);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG + 4, 4), 0x08070605);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG + 4, 8),
	    0x0c0b0a0908070605ull);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	/* Past the end (partly or wholly): 0, counted. */
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG + 10, 4), 0);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG + 0xe00, 4), 0);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG, 3), 0);
	ck_assert_uint_eq(tv_tr.tr_nbad, 3);
	/* Read-only for the driver. */
	virtio_mmio_write(&tv_tr, VIRTIO_MMIO_CONFIG, 1, 0xff);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_CONFIG, 1), 1);
}
END_TEST

START_TEST(vmmio_interrupts)
{
	ck_assert(!virtio_mmio_irq_pending(&tv_tr));
	virtio_mmio_interrupt(&tv_tr, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(tv_irqs, 1);
	ck_assert(virtio_mmio_irq_pending(&tv_tr));
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	virtio_mmio_needs_reset(&tv_tr);
	ck_assert_uint_eq(tv_irqs, 2);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	ck_assert(tv_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	virtio_mmio_needs_reset(&tv_tr);        /* said once */
	ck_assert_uint_eq(tv_irqs, 2);
	tv_wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	tv_wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	ck_assert(!virtio_mmio_irq_pending(&tv_tr));
	/* The driver cannot set NEEDS_RESET, nor clear it but by a reset. */
	tv_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), 0);
	tv_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
}
END_TEST

START_TEST(vmmio_bad_accesses)
{
	/* Narrow or misaligned register accesses: reads 0, writes ignored, all counted. */
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_MAGIC_VALUE, 1), 0);
	ck_assert_uint_eq(virtio_mmio_read(&tv_tr, VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0);
	virtio_mmio_write(&tv_tr, VIRTIO_MMIO_STATUS, 2, VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_STATUS), 0);
	/* Write-only registers read 0; read-only ones ignore writes; holes are nothing. */
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	tv_wr(VIRTIO_MMIO_MAGIC_VALUE, 0);
	ck_assert_uint_eq(tv_rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	ck_assert_uint_eq(tv_rd(0x0c8), 0);
	tv_wr(0x0c8, 1);
	ck_assert_uint_eq(tv_tr.tr_nbad, 7);
	ck_assert_uint_eq(tv_starts + tv_resets + tv_notifies, 0);
}
END_TEST

/* ---- the VMM's device table ---- */

static int td_handler(void *dev, uint64_t off, bool write, unsigned len, uint8_t *data)
{
	(void)write;
	(void)len;
	(void)data;
	return (int)(uintptr_t)dev * 100 + (int)off;
}

START_TEST(devtab_ranges)
{
	struct io_bus b = { 0 };

	ck_assert_int_eq(io_bus_register(&b, 0x3f8, 8, td_handler, (void *)1, "a"), 0);
	ck_assert_int_eq(io_bus_register(&b, 0x600, 1, td_handler, (void *)2, "b"), 0);
	/* Overlaps, empty and wrapping ranges are refused. */
	ck_assert_int_eq(io_bus_register(&b, 0x3ff, 2, td_handler, NULL, "c"), -1);
	ck_assert_int_eq(io_bus_register(&b, 0x3f0, 9, td_handler, NULL, "c"), -1);
	ck_assert_int_eq(io_bus_register(&b, 0x3f0, 0, td_handler, NULL, "c"), -1);
	ck_assert_int_eq(io_bus_register(&b, UINT64_MAX - 1, 4, td_handler, NULL, "c"), -1);
	ck_assert_int_eq(io_bus_register(&b, 0x3f0, 8, td_handler, (void *)3, "c"), 0);
	const struct io_range *r = io_bus_find(&b, 0x3fc);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->ir_fn(r->ir_dev, 0x3fc - r->ir_base, false, 1, NULL), 104);
	ck_assert_str_eq(io_bus_find(&b, 0x3f7)->ir_name, "c");
	ck_assert_str_eq(io_bus_find(&b, 0x600)->ir_name, "b");
	ck_assert_ptr_null(io_bus_find(&b, 0x601));
	ck_assert_ptr_null(io_bus_find(&b, 0x400));
	/* A full bus says so. */
	for (unsigned i = b.ib_n; i < IO_BUS_MAX; i++)
		ck_assert_int_eq(io_bus_register(&b, 0x1000 + i, 1, td_handler, NULL, "x"), 0);
	ck_assert_int_eq(io_bus_register(&b, 0x2000, 1, td_handler, NULL, "x"), -1);
	/* Access data as numbers: little-endian, reads padded with ones. */
	uint8_t d[8];
	io_data_put(d, 2, 0x12345678);
	ck_assert_uint_eq(d[0], 0x78);
	ck_assert_uint_eq(d[1], 0x56);
	ck_assert_uint_eq(io_data_get(d, 2), 0x5678);
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
	tcase_add_test(io, ioapic_rte_hook);
	suite_add_tcase(s, io);
	TCase *vm = tcase_create("virtio_mmio");
	tcase_add_checked_fixture(vm, tv_setup, tv_teardown);
	tcase_add_test(vm, vmmio_identity);
	tcase_add_test(vm, vmmio_negotiation);
	tcase_add_test(vm, vmmio_queue_setup);
	tcase_add_test(vm, vmmio_start_notify_reset);
	tcase_add_test(vm, vmmio_config_space);
	tcase_add_test(vm, vmmio_interrupts);
	tcase_add_test(vm, vmmio_bad_accesses);
	suite_add_tcase(s, vm);
	TCase *dt = tcase_create("devtab");
	tcase_add_test(dt, devtab_ranges);
	suite_add_tcase(s, dt);
	return s;
}
UNIT_SUITE(devices_suite);
