//! Step Functions ARNs: state machines (`arn:aws:states:r:a:stateMachine:sm`, optionally with a
//! version or alias qualifier), standard executions (`arn:aws:states:r:a:execution:sm:name`)
//! and express executions (`arn:aws:states:r:a:express:sm:name:uuid`). Parse and format; a
//! parse failure carries the `InvalidArn` wording Step Functions uses. Uses [`super::error`].

use std::fmt;

use super::error::AwsError;

/// `arn:<partition>:states:<region>:<account>:stateMachine:<name>[:<qualifier>]`.
///
/// `StateMachineArn::parse("arn:aws:states:us-east-1:123456789012:stateMachine:Orders")`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StateMachineArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
    /// A version number or alias name after the machine's name, if any.
    pub qualifier: Option<String>,
}

/// Whether an execution belongs to a STANDARD or an EXPRESS state machine; they have
/// different ARN shapes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionKind {
    /// `...:execution:<sm>:<name>`
    Standard,
    /// `...:express:<sm>:<name>:<id>`; `id` is a UUID, which makes reused names unique.
    Express { id: String },
}

/// An execution ARN, standard or express.
///
/// `ExecutionArn::parse("arn:aws:states:us-east-1:123456789012:execution:Orders:run-1")`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExecutionArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub state_machine_name: String,
    pub name: String,
    pub kind: ExecutionKind,
}

/// Why a text is not the ARN expected. [`ArnError::to_aws`] gives the `InvalidArn` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArnError {
    /// Does not start with `arn:<partition>:states:` (`"Invalid ARN prefix: <arn>"`).
    Prefix(String),
    /// A well-formed Step Functions ARN of another resource type, e.g. an express execution
    /// ARN given to DescribeExecution (`"Resource type not valid in this context: express"`).
    ResourceType(String),
    /// The right prefix and resource type, but the wrong number of parts or an empty part.
    Malformed(String),
}

impl ArnError {
    /// The text inside `Invalid Arn: '…'`.
    pub fn detail(&self) -> String {
        match self {
            ArnError::Prefix(arn) => format!("Invalid ARN prefix: {arn}"),
            ArnError::ResourceType(t) => format!("Resource type not valid in this context: {t}"),
            ArnError::Malformed(arn) => format!("Invalid ARN: {arn}"),
        }
    }

    /// The `InvalidArn` (400) error Step Functions answers with.
    pub fn to_aws(&self) -> AwsError {
        AwsError::invalid_arn(&self.detail())
    }
}

impl fmt::Display for ArnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid Arn: '{}'", self.detail())
    }
}

impl std::error::Error for ArnError {}

impl From<ArnError> for AwsError {
    fn from(e: ArnError) -> AwsError {
        e.to_aws()
    }
}

/// Splits `arn:<partition>:states:<region>:<account>:<type>:<rest…>` into
/// (partition, region, account, type, rest parts).
fn split(arn: &str) -> Result<(&str, &str, &str, &str, Vec<&str>), ArnError> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 3 || parts[0] != "arn" || parts[1].is_empty() || parts[2] != "states" {
        return Err(ArnError::Prefix(arn.to_owned()));
    }
    if parts.len() < 7 {
        return Err(ArnError::Malformed(arn.to_owned()));
    }
    let (region, account, kind) = (parts[3], parts[4], parts[5]);
    if region.is_empty() || account.is_empty() {
        return Err(ArnError::Malformed(arn.to_owned()));
    }
    Ok((parts[1], region, account, kind, parts[6..].to_vec()))
}

impl StateMachineArn {
    /// The ARN of machine `name` in the `aws` partition.
    pub fn new(region: &str, account: &str, name: &str) -> StateMachineArn {
        StateMachineArn {
            partition: "aws".into(),
            region: region.into(),
            account: account.into(),
            name: name.into(),
            qualifier: None,
        }
    }

