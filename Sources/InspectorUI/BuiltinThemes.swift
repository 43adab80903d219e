// Generated from Themes/*.toml (a test checks they are identical): the themes built into the
// binary, so `--theme NAME` works wherever ninescope is installed. Edit the TOML files, then
// regenerate this file.

enum BuiltinThemes {
    /// Theme name → TOML text, in the order `--theme` help lists them.
    static let sources: [(name: String, toml: String)] = [
        ("dark", """
        # ninescope colour theme: every role the inspector draws, mapped to colours and attributes.
        # Colours: default, black red green yellow blue magenta cyan white, bright-black … bright-white,
        # color0 … color255 (xterm palette), #rrggbb. Attributes: bold dim underline reverse italic blink.
        # Terminals with fewer colours get the nearest one. A test checks that every role is set.
        name = "dark"
        description = "Light text on a dark terminal (the default)"

        [roles]
        "normal"        = { fg = "default", bg = "default" }
        "dim"           = { fg = "color244" }
        "header"        = { fg = "color16", bg = "color74", attrs = ["bold"] }
        "list.header"   = { fg = "color74", attrs = ["bold", "underline"] }
        "list.pending"  = { fg = "color221" }
        "list.ok"       = { fg = "default" }
        "list.error"    = { fg = "color203" }
        "list.flushed"  = { fg = "color141" }
        "list.injected" = { fg = "color81", attrs = ["bold"] }
        "list.anomaly"  = { fg = "color208", attrs = ["bold"] }
        "list.selected" = { bg = "color238", attrs = ["bold"] }
        "status"        = { fg = "color252", bg = "color236" }
        "status.error"  = { fg = "color231", bg = "color124", attrs = ["bold"] }
        "status.flag"   = { fg = "color16", bg = "color221", attrs = ["bold"] }
        "prompt"        = { fg = "default" }
        "prompt.error"  = { fg = "color203", attrs = ["bold"] }
        "tree.section"  = { fg = "color74", attrs = ["bold"] }
        "tree.field"    = { fg = "color110" }
        "tree.value"    = { fg = "default" }
        "hex.offset"    = { fg = "color244" }
        "hex.byte"      = { fg = "default" }
        "hex.ascii"     = { fg = "color150" }
        "hex.highlight" = { fg = "color16", bg = "color221" }
        "fid.live"      = { fg = "default" }
        "fid.open"      = { fg = "color114" }
        "fid.ended"     = { fg = "color244" }
        "fid.leaked"    = { fg = "color231", bg = "color124", attrs = ["bold"] }
        "fid.misused"   = { fg = "color208", attrs = ["bold"] }
        "anomaly.kind"  = { fg = "color208" }
        "conn.open"     = { fg = "color114" }
        "conn.closed"   = { fg = "color244" }
        "help.key"      = { fg = "color221", attrs = ["bold"] }
        "help.section"  = { fg = "color74", attrs = ["bold", "underline"] }
        "border"        = { fg = "color240" }
        """),
        ("light", """
        # ninescope colour theme for light terminals. See dark.toml for the format.
        name = "light"
        description = "Dark text on a light terminal"

        [roles]
        "normal"        = { fg = "default", bg = "default" }
        "dim"           = { fg = "color245" }
        "header"        = { fg = "color231", bg = "color25", attrs = ["bold"] }
        "list.header"   = { fg = "color25", attrs = ["bold", "underline"] }
        "list.pending"  = { fg = "color130" }
        "list.ok"       = { fg = "default" }
        "list.error"    = { fg = "color160" }
        "list.flushed"  = { fg = "color91" }
        "list.injected" = { fg = "color27", attrs = ["bold"] }
        "list.anomaly"  = { fg = "color166", attrs = ["bold"] }
        "list.selected" = { bg = "color153" }
        "status"        = { fg = "color16", bg = "color252" }
        "status.error"  = { fg = "color231", bg = "color160", attrs = ["bold"] }
        "status.flag"   = { fg = "color16", bg = "color222", attrs = ["bold"] }
        "prompt"        = { fg = "default" }
        "prompt.error"  = { fg = "color160", attrs = ["bold"] }
        "tree.section"  = { fg = "color25", attrs = ["bold"] }
        "tree.field"    = { fg = "color24" }
        "tree.value"    = { fg = "default" }
        "hex.offset"    = { fg = "color245" }
        "hex.byte"      = { fg = "default" }
        "hex.ascii"     = { fg = "color28" }
        "hex.highlight" = { fg = "color16", bg = "color222" }
        "fid.live"      = { fg = "default" }
        "fid.open"      = { fg = "color28" }
        "fid.ended"     = { fg = "color245" }
        "fid.leaked"    = { fg = "color231", bg = "color160", attrs = ["bold"] }
        "fid.misused"   = { fg = "color166", attrs = ["bold"] }
        "anomaly.kind"  = { fg = "color166" }
        "conn.open"     = { fg = "color28" }
        "conn.closed"   = { fg = "color245" }
        "help.key"      = { fg = "color130", attrs = ["bold"] }
        "help.section"  = { fg = "color25", attrs = ["bold", "underline"] }
        "border"        = { fg = "color250" }
        """),
        ("high-contrast", """
        # ninescope high-contrast theme: pure black and white plus a few saturated colours, bold text,
        # reverse video for bars and the selection. See dark.toml for the format.
        name = "high-contrast"
        description = "Maximum contrast: white on black, bold, reverse-video bars"

        [roles]
        "normal"        = { fg = "#ffffff", bg = "#000000" }
        "dim"           = { fg = "#c0c0c0" }
        "header"        = { fg = "#000000", bg = "#ffffff", attrs = ["bold"] }
        "list.header"   = { fg = "#ffffff", attrs = ["bold", "underline"] }
        "list.pending"  = { fg = "#ffff00", attrs = ["bold"] }
        "list.ok"       = { fg = "#ffffff" }
        "list.error"    = { fg = "#ff5050", attrs = ["bold"] }
        "list.flushed"  = { fg = "#ff80ff", attrs = ["bold"] }
        "list.injected" = { fg = "#00ffff", attrs = ["bold", "underline"] }
        "list.anomaly"  = { fg = "#ff9900", attrs = ["bold"] }
        "list.selected" = { attrs = ["reverse", "bold"] }
        "status"        = { fg = "#000000", bg = "#ffffff", attrs = ["bold"] }
        "status.error"  = { fg = "#ffffff", bg = "#c00000", attrs = ["bold"] }
        "status.flag"   = { fg = "#000000", bg = "#ffff00", attrs = ["bold"] }
        "prompt"        = { fg = "#ffffff", attrs = ["bold"] }
        "prompt.error"  = { fg = "#ff5050", attrs = ["bold", "underline"] }
        "tree.section"  = { fg = "#ffffff", attrs = ["bold", "underline"] }
        "tree.field"    = { fg = "#00ffff" }
        "tree.value"    = { fg = "#ffffff", attrs = ["bold"] }
        "hex.offset"    = { fg = "#c0c0c0" }
        "hex.byte"      = { fg = "#ffffff" }
        "hex.ascii"     = { fg = "#00ff00" }
        "hex.highlight" = { fg = "#000000", bg = "#ffff00", attrs = ["bold"] }
        "fid.live"      = { fg = "#ffffff" }
        "fid.open"      = { fg = "#00ff00", attrs = ["bold"] }
        "fid.ended"     = { fg = "#c0c0c0" }
        "fid.leaked"    = { fg = "#ffffff", bg = "#c00000", attrs = ["bold"] }
        "fid.misused"   = { fg = "#ff9900", attrs = ["bold", "underline"] }
        "anomaly.kind"  = { fg = "#ff9900", attrs = ["bold"] }
        "conn.open"     = { fg = "#00ff00" }
        "conn.closed"   = { fg = "#c0c0c0" }
        "help.key"      = { fg = "#ffff00", attrs = ["bold"] }
        "help.section"  = { fg = "#ffffff", attrs = ["bold", "underline"] }
        "border"        = { fg = "#ffffff" }
        """),
        ("16color", """
        # ninescope theme for terminals with the 16 ANSI colours only (linux console, basic xterm):
        # only the named colours are used. See dark.toml for the format.
        name = "16color"
        description = "The 16 ANSI colours only"

        [roles]
        "normal"        = { fg = "default", bg = "default" }
        "dim"           = { fg = "bright-black" }
        "header"        = { fg = "black", bg = "cyan", attrs = ["bold"] }
        "list.header"   = { fg = "cyan", attrs = ["bold", "underline"] }
        "list.pending"  = { fg = "yellow" }
        "list.ok"       = { fg = "default" }
        "list.error"    = { fg = "bright-red" }
        "list.flushed"  = { fg = "magenta" }
        "list.injected" = { fg = "bright-cyan", attrs = ["bold"] }
        "list.anomaly"  = { fg = "bright-yellow", attrs = ["bold"] }
        "list.selected" = { attrs = ["reverse"] }
        "status"        = { fg = "black", bg = "white" }
        "status.error"  = { fg = "bright-white", bg = "red", attrs = ["bold"] }
        "status.flag"   = { fg = "black", bg = "yellow" }
        "prompt"        = { fg = "default" }
        "prompt.error"  = { fg = "bright-red", attrs = ["bold"] }
        "tree.section"  = { fg = "cyan", attrs = ["bold"] }
        "tree.field"    = { fg = "blue", attrs = ["bold"] }
        "tree.value"    = { fg = "default" }
        "hex.offset"    = { fg = "bright-black" }
        "hex.byte"      = { fg = "default" }
        "hex.ascii"     = { fg = "green" }
        "hex.highlight" = { fg = "black", bg = "yellow" }
        "fid.live"      = { fg = "default" }
        "fid.open"      = { fg = "green" }
        "fid.ended"     = { fg = "bright-black" }
        "fid.leaked"    = { fg = "bright-white", bg = "red", attrs = ["bold"] }
        "fid.misused"   = { fg = "bright-yellow", attrs = ["bold"] }
        "anomaly.kind"  = { fg = "yellow" }
        "conn.open"     = { fg = "green" }
        "conn.closed"   = { fg = "bright-black" }
        "help.key"      = { fg = "yellow", attrs = ["bold"] }
        "help.section"  = { fg = "cyan", attrs = ["bold", "underline"] }
        "border"        = { fg = "bright-black" }
        """),
    ]
}
