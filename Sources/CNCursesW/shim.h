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
#include <langinfo.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/*
 * Swift cannot call C macros that take arguments, cannot call variadic C functions, and treats
 * C global variables as unsafe shared state under strict concurrency. These static inline
 * wrappers give Swift plain functions instead. All prefixed ns_.
 */

/* Global state, read through functions (curses is used from one thread only). */
static inline FILE *ns_curses_stdin(void) { return stdin; }
static inline FILE *ns_curses_stdout(void) { return stdout; }
static inline WINDOW *ns_stdscr(void) { return stdscr; }
static inline WINDOW *ns_curscr(void) { return curscr; }
static inline int ns_lines(void) { return LINES; }
static inline int ns_cols(void) { return COLS; }
static inline int ns_colors(void) { return COLORS; }
static inline int ns_color_pairs(void) { return COLOR_PAIRS; }

/* Window geometry macros. */
static inline int ns_getmaxx(WINDOW *w) { return getmaxx(w); }
static inline int ns_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline void ns_getyx(WINDOW *w, int *y, int *x) { int yy, xx; getyx(w, yy, xx); *y = yy; *x = xx; }

/* Attribute macros. */
static inline attr_t ns_a_normal(void) { return A_NORMAL; }
static inline attr_t ns_a_bold(void) { return A_BOLD; }
static inline attr_t ns_a_dim(void) { return A_DIM; }
static inline attr_t ns_a_underline(void) { return A_UNDERLINE; }
static inline attr_t ns_a_reverse(void) { return A_REVERSE; }
static inline attr_t ns_a_italic(void) { return A_ITALIC; }
static inline attr_t ns_a_blink(void) { return A_BLINK; }
static inline attr_t ns_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }

/* The C library's column width of a wide character (-1 if unprintable). */
static inline int ns_wcwidth(wchar_t c) { return wcwidth(c); }

/* Key macros. */
static inline int ns_key_f(int n) { return KEY_F(n); }

/*
 * Draws one cell: up to CCHARW_MAX-1 wide characters (a spacing character and its combining
 * marks, NUL-terminated) with attributes and an extended colour pair number.
 */
static inline int ns_put_cell(WINDOW *w, int y, int x, const wchar_t *wch, attr_t attrs, int pair) {
    cchar_t cc;
    memset(&cc, 0, sizeof cc);
    if (setcchar(&cc, wch, attrs, (short)(pair < 0x7fff ? pair : 0), &pair) != OK) return ERR;
    return mvwadd_wch(w, y, x, &cc);
}

/* Mouse event masks for button b (1 = left, 2 = middle, 3 = right, 4/5 = wheel up/down). */
static inline mmask_t ns_button_pressed(int b) { return NCURSES_MOUSE_MASK(b, NCURSES_BUTTON_PRESSED); }
static inline mmask_t ns_button_released(int b) { return NCURSES_MOUSE_MASK(b, NCURSES_BUTTON_RELEASED); }
static inline mmask_t ns_button_clicked(int b) { return NCURSES_MOUSE_MASK(b, NCURSES_BUTTON_CLICKED); }
static inline mmask_t ns_button_double_clicked(int b) { return NCURSES_MOUSE_MASK(b, NCURSES_DOUBLE_CLICKED); }
static inline mmask_t ns_button_ctrl(void) { return BUTTON_CTRL; }
static inline mmask_t ns_button_shift(void) { return BUTTON_SHIFT; }
static inline mmask_t ns_button_alt(void) { return BUTTON_ALT; }
static inline mmask_t ns_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }

/* True when the current LC_CTYPE codeset is UTF-8. */
static inline int ns_codeset_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/*
 * Fatal-signal cleanup: leave curses mode, then die from the same signal with its default
 * action, so the shell gets the right status and the terminal is usable again. Installed only
 * for signals whose disposition is still the default (an application handler is respected).
 * endwin() is not strictly async-signal-safe; this is the usual curses compromise (ncurses'
 * own handler does the same).
 */
static inline void ns_fatal_signal_handler(int sig) {
    if (!isendwin()) endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void ns_install_fatal_signal_handlers(void) {
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = ns_fatal_signal_handler;
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

/* Leaves curses mode at process exit if the program forgot to (registered once). */
static inline void ns_endwin_at_exit_handler(void) {
    if (!isendwin()) endwin();
}

static inline void ns_register_endwin_at_exit(void) {
    static int registered = 0;
    if (!registered) {
        registered = 1;
        atexit(ns_endwin_at_exit_handler);
    }
}

/* Puts back the default action for the signals that still have our handler. */
static inline void ns_remove_fatal_signal_handlers(void) {
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == ns_fatal_signal_handler) {
            signal(sigs[i], SIG_DFL);
        }
    }
}
/*
 * Job control. The terminal is in raw mode, so ctrl-z is a key; a SIGTSTP sent from outside
 * (`kill -TSTP`) is caught here and only noted, for the UI thread to give the terminal back and
 * then stop the process itself (ns_stop_process). ncurses' own SIGTSTP handler, which repaints
 * from a signal handler on whichever thread the signal reaches, is replaced.
 * The flag is a static of this header: call these only from one Swift file (CursesBackend.swift),
 * so that one copy of it is used.
 */
