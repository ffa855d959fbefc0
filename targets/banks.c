/* banks.c - the Napas BINs of Vietnamese banks, shipped, so that a fee poster names the payee's bank. */
#include "banks.h"

#include <stddef.h>
#include <string.h>

#include "../common/banned.h"

/*
 * Sorted by BIN. Only banks whose BIN every published list agrees on; a
 * bank missing here is shown by its BIN (bank_name() returns NULL).
 */
static const struct {
	const char *bin, *name;
} banks[] = {
	{ "970400", "Saigonbank" },
	{ "970403", "Sacombank" },
	{ "970405", "Agribank" },
	{ "970406", "DongA Bank" },
	{ "970407", "Techcombank" },
	{ "970408", "GPBank" },
	{ "970409", "Bac A Bank" },
	{ "970410", "Standard Chartered" },
	{ "970415", "VietinBank" },
	{ "970416", "ACB" },
	{ "970418", "BIDV" },
	{ "970419", "NCB" },
	{ "970422", "MB" },
	{ "970423", "TPBank" },
	{ "970425", "ABBANK" },
	{ "970426", "MSB" },
	{ "970428", "Nam A Bank" },
	{ "970429", "SCB" },
	{ "970431", "Eximbank" },
	{ "970432", "VPBank" },
	{ "970436", "Vietcombank" },
	{ "970437", "HDBank" },
	{ "970438", "BaoViet Bank" },
	{ "970440", "SeABank" },
	{ "970441", "VIB" },
	{ "970443", "SHB" },
	{ "970448", "OCB" },
	{ "970449", "LPBank" },
	{ "970452", "KienlongBank" },
	{ "970454", "Viet Capital Bank" },
};

const char *bank_name(const char *bin)
{
	size_t lo = 0, hi = sizeof(banks) / sizeof(banks[0]);

	if (!bin)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(bin, banks[mid].bin);

		if (!c)
			return banks[mid].name;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
