//! Checks both backends apply the same way: execution and state machine names (1–80
//! characters, none of the characters AWS forbids), execution input (JSON text, at most
//! 262,144 bytes), and the payload limit. Errors are the [`AwsError`]s AWS answers with.
//! Uses [`super::error`].

use super::error::AwsError;

/// The Step Functions payload limit for inputs and outputs, in UTF-8 bytes.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// The longest execution or state machine name.
pub const MAX_NAME_CHARS: usize = 80;

/// True if `c` may not appear in an execution or state machine name: whitespace,
/// `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /`, control characters (U+0000–001F,
/// U+007F–009F), U+FFFE, U+FFFF and U+10FFFF.
pub fn is_forbidden_name_char(c: char) -> bool {
    c.is_whitespace()
        || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
        || matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' | '\u{10ffff}')
}

/// Checks an execution or state machine name: `InvalidName` ("Invalid Name: '<name>'") when
/// it is empty, longer than 80 characters, or contains a forbidden character.
pub fn check_name(name: &str) -> Result<(), AwsError> {
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_CHARS || name.chars().any(is_forbidden_name_char) {
        return Err(AwsError::invalid_name(name));
    }
    Ok(())
}

/// Parses an execution's `input`: absent means `{}`; otherwise it must be JSON text of at
/// most [`MAX_PAYLOAD_BYTES`]. Errors: `ValidationException` for the size (as AWS's
/// constraint check answers), `InvalidExecutionInput` for text that is not JSON, with
/// Jackson's wording for the common cases ("Unrecognized token 'not': was expecting …").
pub fn parse_execution_input(input: Option<&str>) -> Result<serde_json::Value, AwsError> {
    let Some(text) = input else {
        return Ok(serde_json::Value::Object(Default::default()));
    };
    check_payload_size("input", text)?;
    parse_json_payload(text).map_err(|detail| AwsError::invalid_execution_input(&detail))
}

/// Parses SendTaskSuccess's `output` the same way (`InvalidOutput` when not JSON).
pub fn parse_task_output(output: &str) -> Result<serde_json::Value, AwsError> {
    check_payload_size("output", output)?;
    parse_json_payload(output).map_err(|detail| AwsError::invalid_output(&detail))
}

/// `ValidationException` when a payload field is over [`MAX_PAYLOAD_BYTES`].
pub fn check_payload_size(field: &str, text: &str) -> Result<(), AwsError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(AwsError::validation(&[format!(
            "Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
        )]));
    }
    Ok(())
}

/// JSON text → value, or the detail text Step Functions puts in its error message.
fn parse_json_payload(text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Err("Invalid execution input.".to_owned());
    }
    serde_json::from_str(text).map_err(|e| jackson_detail(text, &e))
}

/// Jackson's wording for the errors people hit most: a bare word, or text after the value.
fn jackson_detail(text: &str, err: &serde_json::Error) -> String {
    const EXPECTING: &str =
        "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
    let trimmed = text.trim_start();
    let first = trimmed.chars().next().unwrap_or(' ');
    if first.is_alphabetic() || first == '_' {
        let token: String = trimmed
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !matches!(token.as_str(), "true" | "false" | "null") {
            return format!("Unrecognized token '{token}': {EXPECTING}");
        }
    }
    if err.is_eof() {
        return "Unexpected end-of-input".to_owned();
    }
    let msg = err.to_string();
    // serde_json appends " at line L column C"; keep the position, Jackson-style.
    match msg.rsplit_once(" at line ") {
        Some((what, pos)) => format!("{what} at line {pos}"),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        for ok in ["a", "order-123_X.v2", "日本語", &"x".repeat(80)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "a:b",
            "a\u{7}",
            "quote\"",
            "tab\t",
            &"x".repeat(81),
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.type_, "InvalidName");
            assert_eq!(e.message, format!("Invalid Name: '{bad}'"));
        }
    }

    #[test]
    fn execution_input_must_be_json() {
        assert_eq!(parse_execution_input(None).unwrap(), serde_json::json!({}));
        assert_eq!(
            parse_execution_input(Some(r#"{"a":"it's"}"#)).unwrap()["a"],
            "it's"
        );
        let e = parse_execution_input(Some("not json")).unwrap_err();
        assert_eq!(e.type_, "InvalidExecutionInput");
        assert_eq!(
            e.message,
            "Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')'"
        );
        let e = parse_execution_input(Some("")).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid State Machine Execution Input: 'Invalid execution input.'"
        );
        assert_eq!(
            parse_execution_input(Some("{")).unwrap_err().type_,
            "InvalidExecutionInput"
        );
    }

    #[test]
    fn oversized_payloads_are_validation_errors() {
        let big = format!("\"{}\"", "a".repeat(MAX_PAYLOAD_BYTES));
        let e = parse_execution_input(Some(&big)).unwrap_err();
        assert_eq!(e.type_, "ValidationException");
        assert!(e.message.contains("at 'input'"), "{}", e.message);
        assert_eq!(
            parse_task_output("nope").unwrap_err().type_,
            "InvalidOutput"
        );
    }
}
