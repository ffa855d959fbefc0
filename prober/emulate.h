/* emulate.h - named uplink profiles for lab runs: the round trip and bandwidth each adds. */
#ifndef QRW_EMULATE_H
#define QRW_EMULATE_H

struct emulate_profile {
	const char *name;
	long rtt_ms;		/* added to every new connection */
	long rate;		/* bytes per second, each direction */
	double loss;		/* typical loss the profile stands for (documented, not applied) */
	const char *stands_for;
};

/* The profile called name, or NULL. */
const struct emulate_profile *emulate_find(const char *name);

/* All profiles, ending with a NULL name. */
const struct emulate_profile *emulate_profiles(void);

#endif
