/*
 * The device table (devtab.h). A handful of ranges per bus: a linear search is a few
 * compares, less than any alternative's set-up.
 */
#include <string.h>

#include "vmm/devtab.h"

int io_bus_register(struct io_bus *b, uint64_t base, uint64_t len, io_handler_fn *fn,
    void *dev, const char *name)
{
	if (len == 0 || base + len < base || b->ib_n == IO_BUS_MAX)
		return -1;
	for (unsigned i = 0; i < b->ib_n; i++) {
		const struct io_range *r = &b->ib_ranges[i];
		if (base < r->ir_base + r->ir_len && r->ir_base < base + len)
			return -1;
	}
	b->ib_ranges[b->ib_n++] = (struct io_range){ base, len, fn, dev, name };
	return 0;
}

const struct io_range *io_bus_find(const struct io_bus *b, uint64_t addr)
{
	for (unsigned i = 0; i < b->ib_n; i++) {
		const struct io_range *r = &b->ib_ranges[i];
		if (addr >= r->ir_base && addr - r->ir_base < r->ir_len)
			return r;
	}
	return NULL;
}

int devtab_add(struct devtab *dt, const struct vmm_device *d)
{
	if (dt->dt_ndev == DEVTAB_MAX)
		return -1;
	dt->dt_dev[dt->dt_ndev++] = *d;
	return 0;
}

void devtab_stop_all(struct devtab *dt)
{
	for (unsigned i = dt->dt_ndev; i-- > 0;) {
		struct vmm_device *d = &dt->dt_dev[i];
		if (d->vd_stop != NULL)
			d->vd_stop(d->vd_dev);
		d->vd_stop = NULL;
	}
}

void devtab_report_all(const struct devtab *dt)
{
	for (unsigned i = 0; i < dt->dt_ndev; i++)
		if (dt->dt_dev[i].vd_report != NULL)
			dt->dt_dev[i].vd_report(dt->dt_dev[i].vd_dev);
}

uint64_t io_data_get(const uint8_t *data, unsigned len)
{
	uint64_t v = 0;

	memcpy(&v, data, len <= 8 ? len : 8);
	return v;
}

void io_data_put(uint8_t *data, unsigned len, uint64_t v)
{
	memset(data, 0xff, len);
	memcpy(data, &v, len <= 8 ? len : 8);
}
