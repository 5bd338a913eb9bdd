//! Request and response shapes of the Step Functions actions, exactly as they travel on the
//! AWS JSON 1.0 wire: field names as AWS spells them (camelCase), timestamps as epoch seconds
//! in a JSON number, optional fields omitted when absent. Field sets follow the botocore
//! service model (`../shared/reference/step-functions.md` §1.2). Uses nothing else in the crate.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

// === Timestamp ===

/// A wire timestamp: epoch seconds as a JSON number with millisecond precision
/// (`"startDate": 1795266197.959`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// The current time, truncated to milliseconds.
    pub fn now() -> Timestamp {
        Timestamp::from(OffsetDateTime::now_utc())
    }

    /// Milliseconds since the Unix epoch.
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp { millis }
    }

    /// Milliseconds since the Unix epoch.
    pub fn as_millis(self) -> i64 {
        self.millis
    }

    /// Seconds since the Unix epoch, as on the wire.
    pub fn as_secs_f64(self) -> f64 {
        self.millis as f64 / 1000.0
    }

    /// The time as an `OffsetDateTime` in UTC.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        let nanos = i128::from(self.millis) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Timestamp {
        Timestamp {
            millis: (t.unix_timestamp_nanos() / 1_000_000) as i64,
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let secs = f64::deserialize(d)?;
        if !secs.is_finite() {
            return Err(serde::de::Error::custom("timestamp is not a finite number"));
        }
        Ok(Timestamp {
            millis: (secs * 1000.0).round() as i64,
        })
    }
}

// === Enumerations ===

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in the order AWS lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Parses the wire spelling (case-sensitive, as AWS is).
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// An execution's status (`DescribeExecution.status`, `ListExecutions.statusFilter`).
    ExecutionStatus {
        Running = "RUNNING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        TimedOut = "TIMED_OUT",
        Aborted = "ABORTED",
        PendingRedrive = "PENDING_REDRIVE",
    }
);

wire_enum!(
    /// How a synchronous (express) execution ended.
    SyncExecutionStatus { Succeeded = "SUCCEEDED", Failed = "FAILED", TimedOut = "TIMED_OUT" }
);

wire_enum!(
    /// A state machine's type.
    StateMachineType { Standard = "STANDARD", Express = "EXPRESS" }
);

wire_enum!(
    /// A state machine's lifecycle status.
    StateMachineStatus { Active = "ACTIVE", Deleting = "DELETING" }
);

wire_enum!(
    /// Whether Describe*/StartSyncExecution return input/output data (`includedData`).
    IncludedData { AllData = "ALL_DATA", MetadataOnly = "METADATA_ONLY" }
);

wire_enum!(
    /// CloudWatch Logs level of a state machine.
    LogLevel { All = "ALL", Error = "ERROR", Fatal = "FATAL", Off = "OFF" }
);

wire_enum!(
    /// `ListExecutions.redriveFilter`.
    ExecutionRedriveFilter { Redriven = "REDRIVEN", NotRedriven = "NOT_REDRIVEN" }
);

wire_enum!(
    /// Whether an execution can be redriven.
    ExecutionRedriveStatus {
        Redrivable = "REDRIVABLE",
        NotRedrivable = "NOT_REDRIVABLE",
        RedrivableByMapRun = "REDRIVABLE_BY_MAP_RUN",
    }
);

impl ExecutionRedriveStatus {
    /// What DescribeExecution reports for an execution that was never redriven
    /// (`redriveCount` 0): a RUNNING or SUCCEEDED one is `NOT_REDRIVABLE` with the reason
    /// "Execution is <STATUS> and cannot be redriven"; a FAILED, TIMED_OUT or ABORTED one
    /// is `REDRIVABLE`, with no reason.
    pub fn never_redriven(status: ExecutionStatus) -> (ExecutionRedriveStatus, Option<String>) {
        match status {
            ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted => {
                (ExecutionRedriveStatus::Redrivable, None)
            }
            ExecutionStatus::Running
            | ExecutionStatus::Succeeded
            | ExecutionStatus::PendingRedrive => (
                ExecutionRedriveStatus::NotRedrivable,
                Some(format!("Execution is {status} and cannot be redriven")),
            ),
        }
    }
}

