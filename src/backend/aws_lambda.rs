//! [`Lambda`] on real AWS: `Invoke` (`RequestResponse`) through aws-sdk-lambda, with the
//! same credential chain, region and profile as the Step Functions backend, one attempt per
//! call (a gateway does not retry integration calls), and an optional endpoint URL
//! (LocalStack). SDK types never leave this file.

use async_trait::async_trait;
use aws_sdk_lambda as sdk;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use bytes::Bytes;

use super::aws::{StaticCredentials, load_shared_config};
use super::lambda::{Error, Invocation, Lambda};

/// Where AWS Lambda is reached.
#[derive(Clone, Debug, Default)]
pub struct AwsLambdaConfig {
    /// Region; `None` uses the chain (`AWS_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// Named profile of the shared AWS config files.
    pub profile: Option<String>,
    /// Endpoint URL for a local or compatible service (`http://127.0.0.1:4566`).
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the chain (local endpoints, tests).
    pub static_credentials: Option<StaticCredentials>,
}

/// AWS Lambda through aws-sdk-lambda.
#[derive(Clone, Debug)]
pub struct AwsLambda {
    client: sdk::Client,
}

impl AwsLambda {
    /// Loads the shared AWS config (credentials, region) and builds the Lambda client.
    pub async fn new(config: &AwsLambdaConfig) -> AwsLambda {
        let shared = load_shared_config(
            config.region.as_deref(),
            config.profile.as_deref(),
            config.static_credentials.as_ref(),
        )
        .await;
        let mut builder = sdk::config::Builder::from(&shared)
            .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(1));
        if let Some(url) = &config.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        AwsLambda {
            client: sdk::Client::from_conf(builder.build()),
        }
    }
}

#[async_trait]
impl Lambda for AwsLambda {
    async fn invoke(&self, function: &str, payload: Bytes) -> Result<Invocation, Error> {
        let result = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(sdk::types::InvocationType::RequestResponse)
            .payload(aws_smithy_types::Blob::new(payload.to_vec()))
            .send()
            .await;
        match result {
            Ok(out) => Ok(Invocation {
                status: u16::try_from(out.status_code()).unwrap_or(200),
                function_error: out.function_error().map(str::to_string),
                payload: out
                    .payload()
                    .map(|b| Bytes::copy_from_slice(b.as_ref()))
                    .unwrap_or_default(),
                executed_version: out.executed_version().unwrap_or("$LATEST").to_string(),
            }),
            Err(e) => Err(map_error(e)),
        }
    }
}

/// SDK error → ours: `ResourceNotFoundException` is a missing function; other service
/// errors keep their code, message and status; timeouts and transport failures as such.
fn map_error<E>(err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let text = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("ServiceException").to_string();
            let message = e.message().unwrap_or_default().to_string();
            if code == "ResourceNotFoundException" {
                return Error::FunctionNotFound(message);
            }
            Error::Service {
                status: se.raw().status().as_u16(),
                error_type: code,
                message,
            }
        }
        SdkError::TimeoutError(_) => Error::Timeout(text),
        SdkError::DispatchFailure(d) if d.is_timeout() => Error::Timeout(text),
        _ => Error::Other(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    /// A Lambda Invoke API on 127.0.0.1: `ok` echoes, `raise` raises, the rest are missing.
    async fn fake_lambda() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                        use http_body_util::BodyExt;
                        let path = req.uri().path().to_string();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let r =
                            hyper::Response::builder().header("content-type", "application/json");
                        let r = if path == "/2015-03-31/functions/ok/invocations" {
                            r.header("x-amz-executed-version", "3")
                                .body(Full::new(body))
                        } else if path.starts_with("/2015-03-31/functions/raise") {
                            r.header("x-amz-function-error", "Unhandled")
                                .body(Full::new(Bytes::from(
                                    r#"{"errorMessage":"no","errorType":"E"}"#,
                                )))
                        } else {
                            r.status(404)
                                .header("x-amzn-errortype", "ResourceNotFoundException")
                                .body(Full::new(Bytes::from(
                                    r#"{"Type":"User","message":"Function not found: missing"}"#,
                                )))
                        };
                        Ok::<_, std::convert::Infallible>(r.unwrap())
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn invoke_answers_and_errors_map_to_ours() {
        let addr = fake_lambda().await;
        let lambda = AwsLambda::new(&AwsLambdaConfig {
            region: Some("us-east-1".into()),
            profile: None,
            endpoint_url: Some(format!("http://{addr}")),
            static_credentials: Some(StaticCredentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            }),
        })
        .await;
        let ok = lambda
            .invoke("ok", Bytes::from(r#"{"a":1}"#))
            .await
            .unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(ok.function_error, None);
        assert_eq!(ok.payload, Bytes::from(r#"{"a":1}"#));
        assert_eq!(ok.executed_version, "3");
        let raised = lambda.invoke("raise:prod", Bytes::new()).await.unwrap();
        assert_eq!(raised.function_error.as_deref(), Some("Unhandled"));
        assert_eq!(
            raised.payload,
            Bytes::from(r#"{"errorMessage":"no","errorType":"E"}"#)
        );
        match lambda.invoke("missing", Bytes::new()).await {
            Err(Error::FunctionNotFound(m)) => assert!(m.contains("Function not found"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
