//! Java regular expressions (`String.matches`, `replaceAll`, `replaceFirst`, `split`)
//! on top of the `regex` crate, with `fancy-regex` only for what `regex` lacks
//! (lookaround, backreferences, atomic groups, possessive quantifiers).
//!
//! The translation keeps Java's meaning where the crates differ: `\d \w \s` are ASCII,
//! `.` stops at any Java line terminator, `\Q..\E` quotes, `\uXXXX` escapes. Replacement
//! strings use Java's syntax (`$1`, `${name}`, `\$`). Compiled patterns are kept in a
//! small process-wide cache, because templates pass patterns as string literals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A compiled Java pattern: one engine to search with, one anchored at both ends for
/// `matches`.
#[derive(Debug)]
pub struct JavaRegex {
    search: Engine,
    whole: Engine,
}

#[derive(Debug)]
enum Engine {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

/// One match: the whole span and the capture groups.
struct Found {
    start: usize,
    end: usize,
    groups: Vec<Option<(usize, usize)>>,
    names: Vec<Option<String>>,
}

const CACHE_SIZE: usize = 256;

fn cache() -> &'static Mutex<HashMap<String, Arc<JavaRegex>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<JavaRegex>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Compiles (or fetches from the cache) a Java pattern. Errors read like Java's
/// `PatternSyntaxException` summary.
pub fn compile(pattern: &str) -> Result<Arc<JavaRegex>, String> {
    if let Some(r) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(pattern) {
        return Ok(r.clone());
    }
    let compiled = Arc::new(compile_uncached(pattern)?);
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    if c.len() >= CACHE_SIZE {
        c.clear();
    }
    c.insert(pattern.to_string(), compiled.clone());
    Ok(compiled)
}

fn compile_uncached(pattern: &str) -> Result<JavaRegex, String> {
    let (translated, needs_fancy) = translate(pattern)?;
    let whole = format!("\\A(?:{translated})\\z");
    if !needs_fancy {
        let plain = |p: &str| regex::RegexBuilder::new(p).size_limit(1 << 22).build();
        if let (Ok(search), Ok(whole)) = (plain(&translated), plain(&whole)) {
            return Ok(JavaRegex { search: Engine::Plain(search), whole: Engine::Plain(whole) });
        }
    }
    let fancy = |p: &str| {
        fancy_regex::RegexBuilder::new(p)
            .backtrack_limit(1_000_000)
            .build()
            .map(Engine::Fancy)
            .map_err(|e| format!("PatternSyntaxException: {e}\n{pattern}"))
    };
    Ok(JavaRegex { search: fancy(&translated)?, whole: fancy(&whole)? })
}

/// Rewrites Java syntax into the syntax both crates read. Returns whether the pattern
/// needs backtracking features.
fn translate(p: &str) -> Result<(String, bool), String> {
    let dotall = p.contains("(?s") || has_flag_group(p, 's');
    let mut out = String::with_capacity(p.len() + 8);
    let mut fancy = false;
    let mut chars = p.chars().peekable();
    let mut in_class = 0usize;
    let mut prev_quantifier = false;
    while let Some(c) = chars.next() {
        let mut quantifier = false;
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err(format!("PatternSyntaxException: Unexpected internal error near index {}\n{p}", p.len()));
                };
                match e {
                    'd' | 'w' | 's' | 'D' | 'W' | 'S' => {
                        let (name, neg) = match e {
                            'd' => ("digit", false),
                            'w' => ("word", false),
                            's' => ("space", false),
                            'D' => ("digit", true),
                            'W' => ("word", true),
                            _ => ("space", true),
                        };
                        let caret = if neg { "^" } else { "" };
                        if in_class > 0 {
                            out.push_str(&format!("[:{caret}{name}:]"));
                        } else {
                            out.push_str(&format!("[[:{caret}{name}:]]"));
                        }
                    }
                    'Q' => {
                        let mut lit = String::new();
                        loop {
                            match chars.next() {
                                None => break,
                                Some('\\') if chars.peek() == Some(&'E') => {
                                    chars.next();
                                    break;
                                }
                                Some(x) => lit.push(x),
                            }
                        }
                        out.push_str(&regex::escape(&lit));
                    }
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        let v = u32::from_str_radix(&hex, 16)
                            .map_err(|_| format!("PatternSyntaxException: Illegal Unicode escape sequence\n{p}"))?;
                        out.push_str(&format!("\\x{{{v:X}}}"));
                    }
                    '0' => {
                        let mut oct = String::new();
                        while oct.len() < 3 && chars.peek().is_some_and(|d| ('0'..='7').contains(d)) {
                            oct.push(chars.next().unwrap_or('0'));
                        }
                        let v = u32::from_str_radix(&oct, 8)
                            .map_err(|_| format!("PatternSyntaxException: Illegal octal escape sequence\n{p}"))?;
                        out.push_str(&format!("\\x{{{v:X}}}"));
                    }
                    '1'..='9' if in_class == 0 => {
                        fancy = true;
                        out.push('\\');
                        out.push(e);
                    }
                    'Z' => out.push_str("(?:\\n?\\z)"),
                    'p' | 'P' => {
                        // POSIX classes Java names differently.
                        let mut name = String::new();
                        if chars.peek() == Some(&'{') {
                            chars.next();
                            for x in chars.by_ref() {
                                if x == '}' {
                                    break;
                                }
                                name.push(x);
                            }
                        } else if let Some(x) = chars.next() {
                            name.push(x);
                        }
                        let posix = match name.as_str() {
                            "Lower" => Some("lower"),
                            "Upper" => Some("upper"),
                            "ASCII" => Some("ascii"),
                            "Alpha" => Some("alpha"),
                            "Digit" => Some("digit"),
                            "Alnum" => Some("alnum"),
                            "Punct" => Some("punct"),
                            "Graph" => Some("graph"),
                            "Print" => Some("print"),
                            "Blank" => Some("blank"),
                            "Cntrl" => Some("cntrl"),
                            "XDigit" => Some("xdigit"),
                            "Space" => Some("space"),
                            _ => None,
                        };
                        let neg = if e == 'P' { "^" } else { "" };
                        match posix {
                            Some(n) if in_class > 0 => out.push_str(&format!("[:{neg}{n}:]")),
                            Some(n) => out.push_str(&format!("[[:{neg}{n}:]]")),
                            None => {
                                let n = name.strip_prefix("Is").unwrap_or(&name);
                                out.push_str(&format!("\\{e}{{{n}}}"));
                            }
                        }
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' => {
                in_class += 1;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                // A `]` right after `[` or `[^` is a literal in Java.
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            ']' if in_class > 0 => {
                in_class -= 1;
                out.push(']');
            }
            '{' | '}' if in_class > 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' if in_class == 0 && !dotall => out.push_str("[^\\n\\r\\x{85}\\x{2028}\\x{2029}]"),
            '(' if in_class == 0 => {
                out.push('(');
                if chars.peek() == Some(&'?') {
                    let rest: String = chars.clone().take(3).collect();
                    if rest.starts_with("?=")
                        || rest.starts_with("?!")
                        || rest.starts_with("?<=")
                        || rest.starts_with("?<!")
                        || rest.starts_with("?>")
                    {
                        fancy = true;
                    }
                }
            }
            '*' | '+' | '?' if in_class == 0 => {
                if c == '+' && prev_quantifier {
                    fancy = true; // possessive
                }
                out.push(c);
                quantifier = c != '?' || !prev_quantifier;
            }
            '}' if in_class == 0 => {
                out.push('}');
                quantifier = true;
            }
            _ => out.push(c),
        }
        prev_quantifier = quantifier;
    }
    Ok((out, fancy))
}

