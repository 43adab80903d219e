#ifndef NINESCOPE_CEDITLINE_SHIM_H
#define NINESCOPE_CEDITLINE_SHIM_H
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
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

/*
 * The line drawn again after fg and after a resize, in a threaded program. libedit's handlers
 * (EL_SIGNAL) note SIGCONT and SIGWINCH on whichever thread takes the signal; the thread inside
 * el_gets redraws its line only when its read() is interrupted. Linux gives a process's signal to
 * its main thread first, and a reading thread started from a worker that blocks both never got
 * one: after fg the prompt stayed blank and the terminal echoed each key a second time.
 * ns_el_redraw_signals_begin, on the reading thread just before el_gets, unblocks the two there
 * and installs a handler that passes them on to that thread (without SA_RESTART, so that its read
 * is interrupted); libedit keeps that handler as the one to put back and sends the signal to it
 * after running its own. On the reading thread the handler calls the one that was there before
 * (curses', say). ns_el_redraw_signals_end puts that one back.
 * The state is kept in statics of these functions: call them only from one Swift file (EditLineEditor.swift),
 * so that one copy of it is used.
 */
static inline pthread_t *ns_el_reader(void) { static pthread_t reader; return &reader; }
static inline struct sigaction *ns_el_before(int i) { static struct sigaction before[2]; return &before[i]; }

static inline int ns_el_redraw_index(int sig) { return sig == SIGCONT ? 0 : 1; }

static inline void ns_el_redraw_forward(int sig) {
    int saved = errno;
    if (!pthread_equal(pthread_self(), *ns_el_reader())) {
        pthread_kill(*ns_el_reader(), sig);
    } else {
        const struct sigaction *before = ns_el_before(ns_el_redraw_index(sig));
        if (!(before->sa_flags & SA_SIGINFO) && before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN
            && before->sa_handler != SIG_ERR && before->sa_handler != ns_el_redraw_forward) {
            before->sa_handler(sig);
        }
    }
    errno = saved;
}

static inline void ns_el_redraw_signals_begin(void) {
    static const int sigs[2] = { SIGCONT, SIGWINCH };
    *ns_el_reader() = pthread_self();
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < 2; i++) {
        sigaddset(&set, sigs[i]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = ns_el_redraw_forward;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(sigs[i], &sa, ns_el_before(i));
    }
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static inline void ns_el_redraw_signals_end(void) {
    static const int sigs[2] = { SIGCONT, SIGWINCH };
    for (int i = 0; i < 2; i++) {
        struct sigaction now;
        if (sigaction(sigs[i], NULL, &now) == 0 && now.sa_handler == ns_el_redraw_forward) {
            sigaction(sigs[i], ns_el_before(i), NULL);
        }
    }
}

/* Terminal width of fd (0 when it is not a terminal). */
static inline int ns_terminal_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
    return ws.ws_col;
}
#endif