    /// Parses a state machine ARN (with an optional version/alias qualifier).
    pub fn parse(arn: &str) -> Result<StateMachineArn, ArnError> {
        let (partition, region, account, kind, rest) = split(arn)?;
        if kind != "stateMachine" {
            return Err(ArnError::ResourceType(kind.to_owned()));
        }
        let (name, qualifier) = match rest.as_slice() {
            [name] => (*name, None),
            [name, q] if !q.is_empty() => (*name, Some((*q).to_owned())),
            _ => return Err(ArnError::Malformed(arn.to_owned())),
        };
        if name.is_empty() {
            return Err(ArnError::Malformed(arn.to_owned()));
        }
        Ok(StateMachineArn {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            name: name.into(),
            qualifier,
        })
    }

    /// The same machine without its version/alias qualifier.
    pub fn unqualified(&self) -> StateMachineArn {
        StateMachineArn {
            qualifier: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for StateMachineArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:states:{}:{}:stateMachine:{}",
            self.partition, self.region, self.account, self.name
        )?;
        if let Some(q) = &self.qualifier {
            write!(f, ":{q}")?;
        }
        Ok(())
    }
}

impl ExecutionArn {
    /// `arn:…:execution:<sm>:<name>` for a STANDARD machine's execution.
    pub fn standard(machine: &StateMachineArn, name: &str) -> ExecutionArn {
        ExecutionArn {
            partition: machine.partition.clone(),
            region: machine.region.clone(),
            account: machine.account.clone(),
            state_machine_name: machine.name.clone(),
            name: name.into(),
            kind: ExecutionKind::Standard,
        }
    }

    /// `arn:…:express:<sm>:<name>:<id>` for an EXPRESS machine's execution.
    pub fn express(machine: &StateMachineArn, name: &str, id: &str) -> ExecutionArn {
        ExecutionArn {
            kind: ExecutionKind::Express { id: id.into() },
            ..ExecutionArn::standard(machine, name)
        }
    }

    /// Parses a standard or express execution ARN.
    pub fn parse(arn: &str) -> Result<ExecutionArn, ArnError> {
        let (partition, region, account, kind, rest) = split(arn)?;
        let (sm, name, kind) = match (kind, rest.as_slice()) {
            ("execution", [sm, name]) => (*sm, *name, ExecutionKind::Standard),
            ("express", [sm, name, id]) if !id.is_empty() => (
                *sm,
                *name,
                ExecutionKind::Express {
                    id: (*id).to_owned(),
                },
            ),
            ("execution" | "express", _) => return Err(ArnError::Malformed(arn.to_owned())),
            (other, _) => return Err(ArnError::ResourceType(other.to_owned())),
        };
        if sm.is_empty() || name.is_empty() {
            return Err(ArnError::Malformed(arn.to_owned()));
        }
        Ok(ExecutionArn {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            state_machine_name: sm.into(),
            name: name.into(),
            kind,
        })
    }

    /// Parses an ARN that must be a standard execution's: express ARNs give
    /// `Resource type not valid in this context: express`, as DescribeExecution,
    /// StopExecution and GetExecutionHistory answer on AWS.
    pub fn parse_standard(arn: &str) -> Result<ExecutionArn, ArnError> {
        let parsed = ExecutionArn::parse(arn)?;
        match parsed.kind {
            ExecutionKind::Standard => Ok(parsed),
            ExecutionKind::Express { .. } => Err(ArnError::ResourceType("express".into())),
        }
    }

    /// True for an express execution's ARN.
    pub fn is_express(&self) -> bool {
        matches!(self.kind, ExecutionKind::Express { .. })
    }

    /// The (unqualified) ARN of the state machine this execution belongs to.
    pub fn state_machine_arn(&self) -> StateMachineArn {
        StateMachineArn {
            partition: self.partition.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            name: self.state_machine_name.clone(),
            qualifier: None,
        }
    }
}

