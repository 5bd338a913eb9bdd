//! The engine as the Step Functions API its own executions call (`engine::tasks::sfn`):
//! `states:startExecution` and `aws-sdk:sfn:*` tasks start, wait for, describe and list
//! executions of this engine. A `.sync` child of an EXPRESS machine runs inline (as
//! StartSyncExecution does); a STANDARD child runs like any other execution, and is stopped
//! if the task waiting for it is cancelled (its execution stopped, its TimeoutSeconds past).

use super::{Engine, Error, ExecutionRecord, StartExecutionInput, StateMachineType};
use crate::engine::tasks::sfn::{
    Execution, ExecutionPage, Executions, ListRequest, ServiceError, StartRequest, Started,
};

fn service_error(e: Error) -> ServiceError {
    ServiceError {
        code: e.code().to_string(),
        message: e.to_string(),
        status: e.status(),
    }
}

fn execution(r: ExecutionRecord) -> Execution {
    Execution {
        execution_arn: r.arn,
        state_machine_arn: r.state_machine_arn,
        name: r.name,
        status: r.status.as_str().to_string(),
        start_date: r.start_date,
        stop_date: r.stop_date,
        input: r.input,
        output: r.output,
        error: r.error,
        cause: r.cause,
    }
}

fn start_input(request: StartRequest) -> StartExecutionInput {
    StartExecutionInput {
        state_machine_arn: request.state_machine_arn,
        name: request.name,
        input: Some(request.input),
        trace_header: None,
    }
}

/// Stops a STANDARD child when the task waiting for it goes away first (at any point: the
/// start runs in its own task, so a start in flight completes and is then stopped).
struct StopOnDrop {
    engine: Engine,
    stage: Stage,
}

enum Stage {
    Starting(tokio::task::JoinHandle<Result<super::StartedExecution, Error>>),
    Started(String),
    Done,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let engine = self.engine.clone();
        let stop = |arn: String| async move {
            if let Err(e) = engine.stop_execution(&arn, None, None).await {
                tracing::warn!(execution = %arn, error = %e, "could not stop a nested execution");
            }
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Starting(start) => {
                runtime.spawn(async move {
                    if let Ok(Ok(child)) = start.await {
                        stop(child.execution_arn).await;
                    }
                });
            }
            Stage::Started(arn) => {
                runtime.spawn(stop(arn));
            }
            Stage::Done => {}
        }
    }
}

#[async_trait::async_trait]
impl Executions for Engine {
    async fn start_execution(&self, request: StartRequest) -> Result<Started, ServiceError> {
        let started = Engine::start_execution(self, start_input(request))
            .await
            .map_err(service_error)?;
        Ok(Started {
            execution_arn: started.execution_arn,
            start_date: started.start_date,
        })
    }

    async fn run_execution(
        &self,
        request: StartRequest,
        started: &(dyn for<'s> Fn(&'s Started) + Send + Sync),
    ) -> Result<Execution, ServiceError> {
        let machine_arn = request
            .state_machine_arn
            .split_once('#')
            .map_or(request.state_machine_arn.as_str(), |(arn, _)| arn);
        let express = self
            .existing_machine(machine_arn)
            .map_err(service_error)?
            .record
            .r#type
            == StateMachineType::Express;
        if express {
            let done = self
                .start_sync_execution(start_input(request))
                .await
                .map_err(service_error)?
                .execution;
            let report = Started {
                execution_arn: done.arn.clone(),
                start_date: done.start_date,
            };
            started(&report);
            return Ok(execution(done));
        }
        let engine = self.clone();
        let mut guard = StopOnDrop {
            engine: self.clone(),
            stage: Stage::Starting(tokio::spawn(async move {
                Engine::start_execution(&engine, start_input(request)).await
            })),
        };
        let Stage::Starting(start) = &mut guard.stage else {
            unreachable!("invariant: the guard starts in Stage::Starting");
        };
        let child = match start.await {
            Ok(Ok(child)) => child,
            Ok(Err(e)) => {
                guard.stage = Stage::Done;
                return Err(service_error(e));
            }
            Err(join) => {
                guard.stage = Stage::Done;
                return Err(ServiceError {
                    code: "InternalFailure".into(),
                    message: format!("the nested StartExecution did not complete: {join}"),
                    status: 500,
                });
            }
        };
        guard.stage = Stage::Started(child.execution_arn.clone());
        let report = Started {
            execution_arn: child.execution_arn.clone(),
            start_date: child.start_date,
        };
        started(&report);
        let done = self.wait_execution(&child.execution_arn).await;
        guard.stage = Stage::Done;
        done.map(execution).map_err(service_error)
    }

    async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, ServiceError> {
        Engine::describe_execution(self, execution_arn)
            .await
            .map(execution)
            .map_err(service_error)
    }

    async fn list_executions(&self, request: ListRequest) -> Result<ExecutionPage, ServiceError> {
        let page = Engine::list_executions(
            self,
            &request.state_machine_arn,
            request.status_filter.as_deref(),
            request.max_results,
            request.next_token.as_deref(),
        )
        .await
        .map_err(service_error)?;
        Ok(ExecutionPage {
            executions: page.items.into_iter().map(execution).collect(),
            next_token: page.next_token,
        })
    }
}