fn has_flag_group(p: &str, flag: char) -> bool {
    let mut rest = p;
    while let Some(i) = rest.find("(?") {
        let after = &rest[i + 2..];
        let flags: String = after.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        if flags.contains(flag) {
            return true;
        }
        rest = after;
    }
    false
}

impl JavaRegex {
    /// Whether backtracking (`fancy-regex`) runs this pattern.
    #[cfg(test)]
    pub fn is_fancy(&self) -> bool {
        matches!(self.search, Engine::Fancy(_))
    }

    /// `Pattern.matches`: the whole subject must match.
    pub fn matches_whole(&self, s: &str) -> Result<bool, String> {
        match &self.whole {
            Engine::Plain(r) => Ok(r.is_match(s)),
            Engine::Fancy(r) => r.is_match(s).map_err(|e| e.to_string()),
        }
    }

    fn find_at(&self, s: &str, at: usize) -> Result<Option<Found>, String> {
        match &self.search {
            Engine::Plain(r) => Ok(r.captures_at(s, at).map(|c| {
                let m = c.get(0).map_or((at, at), |m| (m.start(), m.end()));
                Found {
                    start: m.0,
                    end: m.1,
                    groups: (0..c.len()).map(|i| c.get(i).map(|m| (m.start(), m.end()))).collect(),
                    names: r.capture_names().map(|n| n.map(str::to_string)).collect(),
                }
            })),
            Engine::Fancy(r) => {
                let c = r.captures_from_pos(s, at).map_err(|e| e.to_string())?;
                Ok(c.map(|c| {
                    let m = c.get(0).map_or((at, at), |m| (m.start(), m.end()));
                    Found {
                        start: m.0,
                        end: m.1,
                        groups: (0..c.len()).map(|i| c.get(i).map(|m| (m.start(), m.end()))).collect(),
                        names: r.capture_names().map(|n| n.map(str::to_string)).collect(),
                    }
                }))
            }
        }
    }