wire_enum!(
    /// Key type of a state machine's encryption configuration.
    EncryptionType { AwsOwnedKey = "AWS_OWNED_KEY", CustomerManagedKmsKey = "CUSTOMER_MANAGED_KMS_KEY" }
);

// === Nested structures ===

/// `inputDetails` / `outputDetails`: whether the data was included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchEventsExecutionDataDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included: Option<bool>,
}

/// `billingDetails` of a synchronous execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingDetails {
    #[serde(
        rename = "billedMemoryUsedInMB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub billed_memory_used_in_mb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_duration_in_milliseconds: Option<i64>,
}

/// `{"logGroupArn": …}` inside a log destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchLogsLogGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
}

/// One entry of `loggingConfiguration.destinations`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_log_group: Option<CloudWatchLogsLogGroup>,
}

/// `loggingConfiguration` of a state machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<LogLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_execution_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destinations: Option<Vec<LogDestination>>,
}

/// `tracingConfiguration` (X-Ray) of a state machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracingConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `encryptionConfiguration` of a state machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_data_key_reuse_period_seconds: Option<i32>,
    #[serde(rename = "type")]
    pub type_: EncryptionType,
}

/// A resource tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

// === StartExecution / StartSyncExecution ===

/// StartExecution request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionInput {
    pub state_machine_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

/// StartExecution response: `{"executionArn": …, "startDate": …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionOutput {
    pub execution_arn: String,
    pub start_date: Timestamp,
}

/// StartSyncExecution request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionInput {
    pub state_machine_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_data: Option<IncludedData>,
}

/// StartSyncExecution response (AWS answers 200 even when the execution FAILED).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionOutput {
    pub execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub start_date: Timestamp,
    pub stop_date: Timestamp,
    pub status: SyncExecutionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_details: Option<CloudWatchEventsExecutionDataDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_details: Option<CloudWatchEventsExecutionDataDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_details: Option<BillingDetails>,
}

// === DescribeExecution / StopExecution / ListExecutions / GetExecutionHistory ===

/// DescribeExecution request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionInput {
    pub execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_data: Option<IncludedData>,
}

/// DescribeExecution response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionOutput {
    pub execution_arn: String,
    pub state_machine_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: ExecutionStatus,
    pub start_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_details: Option<CloudWatchEventsExecutionDataDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_details: Option<CloudWatchEventsExecutionDataDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_status: Option<ExecutionRedriveStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_status_reason: Option<String>,
}

impl DescribeExecutionOutput {
    /// The answer to `includedData: METADATA_ONLY`: no `input`, `output`, `inputDetails`
    /// or `outputDetails`.
    pub fn metadata_only(mut self) -> DescribeExecutionOutput {
        self.input = None;
        self.input_details = None;
        self.output = None;
        self.output_details = None;
        self
    }

    /// Fills the redrive members AWS returns for an execution that was never redriven:
    /// `redriveCount` 0 and the `redriveStatus` (and reason) of its status
    /// ([`ExecutionRedriveStatus::never_redriven`]).
    pub fn never_redriven(mut self) -> DescribeExecutionOutput {
        let (status, reason) = ExecutionRedriveStatus::never_redriven(self.status);
        self.redrive_count = Some(0);
        self.redrive_status = Some(status);
        self.redrive_status_reason = reason;
        self
    }
}

/// StopExecution request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionInput {
    pub execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// StopExecution response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionOutput {
    pub stop_date: Timestamp,
}

/// ListExecutions request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_filter: Option<ExecutionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_filter: Option<ExecutionRedriveFilter>,
}

/// One execution in a ListExecutions page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionListItem {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    pub start_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Timestamp>,
}

/// ListExecutions response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsOutput {
    pub executions: Vec<ExecutionListItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// GetExecutionHistory request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryInput {
    pub execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_order: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_execution_data: Option<bool>,
}

