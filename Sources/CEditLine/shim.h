#ifndef NINESCOPE_CEDITLINE_SHIM_H
#define NINESCOPE_CEDITLINE_SHIM_H
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <wchar.h>
#include <limits.h>
#include <stdlib.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
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
/*
 * While a line is edited, the terminal's signal characters (ctrl-c, ctrl-z, ctrl-backslash) are keys: libedit
 * meets a SIGINT by putting the terminal back in its own mode and raising the signal again, which
 * either ends the program or leaves the line being edited on a terminal that echoes by itself.
 */
static inline int ns_el_tty_signals_off(EditLine *el) {
    return el_set(el, EL_SETTY, "-d", "-isig", (const char *)NULL);
}
/* The terminal's character for VINTR, VSUSP or VQUIT on fd; -1 when it has none (or fd is no terminal). */
static inline int ns_tty_signal_char(int fd, int which) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    cc_t c = t.c_cc[which];
    return c == _POSIX_VDISABLE ? -1 : (int)c;
}
static inline int ns_vintr(void) { return VINTR; }
static inline int ns_vsusp(void) { return VSUSP; }
static inline int ns_vquit(void) { return VQUIT; }

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
 * The line drawn again after fg and after a resize, in a threaded program. libedit's own read
 * redraws only when SIGCONT or SIGWINCH interrupts the read() of the thread inside el_gets, and
 * only when its handler noted the signal first; Linux gives a process's signal to its main thread
 * first, and a reading thread started from a worker blocks both: after fg the prompt stayed blank.
 * And once libedit's handler has run, it is not installed again until that interrupted read, so a
 * read interrupted any other way ended el_gets as if at end of input.
 * So the reading thread reads for libedit (EL_GETCFN: ns_el_read_char): a wake is never an end;
 * after a SIGCONT it puts the terminal back in editing mode and redraws, after a SIGWINCH it takes
 * the new size (as libedit does: the next key redraws with it).
 * ns_el_redraw_signals_begin, on the reading thread just before el_gets, installs a handler for
 * the two that notes them, wakes that thread with a signal of its own and calls the handler that
 * was there before (curses', say); libedit keeps it as the one to put back and sends the signal to
 * it after its own. The wake signal is blocked on the reading thread except inside its wait for a
 * key (pselect, ns_el_wait_key), so it ends that wait and nothing else: unblocked throughout (as
 * it was), it could land in a write of the line, which stdio then drops, or in a change of the
 * terminal's modes. SIGCONT and SIGWINCH stay blocked on the reading thread: libedit's handler, which
 * is not reentrant (run on two threads at once it put back an invalid handler, and the next
 * SIGCONT crashed the process), runs on one thread only. ns_el_redraw_signals_end puts back what
 * was there before.
 * The state is kept in statics of these functions: call them only from one Swift file
 * (EditLineEditor.swift), so that one copy of it is used.
 */
#define NS_EL_CONTINUED 1
#define NS_EL_RESIZED 2
#define NS_EL_OUTPUT 4

/* Called on the reading thread, inside el_gets, to show what other threads wrote while the line was
 * edited (ns_el_wake_for_output). */
typedef void (*ns_el_output_fn)(EditLine *);

struct ns_el_state {
    pthread_t reader;
    int fd;
    int pending;                 /* NS_EL_CONTINUED | NS_EL_RESIZED (the handler), NS_EL_OUTPUT */
    struct sigaction before[2];  /* SIGCONT, SIGWINCH */
    ns_el_output_fn output;
};

static inline struct ns_el_state *ns_el_state(void) { static struct ns_el_state state; return &state; }

/* The signal that interrupts the reading thread's read: one of the real-time signals, which nothing
 * else here uses, unblocked on that thread alone. */
static inline int ns_el_wake_signal(void) { return SIGRTMIN + 5; }

static inline void ns_el_wake_handler(int sig) { (void)sig; }

static inline void ns_el_redraw_forward(int sig) {
    int saved = errno;
    struct ns_el_state *st = ns_el_state();
    __atomic_or_fetch(&st->pending, sig == SIGCONT ? NS_EL_CONTINUED : NS_EL_RESIZED, __ATOMIC_SEQ_CST);
    pthread_kill(st->reader, ns_el_wake_signal());
    const struct sigaction *before = &st->before[sig == SIGCONT ? 0 : 1];
    if (!(before->sa_flags & SA_SIGINFO) && before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN
        && before->sa_handler != SIG_ERR && before->sa_handler != ns_el_redraw_forward) {
        before->sa_handler(sig);
    }
    errno = saved;
}

/* Waits until a key can be read from fd, with the wake signal unblocked for the wait alone: it stays
 * blocked on the reading thread otherwise, so that it never interrupts a write of the line (stdio drops
 * what an interrupted write held) or a change of the terminal's modes. One sent meanwhile stays pending
 * and ends the next wait at once. 0 when a key (or the end) is there, -1 with errno (EINTR: woken). */
static inline int ns_el_wait_key(int fd) {
    if (fd < 0 || fd >= FD_SETSIZE) return 0;   /* beyond select's sets: read at once, unwoken */
    sigset_t during;
    pthread_sigmask(SIG_SETMASK, NULL, &during);
    sigdelset(&during, ns_el_wake_signal());
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    return pselect(fd + 1, &readable, NULL, NULL, NULL, &during) < 0 ? -1 : 0;
}

/* libedit's character reader (EL_GETCFN): one character from the terminal, decoded from the locale's
 * multibyte form; 1, or 0 at end of input, -1 on an error other than an interruption. */
static inline int ns_el_read_char(EditLine *el, wchar_t *wc) {
    struct ns_el_state *st = ns_el_state();
    char bytes[MB_LEN_MAX];
    size_t count = 0;
    int background_reads = 0;
    for (;;) {
        /* In the background (bg, or started with &): SIGTTIN, blocked on this thread, would not stop us
         * as it stops a shell's job, and a read would fail. Stop as it would (this thread, so before
         * pthread_kill returns), and go on after fg; with no job control (nothing stops an orphaned
         * group), after a while the read fails and the line ends. */
        pid_t foreground = tcgetpgrp(st->fd);
        int background = foreground > 0 && foreground != getpgrp();
        int stopped = 0, woken = 0;
        if (background && background_reads++ < 100) {
            sigset_t ttin, old;
            sigemptyset(&ttin);
            sigaddset(&ttin, SIGTTIN);
            pthread_sigmask(SIG_UNBLOCK, &ttin, &old);
            pthread_kill(pthread_self(), SIGTTIN);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            usleep(10000);
            stopped = 1;
        } else if (!background && ns_el_wait_key(st->fd) < 0) {
            if (errno != EINTR) { *wc = 0; return -1; }
            woken = 1;
        }
        if (stopped || woken) {
            int pending = __atomic_exchange_n(&st->pending, 0, __ATOMIC_SEQ_CST);
            if (stopped) pending |= tcgetpgrp(st->fd) == getpgrp() ? NS_EL_CONTINUED : 0;
            if (pending & NS_EL_CONTINUED) {
                /* The shell may have set the terminal its own way while we were stopped. */
                el_set(el, EL_PREP_TERM, 0);
                el_set(el, EL_PREP_TERM, 1);
            }
            if (pending & NS_EL_RESIZED) el_resize(el);    /* used from the next key on */
            if (pending & NS_EL_CONTINUED) {
                /* From the start of the row the cursor is on: after fg the shell has left a fresh
                 * line; after a stop and continue from elsewhere the line is drawn over itself. */
                FILE *out = NULL;
                if (el_get(el, EL_GETFP, 1, &out) == 0 && out != NULL) fputs("\r", out);
                el_set(el, EL_REFRESH);
            }
            if ((pending & NS_EL_OUTPUT) && st->output != NULL) st->output(el);
            continue;
        }
        ssize_t n = read(st->fd, bytes + count, 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            *wc = 0;
            return -1;
        }
        if (n == 0) { *wc = 0; return 0; }
        count++;
        for (;;) {
            mbstate_t state;
            memset(&state, 0, sizeof state);
            size_t used = mbrtowc(wc, bytes, count, &state);
            if (used == (size_t)-2) {           /* incomplete: read another byte */
                if (count >= sizeof bytes) count = 0;
                break;
            }
            if (used == (size_t)-1) {           /* invalid: dropped, but its last byte may start a character */
                if (count > 1) { bytes[0] = bytes[count - 1]; count = 1; continue; }
                count = 0;
                break;
            }
            return 1;
        }
    }
}

/* Forgets the signals noted so far (after a stop that the line editor made and redrew after); output
 * waiting to be shown stays noted. */
static inline void ns_el_forget_signals(void) {
    __atomic_and_fetch(&ns_el_state()->pending, NS_EL_OUTPUT, __ATOMIC_SEQ_CST);
}

/* The function that shows other threads' output above the line being edited (set once). */
static inline void ns_el_set_output_hook(ns_el_output_fn fn) { ns_el_state()->output = fn; }

/* From any thread, while the reading thread is between ns_el_redraw_signals_begin and _end: output is
 * waiting to be shown. The wake ends the reading thread's wait for a key (at once, or at its next wait
 * when it is busy elsewhere: a completion), and the output hook runs there. */
static inline void ns_el_wake_for_output(void) {
    struct ns_el_state *st = ns_el_state();
    __atomic_or_fetch(&st->pending, NS_EL_OUTPUT, __ATOMIC_SEQ_CST);
    pthread_kill(st->reader, ns_el_wake_signal());
}

static inline int ns_el_set_read_char(EditLine *el) { return el_set(el, EL_GETCFN, ns_el_read_char); }
static inline int ns_el_prep_term(EditLine *el, int editing) { return el_set(el, EL_PREP_TERM, editing); }
/* The FILE libedit writes to. */
static inline FILE *ns_el_output(EditLine *el) {
    FILE *fp = NULL;
    if (el_get(el, EL_GETFP, 1, &fp) != 0) return NULL;
    return fp;
}

static inline void ns_el_redraw_signals_begin(int fd) {
    static const int sigs[2] = { SIGCONT, SIGWINCH };
    struct ns_el_state *st = ns_el_state();
    st->reader = pthread_self();
    st->fd = fd;
    __atomic_store_n(&st->pending, 0, __ATOMIC_SEQ_CST);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sa.sa_handler = ns_el_wake_handler;
    sigaction(ns_el_wake_signal(), &sa, NULL);
    sa.sa_handler = ns_el_redraw_forward;
    for (int i = 0; i < 2; i++) sigaction(sigs[i], &sa, &st->before[i]);
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, ns_el_wake_signal());
    pthread_sigmask(SIG_BLOCK, &wake, NULL);   /* delivered only inside ns_el_wait_key */
}

static inline void ns_el_redraw_signals_end(void) {
    static const int sigs[2] = { SIGCONT, SIGWINCH };
    struct ns_el_state *st = ns_el_state();
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, ns_el_wake_signal());
    pthread_sigmask(SIG_BLOCK, &wake, NULL);
    for (int i = 0; i < 2; i++) {
        struct sigaction now;
        if (sigaction(sigs[i], NULL, &now) == 0 && now.sa_handler == ns_el_redraw_forward) {
            sigaction(sigs[i], &st->before[i], NULL);
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
