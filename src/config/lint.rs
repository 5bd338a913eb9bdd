//! Template lints that `stepgate check` reports as warnings.
//!
//! `$util.escapeJavaScript` escapes `'` as `\'`, which is not a valid JSON escape: output
//! embedded in a JSON string (`"input": "$util.escapeJavaScript($input.json('$'))"`)
//! breaks on any body containing an apostrophe unless followed by
//! `.replaceAll("\\'","'")`. Detected directly, and through one `#set` variable
//! (`#set($d = $util.escapeJavaScript(...))` … `"$d"`).

const CALL: &str = "$util.escapeJavaScript(";

/// `(line, col, message)` for every `escapeJavaScript` output placed inside a JSON string
/// without the `replaceAll("\\'","'")` fix. Lines and columns are 1-based, in the template.
pub(crate) fn escape_javascript_without_fix(source: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    let mut unfixed_vars: Vec<String> = Vec::new();
    let mut offset = 0;
    while let Some(pos) = source[offset..].find(CALL) {
        let start = offset + pos;
        let after_call = match closing_paren(source, start + CALL.len()) {
            Some(end) => end + 1,
            None => break,
        };
        offset = after_call;
        if source[after_call..].starts_with(".replaceAll(") {
            continue;
        }
        if let Some(var) = set_target(source, start) {
            unfixed_vars.push(var);
            continue;
        }
        if inside_json_string(source, start) {
            let (line, col) = line_col(source, start);
            found.push((line, col, "escapeJavaScript output inside a JSON string turns ' into \\', which is not valid JSON; append .replaceAll(\"\\\\'\",\"'\")".to_string()));
        }
    }
    for var in unfixed_vars {
        for reference in [format!("\"${var}\""), format!("\"${{{var}}}\"")] {
            let mut offset = 0;
            while let Some(pos) = source[offset..].find(&reference) {
                let start = offset + pos + 1;
                offset = start + 1;
                let (line, col) = line_col(source, start);
                found.push((line, col, format!("${var} holds escapeJavaScript output and is placed inside a JSON string, where \\' is not valid JSON; use .replaceAll(\"\\\\'\",\"'\") on it")));
            }
        }
    }
    found.sort();
    found
}

/// The byte index of the `)` closing a call whose arguments start at `from`.
fn closing_paren(source: &str, from: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut quote: Option<char> = None;
    for (i, c) in source[from..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `#set($name = ` immediately before `start`, if that is where the call is.
fn set_target(source: &str, start: usize) -> Option<String> {
    let line_start = source[..start].rfind('\n').map_or(0, |p| p + 1);
    let before = source[line_start..start].trim_end();
    let before = before.strip_suffix('=')?.trim_end();
    let at = before.rfind("#set(")?;
    let name = before[at + 5..].trim().strip_prefix('$')?;
    let name = name.trim_start_matches('{').trim_end_matches('}');
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')).then(|| name.to_string())
}

/// Whether an odd number of unescaped `"` precede `start` on its line.
fn inside_json_string(source: &str, start: usize) -> bool {
    let line_start = source[..start].rfind('\n').map_or(0, |p| p + 1);
    let mut inside = false;
    let mut escaped = false;
    for c in source[line_start..start].chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => inside = !inside,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    inside
}

fn line_col(source: &str, byte: usize) -> (usize, usize) {
    let before = &source[..byte];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::escape_javascript_without_fix as lint;

    #[test]
    fn escape_javascript_in_json_string_is_reported() {
        let t = "{\n  \"input\": \"$util.escapeJavaScript($input.json('$'))\",\n  \"name\": \"x\"\n}";
        let found = lint(t);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1), (2, 13));
    }

    #[test]
    fn escape_javascript_with_replace_all_is_fine() {
        let t = "{\"input\": \"$util.escapeJavaScript($input.json('$')).replaceAll(\"\\\\'\",\"'\")\"}";
        assert!(lint(t).is_empty());
    }

    #[test]
    fn escape_javascript_outside_string_is_fine() {
        assert!(lint("$util.escapeJavaScript($input.body)").is_empty());
    }

    #[test]
    fn escape_javascript_through_set_variable_is_reported() {
        let t = "#set($data = $util.escapeJavaScript($input.json('$')))\n{\n\"input\": \"$data\"\n}";
        let found = lint(t);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1), (3, 11));
        let fixed = "#set($data = $util.escapeJavaScript($input.json('$')).replaceAll(\"\\\\'\",\"'\"))\n{\"input\": \"$data\"}";
        assert!(lint(fixed).is_empty());
    }
}