impl fmt::Display for ExecutionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_express() {
            "express"
        } else {
            "execution"
        };
        write!(
            f,
            "arn:{}:states:{}:{}:{kind}:{}:{}",
            self.partition, self.region, self.account, self.state_machine_name, self.name
        )?;
        if let ExecutionKind::Express { id } = &self.kind {
            write!(f, ":{id}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_arns_round_trip() {
        for arn in [
            "arn:aws:states:us-east-1:123456789012:stateMachine:Orders",
            "arn:aws:states:us-east-1:123456789012:stateMachine:Orders:3",
            "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:Orders:prod",
        ] {
            assert_eq!(StateMachineArn::parse(arn).unwrap().to_string(), arn);
        }
        let sm =
            StateMachineArn::parse("arn:aws:states:us-east-1:123456789012:stateMachine:Orders:3")
                .unwrap();
        assert_eq!(sm.qualifier.as_deref(), Some("3"));
        assert_eq!(
            sm.unqualified().to_string(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:Orders"
        );
    }

    #[test]
    fn execution_arns_round_trip_and_know_their_kind() {
        let std = "arn:aws:states:us-east-1:123456789012:execution:Orders:run-1";
        let exp = "arn:aws:states:us-east-1:123456789012:express:Orders:run-1:0c7e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6";
        let s = ExecutionArn::parse(std).unwrap();
        let e = ExecutionArn::parse(exp).unwrap();
        assert_eq!(
            (s.to_string(), e.to_string()),
            (std.to_owned(), exp.to_owned())
        );
        assert!(!s.is_express() && e.is_express());
        assert_eq!(e.name, "run-1");
        assert_eq!(
            e.state_machine_arn().to_string(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:Orders"
        );
        let sm = StateMachineArn::new("us-east-1", "123456789012", "Orders");
        assert_eq!(ExecutionArn::standard(&sm, "run-1").to_string(), std);
    }

    #[test]
    fn bad_arns_give_aws_invalid_arn_wording() {
        let e = StateMachineArn::parse("not-an-arn").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid Arn: 'Invalid ARN prefix: not-an-arn'"
        );
        let e =
            ExecutionArn::parse_standard("arn:aws:states:us-east-1:1:express:sm:n:id").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid Arn: 'Resource type not valid in this context: express'"
        );
        let e = StateMachineArn::parse("arn:aws:states:us-east-1:1:execution:sm:n").unwrap_err();
        assert_eq!(e, ArnError::ResourceType("execution".into()));
        assert!(matches!(
            StateMachineArn::parse("arn:aws:states:us-east-1:1:stateMachine:"),
            Err(ArnError::Malformed(_))
        ));
        assert!(matches!(
            ExecutionArn::parse("arn:aws:states:us-east-1:1:execution:sm"),
            Err(ArnError::Malformed(_))
        ));
        let aws = e.to_aws();
        assert_eq!((aws.type_.as_str(), aws.status), ("InvalidArn", 400));
    }

    proptest::proptest! {
        #[test]
        fn parsed_arns_format_back_to_the_same_text(text in "arn:aws(-cn)?:states:[a-z0-9-]{0,12}:[0-9]{0,12}:(stateMachine|execution|express|activity):[A-Za-z0-9:_-]{0,40}") {
            if let Ok(sm) = StateMachineArn::parse(&text) {
                proptest::prop_assert_eq!(sm.to_string(), text.clone());
            }
            if let Ok(ex) = ExecutionArn::parse(&text) {
                proptest::prop_assert_eq!(ex.to_string(), text.clone());
            }
        }

        #[test]
        fn any_text_parses_or_gives_invalid_arn(text in ".{0,120}") {
            if let Err(e) = ExecutionArn::parse(&text) {
                proptest::prop_assert_eq!(e.to_aws().type_, "InvalidArn");
            }
            let _ = StateMachineArn::parse(&text);
        }
    }
}
