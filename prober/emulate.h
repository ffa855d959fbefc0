/* emulate.h - named uplink profiles for lab runs: the round trip and bandwidth each adds. */
#ifndef QRW_EMULATE_H
#define QRW_EMULATE_H

#include <stdio.h>

struct emulate_profile {
	const char *name;
	long rtt_ms;		/* one round trip: each handshake and each exchange pays it */
	long rate;		/* bytes per second, each direction */
	double loss;		/* packets lost, each direction (netem applies it; the probe cannot) */
	const char *stands_for;
};

/* The profile called name, or NULL. */
const struct emulate_profile *emulate_find(const char *name);

/* All profiles, ending with a NULL name. */
const struct emulate_profile *emulate_profiles(void);

/*
 * Print p as one line for scripts (qrwatch-netem reads it): its name, the
 * round trip in ms, the bandwidth in bytes per second each way, the loss in
 * percent each way, and what it stands for.
 */
void emulate_print(const struct emulate_profile *p, FILE *f);

#endif
