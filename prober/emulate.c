/* emulate.c - the uplink profiles of --emulate and qrwatch-netem, in one place (emulate.h, docs/probe.md). */
#include "emulate.h"

#include <string.h>

#include "../common/banned.h"

static const struct emulate_profile profiles[] = {
	{ "3g", 200, 1000000 / 8, 0.01,
	  "a weak 3G link: 200 ms round trip, 1 Mbit/s, 1% loss" },
	{ "4g", 60, 10000000 / 8, 0.005,
	  "ordinary village 4G: 60 ms round trip, 10 Mbit/s, 0.5% loss" },
	{ "4g-weak", 150, 1500000 / 8, 0.02,
	  "4G at the edge of a cell: 150 ms round trip, 1.5 Mbit/s, 2% loss" },
	{ "5g", 20, 50000000 / 8, 0.001,
	  "5G in a ward: 20 ms round trip, 50 Mbit/s, 0.1% loss" },
	{ NULL, 0, 0, 0, NULL },
};

const struct emulate_profile *emulate_find(const char *name)
{
	for (const struct emulate_profile *p = profiles; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const struct emulate_profile *emulate_profiles(void)
{
	return profiles;
}

void emulate_print(const struct emulate_profile *p, FILE *f)
{
	fprintf(f, "%s %ld %ld %g %s\n", p->name, p->rtt_ms, p->rate, p->loss * 100,
		p->stands_for);
}
