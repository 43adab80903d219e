// TUICore — the pure terminal model of ninescope.
//
// Views draw into a `Grid` of `Cell`s; a `Renderer` diffs successive grids and hands only the
// changed `CellRun`s to a `TerminalBackend`. Keys arrive as `InputEvent`s whose key part is a
// `KeyChord` with a stable textual name (`ctrl-f`, `pgdn`, `shift-tab`) so key bindings can be
// stored as data. `LineEditor` abstracts the REPL's line input; `LineCompletion` holds the pure
// completion logic shared by every editor.
//
// Nothing here touches the OS, a clock or C: the curses and libedit adapters live in TerminalIO.
