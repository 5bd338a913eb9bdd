//! The AWS backend: [`StepFunctions`] over aws-sdk-sfn, configured through aws-config's
//! standard chain (environment, profile, web identity, ECS/IMDS) or static credentials, with
//! an optional `endpoint_url` (LocalStack, moto, Step Functions Local, stepgate's own local
//! API) and the SDK's retry and timeout settings ([`AwsBackendConfig`]).
//!
//! Responses: every call keeps the raw JSON body the service sent (a per-call interceptor)
//! and reads it into the `sfn::model` shapes, so what the gateway hands to response
//! templates is what AWS answered, history event details included. Errors: service errors
//! keep their code, message and HTTP status ([`Error::Service`]); no connection, timeouts and
//! other transport failures map to [`Error::Connect`] / [`Error::Timeout`] / [`Error::Other`].
//!
//! With a custom endpoint, the `sync-` host prefix of StartSyncExecution is dropped (an
//! interceptor unsets it) so the call reaches that endpoint. SDK types never leave this file.
//! Uses `sfn` and the trait in `backend`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sfn as sdk;
use aws_sdk_sfn::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_sfn::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::de::DeserializeOwned;

use super::{Error, StepFunctions};
use crate::sfn::AwsError;
use crate::sfn::model::*;

/// How to reach Step Functions. `Default` is the standard credential chain and region,
/// the AWS endpoint, one attempt per call (a gateway does not retry integration calls),
/// and the SDK's default timeouts.
#[derive(Clone, Debug)]
pub struct AwsBackendConfig {
    /// Region (`us-east-1`); `None` uses the chain (`AWS_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// Endpoint URL for a local or compatible service (`http://127.0.0.1:4566`).
    pub endpoint_url: Option<String>,
    /// Named profile from `~/.aws/config`; `None` uses `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    /// Fixed credentials instead of the chain (local endpoints, tests).
    pub static_credentials: Option<StaticCredentials>,
    /// Attempts per call, including the first; 1 disables retries.
    pub max_attempts: u32,
    /// Time allowed to open a connection.
    pub connect_timeout: Option<Duration>,
    /// Time allowed between bytes of the response.
    pub read_timeout: Option<Duration>,
    /// Time allowed for a whole call, retries included.
    pub operation_timeout: Option<Duration>,
    /// Time allowed for one attempt.
    pub attempt_timeout: Option<Duration>,
    /// Drop the `sync-` host prefix of StartSyncExecution. `None`: as
    /// `AWS_DISABLE_HOST_PREFIX_INJECTION` says, else exactly when a custom endpoint is set
    /// (AWS needs the prefix; `sync-127.0.0.1` and `sync-localhost` do not resolve).
    pub disable_host_prefix: Option<bool>,
}

impl Default for AwsBackendConfig {
    fn default() -> Self {
        AwsBackendConfig {
            region: None,
            endpoint_url: None,
            profile: None,
            static_credentials: None,
            max_attempts: 1,
            connect_timeout: None,
            read_timeout: None,
            operation_timeout: None,
            attempt_timeout: None,
            disable_host_prefix: None,
        }
    }
}

/// An access key pair (and optional session token).
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The shared AWS config every AWS client of stepgate starts from: the default chain
/// (environment, profile files, IMDS), narrowed by the region, profile or fixed credentials
/// the configuration gives. Endpoint, retry and timeout settings are applied per client.
pub(crate) async fn load_shared_config(
    region: Option<&str>,
    profile: Option<&str>,
    static_credentials: Option<&StaticCredentials>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(c) = static_credentials {
        loader = loader.credentials_provider(sdk::config::Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            c.session_token.clone(),
            None,
            "stepgate-static",
        ));
    }
    loader.load().await
}

/// Step Functions through aws-sdk-sfn.
#[derive(Clone, Debug)]
pub struct AwsBackend {
    client: sdk::Client,
}

