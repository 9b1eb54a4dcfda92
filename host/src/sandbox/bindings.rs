//! Host-side bindings generated from `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "ferret-provider",
    imports: {
        // Sending waits on the network, and a request that breaks a sandbox
        // rule ends the call: async and trappable.
        "ferret:provider/http-client.send": async | trappable,
    },
    exports: {
        default: async,
    },
});

pub use ferret::provider::types::{
    Argument, ArgumentSpec, Assessment, CommandOutput, CommandRequest, CommandSpec, Indicator,
    IndicatorKind, Manifest, OutputSpec, ProviderError, RateLimits, Reliability, SecretPlacement,
    Table, UpstreamFailure, Verdict,
};
