#ifndef NINESCOPE_CNCURSESW_SHIM_H
#define NINESCOPE_CNCURSESW_SHIM_H
/* Wide-character curses: must be defined before <curses.h>. */
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#endif