impl AwsBackend {
    /// Builds the client: loads the shared AWS config (credentials, region), then applies
    /// the endpoint, retry and timeout settings to the Step Functions client only (so
    /// credential providers such as STS still reach AWS).
    pub async fn new(config: &AwsBackendConfig) -> AwsBackend {
        let shared = load_shared_config(
            config.region.as_deref(),
            config.profile.as_deref(),
            config.static_credentials.as_ref(),
        )
        .await;
        let mut builder = sdk::config::Builder::from(&shared).retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(config.max_attempts.max(1)),
        );
        let mut timeouts = aws_smithy_types::timeout::TimeoutConfig::builder();
        if let Some(t) = config.connect_timeout {
            timeouts = timeouts.connect_timeout(t);
        }
        if let Some(t) = config.read_timeout {
            timeouts = timeouts.read_timeout(t);
        }
        if let Some(t) = config.operation_timeout {
            timeouts = timeouts.operation_timeout(t);
        }
        if let Some(t) = config.attempt_timeout {
            timeouts = timeouts.operation_attempt_timeout(t);
        }
        builder = builder.timeout_config(timeouts.build());
        if let Some(url) = &config.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        if drop_host_prefix(config, shared.endpoint_url().is_some()) {
            builder = builder.interceptor(NoHostPrefix);
        }
        AwsBackend {
            client: sdk::Client::from_conf(builder.build()),
        }
    }
}

/// Whether to drop the `sync-` host prefix: as configured; else as
/// `AWS_DISABLE_HOST_PREFIX_INJECTION` says (the SDKs' documented setting); else exactly
/// when a custom endpoint is in use (from the config, `AWS_ENDPOINT_URL` or a profile).
fn drop_host_prefix(config: &AwsBackendConfig, shared_endpoint: bool) -> bool {
    if let Some(explicit) = config.disable_host_prefix {
        return explicit;
    }
    match std::env::var("AWS_DISABLE_HOST_PREFIX_INJECTION") {
        Ok(v) if v.eq_ignore_ascii_case("true") => true,
        Ok(v) if v.eq_ignore_ascii_case("false") => false,
        _ => config.endpoint_url.is_some() || shared_endpoint,
    }
}

// === interceptors ===

/// Unsets the operation's endpoint prefix (`sync-` for StartSyncExecution) before the
/// endpoint is applied, like the SDKs' `disable_host_prefix_injection` setting.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "stepgate::NoHostPrefix"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<EndpointPrefix>();
        Ok(())
    }
}

/// Keeps the raw body of the last response of one call.
#[derive(Clone, Debug, Default)]
struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().map(|mut b| b.take()).unwrap_or(None)
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "stepgate::RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response().body().bytes().map(<[u8]>::to_vec);
        if let Ok(mut slot) = self.0.lock() {
            *slot = body;
        }
        Ok(())
    }
}

// === results ===

/// Sends one fluent-builder call with a [`RawBody`] attached and reads the answer
/// ([`finish`]): `send!(self.client.describe_execution().execution_arn(arn))`.
macro_rules! send {
    ($builder:expr) => {{
        let raw = RawBody::default();
        let result = $builder.customize().interceptor(raw.clone()).send().await;
        finish(&raw, result)
    }};
}

/// Turns the SDK's result into ours: on success the captured body read as `T`.
fn finish<T: DeserializeOwned, O, E>(
    raw: &RawBody,
    result: Result<O, SdkError<E, HttpResponse>>,
) -> Result<T, Error>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => {
            let body = raw
                .take()
                .ok_or_else(|| Error::Other("the response body was not kept".into()))?;
            let body = if body.iter().all(u8::is_ascii_whitespace) {
                b"{}".to_vec()
            } else {
                body
            };
            serde_json::from_slice(&body).map_err(|e| {
                Error::Other(format!(
                    "unexpected Step Functions response ({e}): {}",
                    String::from_utf8_lossy(&body[..body.len().min(512)])
                ))
            })
        }
        Err(e) => Err(map_error(e)),
    }
}