    /// All non-overlapping matches, as Java's `Matcher.find` loop produces them.
    fn find_all(&self, s: &str, limit: Option<usize>) -> Result<Vec<Found>, String> {
        let mut out = Vec::new();
        let mut at = 0;
        while at <= s.len() {
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let Some(f) = self.find_at(s, at)? else { break };
            at = if f.end == f.start {
                // Empty match: step one character forward.
                f.end + s[f.end..].chars().next().map_or(1, char::len_utf8)
            } else {
                f.end
            };
            out.push(f);
        }
        Ok(out)
    }

    /// `replaceAll` (`first_only = false`) and `replaceFirst`.
    pub fn replace(&self, s: &str, replacement: &str, first_only: bool) -> Result<String, String> {
        let found = self.find_all(s, if first_only { Some(1) } else { None })?;
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for f in &found {
            out.push_str(&s[last..f.start]);
            expand_replacement(s, f, replacement, &mut out)?;
            last = f.end;
        }
        out.push_str(&s[last..]);
        Ok(out)
    }

    /// `String.split(regex, limit)`.
    pub fn split(&self, s: &str, limit: i32) -> Result<Vec<String>, String> {
        if s.is_empty() {
            return Ok(vec![String::new()]);
        }
        let max = if limit > 0 { Some(limit as usize - 1) } else { None };
        let found = self.find_all(s, max)?;
        let mut parts = Vec::new();
        let mut last = 0;
        for f in &found {
            if f.end == 0 {
                // A zero-width match at the beginning never yields an empty leading part.
                continue;
            }
            parts.push(s[last..f.start].to_string());
            last = f.end;
        }
        parts.push(s[last..].to_string());
        if limit == 0 {
            while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
                parts.pop();
            }
            if parts.len() == 1 && parts[0].is_empty() && !found.is_empty() {
                parts.pop();
            }
        }
        Ok(parts)
    }
}

