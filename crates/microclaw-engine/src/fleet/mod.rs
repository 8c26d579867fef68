//! Fleet (operations.md §5): remote gateways watched from this console. The registry lives in
//! the store (`gateways`, `gateway_probes`); tokens in [`tokens`]; the bridge client in
//! [`client`]; the background prober in [`prober`]. The operations are `ops::fleet`.

pub mod client;
pub mod prober;
pub mod tokens;

use crate::engine::Engine;
use microclaw_core::Result;
use microclaw_store::gateways::GatewayRow;

/// The gateway's token, read on the store's blocking pool (keychain calls block on D-Bus).
pub(crate) async fn read_token(engine: &Engine, g: &GatewayRow) -> Result<String> {
    let (id, store, reference) = (g.id, g.token_store.clone(), g.token_ref.clone());
    engine
        .blocking_read(move |e| {
            let sealed = e.store().gateway_token_cipher(id)?;
            tokens::get(&store, e.data_dir(), &reference, sealed.as_deref())
        })
        .await
}