static volatile sig_atomic_t ns_stop_flag = 0;

static inline void ns_stop_signal_handler(int sig) { (void)sig; ns_stop_flag = 1; }

/* True when SIGTSTP is ignored (a shell without job control may start programs so). */
static inline int ns_stop_signal_ignored(void) {
    struct sigaction old;
    return sigaction(SIGTSTP, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
}

static inline void ns_install_stop_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ns_stop_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTSTP, &sa, NULL);
}

static inline void ns_remove_stop_handler(void) {
    struct sigaction old;
    if (sigaction(SIGTSTP, NULL, &old) == 0 && old.sa_handler == ns_stop_signal_handler) signal(SIGTSTP, SIG_DFL);
}

/* Returns and clears the note of a SIGTSTP received. */
static inline int ns_take_stop_request(void) {
    int requested = ns_stop_flag;
    ns_stop_flag = 0;
    return requested;
}

/* Fields of /proc/PID/stat: the parent, process group and session. 0 on success. */
static inline int ns_proc_stat(long pid, int *parent, int *pgrp, int *session) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    char line[512];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *after_name = strrchr(line, ')');   /* the name may hold spaces and parentheses */
    char state;
    if (after_name == NULL || sscanf(after_name + 1, " %c %d %d %d", &state, parent, pgrp, session) != 4) return -1;
    return 0;
}

/*
 * The processes of this process group other than this one (from /proc), up to `max`; returns how
 * many. Sets *orphaned when no member's parent is in another group of the same session: then no
 * shell waits to bring the group back, and the kernel does not stop it for SIGTSTP.
 */
static inline int ns_process_group(pid_t *others, int max, int *orphaned) {
    pid_t me = getpid(), group = getpgrp(), session = getsid(0);
    int count = 0, parents[64], nparents = 0, parent, pgrp, sid;
    if (ns_proc_stat(me, &parent, &pgrp, &sid) == 0) parents[nparents++] = parent;
    DIR *proc = opendir("/proc");
    if (proc != NULL) {
        struct dirent *entry;
        while ((entry = readdir(proc)) != NULL) {
            char *end;
            long pid = strtol(entry->d_name, &end, 10);
            if (*end != 0 || pid <= 0 || pid == me) continue;
            if (ns_proc_stat(pid, &parent, &pgrp, &sid) != 0 || pgrp != group) continue;
            if (count < max) others[count++] = (pid_t)pid;
            if (nparents < 64) parents[nparents++] = parent;
        }
        closedir(proc);
    }
    *orphaned = 1;
    for (int i = 0; i < nparents; i++) {
        if (ns_proc_stat(parents[i], &parent, &pgrp, &sid) == 0 && pgrp != group && sid == session) *orphaned = 0;
    }
    return count;
}

/*
 * Stops the process as a shell's job: SIGTSTP with its default action to this thread (the
 * process stops before pthread_kill returns), for `whole_group` first to the rest of the process
 * group (a `make demo` stops with its make, as the terminal's ctrl-z would stop them all), never
 * to the process as a whole (any of its threads may take that, after the handler is back).
 * Returns once continued (`fg`), the handler that was there put back: 1; or at once, 0, when the
 * group is orphaned (no job control: nothing would bring it back).
 */
static inline int ns_stop_process(int whole_group) {
    pid_t others[256];
    int orphaned = 0;
    int count = ns_process_group(others, 256, &orphaned);
    if (orphaned) return 0;
    struct sigaction ours, dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &ours);
    sigset_t tstp, old;
    sigemptyset(&tstp);
    sigaddset(&tstp, SIGTSTP);
    pthread_sigmask(SIG_UNBLOCK, &tstp, &old);
    if (whole_group) for (int i = 0; i < count; i++) kill(others[i], SIGTSTP);
    pthread_kill(pthread_self(), SIGTSTP);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    sigaction(SIGTSTP, &ours, NULL);
    ns_stop_flag = 0;
    return 1;
}

/*
 * The current low-level terminal (terminfo's cur_term). Other users of the shared terminfo
 * library -- libedit calls tgetent() -- replace it, so the backend saves it and puts it back
 * when it takes the terminal again. term.h is included last: it defines many lower-case
 * capability macros (lines, columns, bell...) that must not touch the code above.
 */
#include <ncursesw/term.h>
static inline void *ns_current_terminal(void) { return cur_term; }
/* Whether the current terminal can move the cursor (terminfo `cup`): a full-screen UI needs it. */
static inline int ns_terminal_can_address_cursor(void) {
    const char *cup = tigetstr("cup");
    return cup != NULL && cup != (const char *)-1;
}
static inline void ns_set_current_terminal(void *terminal) { set_curterm((TERMINAL *)terminal); }
#endif