/// One history event: `timestamp`, `type`, `id`, `previousEventId`, and the one
/// `<kind>EventDetails` member its type carries (kept as JSON: there are 60+ detail shapes,
/// and they pass through to clients unchanged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub timestamp: Timestamp,
    /// The AWS `HistoryEventType`, e.g. `ExecutionStarted`, `PassStateEntered`.
    #[serde(rename = "type")]
    pub type_: String,
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_event_id: Option<i64>,
    /// The details members, e.g. `{"executionStartedEventDetails": {"input": "{}", …}}`.
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The members of event details that carry execution data, which
/// `includeExecutionData: false` leaves out.
const EXECUTION_DATA_MEMBERS: [&str; 4] = ["input", "inputDetails", "output", "outputDetails"];

impl HistoryEvent {
    /// The event as GetExecutionHistory returns it with `includeExecutionData: false`:
    /// its details without `input`, `output` and their `inputDetails`/`outputDetails`.
    pub fn without_execution_data(mut self) -> HistoryEvent {
        for details in self.details.values_mut() {
            if let serde_json::Value::Object(members) = details {
                for member in EXECUTION_DATA_MEMBERS {
                    members.remove(member);
                }
            }
        }
        self
    }
}

/// GetExecutionHistory response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryOutput {
    pub events: Vec<HistoryEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// === Task tokens ===

/// SendTaskSuccess request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskSuccessInput {
    pub task_token: String,
    pub output: String,
}

/// SendTaskFailure request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskFailureInput {
    pub task_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// SendTaskHeartbeat request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskHeartbeatInput {
    pub task_token: String,
}

/// The empty `{}` response of SendTask*, DeleteStateMachine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// SendTaskSuccess response (`{}`).
pub type SendTaskSuccessOutput = Empty;
/// SendTaskFailure response (`{}`).
pub type SendTaskFailureOutput = Empty;
/// SendTaskHeartbeat response (`{}`).
pub type SendTaskHeartbeatOutput = Empty;
/// DeleteStateMachine response (`{}`).
pub type DeleteStateMachineOutput = Empty;

// === State machines ===

/// DescribeStateMachine request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineInput {
    pub state_machine_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_data: Option<IncludedData>,
}

/// DescribeStateMachine response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineOutput {
    pub state_machine_arn: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StateMachineStatus>,
    pub definition: String,
    pub role_arn: String,
    #[serde(rename = "type")]
    pub type_: StateMachineType,
    pub creation_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// ListStateMachines request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One state machine in a ListStateMachines page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineListItem {
    pub state_machine_arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: StateMachineType,
    pub creation_date: Timestamp,
}

