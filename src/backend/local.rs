//! `backend::local`: the [`StepFunctions`] trait over the embedded engine
//! (`engine::runtime::Engine`). Requests are checked with `sfn::validate` (AWS's
//! wording for names and inputs) and engine records become the `sfn::model` shapes;
//! engine errors become [`AwsError`]s with the same code, message and status.

use async_trait::async_trait;

use super::{Error, StepFunctions};
use crate::engine::runtime::{self as engine, Engine};
use crate::sfn::AwsError;
use crate::sfn::model::*;
use crate::sfn::validate;

/// The local engine as a Step Functions backend.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    engine: Engine,
}

impl LocalBackend {
    /// Serves `engine` through the backend trait.
    pub fn new(engine: Engine) -> LocalBackend {
        LocalBackend { engine }
    }

    /// The engine behind this backend.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

fn service(e: engine::Error) -> Error {
    Error::Service(AwsError::new(e.code(), e.to_string(), e.status()))
}

fn status(s: engine::ExecutionStatus) -> ExecutionStatus {
    match s {
        engine::ExecutionStatus::Running => ExecutionStatus::Running,
        engine::ExecutionStatus::Succeeded => ExecutionStatus::Succeeded,
        engine::ExecutionStatus::Failed => ExecutionStatus::Failed,
        engine::ExecutionStatus::TimedOut => ExecutionStatus::TimedOut,
        engine::ExecutionStatus::Aborted => ExecutionStatus::Aborted,
    }
}

fn machine_type(t: engine::StateMachineType) -> StateMachineType {
    match t {
        engine::StateMachineType::Standard => StateMachineType::Standard,
        engine::StateMachineType::Express => StateMachineType::Express,
    }
}

fn included() -> Option<CloudWatchEventsExecutionDataDetails> {
    Some(CloudWatchEventsExecutionDataDetails {
        included: Some(true),
    })
}

/// The checks AWS makes on a start request before it looks at the state machine; the
/// engine's request and the parsed input when there is one (so the engine does not parse
/// it again).
fn check_start(
    state_machine_arn: String,
    name: Option<String>,
    input: Option<String>,
    trace_header: Option<String>,
) -> Result<(engine::StartExecutionInput, Option<serde_json::Value>), Error> {
    if let Some(name) = &name {
        validate::check_name(name)?;
    }
    let parsed = validate::parse_execution_input(input.as_deref())?;
    let parsed = input.is_some().then_some(parsed);
    let request = engine::StartExecutionInput {
        state_machine_arn,
        name,
        input,
        trace_header,
    };
    Ok((request, parsed))
}

fn limit(max_results: Option<i32>) -> Option<i64> {
    max_results.map(i64::from)
}

#[async_trait]
impl StepFunctions for LocalBackend {
    async fn start_execution(
        &self,
        input: StartExecutionInput,
    ) -> Result<StartExecutionOutput, Error> {
        let (request, parsed) = check_start(
            input.state_machine_arn,
            input.name,
            input.input,
            input.trace_header,
        )?;
        let started = self
            .engine
            .start_execution_parsed(request, parsed)
            .await
            .map_err(service)?;
        Ok(StartExecutionOutput {
            execution_arn: started.execution_arn,
            start_date: Timestamp::from(started.start_date),
        })
    }

