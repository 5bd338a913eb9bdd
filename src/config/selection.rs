//! `selectionPattern`: a Java regular expression that must match the whole subject.
//!
//! Java's `Pattern.matches` differs from the `regex` crate in ways that change which
//! integration response is selected, so a pattern is translated before it is compiled:
//! it is anchored (`^(?:p)$`); `\d \w \s \b` and their negations become ASCII classes
//! (they are ASCII in Java, Unicode in `regex`); `.` does not match Java's line
//! terminators (`\n \r \u0085 \u2028 \u2029`) unless `(?s)` is on; `\Q...\E` becomes an
//! escaped literal. Patterns using look-around, back-references, atomic groups or
//! possessive quantifiers go to `fancy-regex` (whose backtracking limit turns a
//! catastrophic pattern into "no match" rather than a hang); everything else to `regex`.

use std::fmt;

/// A compiled `selectionPattern`.
#[derive(Clone)]
pub struct SelectionPattern {
    source: String,
    matcher: Matcher,
}

#[derive(Clone)]
enum Matcher {
    Regex(regex::Regex),
    Fancy(Box<fancy_regex::Regex>),
}

/// Why a pattern could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// What is wrong, as the regex engine (or the translator) said it.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}

impl SelectionPattern {
    /// Compiles a Java regex for whole-string matching.
    pub fn new(source: &str) -> Result<SelectionPattern, PatternError> {
        let translated = translate(source)?;
        let anchored = format!("^(?:{})$", translated.pattern);
        let matcher = if translated.needs_backtracking {
            let re = fancy_regex::Regex::new(&anchored)
                .map_err(|e| PatternError { message: e.to_string() })?;
            Matcher::Fancy(Box::new(re))
        } else {
            let re = regex::Regex::new(&anchored).map_err(|e| PatternError { message: first_line(&e.to_string()) })?;
            Matcher::Regex(re)
        };
        Ok(SelectionPattern { source: source.to_string(), matcher })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the whole `subject` (Java `Pattern.matches`). A
    /// pattern that exceeds the backtracking limit does not match.
    pub fn is_match(&self, subject: &str) -> bool {
        match &self.matcher {
            Matcher::Regex(re) => re.is_match(subject),
            Matcher::Fancy(re) => re.is_match(subject).unwrap_or(false),
        }
    }

    /// Whether some HTTP status code (`100`..`599`) matches: what API Gateway itself
    /// can ever select for an aws/http/mock integration.
    pub fn can_match_status_code(&self) -> bool {
        (100u16..600).any(|code| self.is_match(&code.to_string()))
    }
}

impl fmt::Debug for SelectionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SelectionPattern").field(&self.source).finish()
    }
}

impl PartialEq for SelectionPattern {
    fn eq(&self, other: &SelectionPattern) -> bool {
        self.source == other.source
    }
}

fn first_line(s: &str) -> String {
    // regex's messages are multi-line excerpts of the pattern; keep the last line, which
    // says what is wrong, prefixed by the first.
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.last() {
        Some(last) => last.trim_start_matches("error: ").to_string(),
        None => s.to_string(),
    }
}

struct Translated {
    pattern: String,
    needs_backtracking: bool,
}

const JAVA_LINE_TERMINATORS: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";

