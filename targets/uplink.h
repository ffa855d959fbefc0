/* uplink.h - the kinds of link a probe reports it checks over: one list for probe.conf and ingest. */
#ifndef QRW_UPLINK_H
#define QRW_UPLINK_H

/* Space-separated, as probe.conf's 'uplink' choices and docs/protocol.md list them. */
#define UPLINK_KINDS "fibre 5g 4g 3g adsl wifi satellite other unknown"

/* Whether s is exactly one of UPLINK_KINDS. */
int uplink_valid(const char *s);

#endif