/// ListStateMachines response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesOutput {
    pub state_machines: Vec<StateMachineListItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// CreateStateMachine request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineInput {
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<StateMachineType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// CreateStateMachine response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineOutput {
    pub state_machine_arn: String,
    pub creation_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// DeleteStateMachine request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineInput {
    pub state_machine_arn: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(status: ExecutionStatus) -> DescribeExecutionOutput {
        DescribeExecutionOutput {
            execution_arn: "arn:aws:states:us-east-1:1:execution:sm:x".into(),
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:sm".into(),
            name: Some("x".into()),
            status,
            start_date: Timestamp { millis: 1000 },
            stop_date: None,
            input: Some("{}".into()),
            input_details: Some(CloudWatchEventsExecutionDataDetails {
                included: Some(true),
            }),
            output: Some("1".into()),
            output_details: Some(CloudWatchEventsExecutionDataDetails {
                included: Some(true),
            }),
            trace_header: None,
            map_run_arn: None,
            error: None,
            cause: None,
            state_machine_version_arn: None,
            state_machine_alias_arn: None,
            redrive_count: None,
            redrive_date: None,
            redrive_status: None,
            redrive_status_reason: None,
        }
    }

    #[test]
    fn never_redriven_executions_report_aws_redrive_members() {
        let running =
            serde_json::to_value(described(ExecutionStatus::Running).never_redriven()).unwrap();
        assert_eq!(running["redriveCount"], serde_json::json!(0));
        assert_eq!(
            running["redriveStatus"],
            serde_json::json!("NOT_REDRIVABLE")
        );
        assert_eq!(
            running["redriveStatusReason"],
            serde_json::json!("Execution is RUNNING and cannot be redriven")
        );
        let succeeded = described(ExecutionStatus::Succeeded).never_redriven();
        assert_eq!(
            succeeded.redrive_status_reason.as_deref(),
            Some("Execution is SUCCEEDED and cannot be redriven")
        );
        for status in [
            ExecutionStatus::Failed,
            ExecutionStatus::TimedOut,
            ExecutionStatus::Aborted,
        ] {
            let d = serde_json::to_value(described(status).never_redriven()).unwrap();
            assert_eq!(
                d["redriveStatus"],
                serde_json::json!("REDRIVABLE"),
                "{status}"
            );
            assert!(d.get("redriveStatusReason").is_none(), "{status}: {d}");
        }
    }

    #[test]
    fn metadata_only_drops_input_output_and_their_details() {
        let d =
            serde_json::to_value(described(ExecutionStatus::Succeeded).metadata_only()).unwrap();
        for member in ["input", "inputDetails", "output", "outputDetails"] {
            assert!(d.get(member).is_none(), "{member} in {d}");
        }
        assert_eq!(d["status"], serde_json::json!("SUCCEEDED"));
    }

    #[test]
    fn history_events_without_execution_data_keep_everything_else() {
        let event: HistoryEvent = serde_json::from_str(
            r#"{"timestamp":1.5,"type":"PassStateExited","id":3,"previousEventId":2,
                "stateExitedEventDetails":{"name":"P","output":"{}","outputDetails":{"truncated":false}}}"#,
        )
        .unwrap();
        let stripped = serde_json::to_value(event.without_execution_data()).unwrap();
        assert_eq!(
            stripped,
            serde_json::json!({"timestamp":1.5,"type":"PassStateExited","id":3,"previousEventId":2,
                               "stateExitedEventDetails":{"name":"P"}})
        );
    }

    #[test]
    fn start_execution_output_is_the_aws_wire_shape() {
        let out = StartExecutionOutput {
            execution_arn: "arn:aws:states:us-east-1:1:execution:sm:n".into(),
            start_date: Timestamp::from_millis(1_795_266_197_959),
        };
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"executionArn":"arn:aws:states:us-east-1:1:execution:sm:n","startDate":1795266197.959}"#
        );
        let back: StartExecutionOutput =
            serde_json::from_str(&serde_json::to_string(&out).unwrap()).unwrap();
        assert_eq!(back, out);
    }

    #[test]
    fn optional_fields_are_omitted_and_enums_use_aws_spelling() {
        let d = DescribeExecutionOutput {
            execution_arn: "e".into(),
            state_machine_arn: "s".into(),
            name: Some("n".into()),
            status: ExecutionStatus::TimedOut,
            start_date: Timestamp::from_millis(1000),
            stop_date: None,
            input: Some("{}".into()),
            input_details: Some(CloudWatchEventsExecutionDataDetails {
                included: Some(true),
            }),
            output: None,
            output_details: None,
            trace_header: None,
            map_run_arn: None,
            error: None,
            cause: None,
            state_machine_version_arn: None,
            state_machine_alias_arn: None,
            redrive_count: None,
            redrive_date: None,
            redrive_status: None,
            redrive_status_reason: None,
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"executionArn":"e","stateMachineArn":"s","name":"n","status":"TIMED_OUT","startDate":1.0,"input":"{}","inputDetails":{"included":true}}"#
        );
    }

    #[test]
    fn history_event_details_flatten_into_the_event() {
        let json = r#"{"timestamp":1.5,"type":"ExecutionStarted","id":1,"previousEventId":0,"executionStartedEventDetails":{"input":"{}","roleArn":"r"}}"#;
        let ev: HistoryEvent = serde_json::from_str(json).unwrap();
        assert_eq!(ev.type_, "ExecutionStarted");
        assert_eq!(ev.timestamp.as_millis(), 1500);
        assert!(ev.details.contains_key("executionStartedEventDetails"));
        assert_eq!(serde_json::to_string(&ev).unwrap(), json);
    }

    #[test]
    fn timestamps_convert_to_and_from_offset_date_time() {
        let t = Timestamp::from_millis(1_795_266_197_959);
        assert_eq!(Timestamp::from(t.to_offset_date_time()), t);
        assert_eq!(serde_json::to_string(&Empty {}).unwrap(), "{}");
        assert_eq!(
            ExecutionStatus::parse("PENDING_REDRIVE"),
            Some(ExecutionStatus::PendingRedrive)
        );
        assert_eq!(ExecutionStatus::parse("running"), None);
    }
}
