//! Testing helpers: run code against a client of its own and get back what it sent.
//!
//! Each helper binds a fresh client with an in-memory transport to the code it runs, in that
//! code's own scope, so parallel tests never see each other's events and no global state is
//! touched.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crumbtrail_protocol::{Envelope, Event, ItemPayload};

use crate::bind::ScopeFutureExt;
use crate::client::Client;
use crate::options::ClientOptions;
use crate::transport::{TestTransport, Transport, TransportFactory};

/// How long the helpers wait for the sender before returning what arrived.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// A client with default options that sends into `transport`.
pub fn client_with(transport: &TestTransport, mut options: ClientOptions) -> Client {
    let transport = transport.clone();
    let factory: TransportFactory =
        Arc::new(move || Arc::new(transport.clone()) as Arc<dyn Transport>);
    options.transport = Some(factory);
    Client::new(options).expect("test client options must be valid (check the DSN)")
}

/// Runs `future` with its own test client and returns every envelope it sent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use crumbtrail_core::{Level, capture_message, test};
/// let envelopes = test::capture(async {
///     capture_message("hello", Level::Info);
/// })
/// .await;
/// assert_eq!(envelopes.len(), 1);
/// # }
/// ```
pub async fn capture<F: Future>(future: F) -> Vec<Envelope> {
    capture_with(ClientOptions::default(), future).await
}

/// [`capture`] with options (hooks, sample rates, ...).
pub async fn capture_with<F: Future>(options: ClientOptions, future: F) -> Vec<Envelope> {
    let transport = TestTransport::new();
    let client = client_with(&transport, options);
    future.bind_client(&client).await;
    client.flush(FLUSH_TIMEOUT).await;
    transport.take()
}

/// [`capture`], returning only the events.
pub async fn capture_events<F: Future>(future: F) -> Vec<Event> {
    events_of(&capture(future).await)
}

/// [`capture_with`], returning only the events.
pub async fn capture_events_with<F: Future>(options: ClientOptions, future: F) -> Vec<Event> {
    events_of(&capture_with(options, future).await)
}

/// The messages of an event's breadcrumbs, oldest first (`""` for a crumb without one).
pub fn trail(event: &Event) -> Vec<String> {
    event
        .breadcrumbs
        .iter()
        .flat_map(|b| b.values.iter())
        .map(|c| c.message.as_deref().unwrap_or_default().to_owned())
        .collect()
}

/// The events in a list of envelopes, in order.
pub fn events_of(envelopes: &[Envelope]) -> Vec<Event> {
    envelopes
        .iter()
        .flat_map(|e| e.items.iter())
        .filter_map(|i| match i.decode() {
            Ok(ItemPayload::Event(e)) => Some(*e),
            _ => None,
        })
        .collect()
}
