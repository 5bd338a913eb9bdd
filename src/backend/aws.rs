//! backend::aws: the Step Functions backend over aws-sdk-sfn (in progress on branch `sfn`).
