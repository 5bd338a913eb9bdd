//! The configuration loader end to end: every file in `config/` loads, every file in
//! `templates/` parses, the seed API comes out as API Gateway would deploy it, error
//! cases name file, JSON pointer and line:col, CloudFormation intrinsics and SAM
//! discovery work, Swagger 2 and OpenAPI 3 variants agree, and `stepgate check` works
//! through the built binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use indexmap::IndexMap;
use stepgate::config::{
    self, ErrorKind, GatewayResponseType, IntegrationRequestTarget, IntegrationType,
    ParameterLocation, ParameterSource, PassthroughBehavior, SelectionMode, Severity,
    StateMachineDefinition, StateMachineType,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn vars(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes files into a temp dir and returns it.
fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write fixture");
    }
    dir
}

fn load_api_text(
    name: &str,
    text: &str,
    v: &[(&str, &str)],
) -> Result<config::ApiDocument, config::Error> {
    let dir = fixture(&[(name, text)]);
    config::load_api(&dir.path().join(name), &vars(v))
}

fn errors(e: &config::Error) -> Vec<String> {
    e.errors()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect()
}

const SEED_VARS: &[(&str, &str)] = &[
    ("CorsOrigin", "'http://localhost:3000'"),
    ("CorsMethods", "'*'"),
    (
        "CorsHeaders",
        "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
    ),
    (
        "ApiGatewayStepFunctionsRole.Arn",
        "arn:aws:iam::123456789012:role/r",
    ),
    (
        "Workflow",
        "arn:aws:states:us-east-1:123456789012:stateMachine:wf",
    ),
];

// === every file in config/ and templates/ ===

#[test]
fn config_dir_every_file_loads() {
    let dir = repo().join("config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("config/ exists") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() {
            continue;
        }
        seen += 1;
        if name.starts_with("stepgate") {
            let c = config::load(&path).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(!c.api.routes.is_empty(), "{name} serves no routes");
        } else if name.ends_with(".asl.json") {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                v.get("StartAt").is_some() && v.get("States").is_some(),
                "{name} is not ASL"
            );
        } else if name == "template.yaml" {
            let d = config::load_api(&path, &vars(&[("Environment", "dev")]))
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert_eq!(d.api.routes.len(), 2);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") {
            let d = config::load_api(&path, &vars(SEED_VARS))
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(!d.api.routes.is_empty(), "{name}");
        } else {
            panic!("config/{name}: unknown kind of file; teach this test how to load it");
        }
    }
    assert!(
        seen >= 5,
        "config/ should hold stepgate.yaml, swagger.yaml, template.yaml, the workflow and examples"
    );
}

#[test]
fn templates_dir_every_file_parses() {
    let dir = repo().join("templates");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // templates/ is created with the first example template; until then there is
        // nothing to parse, and the config/ examples embed theirs.
        assert!(!dir.exists());
        return;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).expect("read template");
            stepgate::vtl::Template::parse(&path.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        }
    }
}

// === the seed ===

