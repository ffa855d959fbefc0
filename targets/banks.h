/* banks.h - the Napas BINs of Vietnamese banks, shipped, so that a fee poster names the payee's bank. */
#ifndef QRW_BANKS_H
#define QRW_BANKS_H

/*
 * The bank a six-digit BIN (VietQR field 38/01/00) belongs to: its short
 * name as citizens know it ("Agribank"), or NULL when the table does not
 * know it; then the number is shown instead, never a guess.
 */
const char *bank_name(const char *bin);

#endif