fn translate(source: &str) -> Result<Translated, PatternError> {
    let dotall = has_dotall_flag(source);
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len() + 16);
    let mut needs_backtracking = false;
    let mut class_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(PatternError { message: "pattern ends with a lone backslash".into() });
                };
                i += 2;
                match next {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    's' => out.push_str(r"[\t\n\x0B\x0C\r ]"),
                    'S' => out.push_str(r"[^\t\n\x0B\x0C\r ]"),
                    'b' if class_depth == 0 => out.push_str(r"(?-u:\b)"),
                    'B' if class_depth == 0 => out.push_str(r"(?-u:\B)"),
                    '1'..='9' if class_depth == 0 => {
                        needs_backtracking = true;
                        out.push('\\');
                        out.push(next);
                    }
                    'Q' => {
                        let mut literal = String::new();
                        while i < chars.len() && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E')) {
                            literal.push(chars[i]);
                            i += 1;
                        }
                        i = (i + 2).min(chars.len().max(i));
                        out.push_str(&regex::escape(&literal));
                    }
                    'p' | 'P' if chars.get(i) == Some(&'{') => {
                        let end = chars[i..].iter().position(|&c| c == '}').map(|p| i + p);
                        let Some(end) = end else {
                            return Err(PatternError { message: "unclosed \\p{...} class".into() });
                        };
                        let name: String = chars[i + 1..end].iter().collect();
                        if name.starts_with("java") {
                            return Err(PatternError {
                                message: format!("Java-only character class \\{next}{{{name}}} is not supported"),
                            });
                        }
                        out.push('\\');
                        out.push(next);
                        out.push('{');
                        out.push_str(&name);
                        out.push('}');
                        i = end + 1;
                    }
                    'Z' | 'z' if class_depth == 0 => out.push_str(r"\z"),
                    'A' if class_depth == 0 => out.push_str(r"\A"),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            '[' => {
                class_depth += 1;
                out.push('[');
                // a `]` or `^]` right after `[` is literal in both dialects
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '.' if class_depth == 0 && !dotall => out.push_str(JAVA_LINE_TERMINATORS),
            '(' if class_depth == 0 => {
                out.push('(');
                let rest: String = chars[i + 1..chars.len().min(i + 4)].iter().collect();
                if rest.starts_with("?=")
                    || rest.starts_with("?!")
                    || rest.starts_with("?<=")
                    || rest.starts_with("?<!")
                    || rest.starts_with("?>")
                {
                    needs_backtracking = true;
                }
            }
            '+' if class_depth == 0 && i > 0 && is_quantifier_end(&chars, i) => {
                // possessive quantifier (`a*+`, `a++`, `a?+`, `a{2}+`)
                needs_backtracking = true;
                out.push('+');
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(Translated { pattern: out, needs_backtracking })
}

/// Whether the `+` at `i` follows a quantifier (making it possessive).
fn is_quantifier_end(chars: &[char], i: usize) -> bool {
    let prev = chars[i - 1];
    let escaped = i >= 2 && chars[i - 2] == '\\';
    !escaped && matches!(prev, '*' | '+' | '?' | '}')
        && !(prev == '?' && i >= 2 && chars[i - 2] == '(')
}

fn has_dotall_flag(source: &str) -> bool {
    let mut rest = source;
    while let Some(pos) = rest.find("(?") {
        let flags: String = rest[pos + 2..].chars().take_while(|c| c.is_ascii_alphabetic() || *c == '-').collect();
        let positive = flags.split('-').next().unwrap_or("");
        if positive.contains('s') {
            return true;
        }
        rest = &rest[pos + 2..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::SelectionPattern;

    fn matches(pattern: &str, subject: &str) -> bool {
        SelectionPattern::new(pattern).unwrap().is_match(subject)
    }

    #[test]
    fn selection_pattern_is_anchored() {
        assert!(matches("4\\d{2}", "404"));
        assert!(!matches("4\\d{2}", "x404"));
        assert!(!matches("Invalid*", "Invalid input"));
        assert!(matches("Invalid.*", "Invalid input"));
        assert!(matches(".*404.*", "foo 404 bar"));
    }

    #[test]
    fn selection_pattern_dot_does_not_match_line_terminators() {
        assert!(!matches(".+", "a\nb"));
        assert!(!matches(".+", "a\rb"));
        assert!(matches("(\\n|.)*", "a\nb"));
        assert!(matches("(?s).*Error.*", "x\nError"));
    }

    #[test]
    fn selection_pattern_classes_are_ascii() {
        assert!(!matches("\\d{3}", "٤٠٤"));
        assert!(matches("\\w+", "abc_1"));
        assert!(!matches("\\w+", "é"));
        assert!(matches("[\\d]{3}", "500"));
    }

    #[test]
    fn selection_pattern_java_constructs() {
        assert!(matches("(?!5)\\d{3}", "404"));
        assert!(!matches("(?!5)\\d{3}", "500"));
        assert!(matches("(\\w)\\1.*", "aab"));
        assert!(matches("(?>a+)b", "aaab"));
        assert!(!matches("a*+a", "aaa"));
        assert!(matches("\\QA.B\\E", "A.B"));
        assert!(!matches("\\QA.B\\E", "AxB"));
        assert!(matches("[a-z&&[^b]]+", "ac"));
        assert!(!matches("[a-z&&[^b]]+", "ab"));
    }

    #[test]
    fn selection_pattern_rejects_bad_syntax() {
        assert!(SelectionPattern::new("(unclosed").is_err());
        assert!(SelectionPattern::new("\\p{javaLowerCase}+").is_err());
    }

    #[test]
    fn selection_pattern_status_code_reachability() {
        assert!(SelectionPattern::new("4\\d{2}").unwrap().can_match_status_code());
        assert!(SelectionPattern::new(".*").unwrap().can_match_status_code());
        assert!(!SelectionPattern::new(".*CREATION_FAILED.*").unwrap().can_match_status_code());
    }
}