/// Java's `Matcher.appendReplacement` syntax: `$n`, `${name}`, `\x` for a literal `x`.
fn expand_replacement(s: &str, f: &Found, repl: &str, out: &mut String) -> Result<(), String> {
    let group_count = f.groups.len().saturating_sub(1);
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(x) => out.push(x),
                None => return Err("IllegalArgumentException: character to be escaped is missing".into()),
            },
            '$' => {
                let group = if chars.peek() == Some(&'{') {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(x) => name.push(x),
                            None => return Err("IllegalArgumentException: named capturing group is missing trailing '}'".into()),
                        }
                    }
                    f.names
                        .iter()
                        .position(|n| n.as_deref() == Some(name.as_str()))
                        .ok_or_else(|| format!("IllegalArgumentException: No group with name {{{name}}}"))?
                } else {
                    let Some(d) = chars.next().and_then(|d| d.to_digit(10)) else {
                        return Err("IllegalArgumentException: Illegal group reference".into());
                    };
                    let mut g = d as usize;
                    while let Some(n) = chars.peek().and_then(|x| x.to_digit(10)) {
                        let next = g * 10 + n as usize;
                        if next > group_count {
                            break;
                        }
                        g = next;
                        chars.next();
                    }
                    if g > group_count {
                        return Err(format!("IndexOutOfBoundsException: No group {g}"));
                    }
                    g
                };
                if let Some(Some((a, b))) = f.groups.get(group) {
                    out.push_str(&s[*a..*b]);
                }
            }
            _ => out.push(c),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> Arc<JavaRegex> {
        compile(p).unwrap()
    }

    #[test]
    fn replace_all_with_group_references() {
        assert_eq!(re("(a+)").replace("banana", "<$1>", false).unwrap(), "b<a>n<a>n<a>");
        assert_eq!(re("(?<v>a)").replace("ba", "${v}!", false).unwrap(), "ba!");
        assert_eq!(re("a").replace("banana", "\\$", true).unwrap(), "b$nana");
        assert!(re("a").replace("a", "$2", false).is_err());
        assert_eq!(re("\\\\'").replace("it\\'s", "'", false).unwrap(), "it's");
    }

    #[test]
    fn java_classes_are_ascii_and_dot_stops_at_line_ends() {
        assert!(!re("\\d").matches_whole("٣").unwrap());
        assert!(re("[\\w-]+").matches_whole("a-b_1").unwrap());
        assert!(!re(".*").matches_whole("a\nb").unwrap());
        assert!(re("(?s).*").matches_whole("a\nb").unwrap());
        assert!(re("\\Q.*\\E").matches_whole(".*").unwrap());
        assert!(re("\\u0041").matches_whole("A").unwrap());
    }

    #[test]
    fn lookaround_and_backreferences_use_fancy() {
        assert!(re("a(?=b)").is_fancy());
        assert!(!re("a+b").is_fancy());
        assert_eq!(re("a(?=b)").replace("abac", "X", false).unwrap(), "Xbac");
        assert!(re("(a)\\1").matches_whole("aa").unwrap());
    }

    #[test]
    fn split_drops_trailing_empty_strings() {
        assert_eq!(re("&").split("a=1&b=2&c", 0).unwrap(), vec!["a=1", "b=2", "c"]);
        assert_eq!(re(",").split("a,,b,,", 0).unwrap(), vec!["a", "", "b"]);
        assert_eq!(re(",").split("a,,b,,", -1).unwrap(), vec!["a", "", "b", "", ""]);
        assert_eq!(re(",").split("a,b,c", 2).unwrap(), vec!["a", "b,c"]);
        assert_eq!(re("").split("abc", 0).unwrap(), vec!["a", "b", "c"]);
        assert_eq!(re(",").split("", 0).unwrap(), vec![""]);
        assert_eq!(re(",").split(",", 0).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn matches_requires_the_whole_subject() {
        assert!(re("b.*").matches_whole("banana").unwrap());
        assert!(!re("an").matches_whole("banana").unwrap());
        assert!(re("a|ab").matches_whole("ab").unwrap());
    }

    #[test]
    fn invalid_pattern_is_an_error() {
        assert!(compile("(").is_err());
    }
}