    async fn start_sync_execution(
        &self,
        input: StartSyncExecutionInput,
    ) -> Result<StartSyncExecutionOutput, Error> {
        let metadata_only = input.included_data == Some(IncludedData::MetadataOnly);
        let (request, parsed) = check_start(
            input.state_machine_arn,
            input.name,
            input.input,
            input.trace_header,
        )?;
        let sync = self
            .engine
            .start_sync_execution_parsed(request, parsed)
            .await
            .map_err(service)?;
        let e = sync.execution;
        let sync_status = match e.status {
            engine::ExecutionStatus::Succeeded => SyncExecutionStatus::Succeeded,
            engine::ExecutionStatus::TimedOut => SyncExecutionStatus::TimedOut,
            _ => SyncExecutionStatus::Failed,
        };
        let data_details = Some(CloudWatchEventsExecutionDataDetails {
            included: Some(!metadata_only),
        });
        let has_output = e.output.is_some();
        Ok(StartSyncExecutionOutput {
            execution_arn: e.arn,
            state_machine_arn: Some(e.state_machine_arn),
            name: Some(e.name),
            start_date: Timestamp::from(e.start_date),
            stop_date: Timestamp::from(e.stop_date.unwrap_or(e.start_date)),
            status: sync_status,
            error: e.error,
            cause: e.cause,
            input: (!metadata_only).then_some(e.input),
            input_details: data_details.clone(),
            output: if metadata_only { None } else { e.output },
            output_details: if has_output { data_details } else { None },
            trace_header: e.trace_header,
            billing_details: Some(BillingDetails {
                billed_memory_used_in_mb: Some(sync.billed_memory_mb as i64),
                billed_duration_in_milliseconds: Some(sync.billed_duration_ms as i64),
            }),
        })
    }

    async fn describe_execution(
        &self,
        input: DescribeExecutionInput,
    ) -> Result<DescribeExecutionOutput, Error> {
        let e = self
            .engine
            .describe_execution(&input.execution_arn)
            .await
            .map_err(service)?;
        let metadata_only = input.included_data == Some(IncludedData::MetadataOnly);
        let has_output = e.output.is_some();
        let described = DescribeExecutionOutput {
            execution_arn: e.arn,
            state_machine_arn: e.state_machine_arn,
            name: Some(e.name),
            status: status(e.status),
            start_date: Timestamp::from(e.start_date),
            stop_date: e.stop_date.map(Timestamp::from),
            input: (!metadata_only).then_some(e.input),
            input_details: included(),
            output: if metadata_only { None } else { e.output },
            output_details: if has_output { included() } else { None },
            trace_header: e.trace_header,
            map_run_arn: None,
            error: e.error,
            cause: e.cause,
            state_machine_version_arn: None,
            state_machine_alias_arn: None,
            redrive_count: None,
            redrive_date: None,
            redrive_status: None,
            redrive_status_reason: None,
        }
        .never_redriven();
        Ok(if metadata_only {
            described.metadata_only()
        } else {
            described
        })
    }

    async fn stop_execution(
        &self,
        input: StopExecutionInput,
    ) -> Result<StopExecutionOutput, Error> {
        let stop = self
            .engine
            .stop_execution(&input.execution_arn, input.error, input.cause)
            .await
            .map_err(service)?;
        Ok(StopExecutionOutput {
            stop_date: Timestamp::from(stop),
        })
    }

    async fn list_executions(
        &self,
        input: ListExecutionsInput,
    ) -> Result<ListExecutionsOutput, Error> {
        let Some(state_machine_arn) = input.state_machine_arn else {
            return Err(Error::Service(AwsError::bad_request(
                "ValidationException",
                "Must provide a StateMachine ARN or MapRun ARN",
            )));
        };
        let page = self
            .engine
            .list_executions(
                &state_machine_arn,
                input.status_filter.map(|s| s.as_str()),
                limit(input.max_results),
                input.next_token.as_deref(),
            )
            .await
            .map_err(service)?;
        Ok(ListExecutionsOutput {
            executions: page
                .items
                .into_iter()
                .map(|e| ExecutionListItem {
                    execution_arn: e.arn,
                    state_machine_arn: e.state_machine_arn,
                    name: e.name,
                    status: status(e.status),
                    start_date: Timestamp::from(e.start_date),
                    stop_date: e.stop_date.map(Timestamp::from),
                    map_run_arn: None,
                    item_count: None,
                    state_machine_version_arn: None,
                    state_machine_alias_arn: None,
                    redrive_count: Some(0),
                    redrive_date: None,
                })
                .collect(),
            next_token: page.next_token,
        })
    }

