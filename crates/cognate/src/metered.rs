//! Decorators that record the delivery and trigger ports' outcomes in the server's metrics,
//! so neither the domain nor the provider crates know about Prometheus.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use cognate_core::delivery::{DeliveryError, EmailMessage, Medium, Receipt, SmsMessage};
use cognate_core::ports::{MessageSender, TriggerInvoker};
use cognate_core::triggers::{TriggerError, TriggerKind};
use cognate_server::metrics::Metrics;

pub struct MeteredSender<S> {
    pub inner: S,
    pub metrics: Arc<Metrics>,
}

#[async_trait]
impl<S: MessageSender> MessageSender for MeteredSender<S> {
    fn carries(&self, medium: Medium) -> bool {
        self.inner.carries(medium)
    }

    async fn send_email(&self, message: &EmailMessage) -> Result<Receipt, DeliveryError> {
        let sent = self.inner.send_email(message).await;
        if sent.is_err() {
            self.metrics.delivery_error("email");
        }
        sent
    }

    async fn send_sms(&self, message: &SmsMessage) -> Result<Receipt, DeliveryError> {
        let sent = self.inner.send_sms(message).await;
        if sent.is_err() {
            self.metrics.delivery_error("sms");
        }
        sent
    }
}

pub struct MeteredTriggers<T> {
    pub inner: T,
    pub metrics: Arc<Metrics>,
}

#[async_trait]
impl<T: TriggerInvoker> TriggerInvoker for MeteredTriggers<T> {
    async fn invoke(
        &self,
        kind: TriggerKind,
        function: &str,
        event: &Value,
    ) -> Result<Value, TriggerError> {
        let started = Instant::now();
        let output = self.inner.invoke(kind, function, event).await;
        self.metrics
            .trigger_call(kind.name(), output.is_ok(), started.elapsed());
        output
    }
}
