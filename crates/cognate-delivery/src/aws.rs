//! Amazon SES v2 `SendEmail` and SNS `Publish` through the AWS SDK (SigV4,
//! standard configuration).

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use lettre::message::Mailbox;

use crate::{template, DeliveryError, EmailMessage, Receipt, SmsMessage};

fn timeouts(timeout: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(timeout)
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout)
        .build()
}

/// At most one retry: a code must arrive quickly or fail visibly.
fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(2)
}

pub(crate) fn sns_client(sdk: &SdkConfig, timeout: Duration) -> aws_sdk_sns::Client {
    let conf = aws_sdk_sns::config::Builder::from(sdk)
        .timeout_config(timeouts(timeout))
        .retry_config(retries())
        .build();
    aws_sdk_sns::Client::from_conf(conf)
}

pub(crate) fn ses_client(sdk: &SdkConfig, timeout: Duration) -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::config::Builder::from(sdk)
        .timeout_config(timeouts(timeout))
        .retry_config(retries())
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

pub(crate) async fn publish_sms(
    client: &aws_sdk_sns::Client,
    msg: &SmsMessage,
) -> Result<Receipt, DeliveryError> {
    use aws_sdk_sns::types::MessageAttributeValue;
    let transactional = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("Transactional")
        .build()
        .map_err(|e| DeliveryError::Rejected(format!("SNS request: {e}")))?;
    let out = client
        .publish()
        .phone_number(&msg.to)
        .message(&msg.body)
        .message_attributes("AWS.SNS.SMS.SMSType", transactional)
        .send()
        .await
        .map_err(|e| map_sdk_error("SNS", e))?;
    Ok(Receipt {
        provider: "sns",
        message_id: out.message_id().map(str::to_string),
    })
}

pub(crate) async fn send_ses(
    client: &aws_sdk_sesv2::Client,
    msg: &EmailMessage,
    from: &Mailbox,
) -> Result<Receipt, DeliveryError> {
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
    let content = |data: &str| {
        Content::builder()
            .data(data)
            .charset("UTF-8")
            .build()
            .map_err(|e| DeliveryError::Rejected(format!("SES request: {e}")))
    };
    let body = if template::looks_like_html(&msg.body) {
        Body::builder()
            .text(content(&template::html_to_text(&msg.body))?)
            .html(content(&msg.body)?)
            .build()
    } else {
        Body::builder().text(content(&msg.body)?).build()
    };
    let message = Message::builder()
        .subject(content(&msg.subject)?)
        .body(body)
        .build();
    let mut req = client
        .send_email()
        .from_email_address(from.to_string())
        .destination(Destination::builder().to_addresses(msg.to.trim()).build())
        .content(EmailContent::builder().simple(message).build());
    if let Some(arn) = msg.source_arn.as_deref().filter(|s| !s.is_empty()) {
        req = req.from_email_address_identity_arn(arn);
    }
    if let Some(reply_to) = msg.reply_to.as_deref().filter(|s| !s.trim().is_empty()) {
        req = req.reply_to_addresses(reply_to.trim());
    }
    if let Some(set) = msg.configuration_set.as_deref().filter(|s| !s.is_empty()) {
        req = req.configuration_set_name(set);
    }
    let out = req.send().await.map_err(|e| map_sdk_error("SES", e))?;
    Ok(Receipt {
        provider: "ses",
        message_id: out.message_id().map(str::to_string),
    })
}

const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
];

fn map_sdk_error<E>(service: &str, err: SdkError<E, HttpResponse>) -> DeliveryError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) => DeliveryError::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => DeliveryError::Timeout,
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = err.code().unwrap_or("UnknownError").to_string();
            let message = err.message().unwrap_or("").to_string();
            let text = if message.is_empty() {
                format!("{service} {code} (HTTP {status})")
            } else {
                format!("{service} {code}: {message}")
            };
            if status >= 500 || status == 429 || RETRYABLE_CODES.contains(&code.as_str()) {
                DeliveryError::Unavailable(text)
            } else {
                DeliveryError::Rejected(text)
            }
        }
        _ => DeliveryError::Unavailable(format!("{service}: {}", DisplayErrorContext(&err))),
    }
}
