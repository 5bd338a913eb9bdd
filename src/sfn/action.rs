//! The Step Functions actions stepgate can call, named exactly as AWS names them, and their
//! parsing from an API Gateway integration URI
//! (`arn:aws:apigateway:{region}:states:action/{Action}`). Uses nothing else in the crate.

use std::fmt;
use std::str::FromStr;

/// One Step Functions API action (the `X-Amz-Target: AWSStepFunctions.<Action>` suffix).
///
/// `"StartExecution".parse::<Action>()` gives [`Action::StartExecution`]; names are
/// case-sensitive, as they are in API Gateway integration URIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// `states:action/StartExecution`
    StartExecution,
    /// `states:action/StartSyncExecution` (EXPRESS state machines only)
    StartSyncExecution,
    /// `states:action/DescribeExecution`
    DescribeExecution,
    /// `states:action/StopExecution`
    StopExecution,
    /// `states:action/ListExecutions`
    ListExecutions,
    /// `states:action/GetExecutionHistory`
    GetExecutionHistory,
    /// `states:action/SendTaskSuccess`
    SendTaskSuccess,
    /// `states:action/SendTaskFailure`
    SendTaskFailure,
    /// `states:action/SendTaskHeartbeat`
    SendTaskHeartbeat,
    /// `states:action/DescribeStateMachine`
    DescribeStateMachine,
    /// `states:action/ListStateMachines`
    ListStateMachines,
    /// `states:action/CreateStateMachine`
    CreateStateMachine,
    /// `states:action/DeleteStateMachine`
    DeleteStateMachine,
}

impl Action {
    /// Every action, in the order of the trait's methods.
    pub const ALL: [Action; 13] = [
        Action::StartExecution,
        Action::StartSyncExecution,
        Action::DescribeExecution,
        Action::StopExecution,
        Action::ListExecutions,
        Action::GetExecutionHistory,
        Action::SendTaskSuccess,
        Action::SendTaskFailure,
        Action::SendTaskHeartbeat,
        Action::DescribeStateMachine,
        Action::ListStateMachines,
        Action::CreateStateMachine,
        Action::DeleteStateMachine,
    ];

    /// The action's name as AWS spells it (`"StartExecution"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::StartExecution => "StartExecution",
            Action::StartSyncExecution => "StartSyncExecution",
            Action::DescribeExecution => "DescribeExecution",
            Action::StopExecution => "StopExecution",
            Action::ListExecutions => "ListExecutions",
            Action::GetExecutionHistory => "GetExecutionHistory",
            Action::SendTaskSuccess => "SendTaskSuccess",
            Action::SendTaskFailure => "SendTaskFailure",
            Action::SendTaskHeartbeat => "SendTaskHeartbeat",
            Action::DescribeStateMachine => "DescribeStateMachine",
            Action::ListStateMachines => "ListStateMachines",
            Action::CreateStateMachine => "CreateStateMachine",
            Action::DeleteStateMachine => "DeleteStateMachine",
        }
    }

    /// The `X-Amz-Target` header value of the AWS JSON 1.0 protocol
    /// (`"AWSStepFunctions.StartExecution"`).
    pub fn target(self) -> String {
        format!("AWSStepFunctions.{}", self.as_str())
    }

    /// Parses the action from an `X-Amz-Target` header value.
    pub fn from_target(target: &str) -> Option<Action> {
        target.strip_prefix("AWSStepFunctions.")?.parse().ok()
    }

    /// Parses an API Gateway AWS-integration URI such as
    /// `arn:aws:apigateway:us-east-1:states:action/StartExecution`.
    pub fn from_integration_uri(uri: &str) -> Result<Action, ActionError> {
        let bad = |reason: &'static str| ActionError {
            input: uri.to_owned(),
            reason,
        };
        let mut parts = uri.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("apigateway"),
            Some(region),
            Some("states"),
            Some(rest),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(bad(
                "expected arn:aws:apigateway:{region}:states:action/{Action}",
            ));
        };
        if partition.is_empty() || region.is_empty() {
            return Err(bad("the partition and region must not be empty"));
        }
        let Some(name) = rest.strip_prefix("action/") else {
            return Err(bad(
                "only `action/{Action}` Step Functions integrations are supported",
            ));
        };
        name.parse()
            .map_err(|_| bad("not a Step Functions action stepgate supports"))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ActionError {
                input: s.to_owned(),
                reason: "unknown Step Functions action",
            })
    }
}

/// An action name or integration URI that names no supported action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionError {
    /// The text that failed to parse.
    pub input: String,
    /// Why it failed.
    pub reason: &'static str,
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.input, self.reason)?;
        if self.reason == "unknown Step Functions action"
            || self.reason == "not a Step Functions action stepgate supports"
        {
            let names: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
            write!(f, " (expected one of {})", names.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ActionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_name_and_target() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
            assert_eq!(Action::from_target(&a.target()), Some(a));
        }
    }

    #[test]
    fn integration_uri_gives_the_action() {
        let a = Action::from_integration_uri(
            "arn:aws:apigateway:eu-west-1:states:action/StartSyncExecution",
        );
        assert_eq!(a, Ok(Action::StartSyncExecution));
        let cn = Action::from_integration_uri(
            "arn:aws-cn:apigateway:cn-north-1:states:action/StopExecution",
        );
        assert_eq!(cn, Ok(Action::StopExecution));
    }

    #[test]
    fn bad_integration_uris_say_why() {
        for (uri, why) in [
            (
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f",
                "expected arn:aws",
            ),
            (
                "arn:aws:apigateway:us-east-1:states:path/x",
                "only `action/",
            ),
            (
                "arn:aws:apigateway:us-east-1:states:action/startExecution",
                "not a Step Functions action",
            ),
            (
                "arn:aws:apigateway::states:action/StartExecution",
                "must not be empty",
            ),
            ("", "expected arn:aws"),
        ] {
            let err = Action::from_integration_uri(uri).unwrap_err();
            assert!(err.to_string().contains(why), "{uri}: {err}");
        }
    }

    #[test]
    fn unknown_action_lists_the_known_ones() {
        let err = "StartExecutions".parse::<Action>().unwrap_err();
        assert!(
            err.to_string()
                .contains("StartExecution, StartSyncExecution"),
            "{err}"
        );
    }
}
