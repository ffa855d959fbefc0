/* banned.h - functions that invite overflows or hidden state; use the safe ones. */
#ifndef QRW_BANNED_H
#define QRW_BANNED_H

/*
 * Included last by every .c file of the project. Each banned name becomes a
 * call to an undeclared function, so the build fails where it is used.
 * Use instead: buf_add*() or snprintf() for strings, strtol()/strtoul() with
 * end checks (common/strparse.h), gmtime_r()/localtime_r(), strtok_r() only
 * where a parser really needs it.
 */
#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)
#undef gets
#define gets(x) BANNED(gets)

#endif
