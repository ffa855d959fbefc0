/* main.c - the unit-test runner: every suite, or those named on the command line. */
#include "../harness.h"

#include "../../common/banned.h"

extern const struct suite suite_text, suite_buf, suite_emvco, suite_domain,
	suite_policy, suite_catalog, suite_qrtext, suite_image, suite_decode,
	suite_guard, suite_poster, suite_netguard, suite_spool, suite_log,
	suite_alerts, suite_strictjson, suite_result, suite_engine, suite_page, suite_check;

int main(int argc, char **argv)
{
	static const struct suite *const all[] = {
		&suite_text, &suite_buf, &suite_emvco, &suite_domain, &suite_policy,
		&suite_catalog, &suite_qrtext, &suite_image, &suite_decode,
		&suite_guard, &suite_poster, &suite_netguard, &suite_spool, &suite_log,
		&suite_alerts, &suite_strictjson, &suite_result, &suite_engine, &suite_page, &suite_check,
	};

	return harness_main(all, sizeof(all) / sizeof(all[0]), argc, argv);
}