/// SDK error → service error (code, message, status) or transport failure.
fn map_error<E>(err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let text = describe(&err);
    match &err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let raw_body = se.raw().body().bytes().unwrap_or_default();
            let from_body = AwsError::from_body(status, raw_body);
            let e = se.err();
            let code = e
                .code()
                .map(str::to_owned)
                .or_else(|| from_body.as_ref().map(|b| b.type_.clone()));
            let message = e
                .message()
                .map(str::to_owned)
                .or_else(|| from_body.as_ref().map(|b| b.message.clone()));
            match code {
                Some(code) => {
                    Error::Service(AwsError::new(code, message.unwrap_or_default(), status))
                }
                None => Error::Service(AwsError::new(
                    if status >= 500 {
                        "InternalFailure"
                    } else {
                        "UnknownError"
                    },
                    message.unwrap_or_else(|| String::from_utf8_lossy(raw_body).into_owned()),
                    status,
                )),
            }
        }
        SdkError::TimeoutError(_) => Error::Timeout(text),
        SdkError::DispatchFailure(d) => match d.as_connector_error() {
            Some(c) if c.is_timeout() => Error::Timeout(text),
            Some(c) if c.is_io() => Error::Connect(text),
            _ => Error::Other(text),
        },
        _ => Error::Other(text),
    }
}

/// An error with its chain of causes, one line.
fn describe<E: std::error::Error>(e: &E) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(e).to_string()
}

// === inputs ===

fn included_data(v: Option<IncludedData>) -> Option<sdk::types::IncludedData> {
    v.map(|v| sdk::types::IncludedData::from(v.as_str()))
}

fn logging(c: LoggingConfiguration) -> sdk::types::LoggingConfiguration {
    sdk::types::LoggingConfiguration::builder()
        .set_level(c.level.map(|l| sdk::types::LogLevel::from(l.as_str())))
        .set_include_execution_data(c.include_execution_data)
        .set_destinations(c.destinations.map(|ds| {
            ds.into_iter()
                .map(|d| {
                    sdk::types::LogDestination::builder()
                        .set_cloud_watch_logs_log_group(d.cloud_watch_logs_log_group.map(|g| {
                            sdk::types::CloudWatchLogsLogGroup::builder()
                                .set_log_group_arn(g.log_group_arn)
                                .build()
                        }))
                        .build()
                })
                .collect()
        }))
        .build()
}

fn encryption(c: EncryptionConfiguration) -> Result<sdk::types::EncryptionConfiguration, Error> {
    sdk::types::EncryptionConfiguration::builder()
        .set_kms_key_id(c.kms_key_id)
        .set_kms_data_key_reuse_period_seconds(c.kms_data_key_reuse_period_seconds)
        .r#type(sdk::types::EncryptionType::from(c.type_.as_str()))
        .build()
        .map_err(|e| Error::Other(format!("encryptionConfiguration: {e}")))
}

#[async_trait]
impl StepFunctions for AwsBackend {
    async fn start_execution(&self, i: StartExecutionInput) -> Result<StartExecutionOutput, Error> {
        send!(
            self.client
                .start_execution()
                .state_machine_arn(i.state_machine_arn)
                .set_name(i.name)
                .set_input(i.input)
                .set_trace_header(i.trace_header)
        )
    }

    async fn start_sync_execution(
        &self,
        i: StartSyncExecutionInput,
    ) -> Result<StartSyncExecutionOutput, Error> {
        send!(
            self.client
                .start_sync_execution()
                .state_machine_arn(i.state_machine_arn)
                .set_name(i.name)
                .set_input(i.input)
                .set_trace_header(i.trace_header)
                .set_included_data(
                    i.included_data
                        .map(|v| sdk::types::IncludedData::from(v.as_str()))
                )
        )
    }

    async fn describe_execution(
        &self,
        i: DescribeExecutionInput,
    ) -> Result<DescribeExecutionOutput, Error> {
        send!(
            self.client
                .describe_execution()
                .execution_arn(i.execution_arn)
                .set_included_data(included_data(i.included_data))
        )
    }

