#ifndef NINESCOPE_CEDITLINE_SHIM_H
#define NINESCOPE_CEDITLINE_SHIM_H
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <histedit.h>

/*
 * el_set, el_get and history are variadic: Swift cannot call them. These static inline
 * wrappers fix each use to a plain signature. C global variables (stdin…) are read through
 * functions so Swift's strict concurrency checking has no shared mutable state to object to.
 * All prefixed ns_.
 */

static inline FILE *ns_stdin(void) { return stdin; }
static inline FILE *ns_stdout(void) { return stdout; }
static inline FILE *ns_stderr(void) { return stderr; }

typedef char *(*ns_prompt_fn)(EditLine *);
typedef unsigned char (*ns_command_fn)(EditLine *, int);

static inline int ns_el_set_prompt(EditLine *el, ns_prompt_fn fn) { return el_set(el, EL_PROMPT, fn); }
static inline int ns_el_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
static inline int ns_el_set_signal(EditLine *el, int on) { return el_set(el, EL_SIGNAL, on); }
static inline int ns_el_set_hist(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
static inline int ns_el_set_clientdata(EditLine *el, void *data) { return el_set(el, EL_CLIENTDATA, data); }
static inline void *ns_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}
static inline int ns_el_addfn(EditLine *el, const char *name, const char *help, ns_command_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}
static inline int ns_el_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, (const char *)NULL);
}
static inline int ns_el_refresh(EditLine *el) { return el_set(el, EL_REFRESH); }

/* History (narrow-character API). Each returns history()'s result: 0 or more on success. */
static inline int ns_history_setsize(History *h, int n) { HistEvent ev; return history(h, &ev, H_SETSIZE, n); }
static inline int ns_history_getsize(History *h) {
    HistEvent ev;
    if (history(h, &ev, H_GETSIZE) < 0) return -1;
    return ev.num;
}
static inline int ns_history_setunique(History *h, int on) { HistEvent ev; return history(h, &ev, H_SETUNIQUE, on); }
static inline int ns_history_enter(History *h, const char *line) { HistEvent ev; return history(h, &ev, H_ENTER, line); }
static inline int ns_history_save(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_SAVE, path); }
static inline int ns_history_load(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_LOAD, path); }
static inline int ns_history_clear(History *h) { HistEvent ev; return history(h, &ev, H_CLEAR); }
/* Walking the history: first = most recent entry; next = one older. False at the end. */
static inline _Bool ns_history_first(History *h, HistEvent *ev) { return history(h, ev, H_FIRST) >= 0; }
static inline _Bool ns_history_next(History *h, HistEvent *ev) { return history(h, ev, H_NEXT) >= 0; }

/* Terminal width of fd (0 when it is not a terminal). */
static inline int ns_terminal_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
    return ws.ws_col;
}
#endif
