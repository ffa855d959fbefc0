/* uplink.c - the uplink kinds (see uplink.h). */
#include "uplink.h"

#include "../common/text.h"
#include "../common/banned.h"

int uplink_valid(const char *s)
{
	return text_has_word(UPLINK_KINDS, s);
}