    async fn get_execution_history(
        &self,
        input: GetExecutionHistoryInput,
    ) -> Result<GetExecutionHistoryOutput, Error> {
        let page = self
            .engine
            .get_execution_history(
                &input.execution_arn,
                limit(input.max_results),
                input.reverse_order.unwrap_or(false),
                input.next_token.as_deref(),
            )
            .await
            .map_err(service)?;
        let events = page
            .items
            .into_iter()
            .map(|e| {
                let mut details = serde_json::Map::new();
                if let Some(key) = e.details_key {
                    details.insert(key, e.details);
                }
                let event = HistoryEvent {
                    timestamp: Timestamp::from(e.timestamp),
                    type_: e.event_type,
                    id: e.id,
                    previous_event_id: Some(e.previous_event_id),
                    details,
                };
                if input.include_execution_data == Some(false) {
                    event.without_execution_data()
                } else {
                    event
                }
            })
            .collect();
        Ok(GetExecutionHistoryOutput {
            events,
            next_token: page.next_token,
        })
    }

    async fn send_task_success(
        &self,
        input: SendTaskSuccessInput,
    ) -> Result<SendTaskSuccessOutput, Error> {
        validate::parse_task_output(&input.output)?;
        self.engine
            .send_task_success(&input.task_token, &input.output)
            .await
            .map_err(service)?;
        Ok(Empty {})
    }

    async fn send_task_failure(
        &self,
        input: SendTaskFailureInput,
    ) -> Result<SendTaskFailureOutput, Error> {
        self.engine
            .send_task_failure(&input.task_token, input.error, input.cause)
            .await
            .map_err(service)?;
        Ok(Empty {})
    }

    async fn send_task_heartbeat(
        &self,
        input: SendTaskHeartbeatInput,
    ) -> Result<SendTaskHeartbeatOutput, Error> {
        self.engine
            .send_task_heartbeat(&input.task_token)
            .await
            .map_err(service)?;
        Ok(Empty {})
    }

    async fn describe_state_machine(
        &self,
        input: DescribeStateMachineInput,
    ) -> Result<DescribeStateMachineOutput, Error> {
        let m = self
            .engine
            .describe_state_machine(&input.state_machine_arn)
            .map_err(service)?;
        Ok(DescribeStateMachineOutput {
            state_machine_arn: m.arn,
            name: m.name,
            status: Some(StateMachineStatus::Active),
            definition: m.definition,
            role_arn: m.role_arn,
            type_: machine_type(m.r#type),
            creation_date: Timestamp::from(m.creation_date),
            logging_configuration: Some(LoggingConfiguration {
                level: Some(LogLevel::Off),
                include_execution_data: Some(false),
                destinations: None,
            }),
            tracing_configuration: Some(TracingConfiguration {
                enabled: Some(false),
            }),
            label: None,
            revision_id: None,
            description: None,
            encryption_configuration: None,
        })
    }

    async fn list_state_machines(
        &self,
        input: ListStateMachinesInput,
    ) -> Result<ListStateMachinesOutput, Error> {
        let page = self
            .engine
            .list_state_machines(limit(input.max_results), input.next_token.as_deref())
            .map_err(service)?;
        Ok(ListStateMachinesOutput {
            state_machines: page
                .items
                .into_iter()
                .map(|m| StateMachineListItem {
                    state_machine_arn: m.arn,
                    name: m.name,
                    type_: machine_type(m.r#type),
                    creation_date: Timestamp::from(m.creation_date),
                })
                .collect(),
            next_token: page.next_token,
        })
    }

    async fn create_state_machine(
        &self,
        input: CreateStateMachineInput,
    ) -> Result<CreateStateMachineOutput, Error> {
        validate::check_name(&input.name)?;
        let m = self
            .engine
            .create_state_machine(engine::CreateStateMachineInput {
                name: input.name,
                definition: input.definition,
                role_arn: input.role_arn,
                r#type: input.type_.map(|t| t.as_str().to_string()),
            })
            .await
            .map_err(service)?;
        Ok(CreateStateMachineOutput {
            state_machine_arn: m.arn,
            creation_date: Timestamp::from(m.creation_date),
            state_machine_version_arn: None,
        })
    }

    async fn delete_state_machine(
        &self,
        input: DeleteStateMachineInput,
    ) -> Result<DeleteStateMachineOutput, Error> {
        self.engine
            .delete_state_machine(&input.state_machine_arn)
            .await
            .map_err(service)?;
        Ok(Empty {})
    }
}
