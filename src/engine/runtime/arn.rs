//! Step Functions ARNs and names: building them, taking them apart, and AWS's rules
//! for names (1–80 characters, none of the reserved ones).

use super::Error;

/// What an ARN given to an execution API points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExecutionArn<'a> {
    /// `arn:aws:states:<region>:<account>:execution:<stateMachine>:<name>`
    Standard {
        state_machine: &'a str,
        name: &'a str,
    },
    /// `arn:aws:states:<region>:<account>:express:<stateMachine>:<name>:<uuid>`
    Express,
}

/// Region and account of the ARNs this engine makes.
#[derive(Debug, Clone)]
pub(crate) struct ArnScope {
    pub(crate) region: String,
    pub(crate) account_id: String,
}

impl ArnScope {
    fn prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.account_id)
    }

    pub(crate) fn state_machine(&self, name: &str) -> String {
        format!("{}:stateMachine:{name}", self.prefix())
    }

    pub(crate) fn execution(&self, state_machine: &str, name: &str) -> String {
        format!("{}:execution:{state_machine}:{name}", self.prefix())
    }

    pub(crate) fn express_execution(&self, state_machine: &str, name: &str, id: &str) -> String {
        format!("{}:express:{state_machine}:{name}:{id}", self.prefix())
    }
}

/// The resource part of `arn:<partition>:states:<region>:<account>:<resource>`.
fn resource(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("states"), Some(_), Some(_), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(rest)
}

/// The name in a state machine ARN.
pub(crate) fn parse_state_machine(arn: &str) -> Result<&str, Error> {
    let rest = resource(arn).ok_or_else(|| Error::invalid_arn(arn))?;
    let (kind, name) = rest
        .split_once(':')
        .ok_or_else(|| Error::invalid_arn(arn))?;
    if kind != "stateMachine" {
        return Err(Error::wrong_resource_type(kind));
    }
    Ok(name)
}

/// An execution ARN, standard or express.
pub(crate) fn parse_execution(arn: &str) -> Result<ExecutionArn<'_>, Error> {
    let rest = resource(arn).ok_or_else(|| Error::invalid_arn(arn))?;
    let (kind, rest) = rest
        .split_once(':')
        .ok_or_else(|| Error::invalid_arn(arn))?;
    match kind {
        "execution" => {
            let (state_machine, name) = rest
                .split_once(':')
                .ok_or_else(|| Error::invalid_arn(arn))?;
            Ok(ExecutionArn::Standard {
                state_machine,
                name,
            })
        }
        "express" => Ok(ExecutionArn::Express),
        other => Err(Error::wrong_resource_type(other)),
    }
}

/// AWS's rule for state machine and execution names.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=80).contains(&count)
        && name.chars().all(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '<' | '>'
                        | '{'
                        | '}'
                        | '['
                        | ']'
                        | '?'
                        | '*'
                        | '"'
                        | '#'
                        | '%'
                        | '\\'
                        | '^'
                        | '|'
                        | '~'
                        | '`'
                        | '$'
                        | '&'
                        | ','
                        | ';'
                        | ':'
                        | '/'
                )
                && !matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f | 0xfffe | 0xffff | 0x10ffff)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arns_parse_by_kind() {
        let scope = ArnScope {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
        };
        let standard = scope.execution("Orders", "run-1");
        assert_eq!(
            parse_execution(&standard).unwrap(),
            ExecutionArn::Standard {
                state_machine: "Orders",
                name: "run-1"
            }
        );
        let express = scope.express_execution("Orders", "run-1", "abc");
        assert_eq!(parse_execution(&express).unwrap(), ExecutionArn::Express);
        let err = parse_execution(&scope.state_machine("Orders")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid Arn: 'Resource type not valid in this context: stateMachine'"
        );
        assert_eq!(parse_execution("nope").unwrap_err().code(), "InvalidArn");
    }

    #[test]
    fn names_follow_aws_rules() {
        assert!(is_valid_name("order-42_ok.v1"));
        for bad in [
            "",
            "has space",
            "a:b",
            "a/b",
            "tab\t",
            "x".repeat(81).as_str(),
            "\u{7f}",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }
}