    async fn stop_execution(&self, i: StopExecutionInput) -> Result<StopExecutionOutput, Error> {
        send!(
            self.client
                .stop_execution()
                .execution_arn(i.execution_arn)
                .set_error(i.error)
                .set_cause(i.cause)
        )
    }

    async fn list_executions(&self, i: ListExecutionsInput) -> Result<ListExecutionsOutput, Error> {
        send!(
            self.client
                .list_executions()
                .set_state_machine_arn(i.state_machine_arn)
                .set_status_filter(
                    i.status_filter
                        .map(|s| sdk::types::ExecutionStatus::from(s.as_str()))
                )
                .set_max_results(i.max_results)
                .set_next_token(i.next_token)
                .set_map_run_arn(i.map_run_arn)
                .set_redrive_filter(
                    i.redrive_filter
                        .map(|f| sdk::types::ExecutionRedriveFilter::from(f.as_str()))
                )
        )
    }

    async fn get_execution_history(
        &self,
        i: GetExecutionHistoryInput,
    ) -> Result<GetExecutionHistoryOutput, Error> {
        send!(
            self.client
                .get_execution_history()
                .execution_arn(i.execution_arn)
                .set_max_results(i.max_results)
                .set_reverse_order(i.reverse_order)
                .set_next_token(i.next_token)
                .set_include_execution_data(i.include_execution_data)
        )
    }

    async fn send_task_success(&self, i: SendTaskSuccessInput) -> Result<Empty, Error> {
        send!(
            self.client
                .send_task_success()
                .task_token(i.task_token)
                .output(i.output)
        )
    }

    async fn send_task_failure(&self, i: SendTaskFailureInput) -> Result<Empty, Error> {
        send!(
            self.client
                .send_task_failure()
                .task_token(i.task_token)
                .set_error(i.error)
                .set_cause(i.cause)
        )
    }

    async fn send_task_heartbeat(&self, i: SendTaskHeartbeatInput) -> Result<Empty, Error> {
        send!(self.client.send_task_heartbeat().task_token(i.task_token))
    }

    async fn describe_state_machine(
        &self,
        i: DescribeStateMachineInput,
    ) -> Result<DescribeStateMachineOutput, Error> {
        send!(
            self.client
                .describe_state_machine()
                .state_machine_arn(i.state_machine_arn)
                .set_included_data(included_data(i.included_data))
        )
    }

    async fn list_state_machines(
        &self,
        i: ListStateMachinesInput,
    ) -> Result<ListStateMachinesOutput, Error> {
        send!(
            self.client
                .list_state_machines()
                .set_max_results(i.max_results)
                .set_next_token(i.next_token)
        )
    }

    async fn create_state_machine(
        &self,
        i: CreateStateMachineInput,
    ) -> Result<CreateStateMachineOutput, Error> {
        let encryption = i.encryption_configuration.map(encryption).transpose()?;
        send!(
            self.client
                .create_state_machine()
                .name(i.name)
                .definition(i.definition)
                .role_arn(i.role_arn)
                .set_type(
                    i.type_
                        .map(|t| sdk::types::StateMachineType::from(t.as_str()))
                )
                .set_logging_configuration(i.logging_configuration.map(logging))
                .set_tags(i.tags.map(|tags| {
                    tags.into_iter()
                        .map(|t| {
                            sdk::types::Tag::builder()
                                .set_key(t.key)
                                .set_value(t.value)
                                .build()
                        })
                        .collect()
                }))
                .set_tracing_configuration(i.tracing_configuration.map(|t| {
                    sdk::types::TracingConfiguration::builder()
                        .set_enabled(t.enabled)
                        .build()
                }),)
                .set_publish(i.publish)
                .set_version_description(i.version_description)
                .set_encryption_configuration(encryption)
        )
    }

    async fn delete_state_machine(&self, i: DeleteStateMachineInput) -> Result<Empty, Error> {
        send!(
            self.client
                .delete_state_machine()
                .state_machine_arn(i.state_machine_arn)
        )
    }
}
