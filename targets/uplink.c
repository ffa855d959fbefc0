/* uplink.c - the uplink kinds (see uplink.h). */
#include "uplink.h"

#include <string.h>

#include "../common/banned.h"

int uplink_valid(const char *s)
{
	const char *list = UPLINK_KINDS;
	size_t n = strlen(s);

	while (*list) {
		size_t k = strcspn(list, " ");

		if (k == n && n > 0 && memcmp(list, s, n) == 0)
			return 1;
		list += k;
		list += strspn(list, " ");
	}
	return 0;
}
