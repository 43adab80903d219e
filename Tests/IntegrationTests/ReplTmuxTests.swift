import Foundation
import NinePTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The REPL at a terminal, as a person uses it: under tmux, in bash with job control, against diod.
@Suite(.serialized) struct ReplTmuxTests {
    static let env = ["HOME": Peers.tempDir("repl-home"), "NO_COLOR": ""]

    /// bash with job control in a tmux pane, running `ninescope repl ADDRESS`, at its first prompt.
    static func replInBash(to address: String, width: Int, height: Int) throws -> TmuxPane {
        let pane = try #require(try TmuxPane.start(["/bin/bash", "--norc", "--noprofile", "-i"], width: width, height: height,
                                                   env: env))
        pane.type("PS1='$ '; clear; \(Peers.ninescope) repl \(address) --no-history")
        pane.keys("Enter")
        let prompt = pane.wait { $0.contains("9p>") }
        #expect(prompt.ok, "no REPL prompt:\n\(prompt.screen)")
        return pane
    }

    /// The REPL processes' states, for a failure's message: whether one that drew nothing after fg had
    /// crashed, was stopped again, or sat waiting (its threads' states and wait channels).
    static func replProcesses() -> String {
        let ps = (try? Peers.run("/bin/ps", ["-eLo", "pid,tid,pgid,tpgid,stat,wchan:24,args"], timeout: 10))?.out ?? ""
        let lines = ps.split(separator: "\n").filter { $0.contains("ninescope repl") || $0.contains("PID") }
        return "REPL processes (ps -eLo):\n" + lines.joined(separator: "\n")
    }

    /// `ninescope repl ADDRESS` alone in a tmux pane (no shell: no job control), at its first prompt.
    static func repl(to address: String, height: Int) throws -> TmuxPane {
        let pane = try #require(try TmuxPane.start([Peers.ninescope, "repl", address, "--no-history"],
                                                   width: 110, height: height, env: env))
        #expect(pane.wait { $0.contains("9p>") }.ok, "no REPL prompt")
        return pane
    }

    /// After ctrl-z and `fg`, the prompt and the half-typed line are drawn again and the line goes on from
    /// there; after `bg` and `fg`, and after a resize too. libedit redraws when the signal interrupts the read of the thread inside
    /// el_gets; the REPL's reading thread blocked both signals (it inherits a worker's mask) and the main
    /// thread took them, so after `fg` the line stayed blank, eight times out of eight by hand, and the
    /// terminal, left in its own echo mode, showed each key typed afterwards twice.
    @Test func theLineIsDrawnAgainAfterFgAndAResize() throws {
        try Self.withHalfTypedLine("repl-fg-export", height: 20) { pane, _ in
            func stopWithCtrlZ(_ label: String) { Self.stop(pane, label) { pane.keys("C-z") } }
            func fgBringsTheLineBack(_ label: String) { Self.fgBringsTheLineBack(pane, label) }
            for round in 1...3 {
                stopWithCtrlZ("round \(round)")
                fgBringsTheLineBack("round \(round)")
            }
            // bg: the REPL reads from the background, stops as a job would (it ended before: its read failed
            // and that was taken for the end of input), and fg brings it back with the line.
            stopWithCtrlZ("before bg")
            pane.type("bg")
            pane.keys("Enter")
            // bash's "[1]+ COMMAND &" (which may wrap) after the `bg` line.
            let resumed = pane.wait { screen in
                guard let bg = screen.range(of: "$ bg", options: .backwards) else { return false }
                return screen[bg.upperBound...].contains(" &")
            }
            #expect(resumed.ok, "bg did not resume the REPL:\n\(resumed.screen)")
            usleep(500_000)
            fgBringsTheLineBack("after bg")
            Self.resizeAndFinishTheLine(pane, height: 20)
            pane.keys("C-d")
            // ctrl-d ends the REPL, and the shell's prompt starts a line of its own (it followed "^D" before).
            let ended = pane.wait { screen in screen.lines.last(where: { !$0.isEmpty }) == "$" }
            #expect(ended.ok, "ctrl-d did not end the REPL on a line of its own:\n\(ended.screen)")
            #expect(ended.screen.lines.contains("9p> ^D"), "\(ended.screen)")
        }
    }

    /// diod, and bash in a tmux pane running the REPL against it with `vers` typed at its prompt; `body`
    /// gets the pane and diod's address.
    static func withHalfTypedLine(_ name: String, height: Int, _ body: (TmuxPane, String) throws -> Void) throws {
        guard let diod = try Diod.start(export: Peers.tempDir(name)) else {
            Issue.record("diod is not installed; `make test` installs it"); return
        }
        defer { diod.stop() }
        let pane = try replInBash(to: diod.address, width: 100, height: height)
        defer { pane.kill() }
        pane.type("vers")
        #expect(pane.wait { $0.contains("9p> vers") }.ok)
        try body(pane, diod.address)
    }

    /// A resize (80 columns), then `ion` typed after the half-typed `vers`: the line reads `version`, each
    /// key echoed once (libedit has the terminal in its own mode again), and Enter sends it.
    static func resizeAndFinishTheLine(_ pane: TmuxPane, height: Int) {
        pane.resize(width: 80, height: height)
        pane.type("ion")
        let typed = pane.wait { $0.lines.contains { $0.hasPrefix("9p> version") } }
        #expect(typed.ok, "\(typed.screen)")
        #expect(!typed.screen.contains("ionion") && !typed.screen.contains("versversion"), "\(typed.screen)")
        pane.keys("Enter")
        let sent = pane.wait { $0.contains("<- Rversion") }
        #expect(sent.ok, "\(sent.screen)")
        #expect(sent.screen.contains("-> Tversion"), "\(sent.screen)")
    }

    /// Stops the REPL with `how`, then waits for the shell's prompt (the last line: bash's `$` after its
    /// "Stopped").
    static func stop(_ pane: TmuxPane, _ label: String, how: () -> Void) {
        how()
        let atShell = pane.wait { $0.contains("Stopped") && $0.lines.last(where: { !$0.isEmpty }) == "$" }
        #expect(atShell.ok, "\(label): not stopped:\n\(atShell.screen)\n\(replProcesses())")
    }

    /// `fg`, then the prompt and the half-typed line `vers` on a line after it.
    static func fgBringsTheLineBack(_ pane: TmuxPane, _ label: String) {
        pane.type("fg")
        pane.keys("Enter")
        let back = pane.wait { screen in
            guard let fg = screen.lines.lastIndex(where: { $0.hasPrefix("$ fg") }) else { return false }
            return screen.lines[(fg + 1)...].contains { $0.hasPrefix("9p> vers") }
        }
        #expect(back.ok, "\(label): the line was not drawn again after fg:\n\(back.screen)\n\(replProcesses())")
    }

    /// A stop from elsewhere (`kill -TSTP` from another terminal, not the REPL's own ctrl-z key, which
    /// redraws by itself once continued): after `fg` the SIGCONT wakes the reading thread's wait for a key,
    /// which puts the terminal back in editing mode and draws the line, three times in a row; a SIGWINCH
    /// the same way takes the new size, and the keys typed after go on the line, each echoed once. This is
    /// the path the reading thread's wake signal exists for (with the wake never delivered, the line stays
    /// blank after fg).
    @Test func aStopFromElsewhereIsRedrawnAfterFg() throws {
        try Self.withHalfTypedLine("repl-tstp-export", height: 24) { pane, address in
            let found = try Peers.run("/usr/bin/pgrep", ["-f", "repl \(address) --no-history"], timeout: 10)
            let pid = try #require(found.out.split(separator: "\n").compactMap { pid_t($0) }.first, "no REPL process")
            for round in 1...3 {
                Self.stop(pane, "round \(round)") { kill(pid, SIGTSTP) }
                Self.fgBringsTheLineBack(pane, "round \(round)")
            }
            Self.resizeAndFinishTheLine(pane, height: 24)
            pane.keys("C-d")
            #expect(pane.wait { $0.lines.last(where: { !$0.isEmpty }) == "$" }.ok)
        }
    }

    /// ctrl-c at the prompt abandons the line (shown with ^C after it, not sent) and the REPL stays; ctrl-c
    /// while a request waits for a reply (a server that never answers Tgetattr) stops the wait, the request
    /// stays pending, and a flush cancels it. Before, ctrl-c ended the REPL, and its fids and pending
    /// requests with it.
    @Test func ctrlCAbandonsTheLineOrTheWaitNotTheRepl() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory",
                                                 "--fault", "hang=Tgetattr"])
        defer { server.stop() }
        let pane = try Self.replInBash(to: server.address, width: 110, height: 30)
        defer { pane.kill() }
        pane.type("versi")
        pane.keys("Left", "Left", "C-c")
        let abandoned = pane.wait { $0.lines.contains("9p> versi^C") && $0.lines.last(where: { !$0.isEmpty }) == "9p>" }
        #expect(abandoned.ok, "\(abandoned.screen)")
        #expect(!abandoned.screen.contains("-> Tversion"), "an abandoned line was sent:\n\(abandoned.screen)")
        for line in ["version", "attach 0 nobody"] {
            pane.type(line)
            pane.keys("Enter")
        }
        #expect(pane.wait { $0.contains("<- Rattach") }.ok)
        /// Types `line` and Enter; the screen then shows `text`.
        func run(_ line: String, shows text: String) {
            pane.type(line)
            pane.keys("Enter")
            let shown = pane.wait { $0.contains(text) }
            #expect(shown.ok, "\(line): no \(text):\n\(shown.screen)")
        }
        run("getattr 0", shows: "-> Tgetattr tag 0 fid 0")
        pane.keys("C-c")
        let interrupted = pane.wait { $0.contains("interrupted: tag 0 is still pending (flush 0 cancels it)") }
        #expect(interrupted.ok, "\(interrupted.screen)")
        run("pending", shows: "tag 0: Tgetattr tag 0 fid 0")
        run("flush 0", shows: "<- Rflush tag 1")
        // The session goes on: the root fid is still there.
        run("walk 0 1 README", shows: "<- Rwalk")
        pane.type("quit")
        pane.keys("Enter")
        #expect(pane.wait { $0.lines.last(where: { !$0.isEmpty }) == "$" }.ok)
    }

    /// Started with no job control (tmux's `sh -c`: an orphaned process group, which SIGTSTP would not stop),
    /// ctrl-z stops nothing: the line stays as typed and goes on.
    @Test func ctrlZWithoutJobControlKeepsTheLine() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let pane = try Self.repl(to: server.address, height: 20)
        defer { pane.kill() }
        pane.type("vers")
        pane.keys("C-z")
        pane.type("ion")
        pane.keys("Enter")
        let sent = pane.wait { $0.contains("<- Rversion") }
        #expect(sent.ok, "\(sent.screen)")
        #expect(sent.screen.lines.contains("9p> version"), "\(sent.screen)")
    }

    /// Tab completes a remote name with a blank or bytes that are not UTF-8 into a word the line reads back
    /// (`sp\ ace`, `bad\xff\xfe`), the word before the cursor replaced whole, and the command then reaches
    /// the file. A name with a blank was offered bare before, and the line split it in two.
    @Test func tabCompletesNamesThatNeedEscapes() throws {
        let export = Peers.tempDir("repl-tab-export")
        try FileManager.default.createDirectory(atPath: export + "/odd", withIntermediateDirectories: true)
        try "spaced\n".write(toFile: export + "/odd/sp ace", atomically: true, encoding: .utf8)
        #expect(Peers.createFile(in: export + "/odd", name: Array("bad".utf8) + [0xFF, 0xFE], contents: Array("not utf-8\n".utf8)))
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:\(export)"])
        defer { server.stop() }
        let pane = try Self.repl(to: server.address, height: 24)
        defer { pane.kill() }
        pane.type("version"); pane.keys("Enter")
        #expect(pane.wait { $0.contains("<- Rversion") }.ok)
        pane.type("attach 1 root"); pane.keys("Enter")
        #expect(pane.wait { $0.contains("<- Rattach") }.ok)
        // (typed, the line after tab, a line of the file's content)
        for (typed, completed, content) in [("cat /odd/sp", "9p> cat /odd/sp\\ ace", "spaced"),
                                            ("cat /odd/b", "9p> cat /odd/bad\\xff\\xfe", "not utf-8")] {
            pane.type(typed); pane.keys("Tab")
            let line = pane.wait { $0.lines.contains { $0.hasPrefix(completed) } }
            #expect(line.ok, "\(typed): \(line.screen)")
            pane.keys("Enter")
            let read = pane.wait { $0.lines.contains { $0 == content } }
            #expect(read.ok, "\(typed): \(read.screen)")
        }
    }

    /// What comes while a line is being typed — the reply to a request sent with `&`, the connection lost —
    /// is shown above the prompt, and the half-typed line is drawn again under it and goes on. Before, the
    /// reply was written into the middle of the line (`9p> echo half<- Rread …`) and what was typed after it
    /// went on a row of its own with no prompt, while libedit went on editing a line the screen no longer
    /// showed. The reply is made to come at a known moment: a read of a FIFO (the local driver's), which
    /// answers when the test writes to it.
    @Test func whatArrivesWhileALineIsTypedIsShownAboveIt() throws {
        let export = Peers.tempDir("repl-notice-export")
        let fifo = export + "/pipe"
        #expect(mkfifo(fifo, 0o644) == 0)
        // Held open for writing, so that the Tlopen does not wait for a writer and the Tread waits for data.
        let writer = open(fifo, O_RDWR | O_NONBLOCK)
        #expect(writer >= 0)
        defer { close(writer) }
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:\(export)"])
        defer { server.stop() }
        let pane = try Self.repl(to: server.address, height: 30)
        defer { pane.kill() }
        for (line, reply) in [("version", "<- Rversion"), ("attach 0 root", "<- Rattach"), ("walk 0 1 pipe", "<- Rwalk"),
                              ("lopen 1 rdonly", "<- Rlopen"), ("read 1 0 100 &", "-> Tread tag 0 fid 1")] {
            pane.type(line); pane.keys("Enter")
            #expect(pane.wait { $0.contains(reply) }.ok, "\(line): no \(reply)")
        }
        /// The screen's last line that is not empty.
        func last(_ screen: String) -> Substring? { screen.lines.last { !$0.isEmpty } }
        pane.type("echo half")
        #expect(pane.wait { last($0) == "9p> echo half" }.ok)
        _ = "late reply\n".withCString { Glibc.write(writer, $0, strlen($0)) }
        let shown = pane.wait { $0.contains("<- Rread tag 0 count 11 'late reply\\n'") && last($0) == "9p> echo half" }
        #expect(shown.ok, "the reply was not shown above the line:\n\(shown.screen)")
        #expect(shown.screen.lines.contains { $0.hasPrefix("<- Rread tag 0 count 11") }, "\(shown.screen)")
        #expect(!shown.screen.contains("9p> echo half<-"), "\(shown.screen)")
        pane.type(" and more"); pane.keys("Enter")
        let echoed = pane.wait { $0.lines.contains("half and more") }
        #expect(echoed.ok, "the line typed around the reply did not run whole:\n\(echoed.screen)")
        // The server goes while a line is typed: said above it, and the line goes on.
        pane.type("echo still")
        #expect(pane.wait { last($0) == "9p> echo still" }.ok)
        server.stop()
        let lost = pane.wait { $0.contains("connection lost: ") && last($0) == "9p> echo still" }
        #expect(lost.ok, "the lost connection was not shown above the line:\n\(lost.screen)")
        #expect(lost.screen.lines.contains { $0.hasPrefix("connection lost: ") }, "\(lost.screen)")
        pane.type(" here"); pane.keys("Enter")
        #expect(pane.wait { $0.lines.contains("still here") }.ok)
    }

    /// Home and End as tmux sends them under TERM=xterm-256color (`ESC [1~`, `ESC [4~`), and ctrl-arrows,
    /// move along the line; each inserted `~` (or `;5D`) before and left the cursor where it was.
    @Test func homeEndAndCtrlArrowsMoveAlongTheLine() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let pane = try Self.repl(to: server.address, height: 20)
        defer { pane.kill() }
        pane.type("cho one three")
        pane.keys("Home")
        pane.type("e")
        pane.keys("End")
        pane.type(" four")
        pane.keys("C-Left", "C-Left")
        pane.type("two ")
        #expect(pane.wait { $0.lines.contains("9p> echo one two three four") }.ok)
        pane.keys("Enter")
        let ran = pane.wait { $0.lines.contains("one two three four") }
        #expect(ran.ok, "\(ran.screen)")
        #expect(!ran.screen.contains("~") && !ran.screen.contains(";5D"), "\(ran.screen)")
    }
}
