//! Checks of the state machines a configuration names: every definition parses and
//! validates as ASL for its type (the engine's own parser, so `check` reports what
//! `CreateStateMachine` would), names are unique, and — on the local backend — every
//! Lambda function a Task calls has a local answer (a handler, a Lambda endpoint or a
//! mock config).

use std::path::Path;

use crate::config::diagnostic::{Diagnostic, ErrorKind};
use crate::config::model::{Backend, StateMachineDefinition, StateMachineSource, StateMachineType};
use crate::engine::asl;

/// Problems with `machines` (errors for invalid definitions, warnings for Lambda tasks
/// without a local answer when `backend` is given and local).
pub(crate) fn check(machines: &[StateMachineSource], backend: Option<&Backend>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, machine) in machines.iter().enumerate() {
        let (file, pointer) = machine
            .origin
            .split_once('#')
            .unwrap_or((&machine.origin, ""));
        let file = Path::new(file);
        if machines[..i].iter().any(|m| m.arn == machine.arn) {
            out.push(Diagnostic::error(
                ErrorKind::InvalidValue,
                file,
                pointer,
                format!("a second state machine is named `{}`", machine.name),
            ));
            continue;
        }
        let parsed = match &machine.definition {
            StateMachineDefinition::Text(text) => asl::StateMachine::parse(text),
            StateMachineDefinition::Json(value) => asl::StateMachine::from_value(value),
        };
        let kind = match machine.kind {
            StateMachineType::Standard => asl::StateMachineType::Standard,
            StateMachineType::Express => asl::StateMachineType::Express,
        };
        let parsed = parsed.and_then(|sm| sm.validate(kind).map(|()| sm));
        let sm = match parsed {
            Ok(sm) => sm,
            Err(e) => {
                out.push(Diagnostic::error(
                    ErrorKind::StateMachine,
                    file,
                    pointer,
                    format!("state machine `{}`: {e}", machine.name),
                ));
                continue;
            }
        };
        let Some(Backend::Local(local)) = backend else {
            continue;
        };
        if local.lambda_endpoint.is_some() || local.mock_config.is_some() {
            continue;
        }
        for resource in sm.task_resources() {
            let Some(function) = lambda_function(resource) else {
                continue;
            };
            let answered = local
                .lambda_handlers
                .keys()
                .any(|k| k == function || k == resource);
            if !answered {
                out.push(Diagnostic::warning(
                    ErrorKind::NoLocalAnswer,
                    file,
                    pointer,
                    format!(
                        "state machine `{}` calls Lambda function `{function}`, which has no local answer \
                         (add `local.lambda.{function}`, `local.lambda_endpoint` or `local.mock_config`); \
                         its executions will fail",
                        machine.name
                    ),
                ));
            }
        }
    }
    out
}

/// The function name of a Lambda function ARN used directly as a Task resource.
fn lambda_function(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let (_partition, service, _region, _account, kind, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "lambda" || kind != "function" {
        return None;
    }
    Some(name.split(':').next().unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::lambda_function;

    #[test]
    fn lambda_function_names_from_arns() {
        assert_eq!(
            lambda_function("arn:aws:lambda:us-east-1:1:function:f"),
            Some("f")
        );
        assert_eq!(
            lambda_function("arn:aws:lambda:us-east-1:1:function:f:prod"),
            Some("f")
        );
        assert_eq!(lambda_function("arn:aws:states:::lambda:invoke"), None);
        assert_eq!(lambda_function("f"), None);
    }
}