#[test]
fn seed_config_serves_the_seed_api_on_the_local_engine() {
    let c = config::load(&repo().join("config/stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"));
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:stepgate-state-machine";
    assert_eq!(c.api.stage, "dev");
    assert_eq!(c.api.selection_mode, SelectionMode::Extended);
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        c.sfn_listen.map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:8083")
    );
    let config::Backend::Local(local) = &c.backend else {
        panic!("local backend expected")
    };
    assert_eq!(local.lambda_commands().count(), 4);
    assert!(local.data_dir.as_ref().is_some_and(|d| d.ends_with("data")));

    // the state machine, with its Lambda ARNs resolved from the template's own resources
    assert_eq!(c.state_machines.len(), 1);
    let machine = &c.state_machines[0];
    assert_eq!(machine.arn, arn);
    assert_eq!(machine.kind, StateMachineType::Standard);
    assert_eq!(
        machine.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/StateExecutionRole")
    );
    let StateMachineDefinition::Text(text) = &machine.definition else {
        panic!("DefinitionString is text")
    };
    let asl: serde_json::Value = serde_json::from_str(text).expect("the definition is JSON");
    assert_eq!(
        asl["States"]["Start"]["Resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:stepgate-start"
    );
    assert_eq!(
        asl["States"]["Parallel State"]["Branches"][1]["States"]["Wait500"]["Resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:stepgate-wait500"
    );
    for function in [
        "stepgate-start",
        "stepgate-wait3000",
        "stepgate-wait500",
        "stepgate-end",
    ] {
        assert!(
            local.lambda_handlers.contains_key(function),
            "{function} has no local answer"
        );
    }

    // POST /execute → StartExecution with ${Workflow} = the local ARN
    let post = c
        .api
        .routes
        .iter()
        .find(|r| r.http_method == "POST")
        .expect("POST /execute");
    assert_eq!(post.path_template, "/execute");
    let integration = &post.method.integration;
    assert_eq!(
        integration.kind,
        IntegrationType::Aws {
            service: "states".into(),
            region: "us-east-1".into(),
            action: "StartExecution".into()
        }
    );
    assert_eq!(
        integration.credentials.as_deref(),
        Some("arn:aws:iam::123456789012:role/ApiGatewayStepFunctionsRole")
    );
    assert_eq!(
        integration.passthrough_behavior,
        PassthroughBehavior::WhenNoMatch
    );
    assert_eq!(
        integration.timeout,
        std::time::Duration::from_millis(29_000)
    );
    let template = &integration.request_templates["application/json"];
    assert_eq!(
        template.source(),
        format!(
            "{{\n  \"input\": \"$util.escapeJavaScript($input.json('$'))\",\n  \"name\": \"$context.requestId\",\n  \"stateMachineArn\": \"{arn}\"\n}}"
        )
    );
    assert_eq!(integration.responses.len(), 2);
    let default = integration.default_response().expect("default response");
    assert_eq!(default.status_code, 200);
    assert_eq!(
        default.response_parameters,
        vec![
            (
                "Access-Control-Allow-Headers".to_string(),
                ParameterSource::Static("Content-Type,X-Amz-Date,Authorization,X-Api-Key".into())
            ),
            (
                "Access-Control-Allow-Origin".to_string(),
                ParameterSource::Static("http://localhost:3000".into())
            ),
        ]
    );
    let failed = &integration.responses[1];
    let pattern = failed.selection_pattern.as_ref().expect("pattern");
    assert_eq!(pattern.as_str(), ".*CREATION_FAILED.*");
    assert!(pattern.is_match("StateMachineDoesNotExist: CREATION_FAILED because x"));
    assert!(!pattern.is_match("400"));
    assert_eq!(failed.status_code, 403);
    assert_eq!(
        failed.response_templates["application/json"].source(),
        "$input.path('$.errorMessage')"
    );
    assert_eq!(
        post.method
            .method_responses
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![200, 403]
    );
    assert_eq!(
        post.method.method_responses[&403].headers,
        vec![
            "Access-Control-Allow-Headers".to_string(),
            "Access-Control-Allow-Origin".to_string()
        ]
    );

    // OPTIONS /execute → the CORS mock
    let options = c
        .api
        .routes
        .iter()
        .find(|r| r.http_method == "OPTIONS")
        .expect("OPTIONS /execute");
    assert_eq!(options.method.integration.kind, IntegrationType::Mock);
    assert_eq!(
        options.method.integration.request_templates["application/json"].source(),
        "{\n  \"statusCode\" : 200\n}\n"
    );
    let cors = &options.method.integration.responses[0];
    assert!(cors.selection_pattern.is_none());
    assert_eq!(
        cors.response_parameters[1],
        (
            "Access-Control-Allow-Methods".to_string(),
            ParameterSource::Static("*".into())
        )
    );
    assert_eq!(cors.response_templates["application/json"].source(), "{}\n");
    assert_eq!(options.method.method_responses[&200].headers.len(), 3);

    // the two warnings `check` shows for the seed
    let kinds: Vec<ErrorKind> = c.warnings.iter().map(|w| w.kind).collect();
    assert!(kinds.contains(&ErrorKind::NonPortable), "{kinds:?}");
    assert!(kinds.contains(&ErrorKind::EscapeJavaScript), "{kinds:?}");
}

#[test]
fn seed_swagger_reports_every_missing_variable_with_its_location() {
    let e = config::load_api(&repo().join("config/swagger.yaml"), &IndexMap::new()).unwrap_err();
    let found = errors(&e);
    assert_eq!(found.len(), 9, "{found:#?}");
    assert_eq!(
        found[0],
        "config/swagger.yaml:33:26#/paths/~1execute/options/x-amazon-apigateway-integration/responses/default/responseParameters/method.response.header.Access-Control-Allow-Headers/Fn::Sub: Fn::Sub variable `CorsHeaders` has no value (give it with --var CorsHeaders=VALUE or `variables:` in stepgate.yaml)"
            .replace("config/", &format!("{}/config/", repo().display()))
    );
    assert!(found.iter().any(|f| f.contains("#/paths/~1execute/post/x-amazon-apigateway-integration/credentials/Fn::GetAtt: Fn::GetAtt `ApiGatewayStepFunctionsRole.Arn` has no value")));
    assert!(found.iter().any(|f| f.contains(":72:15#/paths/~1execute/post/x-amazon-apigateway-integration/requestTemplates/application~1json/Fn::Sub: Fn::Sub variable `Workflow`")));
}

#[test]
fn seed_escape_javascript_warning_points_into_the_template() {
    let d = config::load_api(&repo().join("config/swagger.yaml"), &vars(SEED_VARS)).unwrap();
    let w = d
        .warnings
        .iter()
        .find(|w| w.kind == ErrorKind::EscapeJavaScript)
        .expect("warning");
    assert_eq!(w.position, Some((73, 27)));
    let shown = format!("{w:#}");
    assert!(
        shown.contains(
            "   --> config/swagger.yaml:73:27\n    |\n 71 |             Fn::Sub: |-\n 72 |               {\n 73 |                 \"input\": \"$util.escapeJavaScript($input.json('$'))\",\n    |                           ^\n"
                .replace("config/", &format!("{}/config/", repo().display()))
                .as_str()
        ),
        "{shown}"
    );
    assert!(shown.ends_with("   = at {}/config/swagger.yaml#/paths/~1execute/post/x-amazon-apigateway-integration/requestTemplates/application~1json".replace("{}", &repo().display().to_string()).as_str()), "{shown}");
}

// === error cases ===

const MINIMAL_HEAD: &str = "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n";

#[test]
fn error_bad_selection_pattern_names_pointer_and_position() {
    let text = format!(
        "{MINIMAL_HEAD}  /x:\n    get:\n      x-amazon-apigateway-integration:\n        type: mock\n        responses:\n          \"(unclosed\":\n            statusCode: 400\n"
    );
    let e = load_api_text("api.yaml", &text, &[]).unwrap_err();
    let d = e.errors().next().unwrap();
    assert_eq!(d.kind, ErrorKind::Pattern);
    assert_eq!(
        d.pointer,
        "/paths/~1x/get/x-amazon-apigateway-integration/responses/(unclosed"
    );
    assert_eq!(d.position, Some((10, 13)));
    assert!(
        d.message
            .starts_with("selection pattern `(unclosed` does not compile: "),
        "{}",
        d.message
    );
    let shown = format!("{d:#}");
    assert!(
        shown.contains(" 10 |             statusCode: 400\n    |             ^\n"),
        "{shown}"
    );
}

#[test]
fn error_collects_every_problem() {
    let text = format!(
        "{MINIMAL_HEAD}  /a:
    get:
      x-amazon-apigateway-request-validator: nope
      x-amazon-apigateway-integration:
        type: aws
        uri: arn:aws:apigateway:us-east-1:states:action/StartExecutionz
  /b:
    post:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: x
  /c:
    get:
      summary: no integration
  /d:
    get:
      x-amazon-apigateway-integration:
        type: http
        uri: ftp://x
        timeoutInMillis: 10
        passthroughBehavior: SOMETIMES
        requestParameters:
          integration.request.header.X: method.request.cookie.c
        responses:
          default:
            statusCode: 99
"
    );
    let e = load_api_text("api.yaml", &text, &[]).unwrap_err();
    let found: Vec<(String, ErrorKind)> = e.errors().map(|d| (d.pointer.clone(), d.kind)).collect();
    let expected = [
        (
            "/paths/~1a/get/x-amazon-apigateway-request-validator",
            ErrorKind::InvalidValue,
        ),
        (
            "/paths/~1a/get/x-amazon-apigateway-integration/uri",
            ErrorKind::Uri,
        ),
        (
            "/paths/~1b/post/x-amazon-apigateway-integration/type",
            ErrorKind::Unsupported,
        ),
        ("/paths/~1c/get", ErrorKind::Missing),
        (
            "/paths/~1d/get/x-amazon-apigateway-integration/uri",
            ErrorKind::Uri,
        ),
        (
            "/paths/~1d/get/x-amazon-apigateway-integration/passthroughBehavior",
            ErrorKind::InvalidValue,
        ),
        (
            "/paths/~1d/get/x-amazon-apigateway-integration/requestParameters/integration.request.header.X",
            ErrorKind::InvalidValue,
        ),
        (
            "/paths/~1d/get/x-amazon-apigateway-integration/timeoutInMillis",
            ErrorKind::InvalidValue,
        ),
        (
            "/paths/~1d/get/x-amazon-apigateway-integration/responses/default/statusCode",
            ErrorKind::InvalidValue,
        ),
    ];
    for (pointer, kind) in expected {
        assert!(
            found.contains(&(pointer.to_string(), kind)),
            "missing {pointer} {kind:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    let uri = e.errors().find(|d| d.kind == ErrorKind::Uri).unwrap();
    assert_eq!(
        uri.message,
        "`StartExecutionz` is not a Step Functions action"
    );
}

#[test]
fn error_yaml_syntax_has_line_col_and_caret() {
    let e = load_api_text(
        "api.yaml",
        "openapi: 3.0.1\npaths:\n  /x: [1, 2\n  /y: 3\n",
        &[],
    )
    .unwrap_err();
    let d = e.errors().next().unwrap();
    assert_eq!(d.kind, ErrorKind::Syntax);
    let (line, _) = d.position.expect("position");
    assert!((3..=5).contains(&line), "{d}");
    assert!(format!("{d:#}").contains(" | "), "{d:#}");
}

#[test]
fn error_json_document_names_pointer() {
    let text = r#"{"swagger": "2.0", "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "responses": {"default": {"statusCode": "abc"}}}}}}}"#;
    let e = load_api_text("api.json", text, &[]).unwrap_err();
    assert_eq!(
        errors(&e)
            .iter()
            .map(|s| s.split_once('#').unwrap().1.to_string())
            .collect::<Vec<_>>(),
        vec![
            "/paths/~1x/get/x-amazon-apigateway-integration/responses/default/statusCode: statusCode must be an HTTP status code (100-599)"
        ]
    );
}

#[test]
fn error_invalid_model_schema() {
    let text = format!(
        "{MINIMAL_HEAD}  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '#/components/schemas/Bad'}}\n      x-amazon-apigateway-integration: {{type: mock}}\ncomponents:\n  schemas:\n    Bad: {{type: 12}}\n"
    );
    let e = load_api_text("api.yaml", &text, &[]).unwrap_err();
    let d = e.errors().next().unwrap();
    assert_eq!(d.kind, ErrorKind::Schema);
    assert_eq!(d.pointer, "/components/schemas/Bad");
    assert!(
        d.message
            .starts_with("model `Bad` is not a valid JSON Schema draft 4"),
        "{}",
        d.message
    );
}

#[test]
fn error_template_that_does_not_parse_carries_its_caret() {
    let text = format!(
        "{MINIMAL_HEAD}  /x:\n    post:\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates:\n          application/json: |\n            #if($a)\n            {{}}\n"
    );
    let e = load_api_text("api.yaml", &text, &[]).unwrap_err();
    let d = e.errors().next().expect("an unclosed #if is an error");
    assert_eq!(d.kind, ErrorKind::Template);
    assert_eq!(
        d.pointer,
        "/paths/~1x/post/x-amazon-apigateway-integration/requestTemplates/application~1json"
    );
    let template_error = d.template_error.as_ref().expect("template error kept");
    assert_eq!(template_error.kind(), stepgate::vtl::ErrorKind::Syntax);
    assert_eq!(
        d.position.map(|(line, _)| line),
        Some(10),
        "the error is in the template's first line, file line 10: {d}"
    );
    let shown = format!("{d:#}");
    assert!(
        shown.starts_with("error: request template `application/json` of POST /x does not parse: "),
        "{shown}"
    );
    assert!(
        shown.contains(
            "#/paths/~1x/post/x-amazon-apigateway-integration/requestTemplates/application~1json:"
        ),
        "{shown}"
    );
    assert!(shown.contains('^'), "{shown}");
}

#[test]
fn error_stepgate_yaml_unknown_settings_and_missing_files() {
    let dir = fixture(&[(
        "stepgate.yaml",
        "api: nope.yaml\nlisten: here\nselection: loose\nbackend: cloud\nlimits: {max_body: 1}\ncolour: blue\n",
    )]);
    let e = config::load(&dir.path().join("stepgate.yaml")).unwrap_err();
    let found: Vec<String> = e
        .errors()
        .map(|d| format!("{}:{:?}: {}", d.pointer, d.position, d.message))
        .collect();
    let expect = [
        "/colour:Some((6, 9)): unknown setting `colour`",
        "/limits/max_body:Some((5, 20)): unknown limit `max_body`",
        "/listen:Some((2, 9)): `here` is not an address like 127.0.0.1:8080",
        "/selection:Some((3, 12)): `loose` is neither `extended` nor `aws-strict`",
        "/backend:Some((4, 10)): unknown backend `cloud` (local or aws)",
        "/api:Some((1, 6)): API file `",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "missing {e} in {found:#?}"
        );
    }
}

// === intrinsics ===

#[test]
fn intrinsics_short_tags_and_long_forms_in_openapi() {
    let text = format!(
        "{MINIMAL_HEAD}  /x:
    post:
      x-amazon-apigateway-integration:
        type: aws
        uri: !Sub arn:aws:apigateway:${{AWS::Region}}:states:action/StartSyncExecution
        credentials: !GetAtt Role.Arn
        requestTemplates:
          application/json: !Sub
            - '{{\"stateMachineArn\": \"${{Arn}}\", \"name\": \"${{!Literal}}\", \"stack\": \"${{AWS::StackName}}\"}}'
            - Arn: !Ref Machine
        responses:
          default:
            statusCode: 200
            responseParameters:
              method.response.header.X-Joined: !Join ['', [\"'\", !Ref AWS::Partition, \"'\"]]
"
    );
    let d = load_api_text(
        "api.yaml",
        &text,
        &[
            ("AWS::Region", "eu-west-1"),
            ("Role.Arn", "arn:aws:iam::1:role/r"),
            ("Machine", "arn:m"),
            ("AWS::StackName", "s"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let i = &d.api.routes[0].method.integration;
    assert_eq!(
        i.kind,
        IntegrationType::Aws {
            service: "states".into(),
            region: "eu-west-1".into(),
            action: "StartSyncExecution".into()
        }
    );
    assert_eq!(i.credentials.as_deref(), Some("arn:aws:iam::1:role/r"));
    assert_eq!(
        i.request_templates["application/json"].source(),
        r#"{"stateMachineArn": "arn:m", "name": "${Literal}", "stack": "s"}"#
    );
    assert_eq!(
        i.responses[0].response_parameters[0].1,
        ParameterSource::Static("aws".into())
    );
}

// === SAM / CloudFormation ===

#[test]
fn sam_inline_definition_body_and_state_machine_variants() {
    let dir = fixture(&[
        (
            "template.yaml",
            "Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: beta}
Resources:
  Orders:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: orders
      Type: EXPRESS
      Definition:
        StartAt: P
        States:
          P: {Type: Pass, Result: '${Greeting}', End: true}
      DefinitionSubstitutions:
        Greeting: hello
  FromFile:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: machines/file.asl.json
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Variables: {mode: test}
      DefinitionBody:
        swagger: '2.0'
        paths:
          /orders:
            post:
              x-amazon-apigateway-integration:
                type: aws
                uri: !Sub arn:aws:apigateway:${AWS::Region}:states:action/StartSyncExecution
                requestTemplates:
                  application/json: !Sub '{\"stateMachineArn\": \"${Orders}\", \"other\": \"${FromFile.Arn}\"}'
                responses: {default: {statusCode: 200}}
",
        ),
        ("machines/file.asl.json", r#"{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}"#),
    ]);
    let d = config::load_api(
        &dir.path().join("template.yaml"),
        &vars(&[("AWS::Region", "eu-central-1")]),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(d.api.stage, "beta");
    assert_eq!(d.api.stage_variables["mode"], "test");
    assert_eq!(
        d.api.routes[0].method.integration.request_templates["application/json"].source(),
        r#"{"stateMachineArn": "arn:aws:states:eu-central-1:123456789012:stateMachine:orders", "other": "arn:aws:states:eu-central-1:123456789012:stateMachine:FromFile"}"#
    );
    assert_eq!(d.state_machines.len(), 2);
    let orders = &d.state_machines[0];
    assert_eq!(orders.kind, StateMachineType::Express);
    assert_eq!(
        orders.definition,
        StateMachineDefinition::Json(
            serde_json::json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "hello", "End": true}}})
        )
    );
    let from_file = &d.state_machines[1];
    assert_eq!(from_file.name, "FromFile");
    assert_eq!(from_file.kind, StateMachineType::Standard);
    assert!(
        matches!(&from_file.definition, StateMachineDefinition::Text(t) if t.contains("Succeed"))
    );
}

#[test]
fn sam_rest_api_body_and_s3_locations() {
    let text = "Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        openapi: 3.0.1
        paths:
          /h:
            get:
              x-amazon-apigateway-integration: {type: mock, responses: {default: {statusCode: 204}}}
  Sm:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionS3Location: {Bucket: b, Key: k}
";
    let e = load_api_text("cfn.yaml", text, &[]).unwrap_err();
    let found = errors(&e);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains(
            "#/Resources/Sm/Properties/DefinitionS3Location: an S3 location cannot be read locally"
        ),
        "{found:#?}"
    );
    let with_stage = format!(
        "{text}  Stage:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      RestApiId: !Ref Api\n      StageName: v1\n      Variables: {{arn: !Sub 'arn:${{AWS::Partition}}:x'}}\n"
    )
    .replace(
        "  Sm:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n      DefinitionS3Location: {Bucket: b, Key: k}\n",
        "",
    );
    let staged = load_api_text("cfn.yaml", &with_stage, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(staged.api.stage, "v1");
    assert_eq!(staged.api.stage_variables["arn"], "arn:aws:x");
    let ok = load_api_text("cfn.yaml", &text.replace("  Sm:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n      DefinitionS3Location: {Bucket: b, Key: k}\n", ""), &[]).unwrap();
    assert_eq!(
        ok.api.routes[0].method.integration.responses[0].status_code,
        204
    );
}

#[test]
fn sam_template_without_api_is_an_error() {
    let e = load_api_text("t.yaml", "Resources:\n  Q: {Type: AWS::SQS::Queue}\n", &[]).unwrap_err();
    assert_eq!(e.errors().next().unwrap().kind, ErrorKind::Missing);
}

// === Swagger 2 and OpenAPI 3 ===

const SWAGGER2: &str = r#"
swagger: '2.0'
info: {title: orders, version: '1'}
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
x-amazon-apigateway-request-validator: all
x-amazon-apigateway-api-key-source: HEADER
securityDefinitions:
  api_key: {type: apiKey, name: x-api-key, in: header}
consumes: [application/json]
paths:
  /orders/{id}:
    parameters:
      - {name: id, in: path, required: true, type: string}
    put:
      security: [{api_key: []}]
      parameters:
        - {name: q, in: query, required: true, type: string}
        - {name: X-Trace, in: header, required: true, type: string}
        - {name: opt, in: query, type: string}
        - {name: body, in: body, schema: {$ref: '#/definitions/Order'}}
      responses:
        '200': {description: ok, headers: {X-Id: {type: string}}}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: post
        uri: https://example.com/orders/{id}
        passthroughBehavior: when_no_templates
        timeoutInMillis: 1500
        requestParameters:
          integration.request.path.id: method.request.path.id
          integration.request.header.X-Trace: method.request.header.X-Trace
        responses:
          "2\\d{2}":
            statusCode: 200
            responseParameters:
              method.response.header.X-Id: integration.response.body.order.id
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    statusCode: 404
    responseParameters:
      gatewayresponse.header.Access-Control-Allow-Origin: "'*'"
    responseTemplates:
      application/json: '{"error": $context.error.messageString}'
definitions:
  Order:
    type: object
    required: [item]
    properties:
      item: {$ref: '#/definitions/Item'}
  Item:
    type: string
    minLength: 2
"#;

fn check_orders_api(d: &config::ApiDocument) {
    let route = &d.api.routes[0];
    assert_eq!(
        (route.http_method.as_str(), route.path_template.as_str()),
        ("PUT", "/orders/{id}")
    );
    let m = &route.method;
    assert!(m.api_key_required);
    let v = m
        .request_validator
        .as_ref()
        .expect("default validator applies");
    assert!(v.validate_request_body && v.validate_request_parameters);
    let required: Vec<(ParameterLocation, &str)> = m
        .required_parameters()
        .map(|p| (p.location, p.name.as_str()))
        .collect();
    assert_eq!(
        required,
        vec![
            (ParameterLocation::Header, "X-Trace"),
            (ParameterLocation::Path, "id"),
            (ParameterLocation::QueryString, "q")
        ]
    );
    assert_eq!(m.request_parameters.len(), 4);
    let model = &m.request_models["application/json"];
    assert_eq!(model.name, "Order");
    assert!(model.is_valid(&serde_json::json!({"item": "ab"})));
    assert!(
        !model.is_valid(&serde_json::json!({"item": "a"})),
        "$ref between models is followed"
    );
    assert!(!model.is_valid(&serde_json::json!({})));
    let i = &m.integration;
    assert_eq!(
        i.kind,
        IntegrationType::Http {
            uri: "https://example.com/orders/{id}".into(),
            http_method: "POST".into()
        }
    );
    assert_eq!(i.passthrough_behavior, PassthroughBehavior::WhenNoTemplates);
    assert_eq!(i.timeout, std::time::Duration::from_millis(1500));
    assert_eq!(
        i.request_parameters,
        vec![
            (
                IntegrationRequestTarget::Path("id".into()),
                ParameterSource::MethodRequestPath("id".into())
            ),
            (
                IntegrationRequestTarget::Header("X-Trace".into()),
                ParameterSource::MethodRequestHeader("X-Trace".into())
            ),
        ]
    );
    let r = &i.responses[0];
    assert!(r.selection_pattern.as_ref().unwrap().is_match("204"));
    assert_eq!(
        r.response_parameters[0].1,
        ParameterSource::IntegrationResponseBody(Some("$.order.id".into()))
    );
    assert_eq!(m.method_responses[&200].headers, vec!["X-Id".to_string()]);
    let g = &d.api.gateway_responses[&GatewayResponseType::MissingAuthenticationToken];
    assert_eq!(g.status_code, Some(404));
    assert_eq!(
        g.response_parameters[0],
        (
            "Access-Control-Allow-Origin".to_string(),
            ParameterSource::Static("*".into())
        )
    );
    assert_eq!(
        g.response_templates["application/json"],
        r#"{"error": $context.error.messageString}"#
    );
}

#[test]
fn swagger2_document_loads() {
    let d = load_api_text("orders.yaml", SWAGGER2, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    check_orders_api(&d);
}

const OPENAPI3: &str = r#"
openapi: 3.0.1
info: {title: orders, version: '1'}
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
x-amazon-apigateway-request-validator: all
x-amazon-apigateway-api-key-source: HEADER
paths:
  /orders/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    put:
      security: [{api_key: []}]
      parameters:
        - {name: q, in: query, required: true, schema: {type: string}}
        - {name: X-Trace, in: header, required: true, schema: {type: string}}
        - {name: opt, in: query, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses:
        '200': {description: ok, headers: {X-Id: {schema: {type: string}}}}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: post
        uri: https://example.com/orders/{id}
        passthroughBehavior: when_no_templates
        timeoutInMillis: 1500
        requestParameters:
          integration.request.path.id: method.request.path.id
          integration.request.header.X-Trace: method.request.header.X-Trace
        responses:
          "2\\d{2}":
            statusCode: 200
            responseParameters:
              method.response.header.X-Id: integration.response.body.order.id
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    statusCode: 404
    responseParameters:
      gatewayresponse.header.Access-Control-Allow-Origin: "'*'"
    responseTemplates:
      application/json: '{"error": $context.error.messageString}'
components:
  securitySchemes:
    api_key: {type: apiKey, name: x-api-key, in: header}
  schemas:
    Order:
      type: object
      required: [item]
      properties:
        item: {$ref: '#/components/schemas/Item'}
    Item:
      type: string
      minLength: 2
"#;

#[test]
fn openapi3_document_loads_the_same() {
    let d = load_api_text("orders.yaml", OPENAPI3, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    check_orders_api(&d);
}

#[test]
fn openapi3_json_document_loads_the_same() {
    let value: serde_json::Value = serde_saphyr::from_str(OPENAPI3).expect("yaml");
    let d =
        load_api_text("orders.json", &value.to_string(), &[]).unwrap_or_else(|e| panic!("{e:#}"));
    check_orders_api(&d);
}

#[test]
fn any_method_and_api_keys_and_strict_selection_from_stepgate_yaml() {
    let dir = fixture(&[
        (
            "api.yaml",
            "openapi: 3.0.1\npaths:\n  /{proxy+}:\n    x-amazon-apigateway-any-method:\n      x-amazon-apigateway-integration: {type: mock, responses: {default: {statusCode: 200}}}\n",
        ),
        (
            "stepgate.yaml",
            "api: [api.yaml]\nstage: prod\nstage_in_path: true\nstage_variables: {a: b}\nselection: aws-strict\napi_keys: [k1]\nbackend: {type: aws, region: eu-west-1, endpoint_url: 'http://localhost:4566'}\n",
        ),
    ]);
    let options = config::LoadOptions {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    };
    let c = config::load_with(&dir.path().join("stepgate.yaml"), &options)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(c.api.routes[0].http_method, "ANY");
    assert_eq!(c.api.routes[0].path_template, "/{proxy+}");
    assert_eq!(c.api.stage, "prod");
    assert!(c.api.stage_in_path);
    assert_eq!(c.api.stage_variables["a"], "b");
    assert_eq!(c.api.selection_mode, SelectionMode::AwsStrict);
    assert_eq!(c.api.api_keys, vec!["k1".to_string()]);
    let config::Backend::Aws(aws) = &c.backend else {
        panic!("aws backend")
    };
    assert_eq!(aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(aws.endpoint_url.as_deref(), Some("http://127.0.0.1:9"));
}

#[test]
fn warnings_do_not_stop_loading() {
    let text = format!(
        "{MINIMAL_HEAD}  /x:\n    get:\n      responses: {{'200': {{description: ok}}}}\n      x-amazon-apigateway-integration:\n        type: aws\n        uri: arn:aws:apigateway:us-east-1:sqs:action/SendMessage\n        responses:\n          default: {{statusCode: 500}}\n"
    );
    let d = load_api_text("api.yaml", &text, &[]).unwrap_or_else(|e| panic!("{e:#}"));
    let kinds: Vec<ErrorKind> = d.warnings.iter().map(|w| w.kind).collect();
    assert!(d.warnings.iter().all(|w| w.severity == Severity::Warning));
    assert!(kinds.contains(&ErrorKind::Unsupported), "{kinds:?}");
    assert!(
        d.warnings
            .iter()
            .any(|w| w.message.contains("declares no 500 response")),
        "{:#?}",
        d.warnings
    );
}

// === stepgate check through the binary ===

fn stepgate(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run stepgate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_seed_config_passes_with_two_warnings() {
    let (code, stdout, stderr) = stepgate(&["check"], &repo());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("config/stepgate.yaml: ok, 2 routes, 1 state machine, 2 warnings\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  route POST /execute -> aws states:StartExecution\n"),
        "{stdout}"
    );
    assert!(stderr.contains("warning: selection pattern `.*CREATION_FAILED.*` matches no HTTP status code, so API Gateway would never select it"), "{stderr}");
    assert!(
        stderr.contains("  --> config/swagger.yaml:61:13\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  --> config/swagger.yaml:73:27\n"),
        "{stderr}"
    );
    let (code, _, _) = stepgate(&["check", "--deny-warnings"], &repo());
    assert_eq!(code, 1);
}

#[test]
fn check_reports_errors_and_exits_1() {
    let dir = fixture(&[(
        "api.yaml",
        "openapi: 3.0.1\npaths:\n  /x:\n    get:\n      x-amazon-apigateway-integration:\n        type: aws\n        uri: !Sub arn:aws:apigateway:${AWS::Region}:states:action/${Action}\n",
    )]);
    let (code, stdout, stderr) = stepgate(&["check", "api.yaml"], dir.path());
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(stdout, "api.yaml: 1 error, 0 warnings\n");
    assert!(
        stderr.starts_with(
            "error: Fn::Sub variable `Action` has no value (give it with --var Action=VALUE"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "  --> api.yaml:7:19\n   |\n 5 |       x-amazon-apigateway-integration:\n 6 |         type: aws\n 7 |         uri: !Sub arn:aws:apigateway:${AWS::Region}:states:action/${Action}\n   |                   ^\n   |\n   = at api.yaml#/paths/~1x/get/x-amazon-apigateway-integration/uri/Fn::Sub\n"
        ),
        "{stderr}"
    );
    let (code, stdout, stderr) = stepgate(
        &["check", "api.yaml", "--var", "Action=StartExecution"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("api.yaml: ok, 1 route, 0 state machines, 0 warnings"),
        "{stdout}"
    );
}

// === bad input never panics ===

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn seed() -> String {
        std::fs::read_to_string(repo().join("config/swagger.yaml")).expect("seed swagger")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Cutting, duplicating or overwriting part of the seed swagger gives a result or
        /// an error, never a panic.
        #[test]
        fn mangled_seed_swagger_loads_or_fails_cleanly(start in 0usize..4000, len in 0usize..200, junk in "[ -~\n]{0,12}") {
            let text = seed();
            let start = start.min(text.len());
            let end = (start + len).min(text.len());
            let mangled = format!("{}{}{}", &text[..start], junk, &text[end..]);
            let dir = fixture(&[("api.yaml", &mangled)]);
            match config::load_api(&dir.path().join("api.yaml"), &vars(SEED_VARS)) {
                Ok(d) => prop_assert!(d.api.routes.len() <= 2),
                Err(e) => prop_assert!(e.errors().count() >= 1),
            }
        }

        /// Any selection pattern compiles or is rejected; matching never panics.
        #[test]
        fn any_selection_pattern_compiles_or_is_rejected(pattern in "[\\\\.()\\[\\]{}*+?|^$a-z0-9&!=<>QEpPdDwWsSbB:-]{0,16}", subject in "[ -~\n]{0,12}") {
            if let Ok(p) = config::SelectionPattern::new(&pattern) {
                let _ = p.is_match(&subject);
                let _ = p.can_match_status_code();
            }
        }
    }
}

// === state machines ===

#[test]
fn state_machines_are_validated_and_lambda_answers_checked() {
    let dir = fixture(&[
        (
            "api.yaml",
            "openapi: 3.0.1\npaths:\n  /x:\n    post:\n      x-amazon-apigateway-integration: {type: mock, responses: {default: {statusCode: 200}}}\n",
        ),
        (
            "good.asl.json",
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:missing", "End": true}}}"#,
        ),
        ("bad.asl.yaml", "StartAt: A\nStates:\n  A: {Type: Pass}\n"),
        (
            "stepgate.yaml",
            "api: api.yaml\nstate_machines:\n  Good: good.asl.json\n  Bad: {file: bad.asl.yaml, type: EXPRESS}\n  Inline: {definition: {StartAt: A}}\n",
        ),
    ]);
    let e = config::load(&dir.path().join("stepgate.yaml")).unwrap_err();
    let found: Vec<(String, ErrorKind, Severity)> = e
        .diagnostics()
        .iter()
        .map(|d| (d.pointer.clone(), d.kind, d.severity))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "/state_machines/Good".to_string(),
                ErrorKind::NoLocalAnswer,
                Severity::Warning
            ),
            (
                "/state_machines/Bad".to_string(),
                ErrorKind::StateMachine,
                Severity::Error
            ),
            (
                "/state_machines/Inline".to_string(),
                ErrorKind::StateMachine,
                Severity::Error
            ),
        ]
    );
    let inline = &e.diagnostics()[2];
    assert_eq!(
        inline.message,
        "state machine `Inline`: Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    );
    assert!(
        e.diagnostics()[0]
            .message
            .contains("calls Lambda function `missing`, which has no local answer")
    );
    assert_eq!(e.diagnostics()[0].position, Some((3, 9)));
}

#[test]
fn check_tells_api_documents_from_stepgate_yaml() {
    let pretty = "{\n  \"openapi\": \"3.0.1\",\n  \"paths\": {\n    \"/x\": {\"get\": {\"x-amazon-apigateway-integration\": {\"type\": \"mock\", \"responses\": {\"default\": {\"statusCode\": 200}}}}}\n  }\n}\n";
    let dir = fixture(&[
        ("api.json", pretty),
        (
            "t.yaml",
            "Resources:\n  Api:\n    Type: AWS::ApiGateway::RestApi\n    Properties:\n      Body: !Sub\n        - '${X}'\n        - {X: y}\n",
        ),
    ]);
    let (code, stdout, stderr) = stepgate(&["check", "api.json"], dir.path());
    assert_eq!(
        (code, stdout.as_str()),
        (
            0,
            "api.json: ok, 1 route, 0 state machines, 0 warnings\n  route GET /x -> mock\n"
        ),
        "{stderr}"
    );
    let (code, stdout, _) = stepgate(&["check", "t.yaml"], dir.path());
    assert_eq!(code, 1);
    assert!(stdout.starts_with("t.yaml: "), "{stdout}");
}

// === native routes ===

#[test]
fn native_routes_in_stepgate_yaml() {
    let c = config::load(&repo().join("config/stepgate.routes.yaml"))
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(c.api.routes.len(), 3);
    let post = &c.api.routes[0];
    assert_eq!(
        (post.http_method.as_str(), post.path_template.as_str()),
        ("POST", "/orders")
    );
    assert_eq!(
        post.method.integration.kind,
        IntegrationType::Aws {
            service: "states".into(),
            region: "us-east-1".into(),
            action: "StartSyncExecution".into()
        }
    );
    assert!(
        post.method.integration.request_templates["application/json"]
            .source()
            .contains(
                "\"stateMachineArn\": \"arn:aws:states:us-east-1:123456789012:stateMachine:Orders\""
            )
    );
    assert_eq!(
        post.method.integration.passthrough_behavior,
        PassthroughBehavior::Never
    );
    assert!(
        post.method.integration.responses[1]
            .selection_pattern
            .as_ref()
            .unwrap()
            .is_match("States.TaskFailed: boom")
    );
    let get = &c.api.routes[1];
    assert_eq!(
        get.method
            .required_parameters()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["id"]
    );
    assert_eq!(
        c.api.routes[2].method.integration.kind,
        IntegrationType::Lambda {
            region: "us-east-1".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:quote".into()
        }
    );
    assert_eq!(c.state_machines[0].kind, StateMachineType::Express);
    // the lint sees the replaceAll fix; the only warning is the text-only selection pattern
    // (the Lambda route's `.*Unknown SKU.*` matches errorMessages, as on API Gateway)
    assert_eq!(
        c.warnings.iter().map(|w| w.kind).collect::<Vec<_>>(),
        vec![ErrorKind::NonPortable]
    );
}

#[test]
fn native_routes_errors_name_the_route() {
    let dir = fixture(&[(
        "stepgate.yaml",
        "routes:\n  FETCH /x: {type: mock}\n  GET /y:\n    type: aws\n    uri: nope\n  GET /z:\n    type: mock\n    apiKeyRequired: maybe\n",
    )]);
    let e = config::load(&dir.path().join("stepgate.yaml")).unwrap_err();
    let found: Vec<(String, Option<(usize, usize)>)> = e
        .errors()
        .map(|d| (d.pointer.clone(), d.position))
        .collect();
    assert_eq!(
        found,
        vec![
            ("/routes/FETCH ~1x".to_string(), Some((2, 13))),
            ("/routes/GET ~1y/uri".to_string(), Some((5, 10))),
            ("/routes/GET ~1z/apiKeyRequired".to_string(), Some((8, 21))),
        ]
    );
}

// === Lambda custom integrations ===

const LAMBDA_SAM: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  QuoteFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: quote
      Runtime: python3.12
      Handler: app.handler
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      DefinitionBody:
        openapi: 3.0.1
        info: {title: quotes, version: '1'}
        paths:
          /quotes:
            post:
              x-amazon-apigateway-integration:
                type: aws
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${QuoteFunction.Arn}:live/invocations
                responses:
                  default: {statusCode: 200}
                  "4\\d{2}": {statusCode: 400}
          /prices:
            post:
              x-amazon-apigateway-integration:
                type: aws
                httpMethod: POST
                uri:
                  Fn::Join: ["", ["arn:aws:apigateway:", !Ref "AWS::Region", ":lambda:path/2015-03-31/functions/", !GetAtt QuoteFunction.Arn, "/invocations"]]
                responses:
                  default: {statusCode: 200}
"#;

#[test]
fn lambda_integration_uris_resolve_from_the_template() {
    let dir = fixture(&[
        ("template.yaml", LAMBDA_SAM),
        (
            "stepgate.yaml",
            "api: template.yaml\nvariables: {AWS::Region: eu-west-1}\nlocal:\n  lambda:\n    quote: {return: {price: 1}}\n",
        ),
    ]);
    let c = config::load(&dir.path().join("stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"));
    let kind = |path: &str| {
        c.api
            .routes
            .iter()
            .find(|r| r.path_template == path)
            .map(|r| r.method.integration.kind.clone())
    };
    assert_eq!(
        kind("/quotes"),
        Some(IntegrationType::Lambda {
            region: "eu-west-1".into(),
            function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:quote:live".into()
        })
    );
    assert_eq!(
        kind("/prices"),
        Some(IntegrationType::Lambda {
            region: "eu-west-1".into(),
            function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:quote".into()
        })
    );
    // `4\d{2}` is a status-code rule, which a Lambda integration never matches.
    let warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`4\\d{2}` looks like a status code rule")
                && w.contains("errorMessage")),
        "{warnings:#?}"
    );
    assert!(
        !c.warnings
            .iter()
            .any(|w| w.kind == ErrorKind::NoLocalAnswer),
        "{warnings:#?}"
    );
}

#[test]
fn lambda_integration_without_a_local_answer_is_a_warning() {
    let dir = fixture(&[
        ("template.yaml", LAMBDA_SAM),
        ("stepgate.yaml", "api: template.yaml\n"),
    ]);
    let c = config::load(&dir.path().join("stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"));
    let missing: Vec<String> = c
        .warnings
        .iter()
        .filter(|w| w.kind == ErrorKind::NoLocalAnswer)
        .map(|w| w.message.clone())
        .collect();
    assert_eq!(missing.len(), 2, "{missing:#?}");
    assert!(
        missing[0].contains("POST /quotes invokes Lambda function `quote`"),
        "{missing:#?}"
    );
    assert!(missing[0].contains("local.lambda.quote"), "{missing:#?}");
}

#[test]
fn malformed_lambda_uri_is_an_error_at_its_pointer() {
    let dir = fixture(&[(
        "stepgate.yaml",
        "routes:\n  GET /x:\n    type: aws\n    uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/quote/invocations\n  GET /y:\n    type: aws\n    uri: arn:aws:apigateway:us-east-1:lambda:path/functions/x\n",
    )]);
    let e = config::load(&dir.path().join("stepgate.yaml")).unwrap_err();
    let found: Vec<(String, String)> = e
        .errors()
        .map(|d| (d.pointer.clone(), d.message.clone()))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, "/routes/GET ~1x/uri");
    assert!(
        found[0]
            .1
            .contains("`quote` in the Lambda integration URI is not a function ARN"),
        "{found:#?}"
    );
    assert_eq!(found[1].0, "/routes/GET ~1y/uri");
    assert!(
        found[1].1.contains("is not a Lambda integration URI"),
        "{found:#?}"
    );
}

// === stepgate serve through the binary: the access log ===

/// A directory holding `stepgate.yaml` and an API with one mock route, `GET /ping`.
fn ping_api() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("api.yaml"),
        "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /ping:\n    get:\n      \
         x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates:\n          \
         application/json: '{\"statusCode\": 200}'\n        responses:\n          default: {statusCode: 200}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("stepgate.yaml"), "api: api.yaml\nstage: test\nbackend: local\n").unwrap();
    dir
}

/// One `GET` over a fresh connection; the status line and the `x-amzn-RequestId` header.
fn get(address: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.lines().next().unwrap_or("").to_string();
    let id = response
        .lines()
        .find_map(|l| l.strip_prefix("x-amzn-requestid: "))
        .unwrap_or_else(|| panic!("no request id in {response:?}"))
        .to_string();
    (status, id)
}

#[test]
fn serve_writes_one_access_line_per_request_while_it_runs() {
    use std::io::{BufRead, BufReader};
    let dir = ping_api();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(["serve", "stepgate.yaml", "--listen", "127.0.0.1:0", "--sfn-listen", "off"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("stepgate serve starts");
    let mut first = String::new();
    // The reader stays open: the routes are printed after the address.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).expect("serve prints its address");
    let address = first.trim().rsplit("http://").next().unwrap_or_default().to_string();

    let ids: Vec<String> = (0..3)
        .map(|_| {
            let (status, id) = get(&address, "/ping");
            assert_eq!(status, "HTTP/1.1 200 OK");
            id
        })
        .collect();

    // The lines arrive while the server runs (its workers write them when they go idle),
    // one per request, carrying each response's request id.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut access = Vec::new();
    while access.len() < ids.len() {
        match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(line) if line.contains("stepgate::access") => access.push(line),
            Ok(_) => {}
            Err(e) => panic!("only {} access lines after 10 s ({e}): {access:#?}", access.len()),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(stdout);
    // Workers write their batches independently, so the lines may come in any order.
    for id in &ids {
        let line = access.iter().find(|l| l.contains(&format!("requestId=\"{id}\""))).unwrap_or_else(|| panic!("no line for {id}: {access:#?}"));
        assert!(line.contains("httpMethod=GET path=\"/ping\"") && line.contains("status=200"), "{line}");
    }
}

/// Runs `stepgate ARGS` in `cwd` with stdout a pipe nobody reads (as in `stepgate serve |
/// head -0`: printing the banner fails) and checks it is still serving a second later.
fn keeps_running_with_stdout_closed(args: &[&str], cwd: &Path) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(args)
        .current_dir(cwd)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("stepgate starts");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let exited = child.try_wait().ok().flatten();
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    assert!(exited.is_none(), "{args:?} exited ({exited:?}): {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn serve_keeps_serving_when_nobody_reads_its_stdout() {
    let dir = ping_api();
    keeps_running_with_stdout_closed(&["serve", "stepgate.yaml", "--listen", "127.0.0.1:0", "--sfn-listen", "off"], dir.path());
}

#[test]
fn sfn_keeps_serving_when_nobody_reads_its_stdout() {
    let dir = tempfile::tempdir().unwrap();
    keeps_running_with_stdout_closed(&["sfn", "--in-memory", "--listen", "127.0.0.1:0"], dir.path());
}
