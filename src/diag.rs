//! Source excerpts with line:col and a caret, shared by vtl and config errors.
//!
//! Pure functions over a source text and a byte range: [`locate`] turns a byte offset
//! into a 1-based line and column (columns count characters), and [`excerpt`] renders
//! the numbered lines around a span with a caret run under it:
//!
//! ```text
//!   --> request.vtl:2:12
//!    |
//!  1 | {
//!  2 |   "input": #end
//!    |            ^^^^ unexpected `#end`
//!  3 | }
//!    |
//! ```
//!
//! Tabs are expanded to four spaces before carets are placed. Output is plain ASCII
//! around the user's text, so it survives log pipelines. Depends on nothing.

use std::fmt::Write as _;

/// How many lines of context to show before and after the marked line.
const CONTEXT_LINES: usize = 2;

/// A 1-based line and column (in characters) inside a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub col: usize,
}

/// The line and column of byte `offset` in `source` (clamped to the text and to a
/// character boundary).
pub fn locate(source: &str, offset: usize) -> Location {
    let offset = floor_boundary(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    Location { line, col }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Renders the `-->` location line and the excerpt around `start..end` of `source`,
/// with `label` after the caret run. `name` is the file (or file + pointer) shown.
pub fn excerpt(name: &str, source: &str, start: usize, end: usize, label: &str) -> String {
    let start = floor_boundary(source, start);
    let end = floor_boundary(source, end.max(start));
    let loc = locate(source, start);
    let lines: Vec<&str> = source.split('\n').collect();
    let first = loc.line.saturating_sub(CONTEXT_LINES).max(1);
    let last = (loc.line + CONTEXT_LINES).min(lines.len());
    let width = last.to_string().len() + 1;
    let pad = " ".repeat(width);

    let mut out = String::new();
    let _ = writeln!(out, "{pad}--> {name}:{}:{}", loc.line, loc.col);
    let _ = writeln!(out, "{pad} |");
    for n in first..=last {
        let text = lines[n - 1].strip_suffix('\r').unwrap_or(lines[n - 1]);
        let shown = expand_tabs(text);
        let _ = writeln!(out, "{n:>width$} | {}", shown.trim_end());
        if n == loc.line {
            let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
            let caret_col = display_width(&expand_tabs(&source[line_start..start]));
            let span_end = end.min(line_end);
            let mut carets = display_width(&expand_tabs(&source[line_start..span_end]))
                .saturating_sub(caret_col);
            if carets == 0 {
                carets = 1;
            }
            let mut label = label.to_string();
            if end > line_end {
                let end_loc = locate(source, end);
                if !label.is_empty() {
                    label.push(' ');
                }
                let _ = write!(label, "(ends at {}:{})", end_loc.line, end_loc.col);
            }
            let _ = writeln!(
                out,
                "{pad} | {}{} {}",
                " ".repeat(caret_col),
                "^".repeat(carets),
                label
            );
        }
    }
    let _ = write!(out, "{pad} |");
    // Trailing spaces after an empty label are noise in snapshots.
    out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

fn expand_tabs(s: &str) -> String {
    s.replace('\t', "    ")
}

/// Display width in columns; every character counts one (no wide-glyph table here).
fn display_width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_chars() {
        let src = "ab\nçd\nef";
        assert_eq!(locate(src, 0), Location { line: 1, col: 1 });
        assert_eq!(locate(src, 3), Location { line: 2, col: 1 });
        assert_eq!(locate(src, 5), Location { line: 2, col: 2 });
        assert_eq!(locate(src, 4), Location { line: 2, col: 1 }, "inside a char clamps down");
        assert_eq!(locate(src, 100), Location { line: 3, col: 3 });
    }

    #[test]
    fn excerpt_marks_span_with_context() {
        let src = "l1\nl2\n  x #end y\nl4\nl5\nl6";
        let start = src.find("#end").unwrap();
        let got = excerpt("t.vtl", src, start, start + 4, "unexpected `#end`");
        let want = [
            "  --> t.vtl:3:5",
            "   |",
            " 1 | l1",
            " 2 | l2",
            " 3 |   x #end y",
            "   |     ^^^^ unexpected `#end`",
            " 4 | l4",
            " 5 | l5",
            "   |",
        ]
        .join("\n");
        assert_eq!(got, want);
    }

    #[test]
    fn excerpt_expands_tabs_and_reports_multiline_end() {
        let src = "\t#if(1)\nab";
        let got = excerpt("t", src, 1, src.len(), "opened here");
        assert!(got.contains(" 1 |     #if(1)"), "{got}");
        assert!(got.contains("   |     ^^^^^^ opened here (ends at 2:3)"), "{got}");
    }

    #[test]
    fn excerpt_at_end_of_text_has_one_caret() {
        let got = excerpt("t", "abc", 3, 3, "here");
        assert!(got.contains(" 1 | abc\n   |    ^ here"), "{got}");
    }
}
