//! Checks of the Lambda functions that Lambda custom integrations invoke: on the local
//! backend each needs a local answer (`local.lambda.<name>` or `local.lambda_endpoint`),
//! else its requests get API Gateway's 500; `check` warns, naming the route.

use std::path::Path;

use crate::config::diagnostic::{Diagnostic, ErrorKind};
use crate::config::model::{Api, Backend, IntegrationType};

/// Warnings for Lambda integrations the local backend cannot answer (none on `aws`).
pub(crate) fn check(api: &Api, backend: &Backend, config_file: &Path) -> Vec<Diagnostic> {
    let Backend::Local(local) = backend else {
        return Vec::new();
    };
    if local.lambda_endpoint.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for route in &api.routes {
        let IntegrationType::Lambda { function_arn, .. } = &route.method.integration.kind else {
            continue;
        };
        let name = function_name(function_arn);
        if name.contains("${") {
            continue; // a stage variable: known per request only
        }
        let answered = local
            .lambda_handlers
            .keys()
            .any(|k| k == name || k == function_arn);
        if !answered {
            out.push(Diagnostic::warning(
                ErrorKind::NoLocalAnswer,
                config_file,
                "/local/lambda",
                format!(
                    "{} {} invokes Lambda function `{name}`, which has no local answer \
                     (add `local.lambda.{name}` or `local.lambda_endpoint`); its requests will get 500",
                    route.http_method, route.path_template
                ),
            ));
        }
    }
    out
}

/// `f` of `arn:aws:lambda:r:a:function:f[:qualifier]`.
fn function_name(arn: &str) -> &str {
    arn.split(':').nth(6).unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn function_names_drop_the_qualifier() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:f:prod"),
            "f"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:f"),
            "f"
        );
    }
}
